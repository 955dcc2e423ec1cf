/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-agent run: the agent's main job, in the foreground (for
 * systemd). Capture -> decode -> noise filter -> batcher (sign, seal) ->
 * spool -> forwarder (collector) or offline file (--output). Around the
 * events: a start record, a config record, snapshot records of the
 * processes already running, a heartbeat every heartbeat_s,
 * loss records from the kernel's counters, clock step records, and a stop
 * record. SIGTERM/SIGINT stop cleanly (stop record sealed and spooled,
 * delivery given a short grace); SIGHUP reloads the configuration and
 * records it. Logs go to stderr, one line per message, for journald.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agentrec.h"
#include "capture.h"
#include "commands.h"
#include "error.h"
#include "hashq.h"
#include "privs.h"
#include "run.h"
#include "snapshot.h"
#include "number.h"

#define RUN_RINGBUF_KB 8192
#define POLL_MS 100
#define STOP_GRACE_MS 3000		/* delivery after SIGTERM */
#define CAP_BPF_NR 39
#define CAP_DAC_READ_SEARCH_NR 2

static const char run_usage_text[] =
	"Usage: custos-agent run [--config FILE] [--output FILE] [--duration SECONDS]\n"
	"                        [--ringbuf-kb N]\n"
	"Capture, seal and spool evidence; deliver it to the collector, or with --output\n"
	"write it to FILE (offline mode; the spool is FILE.spool). Foreground; SIGTERM\n"
	"stops cleanly, SIGHUP reloads the configuration. Needs root.\n"
	"  --config FILE       configuration (default " CONFIG_DEFAULT_PATH "; in offline\n"
	"                      mode the defaults apply when it does not exist)\n"
	"  --output FILE       offline mode: append sealed batches to FILE\n"
	"  --duration SECONDS  stop after SECONDS (default: at a signal)\n"
	"  --ringbuf-kb N      ring buffer size in KiB, a power of two (default 8192)\n";

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_signal = 1;
	else
		stop_signal = sig;
}

static int install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* One record into the batcher; a failure to spool is counted there. */
static int emit(struct run_state *rs, const struct custos_record *r)
{
	int ret = batcher_add(&rs->b, r, clock_boot_ns());

	if (ret == -CUSTOS_ERR_IO) {
		if (!rs->io_reported++)
			fprintf(stderr, "custos-agent: the spool cannot be written (%s); records "
				"are counted as lost until it can\n", strerror(errno));
		return 0;
	}
	if (ret)
		fprintf(stderr, "custos-agent: sealing a batch: %s\n", custos_strerror(ret));
	return ret;
}

static int on_event(void *ctx, const void *data, size_t size)
{
	struct run_state *rs = ctx;
	uint32_t kind;
	int ret = decode_event(data, size, &rs->rec, &kind);

	if (ret) {
		rs->refused++;
		if (rs->refused <= 10)
			fprintf(stderr, "custos-agent: ring-buffer record refused: kind %u, %zu "
				"bytes: %s\n", kind, size, custos_strerror(ret));
		return 0;
	}
	proctab_enrich(rs->pt, &rs->rec);	/* exec: the parent's start */
	proctab_update(rs->pt, &rs->rec);
	if (run_is_noise(&rs->cfg, &rs->rec)) {
		rs->filtered++;
		return 0;
	}
	rs->events++;
	/* exec records wait (complete) for their hash on the worker */
	return hashq_add(rs->hq, &rs->rec, 0) ? -EIO : 0;
}

/* Kernel loss counters -> one loss record per kind that grew. */
static int check_losses(struct run_state *rs, uint64_t now)
{
	uint64_t lost[CUSTOS_EV_KIND_MAX];
	int ret = 0;

	if (!rs->cap || capture_losses(rs->cap, lost))
		return 0;
	for (uint64_t k = 0; k < CUSTOS_EV_KIND_MAX && ret == 0; k++) {
		uint64_t d = lost[k] - rs->lost_prev[k];

		if (lost[k] <= rs->lost_prev[k])
			continue;
		/* ring-buffer kinds use the record kinds' numbers (bpf/events.h) */
		agentrec_loss(&rs->arec, now, CUSTOS_LOSS_RINGBUF, record_kind_name(k) ? k : 0, d,
			      rs->loss_checked_ns, now);
		rs->kernel_lost += d;
		rs->lost_prev[k] = lost[k];
		ret = emit(rs, &rs->arec);
	}
	rs->loss_checked_ns = now;
	rs->b.other_lost = rs->kernel_lost;
	return ret;
}

