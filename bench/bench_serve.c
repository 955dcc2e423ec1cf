/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_serve: ingest over TCP with thousands of agents. It runs the real
 * `custos-collector serve` on 127.0.0.1 (pinned to CPU 0) on a state
 * directory made by the real `init`, with one host key per simulated
 * agent enrolled, and drives it from this process (pinned to CPU 1): N
 * agents, each its own TCP connection, each sending M sealed, chained
 * batches of R records the way custos-agent does (docs/protocol.md: BATCH
 * frames, up to --window unacknowledged like agent/forward.c's
 * max_inflight), verifying every ack (signature, host, seq, batch hash,
 * and that no custody leaf is named twice). The baselines, in the same
 * run, after it: the same signed batches ingested without sockets, on CPU
 * 0, each on a state directory of its own made the same way, in the order
 * serve ingested them (the acks' leaves say it), by the same binary's
 * `import` and by the in-process ingest path (bench_serve_base.c). With
 * --interleave they take batch j of every agent before batch j + 1
 * instead: the order of agents that each send one batch at a time, which
 * costs ingest more (each batch another host's index pages). The load
 * generator is bench_serve_load.c.
 *
 *   bench_serve [--collector PATH] [--agents N] [--batches M] [--records R]
 *               [--window W] [--port P] [--dir DIR] [--enroll-each]
 *               [--interleave] [--keep]
 *
 * Enrolment: `enroll` replays and verifies the whole event log before it
 * appends one entry, so enrolling N hosts one command at a time costs
 * O(N^2) signature checks (about two minutes of CPU for 2,000 here). By
 * default each directory's hosts are enrolled by one `enroll --list`,
 * which verifies the log once; --enroll-each runs the single-host
 * `enroll` for every host instead.
 *
 * Batches are built (records, zlib, signature, seal) before anything is
 * timed. It prints records/s over TCP and of each baseline, their ratios,
 * serve's CPU seconds over the timed window (user + system, from
 * /proc/PID/stat) and records per CPU second, acks received against
 * batches sent, and the most connections serve held at once (its sockets
 * in /proc/PID/fd, the listener excluded). Any refused batch (NACK), a
 * connection closed before its acks, a bad ack, no ack for BS_STALL_S
 * (60) seconds or a serve that died stops it with exit status 1 and what
 * happened; there are no timed assertions. It raises RLIMIT_NOFILE (as
 * root) for N connections on each side and says what it set. The state
 * directories, the baseline's file and serve's log go in a new directory
 * under --dir (default $TMPDIR or /tmp), removed at the end unless --keep
 * or a failure; serve listens on --port (default 0: one the kernel picks).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>

#include "bench_mix.h"
#include "batch.h"
#include "bench_serve.h"
#include "error.h"
#include "frame.h"
#include "keys.h"
#include "keystore.h"
#include "number.h"
#include "record.h"
#include "seal.h"

#define OFFSET_NS 1763769600000000000ll	/* 2025-11-22T00:00:00Z - boot */

struct bs_state bs;

static void serve_tail(void);

/* Stop with what and where (exit status 1); serve is stopped too, the
 * work directory kept for its log. */
void bs_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench_serve: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (bs.serve > 0) {
		kill(bs.serve, SIGTERM);
		waitpid(bs.serve, NULL, 0);
		serve_tail();
	}
	if (bs.work[0])
		fprintf(stderr, "bench_serve: work directory kept: %s\n", bs.work);
	exit(1);
}

