/* SPDX-License-Identifier: Apache-2.0 */
/*
 * corr: Custos's own correlation rules beside Sigma (docs/triage.md,
 * "Threshold and sequence rules"). A rule file is YAML with a top-level
 * `custos_threshold:` block (count the records a Sigma-style selection
 * matches, grouped by process, process tree or a field, over a sliding
 * window of record time; optionally count distinct values of a field) or
 * a `custos_sequence:` block ("first A, then B within T" in the same
 * process tree, or B executing the file A wrote). corr_load.c loads and
 * refuses rules (every refusal with its file and reason, counted);
 * corr.c evaluates them on each record (corr_state.c keeps their tables
 * and undo journal) and adds multi-record alerts
 * (store.h, struct store_ref) naming every record that made them fire.
 *
 * Invariants of the evaluator (struct corr):
 *   1. Memory is fixed at corr_open: per threshold rule CORR_GROUPS groups,
 *      per sequence rule CORR_PENDING waiting first-stage matches, and one
 *      process table of CORR_PROCS entries (corr_proc.c, which triage
 *      shares for its image pairs); each is an open-addressing table
 *      probed CORR_PROBE slots from the key's hash, and a full probe run
 *      evicts its least recently used entry (of the process table: the
 *      least recently changed; a lookup alone does not move it) (a group or match evicted
 *      starts again from nothing: eviction can delay or lose an alert,
 *      never invent one).
 *   2. Windows are per host (groups and matches are keyed by host id) and
 *      in record time (the batch's wall clock: ts_ns + clock offset); a
 *      group's clock never goes back (an older record counts as the
 *      group's latest time).
 *   3. A threshold group fires at most once per window: when it fires its
 *      counts and references are cleared and records of that group in the
 *      next window length are counted as suppressed, not kept.
 *   4. A sequence's first-stage match fires at most once (it is removed).
 *   5. Batches: between corr_begin and corr_commit/corr_abort, the first
 *      time a batch touches a table entry (even a lookup, which moves its
 *      LRU stamp) what of it is in use is saved in an undo journal (the
 *      whole entry; of a threshold group, all but its references and
 *      distinct values past their counts, which are never read; of the
 *      process table, whose lookups change nothing, the first change:
 *      the entry, and the reference to its image pair once the batch
 *      replaces it);
 *      corr_abort copies them back and restores the counters, so every
 *      byte the evaluator can read is what it was at corr_begin: nothing
 *      of a refused batch stays to reference its records or change a
 *      later alert.
 *      The journal holds each entry at most once per batch, so it is at
 *      most the size of the tables; if it cannot grow, the abort empties
 *      every table instead (invariant 1: lost windows, never an invented
 *      alert). Records fed outside a batch are not journaled.
 * Crash: the tables live in memory and start empty at each start of
 * `serve` or `triage`; alerts are index rows written in the batch's
 * transaction like Sigma alerts (triage.h).
 */
#ifndef CUSTOS_COLL_CORR_H
#define CUSTOS_COLL_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "record.h"
#include "sigma.h"
#include "store.h"

#define CORR_GROUPS 1024	/* per threshold rule */
#define CORR_PENDING 4096	/* per sequence rule */
#define CORR_PROCS 16384	/* process table (parents, "has connected") */
#define CORR_PROBE 8
#define CORR_DISTINCT_MAX 64	/* distinct values kept per group; bounds `count` with `distinct` */
#define CORR_REFS 32		/* references kept per threshold group */
#define CORR_SUBWIN 8		/* sub-windows of a plain count */
#define CORR_COUNT_MAX 1000000
#define CORR_WINDOW_MAX_NS (24ull * 3600 * 1000000000ull)
#define CORR_TREE_DEPTH 32	/* ancestors walked */

enum corr_kind { CORR_THRESHOLD = 0, CORR_SEQUENCE = 1, CORR_KINDS = 2 };

/* What a stage matches: Sigma's three categories (Sigma's mapping), and
 * four of ours: every open (reads of sensitive files too), every connect
 * whatever its result (refused ones too) and accept, every fork, every
 * user audit message (auth records: PAM's authentication results). */
enum corr_cat {
	CORR_CAT_PROCESS_CREATION, CORR_CAT_FILE_EVENT, CORR_CAT_NETWORK_CONNECTION,
	CORR_CAT_FILE_OPEN, CORR_CAT_NETWORK_ATTEMPT, CORR_CAT_PROCESS_FORK,
	CORR_CAT_AUTHENTICATION, CORR_CAT_COUNT
};

