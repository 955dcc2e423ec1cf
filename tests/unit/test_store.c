/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the index (collector/indexer.c into collector/store_sqlite.c
 * behind collector/store.h): rows carry wall-clock time (ts + the batch's
 * clock offset) and its quality, stable process ids (boot id, start time,
 * pid; from exec/fork/exit or the process's earlier start), addresses as
 * text; timeline filters (kind, pid, path glob, address, process tree with
 * depths); chain gaps; per-host summary; leaves are indexed once, in
 * order. The process-start cache answers as SQLite does (latest start at
 * or before ts, across reopen, rollback and groups of transactions). An
 * index of an older schema is refused (reindex rebuilds it); catch-up
 * commits in groups and a group's abort leaves nothing. The --tree walk
 * (kids buckets checked against the records) answers exactly for the
 * window, across a bucket boundary. --pid and the process at a time
 * (store_proc_at) walk a pid's time buckets: exact across empty buckets
 * and kids buckets; the process-start cache stays exact when its sets
 * overflow. An auth record's row names its type, account, result,
 * program and address.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>

#include "testutil.h"
#include "collector.h"
#include "indexer.h"
#include "store.h"
#include "store_sqlite_impl.h"

#define OFFSET 1763769600000000000ll

static char path[64];

static void rec(struct batch_builder *b, uint64_t kind, uint64_t ts, uint64_t pid, uint64_t ppid)
{
	struct custos_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	r->ts_ns = ts;
	if (kind < 96) {
		tu_subject(&r->subj, pid);
		r->subj.ppid = ppid;
	}
	switch (kind) {
	case CUSTOS_REC_EXEC:
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, "/usr/bin/sh");
		r->u.exec.start_ns = pid * 10;
		r->u.exec.hash_status = CUSTOS_HASH_PENDING;
		break;
	case CUSTOS_REC_FORK:
		r->u.fork.child_pid = 200;
		r->u.fork.child_start_ns = 2000;
		break;
	case CUSTOS_REC_OPEN:
		record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, "/etc/passwd");
		break;
	case CUSTOS_REC_CONNECT:
		r->u.net.family = 10;
		memcpy(r->u.net.remote_addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		r->u.net.remote_addr_len = 16;
		r->u.net.remote_port = 22;
		r->u.net.result = -111;
		break;
	case CUSTOS_REC_LOSS:
		r->u.agent.lost = 5;
		break;
	default:
		break;
	}
	assert_int_equal(batch_builder_add(b, r), 0);
	free(r);
}

static void sign(struct batch_builder *b, const struct custos_keypair *host, uint64_t seq,
		 const uint8_t *prev, struct buf *out, uint8_t hash[CUSTOS_HASH_LEN])
{
	struct batch_header h;

	memset(&h, 0, sizeof(h));
	memset(h.boot_id, 0xb0, sizeof(h.boot_id));
	h.seq = seq;
	if (prev)
		memcpy(h.prev_hash, prev, CUSTOS_HASH_LEN);
	h.clock_offset_ns = OFFSET;
	h.ntp_synced = 1;
	h.ntp_maxerror_us = 2000000;	/* > 1 s: coarse */
	buf_reset(out);
	assert_int_equal(batch_sign(b, &h, host, out, hash), 0);
}

/* What a test of indexed batches starts from: host keys, a batch
 * builder, room for a signed batch, a new index at path, and the hash of
 * the host's first batch once signed. */
struct fixture {
	struct custos_keypair host;
	struct batch_builder b;
	struct buf sb;
	struct store *s;
	uint8_t h0[CUSTOS_HASH_LEN];
};

/* Keys from seed, an empty builder and index. */
static void fixture_open(struct fixture *f, uint8_t seed)
{
	assert_int_equal(custos_init(), 0);
	unlink(path);
	tu_keys(&f->host, seed);
	buf_init(&f->sb, CUSTOS_SIGNED_MAX);
	batch_builder_init(&f->b);
	assert_int_equal(store_open(path, 0, &f->s), 0);
}