double bs_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* Pin the calling process to cpu, when the machine has two CPUs or more. */
static void pin(int cpu)
{
	cpu_set_t set;

	if (ncpus() < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		bs_fail("sched_setaffinity(CPU %d): %s", cpu, strerror(errno));
}

int bs_run_coll(char *const args[], const char *out, const char *err, double cpu[2])
{
	struct rusage ru;
	siginfo_t si;
	int st;
	pid_t pid = fork();

	if (pid < 0)
		bs_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		int fo = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = err ? open(err, O_WRONLY | O_CREAT | O_APPEND, 0600) : 2;
		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(126);
		pin(0);
		execv(bs.o.collector, args);
		fprintf(stderr, "bench_serve: exec %s: %s\n", bs.o.collector, strerror(errno));
		_exit(127);
	}
	if (cpu && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
		cpu[1] = bs_runq_wait(pid);	/* read before it is reaped */
	if (wait4(pid, &st, 0, &ru) != pid)
		bs_fail("wait for %s: %s", args[1], strerror(errno));
	if (cpu)
		cpu[0] = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return st;
}

/* RLIMIT_NOFILE for N sockets here and N connections in serve (which
 * inherits it and raises its soft limit to --max-conns + 64). */
static void raise_nofile(uint64_t n)
{
	struct rlimit old, rl;
	rlim_t need = (rlim_t)n + 1024;

	if (getrlimit(RLIMIT_NOFILE, &old) != 0)
		bs_fail("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	rl = old;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (rl.rlim_cur < need)
		rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		bs_fail("setrlimit(RLIMIT_NOFILE, %llu): %s (raising the hard limit needs root)",
		     (unsigned long long)need, strerror(errno));
	printf("open files (RLIMIT_NOFILE): soft %llu, hard %llu (were %llu, %llu); serve gets "
	       "--max-conns %llu\n", (unsigned long long)rl.rlim_cur,
	       (unsigned long long)rl.rlim_max, (unsigned long long)old.rlim_cur,
	       (unsigned long long)old.rlim_max, (unsigned long long)n + 8);
}

/* A state directory made by the real init; OUT: *coll, its public key. */
static void make_state(const char *dir, struct custos_pubkey *coll)
{
	char path[4200];
	char *init[] = { "custos-collector", "init", "--dir", (char *)dir, "--name",
			 "bench/serve", NULL };
	int line, st = bs_run_coll(init, NULL, NULL, NULL);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bs_fail("%s init --dir %s: exit status %d", bs.o.collector, dir, st);
	if (snprintf(path, sizeof(path), "%s/collector.pub", dir) >= (int)sizeof(path) ||
	    keys_load_public(path, coll, &line) != 0)
		bs_fail("%s: line %d: not a public key", path, line);
}

/* Enrol every agent's key in dir under the name a<index>, each key in
 * DIR.a<index>.pub: by one `enroll --list DIR.list` (see the top), or the
 * real single-host `enroll` for each. */
static void enroll_all(const char *dir)
{
	char name[32], pub[4300], list[4300];
	char *args[] = { "custos-collector", "enroll", "--dir", (char *)dir, "--name", name,
			 "--key", pub, NULL };
	char *largs[] = { "custos-collector", "enroll", "--dir", (char *)dir, "--list", list, NULL };
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	double cpu[2] = { 0, 0 };
	FILE *lf = NULL;
	int st = 0;

	if (snprintf(list, sizeof(list), "%s.list", dir) >= (int)sizeof(list) ||
	    (!bs.o.enroll_each && !(lf = fopen(list, "we"))))
		bs_fail("%s: cannot write the list of hosts", list);
	for (uint64_t a = 0; a < bs.o.agents; a++) {
		snprintf(name, sizeof(name), "a%llu", (unsigned long long)a);
		if (snprintf(pub, sizeof(pub), "%s.%s.pub", dir, name) >= (int)sizeof(pub) ||
		    keys_save_public(pub, &bs.ag[a].key.pub) != 0)
			bs_fail("%s: cannot write the key", pub);
		if (lf && fprintf(lf, "%s %s.%s.pub\n", name, base, name) < 0)
			bs_fail("%s: write error", list);
		if (!lf && (st = bs_run_coll(args, NULL, NULL, NULL)) != 0)
			bs_fail("%s enroll --dir %s --name %s: status %d", bs.o.collector, dir, name, st);
	}
	if (lf && fclose(lf) != 0)
		bs_fail("%s: write error", list);
	if (lf && (st = bs_run_coll(largs, NULL, NULL, cpu)) != 0)
		bs_fail("%s enroll --dir %s --list %s: status %d", bs.o.collector, dir, list, st);
	if (lf)
		printf("enroll --list: %llu hosts, %.2f s of CPU\n",
		       (unsigned long long)bs.o.agents, cpu[0]);
}

/* Record k of an agent's stream, the mix of bench_collector: per 20
 * records 5 fork, 5 exit, 5 exec, 4 open, 1 connect, 1 ms apart. */
static void make_record(struct custos_record *r, uint64_t k)
{
	uint64_t ts = 1000000000ull + k * 1000000ull;
	unsigned kind = (unsigned)(k % 20);

	memset(r, 0, sizeof(*r));
	r->ts_ns = ts;
	r->subj.pid = r->subj.tid = 1000 + (k / 20) % 2000;
	r->subj.ppid = 900 + r->subj.pid % 50;
	r->subj.uid = r->subj.loginuid = 1000;
	record_set_bytes(r->subj.comm, &r->subj.comm_len, CUSTOS_COMM_MAX, "bash");
	bench_mix_body(r, kind, k, ts);
}

/* Batch j of agent a: signed once, sealed to serve's key (framed) and to
 * each baseline's, all kept at index a * M + j. */
static void make_batch(struct batch_builder *bb, struct custos_record *r, uint64_t a,
		       uint64_t j, struct buf *sb)
{
	struct bs_agent *ag = &bs.ag[a];
	uint64_t i = a * bs.o.batches + j;
	struct buf env;
	struct batch_header h;
	int ret = 0;

	for (uint64_t k = j * bs.o.records; k < (j + 1) * bs.o.records && !ret; k++) {
		make_record(r, k);
		ret = batch_builder_add(bb, r);
	}
	memset(&h, 0, sizeof(h));
	memset(h.boot_id, 0xb0, sizeof(h.boot_id));
	memcpy(h.boot_id, &a, sizeof(a));
	h.seq = j;
	memcpy(h.prev_hash, ag->prev, CUSTOS_HASH_LEN);
	h.clock_offset_ns = OFFSET_NS;
	h.sealed_boot_ns = bb->last_ts_ns + 1;
	h.ntp_synced = 1;
	h.ntp_maxerror_us = 16000;
	buf_reset(sb);
	buf_init(&env, CUSTOS_SEALED_MAX);
	buf_init(&bs.frames[i], FRAME_HEADER_LEN + CUSTOS_SEALED_MAX);
	buf_init(&bs.imp[i], CUSTOS_SEALED_MAX);
	buf_init(&bs.inproc[i], CUSTOS_SEALED_MAX);
	if (!ret)
		ret = batch_sign(bb, &h, &ag->key, sb, bs.hash[i]);
	if (!ret)
		ret = seal_batch(sb->data, sb->len, &bs.coll_tcp, &env);
	if (!ret)
		ret = frame_write(&bs.frames[i], FRAME_BATCH, env.data, env.len);
	if (!ret)
		ret = seal_batch(sb->data, sb->len, &bs.coll_imp, &bs.imp[i]);
	if (!ret)
		ret = seal_batch(sb->data, sb->len, &bs.coll_inp, &bs.inproc[i]);
	if (ret)
		bs_fail("building batch %llu of agent %llu: %s", (unsigned long long)j,
		     (unsigned long long)a, custos_strerror(ret));
	memcpy(ag->prev, bs.hash[i], CUSTOS_HASH_LEN);
	buf_free(&env);
}

/* Every batch of every agent, before anything is timed. */
static void make_batches(void)
{
	struct batch_builder bb;
	struct custos_record *r = malloc(sizeof(*r));
	struct buf sb;
	uint64_t n = bs.o.agents * bs.o.batches;

	bs.frames = calloc(n, sizeof(*bs.frames));
	bs.hash = calloc(n, sizeof(*bs.hash));
	bs.imp = calloc(n, sizeof(*bs.imp));
	bs.inproc = calloc(n, sizeof(*bs.inproc));
	bs.order = calloc(n, sizeof(*bs.order));
	if (!r || !bs.frames || !bs.hash || !bs.imp || !bs.inproc || !bs.order)
		bs_fail("memory for %llu batches", (unsigned long long)n);
	batch_builder_init(&bb);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	for (uint64_t j = 0; j < bs.o.batches; j++)
		for (uint64_t a = 0; a < bs.o.agents; a++)
			make_batch(&bb, r, a, j, &sb);
	buf_free(&sb);
	batch_builder_free(&bb);
	free(r);
}

/* The baselines' order: serve's (bs.order, from the acks' leaves), or
 * with --interleave batch j of every agent before batch j + 1, the order
 * of agents that each send one batch at a time. OUT: the envelopes of
 * envs in that order (shallow copies), the import file written so. */
static struct buf *in_order(const struct buf *envs, const char *file)
{
	uint64_t n = bs.o.agents * bs.o.batches, i;
	struct buf *out = calloc(n, sizeof(*out));
	FILE *f = file ? fopen(file, "wbe") : NULL;
	uint8_t len4[4];

	if (!out || (file && !f))
		bs_fail("%s: %s", file ? file : "memory", strerror(errno ? errno : ENOMEM));
	for (uint64_t k = 0; k < n; k++) {
		i = bs.o.interleave ? (k % bs.o.agents) * bs.o.batches + k / bs.o.agents
				    : bs.order[k];
		out[k] = envs[i];
		len4[0] = (uint8_t)(out[k].len >> 24), len4[1] = (uint8_t)(out[k].len >> 16);
		len4[2] = (uint8_t)(out[k].len >> 8), len4[3] = (uint8_t)out[k].len;
		if (f && (fwrite(len4, 4, 1, f) != 1 ||
			  fwrite(out[k].data, 1, out[k].len, f) != out[k].len))
			bs_fail("%s: %s", file, strerror(errno));
	}
	if (f && fclose(f) != 0)
		bs_fail("%s: %s", file, strerror(errno));
	return out;
}

/* The line of serve's log holding key, copied to out; 0 if none yet. */
static int log_find(const char *key, char *out, size_t n)
{
	FILE *f = fopen(bs.log, "re");
	char line[1024];
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		if (strstr(line, key)) {
			snprintf(out, n, "%s", line);
			out[strcspn(out, "\n")] = '\0';
			found = 1;
		}
	if (f)
		fclose(f);
	return found;
}

static void serve_tail(void)
{
	char cmd[4300];

	fprintf(stderr, "bench_serve: the end of serve's log (%s):\n", bs.log);
	snprintf(cmd, sizeof(cmd), "tail -n 15 '%s' >&2", bs.log);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_serve: (cannot show it)\n");
}

/* Fail if serve has exited. */
void bs_serve_alive(const char *when)
{
	int st;

	if (waitpid(bs.serve, &st, WNOHANG) == bs.serve) {
		bs.serve = 0;
		serve_tail();
		bs_fail("serve died %s (wait status %d)", when, st);
	}
}

/* Start serve on dir (CPU 0, stderr to bs.log); returns its port. */
static unsigned start_serve(const char *dir)
{
	char listen_on[64], conns[32], line[1024], *p;
	char *args[] = { "custos-collector", "serve", "--dir", (char *)dir, "--listen", listen_on,
			 "--max-conns", conns, NULL };
	unsigned port = 0;

	snprintf(listen_on, sizeof(listen_on), "127.0.0.1:%llu", (unsigned long long)bs.o.port);
	snprintf(conns, sizeof(conns), "%llu", (unsigned long long)bs.o.agents + 8);
	bs.serve = fork();
	if (bs.serve < 0)
		bs_fail("fork: %s", strerror(errno));
	if (bs.serve == 0) {
		int fe = open(bs.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fe < 0 || dup2(fe, 2) < 0)
			_exit(126);
		pin(0);
		execv(bs.o.collector, args);
		fprintf(stderr, "exec %s: %s\n", bs.o.collector, strerror(errno));
		_exit(127);
	}
	for (double t0 = bs_now(); !log_find(" serving ", line, sizeof(line)); usleep(20000)) {
		bs_serve_alive("while starting");
		if (bs_now() - t0 > BS_STALL_S)
			bs_fail("serve did not start in %d s (no 'serving' line in %s)", BS_STALL_S, bs.log);
	}
	if (!log_find("listening on 127.0.0.1:", line, sizeof(line)) ||
	    !(p = strstr(line, "127.0.0.1:")) || sscanf(p + 10, "%u", &port) != 1)
		bs_fail("%s: no 'listening on 127.0.0.1:PORT' line", bs.log);
	if (log_find("accepting up to", line, sizeof(line)))
		printf("serve: %s\n", strstr(line, "accepting up to"));
	return port;
}

/* SIGTERM, then check serve's own count of what it took. */
static void stop_serve(void)
{
	unsigned long long acc, dup, ref;
	char line[1024], *p;
	int st;

	kill(bs.serve, SIGTERM);
	if (waitpid(bs.serve, &st, 0) != bs.serve || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		bs.serve = 0;
		bs_fail("serve did not stop cleanly on SIGTERM (wait status %d)", st);
	}
	bs.serve = 0;
	if (!log_find("stopped: ", line, sizeof(line)) || !(p = strstr(line, "stopped: ")) ||
	    sscanf(p, "stopped: %llu accepted, %llu resent, %llu refused", &acc, &dup, &ref) != 3)
		bs_fail("%s: no 'stopped:' line", bs.log);
	printf("serve: %s\n", p);
	if (acc != bs.o.agents * bs.o.batches || ref != 0)
		bs_fail("serve accepted %llu batches and refused %llu; %llu were sent", acc, ref,
		     (unsigned long long)(bs.o.agents * bs.o.batches));
}

/* --- command line and the run ------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "Usage: bench_serve [--collector PATH] [--agents N] [--batches M] "
		"[--records R] [--window W] [--port P] [--dir DIR] [--enroll-each] [--interleave] "
		"[--keep]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct bs_opts *o)
{
	static const struct option lo[] = {
		{ "collector", required_argument, NULL, 'c' }, { "agents", required_argument, NULL, 'n' },
		{ "batches", required_argument, NULL, 'm' }, { "records", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' }, { "port", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' }, { "enroll-each", no_argument, NULL, 'e' },
		{ "keep", no_argument, NULL, 'k' }, { "interleave", no_argument, NULL, 'i' },
		{ 0, 0, 0, 0 } };
	int c, bad = 0;

	*o = (struct bs_opts){ .collector = "build/custos-collector", .agents = 2000, .batches = 12,
			    .records = 25, .window = 8 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'c')
			o->collector = optarg;
		else if (c == 'd')
			o->dir = optarg;
		else if (c == 'e')
			o->enroll_each = 1;
		else if (c == 'k')
			o->keep = 1;
		else if (c == 'i')
			o->interleave = 1;
		else if (c == 'n')
			bad |= custos_parse_u64(optarg, 1, 100000, &o->agents);
		else if (c == 'm')
			bad |= custos_parse_u64(optarg, 1, 100000, &o->batches);
		else if (c == 'r')
			bad |= custos_parse_u64(optarg, 1, 100000, &o->records);
		else if (c == 'w')
			bad |= custos_parse_u64(optarg, 1, 64, &o->window);	/* forward.h's range */
		else if (c == 'p')
			bad |= custos_parse_u64(optarg, 0, 65535, &o->port);
		else
			bad = 1;
	}
	if (bad || optind != argc || o->agents * o->batches > 10000000)
		usage();
}

