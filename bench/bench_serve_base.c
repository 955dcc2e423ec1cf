/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_serve's baselines: the same batches ingested without sockets, on
 * CPU 0, each on a state directory of its own. The first is the same
 * binary's `import` of a file of them; the second ingests them in
 * process, by what serve and import both run (ingest_stage per
 * envelope, ingest_commit every BS_INPROC_GROUP envelopes: import's
 * group; the index group committed at the end, as at shutdown) in a
 * child. Unlike import it reads no file, verifies no ack and prints
 * nothing per batch, so it is what ingest itself costs; serve's CPU
 * against it is what the sockets, epoll and the connections' buffers add.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_serve.h"
#include "error.h"
#include "ingest.h"

#define BS_INPROC_GROUP 64

void bs_import(const char *dir, const char *file, struct bs_run *b)
{
	char out[4200], line[512] = "", want[128];
	char *args[] = { "custos-collector", "import", "--dir", (char *)dir, (char *)file, NULL };
	double cpu[2] = { 0, 0 }, t0;
	int st;
	FILE *f;

	snprintf(out, sizeof(out), "%s/import.out", bs.work);
	t0 = bs_now();
	st = bs_run_coll(args, out, NULL, cpu);
	b->wall = bs_now() - t0;
	b->cpu = cpu[0];
	b->runq = cpu[1];
	f = fopen(out, "re");
	while (f && fgets(line, sizeof(line), f))
		;
	if (f)
		fclose(f);
	snprintf(want, sizeof(want), ": %llu imported, 0 already held, 0 refused\n",
		 (unsigned long long)(bs.o.agents * bs.o.batches));
	if (st != 0 || !strstr(line, want))
		bs_fail("baseline: %s import --dir %s %s: status %d, last line '%s' (wanted '%s')",
		     bs.o.collector, dir, file, st, line, want);
}

/* The child: ingest every envelope; exits 0, or 1 saying which failed. */
static void inproc_child(const char *dir, const struct buf *envs, uint64_t n)
{
	char why[512];
	struct ingest g;
	struct buf ack;
	cpu_set_t set;
	int ret;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1 && sched_setaffinity(0, sizeof(set), &set) != 0)
		_exit(1);
	if (ingest_open(&g, dir, NULL) != 0) {
		fprintf(stderr, "bench_serve: in process: %s does not open\n", dir);
		_exit(1);
	}
	buf_init(&ack, 512);
	for (uint64_t i = 0; i < n; i++) {
		why[0] = '\0';
		buf_reset(&ack);
		ret = ingest_stage(&g, envs[i].data, envs[i].len, &ack, why, sizeof(why));
		if (ret == 0 && ((i + 1) % BS_INPROC_GROUP == 0 || i + 1 == n))
			ret = ingest_commit(&g);
		if (ret != 0) {
			fprintf(stderr, "bench_serve: in process: batch %llu: %s\n",
				(unsigned long long)i, why[0] ? why : custos_strerror(ret));
			_exit(1);
		}
	}
	ret = ingest_flush(&g);
	ingest_close(&g);
	buf_free(&ack);
	_exit(ret ? 1 : 0);
}

void bs_inproc(const char *dir, const struct buf *envs, uint64_t n, struct bs_run *b)
{
	struct rusage ru;
	siginfo_t si;
	double t0 = bs_now();
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bs_fail("fork: %s", strerror(errno));
	if (pid == 0)
		inproc_child(dir, envs, n);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
		b->runq = bs_runq_wait(pid);	/* read before it is reaped */
	if (wait4(pid, &st, 0, &ru) != pid)
		bs_fail("wait for the in-process baseline: %s", strerror(errno));
	b->wall = bs_now() - t0;
	b->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bs_fail("the in-process baseline on %s failed (wait status %d)", dir, st);
}