/* What the builder holds, signed as the host's first batch (seq 0, hash
 * f->h0) and indexed as leaf 0. */
static void fixture_index(struct fixture *f)
{
	sign(&f->b, &f->host, 0, NULL, &f->sb, f->h0);
	assert_int_equal(indexer_batch(f->s, NULL, 0, f->sb.data, f->sb.len, 5), 0);
}

static void fixture_close(struct fixture *f)
{
	batch_builder_free(&f->b);
	store_close(f->s);
	buf_free(&f->sb);
	unlink(path);
}

struct rows {
	int n;
	struct store_row r[16];
	char path[16][64], exe[16][64];
};

static int collect(void *ctx, const struct store_row *r)
{
	struct rows *x = ctx;

	assert_true(x->n < 16);
	x->r[x->n] = *r;
	snprintf(x->path[x->n], 64, "%s", r->path);
	snprintf(x->exe[x->n], 64, "%s", r->exe);
	x->n++;
	return 0;
}

static int one_host(void *ctx, const struct store_host *h)
{
	*(struct store_host *)ctx = *h;
	return 0;
}

static int one_gap(void *ctx, const struct store_gap *g)
{
	*(struct store_gap *)ctx = *g;
	return 0;
}

/* The timeline of the fixture's host for q (to INT64_MAX when q has no
 * end). OUT: x. */
static void query(struct fixture *f, struct store_query *q, struct rows *x)
{
	memcpy(q->host_id, f->host.pub.sign_pk, 32);
	if (!q->to_ns)
		q->to_ns = INT64_MAX;
	memset(x, 0, sizeof(*x));
	assert_int_equal(store_timeline(f->s, q, collect, x), 0);
}

