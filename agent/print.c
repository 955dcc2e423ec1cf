/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-agent print: capture process, file and network events and print
 * each one as a line of JSON on stdout until SIGINT, SIGTERM or the end of
 * --duration; then the loss counters go to stderr. Lines are written
 * without jansson (record_json_line, the same bytes) into a 1 MiB stdio
 * buffer, flushed each time the ring buffer has been read empty (so at
 * least every POLL_MS while events come), not per line: under a flood of
 * events the printer keeps up with the kernel. It is the first,
 * human-readable use of the capture path (kernel record -> decode ->
 * custos_record) that the sealed pipeline will use; records are not
 * batched, signed or spooled here.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "capture.h"
#include "decode.h"
#include "error.h"
#include "record_json.h"
#include "number.h"

#define RINGBUF_KB_DEFAULT 8192
#define POLL_MS 250
#define REFUSED_REPORTED 10		/* refused records described on stderr */
#define FILTER_MAX 64			/* of each --ignore-exe, --ignore-cgroup, --sensitive */
#define STDOUT_BUF (1u << 20)		/* stdout's buffer, flushed after each read */

static const char print_usage_text[] =
	"Usage: custos-agent print [--ringbuf-kb N] [--duration SECONDS] [--ignore-exe PATH]...\n"
	"                          [--ignore-cgroup ID]... [--sensitive PATH]... [--all-opens]\n"
	"Capture process, file and network events and print each as one line of JSON\n"
	"on stdout, until SIGINT or SIGTERM or for SECONDS; then print the loss\n"
	"counters on stderr. Needs root (CAP_BPF, CAP_PERFMON; mounts tracefs if absent).\n"
	"  --ringbuf-kb N      ring buffer size in KiB: a power of two, 64 to 1048576\n"
	"                      (default 8192)\n"
	"  --duration SECONDS  stop after SECONDS, 1 to 31536000 (default: at a signal)\n"
	"  --ignore-exe PATH   drop file, network and syscall events of processes whose\n"
	"                      executable path starts with PATH (repeatable)\n"
	"  --ignore-cgroup ID  the same for a cgroup v2 id (repeatable)\n"
	"  --sensitive PATH    record reads of PATH (a glob(7) pattern; a directory covers\n"
	"                      what is below it); repeatable; replaces the default list:\n"
	"                      /etc/shadow* /etc/gshadow* /etc/sudoers* /etc/ssh/ssh_host_*key\n"
	"                      /root /home/*/.ssh\n"
	"  --all-opens         record every open that succeeded or was refused (EACCES,\n"
	"                      EPERM), read-only ones too, on every mount; the sensitive\n"
	"                      list is then not consulted\n";

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

struct print_state {
	struct custos_record rec;
	struct buf line;		/* the record's JSON line, reused */
	uint64_t printed;
	uint64_t printed_kind[CUSTOS_EV_KIND_MAX];
	uint64_t refused_size;		/* wrong size for the kind claimed */
	uint64_t refused_malformed;	/* unknown kind, bad inner length */
};

static int print_event(void *ctx, const void *data, size_t size)
{
	struct print_state *st = ctx;
	uint32_t kind;
	int ret = decode_event(data, size, &st->rec, &kind);

	buf_reset(&st->line);
	if (ret == 0)
		ret = record_json_line(&st->rec, &st->line);
	if (ret == 0 && fwrite(st->line.data, 1, st->line.len, stdout) != st->line.len)
		ret = -CUSTOS_ERR_IO;
	if (ret == -CUSTOS_ERR_IO || ret == -CUSTOS_ERR_NOMEM) {
		fprintf(stderr, "custos-agent: print: writing to stdout: %s\n",
			ret == -CUSTOS_ERR_IO ? strerror(errno) : custos_strerror(ret));
		return -EIO;
	}
	if (ret) {
		/* Counted, described the first few times, never printed. */
		if (ret == -CUSTOS_ERR_TRUNCATED || ret == -CUSTOS_ERR_OVERSIZED)
			st->refused_size++;
		else
			st->refused_malformed++;
		if (st->refused_size + st->refused_malformed <= REFUSED_REPORTED)
			fprintf(stderr, "custos-agent: ring-buffer record refused: kind %u, %zu bytes "
				"(its fixed part %zu): %s\n", kind, size, decode_event_size(kind),
				custos_strerror(ret));
		return 0;
	}
	st->printed++;
	st->printed_kind[kind]++;	/* decode_event accepted it: kind < KIND_MAX */
	return 0;
}

