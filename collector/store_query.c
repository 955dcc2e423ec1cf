/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The responders' queries of the SQLite store (store.h): hosts and their
 * health, the timeline of a host in a window (with --pid, --tree, --kind,
 * --path, --addr) and its gaps. Read-only: every statement here is
 * prepared for one call and finalised before it returns; the writer's
 * statements and the schema are store_sqlite.c's.
 */
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "error.h"
#include "store.h"
#include "store_sqlite_impl.h"

#define STR(x) #x
#define XSTR(x) STR(x)
#define PER XSTR(STORE_PID_PER_KIDS)	/* in SQL text */

static int64_t scalar(struct store *s, const char *q, const uint8_t host[KEYS_SIGN_PK_LEN])
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (store_prep(s, q, &st))
		return 0;
	BLOB(st, 1, host, KEYS_SIGN_PK_LEN);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int clock_of(int64_t synced, int64_t maxerror_us)
{
	if (!synced)
		return STORE_CLOCK_UNSYNCED;
	return maxerror_us <= 1000000 ? STORE_CLOCK_SYNCED : STORE_CLOCK_COARSE;
}

static void host_details(struct store *s, struct store_host *h)
{
	sqlite3_stmt *st;

	h->last_heartbeat_ns = scalar(s, "SELECT max(ts_wall) FROM records WHERE "
				      STORE_HOST_IS("host", "?") " "
				      "AND kind=98", h->host_id);
	h->gaps = (uint64_t)scalar(s, "SELECT count(*) FROM gaps WHERE host=?", h->host_id);
	h->lost = (uint64_t)scalar(s, "SELECT total(lost) FROM records WHERE "
				   STORE_HOST_IS("host", "?") " "
				   "AND kind IN (99,102)", h->host_id);
	if (store_prep(s, "SELECT ntp_synced, maxerror, clock_offset FROM batches WHERE "
		       STORE_HOST_IS("host", "?") " "
		    "ORDER BY leaf DESC LIMIT 1", &st))
		return;
	BLOB(st, 1, h->host_id, KEYS_SIGN_PK_LEN);
	if (sqlite3_step(st) == SQLITE_ROW) {
		h->maxerror_us = (uint64_t)sqlite3_column_int64(st, 1);
		h->clock = clock_of(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
		h->clock_offset_ns = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
}

int store_hosts(struct store *s, int (*fn)(void *ctx, const struct store_host *h), void *ctx)
{
	sqlite3_stmt *st;
	struct store_host h;
	int rc, ret = 0;

	if (store_prep(s, "SELECT h.key, count(*), max(b.seq), max(b.received), total(b.nrec) "
		       "FROM batches b JOIN hosts h ON h.id = b.host GROUP BY b.host ORDER BY h.key", &st))
		return -CUSTOS_ERR_IO;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&h, 0, sizeof(h));
		if (sqlite3_column_bytes(st, 0) != KEYS_SIGN_PK_LEN)
			continue;
		memcpy(h.host_id, sqlite3_column_blob(st, 0), KEYS_SIGN_PK_LEN);
		h.batches = (uint64_t)sqlite3_column_int64(st, 1);
		h.last_seq = (uint64_t)sqlite3_column_int64(st, 2);
		h.last_received_ns = (uint64_t)sqlite3_column_int64(st, 3);
		h.records = (uint64_t)sqlite3_column_int64(st, 4);
		host_details(s, &h);
		ret = fn(ctx, &h);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, "hosts");
	sqlite3_finalize(st);
	return ret;
}

/* timeline --tree: the pids below q->pid in the window, into temp.tree
 * (pid, depth), following ppid one generation at a time: the candidates
 * of the window's kids buckets (store_sqlite.c), each kept only if it has
 * a record of that ppid inside the window: a kids bucket inside the
 * window (?9..?10) has one (kids has a row exactly for each (host, ppid,
 * bucket, pid) of the records); in the window's two edge buckets it is
 * looked up in records_pid one pid bucket at a time (sub: the offsets of
 * those inside the window), so the answer is that of reading every
 * record of the window. kids is read by its primary key (named: without
 * statistics SQLite would pick kids_pid, led by the host alone). */
