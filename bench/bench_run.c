/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capture benchmark's conditions (bench_run.h): the floor's empty
 * programs, an agent started with `print` (JSON lines to /dev/null) and
 * waited for until it says it is capturing, and auditd (Debian's, run in
 * the foreground by the benchmark) with rules equivalent to the capture
 * with every open recorded: execve/execveat, open/openat/openat2/creat,
 * connect/accept/accept4/bind/listen, all 64-bit calls. Audit is touched
 * only when no auditd is already running on the host.
 *
 * The auditd it starts never outlives it: every exit path of
 * bench_capture stops the running condition (bench_capture.c: SIGINT,
 * SIGTERM and SIGHUP only set a flag; a failed start kills what it
 * spawned). If bench_capture is killed with SIGKILL, the agent or auditd
 * gets SIGTERM from the kernel (PR_SET_PDEATHSIG); should that auditd
 * survive anyway, the pid file BENCH_AUDITD_PIDFILE names
 * the auditd and its configuration directory, so that the next run stops
 * it first: only when /proc/PID/cmdline is exactly the command line this
 * file starts, so a reused pid or the host's own auditd is never touched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_floor.h"
#include "bench_run.h"

/* auditd runs with a configuration of its own (Debian's defaults, the
 * log in the benchmark's directory and never rotated), so the bytes it
 * writes per operation can be measured and the host's log is untouched. */
static const char auditd_conf[] =
	"local_events = yes\nwrite_logs = yes\nlog_file = %s/audit.log\nlog_format = ENRICHED\n"
	"flush = INCREMENTAL_ASYNC\nfreq = 50\nmax_log_file = 8\nnum_logs = 5\n"
	"priority_boost = 4\nname_format = NONE\nmax_log_file_action = IGNORE\n"
	"space_left = 75\nspace_left_action = SYSLOG\nadmin_space_left = 50\n"
	"admin_space_left_action = SUSPEND\ndisk_full_action = SUSPEND\n"
	"disk_error_action = SUSPEND\nq_depth = 2000\noverflow_action = SYSLOG\n"
	"plugin_dir = %s/plugins.d\nend_of_event_timeout = 2\n";
static char audit_dir[64];

#define BENCH_AUDITD_PIDFILE "/run/custos-bench-auditd.pid"
#define AUDIT_DIR_PREFIX "/tmp/custos-bench-audit."
#define AUDITD "/usr/sbin/auditd"

static const char *const audit_rules[] = {
	"-a always,exit -F arch=b64 -S execve,execveat -k custos-bench",
	"-a always,exit -F arch=b64 -S open,openat,openat2,creat -k custos-bench",
	"-a always,exit -F arch=b64 -S connect,accept,accept4,bind,listen -k custos-bench",
};

int bench_conditions(struct bench_opts *o, struct bench_cond conds[BENCH_COND_MAX])
{
	int n = 0;

	memset(conds, 0, BENCH_COND_MAX * sizeof(conds[0]));
	conds[n++] = (struct bench_cond){ .name = "none", .kind = BENCH_NONE };
	conds[n++] = (struct bench_cond){ .name = "floor", .kind = BENCH_FLOOR };
	conds[n++] = (struct bench_cond){ .name = "floor-open", .kind = BENCH_FLOOR_OPEN };
	conds[n++] = (struct bench_cond){ .name = "custos", .kind = BENCH_AGENT, .agent = o->agent };
	conds[n++] = (struct bench_cond){ .name = "all-opens", .kind = BENCH_AGENT,
					  .agent = o->agent, .extra = "--all-opens" };
	if (o->before)
		conds[n++] = (struct bench_cond){ .name = "before", .kind = BENCH_AGENT,
						  .agent = o->before };
	if (o->before_sensitive)
		conds[n++] = (struct bench_cond){ .name = "before-all", .kind = BENCH_AGENT,
						  .agent = o->before_sensitive,
						  .extra = "--sensitive", .extra_arg = "/" };
	if (o->auditd)
		conds[n++] = (struct bench_cond){ .name = "auditd", .kind = BENCH_AUDITD };
	return n;
}

