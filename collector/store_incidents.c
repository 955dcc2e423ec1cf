/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The incident tables of the SQLite store (store.h "incidents"; the
 * grouping rule is incident.c's). incidents holds one row per incident;
 * incident_alerts puts each alert (rule id, leaf, record index: the
 * alerts table's key) in exactly one incident; incident_pending lists the
 * alerts not yet grouped, filled by a trigger on every alert inserted, so
 * whatever path adds an alert (streaming, triage, threshold rules) it is
 * grouped at the next incident_update. Like alerts, incidents are derived
 * data: store_incidents_reset and a regroup rebuild them.
 *
 * Invariants:
 *   1. An alert is in incident_pending or in incident_alerts, never both
 *      once a grouping pass ends (store_alerts_ungrouped empties pending
 *      after its callback linked each).
 *   2. incidents.first/last/severity/nalerts agree with its alerts: only
 *      store_incident_link changes them, one alert at a time.
 * Crash: the tables change inside the caller's transaction (the batch's
 * when streaming), so a lost transaction loses alerts and grouping alike.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "error.h"
#include "store.h"
#include "store_sqlite_impl.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS incidents(id TEXT PRIMARY KEY, host BLOB NOT NULL,"
	" tree TEXT NOT NULL, root_pid INTEGER, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,"
	" severity INTEGER, nalerts INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS incidents_tree ON incidents(host, tree, last_ns);"
	"CREATE INDEX IF NOT EXISTS incidents_time ON incidents(first_ns, id);"
	"CREATE TABLE IF NOT EXISTS incident_alerts(rule_id TEXT NOT NULL, leaf INTEGER NOT NULL,"
	" rec_index INTEGER NOT NULL, incident TEXT NOT NULL,"
	" PRIMARY KEY(rule_id, leaf, rec_index)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS incident_alerts_id ON incident_alerts(incident);"
	"CREATE TABLE IF NOT EXISTS incident_pending(rule_id TEXT NOT NULL, leaf INTEGER NOT NULL,"
	" rec_index INTEGER NOT NULL, PRIMARY KEY(rule_id, leaf, rec_index)) WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS alerts_pending AFTER INSERT ON alerts BEGIN"
	" INSERT OR IGNORE INTO incident_pending VALUES(NEW.rule_id, NEW.leaf, NEW.rec_index);"
	" END;";

#define SAME_ALERT(x) "a.rule_id=" x ".rule_id AND a.leaf=" x ".leaf AND a.rec_index=" x \
	".rec_index"

int store_incidents_schema(struct store *s)
{
	return sqlite3_exec(s->db, schema, NULL, NULL, NULL) == SQLITE_OK
		       ? 0 : store_fail(s, "creating the incident tables");
}

static const char *text_of(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Step st to its end, calling fn on each alert row. */
static int each_alert(struct store *s, sqlite3_stmt *st, const char *what,
		      int (*fn)(void *ctx, const struct store_alert *a), void *ctx)
{
	struct store_alert a;
	int rc, ret = 0;

	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_alert_row(st, &a);
		ret = fn(ctx, &a);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, what);
	return ret;
}

/* store_proc_at's statements (?1: the host's row id): the pid's kids
 * buckets at or before ?3, latest first (kids_pid: every record has its
 * kids row); its latest subject record at or before ?3 in pid bucket ?4
 * (records_pid); the kids buckets at or before ?3 in which it has a
 * successful exec or snapshot, latest first (exec_pids), and its latest
 * one at or before ?3 in kids bucket ?4 (records_exec). */
static const char proc_buckets_q[] =
	"SELECT DISTINCT bucket FROM kids INDEXED BY kids_pid WHERE "
	"host=?1 AND pid=?2 AND bucket<=?3 ORDER BY bucket DESC";
static const char proc_record_q[] =
	"SELECT ppid, proc_id, comm, ts_wall FROM records INDEXED BY records_pid WHERE "
	"host=?1 AND " STORE_PID_BUCKET("ts_wall") "=?4 AND pid=?2 AND "
	"ts_wall<=?3 AND kind BETWEEN 1 AND 95 ORDER BY ts_wall DESC, leaf DESC, rec_index DESC "
	"LIMIT 1";
static const char exec_buckets_q[] =
	"SELECT bucket FROM exec_pids WHERE host=?1 AND pid=?2 AND bucket<=?3 ORDER BY bucket DESC";
static const char proc_exe_q[] =
	"SELECT exe FROM records INDEXED BY records_exec WHERE host=?1 AND "
	STORE_EXEC_BUCKET("ts_wall") "=?4 AND pid=?2 AND ts_wall<=?3 AND " STORE_EXEC_OK
	" ORDER BY ts_wall DESC, leaf DESC, rec_index DESC LIMIT 1";

/* Both walks of store_proc_at: q_buckets (?1 host, ?2 pid, ?3 ts's kids
 * bucket) lists buckets newest first; q_rows (?1 host, ?2 pid, ?3 ts, and
 * ?4 a bucket, bound per step) reads the latest row in one. OUT: *k, *st
 * (the caller finalizes both). Returns 0 or -CUSTOS_ERR_IO. */
static int walk_prep(struct store *s, const char *q_buckets, const char *q_rows, int64_t host,
		     uint64_t pid, int64_t ts, sqlite3_stmt **k, sqlite3_stmt **st)
{
	*k = *st = NULL;
	if (store_prep(s, q_buckets, k) || store_prep(s, q_rows, st)) {
		sqlite3_finalize(*k);
		*k = NULL;
		return -CUSTOS_ERR_IO;
	}
	I64(*k, 1, host);
	I64(*k, 2, pid);
	I64(*k, 3, store_kids_bucket(ts));
	I64(*st, 1, host);
	I64(*st, 2, pid);
	I64(*st, 3, ts);
	return 0;
}

/* The latest subject record of pid at or before ts, walking the pid
 * buckets back from ts's through the kids buckets the pid has records
 * in. OUT: p's ppid, proc_id, comm, ts_wall_ns. Returns 0, 1 when there
 * is none, -CUSTOS_ERR_IO. */
static int proc_latest(struct store *s, int64_t host, uint64_t pid, int64_t ts,
		       struct store_proc_info *p)
{
	sqlite3_stmt *k, *st;
	int64_t top = store_pid_bucket(ts), kb, x;
	int rc = SQLITE_DONE, ret = 1;

	if (walk_prep(s, proc_buckets_q, proc_record_q, host, pid, ts, &k, &st))
		return -CUSTOS_ERR_IO;
	while (ret == 1 && (rc = sqlite3_step(k)) == SQLITE_ROW) {
		kb = sqlite3_column_int64(k, 0);
		x = (kb + 1) * STORE_PID_PER_KIDS - 1;
		for (x = x < top ? x : top; ret == 1 && x >= kb * STORE_PID_PER_KIDS; x--) {
			I64(st, 4, x);
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				p->ppid = (uint64_t)sqlite3_column_int64(st, 0);
				snprintf(p->proc_id, sizeof(p->proc_id), "%s", text_of(st, 1));
				snprintf(p->comm, sizeof(p->comm), "%s", text_of(st, 2));
				p->ts_wall_ns = sqlite3_column_int64(st, 3);
				ret = 0;
			} else if (rc != SQLITE_DONE) {
				ret = -CUSTOS_ERR_IO;
			}
			sqlite3_reset(st);
		}
	}
	if (ret == 1 && rc != SQLITE_DONE)
		ret = -CUSTOS_ERR_IO;
	if (ret < 0)
		store_fail(s, "process at a time");
	sqlite3_finalize(k);
	sqlite3_finalize(st);
	return ret;
}

