/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process starts of the SQLite index (store.h: store_add_proc,
 * store_find_proc) and the writer's cache of them. Every record asks for
 * the start of its process (its stable process id, docs/format.md 2.5),
 * and every fork or exec of a new process adds one.
 *
 * Layout (schema 5): procs is keyed by (boot, bucket, pid, start_ns),
 * bucket = the start row's ts >> STORE_PID_SHIFT (about 4.3 s of boot
 * time), so that the rows a group adds land at the newest end of the
 * table; schema 4 keyed it by (boot, pid, start_ns), and with thousands of
 * live pids each group rewrote most of the table's pages (one insert per
 * pid somewhere in it; docs/performance.md). proc_pids (boot, pid, big)
 * lists the kids-sized buckets (ts >> STORE_KIDS_SHIFT, STORE_PID_PER_KIDS
 * buckets each) in which a pid has starts: a lookup walks them newest
 * first and, inside each, its buckets newest first.
 *
 * Invariants:
 *   1. The answer for (boot, pid) at time ts is the row with the greatest
 *      (ts, start_ns) among the pid's rows at or before ts (none: unknown).
 *   2. A start is added unless it is the start of the pid's latest row
 *      (the process already known to run): the decision depends on the
 *      database alone, so ingest, catch-up and reindex, which add the
 *      same starts in the same order, write the same rows whatever the
 *      cache held. A (pid, start) already in the same bucket is kept as
 *      it was (INSERT OR IGNORE).
 *   3. Every bucket with a row of a pid has its big bucket in proc_pids.
 *   4. Cache: PROC_SLOTS slots keyed by (host, boot, pid), a key in at
 *      most one slot; a used slot holds its key's latest row (invariant
 *      1 at ts = infinity) or says there is none. Only this writer adds
 *      rows, each add updates its slot, and a rollback empties the cache
 *      (store_procs_forget), so it never holds a row that is not in the
 *      database. A question for a time before the cached row's goes to
 *      SQLite.
 * Crash: nothing here outlives a transaction that is not committed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store.h"
#include "store_sqlite_impl.h"

/* Set-associative, PROC_WAYS slots per set: a key lives only in its set,
 * and a key not there replaces an unused slot or the set's slot s->victim
 * names (a direct-mapped cache of 65,536 slots lost a quarter of the
 * benchmark's 15,000 live pids to collisions, each miss a query of procs:
 * docs/performance.md). */
#define PROC_SLOTS 65536u
#define PROC_WAYS 4u

struct store_proc_slot {
	uint8_t host[KEYS_SIGN_PK_LEN], boot[16];
	uint64_t pid, start_ns, ts;
	uint8_t used, has;		/* has = 0: procs has no row for the key */
};

int store_procs_alloc(struct store *s)
{
	s->procs = calloc(PROC_SLOTS, sizeof(*s->procs));
	s->proc_tags = calloc(PROC_SLOTS, sizeof(*s->proc_tags));
	return s->procs && s->proc_tags ? 0 : -CUSTOS_ERR_NOMEM;
}

void store_procs_forget(struct store *s)
{
	if (s->procs)
		memset(s->procs, 0, PROC_SLOTS * sizeof(*s->procs));
	if (s->proc_tags)
		memset(s->proc_tags, 0, PROC_SLOTS * sizeof(*s->proc_tags));
}

void store_procs_free(struct store *s)
{
	free(s->procs);
	free(s->proc_tags);
	s->procs = NULL;
	s->proc_tags = NULL;
}

static int slot_is(const struct store_proc_slot *e, const uint8_t host_id[KEYS_SIGN_PK_LEN],
		   const uint8_t boot_id[16], uint64_t pid)
{
	return e->used && e->pid == pid && memcmp(e->host, host_id, KEYS_SIGN_PK_LEN) == 0 &&
	       memcmp(e->boot, boot_id, 16) == 0;
}

/* The key's slot, or when it has none and take is set, the slot of its
 * set it may replace (not filled); else NULL. proc_tags[i] is a hash of
 * the key that slot i held last (0: none): a filter read before the
 * slot, whose key decides. */
static struct store_proc_slot *slot(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
				    const uint8_t boot_id[16], uint64_t pid, int take)
{
	uint64_t h = pid * 0x9e3779b97f4a7c15ull, a, b, *tags;
	size_t first;
	unsigned w;

	memcpy(&a, host_id, sizeof(a));
	memcpy(&b, boot_id, sizeof(b));
	h ^= (a ^ b) * 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	first = h % (PROC_SLOTS / PROC_WAYS) * PROC_WAYS;
	tags = &s->proc_tags[first];
	for (w = 0; w < PROC_WAYS; w++)
		if (tags[w] == (h | 1) && slot_is(&s->procs[first + w], host_id, boot_id, pid))
			return &s->procs[first + w];
	if (!take)
		return NULL;
	w = s->victim++ % PROC_WAYS;
	for (unsigned i = 0; i < PROC_WAYS; i++)
		if (!s->procs[first + i].used)
			w = i;
	tags[w] = h | 1;
	return &s->procs[first + w];
}

/* Invariant 1 in SQL: boot's row id, pid, the time asked (clamped to
 * SQLite's integers). OUT: *start_ns, *row_ts. Returns 0, 1 when the pid
 * has no row at or before ts, -CUSTOS_ERR_IO. */