static void loadavg(const char *when)
{
	char text[128] = "?";
	FILE *f = fopen("/proc/loadavg", "re");

	if (f && fgets(text, sizeof(text), f))
		text[strcspn(text, "\n")] = '\0';
	if (f)
		fclose(f);
	printf("load average %s: %s\n", when, text);
}

/* Keys, the three state directories (serve, import, in process; each by
 * `init`), enrolments, batches. */
static void prepare(char dirs[3][4200])
{
	struct custos_pubkey *keys[3] = { &bs.coll_tcp, &bs.coll_imp, &bs.coll_inp };
	uint64_t n = bs.o.agents * bs.o.batches;
	double t0 = bs_now();

	bs.ag = calloc(bs.o.agents, sizeof(*bs.ag));
	bs.leaf_seen = calloc(n, 1);
	if (!bs.ag || !bs.leaf_seen)
		bs_fail("memory for %llu agents", (unsigned long long)bs.o.agents);
	for (uint64_t a = 0; a < bs.o.agents; a++)
		keys_generate(&bs.ag[a].key);
	for (int k = 0; k < 3; k++) {
		make_state(dirs[k], keys[k]);
		enroll_all(dirs[k]);
	}
	printf("state: 3 directories by `init`, %llu hosts enrolled in each (%s) in %.1f s\n",
	       (unsigned long long)bs.o.agents, bs.o.enroll_each ? "`enroll` for each host"
	       : "one `enroll --list` each, one fsync a host", bs_now() - t0);
	t0 = bs_now();
	make_batches();
	printf("batches: %llu agents x %llu batches x %llu records = %llu records in %llu "
	       "batches, %.1f sealed bytes per record, built in %.1f s; window %llu per agent\n",
	       (unsigned long long)bs.o.agents, (unsigned long long)bs.o.batches,
	       (unsigned long long)bs.o.records, (unsigned long long)(n * bs.o.records),
	       (unsigned long long)n, (double)bs.frames[0].len / (double)bs.o.records,
	       bs_now() - t0, (unsigned long long)bs.o.window);
}

