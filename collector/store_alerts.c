/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The triage tables of the SQLite store (issue 6): alerts, each a rule
 * that fired with the references of the record it rests on. They are
 * derived data: rerunning triage over the archive rebuilds them, and the
 * primary key keeps an alert once however often its rule is rerun.
 */
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "error.h"
#include "store.h"
#include "store_sqlite_impl.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS alerts(host BLOB NOT NULL, ts_wall INTEGER NOT NULL,"
	" rule_id TEXT NOT NULL, title TEXT, severity INTEGER, category TEXT, taxonomy TEXT,"
	" article TEXT, technique TEXT, pid INTEGER, image TEXT, leaf INTEGER NOT NULL,"
	" batch_hash BLOB NOT NULL, rec_index INTEGER NOT NULL,"
	" PRIMARY KEY(rule_id, leaf, rec_index)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS alerts_time ON alerts(host, ts_wall);"
	/* Multi-record alerts (threshold and sequence rules, corr.h): the
	 * group and total once per alert, each reference in order. */
	"CREATE TABLE IF NOT EXISTS alert_groups(rule_id TEXT NOT NULL, leaf INTEGER NOT NULL,"
	" rec_index INTEGER NOT NULL, ref_total INTEGER NOT NULL, grp TEXT,"
	" PRIMARY KEY(rule_id, leaf, rec_index)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS alert_refs(rule_id TEXT NOT NULL, leaf INTEGER NOT NULL,"
	" rec_index INTEGER NOT NULL, ord INTEGER NOT NULL, ref_leaf INTEGER NOT NULL,"
	" ref_hash BLOB NOT NULL, ref_index INTEGER NOT NULL,"
	" PRIMARY KEY(rule_id, leaf, rec_index, ord)) WITHOUT ROWID;";

int store_alerts_schema(struct store *s)
{
	if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, "creating the alert tables");
	return store_incidents_schema(s);	/* store_incidents.c */
}

/* The references of a multi-record alert (alert_groups, alert_refs). */
static int add_refs(struct store *s, const struct store_alert *a)
{
	size_t n = a->n_refs < STORE_ALERT_REFS_MAX ? a->n_refs : STORE_ALERT_REFS_MAX;
	sqlite3_stmt *st;
	int rc;

	if (store_cached(s, C_ALERT_GROUP, "INSERT OR IGNORE INTO alert_groups VALUES(?,?,?,?,?)",
			 &st))
		return -CUSTOS_ERR_IO;
	TEXT(st, 1, a->rule_id);
	I64(st, 2, a->leaf);
	I64(st, 3, a->rec_index);
	I64(st, 4, a->ref_total > n ? a->ref_total : n);
	TEXT(st, 5, a->group ? a->group : "");
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE ||
	    store_cached(s, C_ALERT_REF, "INSERT OR IGNORE INTO alert_refs VALUES(?,?,?,?,?,?,?)", &st))
		return rc != SQLITE_DONE ? store_fail(s, "adding an alert's group") : -CUSTOS_ERR_IO;
	for (size_t i = 0; rc == SQLITE_DONE && i < n; i++) {
		sqlite3_reset(st);
		TEXT(st, 1, a->rule_id);
		I64(st, 2, a->leaf);
		I64(st, 3, a->rec_index);
		I64(st, 4, i);
		I64(st, 5, a->refs[i].leaf);
		BLOB(st, 6, a->refs[i].batch_hash, CUSTOS_HASH_LEN);
		I64(st, 7, a->refs[i].rec_index);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "adding an alert's references");
}