enum corr_group { CORR_BY_PROCESS, CORR_BY_TREE, CORR_BY_FIELD };
enum corr_scope { CORR_SCOPE_TREE, CORR_SCOPE_FILE };

struct corr_stage {
	enum corr_cat cat;
	struct sigma_rule *sel;	/* the selection and condition */
	int connected;		/* 1: the acting process has connected since its exec */
	/* Category, process_connected and detection as canonical text (NULL
	 * when too large): stages with the same text match the same records,
	 * so corr_record evaluates them once per record. */
	char *canon;
};

struct corr_rule {
	char *id, *title, *taxonomy, *article, *technique;
	enum sigma_level level;
	enum corr_kind kind;
	struct corr_stage stage[2];	/* threshold: [0]; sequence: first, then */
	uint64_t window_ns;		/* threshold: window; sequence: within */
	uint64_t count;			/* threshold: fires at >= count */
	enum corr_group group;
	int group_field, distinct;	/* Sigma fields; distinct -1: none */
	enum corr_scope scope;		/* sequence */
};

/* Load one rule from YAML text. OUT: *rule, *kind (when known). Returns 0,
 * 1 refused (reason: what and the line), 2 not a correlation rule (no
 * custos_threshold/custos_sequence: a Sigma rule; or not YAML at all,
 * which sigma_set_load_dir refuses and counts), -CUSTOS_ERR_NOMEM. */
int corr_rule_load(const char *text, size_t len, struct corr_rule **rule, enum corr_kind *kind,
		   char reason[SIGMA_REASON_MAX]);
void corr_rule_free(struct corr_rule *r);	/* accepts NULL */
const char *corr_kind_name(enum corr_kind k);

struct corr_set {
	struct corr_rule **rules;
	size_t n;
	unsigned loaded[CORR_KINDS], refused[CORR_KINDS];
};

/* Load the correlation rules among *.yml / *.yaml under dir (recursively,
 * in name order; Sigma rules are left to sigma_set_load_dir) into s (zero
 * it first). Each refusal goes to report(ctx, path, reason) and is
 * counted. Returns 0, -CUSTOS_ERR_IO (dir unreadable), -CUSTOS_ERR_NOMEM. */
int corr_set_load_dir(struct corr_set *s, const char *dir,
		      void (*report)(void *ctx, const char *path, const char *reason), void *ctx);
void corr_set_free(struct corr_set *s);
/* The Sigma rules under dir into ss (as sigma_set_load_dir, refusals to
 * sigma_report) and the correlation rules into cs (as corr_set_load_dir,
 * refusals to report), in one walk that reads and parses each file once.
 * Zero both sets first. Returns 0, -CUSTOS_ERR_IO (dir unreadable),
 * -CUSTOS_ERR_NOMEM. */
int corr_rules_load_dir(const char *dir, struct sigma_set *ss,
			void (*sigma_report)(void *ctx, const char *path, enum sigma_category cat,
					     const char *reason),
			struct corr_set *cs,
			void (*report)(void *ctx, const char *path, const char *reason), void *ctx);

/* --- corr.c: evaluation -------------------------------------------------- */
struct corr;

/* Where a record is: its batch (header, hash, leaf) and its index. */
struct corr_at {
	const struct batch_header *h;
	const uint8_t *hash;
	uint64_t leaf;
	uint32_t idx;
};

/* An evaluator for set (which must outlive it). OUT: *c. Returns 0 or
 * -CUSTOS_ERR_NOMEM. */
int corr_open(const struct corr_set *set, struct corr **c);
void corr_close(struct corr *c);	/* accepts NULL */

/* A batch of records (invariant 5): corr_begin opens it, corr_commit
 * keeps what its records did, corr_abort undoes it. */
void corr_begin(struct corr *c);
void corr_commit(struct corr *c);
void corr_abort(struct corr *c);

/* Feed one record (every kind: forks and exits keep the process table).
 * ev: its Sigma event when it maps to one, else NULL; image: the acting
 * process's executable when known. Adds an alert to s per rule that
 * fires. OUT: *alerts incremented. Returns 0, -CUSTOS_ERR_IO. */
int corr_record(struct corr *c, struct store *s, const struct corr_at *at,
		const struct custos_record *rec, const struct sigma_event *ev, const char *image,
		uint64_t *alerts);

/* n zeroed entries of sz bytes for a table that is probed at random:
 * aligned to and backed by 2 MiB pages where the kernel gives them
 * (madvise MADV_HUGEPAGE), so that a probe rarely misses the TLB too;
 * freed with free. NULL when out of memory. (Triage's process table uses
 * it as well.) */
