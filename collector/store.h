/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: the narrow interface between the collector and its index, so
 * that another store (PostgreSQL/Citus for a scale-out collector) can sit
 * behind the same calls later. The embedded default is SQLite in WAL mode
 * (store_sqlite.c). Everything in a store is derived from the archive:
 * `custos-collector reindex` rebuilds it from nothing, so a store holds no
 * evidence, only a way to find it: every row points back to its batch
 * (leaf index and batch hash) and its record index in that batch. A
 * store of an older layout is refused on open, with a message saying to
 * run reindex (store_sqlite.c: schema version).
 *
 * Invariants a store keeps:
 *   1. indexed (store_indexed) = n means exactly the leaves 0..n-1 are in
 *      the store, each with all its rows: a batch's rows, its gap if any
 *      and the new value of n are written in one transaction.
 *   2. Leaves are added in leaf order, each once.
 * Crash: a transaction not committed leaves no trace (SQLite's journal),
 * so after a crash the store is at some n' <= the log's size, and the
 * collector indexes leaves n'..size-1 again before serving (catch-up).
 */
#ifndef CUSTOS_COLL_STORE_H
#define CUSTOS_COLL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "record.h"

#define STORE_PROC_ID_MAX 64
#define STORE_ADDR_MAX 128

struct store;

/* Clock quality of a batch's wall-clock times. */
enum store_clock {
	STORE_CLOCK_UNSYNCED = 0,	/* adjtimex: not synchronised */
	STORE_CLOCK_SYNCED = 1,		/* synchronised, max error <= 1 s */
	STORE_CLOCK_COARSE = 2,		/* synchronised, max error > 1 s */
};

struct store_batch {
	uint64_t leaf;
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	uint8_t boot_id[16];
	uint64_t seq;
	uint8_t hash[CUSTOS_HASH_LEN];
	uint64_t received_ns;
	uint64_t record_count;
	uint64_t first_ts_ns, last_ts_ns;
	int64_t clock_offset_ns;
	uint64_t ntp_synced, ntp_maxerror_us;
};

/* One row per record: the fields responders filter on. Strings are NUL
 * terminated (paths with NUL bytes are cut at the first one; the evidence
 * keeps them whole). */
struct store_row {
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	uint64_t ts_boot_ns;
	int64_t ts_wall_ns;
	int clock;			/* enum store_clock */
	uint32_t kind;
	uint64_t pid, ppid, uid;
	char proc_id[STORE_PROC_ID_MAX];	/* "" when unknown */
	const char *comm, *exe, *path;	/* "" when none */
	char addr[STORE_ADDR_MAX];	/* "" when none */
	uint64_t port;
	int64_t result;
	uint64_t lost;			/* loss and gap records */
	uint64_t leaf;
	uint8_t batch_hash[CUSTOS_HASH_LEN];
	uint32_t rec_index;
	unsigned depth;			/* timeline --tree: depth below the root */
};

/* A gap the collector saw in a host's chain (docs/format.md 3.5 step 8). */
struct store_gap {
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	uint64_t leaf;
	int err;			/* CUSTOS_ERR_SEQ_GAP or CUSTOS_ERR_CHAIN_BROKEN */
	uint64_t expected_seq, got_seq;
	int64_t ts_wall_ns;		/* wall time of the batch's first record */
};

/* What `hosts` shows of one host id. */
struct store_host {
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	uint64_t batches, records, last_seq, last_received_ns;
	int64_t last_heartbeat_ns;	/* 0: none */
	uint64_t gaps, lost;
	int clock;			/* of the last batch */
	uint64_t maxerror_us;
	int64_t clock_offset_ns;
};

struct store_query {
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	int64_t from_ns, to_ns;		/* wall clock, [from, to) */
	int has_pid, tree;
	uint64_t pid;
	uint32_t kind;			/* 0: any */
	const char *path_glob;		/* NULL: any */
	const char *addr;		/* NULL: any */
};

/* One record an alert rests on: its batch (leaf, hash) and its index. */
struct store_ref {
	uint64_t leaf;
	uint8_t batch_hash[CUSTOS_HASH_LEN];
	uint32_t rec_index;
};

#define STORE_ALERT_REFS_MAX 64	/* references kept per alert (corr.h) */
#define STORE_GROUP_MAX 128	/* an alert's group text, with its NUL */

/* An alert (triage.h): a rule that fired on one record. Alerts are
 * derived from the archive and the rules run over it, like every row.
 * A threshold or sequence rule (corr.h) fires on several records: the
 * alert's own reference (leaf, batch_hash, rec_index) is the record that
 * completed it, and refs[0..n_refs) lists every record that made it fire,
 * in record order, the first STORE_ALERT_REFS_MAX of ref_total. */
struct store_alert {
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	int64_t ts_wall_ns;
	const char *rule_id, *title;
	int severity;			/* enum sigma_level: 0 informational .. 4 critical */
	const char *category;		/* Sigma category */
	const char *taxonomy, *article, *technique;	/* "" when the rule has none */
	uint64_t pid;
	const char *image;		/* "" when unknown */
	uint64_t leaf;
	uint8_t batch_hash[CUSTOS_HASH_LEN];
	uint32_t rec_index;
	const struct store_ref *refs;	/* n_refs 0: a single-record alert */
	size_t n_refs;			/* <= STORE_ALERT_REFS_MAX */
	uint64_t ref_total;		/* records counted, >= n_refs */
	const char *group;		/* what they share ("pid 42", an address); NULL or "" */
};

/* Open (creating) the store at path; readonly for queries. OUT: *s.
 * Returns 0, -CUSTOS_ERR_IO. */
int store_open(const char *path, int readonly, struct store **s);
void store_close(struct store *s);	/* accepts NULL */

/* Transactions around one batch (invariant 1). Return 0 or -CUSTOS_ERR_IO. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* A group of batch transactions committed as one (fewer commits, each
 * page written once per group): between store_group_begin and
 * store_group_end, store_begin/commit/rollback act on one batch inside
 * the group (a rolled back batch leaves the others). A crash before
 * store_group_end loses the whole group, which catch-up redoes, so
 * invariant 1 holds. Return 0 or -CUSTOS_ERR_IO (store_group_end: the
 * group is rolled back). */
int store_group_begin(struct store *s);
int store_group_end(struct store *s);
/* Roll the whole group back (a group whose batches did not reach the
 * log). Accepts a store outside a group (nothing to do). */
void store_group_abort(struct store *s);
/* Whether s is inside a group. */
int store_group_open(const struct store *s);

/* Row writers, inside a transaction. Return 0 or -CUSTOS_ERR_IO. */
int store_add_batch(struct store *s, const struct store_batch *b);
int store_add_record(struct store *s, const struct store_row *r);
int store_add_gap(struct store *s, const struct store_gap *g);
int store_add_proc(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
		   const uint8_t boot_id[16], uint64_t pid, uint64_t start_ns, uint64_t ts);
int store_set_indexed(struct store *s, uint64_t n);

/* The number of leaves indexed (invariant 1). OUT: *n. Returns 0 or
 * -CUSTOS_ERR_IO. */
int store_indexed(struct store *s, uint64_t *n);

/* The start time of the process pid of host/boot that began last at or
 * before ts. OUT: *start_ns. Returns 0, 1 when unknown, -CUSTOS_ERR_IO. */
int store_find_proc(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
		    const uint8_t boot_id[16], uint64_t pid, uint64_t ts, uint64_t *start_ns);

/* The host's latest indexed batch. OUT: *seq, hash, *leaf. Returns 0, 1
 * when the host has none, -CUSTOS_ERR_IO. */
int store_host_last(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], uint64_t *seq,
		    uint8_t hash[CUSTOS_HASH_LEN], uint64_t *leaf);

