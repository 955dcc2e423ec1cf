/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_capture: what the capture costs the processes it watches (issue
 * 3's benchmark). Three workloads, each a C timing loop in a process
 * forked for the measurement:
 *   open     open("/etc/hostname", O_RDONLY) + read 64 bytes + close
 *   exec     fork + execve("/bin/true") + waitpid
 *   connect  TCP connect to a listener on 127.0.0.1 + accept + two closes
 * under each condition:
 *   none       nothing attached
 *   floor      an empty program on every hook Custos uses (bench_floor.c)
 *   floor-open an empty program on the open family's exits alone: what
 *              any capture of opens by syscall tracepoints costs
 *   custos     `custos-agent print` (default configuration, JSON lines to
 *              /dev/null): write-intent opens and sensitive reads
 *   all-opens  the same with `--all-opens`: every open that succeeded or
 *              was refused is recorded, on every mount
 *   before     optional (--before AGENT): another agent build, default
 *              configuration, to compare a change in one run
 *   before-all optional (--before-sensitive AGENT): another build with
 *              `--sensitive /` (every open of a file on the root file
 *              system: how builds without --all-opens recorded every open)
 *   auditd     auditd (Debian's) running exec, open and network rules
 * Conditions are run in turn, all of them once per round; the report gives
 * medians over the rounds and ratios of the medians against "none". On a
 * machine with two CPUs or more the workload runs on CPU 0 and the agent
 * or auditd on CPU 1, so that a busy consumer is not counted as the
 * workload's own cost (kauditd, a kernel thread, is not pinned).
 *
 * Audit state: once audit has been enabled in a boot, every new process
 * gets an audit context that costs each system call even with audit off.
 * So whenever auditctl exists, the benchmark loads the single rule
 * `-a never,task` (no audit context for new tasks) for every condition
 * but auditd, and loads it again when the auditd condition ends: each
 * workload process starts without an audit context, whatever the boot's
 * history. The rule is left loaded at exit, on purpose: the next run, and
 * anything measured after it in this boot, starts in the same state
 * (`auditctl -D` removes it).
 *
 * Nothing it starts outlives it: SIGINT, SIGTERM and SIGHUP only set a
 * flag (stop_requested); the measurement under way fails (its read is
 * interrupted, its workload process killed) and every exit goes through
 * the one cleanup in main, which stops the running condition (the agent,
 * auditd: bench_run.c) and restores the audit state. An auditd left by a
 * run killed with SIGKILL is stopped by the next run (bench_run.c's pid
 * file).
 */
#include <arpa/inet.h>
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_floor.h"
#include "bench_run.h"

enum { W_OPEN, W_EXEC, W_CONNECT, W_COUNT };
static const char *const workload_names[W_COUNT] = { "open+read+close", "fork+exec true",
						     "connect+accept" };

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	stop_requested = sig;
}

/* No SA_RESTART: a blocking read or waitpid returns EINTR. */
static int install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int loop_open(uint64_t n)
{
	char buf[64];

	for (uint64_t i = 0; i < n; i++) {
		int fd = open("/etc/hostname", O_RDONLY);

		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

static int loop_exec(uint64_t n)
{
	static char *const argv[] = { "true", NULL };
	static char *const envp[] = { NULL };

	for (uint64_t i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			execve("/bin/true", argv, envp);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			return -1;
	}
	return 0;
}

static int loop_connect(uint64_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 64) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), a;

		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return -1;
		a = accept(l, NULL, NULL);
		if (a < 0)
			return -1;
		close(a);
		close(c);
	}
	close(l);
	return 0;
}

static int run_loop(int w, uint64_t n)
{
	return w == W_OPEN ? loop_open(n) : w == W_EXEC ? loop_exec(n) : loop_connect(n);
}

/* Time n operations of workload w in a new process (warm-up n/10 first).
 * Returns ns per operation, or a negative value on failure. */
