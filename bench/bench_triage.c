/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_triage: what triage costs per record, on one thread. Synthetic
 * records (built and encoded with libcustos, shaped like a busy server:
 * per 20 records 5 exec, 5 fork, 2 exit, 4 write-opens, 3 connects of
 * which one refused, 1 accept; pids, images, paths and ports vary) are
 * decoded with no rules (the baseline), then decoded and triaged with
 * each rule set: our pack alone, SigmaHQ's linux rules alone, both.
 * Alerts go to a throw-away SQLite index in transactions of 1000
 * records, as serve writes a batch's, and each 1000 records are triaged
 * between triage_begin and triage_commit with their undo journal, as
 * ingest triages a batch (triage.h invariant 4). Prints records per second, rule
 * evaluations per second (records x rules loaded) and the throughput
 * ratio against the baseline measured in the same run, then the same by
 * this thread's CPU time (steadier on a shared machine) and triage's CPU
 * time per record with decoding's taken off.
 *
 *   bench_triage [--sigma DIR] [--rules DIR] [RECORDS]
 *       (defaults ../shared/sigma, collector/rules, 200000)
 *
 * The SigmaHQ rules are read where they are (never copied): the combined
 * set is a temporary directory of two symbolic links.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cbor_io.h"
#include "corr.h"
#include "error.h"
#include "record.h"
#include "sigma.h"
#include "store.h"
#include "triage.h"

static const char *const images[] = {
	"/usr/bin/grep", "/usr/bin/bash", "/usr/sbin/nginx", "/usr/bin/python3.11",
	"/usr/bin/curl", "/usr/lib/postgresql/15/bin/postgres", "/usr/bin/tar", "/usr/bin/ls" };

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* This thread's CPU time: on a shared machine it moves less than the wall
 * clock (other work and the index's fsyncs are not in it). */
static double cpu_now(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void make_record(struct custos_record *r, uint64_t i)
{
	static const char argv[] = "-r\0needle\0/var/log\0";
	const char *img = images[i % 8];
	unsigned k = (unsigned)(i % 20);
	char path[64], args[256];
	size_t n;

	memset(r, 0, sizeof(*r));
	r->ts_ns = 1000000000ull + i * 50000;	/* 20,000 records per second of record time */
	r->subj.pid = 1000 + i % 5000;
	r->subj.tid = r->subj.pid;
	r->subj.ppid = 900 + i % 50;
	r->subj.uid = i % 3 ? 33 : 0;
	r->subj.loginuid = 4294967295u;
	r->subj.sessionid = 4294967295u;
	record_set_bytes(r->subj.comm, &r->subj.comm_len, CUSTOS_COMM_MAX, "worker");
	if (k < 5) {
		r->kind = CUSTOS_REC_EXEC;
		record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX, img);
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, img);
		n = (size_t)snprintf(args, sizeof(args), "%s", img) + 1;
		memcpy(args + n, argv, sizeof(argv) - 1);
		memcpy(r->u.exec.argv, args, n + sizeof(argv) - 1);
		r->u.exec.argv_len = (uint32_t)(n + sizeof(argv) - 1);
		r->u.exec.argc = r->u.exec.argv_count = 4;
		record_set_bytes(r->u.exec.cwd, &r->u.exec.cwd_len, CUSTOS_PATH_MAX, "/srv/app");
	} else if (k < 10) {
		r->kind = CUSTOS_REC_FORK;
		r->u.fork.child_pid = r->u.fork.child_tid = 1000 + (i + 7) % 5000;
	} else if (k < 12) {
		r->kind = CUSTOS_REC_EXIT;
	} else if (k < 16) {
		r->kind = CUSTOS_REC_OPEN;
		snprintf(path, sizeof(path), "/var/lib/app/data/%llu.tmp", (unsigned long long)(i % 977));
		record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, path);
		r->u.file.flags = O_WRONLY | O_CREAT | O_TRUNC;
		r->u.file.result = 5;
	} else {
		r->kind = k == 19 ? CUSTOS_REC_ACCEPT : CUSTOS_REC_CONNECT;
		r->u.net.family = AF_INET;
		r->u.net.sock_type = SOCK_STREAM;
		r->u.net.result = k == 18 ? -ECONNREFUSED : 0;
		r->u.net.local_addr_len = r->u.net.remote_addr_len = 4;
		inet_pton(AF_INET, "10.1.2.3", r->u.net.local_addr);
		snprintf(path, sizeof(path), "10.9.%u.%u", (unsigned)(i / 256 % 256),
			 (unsigned)(i % 256));
		inet_pton(AF_INET, path, r->u.net.remote_addr);
		r->u.net.local_port = 40000 + i % 20000;
		r->u.net.remote_port = (uint64_t[]){ 443, 5432, 80, 53 }[i % 4];
	}
}

/* Decode every record of enc; with t, triage each into s. Returns the
 * seconds taken, or a negative value on error. OUT: *cpu, the CPU
 * seconds. */
static double run(const struct buf *enc, uint64_t count, struct triage *t, struct store *s,
		  struct custos_record *rec, uint64_t *alerts, double *cpu)
{
	struct batch_header h;
	uint8_t hash[CUSTOS_HASH_LEN] = { 1 };
	struct cbr r;
	double t0 = now(), c0 = cpu_now();