/* The leaf of the batch with this hash. OUT: *leaf. Returns 0, 1 when
 * there is none, -CUSTOS_ERR_IO. */
int store_find_batch(struct store *s, const uint8_t hash[CUSTOS_HASH_LEN], uint64_t *leaf);

/* Call fn for each host id with batches. Stops at fn's first non-zero
 * return and returns it; else 0, or -CUSTOS_ERR_IO. */
int store_hosts(struct store *s, int (*fn)(void *ctx, const struct store_host *h), void *ctx);

/* Call fn for each row matching q, in wall-clock order, as they are read
 * (streaming). Same returns as store_hosts. */
int store_timeline(struct store *s, const struct store_query *q,
		   int (*fn)(void *ctx, const struct store_row *r), void *ctx);

/* Add an alert, once: the same rule on the same record is kept once (a
 * rerun of triage over old evidence adds only what is new), with its
 * references (n_refs > STORE_ALERT_REFS_MAX: the first that many). Returns
 * 0 or -CUSTOS_ERR_IO. */
int store_add_alert(struct store *s, const struct store_alert *a);

/* Call fn for each alert (of host_id, or every host when NULL) in
 * wall-clock order, with its references (valid during the call). Same
 * returns as store_hosts. */
int store_alerts(struct store *s, const uint8_t *host_id,
		 int (*fn)(void *ctx, const struct store_alert *a), void *ctx);