static int check_clock(struct run_state *rs)
{
	struct clock_sample now;

	if (clock_sample(&now))
		return 0;
	if (clock_step_check(&rs->last_clock, &now, (int64_t)rs->cfg.clock_step_ms * 1000000,
			     &rs->arec)) {
		fprintf(stderr, "custos-agent: the wall clock stepped by %lld ms\n",
			(long long)((now.offset_ns - rs->last_clock.offset_ns) / 1000000));
		rs->last_clock = now;
		return emit(rs, &rs->arec);
	}
	rs->last_clock = now;
	return 0;
}

static int heartbeat(struct run_state *rs, uint64_t now)
{
	uint64_t nb, bytes;

	spool_depth(rs->sp, &nb, &bytes);
	agentrec_heartbeat(&rs->arec, now, rs->events, batcher_losses(&rs->b), nb, bytes);
	return emit(rs, &rs->arec);
}

/* The periodic job, after every poll. */
static int periodic(struct run_state *rs)
{
	uint64_t now = clock_boot_ns(), moved;
	int ret = hashq_release(rs->hq);

	if (ret)
		return ret;
	if (now >= rs->next_second_ns) {
		rs->next_second_ns = now + 1000000000ull;
		if ((ret = check_clock(rs)) || (ret = check_losses(rs, now)))
			return ret;
	}
	if (now >= rs->next_heartbeat_ns) {
		rs->next_heartbeat_ns = now + rs->cfg.heartbeat_s * 1000000000ull;
		if ((ret = heartbeat(rs, now)))
			return ret;
	}
	ret = batcher_tick(&rs->b, now);
	if (ret && ret != -CUSTOS_ERR_IO)
		return ret;
	if (rs->of && outfile_drain(rs->of, &moved) && !rs->out_reported++)
		fprintf(stderr, "custos-agent: writing the offline file failed (%s); batches stay "
			"in the spool\n", strerror(errno));
	return 0;
}

static int start_capture(struct run_state *rs, uint64_t ringbuf_kb)
{
	struct capture_opts opts = { 0 };
	int ret;

	opts.ringbuf_bytes = (uint32_t)(ringbuf_kb * 1024);
	opts.on_event = on_event;
	opts.ctx = rs;
	run_capture_opts(&rs->cfg, &opts);
	ret = capture_open(&opts, &rs->cap);
	if (ret)
		return ret;
	capture_losses(rs->cap, rs->lost_prev);	/* counters start at this load */
	return 0;
}

static int emit_snapshot(void *ctx, const struct custos_record *r)
{
	struct run_state *rs = ctx;

	rs->rec = *r;
	proctab_enrich(rs->pt, &rs->rec);
	proctab_update(rs->pt, &rs->rec);
	return hashq_add(rs->hq, &rs->rec, 1);	/* waits for room, never QUEUE_FULL */
}

/* The snapshot's first pass: every running process into the table, so
 * that the second gives each record its parent's start time. */
static int table_snapshot(void *ctx, const struct custos_record *r)
{
	proctab_update(((struct run_state *)ctx)->pt, r);
	return 0;
}

/* hashq's output: a record complete with its hash. */
static int emit_hashed(void *ctx, const struct custos_record *r)
{
	return emit(ctx, r);
}

static int start_hashing(struct run_state *rs)
{
	int ret = hashq_open(rs->eh, HASHQ_JOBS_DEFAULT, HASHQ_HOLD_DEFAULT, emit_hashed, rs,
			     &rs->hq);

	if (!ret && (ret = proctab_open(PROCTAB_MAX_DEFAULT, &rs->pt)))
		fprintf(stderr, "custos-agent: process table: %s\n", custos_strerror(ret));
	else if (ret)
		fprintf(stderr, "custos-agent: executable hashing worker: %s\n",
			custos_strerror(ret));
	return ret;
}

/* The processes already running, then the capabilities no longer needed:
 * the snapshot reads other users' /proc links (CAP_SYS_PTRACE); after it,
 * the loss counters and the filter maps at a reload need bpf(2) (CAP_BPF)
 * and hashing executables needs to read any file (CAP_DAC_READ_SEARCH). */
static int snapshot_then_drop(struct run_state *rs)
{
	uint64_t n, now = clock_boot_ns();
	int ret = snapshot_walk("/proc", now, table_snapshot, rs, &n);

	if (!ret)
		ret = snapshot_walk("/proc", now, emit_snapshot, rs, &n);
	if (ret)
		return ret;
	fprintf(stderr, "custos-agent: snapshot of %llu running processes\n", (unsigned long long)n);
	if (privs_drop(1ull << CAP_BPF_NR | 1ull << CAP_DAC_READ_SEARCH_NR))
		fprintf(stderr, "custos-agent: dropping capabilities failed: %s (going on with "
			"the full set)\n", strerror(errno));
	return 0;
}