static void test_index_and_query(void **state)
{
	struct fixture f;
	struct rows x;
	struct store_host h;
	struct store_gap g;
	uint8_t h1[32], hash[32];
	uint64_t n, seq, leaf;

	(void)state;
	fixture_open(&f, 3);
	rec(&f.b, CUSTOS_REC_EXEC, 1000, 100, 1);
	rec(&f.b, CUSTOS_REC_FORK, 2000, 100, 1);
	rec(&f.b, CUSTOS_REC_EXEC, 2100, 200, 100);
	rec(&f.b, CUSTOS_REC_OPEN, 2200, 200, 100);
	rec(&f.b, CUSTOS_REC_CONNECT, 2300, 200, 100);
	rec(&f.b, CUSTOS_REC_LOSS, 2400, 0, 0);
	sign(&f.b, &f.host, 0, NULL, &f.sb, f.h0);
	assert_int_equal(indexer_batch(f.s, NULL, 1, f.sb.data, f.sb.len, 5),
			 -CUSTOS_ERR_INVAL);	/* not next */
	assert_int_equal(indexer_batch(f.s, NULL, 0, f.sb.data, f.sb.len, 5), 0);
	assert_int_equal(indexer_batch(f.s, NULL, 0, f.sb.data, f.sb.len, 5),
			 -CUSTOS_ERR_INVAL);	/* once */
	rec(&f.b, CUSTOS_REC_EXEC, 3000, 300, 200);
	rec(&f.b, CUSTOS_REC_HEARTBEAT, 3100, 0, 0);
	sign(&f.b, &f.host, 2, f.h0, &f.sb, h1);	/* seq 1 is missing */
	assert_int_equal(indexer_batch(f.s, NULL, 1, f.sb.data, f.sb.len, 6), 0);
	assert_int_equal(store_indexed(f.s, &n), 0);
	assert_int_equal(n, 2);

	struct store_query q = { .from_ns = 0 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 8);
	assert_int_equal(x.r[0].ts_wall_ns, OFFSET + 1000);
	assert_int_equal(x.r[0].clock, STORE_CLOCK_COARSE);
	assert_string_equal(x.r[0].proc_id, "b0b0b0b0-1000-100");
	assert_string_equal(x.exe[0], "/usr/bin/sh");
	assert_string_equal(x.r[3].proc_id, "b0b0b0b0-2000-200");	/* the open, from the exec */
	assert_string_equal(x.r[4].addr, "2001:db8::1");
	assert_int_equal(x.r[4].port, 22);
	assert_int_equal(x.r[4].result, -111);
	assert_int_equal(x.r[5].lost, 5);
	assert_int_equal(x.r[6].leaf, 1);
	assert_memory_equal(x.r[6].batch_hash, h1, 32);
	assert_int_equal(x.r[6].rec_index, 0);

	q = (struct store_query){ .kind = CUSTOS_REC_OPEN };
	query(&f, &q, &x);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.path[0], "/etc/passwd");
	q = (struct store_query){ .path_glob = "/etc/*" };
	query(&f, &q, &x);
	assert_int_equal(x.n, 1);
	q = (struct store_query){ .path_glob = "/usr/bin/s?" };
	query(&f, &q, &x);
	assert_int_equal(x.n, 3);	/* the three execs, by exe */
	q = (struct store_query){ .addr = "2001:db8::1" };
	query(&f, &q, &x);
	assert_int_equal(x.n, 1);
	q = (struct store_query){ .has_pid = 1, .pid = 200 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 3);
	q = (struct store_query){ .has_pid = 1, .pid = 100, .tree = 1 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 6);	/* 100 (2), 200 (3), 300 (1) */
	assert_int_equal(x.r[0].depth, 0);
	assert_int_equal(x.r[2].depth, 1);
	assert_int_equal(x.r[5].pid, 300);
	assert_int_equal(x.r[5].depth, 2);
	q = (struct store_query){ .from_ns = OFFSET + 2100, .to_ns = OFFSET + 2300 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 2);	/* [from, to) */

	memset(&g, 0, sizeof(g));
	assert_int_equal(store_gaps(f.s, f.host.pub.sign_pk, 0, INT64_MAX, one_gap, &g), 0);
	assert_int_equal(g.err, CUSTOS_ERR_SEQ_GAP);
	assert_int_equal(g.expected_seq, 1);
	assert_int_equal(g.got_seq, 2);
	assert_int_equal(g.leaf, 1);
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_hosts(f.s, one_host, &h), 0);
	assert_int_equal(h.batches, 2);
	assert_int_equal(h.records, 8);
	assert_int_equal(h.gaps, 1);
	assert_int_equal(h.lost, 5);
	assert_int_equal(h.last_seq, 2);
	assert_int_equal(h.last_received_ns, 6);
	assert_int_equal(h.last_heartbeat_ns, OFFSET + 3100);
	assert_int_equal(store_find_batch(f.s, f.h0, &leaf), 0);
	assert_int_equal(leaf, 0);
	assert_int_equal(store_host_last(f.s, f.host.pub.sign_pk, &seq, hash, &leaf), 0);
	assert_int_equal(seq, 2);
	assert_memory_equal(hash, h1, 32);
	assert_int_equal(store_host_last(f.s, h1, &seq, hash, &leaf), 1);	/* no such host */
	fixture_close(&f);
}

/* The times responders type and read (collector/cli.c). */
static void test_times(void **state)
{
	char out[48];
	int64_t t;

	(void)state;
	assert_int_equal(coll_parse_time("2025-11-22T00:00:00Z", 0, &t), 0);
	assert_int_equal(t, OFFSET);
	assert_int_equal(coll_parse_time("2025-11-22T02:30:00.5+02:00", 0, &t), 0);
	assert_int_equal(t, OFFSET + 1800000000000ll + 500000000);
	assert_int_equal(coll_parse_time("2025-11-22T00:00:00", 0, &t), 0);	/* UTC by default */
	assert_int_equal(t, OFFSET);
	assert_int_equal(coll_parse_time("1763769600", 0, &t), 0);
	assert_int_equal(t, OFFSET);
	assert_int_equal(coll_parse_time("2025-11-22T00:00:00Zjunk", 0, &t), -CUSTOS_ERR_INVAL);
	assert_int_equal(coll_parse_time("2025-11-22 00:00", 0, &t), -CUSTOS_ERR_INVAL);
	assert_int_equal(coll_parse_time("-5", 0, &t), -CUSTOS_ERR_INVAL);
	assert_string_equal(coll_fmt_time(OFFSET + 7, 0, out, sizeof(out)),
			    "2025-11-22T00:00:00.000000007Z");
	assert_string_equal(coll_fmt_time(-1, 0, out, sizeof(out)), "1969-12-31T23:59:59.999999999Z");
}