/* One line of figures, and the TCP run against it (t NULL: it is TCP). */
static void line(const char *what, const struct bs_run *b, const struct bs_run *t)
{
	double recs = (double)(bs.o.agents * bs.o.batches * bs.o.records);

	printf("%s: %.2f s, %.0f records/s; CPU %.2f s, %.0f records per CPU second; waited "
	       "%.2f s for the CPU\n", what, b->wall, recs / b->wall, b->cpu, recs / b->cpu,
	       b->runq);
	if (t)
		printf("    TCP / this: records/s %.2f; records per CPU second %.2f; records/s with "
		       "each one's wait for the CPU taken out of its time %.2f\n", b->wall / t->wall,
		       b->cpu / t->cpu, (b->wall - b->runq) / (t->wall - t->runq));
}

static void report(const struct bs_run *imp, const struct bs_run *inp, const struct bs_run *t)
{
	char what[256];

	snprintf(what, sizeof(what), "TCP, `serve` (CPU 0; its CPU: user + system, "
		 "/proc/PID/stat) and %llu agents (CPU 1)", (unsigned long long)bs.o.agents);
	line(what, t, NULL);
	line("baseline 1, `import` of the same batches (CPU 0)", imp, t);
	line("baseline 2, in process: ingest_stage, ingest_commit every 64 (CPU 0)", inp, t);
	printf("serve off the CPU otherwise (fsyncs, waiting for input): %.2f s; the agents' "
	       "process: CPU %.2f s, waited %.2f s for CPU 1\n", t->wall - t->cpu - t->runq,
	       t->self_cpu, t->self_runq);
	printf("acks received and verified: %llu; batches sent: %llu; custody leaves named: "
	       "%llu, each once\n", (unsigned long long)t->acks,
	       (unsigned long long)(bs.o.agents * bs.o.batches), (unsigned long long)t->acks);
	printf("connections held by serve at once: %llu when sending began, at most %llu "
	       "(sampled every 0.5 s)\n", (unsigned long long)t->conns_start,
	       (unsigned long long)t->conns_max);
}

