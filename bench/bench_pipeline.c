/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_pipeline: events per second through the agent's pipeline after
 * decode (batcher: CBOR encode, zlib, sign, seal; spool: write, fsync,
 * rename) on one thread, and sealed bytes per event, for a synthetic mix
 * shaped like the e2e floods: per 20 events, 5 fork, 5 exit, 5 exec (with
 * argv and cwd), 4 open, 1 connect; pids, times and paths vary.
 *
 *   bench_pipeline [EVENTS [SPOOL_DIR]]   (default 1000000, a temp dir)
 *
 * Run it pinned to one core (taskset -c 0). The spool is emptied as it
 * goes (every batch "acknowledged" at once) so that the bound never
 * drops anything. Decode, the ring buffer and hashing are not included:
 * their costs are measured by the capture benchmarks. The baseline in the
 * same run: the same events only made and CBOR-encoded (no zlib, no
 * signature, no seal, no spool); the ratio says what the rest costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batcher.h"
#include "compress.h"
#include "error.h"
#include "keys.h"
#include "record.h"
#include "spool.h"

static void subject(struct custos_record *r, uint64_t i)
{
	r->subj.pid = 1000 + i % 5000;
	r->subj.tid = r->subj.pid;
	r->subj.ppid = 900 + i % 50;
	r->subj.loginuid = 1000;
	r->subj.sessionid = 3;
	record_set_bytes(r->subj.comm, &r->subj.comm_len, CUSTOS_COMM_MAX, "bash");
	r->subj.cgroup_id = 0x1234;
	r->subj.pidns = 4026531836ull;
	r->subj.mntns = 4026531841ull;
}

static void make_event(struct custos_record *r, uint64_t i, uint64_t ts)
{
	static const char argv[] = "/usr/bin/grep\0-r\0needle\0/var/log\0";
	char path[64];
	unsigned k = (unsigned)(i % 20);

	memset(r, 0, sizeof(*r));
	r->ts_ns = ts;
	subject(r, i);
	if (k < 5) {
		r->kind = CUSTOS_REC_FORK;
		r->u.fork.child_pid = r->u.fork.child_tid = r->subj.pid + 1;
		r->u.fork.clone_flags = 0x1200011;
		r->u.fork.child_start_ns = ts;
	} else if (k < 10) {
		r->kind = CUSTOS_REC_EXIT;
		r->u.exit.start_ns = ts - 1000000;
	} else if (k < 15) {
		r->kind = CUSTOS_REC_EXEC;
		record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX, "grep");
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, "/usr/bin/grep");
		memcpy(r->u.exec.argv, argv, sizeof(argv) - 1);
		r->u.exec.argv_len = sizeof(argv) - 1;
		r->u.exec.argc = r->u.exec.argv_count = 4;
		record_set_bytes(r->u.exec.cwd, &r->u.exec.cwd_len, CUSTOS_PATH_MAX, "/home/alice");
		r->u.exec.exe_dev = 0x801;
		r->u.exec.exe_ino = 131075;
		r->u.exec.exe_mode = 0100755;
		r->u.exec.start_ns = ts - 500;
		r->u.exec.hash_status = CUSTOS_HASH_OK;
		memset(r->u.exec.sha256, 0x5a, CUSTOS_HASH_LEN);
		memset(r->u.exec.build_id, 0xb1, 20);
		r->u.exec.build_id_len = 20;
	} else if (k < 19) {
		r->kind = CUSTOS_REC_OPEN;
		snprintf(path, sizeof(path), "/var/log/app/%llu.log", (unsigned long long)(i % 97));
		record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, path);
		record_set_bytes(r->u.file.path_raw, &r->u.file.path_raw_len, CUSTOS_PATH_MAX, path);
		r->u.file.flags = 0101;
		r->u.file.mode = 0644;
		r->u.file.result = 3;
	} else {
		r->kind = CUSTOS_REC_CONNECT;
		r->u.net.family = 2;
		r->u.net.sock_type = 1;
		r->u.net.protocol = 6;
		r->u.net.remote_addr_len = 4;
		memcpy(r->u.net.remote_addr, "\x0a\x00\x00\x07", 4);
		r->u.net.remote_port = 443;
	}
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The baseline: the same events made and CBOR-encoded into batches of
 * the same size, nothing else. Returns the seconds it took. */