/* store_find_proc against the rows of procs, through the cache. */
static void test_proc_cache(void **state)
{
	char p[96];
	struct store *s;
	uint8_t host[KEYS_SIGN_PK_LEN], boot[16];
	uint64_t st = 0;

	(void)state;
	snprintf(p, sizeof(p), "/tmp/custos-test-procs.%d.sqlite", (int)getpid());
	memset(host, 7, sizeof(host));
	memset(boot, 9, sizeof(boot));
	assert_int_equal(store_open(p, 0, &s), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_find_proc(s, host, boot, 42, 100, &st), 1);	/* none yet */
	assert_int_equal(store_add_proc(s, host, boot, 42, 90, 100), 0);
	assert_int_equal(store_find_proc(s, host, boot, 42, 100, &st), 0);
	assert_int_equal(st, 90);
	assert_int_equal(store_find_proc(s, host, boot, 42, 99, &st), 1);	/* before it */
	assert_int_equal(store_add_proc(s, host, boot, 42, 500, 600), 0);	/* pid reused */
	assert_int_equal(store_find_proc(s, host, boot, 42, 700, &st), 0);
	assert_int_equal(st, 500);
	assert_int_equal(store_find_proc(s, host, boot, 42, 599, &st), 0);	/* from SQLite */
	assert_int_equal(st, 90);
	assert_int_equal(store_add_proc(s, host, boot, 42, 90, 650), 0);	/* same start: kept */
	assert_int_equal(store_find_proc(s, host, boot, 42, 640, &st), 0);
	assert_int_equal(st, 500);
	assert_int_equal(store_commit(s), 0);
	/* a rolled back add leaves no trace, in a group or not */
	assert_int_equal(store_group_begin(s), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_add_proc(s, host, boot, 43, 800, 800), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_add_proc(s, host, boot, 42, 900, 900), 0);
	assert_int_equal(store_find_proc(s, host, boot, 42, 950, &st), 0);
	assert_int_equal(st, 900);
	store_rollback(s);
	assert_int_equal(store_find_proc(s, host, boot, 42, 950, &st), 0);
	assert_int_equal(st, 500);
	assert_int_equal(store_group_end(s), 0);
	store_close(s);
	assert_int_equal(store_open(p, 0, &s), 0);	/* a new writer: from the rows */
	assert_int_equal(store_find_proc(s, host, boot, 43, 801, &st), 0);
	assert_int_equal(st, 800);
	assert_int_equal(store_find_proc(s, host, boot, 42, 950, &st), 0);
	assert_int_equal(st, 500);
	boot[0] = 1;	/* another boot: unknown */
	assert_int_equal(store_find_proc(s, host, boot, 42, 950, &st), 1);
	store_close(s);
	unlink(p);
	snprintf(p + strlen(p), sizeof(p) - strlen(p), "-wal");
	unlink(p);
	p[strlen(p) - 4] = '\0';
	snprintf(p + strlen(p), sizeof(p) - strlen(p), "-shm");
	unlink(p);
}

/* A record of pid carrying start time start (snapshot, exec, exit) or
 * none (open). */
static void proc_rec(struct batch_builder *b, uint64_t kind, uint64_t ts, uint64_t pid,
		     uint64_t start)
{
	struct custos_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	r->ts_ns = ts;
	tu_subject(&r->subj, pid);
	if (kind == CUSTOS_REC_EXEC || kind == CUSTOS_REC_SNAPSHOT) {
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, "/bin/x");
		r->u.exec.start_ns = start;
		r->u.exec.hash_status = CUSTOS_HASH_PENDING;
	} else if (kind == CUSTOS_REC_EXIT) {
		r->u.exit.start_ns = start;
	}
	assert_int_equal(batch_builder_add(b, r), 0);
	free(r);
}

