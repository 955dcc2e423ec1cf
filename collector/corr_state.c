/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The correlation rules' tables (corr.h, invariants there; corr_impl.h):
 * fixed-size open-addressing tables sharing one probe-and-evict routine
 * (table sizes are powers of two: a probe is a mask, not a division).
 * Keys are 64-bit FNV-1a hashes beside the full host id (a process's
 * over the 8-byte words of its boot id and pid). Each table keeps its
 * entries' keys and LRU stamps also in a dense array of tags (16 bytes an
 * entry), so a probe of 8 reads one or two cache lines, not 8 entries of
 * up to 3 KiB; an entry is read when its tag's key matches. Every entry a
 * batch touches is first saved in the batch's undo journal, so that an
 * aborted batch leaves the tables as they were (corr_begin, corr_commit,
 * corr_abort). Also the life of a struct corr (corr_open, corr_close).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "corr_impl.h"
#include "error.h"

#define UNDO_HEAD (2 * sizeof(void *) + sizeof(size_t))	/* slot, its tag, parts */
#define UNDO_PART (2 * sizeof(size_t))				/* offset, size */

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The parts of entry s of table t that are in use: OUT: off[], len[].
 * Returns how many (1 or 2): the whole entry, or a group's head up to
 * its references in use, and its distinct values in use. */
static size_t live_parts(const struct table *t, const struct slot *s, size_t off[2],
			 size_t len[2])
{
	const struct group *g = (const struct group *)s;
	size_t nr, nd;

	off[0] = 0;
	if (!t->groups) {
		len[0] = t->sz;
		return 1;
	}
	nr = g->n_refs < CORR_REFS ? g->n_refs : CORR_REFS;
	nd = g->n_distinct < CORR_DISTINCT_MAX ? g->n_distinct : CORR_DISTINCT_MAX;
	len[0] = offsetof(struct group, refs) + nr * sizeof(g->refs[0]);
	off[1] = offsetof(struct group, distinct);
	len[1] = nd * sizeof(g->distinct[0]);
	return 2;
}

/* Save entry s of table t (its tag tg) in the open batch's journal, once
 * per batch. */
static void undo_save(struct corr *c, const struct table *t, struct slot *s, struct tag *tg)
{
	struct undo *u = &c->undo;
	size_t off[2], len[2], n, need = UNDO_HEAD;

	if (!u->open || s->epoch == c->epoch)
		return;
	n = live_parts(t, s, off, len);
	for (size_t i = 0; i < n; i++)
		need += UNDO_PART + pad8(len[i]);
	if (!u->lost && u->len + need > u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 65536;
		uint8_t *b;

		while (cap < u->len + need)
			cap *= 2;
		b = realloc(u->bytes, cap);
		u->lost = !b;
		if (b) {
			u->bytes = b;
			u->cap = cap;
		}
	}
	if (!u->lost) {
		uint8_t *b = u->bytes + u->len;

		memcpy(b, &s, sizeof(void *));
		memcpy(b + sizeof(void *), &tg, sizeof(void *));
		memcpy(b + 2 * sizeof(void *), &n, sizeof(size_t));
		b += UNDO_HEAD;
		for (size_t i = 0; i < n; i++) {
			memcpy(b, &off[i], sizeof(size_t));
			memcpy(b + sizeof(size_t), &len[i], sizeof(size_t));
			memcpy(b + UNDO_PART, (const uint8_t *)s + off[i], len[i]);
			b += UNDO_PART + pad8(len[i]);
		}
		u->len += need;
	}
	s->epoch = c->epoch;
}

/* The probe reads the tags; an entry only when its key matches (then
 * its host is compared). */