/* Run a command line through the shell, quietly. Returns its exit status
 * or -1. */
static int sh(const char *cmd)
{
	char line[512];
	int st;

	snprintf(line, sizeof(line), "%s >/dev/null 2>&1", cmd);
	st = system(line);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int audit_state(const char *why)
{
	if (sh("auditctl -D") || sh("auditctl -a never,task") || sh("auditctl -e 0")) {
		fprintf(stderr, "bench_capture: auditctl failed %s\n", why);
		return -1;
	}
	return 0;
}

/* Wait up to timeout_ms for pid (our child when child) to end, then
 * SIGKILL it. */
static void reap(pid_t pid, bool child, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 50; i++) {
		if (child ? waitpid(pid, NULL, WNOHANG) == pid : kill(pid, 0) != 0)
			return;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	if (child)
		waitpid(pid, NULL, 0);
}

/* Is pid running exactly `auditd -n -c dir` with dir one of ours? */
static bool is_our_auditd(pid_t pid, const char *dir)
{
	char path[64], cmd[256], want[256];
	size_t wn;
	ssize_t n;
	int fd;

	if (strncmp(dir, AUDIT_DIR_PREFIX, strlen(AUDIT_DIR_PREFIX)) != 0 || strchr(dir, '\''))
		return false;
	wn = (size_t)snprintf(want, sizeof(want), AUDITD "%c-n%c-c%c%s%c", 0, 0, 0, dir, 0);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd));
	close(fd);
	return n == (ssize_t)wn && memcmp(cmd, want, wn) == 0;
}

/* An auditd a killed earlier run left: stop it, remove its directory and
 * the pid file. */
static void stop_leftover_auditd(void)
{
	char dir[128] = "", cmd[192];
	FILE *f = fopen(BENCH_AUDITD_PIDFILE, "r");
	int pid = 0;

	if (!f)
		return;
	if (fscanf(f, "%d %127s", &pid, dir) == 2 && pid > 1 && is_our_auditd(pid, dir)) {
		printf("bench_capture: stopping auditd %d left by an earlier run (%s)\n", pid,
		       BENCH_AUDITD_PIDFILE);
		kill(pid, SIGTERM);
		reap(pid, false, 10000);
	}
	fclose(f);
	if (strncmp(dir, AUDIT_DIR_PREFIX, strlen(AUDIT_DIR_PREFIX)) == 0 && !strchr(dir, '\'')) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		sh(cmd);
	}
	unlink(BENCH_AUDITD_PIDFILE);
}

int bench_audit_prepare(struct bench_opts *o)
{
	stop_leftover_auditd();
	if (sh("command -v auditctl")) {
		printf("audit state: auditctl not installed; audit untouched (if audit ran in this "
		       "boot, every condition carries its per-process context)\n");
		if (o->auditd)
			printf("auditd: not installed (apt-get install auditd), condition left out\n");
		o->auditd = false;
		return 0;
	}
	if (sh("auditctl -s | grep -q '^pid [1-9]'") == 0) {
		printf("audit state: an auditd is already running; audit untouched, auditd "
		       "condition left out\n");
		o->auditd = false;
		return 0;
	}
	o->audit_state = true;
	if (o->auditd) {
		char path[128];
		FILE *f;

		snprintf(audit_dir, sizeof(audit_dir), "/tmp/custos-bench-audit.XXXXXX");
		if (!mkdtemp(audit_dir))
			return -1;
		snprintf(path, sizeof(path), "%s/plugins.d", audit_dir);
		mkdir(path, 0750);
		snprintf(path, sizeof(path), "%s/auditd.conf", audit_dir);
		f = fopen(path, "w");
		if (!f || fprintf(f, auditd_conf, audit_dir, audit_dir) < 0 || fclose(f)) {
			fprintf(stderr, "bench_capture: writing %s failed\n", path);
			return -1;
		}
		chmod(path, 0640);
	}
	printf("audit state: rule '-a never,task' and audit disabled for every condition but "
	       "auditd: workload processes start without an audit context\n");
	return audit_state("preparing the audit state");
}

