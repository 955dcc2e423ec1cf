/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The index behind store.h in SQLite, WAL mode. The schema is created on
 * open; statements are prepared once. synchronous=NORMAL: a transaction
 * lost to a power cut leaves the index at an earlier consistent state,
 * which catch-up at the next start repairs (store.h invariant 1), so the
 * index never needs the archive's fsync per batch.
 *
 * Schema version 5 (STORE_SCHEMA_VERSION): each host key is stored once,
 * in hosts, and rows name it by row id; a record's batch hash is read
 * from batches (by leaf), not stored per record; records are keyed in
 * timeline order; the --tree walk reads kids, one row per (host, ppid,
 * time bucket, pid) seen, instead of an index entry per record (version
 * 2 had that index, records_tree); records_pid is led by a record's
 * time bucket of 2^STORE_PID_SHIFT ns (version 3: by its pid), so that a
 * group's entries land in the newest part of the index instead of one
 * place per live pid, and a pid's buckets are found through kids_pid
 * (store_query.c, store_proc_at); procs, the process starts, is led by
 * the start's time bucket the same way (version 4: by its pid), with
 * proc_pids saying in which kids buckets a pid has starts
 * (store_procs.c). Indexes of other versions are refused
 * (store_open says to run reindex): the index is derived, and rebuilding
 * it is the one migration.
 *
 * Ingest speed (docs/performance.md): a 64 MiB page cache; groups of batch
 * transactions committed as one (store_group_begin: savepoints inside one
 * transaction); a cache of process starts, because every record asks for
 * the start of its process (store_procs.c); and caches of kids and
 * exec_pids rows (KID_SLOTS each): a used slot names a row that is in the
 * database (a rollback empties the caches), so a record whose row is in
 * one adds none; most records of a busy process are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "error.h"
#include "store.h"
#include "store_sqlite_impl.h"

/* Host keys appear in the index once, in hosts; batches, records and
 * boots name a host by its row id there, procs a host's boot by its row
 * id in boots (readers look the key up with
 * STORE_HOST_IS). A record's batch hash is its batch's, in batches. */

static const char *const sql[Q_COUNT] = {
	[Q_BATCH] = "INSERT INTO batches VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
	[Q_RECORD] = "INSERT INTO records VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[Q_GAP] = "INSERT INTO gaps VALUES(?,?,?,?,?,?)",
	[Q_PROC] = "INSERT OR IGNORE INTO procs VALUES(?,?,?,?,?)",
	[Q_PROC_PID] = "INSERT OR IGNORE INTO proc_pids VALUES(?,?,?)",
	[Q_EXEC_PID] = "INSERT OR IGNORE INTO exec_pids VALUES(?,?,?)",
	[Q_KID] = "INSERT OR IGNORE INTO kids VALUES(?,?,?,?)",
	[Q_BOOT_ADD] = "INSERT INTO boots(host, boot) VALUES(?,?)",
	[Q_HOST_ADD] = "INSERT INTO hosts(key) VALUES(?)",
	[Q_SET_INDEXED] = "INSERT OR REPLACE INTO meta VALUES('indexed', ?)",
	[Q_INDEXED] = "SELECT v FROM meta WHERE k = 'indexed'",
	[Q_HOST_ID] = "SELECT id FROM hosts WHERE key=?",
	[Q_BOOT_ID] = "SELECT id FROM boots WHERE host=? AND boot=?",
	[Q_PROC_BIG] = "SELECT big FROM proc_pids WHERE boot=? AND pid=? AND big<=? "
		       "ORDER BY big DESC",
	[Q_PROC_IN] = "SELECT start_ns, ts FROM procs WHERE boot=? AND bucket=? AND pid=? AND "
		      "ts<=? ORDER BY ts DESC, start_ns DESC LIMIT 1",
	[Q_HOST_LAST] = "SELECT seq, hash, leaf FROM batches WHERE " STORE_HOST_IS("host", "?")
			" ORDER BY leaf DESC LIMIT 1",
	[Q_FIND_BATCH] = "SELECT leaf FROM batches WHERE hash=?",
};

/* The kids cache is set-associative like the process-start cache
 * (store_procs.c): KID_WAYS slots per set, a key only in its set. */