struct slot *corr_slot_get(struct corr *c, struct table *t, const uint8_t *host, uint64_t key,
			   int create)
{
	struct tag *lru = NULL, *free_t = NULL;
	struct slot *s;

	for (size_t i = 0; i < CORR_PROBE; i++) {
		size_t k = (key + i) & (t->n - 1);
		struct tag *tg = &t->tags[k];

		if (tg->stamp && tg->key == key) {
			s = (struct slot *)(t->base + k * t->sz);
			if (!memcmp(s->host, host, sizeof(s->host))) {
				undo_save(c, t, s, tg);
				tg->stamp = s->stamp = ++c->stamp;
				return s;
			}
		}
		if (!tg->stamp && !free_t)
			free_t = tg;
		if (tg->stamp && (!lru || tg->stamp < lru->stamp))
			lru = tg;
	}
	if (!create)
		return NULL;
	if (!free_t) {
		free_t = lru;
		c->evicted++;
	}
	s = (struct slot *)(t->base + (size_t)(free_t - t->tags) * t->sz);
	undo_save(c, t, s, free_t);
	/* A group's references and distinct values are read only below
	 * their counts, which start at 0. */
	memset(s, 0, t->groups ? offsetof(struct group, refs) : t->sz);
	s->epoch = c->epoch;	/* saved already */
	memcpy(s->host, host, sizeof(s->host));
	s->key = free_t->key = key;
	s->used = 1;
	s->stamp = free_t->stamp = ++c->stamp;
	return s;
}

void corr_slot_free(struct table *t, struct slot *s)
{
	struct tag *tg = &t->tags[((char *)s - t->base) / t->sz];

	s->used = 0;
	tg->key = tg->stamp = 0;
}

#define HUGE_PAGE (2u << 20)

void *corr_table_alloc(size_t n, size_t sz)
{
	size_t len;
	void *p;

	if (sz && n > SIZE_MAX / sz)
		return NULL;
	len = n * sz;
	if (len < HUGE_PAGE)
		return calloc(1, len ? len : 1);
	len = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (posix_memalign(&p, HUGE_PAGE, len))
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);	/* a hint: 4 KiB pages when refused */
	memset(p, 0, len);
	return p;
}

static int table_new(struct table *t, size_t n, size_t sz, int groups)
{
	t->base = corr_table_alloc(n, sz);
	t->tags = corr_table_alloc(n, sizeof(*t->tags));
	t->n = n;
	t->sz = sz;
	t->groups = groups;
	return t->base && t->tags ? 0 : -CUSTOS_ERR_NOMEM;
}

static void table_clear(struct table *t)
{
	if (t->base)
		memset(t->base, 0, t->n * t->sz);
	if (t->tags)
		memset(t->tags, 0, t->n * sizeof(*t->tags));
}

/* Give each stage a memo slot, shared by the stages of the same canonical
 * text (corr.h struct corr_stage). Returns 0 or -CUSTOS_ERR_NOMEM. */
static int memo_new(struct corr *c)
{
	const struct corr_set *set = c->set;
	size_t n = 2 * set->n;

	c->memo_of = calloc(n ? n : 1, sizeof(*c->memo_of));
	c->memo = calloc(n ? n : 1, 1);
	if (!c->memo_of || !c->memo)
		return -CUSTOS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct corr_stage *st = &set->rules[i / 2]->stage[i % 2];
		size_t j = 0;

		while (j < i && !(st->canon && set->rules[j / 2]->stage[j % 2].canon &&
				  strcmp(st->canon, set->rules[j / 2]->stage[j % 2].canon) == 0))
			j++;
		c->memo_of[i] = j < i ? c->memo_of[j] : (uint32_t)c->n_memo++;
	}
	return 0;
}

/* Per record kind, the rules a stage of which may map it (struct corr).
 * Returns 0 or -CUSTOS_ERR_NOMEM. */
static int kinds_new(struct corr *c)
{
	const struct corr_set *set = c->set;
	size_t n = 0;

	c->kind_rules = calloc(set->n * CORR_KIND_MAX + 1, sizeof(*c->kind_rules));
	if (!c->kind_rules)
		return -CUSTOS_ERR_NOMEM;
	for (unsigned k = 0; k <= CORR_KIND_MAX; k++) {
		c->kind_first[k] = n;
		for (size_t i = 0; k && i < set->n; i++)
			if (corr_may_map(set->rules[i]->stage[0].cat, k) ||
			    (set->rules[i]->kind == CORR_SEQUENCE &&
			     corr_may_map(set->rules[i]->stage[1].cat, k)))
				c->kind_rules[n++] = i;
	}
	c->kind_first[CORR_KIND_MAX + 1] = n;
	return 0;
}