/* The program of pid's latest successful exec or snapshot at or before
 * ts, walking back through the kids buckets exec_pids lists. OUT: exe
 * ("" when none). Returns 0 or -CUSTOS_ERR_IO. */
static int proc_exe(struct store *s, int64_t host, uint64_t pid, int64_t ts,
		    char exe[CUSTOS_PATH_MAX + 1])
{
	sqlite3_stmt *k, *st;
	int rc = SQLITE_DONE, found = 0;

	exe[0] = '\0';
	if (walk_prep(s, exec_buckets_q, proc_exe_q, host, pid, ts, &k, &st))
		return -CUSTOS_ERR_IO;
	while (!found && (rc = sqlite3_step(k)) == SQLITE_ROW) {
		I64(st, 4, sqlite3_column_int64(k, 0));
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(exe, CUSTOS_PATH_MAX + 1, "%s", text_of(st, 0));
			found = 1;
		} else if (rc != SQLITE_DONE) {
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(k);
	sqlite3_finalize(st);
	return found || rc == SQLITE_DONE ? 0 : store_fail(s, "process at a time");
}

int store_proc_at(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], uint64_t pid,
		  int64_t ts, struct store_proc_info *p)
{
	int64_t host;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = store_host_rowid(s, host_id, &host);
	if (!ret)
		ret = proc_latest(s, host, pid, ts, p);
	return ret ? ret : proc_exe(s, host, pid, ts, p->exe);
}