#define KID_SLOTS 65536u
#define KID_WAYS 4u

struct store_kid_slot {
	int64_t host, bucket;		/* host 0: slot unused (row ids start at 1) */
	uint64_t ppid, pid;
};

/* The schema's version, in PRAGMA user_version (0: none yet, or a
 * version 1 index, which had host keys and batch hashes in every row).
 * An index of another version is refused with a message saying to run
 * reindex, which rebuilds it from the archive (store_open). */
#define STORE_SCHEMA_VERSION 5
#define STR(x) #x
#define XSTR(x) STR(x)

/* page_size applies to a new index only (before its first write): 16 KiB
 * pages took about 7 % off ingest's CPU time against 4 KiB ones (fewer
 * page splits and WAL frames per row; docs/performance.md). */
static const char pragmas[] =
	"PRAGMA page_size=16384;"
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"PRAGMA cache_size=-65536;"
	"PRAGMA temp_store=MEMORY;"
	"PRAGMA wal_autocheckpoint=16384;";

/* records: keyed by (host, ts_wall, leaf, rec_index), the timeline's own
 * order, so that a window is one range of the table (no time index) and
 * one host's rows are appended mostly at its end. records_pid (host,
 * pid bucket, pid, time) serves --pid and the process at a time
 * (store_proc_at), one bucket at a time: kids_pid lists the kids buckets
 * in which a pid has records (every record adds its kids row), each
 * covering 2^(STORE_KIDS_SHIFT - STORE_PID_SHIFT) pid buckets;
 * records_exec, a partial index of the successful execs and snapshots
 * led by their kids bucket, with exec_pids listing each pid's buckets
 * there, a process's latest program (store_proc_at); kids the children of a
 * process in a window (--tree: the pids with a record of that ppid in the
 * window's buckets, each checked against records_pid). */