void bench_audit_finish(const struct bench_opts *o)
{
	char cmd[128];

	if (o->audit_state)
		audit_state("restoring the audit state");
	if (audit_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", audit_dir);
		sh(cmd);
	}
}

void bench_pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Start argv with stdout on /dev/null, pinned to the consumer CPU; OUT:
 * *err_fd, its stderr. It gets SIGTERM if bench_capture dies, even by
 * SIGKILL (PR_SET_PDEATHSIG). */
static pid_t spawn(char *const argv[], int *err_fd)
{
	pid_t parent = getpid(), pid;
	int pfd[2];

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
			_exit(127);

		dup2(null, 0);
		dup2(null, 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		bench_pin(BENCH_CPU_CONSUMER);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	*err_fd = pfd[0];
	return pid;
}

/* Read fd until a line starting with want, at most timeout_s. Returns 0
 * when seen. Everything read is kept in buf (cut at its end). */
static int wait_line(int fd, const char *want, int timeout_s, char *buf, size_t cap)
{
	size_t used = strlen(buf);
	time_t end = time(NULL) + timeout_s;

	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(fd, buf + used, cap - 1 - used);
		if (n <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = 0;
		if (strstr(buf, want))
			return 0;
		if (used == cap - 1)
			used = 0;	/* keep looking in fresh output */
	}
	return -1;
}

static int agent_start(struct bench_cond *c)
{
	char *argv[] = { (char *)c->agent, "print", (char *)c->extra, (char *)c->extra_arg,
			 NULL };
	char buf[4096] = "";

	c->pid = spawn(argv, &c->err_fd);
	if (c->pid < 0 || wait_line(c->err_fd, "custos-agent: capturing", 120, buf,
				    sizeof(buf))) {
		fprintf(stderr, "bench_capture: %s did not start capturing:\n%s\n", c->agent, buf);
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
			close(c->err_fd);
		}
		return -1;
	}
	return 0;
}