int corr_open(const struct corr_set *set, struct corr **out)
{
	struct corr *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c)
		return -CUSTOS_ERR_NOMEM;
	c->set = set;
	c->tables = calloc(set->n ? set->n : 1, sizeof(*c->tables));
	ret = c->tables ? corr_procs_new(&c->procs) : -CUSTOS_ERR_NOMEM;
	if (!ret)
		ret = memo_new(c);
	if (!ret)
		ret = kinds_new(c);
	if (!ret && !(c->by_proc = calloc(set->n ? set->n : 1, sizeof(*c->by_proc))))
		ret = -CUSTOS_ERR_NOMEM;
	for (size_t i = 0; !ret && i < set->n; i++)
		if (set->rules[i]->kind == CORR_THRESHOLD && set->rules[i]->group == CORR_BY_PROCESS)
			c->by_proc[c->n_by_proc++] = i;
	for (size_t i = 0; !ret && i < set->n; i++) {
		int th = set->rules[i]->kind == CORR_THRESHOLD;

		ret = table_new(&c->tables[i], th ? CORR_GROUPS : CORR_PENDING,
				th ? sizeof(struct group) : sizeof(struct pending), th);
	}
	if (ret) {
		corr_close(c);
		return ret;
	}
	*out = c;
	return 0;
}

void corr_close(struct corr *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->tables && i < c->set->n; i++) {
		free(c->tables[i].base);
		free(c->tables[i].tags);
	}
	free(c->tables);
	corr_procs_free(c->procs);
	free(c->undo.bytes);
	free(c->memo_of);
	free(c->memo);
	free(c->by_proc);
	free(c->kind_rules);
	free(c);
}

void corr_begin(struct corr *c)
{
	c->epoch++;		/* slots start at 0: a new batch has saved none */
	c->undo.open = 1;
	c->undo.len = 0;
	c->undo.lost = 0;
	c->undo.stamp = c->stamp;
	c->undo.suppressed = c->suppressed;
	c->undo.evicted = c->evicted;
	corr_procs_begin(c->procs);
}

void corr_commit(struct corr *c)
{
	c->undo.open = 0;
	c->undo.len = 0;
	c->undo.lost = 0;
	corr_procs_commit(c->procs);
}

/* Every table emptied (an abort whose journal is incomplete). */
static void corr_clear(struct corr *c)
{
	for (size_t i = 0; i < c->set->n; i++)
		table_clear(&c->tables[i]);
}

void corr_abort(struct corr *c)
{
	struct undo *u = &c->undo;

	/* Each slot is saved once per batch: the entries do not overlap and
	 * their order does not matter. */
	for (size_t at = 0; at < u->len;) {
		const uint8_t *b = u->bytes + at;
		struct slot *s;
		struct tag *tg;
		size_t n, off, len;

		memcpy(&s, b, sizeof(void *));
		memcpy(&tg, b + sizeof(void *), sizeof(void *));
		memcpy(&n, b + 2 * sizeof(void *), sizeof(size_t));
		b += UNDO_HEAD;
		for (size_t i = 0; i < n; i++) {
			memcpy(&off, b, sizeof(size_t));
			memcpy(&len, b + sizeof(size_t), sizeof(size_t));
			memcpy((uint8_t *)s + off, b + UNDO_PART, len);
			b += UNDO_PART + pad8(len);
		}
		tg->key = s->used ? s->key : 0;
		tg->stamp = s->used ? s->stamp : 0;
		at = (size_t)(b - u->bytes);
	}
	if (u->lost)
		corr_clear(c);
	c->stamp = u->stamp;
	c->suppressed = u->suppressed;
	c->evicted = u->evicted;
	u->open = 0;
	u->len = 0;
	u->lost = 0;
	corr_procs_abort(c->procs);
}

void corr_stats(const struct corr *c, uint64_t *suppressed, uint64_t *evicted)
{
	*suppressed = c->suppressed;
	*evicted = c->evicted + corr_procs_evicted(c->procs);
}

struct corr_procs *corr_procs_of(struct corr *c)
{
	return c->procs;
}