static const char schema[] =
	"BEGIN;"
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hosts(id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE);"
	"CREATE TABLE IF NOT EXISTS batches(leaf INTEGER PRIMARY KEY, host INTEGER NOT NULL,"
	" boot BLOB NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL UNIQUE,"
	" received INTEGER NOT NULL, nrec INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER,"
	" clock_offset INTEGER, ntp_synced INTEGER, maxerror INTEGER);"
	"CREATE INDEX IF NOT EXISTS batches_host ON batches(host, leaf);"
	"CREATE TABLE IF NOT EXISTS records(host INTEGER NOT NULL, ts_wall INTEGER NOT NULL,"
	" leaf INTEGER NOT NULL, rec_index INTEGER NOT NULL, ts_boot INTEGER NOT NULL,"
	" clock INTEGER NOT NULL, kind INTEGER NOT NULL, pid INTEGER, ppid INTEGER, uid INTEGER,"
	" proc_id TEXT, comm TEXT, exe TEXT, path TEXT, addr TEXT, port INTEGER, result INTEGER,"
	" lost INTEGER, PRIMARY KEY(host, ts_wall, leaf, rec_index)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS records_pid ON records(host, " STORE_PID_BUCKET("ts_wall")
	", pid, ts_wall);"
	"CREATE INDEX IF NOT EXISTS records_exec ON records(host, " STORE_EXEC_BUCKET("ts_wall")
	", pid, ts_wall) WHERE " STORE_EXEC_OK ";"
	"CREATE TABLE IF NOT EXISTS exec_pids(host INTEGER NOT NULL, pid INTEGER NOT NULL,"
	" bucket INTEGER NOT NULL, PRIMARY KEY(host, pid, bucket)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS kids(host INTEGER NOT NULL, ppid INTEGER NOT NULL,"
	" bucket INTEGER NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY(host, ppid, bucket, pid))"
	" WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS kids_pid ON kids(host, pid, bucket);"
	"CREATE TABLE IF NOT EXISTS gaps(host BLOB NOT NULL, leaf INTEGER PRIMARY KEY,"
	" err INTEGER NOT NULL, expected INTEGER, got INTEGER, ts_wall INTEGER);"
	"CREATE TABLE IF NOT EXISTS boots(id INTEGER PRIMARY KEY, host INTEGER NOT NULL,"
	" boot BLOB NOT NULL, UNIQUE(host, boot));"
	"CREATE TABLE IF NOT EXISTS procs(boot INTEGER NOT NULL, bucket INTEGER NOT NULL,"
	" pid INTEGER NOT NULL, start_ns INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" PRIMARY KEY(boot, bucket, pid, start_ns)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS proc_pids(boot INTEGER NOT NULL, pid INTEGER NOT NULL,"
	" big INTEGER NOT NULL, PRIMARY KEY(boot, pid, big)) WITHOUT ROWID;"
	"PRAGMA user_version=" XSTR(STORE_SCHEMA_VERSION) ";"
	"COMMIT;";

int store_fail(struct store *s, const char *what)
{
	fprintf(stderr, "custos-collector: index: %s: %s\n", what, sqlite3_errmsg(s->db));
	return -CUSTOS_ERR_IO;
}

/* The index's schema version: 0 for a new, empty database, -1 for one
 * of another version, whose message is printed. */
static int schema_version(struct store *s, const char *path)
{
	sqlite3_stmt *st;
	int v = -1, tables = 0;

	if (store_prep(s, "SELECT (SELECT user_version FROM pragma_user_version), "
		       "(SELECT count(*) FROM sqlite_master WHERE name='batches')", &st))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
		tables = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (v == STORE_SCHEMA_VERSION || (v == 0 && !tables))
		return v;
	if (v >= 0)
		fprintf(stderr, "custos-collector: index: %s has schema version %d, this collector "
			"uses %d: rebuild it from the archive with `custos-collector reindex` "
			"(serve stopped)\n", path, v ? v : 1, STORE_SCHEMA_VERSION);
	return -1;
}

int store_open(const char *path, int readonly, struct store **out)
{
	struct store *s = calloc(1, sizeof(*s));
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int v;

	*out = NULL;
	if (!s)
		return -CUSTOS_ERR_NOMEM;
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_fail(s, path);
		store_close(s);
		return -CUSTOS_ERR_IO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if ((v = schema_version(s, path)) < 0) {
		store_close(s);
		return -CUSTOS_ERR_IO;
	}
	if (!readonly && (sqlite3_exec(s->db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
			  (v == 0 && sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) ||
			  store_alerts_schema(s))) {
		store_fail(s, "creating the schema");
		store_close(s);
		return -CUSTOS_ERR_IO;
	}
	for (int i = 0; i < Q_COUNT; i++) {
		if (readonly && i < Q_INDEXED)
			continue;
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &s->st[i], NULL) != SQLITE_OK) {
			store_fail(s, sql[i]);
			store_close(s);
			return -CUSTOS_ERR_IO;
		}
	}
	if (!readonly && (store_procs_alloc(s) || !(s->kids = calloc(KID_SLOTS, sizeof(*s->kids))) ||
			  !(s->execs = calloc(KID_SLOTS, sizeof(*s->execs))))) {
		store_close(s);
		return -CUSTOS_ERR_NOMEM;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_procs_free(s);
	free(s->kids);
	free(s->execs);
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < C_COUNT; i++)
		sqlite3_finalize(s->cached[i]);
	sqlite3_close(s->db);
	free(s);
}

static int exec(struct store *s, const char *q)
{
	return sqlite3_exec(s->db, q, NULL, NULL, NULL) == SQLITE_OK ? 0 : store_fail(s, q);
}

int store_begin(struct store *s)
{
	return exec(s, s->group ? "SAVEPOINT batch" : "BEGIN IMMEDIATE");
}

int store_commit(struct store *s)
{
	return exec(s, s->group ? "RELEASE batch" : "COMMIT");
}

static void proc_cache_clear(struct store *s)
{
	s->host_row = s->boot_row = 0;	/* their rows may be rolled back too */
	store_procs_forget(s);
	if (s->kids)
		memset(s->kids, 0, KID_SLOTS * sizeof(*s->kids));
	if (s->execs)
		memset(s->execs, 0, KID_SLOTS * sizeof(*s->execs));
}

void store_rollback(struct store *s)
{
	if (s->group)
		sqlite3_exec(s->db, "ROLLBACK TO batch; RELEASE batch", NULL, NULL, NULL);
	else
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	proc_cache_clear(s);
}

