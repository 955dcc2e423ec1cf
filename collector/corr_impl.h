/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What corr.c (evaluating the rules) and corr_state.c (the rules' tables,
 * their undo journal, and the life of a struct corr) share, and nothing
 * else includes: the table entries, the journal, struct corr, the key
 * hashes, and the one probe-and-evict routine.
 */
#ifndef CUSTOS_COLL_CORR_IMPL_H
#define CUSTOS_COLL_CORR_IMPL_H

#include <string.h>

#include "corr.h"

#define CORR_KIND_MAX 95	/* record kinds with a subject: 1 - 95 */

/* Whether a record of this kind may map to category cat (corr_event):
 * never 0 when corr_event can give it an event of cat. */
static inline int corr_may_map(enum corr_cat cat, unsigned kind)
{
	switch (cat) {
	case CORR_CAT_PROCESS_CREATION:
		return kind == CUSTOS_REC_EXEC;
	case CORR_CAT_PROCESS_FORK:
		return kind == CUSTOS_REC_FORK;
	case CORR_CAT_AUTHENTICATION:
		return kind == CUSTOS_REC_AUTH;
	case CORR_CAT_NETWORK_CONNECTION:
	case CORR_CAT_NETWORK_ATTEMPT:
		return kind == CUSTOS_REC_CONNECT || kind == CUSTOS_REC_ACCEPT;
	default:
		return kind >= 32 && kind <= 63;
	}
}

/* The head every table entry starts with. */
struct slot {
	uint8_t host[KEYS_SIGN_PK_LEN];
	uint64_t key, stamp;
	uint64_t epoch;	/* the batch that last saved it in the undo journal (invariant 5) */
	int used;
};

/* A table entry's key and stamp, mirrored beside the others': stamp 0
 * when the entry is free (used entries have stamps from 1). Kept equal
 * to the entry's head by slot_get, slot_free, corr_abort, corr_clear. */
struct tag {
	uint64_t key, stamp;
};

struct table {
	char *base;		/* n entries of sz bytes */
	struct tag *tags;	/* n */
	size_t sz, n;
	int groups;		/* entries are struct group (live_parts) */
};

struct ref {
	int64_t ts;
	struct store_ref r;
};

struct group {
	struct slot h;
	int64_t last, fired_at;
	int fired;
	uint64_t cur;			/* current sub-window number */
	uint32_t sub[CORR_SUBWIN];	/* counts of the last CORR_SUBWIN sub-windows */
	uint32_t n_distinct, n_refs;
	char label[STORE_GROUP_MAX];
	/* Last, so that what is in use is a prefix of each (live_parts). */
	struct ref refs[CORR_REFS];
	struct { uint64_t v; int64_t ts; } distinct[CORR_DISTINCT_MAX];
};

struct pending {
	struct slot h;
	struct ref ref;
	char label[STORE_GROUP_MAX];
};

/* The undo journal of the open batch (invariant 5): each entry is a
 * slot's address, its tag's, the number of its parts, then each part's
 * offset, size and bytes before the batch first touched it (8-byte
 * aligned), in bytes[0..len). A part is what of the entry is in use
 * (live_parts): a group's references and distinct values past its counts
 * are never read, so neither saved nor restored. */
struct undo {
	uint8_t *bytes;
	size_t len, cap;
	int open;		/* a batch is open */
	int lost;		/* an entry could not be kept: abort clears the tables */
	uint64_t stamp, suppressed, evicted;	/* the counters at corr_begin */
};

struct corr {
	const struct corr_set *set;
	struct table *tables;		/* per rule: groups or pendings */
	struct corr_procs *procs;	/* shared with triage (corr_proc.c) */
	uint64_t stamp, suppressed, evicted;
	uint64_t epoch;			/* the last batch's number (slots saved in it carry it) */
	struct undo undo;
	struct sigma_event_buf buf;
	size_t *by_proc, n_by_proc;	/* threshold rules grouped by process (corr_prefetch) */
	/* Per record kind k (1 - 95): the rules a stage of which may map it
	 * (corr_may_map), in the set's order, kind_rules[kind_first[k] ..
	 * kind_first[k + 1]). */
	size_t *kind_rules, kind_first[CORR_KIND_MAX + 2];
	uint32_t *memo_of;		/* per rule and stage (2 i + s): its memo slot */
	signed char *memo;		/* per memo slot, this record: 0 not yet, 1, -1 */
	size_t n_memo;
};

static inline uint64_t corr_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

#define CORR_FNV0 1469598103934665603ull

_Static_assert(CUSTOS_BOOT_ID_LEN == 16, "corr_key_pid reads the boot id as two words");
_Static_assert((CORR_GROUPS & (CORR_GROUPS - 1)) == 0 && (CORR_PENDING & (CORR_PENDING - 1)) == 0,
	       "corr_slot_get masks: table sizes are powers of two");

/* FNV-1a over the words of (boot, pid), folded so the low bits, which
 * pick the slot, depend on every word. */
static inline uint64_t corr_key_pid(const uint8_t *boot, uint64_t pid)
{
	uint64_t w[2], h = CORR_FNV0;

	memcpy(w, boot, sizeof(w));
	h = (h ^ w[0]) * 1099511628211ull;
	h = (h ^ w[1]) * 1099511628211ull;
	h = (h ^ pid) * 1099511628211ull;
	return h ^ (h >> 32);
}

/* The entry for (host, key) in table t: found, else (create) a free or
 * the least recently used one of its probe run, cleared (invariant 1),
 * saved in the open batch's undo journal either way. Returns NULL when
 * absent and !create. (corr_state.c) */
struct slot *corr_slot_get(struct corr *c, struct table *t, const uint8_t *host, uint64_t key,
			   int create);
/* Free entry s of table t (invariant 4's removal). (corr_state.c) */
void corr_slot_free(struct table *t, struct slot *s);

#endif
