/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process table triage and corr share (corr.h "corr_proc.c"): one
 * entry per (host, boot, pid) holding what both need of a process (its
 * image and command line for Sigma's Image and Parent* fields; its
 * parent, tree root and "has connected" flag for the threshold and
 * sequence rules), so a record looks its process up once, in one table.
 * A fixed-size open-addressing table (invariant 1 of corr.h): a dense
 * array of 16-byte tags (key hash, LRU stamp; 0 when free) beside
 * 128-byte entries on 2 MiB pages, so a probe reads one line of tags and
 * one entry, whose key comes first. Entries are never emptied one by one
 * (only evicted, or all at once), so a lookup stops at the first free
 * slot. A batch's undo journal saves each entry the first time the batch
 * changes it; when the batch replaces the entry's string pair, the
 * journal keeps the old pair's reference (struct psaved), so an abort
 * puts every entry, pair, the clock and the eviction count back.
 */
#include <stdlib.h>
#include <string.h>

#include "corr.h"
#include "error.h"

struct pslot {
	struct corr_proc p;
	uint8_t pad[128 - sizeof(struct corr_proc)];
};
_Static_assert(sizeof(struct corr_proc) <= 128, "an entry is two cache lines");
_Static_assert((CORR_PROCS & (CORR_PROCS - 1)) == 0, "the probe masks");

struct ptag {
	uint64_t key, stamp;	/* stamp 0: free */
};

struct psaved {
	struct corr_proc *slot;
	struct corr_proc old;
	/* 0: the slot still holds old.str, the one reference to it serving
	 * both; 1: the batch replaced it: the journal holds that reference
	 * (dropped at the commit) and the slot its own (dropped at the
	 * abort). So neither a save nor a commit reads a pair. */
	int displaced;
};

#define NOT_SAVED UINT32_MAX

struct corr_procs {
	struct pslot *slots;	/* CORR_PROCS */
	struct ptag *tags;	/* CORR_PROCS */
	uint64_t stamp, evicted, epoch;
	int open, lost;		/* a batch is open; its journal is incomplete */
	uint64_t stamp0, evicted0;	/* at begin */
	struct psaved *undo;
	size_t n_undo, cap_undo;
};

struct corr_pstr *corr_pstr_new(const char *image, const char *cmdline)
{
	size_t ni = strlen(image), nc = strlen(cmdline);
	struct corr_pstr *p = malloc(sizeof(*p) + ni + nc + 2);

	if (!p)
		return NULL;
	p->refs = 1;
	p->image_len = (uint32_t)ni;
	memcpy(p->s, image, ni + 1);
	memcpy(p->s + ni + 1, cmdline, nc + 1);
	return p;
}

struct corr_pstr *corr_pstr_get(struct corr_pstr *p)
{
	if (p)
		p->refs++;
	return p;
}

void corr_pstr_put(struct corr_pstr *p)
{
	if (p && --p->refs == 0)
		free(p);
}

int corr_procs_new(struct corr_procs **out)
{
	struct corr_procs *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t || !(t->slots = corr_table_alloc(CORR_PROCS, sizeof(*t->slots))) ||
	    !(t->tags = corr_table_alloc(CORR_PROCS, sizeof(*t->tags)))) {
		if (t)
			free(t->slots);
		free(t);
		return -CUSTOS_ERR_NOMEM;
	}
	*out = t;
	return 0;
}

static void procs_clear(struct corr_procs *t)
{
	for (size_t i = 0; i < CORR_PROCS; i++)
		corr_pstr_put(t->slots[i].p.str);
	memset(t->slots, 0, CORR_PROCS * sizeof(*t->slots));
	memset(t->tags, 0, CORR_PROCS * sizeof(*t->tags));
}

void corr_procs_free(struct corr_procs *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_undo; i++)	/* an open batch's replaced pairs */
		if (t->undo[i].displaced)
			corr_pstr_put(t->undo[i].old.str);
	procs_clear(t);
	free(t->slots);
	free(t->tags);
	free(t->undo);
	free(t);
}

/* FNV-1a over the first word of host, both of boot, and pid, folded so
 * the low bits, which pick the slot, depend on every word. */
static uint64_t hash_of(const uint8_t *host, const uint8_t *boot, uint64_t pid)
{
	uint64_t h = 1469598103934665603ull, w[3];

	memcpy(&w[0], host, sizeof(w[0]));
	memcpy(&w[1], boot, 2 * sizeof(w[1]));
	for (int i = 0; i < 3; i++)
		h = (h ^ w[i]) * 1099511628211ull;
	h = (h ^ pid) * 1099511628211ull;
	return h ^ (h >> 32);
}

static int same(const struct corr_proc *p, const struct batch_header *h, uint64_t pid)
{
	return p->pid == pid && !memcmp(p->host, h->host_id, sizeof(p->host)) &&
	       !memcmp(p->boot, h->boot_id, sizeof(p->boot));
}