int store_group_begin(struct store *s)
{
	int ret = s->group ? 0 : exec(s, "BEGIN IMMEDIATE");

	if (!ret)
		s->group = 1;
	return ret;
}

int store_group_end(struct store *s)
{
	int ret;

	if (!s->group)
		return 0;
	s->group = 0;
	ret = exec(s, "COMMIT");
	if (ret) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		proc_cache_clear(s);
	}
	return ret;
}

void store_group_abort(struct store *s)
{
	if (!s->group)
		return;
	s->group = 0;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	proc_cache_clear(s);
}

int store_group_open(const struct store *s)
{
	return s->group;
}

int store_run(struct store *s, int q)
{
	int rc = sqlite3_step(s->st[q]);

	sqlite3_reset(s->st[q]);
	sqlite3_clear_bindings(s->st[q]);
	return rc == SQLITE_DONE ? 0 : store_fail(s, sql[q]);
}



/* The row id of host key in hosts, added when add is set (inside a
 * transaction). OUT: *id. Returns 0, 1 when absent, -CUSTOS_ERR_IO. */
static int host_row(struct store *s, const uint8_t key[KEYS_SIGN_PK_LEN], int add, int64_t *id)
{
	int ret;

	if (s->host_row && memcmp(s->host_key, key, KEYS_SIGN_PK_LEN) == 0) {
		*id = s->host_row;
		return 0;
	}
	BLOB(s->st[Q_HOST_ID], 1, key, KEYS_SIGN_PK_LEN);
	ret = store_one(s, Q_HOST_ID);
	if (ret == 0) {
		*id = sqlite3_column_int64(s->st[Q_HOST_ID], 0);
		store_done(s, Q_HOST_ID);
	} else if (ret == 1 && add) {
		BLOB(s->st[Q_HOST_ADD], 1, key, KEYS_SIGN_PK_LEN);
		ret = store_run(s, Q_HOST_ADD);
		*id = sqlite3_last_insert_rowid(s->db);
	}
	if (ret)
		return ret;
	if (memcmp(s->host_key, key, KEYS_SIGN_PK_LEN) != 0)
		s->boot_row = 0;	/* it was of another host */
	memcpy(s->host_key, key, KEYS_SIGN_PK_LEN);
	s->host_row = *id;
	return 0;
}

/* The row id of (host, boot) in boots (a host's boots name its
 * processes in procs), added when add is set. Returns as host_row. */
int store_boot_row(struct store *s, const uint8_t key[KEYS_SIGN_PK_LEN], const uint8_t boot[16],
		   int add, int64_t *id)
{
	int64_t host;
	int ret;

	if (s->boot_row && s->host_row && memcmp(s->host_key, key, KEYS_SIGN_PK_LEN) == 0 &&
	    memcmp(s->boot_key, boot, 16) == 0) {
		*id = s->boot_row;
		return 0;
	}
	ret = host_row(s, key, add, &host);
	if (ret)
		return ret;
	I64(s->st[Q_BOOT_ID], 1, host);
	BLOB(s->st[Q_BOOT_ID], 2, boot, 16);
	ret = store_one(s, Q_BOOT_ID);
	if (ret == 0) {
		*id = sqlite3_column_int64(s->st[Q_BOOT_ID], 0);
		store_done(s, Q_BOOT_ID);
	} else if (ret == 1 && add) {
		I64(s->st[Q_BOOT_ADD], 1, host);
		BLOB(s->st[Q_BOOT_ADD], 2, boot, 16);
		ret = store_run(s, Q_BOOT_ADD);
		*id = sqlite3_last_insert_rowid(s->db);
	}
	if (ret)
		return ret;
	memcpy(s->boot_key, boot, 16);
	s->boot_row = *id;
	return 0;
}

int store_host_rowid(struct store *s, const uint8_t key[KEYS_SIGN_PK_LEN], int64_t *id)
{
	return host_row(s, key, 0, id);
}