int store_host_latest(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], int64_t *ts)
{
	sqlite3_stmt *st;
	int rc;

	*ts = INT64_MIN;
	if (store_prep(s, "SELECT max(ts_wall) FROM records WHERE " STORE_HOST_IS("host", "?1"),
		       &st))
		return -CUSTOS_ERR_IO;
	sqlite3_bind_blob(st, 1, host_id, KEYS_SIGN_PK_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*ts = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, "a host's latest record");
}

struct ungrouped {
	int (*fn)(void *ctx, const struct store_alert *a);
	void *ctx;
	uint64_t kept;
};

static int ungrouped_one(void *ctx, const struct store_alert *a)
{
	struct ungrouped *u = ctx;
	int ret = u->fn(u->ctx, a);

	if (ret != STORE_KEEP_PENDING)
		return ret;
	u->kept++;
	return 0;
}

int store_alerts_ungrouped(struct store *s, int (*fn)(void *ctx, const struct store_alert *a),
			   void *ctx)
{
	struct ungrouped u = { fn, ctx, 0 };
	sqlite3_stmt *st;
	int ret;

	/* fn writes incidents and incident_alerts, which this query does not
	 * read; pending loses what was linked after the last row. Serve runs
	 * this after every batch with triage on, mostly with nothing pending:
	 * the statements are kept prepared (preparing them each time was
	 * about 0.09 us a record of ingest). */
	if (store_cached(s, C_UNGROUPED, "SELECT " STORE_ALERT_COLS " FROM incident_pending p "
			 "JOIN alerts a ON " SAME_ALERT("p") " ORDER BY a.host, a.ts_wall, a.leaf, "
			 "a.rec_index, a.rule_id", &st))
		return -CUSTOS_ERR_IO;
	ret = each_alert(s, st, "ungrouped alerts", ungrouped_one, &u);
	sqlite3_reset(st);
	if (ret)
		return ret;
	if (u.kept ? store_cached(s, C_PENDING_LINKED, "DELETE FROM incident_pending WHERE EXISTS "
				  "(SELECT 1 FROM incident_alerts a WHERE "
				  SAME_ALERT("incident_pending") ")", &st)
		   : store_cached(s, C_PENDING_ALL, "DELETE FROM incident_pending", &st))
		return -CUSTOS_ERR_IO;
	ret = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "ungrouped alerts");
	sqlite3_reset(st);
	return ret;
}

static void incident_of(sqlite3_stmt *st, struct store_incident *inc)
{
	memset(inc, 0, sizeof(*inc));
	snprintf(inc->id, sizeof(inc->id), "%s", text_of(st, 0));
	if (sqlite3_column_bytes(st, 1) == KEYS_SIGN_PK_LEN)
		memcpy(inc->host_id, sqlite3_column_blob(st, 1), KEYS_SIGN_PK_LEN);
	snprintf(inc->tree, sizeof(inc->tree), "%s", text_of(st, 2));
	inc->root_pid = (uint64_t)sqlite3_column_int64(st, 3);
	inc->first_ns = sqlite3_column_int64(st, 4);
	inc->last_ns = sqlite3_column_int64(st, 5);
	inc->severity = sqlite3_column_int(st, 6);
	inc->alerts = (uint64_t)sqlite3_column_int64(st, 7);
	inc->classes = inc->articles = inc->techniques = "";
}

#define INCIDENT_COLS "n.id, n.host, n.tree, n.root_pid, n.first_ns, n.last_ns, n.severity, " \
	"n.nalerts"