void *corr_table_alloc(size_t n, size_t sz);

/* A hint before corr_record(c, ..., rec, ...) of a record of this batch
 * header: start loading the process table's slots it will look up, and
 * the first slot of its group in each threshold rule grouped by process
 * whose stage's category the record's kind may map to (no state
 * changes). */
void corr_prefetch(const struct corr *c, const struct batch_header *h,
		   const struct custos_record *rec);

/* Records of threshold groups suppressed after firing (invariant 3) and
 * entries evicted (invariant 1), since corr_open. */
void corr_stats(const struct corr *c, uint64_t *suppressed, uint64_t *evicted);

/* --- corr_proc.c: the process table triage and corr share -------------- */
/* A process's image and command line ("image\0cmdline\0"): immutable once
 * made, reference-counted (a fork shares its parent's). */
struct corr_pstr {
	uint32_t refs, image_len;
	char s[];
};

/* A new pair, one reference. NULL when out of memory. */
struct corr_pstr *corr_pstr_new(const char *image, const char *cmdline);
struct corr_pstr *corr_pstr_get(struct corr_pstr *p);	/* accepts NULL; returns p */
void corr_pstr_put(struct corr_pstr *p);		/* accepts NULL */
static inline const char *corr_pstr_cmdline(const struct corr_pstr *p)
{
	return p->s + p->image_len + 1;
}

/* One process (invariant 1: at most CORR_PROCS of them, the least
 * recently changed of a full probe run evicted; invariant 5: journaled
 * per batch, the first change saving the whole entry). The key first. */
struct corr_proc {
	uint8_t host[KEYS_SIGN_PK_LEN];
	uint8_t boot[CUSTOS_BOOT_ID_LEN];
	uint64_t pid;
	uint64_t ppid, root;		/* root: the tree's top below pid 1; 0 unset */
	struct corr_pstr *str;		/* the table's reference; NULL: image unknown */
	int connected;			/* has connected since its exec */
	uint64_t stamp;			/* LRU clock; 0: the slot is free */
	uint64_t epoch;			/* the batch that last saved it */
	uint32_t undo_ix;		/* where, in that batch's journal */
};

struct corr_procs;

/* An empty table of CORR_PROCS entries. OUT: *t. Returns 0 or
 * -CUSTOS_ERR_NOMEM. */
int corr_procs_new(struct corr_procs **t);
void corr_procs_free(struct corr_procs *t);	/* accepts NULL; drops every reference */
/* The table of evaluator c (corr_open makes it; triage keeps its image
 * pairs in it). */
struct corr_procs *corr_procs_of(struct corr *c);
/* pid of this batch header's (host, boot), or NULL; changes nothing. */
struct corr_proc *corr_proc_find(const struct corr_procs *t, const struct batch_header *h,
				 uint64_t pid);
/* pid's entry, found (its stamp moved) or made in place of a free or the
 * oldest one of its probe run (all zero but the key); saved in the open
 * batch's journal first. Never NULL. The pointer stays pid's until the
 * next corr_proc_get of another pid. */
struct corr_proc *corr_proc_get(struct corr_procs *t, const struct batch_header *h, uint64_t pid);
/* Replace p's pair (p from corr_proc_get of t) by str, a reference the
 * table takes; the old one is dropped (or kept by the journal). */
void corr_proc_set_str(struct corr_procs *t, struct corr_proc *p, struct corr_pstr *str);
/* Start loading pid's probe run (no state changes). */
void corr_procs_prefetch(const struct corr_procs *t, const struct batch_header *h, uint64_t pid);
/* A batch (invariant 5), called by corr_begin/commit/abort. */
void corr_procs_begin(struct corr_procs *t);
void corr_procs_commit(struct corr_procs *t);
void corr_procs_abort(struct corr_procs *t);
uint64_t corr_procs_evicted(const struct corr_procs *t);	/* since made (abort: back) */

/* --- corr_event.c: the events of our stage categories ------------------- */
/* The event of rec for category cat (docs/triage.md): for Sigma's
 * categories, sigma_ev itself when of that category (not copied); for
 * ours, built into *ev and b. OUT: *out (sigma_ev or ev). Returns 1 when
 * rec maps, else 0. */
int corr_event(enum corr_cat cat, const struct custos_record *rec,
	       const struct sigma_event *sigma_ev, const char *image, struct sigma_event *ev,
	       struct sigma_event_buf *b, const struct sigma_event **out);

#endif
