/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the process starts of the index (collector/store_procs.c):
 * rows keyed by time bucket answer store_find_proc exactly (the latest
 * start at or before a time) across buckets, kids-sized buckets and empty
 * stretches between them, from SQLite (a new writer, a read-only store)
 * as from the cache; and the rows written do not depend on what the cache
 * held (a writer reopened before every add writes the same rows as one
 * that kept its cache), which reindex's equivalence rests on. A
 * process's latest program (store_proc_at) is found through the kids
 * buckets exec_pids lists, across buckets without execs, failed execs
 * left out.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>

#include "testutil.h"
#include "store.h"
#include "store_sqlite_impl.h"

#define SEC 1000000000ull

static const uint8_t host[KEYS_SIGN_PK_LEN] = { 7 };
static const uint8_t boot[16] = { 9 };

/* Starts (pid, start, ts) spread over many buckets of 2^32 ns and kids
 * buckets of 2^36 ns, with pid reuse, a start repeated later (the process
 * already known: no row), ties in ts and starts out of time order. */
static const uint64_t adds[][3] = {
	{ 42, 1 * SEC, 10 * SEC }, { 43, 2 * SEC, 11 * SEC }, { 42, 1 * SEC, 12 * SEC },
	{ 42, 20 * SEC, 20 * SEC }, { 42, 300 * SEC, 300 * SEC }, { 44, 5 * SEC, 300 * SEC },
	{ 44, 6 * SEC, 300 * SEC }, { 42, 300 * SEC, 900 * SEC }, { 43, 3600 * SEC, 3600 * SEC },
	{ 42, 15 * SEC, 16 * SEC }, { 42, 4000 * SEC, 4000 * SEC }, { 42, 20 * SEC, 4100 * SEC },
};
#define NADDS (sizeof(adds) / sizeof(adds[0]))

/* What store_find_proc must say for (pid, ts): the start of the latest
 * (ts, start) row at or before ts among the adds that make rows. */
static const uint64_t want[][3] = {	/* pid, ts, start (0: unknown) */
	{ 42, 9 * SEC, 0 }, { 42, 10 * SEC, 1 * SEC }, { 42, 15 * SEC, 1 * SEC },
	{ 42, 16 * SEC, 15 * SEC }, { 42, 19 * SEC, 15 * SEC }, { 42, 20 * SEC, 20 * SEC },
	{ 42, 299 * SEC, 20 * SEC }, { 42, 300 * SEC, 300 * SEC }, { 42, 3999 * SEC, 300 * SEC },
	{ 42, 4050 * SEC, 4000 * SEC }, { 42, 5000 * SEC, 20 * SEC }, { 43, 10 * SEC, 0 },
	{ 43, 3599 * SEC, 2 * SEC }, { 43, 3600 * SEC, 3600 * SEC }, { 44, 300 * SEC, 6 * SEC },
	{ 45, 300 * SEC, 0 },
};

static void path_of(char *p, size_t n, const char *tag)
{
	snprintf(p, n, "/tmp/custos-test-store-procs.%d.%s.sqlite", (int)getpid(), tag);
}

static void remove_db(const char *p)
{
	char q[128];

	unlink(p);
	snprintf(q, sizeof(q), "%s-wal", p);
	unlink(q);
	snprintf(q, sizeof(q), "%s-shm", p);
	unlink(q);
}

/* Add the starts, reopening the writer before each add when cold. */
static void add_all(const char *p, int cold)
{
	struct store *s;

	assert_int_equal(store_open(p, 0, &s), 0);
	for (size_t i = 0; i < NADDS; i++) {
		if (cold && i) {
			store_close(s);
			assert_int_equal(store_open(p, 0, &s), 0);
		}
		assert_int_equal(store_begin(s), 0);
		assert_int_equal(store_add_proc(s, host, boot, adds[i][0], adds[i][1], adds[i][2]),
				 0);
		assert_int_equal(store_commit(s), 0);
	}
	store_close(s);
}

static void check_answers(struct store *s)
{
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t st = 0;
		int ret = store_find_proc(s, host, boot, want[i][0], want[i][1], &st);
		assert_int_equal(ret, want[i][2] ? 0 : 1);
		if (want[i][2])
			assert_int_equal(st, want[i][2]);
	}
}

/* The rows of procs and proc_pids, in key order, as text. */
static void dump(const char *p, char *out, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t len = 0;
	const char *q = "SELECT 'p', boot, bucket, pid, start_ns, ts FROM procs UNION ALL "
			"SELECT 'k', boot, big, pid, 0, 0 FROM proc_pids ORDER BY 1, 2, 3, 4, 5";

	out[0] = '\0';
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && len + 128 < n)
		len += (size_t)snprintf(out + len, n - len, "%s %lld %lld %lld %lld %lld\n",
					(const char *)sqlite3_column_text(st, 0),
					sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
					sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
					sqlite3_column_int64(st, 5));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Exact answers from the cache (the writer that added), from SQLite (a
 * new writer), from a read-only store. */