/* After each read of the ring: what it gave reaches stdout now. Returns
 * 0 or -EIO with the message printed. */
static int flush_stdout(void)
{
	if (fflush(stdout) == 0)
		return 0;
	fprintf(stderr, "custos-agent: print: writing to stdout: %s\n", strerror(errno));
	return -EIO;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: let poll return EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	sa.sa_handler = SIG_IGN;	/* a closed stdout is an EPIPE error */
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;
	return 0;
}

static void report_losses(struct capture *cap, const struct print_state *st)
{
	uint64_t lost[CUSTOS_EV_KIND_MAX], total = 0;
	int ret = capture_losses(cap, lost);

	if (ret) {
		fprintf(stderr, "custos-agent: reading the loss counters: %s\n", strerror(-ret));
		return;
	}
	for (int k = 0; k < CUSTOS_EV_KIND_MAX; k++)
		total += lost[k];
	fprintf(stderr, "custos-agent: %llu records printed; lost (ring buffer full): %llu; "
		"refused: wrong size %llu, malformed %llu\n",
		(unsigned long long)st->printed, (unsigned long long)total,
		(unsigned long long)st->refused_size, (unsigned long long)st->refused_malformed);
	for (int k = 0; k < CUSTOS_EV_KIND_MAX; k++)
		if (st->printed_kind[k] || lost[k])
			fprintf(stderr, "custos-agent: kind %s: printed %llu, lost %llu\n",
				record_kind_name((uint64_t)k) ? record_kind_name((uint64_t)k) : "?",
				(unsigned long long)st->printed_kind[k],
				(unsigned long long)lost[k]);
}

/* Repeatable options, collected for capture_opts. */
struct print_filters {
	const char *ignore_exe[FILTER_MAX];
	size_t n_ignore_exe;
	uint64_t ignore_cgroups[FILTER_MAX];
	size_t n_ignore_cgroups;
	const char *sensitive[FILTER_MAX];
	size_t n_sensitive;
	int all_opens;
};

static int add_filter(const char *opt, const char *arg, struct print_filters *pf)
{
	if (pf->n_ignore_exe == FILTER_MAX || pf->n_ignore_cgroups == FILTER_MAX ||
	    pf->n_sensitive == FILTER_MAX) {
		fprintf(stderr, "custos-agent: print: more than %d %s options\n", FILTER_MAX, opt);
		return -1;
	}
	if (strcmp(opt, "--ignore-exe") == 0 || strcmp(opt, "--sensitive") == 0) {
		if (arg[0] != '/') {
			fprintf(stderr, "custos-agent: print: %s '%s': not an absolute path\n",
				opt, arg);
			return -1;
		}
		if (opt[2] == 'i')
			pf->ignore_exe[pf->n_ignore_exe++] = arg;
		else
			pf->sensitive[pf->n_sensitive++] = arg;
		return 0;
	}
	if (custos_parse_u64(arg, 1, UINT64_MAX, &pf->ignore_cgroups[pf->n_ignore_cgroups])) {
		fprintf(stderr, "custos-agent: print: --ignore-cgroup '%s': not a cgroup id\n", arg);
		return -1;
	}
	pf->n_ignore_cgroups++;
	return 0;
}