int store_add_batch(struct store *s, const struct store_batch *b)
{
	sqlite3_stmt *st = s->st[Q_BATCH];
	int64_t host;
	int ret = host_row(s, b->host_id, 1, &host);

	if (ret)
		return ret;
	I64(st, 1, b->leaf);
	I64(st, 2, host);
	BLOB(st, 3, b->boot_id, sizeof(b->boot_id));
	I64(st, 4, b->seq);
	BLOB(st, 5, b->hash, sizeof(b->hash));
	I64(st, 6, b->received_ns);
	I64(st, 7, b->record_count);
	I64(st, 8, b->first_ts_ns);
	I64(st, 9, b->last_ts_ns);
	I64(st, 10, b->clock_offset_ns);
	I64(st, 11, b->ntp_synced);
	I64(st, 12, b->ntp_maxerror_us);
	return store_run(s, Q_BATCH);
}

/* Text that SQLite need not copy: the row is stepped before the caller's
 * strings change. */
#define STATIC_TEXT(st, i, v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)

/* The slot of (host, bucket, ppid, pid) in cache c (KID_SLOTS slots,
 * KID_WAYS per set): *hit when it is there, else the slot to fill once
 * its row is in the database. */
static struct store_kid_slot *kid_slot(struct store *s, struct store_kid_slot *c, int64_t host,
				       int64_t bucket, uint64_t ppid, uint64_t pid, int *hit)
{
	uint64_t h = (pid * 0x9e3779b97f4a7c15ull) ^ (ppid * 0xff51afd7ed558ccdull) ^
		     (uint64_t)(bucket * 31 + host) * 0xc4ceb9fe1a85ec53ull;
	struct store_kid_slot *set = &c[(h ^ h >> 32) % (KID_SLOTS / KID_WAYS) * KID_WAYS], *e;

	*hit = 0;
	for (unsigned i = 0; i < KID_WAYS; i++)
		if (set[i].host == host && set[i].bucket == bucket && set[i].ppid == ppid &&
		    set[i].pid == pid) {
			*hit = 1;
			return &set[i];
		}
	e = &set[s->victim++ % KID_WAYS];
	for (unsigned i = 0; i < KID_WAYS; i++)
		if (!set[i].host)
			e = &set[i];
	return e;
}

/* The kids row of a record of host (cache invariant above). */
static int add_kid(struct store *s, int64_t host, const struct store_row *r)
{
	int64_t bucket = store_kids_bucket(r->ts_wall_ns);
	sqlite3_stmt *st = s->st[Q_KID];
	int hit, ret;
	struct store_kid_slot *e = kid_slot(s, s->kids, host, bucket, r->ppid, r->pid, &hit);

	if (hit)
		return 0;
	I64(st, 1, host);
	I64(st, 2, r->ppid);
	I64(st, 3, bucket);
	I64(st, 4, r->pid);
	ret = store_run(s, Q_KID);
	if (!ret)
		*e = (struct store_kid_slot){ host, bucket, r->ppid, r->pid };
	return ret;
}

/* The exec_pids row of a successful exec or snapshot of host (the same
 * cache invariant, in s->execs). */
static int add_exec_pid(struct store *s, int64_t host, const struct store_row *r)
{
	int64_t bucket = store_kids_bucket(r->ts_wall_ns);
	sqlite3_stmt *st = s->st[Q_EXEC_PID];
	int hit, ret;
	struct store_kid_slot *e = kid_slot(s, s->execs, host, bucket, 0, r->pid, &hit);

	if (hit)
		return 0;
	I64(st, 1, host);
	I64(st, 2, r->pid);
	I64(st, 3, bucket);
	ret = store_run(s, Q_EXEC_PID);
	if (!ret)
		*e = (struct store_kid_slot){ host, bucket, 0, r->pid };
	return ret;
}

int store_add_record(struct store *s, const struct store_row *r)
{
	sqlite3_stmt *st = s->st[Q_RECORD];
	int64_t host;
	int ret = host_row(s, r->host_id, 1, &host);

	if (!ret && s->kids)
		ret = add_kid(s, host, r);
	if (!ret && s->execs && (r->kind == CUSTOS_REC_EXEC || r->kind == CUSTOS_REC_SNAPSHOT) &&
	    r->result == 0)	/* STORE_EXEC_OK */
		ret = add_exec_pid(s, host, r);
	if (ret)
		return ret;
	I64(st, 1, host);
	I64(st, 2, r->ts_wall_ns);
	I64(st, 3, r->leaf);
	I64(st, 4, r->rec_index);
	I64(st, 5, r->ts_boot_ns);
	I64(st, 6, r->clock);
	I64(st, 7, r->kind);
	I64(st, 8, r->pid);
	I64(st, 9, r->ppid);
	I64(st, 10, r->uid);
	STATIC_TEXT(st, 11, r->proc_id);
	STATIC_TEXT(st, 12, r->comm);
	STATIC_TEXT(st, 13, r->exe);
	STATIC_TEXT(st, 14, r->path);
	STATIC_TEXT(st, 15, r->addr);
	I64(st, 16, r->port);
	I64(st, 17, r->result);
	I64(st, 18, r->lost);
	return store_run(s, Q_RECORD);
}