static void test_find_across_buckets(void **state)
{
	char p[128], rows[4096];
	struct store *s;
	int nrows = 0;

	(void)state;
	path_of(p, sizeof(p), "warm");
	remove_db(p);
	assert_int_equal(store_open(p, 0, &s), 0);
	assert_int_equal(store_begin(s), 0);
	for (size_t i = 0; i < NADDS; i++)
		assert_int_equal(store_add_proc(s, host, boot, adds[i][0], adds[i][1], adds[i][2]),
				 0);
	check_answers(s);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	assert_int_equal(store_open(p, 0, &s), 0);
	check_answers(s);
	store_close(s);
	assert_int_equal(store_open(p, 1, &s), 0);
	check_answers(s);
	store_close(s);
	dump(p, rows, sizeof(rows));
	for (const char *c = rows; *c; c++)
		nrows += *c == 'p';
	assert_int_equal(nrows, 10);	/* two adds named the process already known */
	remove_db(p);
}

/* Invariant 2 of store_procs.c: the same rows, cache or not. */
static void test_rows_without_cache(void **state)
{
	char warm[128], cold[128], a[4096], b[4096];

	(void)state;
	path_of(warm, sizeof(warm), "w");
	path_of(cold, sizeof(cold), "c");
	remove_db(warm);
	remove_db(cold);
	add_all(warm, 0);
	add_all(cold, 1);
	dump(warm, a, sizeof(a));
	dump(cold, b, sizeof(b));
	assert_true(strlen(a) > 0);
	assert_string_equal(a, b);
	remove_db(warm);
	remove_db(cold);
}

static void add_row(struct store *s, uint32_t kind, int64_t ts, uint64_t pid, const char *exe,
		    int64_t result, uint32_t idx)
{
	struct store_row r;

	memset(&r, 0, sizeof(r));
	memcpy(r.host_id, host, sizeof(r.host_id));
	r.ts_wall_ns = ts;
	r.kind = kind;
	r.pid = pid;
	r.ppid = 1;
	r.comm = r.path = "";
	r.exe = exe;
	r.result = result;
	r.rec_index = idx;
	assert_int_equal(store_add_record(s, &r), 0);
}

static void exe_at(struct store *s, uint64_t pid, int64_t ts, int ret, const char *exe)
{
	struct store_proc_info pi;

	assert_int_equal(store_proc_at(s, host, pid, ts, &pi), ret);
	if (ret == 0)
		assert_string_equal(pi.exe, exe);
}

static void test_exe_across_buckets(void **state)
{
	const int64_t kb = 1ll << STORE_KIDS_SHIFT, t = 1000 * kb;
	char p[128];
	struct store *s;

	(void)state;
	path_of(p, sizeof(p), "exe");
	remove_db(p);
	assert_int_equal(store_open(p, 0, &s), 0);
	assert_int_equal(store_begin(s), 0);
	add_row(s, CUSTOS_REC_EXEC, t + 5, 77, "/bin/a", 0, 0);
	add_row(s, CUSTOS_REC_OPEN, t + kb + 1, 77, "", 0, 1);
	add_row(s, CUSTOS_REC_EXEC, t + 3 * kb + 10, 77, "/bin/c", 0, 2);
	add_row(s, CUSTOS_REC_EXEC, t + 4 * kb + 1, 77, "/bin/bad", -2, 3);	/* failed */
	add_row(s, CUSTOS_REC_OPEN, t + 5 * kb, 77, "", 0, 4);
	add_row(s, CUSTOS_REC_OPEN, t + 5 * kb, 78, "", 0, 5);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	assert_int_equal(store_open(p, 1, &s), 0);
	exe_at(s, 77, t + 4, 1, NULL);
	exe_at(s, 77, t + 5, 0, "/bin/a");
	exe_at(s, 77, t + kb + 2, 0, "/bin/a");
	exe_at(s, 77, t + 3 * kb + 9, 0, "/bin/a");
	exe_at(s, 77, t + 3 * kb + 10, 0, "/bin/c");
	exe_at(s, 77, t + 5 * kb + 1, 0, "/bin/c");
	exe_at(s, 78, t + 5 * kb + 1, 0, "");
	store_close(s);
	remove_db(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_across_buckets),
		cmocka_unit_test(test_rows_without_cache),
		cmocka_unit_test(test_exe_across_buckets),
	};

	return cmocka_run_group_tests_name("store_procs", tests, NULL, NULL);
}
