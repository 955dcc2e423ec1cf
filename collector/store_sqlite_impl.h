/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the SQLite store's files share, and nothing else includes: the
 * store object and the helpers that report an SQLite error with its
 * statement. store_sqlite.c holds the evidence index (batches, records,
 * gaps) and its writer; store_procs.c the process starts (procs) and
 * their cache; store_query.c the responders' queries
 * of it; store_alerts.c and store_incidents.c the triage tables (alerts,
 * incidents), which are derived from the index and the rules like every
 * row.
 */
#ifndef CUSTOS_STORE_SQLITE_IMPL_H
#define CUSTOS_STORE_SQLITE_IMPL_H

#include <sqlite3.h>

#include "store.h"

/* The statements store_sqlite.c prepares once at open (a read-only store:
 * from Q_INDEXED on). */
enum {
	Q_BATCH, Q_RECORD, Q_GAP, Q_PROC, Q_PROC_PID, Q_EXEC_PID, Q_KID, Q_HOST_ADD, Q_BOOT_ADD, Q_SET_INDEXED,
	Q_INDEXED, Q_HOST_ID, Q_BOOT_ID, Q_PROC_BIG, Q_PROC_IN, Q_HOST_LAST, Q_FIND_BATCH, Q_COUNT
};

/* The statements store_alerts.c keeps once prepared (store_cached): its
 * tables are created after the statements above are prepared, and an
 * alert would otherwise compile its INSERTs each time. */
enum { C_ALERT, C_ALERT_GROUP, C_ALERT_REF, C_UNGROUPED, C_PENDING_ALL, C_PENDING_LINKED, C_COUNT };

struct store_proc_slot;
struct store_kid_slot;

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[Q_COUNT];
	sqlite3_stmt *cached[C_COUNT];	/* NULL until first used */
	int group;			/* inside store_group_begin/end */
	struct store_proc_slot *procs;	/* store_procs.c: process-start cache */
	uint64_t *proc_tags;		/* store_procs.c: its slots' key hashes */
	struct store_kid_slot *kids;	/* store_sqlite.c: kids rows written lately */
	struct store_kid_slot *execs;	/* store_sqlite.c: exec_pids rows written lately */
	uint8_t host_key[KEYS_SIGN_PK_LEN];	/* the last host looked up... */
	int64_t host_row;			/* ...its row id in hosts; 0: none cached */
	uint8_t boot_key[16];			/* the last boot of that host looked up... */
	int64_t boot_row;			/* ...its row id in boots; 0: none cached */
	unsigned victim;			/* store_sqlite.c: the caches' next way to replace */
};

/* The kids table (store_sqlite.c) says which pids had a record with a
 * given ppid in each time bucket of 2^STORE_KIDS_SHIFT ns of wall-clock
 * time (about 69 s): the --tree walk reads it instead of an index entry
 * per record. The bucket of wall time ts, floored (ts may be negative). */
#define STORE_KIDS_SHIFT 36
static inline int64_t store_kids_bucket(int64_t ts)
{
	return ts >= 0 ? ts >> STORE_KIDS_SHIFT : -(((-(ts + 1)) >> STORE_KIDS_SHIFT) + 1);
}

/* records_pid (store_sqlite.c) is led by a record's pid bucket, its wall
 * time >> STORE_PID_SHIFT (about 4.3 s; SQLite's >> floors), so that the
 * entries a group adds are near each other; a kids bucket holds
 * STORE_PID_PER_KIDS pid buckets. Queries name the index's expression as
 * STORE_PID_BUCKET(column) (SQLite uses an index on an expression only
 * for the same expression). */
#define STORE_PID_SHIFT 32
#define STORE_PID_PER_KIDS 16
#define STORE_PID_BUCKET(col) "(" col ">>32)"
_Static_assert(STORE_PID_SHIFT == 32, "STORE_PID_BUCKET's text names the shift");
_Static_assert(STORE_PID_PER_KIDS == 1 << (STORE_KIDS_SHIFT - STORE_PID_SHIFT), "per kids");
static inline int64_t store_pid_bucket(int64_t ts)
{
	return ts >= 0 ? ts >> STORE_PID_SHIFT : -(((-(ts + 1)) >> STORE_PID_SHIFT) + 1);
}