static int build_tree(struct store *s, const struct store_query *q)
{
	sqlite3_stmt *st;
	static const char temp[] = "CREATE TEMP TABLE IF NOT EXISTS tree(pid INTEGER PRIMARY KEY, "
				   "depth INTEGER);DELETE FROM tree;";
	int ret = sqlite3_exec(s->db, temp, NULL, NULL, NULL) == SQLITE_OK ? 0 : store_fail(s, temp);

	if (ret || store_prep(s, "INSERT OR IGNORE INTO tree VALUES(?,0)", &st))
		return -CUSTOS_ERR_IO;
	I64(st, 1, q->pid);
	ret = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "tree");
	sqlite3_finalize(st);
	if (ret || q->to_ns <= q->from_ns)
		return ret;
	if (store_prep(s, "WITH RECURSIVE sub(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM sub "
		       "WHERE x + 1 < " PER ") "
		       "INSERT OR IGNORE INTO tree SELECT DISTINCT k.pid, ?1 + 1 FROM kids k "
		       "INDEXED BY sqlite_autoindex_kids_1 "
		       "WHERE k.host=(SELECT id FROM hosts WHERE key=?2) AND k.ppid IN "
		       "(SELECT pid FROM tree WHERE depth=?1) AND k.bucket BETWEEN ?5 AND ?6 AND "
		       "(k.bucket BETWEEN ?9 AND ?10 OR EXISTS (SELECT 1 FROM sub o, records r "
		       "INDEXED BY records_pid WHERE "
		       "o.x BETWEEN ?7 - k.bucket * " PER " AND ?8 - k.bucket * " PER " AND "
		       "r.host=k.host AND " STORE_PID_BUCKET("r.ts_wall") "=k.bucket * " PER " + o.x "
		       "AND r.pid=k.pid AND r.ts_wall>=?3 AND r.ts_wall<?4 AND r.ppid=k.ppid))", &st))
		return -CUSTOS_ERR_IO;
	for (int depth = 0; depth < 64 && !ret; depth++) {
		I64(st, 1, depth);
		BLOB(st, 2, q->host_id, KEYS_SIGN_PK_LEN);
		I64(st, 3, q->from_ns);
		I64(st, 4, q->to_ns);
		I64(st, 5, store_kids_bucket(q->from_ns));
		I64(st, 6, store_kids_bucket(q->to_ns - 1));
		I64(st, 7, store_pid_bucket(q->from_ns));
		I64(st, 8, store_pid_bucket(q->to_ns - 1));
		I64(st, 9, q->from_ns == INT64_MIN ? store_kids_bucket(q->from_ns)
						   : store_kids_bucket(q->from_ns - 1) + 1);
		I64(st, 10, store_kids_bucket(q->to_ns) - 1);
		ret = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "tree");
		sqlite3_reset(st);
		if (!ret && sqlite3_changes(s->db) == 0)
			break;
	}
	sqlite3_finalize(st);
	return ret;
}

static void row_of(sqlite3_stmt *st, struct store_row *r)
{
	memset(r, 0, sizeof(*r));
	r->ts_boot_ns = (uint64_t)sqlite3_column_int64(st, 0);
	r->ts_wall_ns = sqlite3_column_int64(st, 1);
	r->clock = sqlite3_column_int(st, 2);
	r->kind = (uint32_t)sqlite3_column_int64(st, 3);
	r->pid = (uint64_t)sqlite3_column_int64(st, 4);
	r->ppid = (uint64_t)sqlite3_column_int64(st, 5);
	r->uid = (uint64_t)sqlite3_column_int64(st, 6);
	snprintf(r->proc_id, sizeof(r->proc_id), "%s", (const char *)sqlite3_column_text(st, 7));
	r->comm = (const char *)sqlite3_column_text(st, 8);
	r->exe = (const char *)sqlite3_column_text(st, 9);
	r->path = (const char *)sqlite3_column_text(st, 10);
	snprintf(r->addr, sizeof(r->addr), "%s", (const char *)sqlite3_column_text(st, 11));
	r->port = (uint64_t)sqlite3_column_int64(st, 12);
	r->result = sqlite3_column_int64(st, 13);
	r->lost = (uint64_t)sqlite3_column_int64(st, 14);
	r->leaf = (uint64_t)sqlite3_column_int64(st, 15);
	if (sqlite3_column_bytes(st, 16) == CUSTOS_HASH_LEN)
		memcpy(r->batch_hash, sqlite3_column_blob(st, 16), CUSTOS_HASH_LEN);
	r->rec_index = (uint32_t)sqlite3_column_int64(st, 17);
	r->depth = (unsigned)sqlite3_column_int(st, 18);
	r->comm = r->comm ? r->comm : "";
	r->exe = r->exe ? r->exe : "";
	r->path = r->path ? r->path : "";
}

/* Step st to its end, calling fn on each row (reset after). Returns as
 * store_hosts. */
static int each_row(struct store *s, sqlite3_stmt *st, const struct store_query *q,
		    int (*fn)(void *ctx, const struct store_row *r), void *ctx)
{
	struct store_row r;
	int rc, ret = 0;

	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_of(st, &r);
		memcpy(r.host_id, q->host_id, KEYS_SIGN_PK_LEN);
		ret = fn(ctx, &r);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, "timeline");
	sqlite3_reset(st);
	return ret;
}

/* timeline --pid: st (bound but for ?8) once per pid bucket of the window
 * in which the pid may have records, in time order: those of the pid's
 * kids buckets (kids_pid; every record has its kids row). */