static int parse_options(int argc, char **argv, uint64_t *ringbuf_kb, uint64_t *duration,
			 struct print_filters *pf)
{
	static const struct option longopts[] = {
		{ "ringbuf-kb", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ignore-exe", required_argument, NULL, 'x' },
		{ "ignore-cgroup", required_argument, NULL, 'c' },
		{ "sensitive", required_argument, NULL, 's' },
		{ "all-opens", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (cli_parse_ringbuf_kb(optarg, ringbuf_kb)) {
				fprintf(stderr, "custos-agent: print: --ringbuf-kb '%s': not a "
					"power of two from %d to %d\n", optarg, CLI_RINGBUF_KB_MIN,
					CLI_RINGBUF_KB_MAX);
				return -1;
			}
			break;
		case 'd':
			if (custos_parse_u64(optarg, 1, CLI_DURATION_MAX, duration)) {
				fprintf(stderr, "custos-agent: print: --duration '%s': not a number "
					"of seconds from 1 to %d\n", optarg, CLI_DURATION_MAX);
				return -1;
			}
			break;
		case 'x':
		case 'c':
		case 's':
			if (add_filter(opt == 'x' ? "--ignore-exe" : opt == 'c' ? "--ignore-cgroup"
				       : "--sensitive", optarg, pf))
				return -1;
			break;
		case 'a':
			pf->all_opens = 1;
			break;
		case 'h':
			fputs(print_usage_text, stdout);
			return 1;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "custos-agent: print: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int cmd_print(int argc, char **argv)
{
	uint64_t ringbuf_kb = RINGBUF_KB_DEFAULT, duration = 0, deadline = 0;
	struct capture_opts opts = { 0 };
	struct capture *cap = NULL;
	struct print_filters pf = { .n_ignore_exe = 0 };
	struct print_state *st;
	int ret = parse_options(argc, argv, &ringbuf_kb, &duration, &pf);

	if (ret > 0)
		return AGENT_EXIT_OK;
	if (ret < 0) {
		fputs(print_usage_text, stderr);
		return AGENT_EXIT_USAGE;
	}
	st = calloc(1, sizeof(*st));
	if (!st || setvbuf(stdout, NULL, _IOFBF, STDOUT_BUF)) {
		fprintf(stderr, "custos-agent: print: out of memory\n");
		free(st);
		return AGENT_EXIT_FAIL;
	}
	buf_init(&st->line, RECORD_JSON_LINE_MAX);
	ret = install_handlers();
	if (ret) {
		fprintf(stderr, "custos-agent: print: installing signal handlers: %s\n",
			strerror(-ret));
		goto out;
	}
	opts.ringbuf_bytes = (uint32_t)(ringbuf_kb * 1024);
	opts.on_event = print_event;
	opts.ctx = st;
	opts.ignore_exe = pf.ignore_exe;
	opts.n_ignore_exe = pf.n_ignore_exe;
	opts.ignore_cgroups = pf.ignore_cgroups;
	opts.n_ignore_cgroups = pf.n_ignore_cgroups;
	opts.sensitive = pf.n_sensitive ? pf.sensitive : NULL;
	opts.n_sensitive = pf.n_sensitive;
	opts.all_opens = pf.all_opens;
	ret = capture_open(&opts, &cap);
	if (ret)
		goto out;
	if (duration)
		deadline = monotonic_ms() + duration * 1000;
	fprintf(stderr, "custos-agent: capturing (%s; ring buffer %llu KiB)\n",
		capture_programs(cap), (unsigned long long)ringbuf_kb);

	while (!stop_signal) {
		int timeout = POLL_MS;

		if (deadline) {
			uint64_t now = monotonic_ms();

			if (now >= deadline)
				break;
			if (deadline - now < POLL_MS)
				timeout = (int)(deadline - now);
		}
		ret = capture_poll(cap, timeout);
		if (ret == -EINTR)
			continue;
		if (ret < 0 || (ret = flush_stdout()) < 0)
			goto out;
	}
	ret = capture_stop(cap);
	if (ret < 0 && ret != -EINTR)
		goto out;
	ret = flush_stdout();
	if (ret < 0)
		goto out;
	fprintf(stderr, "custos-agent: stopped by %s\n",
		stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" :
		"the end of --duration");
	ret = 0;
out:
	if (ret < 0 && ret != -EIO && cap)
		fprintf(stderr, "custos-agent: reading the ring buffer: %s\n", strerror(-ret));
	if (cap)
		report_losses(cap, st);
	capture_close(cap);
	buf_free(&st->line);
	free(st);
	return ret ? AGENT_EXIT_FAIL : AGENT_EXIT_OK;
}