/* The counters of the process table and of hashing, at stop. */
static void log_tables(const struct run_state *rs)
{
	struct proctab_stats p;
	struct hashq_stats q;

	proctab_get_stats(rs->pt, &p);
	hashq_get_stats(rs->hq, &q);
	fprintf(stderr, "custos-agent: process table: %llu live, %llu added, %llu ended, %llu "
		"evicted, %llu pid reuses; hashing: %llu files, %llu timed out, %llu queue full, "
		"%llu records held, %llu passed\n", (unsigned long long)p.entries,
		(unsigned long long)p.added, (unsigned long long)p.removed,
		(unsigned long long)p.evicted, (unsigned long long)p.reused,
		(unsigned long long)q.jobs, (unsigned long long)q.timed_out,
		(unsigned long long)q.queue_full, (unsigned long long)q.held,
		(unsigned long long)q.passed);
}

/* The run after set-up: records, loop, stop. */
static int main_loop(struct run_state *rs, uint64_t duration)
{
	uint64_t start = clock_boot_ns(), deadline = duration ? start + duration * 1000000000ull : 0;
	const char *reason = "the end of --duration";
	int ret;

	agentrec_start(&rs->arec, start, rs->cfg.hash, capture_programs(rs->cap), (uint64_t)getpid());
	if ((ret = emit(rs, &rs->arec)))
		return ret;
	agentrec_config(&rs->arec, start, rs->cfg.hash, rs->cfg.text, rs->cfg.text_len);
	if ((ret = emit(rs, &rs->arec)) || (ret = snapshot_then_drop(rs)))
		return ret;
	fprintf(stderr, "custos-agent: running (%s)\n", capture_programs(rs->cap));
	while (!stop_signal && (!deadline || clock_boot_ns() < deadline)) {
		ret = capture_poll(rs->cap, POLL_MS);
		if (ret < 0 && ret != -EINTR)
			return ret;
		if (reload_signal) {
			reload_signal = 0;
			/* What was captured before the signal, under the old filters. */
			ret = capture_drain(rs->cap);
			if (ret < 0 && ret != -EINTR)
				return ret;
			if ((ret = run_reload(rs)))
				return ret;
		}
		if ((ret = periodic(rs)))
			return ret;
	}
	ret = capture_stop(rs->cap);
	if (ret < 0 && ret != -EINTR)
		return ret;
	if ((ret = hashq_drain(rs->hq)))
		return ret;
	if (stop_signal)
		reason = stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
	check_losses(rs, clock_boot_ns());
	heartbeat(rs, clock_boot_ns());
	agentrec_stop(&rs->arec, clock_boot_ns(), reason, (uint64_t)stop_signal);
	if ((ret = emit(rs, &rs->arec)) || (ret = batcher_flush(&rs->b)))
		return ret;
	fprintf(stderr, "custos-agent: stopped by %s; %llu events, %llu lost, %llu batches spooled\n",
		reason, (unsigned long long)rs->events, (unsigned long long)batcher_losses(&rs->b),
		(unsigned long long)rs->b.batches);
	log_tables(rs);
	return 0;
}

static int parse_options(int argc, char **argv, struct run_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ringbuf-kb", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config = optarg;
			a->config_given = 1;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'd':
			if (custos_parse_u64(optarg, 1, CLI_DURATION_MAX, &a->duration))
				return -1;
			break;
		case 'r':
			if (cli_parse_ringbuf_kb(optarg, &a->ringbuf_kb))
				return -1;
			break;
		case 'h':
			fputs(run_usage_text, stdout);
			return 1;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .config = CONFIG_DEFAULT_PATH, .ringbuf_kb = RUN_RINGBUF_KB };
	struct run_state *rs;
	int ret = parse_options(argc, argv, &a);

	if (ret > 0)
		return AGENT_EXIT_OK;
	if (ret < 0) {
		fputs(run_usage_text, stderr);
		return AGENT_EXIT_USAGE;
	}
	rs = calloc(1, sizeof(*rs));
	if (!rs || custos_init() || install_handlers()) {
		fprintf(stderr, "custos-agent: run: cannot start (memory, libsodium or signals)\n");
		free(rs);
		return AGENT_EXIT_FAIL;
	}
	ret = run_setup(rs, &a);
	if (ret == 0)
		ret = start_hashing(rs);
	if (ret == 0)
		ret = start_capture(rs, a.ringbuf_kb);
	if (ret == 0)
		ret = main_loop(rs, a.duration);
	run_teardown(rs, ret == 0 ? STOP_GRACE_MS : 0);
	free(rs);
	return ret ? AGENT_EXIT_FAIL : AGENT_EXIT_OK;
}