/* A snapshot's start is in whole ticks (10 ms); the kernel's exact one,
 * later, within one tick above it, is the same process: one id. */
static void test_snapshot_one_id(void **state)
{
	struct fixture f;
	struct rows x;
	const char *snap = "b0b0b0b0-50000000-500";

	(void)state;
	fixture_open(&f, 4);
	proc_rec(&f.b, CUSTOS_REC_SNAPSHOT, 60000000, 500, 50000000);	/* 5 ticks */
	proc_rec(&f.b, CUSTOS_REC_OPEN, 61000000, 500, 0);
	proc_rec(&f.b, CUSTOS_REC_EXEC, 62000000, 500, 50003456);		/* exact, same process */
	proc_rec(&f.b, CUSTOS_REC_OPEN, 63000000, 500, 0);
	proc_rec(&f.b, CUSTOS_REC_EXIT, 64000000, 500, 50003456);
	proc_rec(&f.b, CUSTOS_REC_EXEC, 90000000, 500, 85000000);		/* pid reused */
	proc_rec(&f.b, CUSTOS_REC_OPEN, 91000000, 500, 0);
	proc_rec(&f.b, CUSTOS_REC_SNAPSHOT, 60000000, 600, 50000000);
	proc_rec(&f.b, CUSTOS_REC_EXEC, 92000000, 600, 60000000);		/* a tick above: another */
	proc_rec(&f.b, CUSTOS_REC_EXEC, 93000000, 700, 70000001);		/* exact starts... */
	proc_rec(&f.b, CUSTOS_REC_EXEC, 94000000, 700, 70000002);		/* ...never merged */
	fixture_index(&f);

	struct store_query q = { .from_ns = 0 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 11);
	/* timeline order: by time, then pid */
	assert_string_equal(x.r[0].proc_id, snap);
	assert_string_equal(x.r[1].proc_id, "b0b0b0b0-50000000-600");
	assert_string_equal(x.r[2].proc_id, snap);	/* the open before the exec */
	assert_string_equal(x.r[3].proc_id, snap);	/* the exec */
	assert_string_equal(x.r[4].proc_id, snap);	/* the open after it */
	assert_string_equal(x.r[5].proc_id, snap);	/* the exit */
	assert_string_equal(x.r[6].proc_id, "b0b0b0b0-85000000-500");
	assert_string_equal(x.r[7].proc_id, "b0b0b0b0-85000000-500");
	assert_string_equal(x.r[8].proc_id, "b0b0b0b0-60000000-600");
	assert_string_equal(x.r[9].proc_id, "b0b0b0b0-70000001-700");
	assert_string_equal(x.r[10].proc_id, "b0b0b0b0-70000002-700");
	fixture_close(&f);
}