static double encode_only(struct custos_record *r, uint64_t n)
{
	struct batch_builder bb;
	double t0 = now_s();

	batch_builder_init(&bb);
	for (uint64_t i = 0; i < n; i++) {
		make_event(r, i, 1000000000ull + i * 1000);
		if (bb.raw.len >= (1u << 20)) {
			buf_reset(&bb.raw);
			bb.count = 0;
		}
		if (batch_builder_add(&bb, r))
			exit(1);
	}
	t0 = now_s() - t0;
	batch_builder_free(&bb);
	return t0;
}

/* Acknowledge (delete) everything spooled; returns the sealed bytes seen. */
static uint64_t drain(struct spool *sp)
{
	struct spool_entry e;
	uint64_t bytes = 0;

	while (spool_next(sp, 0, &e) == 1) {
		bytes += e.size;
		if (spool_ack(sp, e.seq, e.hash, (const uint8_t *)"bench", 5))
			exit(1);
	}
	return bytes;
}

int main(int argc, char **argv)
{
	struct custos_keypair host, coll;
	struct batcher_opts o = { 0 };
	struct custos_record *r = malloc(sizeof(*r));
	char dir[256] = "/tmp/custos-bench.XXXXXX", err[256], cmd[300];
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000, wire = 0, raw = 0;
	struct spool *sp;
	struct batcher b;
	double t0, t1, te;

	if (!r || custos_init() || !n)
		return 1;
	if (argc > 2)
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	else if (!mkdtemp(dir))
		return 1;
	keys_generate(&host);
	keys_generate(&coll);
	if (spool_open(dir, 1ull << 34, &sp, err, sizeof(err))) {
		fprintf(stderr, "bench_pipeline: %s\n", err);
		return 1;
	}
	o.max_bytes = 1u << 20;
	o.max_delay_ns = 1000000000ull;
	o.host = &host;
	o.collector = &coll.pub;
	o.spool = sp;
	if (batcher_init(&b, &o))
		return 1;
	te = encode_only(r, n);
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		make_event(r, i, 1000000000ull + i * 1000);
		if (batcher_add(&b, r, 0))
			return 1;
		if (b.batches && i % 4096 == 0)
			wire += drain(sp);
	}
	if (batcher_flush(&b))
		return 1;
	t1 = now_s();
	wire += drain(sp);
	for (uint64_t i = 0; i < 20; i++) {	/* raw CBOR size of one mix */
		struct buf one;

		buf_init(&one, 1 << 20);
		make_event(r, i, 1000000000ull + i * 1000);
		record_encode(&one, r);
		raw += one.len;
		buf_free(&one);
	}
	printf("encode only (baseline): %.0f events/s\n", (double)n / te);
	printf("events: %llu in %.3f s: %.0f events/s on one thread (%.2f x the encode-only "
	       "time; zlib level %d)\n", (unsigned long long)n, t1 - t0, (double)n / (t1 - t0),
	       (t1 - t0) / te, COMPRESS_LEVEL);
	printf("batches: %llu; sealed bytes on the wire: %llu, %.1f per event (CBOR %.1f before "
	       "zlib)\n", (unsigned long long)b.batches, (unsigned long long)wire,
	       (double)wire / (double)n, (double)raw / 20.0);
	batcher_free(&b);
	spool_close(sp);
	if (argc <= 2) {	/* our temporary spool: remove it (mkdtemp: no quotes) */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_pipeline: could not remove %s\n", dir);
	}
	free(r);
	return 0;
}