static int pid_walk(struct store *s, sqlite3_stmt *st, const struct store_query *q,
		    int (*fn)(void *ctx, const struct store_row *r), void *ctx)
{
	sqlite3_stmt *k;
	int64_t lo = store_pid_bucket(q->from_ns), hi = store_pid_bucket(q->to_ns - 1), kb, host;
	int rc, ret = store_host_rowid(s, q->host_id, &host);

	if (ret)
		return ret < 0 ? ret : 0;
	if (store_prep(s, "SELECT DISTINCT bucket FROM kids INDEXED BY kids_pid WHERE host=?1 AND "
		       "pid=?2 AND bucket BETWEEN ?3 AND ?4 ORDER BY bucket", &k))
		return -CUSTOS_ERR_IO;
	I64(k, 1, host);
	I64(st, 1, host);
	I64(k, 2, q->pid);
	I64(k, 3, store_kids_bucket(q->from_ns));
	I64(k, 4, store_kids_bucket(q->to_ns - 1));
	while (!ret && (rc = sqlite3_step(k)) == SQLITE_ROW) {
		kb = sqlite3_column_int64(k, 0);
		for (int64_t x = kb * STORE_PID_PER_KIDS; !ret && x < (kb + 1) * STORE_PID_PER_KIDS;
		     x++) {
			if (x < lo || x > hi)
				continue;
			I64(st, 8, x);
			ret = each_row(s, st, q, fn, ctx);
		}
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, "timeline --pid");
	sqlite3_finalize(k);
	return ret;
}

/* A window is one range of records' primary key, in timeline order; with
 * --pid, one range of records_pid (host, pid bucket, pid, ts_wall, then
 * the key's leaf and rec_index) per pid bucket, in the same order:
 * SQLite, without statistics, would scan the whole window instead, so
 * the index is named. */
int store_timeline(struct store *s, const struct store_query *q,
		   int (*fn)(void *ctx, const struct store_row *r), void *ctx)
{
	char text[1024];
	sqlite3_stmt *st;
	int ret, n, by_pid = q->has_pid && !q->tree;

	if (q->tree && q->has_pid && build_tree(s, q))
		return -CUSTOS_ERR_IO;
	n = snprintf(text, sizeof(text),
		     "SELECT r.ts_boot, r.ts_wall, r.clock, r.kind, r.pid, r.ppid, r.uid, "
		     "r.proc_id, r.comm, r.exe, r.path, r.addr, r.port, r.result, r.lost, r.leaf, "
		     "b.hash, r.rec_index, %s FROM records r%s JOIN batches b ON b.leaf = r.leaf %s "
		     "WHERE %s AND r.ts_wall>=?2 AND r.ts_wall<?3%s%s%s%s "
		     "ORDER BY r.ts_wall, r.leaf, r.rec_index",
		     q->tree && q->has_pid ? "t.depth" : "0",
		     by_pid ? " INDEXED BY records_pid" : "",
		     q->tree && q->has_pid ? "JOIN temp.tree t ON t.pid = r.pid" : "",
		     by_pid ? "r.host=?1" : STORE_HOST_IS("r.host", "?1"),
		     by_pid ? " AND " STORE_PID_BUCKET("r.ts_wall") "=?8 AND r.pid=?4" : "",
		     q->kind ? " AND r.kind=?5" : "",
		     q->path_glob ? " AND (r.path GLOB ?6 OR r.exe GLOB ?6)" : "",
		     q->addr ? " AND r.addr=?7" : "");
	if (n >= (int)sizeof(text) || store_prep(s, text, &st))
		return -CUSTOS_ERR_IO;
	BLOB(st, 1, q->host_id, KEYS_SIGN_PK_LEN);
	I64(st, 2, q->from_ns);
	I64(st, 3, q->to_ns);
	if (by_pid)
		I64(st, 4, q->pid);
	if (q->kind)
		I64(st, 5, q->kind);
	if (q->path_glob)
		TEXT(st, 6, q->path_glob);
	if (q->addr)
		TEXT(st, 7, q->addr);
	if (by_pid)
		ret = q->to_ns > q->from_ns ? pid_walk(s, st, q, fn, ctx) : 0;
	else
		ret = each_row(s, st, q, fn, ctx);
	sqlite3_finalize(st);
	return ret;
}

int store_gaps(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], int64_t from,
	       int64_t to, int (*fn)(void *ctx, const struct store_gap *g), void *ctx)
{
	sqlite3_stmt *st;
	struct store_gap g;
	int rc, ret = 0;

	if (store_prep(s, "SELECT leaf, err, expected, got, ts_wall FROM gaps WHERE host=? AND "
		    "ts_wall>=? AND ts_wall<? ORDER BY leaf", &st))
		return -CUSTOS_ERR_IO;
	BLOB(st, 1, host_id, KEYS_SIGN_PK_LEN);
	I64(st, 2, from);
	I64(st, 3, to);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&g, 0, sizeof(g));
		memcpy(g.host_id, host_id, KEYS_SIGN_PK_LEN);
		g.leaf = (uint64_t)sqlite3_column_int64(st, 0);
		g.err = sqlite3_column_int(st, 1);
		g.expected_seq = (uint64_t)sqlite3_column_int64(st, 2);
		g.got_seq = (uint64_t)sqlite3_column_int64(st, 3);
		g.ts_wall_ns = sqlite3_column_int64(st, 4);
		ret = fn(ctx, &g);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, "gaps");
	sqlite3_finalize(st);
	return ret;
}