static int agent_stop(struct bench_cond *c)
{
	char buf[8192] = "";
	char *line;
	int st = 0;
	ssize_t n;
	size_t used = 0;

	kill(c->pid, SIGINT);
	while ((n = read(c->err_fd, buf + used, sizeof(buf) - 1 - used)) > 0) {
		used += (size_t)n;
		if (used == sizeof(buf) - 1)
			used = 0;
	}
	buf[used] = 0;
	close(c->err_fd);
	waitpid(c->pid, &st, 0);
	line = strstr(buf, " records printed; lost");
	if (line) {
		char *start = line, *end = strchr(line, '\n');

		while (start > buf && start[-1] != ' ')
			start--;
		snprintf(c->note, sizeof(c->note), "last round: %.*s", (int)(end ? end - start :
									 (long)strlen(start)),
			 start);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench_capture: %s exited with status %d:\n%s\n", c->agent, st, buf);
		return -1;
	}
	return 0;
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static const char *log_path(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/audit.log", audit_dir);
	return buf;
}

/* Stop our auditd (SIGTERM: it flushes its log), SIGKILL after 10 s;
 * forget its pid file. */
static void auditd_kill(struct bench_cond *c)
{
	if (c->pid <= 0)
		return;
	sh("auditctl -e 0");
	kill(c->pid, SIGTERM);
	reap(c->pid, true, 10000);
	close(c->err_fd);
	c->pid = 0;
	unlink(BENCH_AUDITD_PIDFILE);
}

/* Write the pid file before anything can fail; a run killed with SIGKILL
 * leaves it for the next run (stop_leftover_auditd). */
static int auditd_pidfile(pid_t pid)
{
	FILE *f = fopen(BENCH_AUDITD_PIDFILE, "w");

	if (!f || fprintf(f, "%d %s\n", (int)pid, audit_dir) < 0 || fclose(f)) {
		fprintf(stderr, "bench_capture: writing %s failed\n", BENCH_AUDITD_PIDFILE);
		return -1;
	}
	return 0;
}

static int auditd_start(struct bench_cond *c)
{
	char path[128];
	char *argv[] = { AUDITD, "-n", "-c", audit_dir, NULL };
	int i;

	c->pid = spawn(argv, &c->err_fd);
	if (c->pid < 0) {
		fprintf(stderr, "bench_capture: starting auditd failed\n");
		c->pid = 0;
		return -1;
	}
	if (auditd_pidfile(c->pid))
		goto fail;
	for (i = 0; i < 100; i++) {
		if (sh("auditctl -s | grep -q '^pid [1-9]'") == 0)
			break;
		usleep(100000);
	}
	if (i == 100) {
		fprintf(stderr, "bench_capture: auditd did not start\n");
		goto fail;
	}
	if (sh("auditctl -D"))
		goto fail;
	for (size_t r = 0; r < sizeof(audit_rules) / sizeof(audit_rules[0]); r++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "auditctl %s", audit_rules[r]);
		if (sh(cmd)) {
			fprintf(stderr, "bench_capture: %s failed\n", cmd);
			goto fail;
		}
	}
	c->log_start = file_size(log_path(path, sizeof(path)));
	if (sh("auditctl -e 1") == 0)
		return 0;
fail:
	auditd_kill(c);
	return -1;
}

static int auditd_stop(const struct bench_opts *o, struct bench_cond *c)
{
	char path[128];
	long long bytes;
	uint64_t ops = 0;

	auditd_kill(c);		/* its log flushed */
	bytes = file_size(log_path(path, sizeof(path))) - c->log_start;
	/* Hundreds of MB a round: removed now, its dirty pages are dropped
	 * instead of written back while the next conditions are timed. */
	unlink(path);
	for (int w = 0; w < BENCH_WORKLOADS; w++)
		if (o->want[w])
			ops += o->ops[w] + o->ops[w] / 10 + 1;
	snprintf(c->note, sizeof(c->note),
		 "last round: %lld bytes of audit log for %llu operations (warm-up included): "
		 "%.0f bytes per operation", bytes, (unsigned long long)ops,
		 ops ? (double)bytes / (double)ops : 0.0);
	return audit_state("after the auditd condition");
}

int bench_cond_start(const struct bench_opts *o, struct bench_cond *c)
{
	int hooks = 0;

	(void)o;
	switch (c->kind) {
	case BENCH_NONE:
		return 0;
	case BENCH_FLOOR:
	case BENCH_FLOOR_OPEN:
		if (bench_floor_attach(&c->floor, &hooks, c->kind == BENCH_FLOOR ? BENCH_FLOOR_ALL
										: BENCH_FLOOR_OPENS))
			return -1;
		snprintf(c->note, sizeof(c->note), "%d hooks with an empty program", hooks);
		return 0;
	case BENCH_AGENT:
		return agent_start(c);
	case BENCH_AUDITD:
		return auditd_start(c);
	}
	return -1;
}

int bench_cond_stop(const struct bench_opts *o, struct bench_cond *c)
{
	switch (c->kind) {
	case BENCH_NONE:
		return 0;
	case BENCH_FLOOR:
	case BENCH_FLOOR_OPEN:
		bench_floor_detach(c->floor);
		c->floor = NULL;
		return 0;
	case BENCH_AGENT:
		return agent_stop(c);
	case BENCH_AUDITD:
		return auditd_stop(o, c);
	}
	return -1;
}