/* Run q on a fresh database at path. */
static void make_db(const char *q)
{
	sqlite3 *db;

	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_schema_version(void **state)
{
	struct store *s = NULL;

	(void)state;
	/* version 1: tables, no user_version */
	make_db("CREATE TABLE batches(leaf INTEGER PRIMARY KEY, host BLOB);");
	assert_int_equal(store_open(path, 0, &s), -CUSTOS_ERR_IO);
	assert_null(s);
	assert_int_equal(store_open(path, 1, &s), -CUSTOS_ERR_IO);
	make_db("PRAGMA user_version=7;");	/* a later one */
	assert_int_equal(store_open(path, 0, &s), -CUSTOS_ERR_IO);
	make_db("CREATE TABLE unrelated(x);");	/* empty of ours: created */
	assert_int_equal(store_open(path, 0, &s), 0);
	store_close(s);
	assert_int_equal(store_open(path, 1, &s), 0);	/* and then readable */
	store_close(s);
	unlink(path);
}

/* Rows added inside a group that is aborted are gone, the cached host
 * and process starts with them; the next group starts clean. */
static void test_group_abort(void **state)
{
	struct fixture f;
	struct store_query q;
	struct rows x;
	uint64_t n = 9, start = 0;
	uint8_t boot[16];

	(void)state;
	fixture_open(&f, 3);
	rec(&f.b, CUSTOS_REC_EXEC, 100, 300, 1);
	sign(&f.b, &f.host, 0, NULL, &f.sb, f.h0);
	memset(boot, 0xb0, sizeof(boot));
	assert_int_equal(store_group_open(f.s), 0);
	assert_int_equal(store_group_begin(f.s), 0);
	assert_int_equal(store_group_open(f.s), 1);
	assert_int_equal(indexer_batch(f.s, NULL, 0, f.sb.data, f.sb.len, 5), 0);
	assert_int_equal(store_find_proc(f.s, f.host.pub.sign_pk, boot, 300, 100, &start), 0);
	store_group_abort(f.s);
	assert_int_equal(store_group_open(f.s), 0);
	assert_int_equal(store_indexed(f.s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_find_proc(f.s, f.host.pub.sign_pk, boot, 300, 100, &start), 1);
	assert_int_equal(indexer_batch(f.s, NULL, 0, f.sb.data, f.sb.len, 5), 0);	/* again */
	assert_int_equal(store_indexed(f.s, &n), 0);
	assert_int_equal(n, 1);
	q = (struct store_query){ .has_pid = 1, .pid = 1, .tree = 1 };
	query(&f, &q, &x);	/* its kids row is back (the cache was emptied) */
	assert_int_equal(x.n, 1);
	assert_int_equal(x.r[0].pid, 300);
	assert_int_equal(x.r[0].depth, 1);
	fixture_close(&f);
}

/* --tree inside a window: a pid counts as a child when one of its records
 * in the window has the parent's pid as ppid, not when such a record is
 * in the same time bucket but outside the window; a bucket boundary
 * inside the window changes nothing. */
static void test_tree_window(void **state)
{
	const int64_t next = ((OFFSET >> 36) + 1) << 36;	/* the next kids bucket */
	const uint64_t b1 = (uint64_t)(next - OFFSET);		/* its first ts */
	struct fixture f;
	struct store_query q;
	struct rows x;

	(void)state;
	fixture_open(&f, 4);
	rec(&f.b, CUSTOS_REC_OPEN, 1000, 300, 100);	/* before the window, same bucket */
	rec(&f.b, CUSTOS_REC_OPEN, 2500, 300, 1);		/* in it, another parent */
	rec(&f.b, CUSTOS_REC_OPEN, 2600, 400, 100);
	rec(&f.b, CUSTOS_REC_OPEN, 2700, 500, 400);
	rec(&f.b, CUSTOS_REC_OPEN, b1 + 10, 600, 100);	/* the next bucket, in the window */
	rec(&f.b, CUSTOS_REC_OPEN, b1 + 30, 700, 100);	/* after the window */
	fixture_index(&f);
	q = (struct store_query){ .has_pid = 1, .pid = 100, .tree = 1, .from_ns = OFFSET + 2000,
				  .to_ns = next + 20 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 3);
	assert_int_equal(x.r[0].pid, 400);
	assert_int_equal(x.r[0].depth, 1);
	assert_int_equal(x.r[1].pid, 500);
	assert_int_equal(x.r[1].depth, 2);
	assert_int_equal(x.r[2].pid, 600);
	assert_int_equal(x.r[2].depth, 1);
	q = (struct store_query){ .has_pid = 1, .pid = 100, .tree = 1, .from_ns = OFFSET + 900,
				  .to_ns = OFFSET + 1100 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 1);	/* 300's first record */
	assert_int_equal(x.r[0].pid, 300);
	q.from_ns = q.to_ns = OFFSET + 1000;	/* an empty window */
	query(&f, &q, &x);
	assert_int_equal(x.n, 0);
	fixture_close(&f);
}

/* --pid reads records_pid one pid bucket (2^32 ns) at a time, in the
 * kids buckets (2^36 ns) that hold the pid's records; store_proc_at walks
 * them back from its time. Both answer as a scan of the records would. */
static void test_pid_buckets(void **state)
{
	const int64_t next = ((OFFSET >> 36) + 1) << 36;	/* the next kids bucket */
	const uint64_t b1 = (uint64_t)(next - OFFSET), pb = 1ull << STORE_PID_SHIFT;
	const uint64_t kb = 1ull << STORE_KIDS_SHIFT;
	const uint64_t ts[] = { 1000, 1001, b1 + 10, b1 + 5 * pb + 7, b1 + 3 * kb + 2 * pb };
	struct store_proc_info pi;
	struct fixture f;
	struct store_query q;
	struct rows x;

	(void)state;
	fixture_open(&f, 5);
	rec(&f.b, CUSTOS_REC_EXEC, ts[0], 300, 100);	/* exe /usr/bin/sh */
	for (size_t i = 1; i < sizeof(ts) / sizeof(ts[0]); i++) {
		rec(&f.b, CUSTOS_REC_OPEN, ts[i], 300, 100 + i);
		rec(&f.b, CUSTOS_REC_OPEN, ts[i] + 1, 301, 1);	/* another pid, same buckets */
	}
	fixture_index(&f);
	q = (struct store_query){ .has_pid = 1, .pid = 300, .from_ns = INT64_MIN + 1 };
	query(&f, &q, &x);
	assert_int_equal(x.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(x.r[i].pid, 300);
		assert_int_equal(x.r[i].ts_wall_ns, OFFSET + (int64_t)ts[i]);
	}
	q = (struct store_query){ .has_pid = 1, .pid = 300, .from_ns = OFFSET + 1001,
				  .to_ns = OFFSET + (int64_t)ts[4] };
	query(&f, &q, &x);
	assert_int_equal(x.n, 3);	/* the window's ends: from in, to out */
	assert_int_equal(x.r[0].ts_wall_ns, OFFSET + 1001);
	assert_int_equal(x.r[2].ts_wall_ns, OFFSET + (int64_t)ts[3]);
	q.kind = CUSTOS_REC_EXEC;	/* filters still apply */
	query(&f, &q, &x);
	assert_int_equal(x.n, 0);
	assert_int_equal(store_proc_at(f.s, f.host.pub.sign_pk, 300, OFFSET + 999, &pi), 1);
	assert_int_equal(store_proc_at(f.s, f.host.pub.sign_pk, 300, OFFSET + 1000, &pi), 0);
	assert_int_equal(pi.ppid, 100);
	assert_string_equal(pi.exe, "/usr/bin/sh");
	assert_string_equal(pi.comm, "bash");
	assert_true(pi.proc_id[0] != '\0');
	/* latest before: across empty pid buckets, then empty kids buckets */
	assert_int_equal(store_proc_at(f.s, f.host.pub.sign_pk, 300, OFFSET + (int64_t)ts[3] - 1, &pi),
			 0);
	assert_int_equal(pi.ppid, 102);
	assert_int_equal(pi.ts_wall_ns, OFFSET + (int64_t)ts[2]);
	assert_int_equal(store_proc_at(f.s, f.host.pub.sign_pk, 300, OFFSET + (int64_t)ts[4] - 1, &pi),
			 0);
	assert_int_equal(pi.ppid, 103);
	assert_int_equal(pi.ts_wall_ns, OFFSET + (int64_t)ts[3]);
	assert_string_equal(pi.exe, "/usr/bin/sh");	/* its exec, 3 kids buckets back */
	assert_int_equal(store_proc_at(f.s, f.host.pub.sign_pk, 300, INT64_MAX, &pi), 0);
	assert_int_equal(pi.ppid, 104);
	assert_int_equal(store_proc_at(f.s, f.host.pub.sign_pk, 301, OFFSET + 1001, &pi), 1);
	fixture_close(&f);
}

/* More process starts than the cache holds: each answer is still the
 * latest start at or before the time asked (evicted keys from SQLite). */
static void test_proc_cache_full(void **state)
{
	const uint64_t n = 70000;
	struct store *s;
	uint8_t host[KEYS_SIGN_PK_LEN], boot[16];
	uint64_t st = 0;

	(void)state;
	unlink(path);
	memset(host, 3, sizeof(host));
	memset(boot, 4, sizeof(boot));
	assert_int_equal(store_open(path, 0, &s), 0);
	assert_int_equal(store_begin(s), 0);
	for (uint64_t pid = 1; pid <= n; pid++) {
		assert_int_equal(store_add_proc(s, host, boot, pid, pid * 10, 1000), 0);
		if (pid % 3 == 0)	/* reused: a later start */
			assert_int_equal(store_add_proc(s, host, boot, pid, pid * 10 + 5, 2000), 0);
	}
	for (uint64_t pid = 1; pid <= n; pid++) {
		assert_int_equal(store_find_proc(s, host, boot, pid, 1500, &st), 0);
		assert_int_equal(st, pid * 10);
		assert_int_equal(store_find_proc(s, host, boot, pid, 2500, &st), 0);
		assert_int_equal(st, pid % 3 ? pid * 10 : pid * 10 + 5);
	}
	assert_int_equal(store_find_proc(s, host, boot, n + 1, 2500, &st), 1);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	unlink(path);
}

/* An auth record (kind 11): result, the text's exe and IP address, and a
 * path naming its type, account and result ("?" for what it lacks). */
static void test_auth_row(void **state)
{
	static const char *const text[] = {
		"op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/bin/su\" hostname=? "
		"addr=2001:db8:0:0::1 terminal=pts/0 res=failed",
		"op=login addr=not-an-ip",
	};
	const uint64_t type[] = { 1100, 1999 };
	struct custos_record *r = calloc(1, sizeof(*r));
	struct fixture f;
	struct store_query q;
	struct rows x;

	(void)state;
	assert_non_null(r);
	fixture_open(&f, 6);
	for (int i = 0; i < 2; i++) {
		memset(r, 0, sizeof(*r));
		r->kind = CUSTOS_REC_AUTH;
		r->ts_ns = 1000 + (uint64_t)i;
		tu_subject(&r->subj, 77);
		r->u.auth.result = 150 + i;
		r->u.auth.audit_type = type[i];
		r->u.auth.text_len = (uint32_t)strlen(text[i]);
		memcpy(r->u.auth.text, text[i], r->u.auth.text_len);
		assert_int_equal(batch_builder_add(&f.b, r), 0);
	}
	fixture_index(&f);
	q = (struct store_query){ .kind = CUSTOS_REC_AUTH, .from_ns = OFFSET };
	query(&f, &q, &x);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.r[0].result, 150);
	assert_string_equal(x.exe[0], "/usr/bin/su");
	assert_string_equal(x.r[0].addr, "2001:db8::1");
	assert_string_equal(x.path[0], "USER_AUTH acct=root res=failed");
	assert_int_equal(x.r[1].result, 151);
	assert_string_equal(x.exe[1], "");
	assert_string_equal(x.r[1].addr, "");
	assert_string_equal(x.path[1], "type=1999 acct=? res=?");
	q = (struct store_query){ .addr = "2001:db8::1", .from_ns = OFFSET };
	query(&f, &q, &x);
	assert_int_equal(x.n, 1);
	fixture_close(&f);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_and_query),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_proc_cache),
		cmocka_unit_test(test_snapshot_one_id),
		cmocka_unit_test(test_schema_version),
		cmocka_unit_test(test_group_abort),
		cmocka_unit_test(test_tree_window),
		cmocka_unit_test(test_pid_buckets),
		cmocka_unit_test(test_proc_cache_full),
		cmocka_unit_test(test_auth_row),
	};

	snprintf(path, sizeof(path), "/tmp/custos-test-store.%d.sqlite", (int)getpid());
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