	memset(&h, 0, sizeof(h));
	memset(h.host_id, 0x11, sizeof(h.host_id));
	h.clock_offset_ns = 1700000000ll * 1000000000ll;
	cbr_init(&r, enc->data, enc->len);
	for (uint64_t i = 0; i < count; i++) {
		if (record_decode(&r, rec))
			return -1;
		if (!t)
			continue;
		if (i % 1000 == 0) {
			if (store_begin(s))
				return -1;
			triage_begin(t);	/* as ingest runs a batch (triage.h invariant 4) */
		}
		if (triage_record(t, s, &h, hash, i / 1000, (uint32_t)(i % 1000), rec, alerts))
			return -1;
		if (i % 1000 == 999 || i + 1 == count) {
			if (store_commit(s))
				return -1;
			triage_commit(t);
		}
	}
	*cpu = cpu_now() - c0;
	return now() - t0;
}

static unsigned count_rules(const char *dir)
{
	struct sigma_set ss;
	struct corr_set cs;
	unsigned n;

	memset(&ss, 0, sizeof(ss));
	memset(&cs, 0, sizeof(cs));
	if (corr_rules_load_dir(dir, &ss, NULL, &cs, NULL, NULL))
		n = 0;
	else
		n = (unsigned)(ss.n + cs.n);
	sigma_set_free(&ss);
	corr_set_free(&cs);
	return n;
}

static int bench_set(const char *label, const char *dir, const char *tmp, const struct buf *enc,
		     uint64_t count, double base, double base_cpu, struct custos_record *rec)
{
	char path[512];
	struct triage *t = NULL;
	struct store *s = NULL;
	uint64_t alerts = 0;
	unsigned rules = count_rules(dir);
	double secs, cpu;

	snprintf(path, sizeof(path), "%s/%s.sqlite", tmp, label);
	if (triage_open(dir, &t) || store_open(path, 0, &s)) {
		fprintf(stderr, "bench_triage: %s: cannot open the rules or the index\n", dir);
		triage_close(t);
		return -1;
	}
	secs = run(enc, count, t, s, rec, &alerts, &cpu);
	store_close(s);
	triage_close(t);
	if (secs <= 0 || cpu <= 0)
		return -1;
	printf("%-22s %4u rules %11.0f records/s %13.0f rule evaluations/s %6.3fx of decode"
	       " (%llu alerts)\n", label, rules, (double)count / secs,
	       (double)count * rules / secs, (double)count / secs / base,
	       (unsigned long long)alerts);
	printf("%-22s            %11.0f records per CPU second; triage %.3f us per record "
	       "(CPU, decoding's taken off)\n", "", (double)count / cpu,
	       1e6 * (cpu - base_cpu) / (double)count);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sigma = "../shared/sigma", *rules = "collector/rules";
	char tmp[] = "/tmp/custos-bench-triage-XXXXXX", both[600], link_a[700], link_b[700];
	char abs_sigma[4096], abs_rules[4096];
	struct custos_record *rec = malloc(sizeof(*rec));
	uint64_t count = 200000, alerts = 0;
	struct buf enc;
	double secs, base, base_cpu;
	int i = 1, ret = 1;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--sigma") == 0)
			sigma = argv[i + 1];
		else if (strcmp(argv[i], "--rules") == 0)
			rules = argv[i + 1];
		else
			break;
	}
	if (i < argc)
		count = strtoull(argv[i++], NULL, 10);
	if (i != argc || count == 0 || !rec) {
		fprintf(stderr, "Usage: bench_triage [--sigma DIR] [--rules DIR] [RECORDS]\n");
		return 2;
	}
	if (!realpath(sigma, abs_sigma) || !realpath(rules, abs_rules) || !mkdtemp(tmp)) {
		fprintf(stderr, "bench_triage: %s or %s: %s\n", sigma, rules, strerror(errno));
		return 1;
	}
	snprintf(both, sizeof(both), "%s/both", tmp);
	snprintf(link_a, sizeof(link_a), "%s/sigmahq", both);
	snprintf(link_b, sizeof(link_b), "%s/custos", both);
	buf_init(&enc, (size_t)-1);
	for (uint64_t k = 0; k < count; k++) {
		make_record(rec, k);
		if (record_encode(&enc, rec))
			goto out;
	}
	secs = run(&enc, count, NULL, NULL, rec, &alerts, &base_cpu);
	if (secs <= 0 || base_cpu <= 0)
		goto out;
	base = (double)count / secs;
	printf("bench_triage: %llu records (%zu bytes of CBOR)\n", (unsigned long long)count,
	       enc.len);
	printf("%-22s %4u rules %11.0f records/s (%.0f per CPU second)\n",
	       "decode only (baseline)", 0u, base, (double)count / base_cpu);
	if (mkdir(both, 0700) || symlink(abs_sigma, link_a) || symlink(abs_rules, link_b))
		goto out;
	if (bench_set("custos pack", abs_rules, tmp, &enc, count, base, base_cpu, rec) ||
	    bench_set("sigmahq linux", abs_sigma, tmp, &enc, count, base, base_cpu, rec) ||
	    bench_set("sigmahq + custos pack", both, tmp, &enc, count, base, base_cpu, rec))
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench_triage: failed\n");
	unlink(link_a);
	unlink(link_b);
	rmdir(both);
	snprintf(both, sizeof(both), "rm -rf '%s'", tmp);
	if (system(both) != 0)
		ret = 1;
	buf_free(&enc);
	free(rec);
	return ret;
}