int main(int argc, char **argv)
{
	static const char *const names[3] = { "tcp", "import", "inproc" };
	char dirs[3][4200], file[4200], cmd[4300];
	struct bs_run t = { 0 }, imp = { 0 }, inp = { 0 };
	struct buf *envs;
	int ep;

	parse(argc, argv, &bs.o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (custos_init() != 0 || access(bs.o.collector, X_OK) != 0)
		bs_fail("%s: not an executable (--collector)", bs.o.collector);
	pin(1);
	printf("CPUs: %d (%s)\n", ncpus(), ncpus() > 1 ? "serve and the baselines on CPU 0, the "
	       "agents and this process on CPU 1" : "one: nothing pinned");
	loadavg("at start");
	raise_nofile(bs.o.agents);
	snprintf(bs.work, sizeof(bs.work), "%s/custos-bench-serve.XXXXXX", bs.o.dir ? bs.o.dir
		 : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(bs.work))
		bs_fail("%s: %s", bs.work, strerror(errno));
	for (int k = 0; k < 3; k++)
		snprintf(dirs[k], sizeof(dirs[k]), "%s/%s", bs.work, names[k]);
	snprintf(file, sizeof(file), "%s/batches.lp", bs.work);
	snprintf(bs.log, sizeof(bs.log), "%s/serve.log", bs.work);
	prepare(dirs);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		bs_fail("epoll_create1: %s", strerror(errno));
	bs_connect_all(ep, start_serve(dirs[0]));
	bs_run_load(ep, &t);
	for (uint64_t a = 0; a < bs.o.agents; a++)
		close(bs.ag[a].fd);
	stop_serve();
	free(in_order(bs.imp, file));
	bs_import(dirs[1], file, &imp);
	envs = in_order(bs.inproc, NULL);
	bs_inproc(dirs[2], envs, bs.o.agents * bs.o.batches, &inp);
	free(envs);
	report(&imp, &inp, &t);
	loadavg("at end");
	if (!bs.o.keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bs.work);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_serve: could not remove %s\n", bs.work);
	} else {
		printf("work directory kept: %s\n", bs.work);
	}
	return 0;
}