void corr_procs_prefetch(const struct corr_procs *t, const struct batch_header *h, uint64_t pid)
{
	size_t k = hash_of(h->host_id, h->boot_id, pid) & (CORR_PROCS - 1);

	__builtin_prefetch(&t->tags[k]);
	__builtin_prefetch(&t->slots[k]);	/* the key */
	__builtin_prefetch((const char *)&t->slots[k] + 64);	/* its stamp and journal mark */
}

struct corr_proc *corr_proc_find(const struct corr_procs *t, const struct batch_header *h,
				 uint64_t pid)
{
	uint64_t key = hash_of(h->host_id, h->boot_id, pid);

	for (size_t i = 0; i < CORR_PROBE; i++) {
		size_t k = (key + i) & (CORR_PROCS - 1);
		const struct ptag *tg = &t->tags[k];

		if (!tg->stamp)		/* never emptied alone: pid's would be before it */
			return NULL;
		if (tg->key == key && same(&t->slots[k].p, h, pid))
			return &t->slots[k].p;
	}
	return NULL;
}

/* Save entry p in the open batch's journal, once per batch. */
static void save(struct corr_procs *t, struct corr_proc *p)
{
	if (!t->open || p->epoch == t->epoch)
		return;
	if (!t->lost && t->n_undo == t->cap_undo) {
		size_t cap = t->cap_undo ? 2 * t->cap_undo : 256;
		struct psaved *u = realloc(t->undo, cap * sizeof(*u));

		t->lost = !u;	/* the abort empties the table */
		if (u) {
			t->undo = u;
			t->cap_undo = cap;
		}
	}
	p->undo_ix = NOT_SAVED;
	if (!t->lost) {
		t->undo[t->n_undo].slot = p;
		t->undo[t->n_undo].old = *p;
		t->undo[t->n_undo].displaced = 0;
		p->undo_ix = (uint32_t)t->n_undo++;
	}
	p->epoch = t->epoch;
}

/* p's pair is about to be replaced: the journal takes its reference when
 * it is the one p held at the batch's start, else it is dropped. */
static void displace(struct corr_procs *t, struct corr_proc *p)
{
	if (t->open && p->epoch == t->epoch && p->undo_ix != NOT_SAVED &&
	    !t->undo[p->undo_ix].displaced)
		t->undo[p->undo_ix].displaced = 1;
	else
		corr_pstr_put(p->str);
	p->str = NULL;
}

struct corr_proc *corr_proc_get(struct corr_procs *t, const struct batch_header *h, uint64_t pid)
{
	uint64_t key = hash_of(h->host_id, h->boot_id, pid);
	struct ptag *lru = NULL, *tg = NULL;
	struct corr_proc *p;

	for (size_t i = 0; i < CORR_PROBE; i++) {
		size_t k = (key + i) & (CORR_PROCS - 1);

		tg = &t->tags[k];
		if (!tg->stamp)
			break;
		if (tg->key == key && same(&t->slots[k].p, h, pid)) {
			p = &t->slots[k].p;
			save(t, p);
			tg->stamp = p->stamp = ++t->stamp;
			return p;
		}
		if (!lru || tg->stamp < lru->stamp)
			lru = tg;
		tg = NULL;
	}
	if (!tg) {		/* the probe run is full: evict its oldest */
		tg = lru;
		t->evicted++;
	}
	p = &t->slots[tg - t->tags].p;
	save(t, p);
	displace(t, p);
	memset(p, 0, offsetof(struct corr_proc, epoch));
	memcpy(p->host, h->host_id, sizeof(p->host));
	memcpy(p->boot, h->boot_id, sizeof(p->boot));
	p->pid = pid;
	tg->key = key;
	tg->stamp = p->stamp = ++t->stamp;
	return p;
}

void corr_proc_set_str(struct corr_procs *t, struct corr_proc *p, struct corr_pstr *str)
{
	displace(t, p);		/* p was saved by corr_proc_get */
	p->str = str;
}

void corr_procs_begin(struct corr_procs *t)
{
	t->epoch++;	/* entries start at 0: a new batch has saved none */
	t->open = 1;
	t->lost = 0;
	t->n_undo = 0;
	t->stamp0 = t->stamp;
	t->evicted0 = t->evicted;
}

void corr_procs_commit(struct corr_procs *t)
{
	for (size_t i = 0; i < t->n_undo; i++)
		if (t->undo[i].displaced)
			corr_pstr_put(t->undo[i].old.str);
	t->n_undo = 0;
	t->open = 0;
}

void corr_procs_abort(struct corr_procs *t)
{
	for (size_t i = 0; i < t->n_undo; i++) {	/* distinct entries: any order */
		struct corr_proc *p = t->undo[i].slot;
		struct ptag *tg = &t->tags[(struct pslot *)p - t->slots];

		if (t->undo[i].displaced)
			corr_pstr_put(p->str);
		*p = t->undo[i].old;	/* and the journal's reference */
		tg->stamp = p->stamp;
		tg->key = p->stamp ? hash_of(p->host, p->boot, p->pid) : 0;
	}
	if (t->lost)
		procs_clear(t);
	t->n_undo = 0;
	t->open = 0;
	t->stamp = t->stamp0;
	t->evicted = t->evicted0;
}

uint64_t corr_procs_evicted(const struct corr_procs *t)
{
	return t->evicted;
}