static double measure(int w, uint64_t n)
{
	int pfd[2];
	double ns = -1;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		uint64_t t0;
		double r = -1;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		close(pfd[0]);
		bench_pin(BENCH_CPU_WORKLOAD);
		if (run_loop(w, n / 10 + 1) == 0) {
			t0 = now_ns();
			if (run_loop(w, n) == 0)
				r = (double)(now_ns() - t0) / (double)n;
		}
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (pid > 0 && read(pfd[0], &ns, sizeof(ns)) != sizeof(ns)) {
		ns = -1;
		kill(pid, SIGKILL);	/* interrupted: the loop may still run */
	}
	close(pfd[0]);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return ns < 0 || stop_requested ? -1 : ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char usage[] =
	"Usage: bench_capture [--rounds N] [--open-ops N] [--exec-ops N] [--connect-ops N]\n"
	"                     [--agent PATH] [--before PATH] [--before-sensitive PATH]\n"
	"                     [--no-auditd] [--only LIST]\n"
	"  --rounds N       rounds over all conditions (default 5); medians are reported\n"
	"  --open-ops N     operations per measurement (default 200000; exec 2000,\n"
	"  --exec-ops N     connect 20000)\n"
	"  --connect-ops N\n"
	"  --agent PATH     the agent to measure (default build/custos-agent)\n"
	"  --before PATH    also measure this agent build, default configuration\n"
	"  --before-sensitive PATH  also measure this agent build with --sensitive /\n"
	"  --no-auditd      leave out the auditd condition\n"
	"  --only LIST      comma-separated workloads: open,exec,connect\n";

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out == 0 || *out > 100000000 ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (strcmp(a, "--no-auditd") == 0) {
			o->auditd = false;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (strcmp(a, "--agent") == 0)
			o->agent = v;
		else if (strcmp(a, "--before") == 0)
			o->before = v;
		else if (strcmp(a, "--before-sensitive") == 0)
			o->before_sensitive = v;
		else if (strcmp(a, "--only") == 0) {
			o->want[W_OPEN] = strstr(v, "open") != NULL;
			o->want[W_EXEC] = strstr(v, "exec") != NULL;
			o->want[W_CONNECT] = strstr(v, "connect") != NULL;
		} else if (parse_u64(v, &n))
			return -1;
		else if (strcmp(a, "--rounds") == 0 && n <= BENCH_ROUNDS_MAX)
			o->rounds = (int)n;
		else if (strcmp(a, "--open-ops") == 0)
			o->ops[W_OPEN] = n;
		else if (strcmp(a, "--exec-ops") == 0)
			o->ops[W_EXEC] = n;
		else if (strcmp(a, "--connect-ops") == 0)
			o->ops[W_CONNECT] = n;
		else
			return -1;
	}
	return 0;
}

static double best(const double *v, int n)
{
	double b = v[0];

	for (int i = 1; i < n; i++)
		if (v[i] < b)
			b = v[i];
	return b;
}

/* One table: the median (median != 0) or the best of the rounds of each
 * condition and workload, with its ratio to the same statistic of none. */
static void table(const struct bench_opts *o, struct bench_cond *conds, int n_conds, bool med)
{
	double base[W_COUNT] = { 0 };

	printf("\n%s of %d rounds, ns per operation (ratio to none in the same run)\n",
	       med ? "medians" : "best", o->rounds);
	printf("%-10s", "condition");
	for (int w = 0; w < W_COUNT; w++)
		if (o->want[w])
			printf(" %26s", workload_names[w]);
	printf("\n");
	for (int c = 0; c < n_conds; c++) {
		if (!conds[c].ran)
			continue;
		printf("%-10s", conds[c].name);
		for (int w = 0; w < W_COUNT; w++) {
			double v[BENCH_ROUNDS_MAX], m;

			if (!o->want[w])
				continue;
			memcpy(v, conds[c].ns[w], sizeof(v));
			m = med ? median(v, o->rounds) : best(v, o->rounds);
			if (c == 0)
				base[w] = m;
			printf(" %16.0f (%6.2fx)", m, m / base[w]);
		}
		printf("\n");
	}
}

static void report(const struct bench_opts *o, struct bench_cond *conds, int n_conds)
{
	table(o, conds, n_conds, true);
	table(o, conds, n_conds, false);
	for (int c = 0; c < n_conds; c++)
		if (conds[c].ran && conds[c].note[0])
			printf("%s: %s\n", conds[c].name, conds[c].note);
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.rounds = 5,
		.ops = { 200000, 2000, 20000 },
		.want = { true, true, true },
		.agent = "build/custos-agent",
		.auditd = true,
	};
	struct bench_cond conds[BENCH_COND_MAX];
	int n_conds, ret = 1, running = -1;

	if (parse_args(argc, argv, &o) || o.rounds < 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_capture: needs root (eBPF programs, auditctl)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (install_handlers()) {
		perror("bench_capture: sigaction");
		return 1;
	}
	n_conds = bench_conditions(&o, conds);
	if (bench_audit_prepare(&o))
		goto out;
	for (int r = 0; r < o.rounds; r++) {
		for (int c = 0; c < n_conds; c++) {
			if (stop_requested || bench_cond_start(&o, &conds[c]))
				goto out;
			running = c;
			for (int w = 0; w < W_COUNT; w++) {
				double ns = o.want[w] ? measure(w, o.ops[w]) : 0;

				if (ns < 0) {
					fprintf(stderr, "bench_capture: %s under %s %s\n",
						workload_names[w], conds[c].name,
						stop_requested ? "interrupted" : "failed");
					goto out;
				}
				conds[c].ns[w][r] = ns;
			}
			running = -1;
			if (bench_cond_stop(&o, &conds[c]))
				goto out;
			conds[c].ran = true;
			fprintf(stderr, "round %d %-10s", r + 1, conds[c].name);
			for (int w = 0; w < W_COUNT; w++)
				if (o.want[w])
					fprintf(stderr, " %10.0f", conds[c].ns[w][r]);
			fprintf(stderr, "\n");
		}
	}
	report(&o, conds, n_conds);
	ret = 0;
out:
	if (running >= 0)
		bench_cond_stop(&o, &conds[running]);
	bench_audit_finish(&o);
	if (stop_requested)
		fprintf(stderr, "bench_capture: stopped by signal %d; conditions stopped, audit "
			"state restored\n", (int)stop_requested);
	return ret;
}