static int walk(struct store *s, int64_t boot, uint64_t pid, uint64_t ts, uint64_t *start_ns,
		uint64_t *row_ts)
{
	sqlite3_stmt *big = s->st[Q_PROC_BIG], *in = s->st[Q_PROC_IN];
	int64_t t = ts > INT64_MAX ? INT64_MAX : (int64_t)ts, last = t >> STORE_PID_SHIFT;
	int rc = SQLITE_DONE, ret = 1;

	I64(big, 1, boot);
	I64(big, 2, pid);
	I64(big, 3, t >> STORE_KIDS_SHIFT);
	while (ret == 1 && (rc = sqlite3_step(big)) == SQLITE_ROW) {
		int64_t first = sqlite3_column_int64(big, 0) * STORE_PID_PER_KIDS;
		int64_t b = first + STORE_PID_PER_KIDS - 1 < last ? first + STORE_PID_PER_KIDS - 1
								  : last;
		for (; ret == 1 && b >= first; b--) {	/* newer buckets, later rows */
			I64(in, 1, boot);
			I64(in, 2, b);
			I64(in, 3, pid);
			I64(in, 4, t);
			ret = store_one(s, Q_PROC_IN);
		}
	}
	if (ret == 0) {
		*start_ns = (uint64_t)sqlite3_column_int64(in, 0);
		*row_ts = (uint64_t)sqlite3_column_int64(in, 1);
		store_done(s, Q_PROC_IN);
	} else if (ret == 1 && rc != SQLITE_DONE) {
		ret = store_fail(s, "procs: a process's start");
	}
	store_done(s, Q_PROC_BIG);
	return ret;
}

/* Fill e with the key's latest row (invariant 4). Returns 0 or
 * -CUSTOS_ERR_IO. */
static int slot_load(struct store *s, struct store_proc_slot *e,
		     const uint8_t host_id[KEYS_SIGN_PK_LEN], const uint8_t boot_id[16], uint64_t pid)
{
	int64_t boot = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	ret = store_boot_row(s, host_id, boot_id, 0, &boot);
	if (ret == 0)
		ret = walk(s, boot, pid, UINT64_MAX, &e->start_ns, &e->ts);
	if (ret < 0)
		return ret;
	e->has = ret == 0;
	memcpy(e->host, host_id, KEYS_SIGN_PK_LEN);
	memcpy(e->boot, boot_id, 16);
	e->pid = pid;
	e->used = 1;
	return 0;
}

/* The key's slot, loaded when it had none. OUT: *e. Returns 0 or
 * -CUSTOS_ERR_IO. */
static int slot_get(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
		    const uint8_t boot_id[16], uint64_t pid, struct store_proc_slot **e)
{
	*e = slot(s, host_id, boot_id, pid, 0);
	if (*e)
		return 0;
	*e = slot(s, host_id, boot_id, pid, 1);
	return slot_load(s, *e, host_id, boot_id, pid);
}

int store_add_proc(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
		   const uint8_t boot_id[16], uint64_t pid, uint64_t start_ns, uint64_t ts)
{
	struct store_proc_slot *e;
	int64_t boot, t = ts > INT64_MAX ? INT64_MAX : (int64_t)ts;
	int ret = slot_get(s, host_id, boot_id, pid, &e);

	if (ret || (e->has && e->start_ns == start_ns))
		return ret;	/* invariant 2: the process already known */
	ret = store_boot_row(s, host_id, boot_id, 1, &boot);
	if (!ret && (!e->has || (int64_t)e->ts >> STORE_KIDS_SHIFT != t >> STORE_KIDS_SHIFT)) {
		I64(s->st[Q_PROC_PID], 1, boot);	/* invariant 3 */
		I64(s->st[Q_PROC_PID], 2, pid);
		I64(s->st[Q_PROC_PID], 3, t >> STORE_KIDS_SHIFT);
		ret = store_run(s, Q_PROC_PID);
	}
	if (ret)
		return ret;
	I64(s->st[Q_PROC], 1, boot);
	I64(s->st[Q_PROC], 2, t >> STORE_PID_SHIFT);
	I64(s->st[Q_PROC], 3, pid);
	I64(s->st[Q_PROC], 4, start_ns);
	I64(s->st[Q_PROC], 5, t);
	ret = store_run(s, Q_PROC);
	if (ret || sqlite3_changes(s->db) == 0)	/* already in that bucket: kept as it was */
		return ret;
	if (!e->has || (uint64_t)t > e->ts || ((uint64_t)t == e->ts && start_ns > e->start_ns)) {
		e->has = 1;
		e->start_ns = start_ns;
		e->ts = (uint64_t)t;
	}
	return 0;
}

int store_find_proc(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN],
		    const uint8_t boot_id[16], uint64_t pid, uint64_t ts, uint64_t *start_ns)
{
	struct store_proc_slot *e;
	uint64_t row_ts;
	int64_t boot;
	int ret;

	if (!s->procs) {	/* a read-only store */
		ret = store_boot_row(s, host_id, boot_id, 0, &boot);
		return ret ? ret : walk(s, boot, pid, ts, start_ns, &row_ts);
	}
	ret = slot_get(s, host_id, boot_id, pid, &e);
	if (ret)
		return ret;
	if (!e->has)
		return 1;
	if (e->ts > ts) {
		ret = store_boot_row(s, host_id, boot_id, 0, &boot);
		return ret ? ret : walk(s, boot, pid, ts, start_ns, &row_ts);
	}
	*start_ns = e->start_ns;
	return 0;
}