int store_add_gap(struct store *s, const struct store_gap *g)
{
	sqlite3_stmt *st = s->st[Q_GAP];

	BLOB(st, 1, g->host_id, sizeof(g->host_id));
	I64(st, 2, g->leaf);
	I64(st, 3, g->err);
	I64(st, 4, g->expected_seq);
	I64(st, 5, g->got_seq);
	I64(st, 6, g->ts_wall_ns);
	return store_run(s, Q_GAP);
}

int store_set_indexed(struct store *s, uint64_t n)
{
	I64(s->st[Q_SET_INDEXED], 1, n);
	return store_run(s, Q_SET_INDEXED);
}

int store_one(struct store *s, int q)
{
	int rc = sqlite3_step(s->st[q]);

	if (rc == SQLITE_ROW)
		return 0;
	sqlite3_reset(s->st[q]);
	sqlite3_clear_bindings(s->st[q]);
	return rc == SQLITE_DONE ? 1 : store_fail(s, sql[q]);
}

void store_done(struct store *s, int q)
{
	sqlite3_reset(s->st[q]);
	sqlite3_clear_bindings(s->st[q]);
}

int store_indexed(struct store *s, uint64_t *n)
{
	int ret = store_one(s, Q_INDEXED);

	*n = 0;
	if (ret)
		return ret < 0 ? ret : 0;
	*n = (uint64_t)sqlite3_column_int64(s->st[Q_INDEXED], 0);
	store_done(s, Q_INDEXED);
	return 0;
}

int store_host_last(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], uint64_t *seq,
		    uint8_t hash[CUSTOS_HASH_LEN], uint64_t *leaf)
{
	sqlite3_stmt *st = s->st[Q_HOST_LAST];
	int ret;

	BLOB(st, 1, host_id, KEYS_SIGN_PK_LEN);
	ret = store_one(s, Q_HOST_LAST);
	if (ret)
		return ret;
	*seq = (uint64_t)sqlite3_column_int64(st, 0);
	if (sqlite3_column_bytes(st, 1) == CUSTOS_HASH_LEN)
		memcpy(hash, sqlite3_column_blob(st, 1), CUSTOS_HASH_LEN);
	*leaf = (uint64_t)sqlite3_column_int64(st, 2);
	store_done(s, Q_HOST_LAST);
	return 0;
}

int store_find_batch(struct store *s, const uint8_t hash[CUSTOS_HASH_LEN], uint64_t *leaf)
{
	int ret;

	BLOB(s->st[Q_FIND_BATCH], 1, hash, CUSTOS_HASH_LEN);
	ret = store_one(s, Q_FIND_BATCH);
	if (ret)
		return ret;
	*leaf = (uint64_t)sqlite3_column_int64(s->st[Q_FIND_BATCH], 0);
	store_done(s, Q_FIND_BATCH);
	return 0;
}

int store_prep(struct store *s, const char *q, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(s->db, q, -1, st, NULL) == SQLITE_OK ? 0 : store_fail(s, q);
}

int store_cached(struct store *s, int slot, const char *q, sqlite3_stmt **st)
{
	if (!s->cached[slot] &&
	    sqlite3_prepare_v3(s->db, q, -1, SQLITE_PREPARE_PERSISTENT, &s->cached[slot], NULL) !=
		    SQLITE_OK)
		return store_fail(s, q);
	sqlite3_reset(s->cached[slot]);
	sqlite3_clear_bindings(s->cached[slot]);
	*st = s->cached[slot];
	return 0;
}