int store_incident_last(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
			const char *tree, struct store_incident *inc)
{
	sqlite3_stmt *st;
	int rc;

	if (store_prep(s, "SELECT " INCIDENT_COLS " FROM incidents n WHERE host=? AND tree=? "
		       "ORDER BY last_ns DESC, id DESC LIMIT 1", &st))
		return -CUSTOS_ERR_IO;
	BLOB(st, 1, host_id, KEYS_SIGN_PK_LEN);
	TEXT(st, 2, tree);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		incident_of(st, inc);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_fail(s, "the last incident of a tree");
}

int store_incident_link(struct store *s, const struct store_incident *inc,
			const struct store_alert *a)
{
	sqlite3_stmt *st;
	int rc;

	if (store_prep(s, "INSERT OR REPLACE INTO incidents VALUES(?,?,?,?,?,?,?,?)", &st))
		return -CUSTOS_ERR_IO;
	TEXT(st, 1, inc->id);
	BLOB(st, 2, inc->host_id, KEYS_SIGN_PK_LEN);
	TEXT(st, 3, inc->tree);
	I64(st, 4, inc->root_pid);
	I64(st, 5, inc->first_ns);
	I64(st, 6, inc->last_ns);
	I64(st, 7, inc->severity);
	I64(st, 8, inc->alerts);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE ||
	    store_prep(s, "INSERT OR REPLACE INTO incident_alerts VALUES(?,?,?,?)", &st))
		return store_fail(s, "adding an incident");
	TEXT(st, 1, a->rule_id);
	I64(st, 2, a->leaf);
	I64(st, 3, a->rec_index);
	TEXT(st, 4, inc->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "putting an alert in an incident");
}

int store_incidents_reset(struct store *s)
{
	return sqlite3_exec(s->db, "DELETE FROM incidents; DELETE FROM incident_alerts;"
			    "INSERT OR IGNORE INTO incident_pending SELECT rule_id, leaf, rec_index "
			    "FROM alerts;", NULL, NULL, NULL) == SQLITE_OK
		       ? 0 : store_fail(s, "resetting the incidents");
}

/* One of an incident's sets: its alerts' distinct values of column c. */
#define SET_OF(c) "(SELECT group_concat(v, ', ') FROM (SELECT DISTINCT a." c " v FROM " \
	"incident_alerts i JOIN alerts a ON " SAME_ALERT("i") " WHERE i.incident=n.id AND " \
	"a." c "<>'' ORDER BY v))"

int store_incidents(struct store *s, const uint8_t *host_id, const char *id,
		    int (*fn)(void *ctx, const struct store_incident *inc), void *ctx)
{
	struct store_incident inc;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (store_prep(s, "SELECT " INCIDENT_COLS ", " SET_OF("taxonomy") ", " SET_OF("article")
		       ", " SET_OF("technique") " FROM incidents n WHERE (?1 IS NULL OR n.host=?1) "
		       "AND (?2 IS NULL OR n.id=?2) ORDER BY n.first_ns, n.id", &st))
		return -CUSTOS_ERR_IO;
	if (host_id)
		BLOB(st, 1, host_id, KEYS_SIGN_PK_LEN);
	if (id)
		TEXT(st, 2, id);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		incident_of(st, &inc);
		inc.classes = text_of(st, 8);
		inc.articles = text_of(st, 9);
		inc.techniques = text_of(st, 10);
		ret = fn(ctx, &inc);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, "incidents");
	sqlite3_finalize(st);
	return ret;
}

int store_incident_alerts(struct store *s, const char *id,
			  int (*fn)(void *ctx, const struct store_alert *a), void *ctx)
{
	sqlite3_stmt *st;
	int ret;

	if (store_prep(s, "SELECT " STORE_ALERT_COLS " FROM incident_alerts i JOIN alerts a ON "
		       SAME_ALERT("i") " WHERE i.incident=? ORDER BY a.ts_wall, a.leaf, "
		       "a.rec_index, a.rule_id", &st))
		return -CUSTOS_ERR_IO;
	TEXT(st, 1, id);
	ret = each_alert(s, st, "the alerts of an incident", fn, ctx);
	sqlite3_finalize(st);
	return ret;
}