/* The records records_exec indexes (a partial index: the queries that
 * use it repeat this condition): successful execs and snapshots. */
#define STORE_EXEC_OK "kind IN (1,10) AND result=0"
/* records_exec is led by a record's kids bucket (its wall time >>
 * STORE_KIDS_SHIFT), so that a group's entries land in the newest part
 * of the index; exec_pids lists the kids buckets in which a pid has such
 * records (store_sqlite.c), newest first for store_proc_at. */
#define STORE_EXEC_BUCKET(col) "(" col ">>36)"

/* A query's test of a host column against the host key bound as
 * parameter p (hosts maps keys to the row ids other tables hold). */
#define STORE_HOST_IS(col, p) col "=(SELECT id FROM hosts WHERE key=" p ")"

/* Print "custos-collector: index: WHAT: <sqlite message>" and return
 * -CUSTOS_ERR_IO. */
int store_fail(struct store *s, const char *what);

/* The row id of host key in hosts (the rows of other tables name it so).
 * OUT: *id. Returns 0, 1 when the host has none, -CUSTOS_ERR_IO. */
int store_host_rowid(struct store *s, const uint8_t key[KEYS_SIGN_PK_LEN], int64_t *id);

/* The row id of (host, boot) in boots, added (with its host) when add
 * is set (inside a transaction). OUT: *id. Returns 0, 1 when absent,
 * -CUSTOS_ERR_IO. */
int store_boot_row(struct store *s, const uint8_t key[KEYS_SIGN_PK_LEN], const uint8_t boot[16],
		   int add, int64_t *id);

/* Statement q of st[] (its parameters bound): store_run steps an insert
 * and resets it (0 or -CUSTOS_ERR_IO); store_one steps a query, 0 with a
 * row (the caller reads it, then calls store_done), 1 with none (reset),
 * or -CUSTOS_ERR_IO (reset); store_done resets it. */
int store_run(struct store *s, int q);
int store_one(struct store *s, int q);
void store_done(struct store *s, int q);

/* The process-start cache (store_procs.c): allocate it (0 or
 * -CUSTOS_ERR_NOMEM), empty it (after a rollback: it must hold no row
 * that is not in the database), free it (accepts none). */
int store_procs_alloc(struct store *s);
void store_procs_forget(struct store *s);
void store_procs_free(struct store *s);

/* Prepare q. OUT: *st. Returns 0 or -CUSTOS_ERR_IO (reported). */
int store_prep(struct store *s, const char *q, sqlite3_stmt **st);

/* The statement of slot (C_*), q prepared at its first use and kept until
 * store_close, reset with its bindings cleared: the caller resets it after
 * stepping, never finalises it. OUT: *st. Returns 0 or -CUSTOS_ERR_IO. */
int store_cached(struct store *s, int slot, const char *q, sqlite3_stmt **st);

/* Create the triage tables if missing (store_alerts.c). Returns 0 or
 * -CUSTOS_ERR_IO. */
int store_alerts_schema(struct store *s);

/* Create the incident tables and the trigger that marks each new alert
 * ungrouped (store_incidents.c), after the alerts table. Returns 0 or
 * -CUSTOS_ERR_IO. */
int store_incidents_schema(struct store *s);

/* The alerts table's columns in the order store_alert_row reads them
 * (alias "a"), for every query that returns alert rows. */
#define STORE_ALERT_COLS "a.host, a.ts_wall, a.rule_id, a.title, a.severity, a.category," \
	" a.taxonomy, a.article, a.technique, a.pid, a.image, a.leaf, a.batch_hash, a.rec_index"
/* The alert of st's current row, selected as STORE_ALERT_COLS from column
 * 0 (store_alerts.c). OUT: *a (its strings point into st's row: valid
 * until the next step; NULL text as ""; no references). */
void store_alert_row(sqlite3_stmt *st, struct store_alert *a);

#define BLOB(st, i, p, n) sqlite3_bind_blob(st, i, p, (int)(n), SQLITE_TRANSIENT)
#define I64(st, i, v) sqlite3_bind_int64(st, i, (sqlite3_int64)(v))
#define TEXT(st, i, v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT)

#endif