int store_add_alert(struct store *s, const struct store_alert *a)
{
	sqlite3_stmt *st;
	int rc;

	if (store_cached(s, C_ALERT, "INSERT OR IGNORE INTO alerts(host, ts_wall, rule_id, title,"
			 " severity, category, taxonomy, article, technique, pid, image, leaf,"
			 " batch_hash, rec_index) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st))
		return -CUSTOS_ERR_IO;
	BLOB(st, 1, a->host_id, sizeof(a->host_id));
	I64(st, 2, a->ts_wall_ns);
	TEXT(st, 3, a->rule_id);
	TEXT(st, 4, a->title);
	I64(st, 5, a->severity);
	TEXT(st, 6, a->category);
	TEXT(st, 7, a->taxonomy);
	TEXT(st, 8, a->article);
	TEXT(st, 9, a->technique);
	I64(st, 10, a->pid);
	TEXT(st, 11, a->image);
	I64(st, 12, a->leaf);
	BLOB(st, 13, a->batch_hash, sizeof(a->batch_hash));
	I64(st, 14, a->rec_index);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "adding an alert");
	return a->n_refs ? add_refs(s, a) : 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

void store_alert_row(sqlite3_stmt *st, struct store_alert *a)
{
	memset(a, 0, sizeof(*a));
	if (sqlite3_column_bytes(st, 0) == KEYS_SIGN_PK_LEN)
		memcpy(a->host_id, sqlite3_column_blob(st, 0), KEYS_SIGN_PK_LEN);
	a->ts_wall_ns = sqlite3_column_int64(st, 1);
	a->rule_id = col_text(st, 2);
	a->title = col_text(st, 3);
	a->severity = sqlite3_column_int(st, 4);
	a->category = col_text(st, 5);
	a->taxonomy = col_text(st, 6);
	a->article = col_text(st, 7);
	a->technique = col_text(st, 8);
	a->pid = (uint64_t)sqlite3_column_int64(st, 9);
	a->image = col_text(st, 10);
	a->leaf = (uint64_t)sqlite3_column_int64(st, 11);
	if (sqlite3_column_bytes(st, 12) == CUSTOS_HASH_LEN)
		memcpy(a->batch_hash, sqlite3_column_blob(st, 12), CUSTOS_HASH_LEN);
	a->rec_index = (uint32_t)sqlite3_column_int64(st, 13);
}

/* Read a's references (none for a single-record alert). OUT: refs, grp,
 * a->refs, n_refs, ref_total, group. */
static int read_refs(struct store *s, struct store_alert *a, struct store_ref *refs, char *grp)
{
	sqlite3_stmt *st;
	int rc;

	a->refs = refs;
	a->group = grp;
	grp[0] = '\0';
	if (store_prep(s, "SELECT ref_total, grp FROM alert_groups WHERE rule_id=? AND leaf=?"
		       " AND rec_index=?", &st))
		return -CUSTOS_ERR_IO;
	TEXT(st, 1, a->rule_id);
	I64(st, 2, a->leaf);
	I64(st, 3, a->rec_index);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		a->ref_total = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(grp, STORE_GROUP_MAX, "%s", col_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : store_fail(s, "an alert's group");
	if (store_prep(s, "SELECT ref_leaf, ref_hash, ref_index FROM alert_refs WHERE rule_id=?"
		       " AND leaf=? AND rec_index=? ORDER BY ord", &st))
		return -CUSTOS_ERR_IO;
	TEXT(st, 1, a->rule_id);
	I64(st, 2, a->leaf);
	I64(st, 3, a->rec_index);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && a->n_refs < STORE_ALERT_REFS_MAX) {
		struct store_ref *r = &refs[a->n_refs++];

		memset(r, 0, sizeof(*r));
		r->leaf = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == CUSTOS_HASH_LEN)
			memcpy(r->batch_hash, sqlite3_column_blob(st, 1), CUSTOS_HASH_LEN);
		r->rec_index = (uint32_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(s, "an alert's references");
}

int store_alerts(struct store *s, const uint8_t *host_id,
		 int (*fn)(void *ctx, const struct store_alert *a), void *ctx)
{
	struct store_ref refs[STORE_ALERT_REFS_MAX];
	char grp[STORE_GROUP_MAX];
	sqlite3_stmt *st;
	struct store_alert a;
	int rc, ret = 0;

	if (store_prep(s, host_id ? "SELECT " STORE_ALERT_COLS " FROM alerts a WHERE host=?"
				    " ORDER BY ts_wall, leaf, rec_index"
				  : "SELECT " STORE_ALERT_COLS " FROM alerts a"
				    " ORDER BY ts_wall, leaf, rec_index", &st))
		return -CUSTOS_ERR_IO;
	if (host_id)
		BLOB(st, 1, host_id, KEYS_SIGN_PK_LEN);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_alert_row(st, &a);
		ret = read_refs(s, &a, refs, grp);
		if (!ret)
			ret = fn(ctx, &a);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, "alerts");
	sqlite3_finalize(st);
	return ret;
}