/* --- incidents (incident.h; SQLite: store_incidents.c) ---------------- */

#define STORE_INCIDENT_ID_MAX 48
#define STORE_TREE_MAX 96

/* An incident: alerts of one host and one process tree close in time
 * (docs/triage.md "Incidents"). The three sets are filled by readers
 * only: each member alert's distinct non-empty values, sorted, joined
 * by ", " ("" when none). */
struct store_incident {
	char id[STORE_INCIDENT_ID_MAX];	/* "inc-LEAF-RECORD" of its first alert */
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	char tree[STORE_TREE_MAX];	/* the tree's key: its root's process id */
	uint64_t root_pid;
	int64_t first_ns, last_ns;	/* wall clock of the first and last alert */
	int severity;			/* the highest of its alerts */
	uint64_t alerts;
	const char *classes, *articles, *techniques;
};

/* What the index knows of process pid of a host at wall time ts: its
 * latest subject record at or before ts. */
struct store_proc_info {
	uint64_t ppid;
	char proc_id[STORE_PROC_ID_MAX];	/* "" when unknown */
	char comm[CUSTOS_COMM_MAX + 1];
	char exe[CUSTOS_PATH_MAX + 1];	/* its latest exec or snapshot; "" when none */
	int64_t ts_wall_ns;
};

/* OUT: *p. Returns 0, 1 when the index has no record of pid at or before
 * ts, -CUSTOS_ERR_IO. */
int store_proc_at(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], uint64_t pid,
		  int64_t ts, struct store_proc_info *p);

/* The wall time of the host's latest indexed record. OUT: *ts (INT64_MIN
 * when it has none). Returns 0 or -CUSTOS_ERR_IO. */
int store_host_latest(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], int64_t *ts);

/* Call fn for each alert not yet in an incident, ordered by host, wall
 * time, leaf, record index. fn links it (store_incident_link) and returns
 * 0, or returns STORE_KEEP_PENDING to leave it for a later call; then the
 * linked ones are marked grouped. Same returns as store_hosts. */
#define STORE_KEEP_PENDING 1
int store_alerts_ungrouped(struct store *s, int (*fn)(void *ctx, const struct store_alert *a),
			   void *ctx);

/* The incident of (host, tree) with the latest last alert. OUT: *inc
 * (sets not filled). Returns 0, 1 when there is none, -CUSTOS_ERR_IO. */
int store_incident_last(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
			const char *tree, struct store_incident *inc);

/* Insert or replace an incident (its sets are ignored), and put alert a
 * in it. Returns 0 or -CUSTOS_ERR_IO. */
int store_incident_link(struct store *s, const struct store_incident *inc,
			const struct store_alert *a);

/* Forget every incident: all alerts are ungrouped again (triage regroups
 * them from scratch). Returns 0 or -CUSTOS_ERR_IO. */
int store_incidents_reset(struct store *s);

/* Call fn for each incident (of host_id, or all when NULL; only the one
 * named id when id is not NULL), ordered by first alert time then id.
 * Same returns as store_hosts. */
int store_incidents(struct store *s, const uint8_t *host_id, const char *id,
		    int (*fn)(void *ctx, const struct store_incident *inc), void *ctx);

/* Call fn for each alert of incident id in wall-clock order. Same
 * returns as store_hosts. */
int store_incident_alerts(struct store *s, const char *id,
			  int (*fn)(void *ctx, const struct store_alert *a), void *ctx);

/* The gaps of a host in [from, to), in order. Same returns. */
int store_gaps(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], int64_t from,
	       int64_t to, int (*fn)(void *ctx, const struct store_gap *g), void *ctx);

#endif
