/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluating correlation rules (corr.h, invariants there): per threshold
 * rule a table of groups (sliding-window counts or distinct values, with
 * the references of the records counted), per sequence rule a table of
 * first-stage matches waiting for their second stage; the process table
 * (parent, tree root, "has connected since exec", and triage's image
 * pair) is corr_proc.c's, built the same way. The rules' tables are
 * fixed-size open-addressing tables sharing one probe-and-evict routine
 * (table sizes are powers of two: a probe is a mask, not a division).
 * Keys are 64-bit FNV-1a hashes beside the full host id (a process's
 * over the 8-byte words of its boot id and pid). Each table
 * keeps its entries' keys and LRU stamps also in a dense array of tags
 * (16 bytes an entry), so a probe of 8 reads one or two cache lines, not
 * 8 entries of up to 3 KiB; an entry is read when its tag's key matches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "corr.h"
#include "error.h"

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
	uint32_t *memo_of;		/* per rule and stage (2 i + s): its memo slot */
	signed char *memo;		/* per memo slot, this record: 0 not yet, 1, -1 */
	size_t n_memo;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

#define FNV0 1469598103934665603ull

_Static_assert(CUSTOS_BOOT_ID_LEN == 16, "key_pid reads the boot id as two words");
_Static_assert((CORR_GROUPS & (CORR_GROUPS - 1)) == 0 && (CORR_PENDING & (CORR_PENDING - 1)) == 0,
	       "slot_get masks: table sizes are powers of two");

/* FNV-1a over the words of (boot, pid), folded so the low bits, which
 * pick the slot, depend on every word. */
static uint64_t key_pid(const uint8_t *boot, uint64_t pid)
{
	uint64_t w[2], h = FNV0;

	memcpy(w, boot, sizeof(w));
	h = (h ^ w[0]) * 1099511628211ull;
	h = (h ^ w[1]) * 1099511628211ull;
	h = (h ^ pid) * 1099511628211ull;
	return h ^ (h >> 32);
}

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

/* The entry for (host, key) in table t: found, else (create) a free or
 * the least recently used one of its probe run, cleared (invariant 1).
 * Returns NULL when absent and !create. The probe reads the tags; an
 * entry only when its key matches (then its host is compared). */
static struct slot *slot_get(struct corr *c, struct table *t, const uint8_t *host,
			     uint64_t key, int create)
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

/* Free entry s of table t (invariant 4's removal). */
static void slot_free(struct table *t, struct slot *s)
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

/* --- the process table ------------------------------------------------------ */

/* Whether a record of this kind may map to category cat (corr_event). */
static int may_map(enum corr_cat cat, unsigned kind)
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

void corr_prefetch(const struct corr *c, const struct batch_header *h,
		   const struct custos_record *rec)
{
	uint64_t key;

	if (rec->kind < 1 || rec->kind > 95)
		return;
	corr_procs_prefetch(c->procs, h, rec->subj.pid);
	corr_procs_prefetch(c->procs, h, rec->subj.ppid);
	if (rec->kind == CUSTOS_REC_FORK)
		corr_procs_prefetch(c->procs, h, rec->u.fork.child_pid);
	/* The groups by process whose stage the record may match: their tag
	 * and head (group_key's key, slot_get's first slot). */
	key = key_pid(h->boot_id, rec->subj.pid);
	for (size_t i = 0; i < c->n_by_proc; i++) {
		const struct table *t = &c->tables[c->by_proc[i]];
		size_t k = key & (t->n - 1);

		if (!may_map(c->set->rules[c->by_proc[i]]->stage[0].cat, rec->kind))
			continue;
		__builtin_prefetch(&t->tags[k]);
		__builtin_prefetch(t->base + k * t->sz);
		__builtin_prefetch(t->base + k * t->sz + 64);
	}
}

/* The root of a process with this parent: the parent's root, the
 * process itself below pid 1, the parent when it is unknown. Kept per
 * entry so a deep tree (a fork bomb) costs one lookup. */
static uint64_t root_for(struct corr *c, const struct batch_header *h, uint64_t pid,
			 uint64_t ppid)
{
	struct corr_proc *q;

	if (ppid <= 1 || ppid == pid)
		return pid;
	q = corr_proc_find(c->procs, h, ppid);
	return q && q->root ? q->root : ppid;
}

/* Keep parents, roots and the "connected" flag current (every record
 * with a subject: kinds 1-95). */
static void track(struct corr *c, const struct batch_header *h, const struct custos_record *rec)
{
	const struct custos_net *n = &rec->u.net;
	struct corr_proc *p;
	uint64_t root;

	if (rec->kind < 1 || rec->kind > 95)
		return;
	p = corr_proc_get(c->procs, h, rec->subj.pid);
	if (!p->root || p->ppid != rec->subj.ppid) {
		p->root = root_for(c, h, rec->subj.pid, rec->subj.ppid);	/* never evicts */
	}
	p->ppid = rec->subj.ppid;
	if (rec->kind == CUSTOS_REC_EXEC && rec->u.exec.result == 0)
		p->connected = 0;
	if (rec->kind == CUSTOS_REC_CONNECT && (n->family == AF_INET || n->family == AF_INET6) &&
	    (n->result == 0 || n->result == -EINPROGRESS))
		p->connected = 1;
	if (rec->kind == CUSTOS_REC_FORK && rec->u.fork.child_pid != rec->subj.pid) {
		root = p->root;
		p = corr_proc_get(c->procs, h, rec->u.fork.child_pid);
		p->ppid = rec->subj.pid;
		p->root = root;
		p->connected = 0;
	}
}

/* The root of pid's tree (root_for), pid itself when unknown. */
static uint64_t tree_root(struct corr *c, const struct batch_header *h, uint64_t pid)
{
	struct corr_proc *p = corr_proc_find(c->procs, h, pid);

	return p && p->root ? p->root : pid;
}

/* --- alerts ------------------------------------------------------------------ */

static int fire(struct corr *c, struct store *s, const struct corr_rule *r,
		const struct corr_at *at, const struct custos_record *rec,
		const struct sigma_event *ev, const struct ref *refs, size_t n, uint64_t total,
		const char *label, int64_t t, uint64_t *alerts)
{
	struct store_ref sr[STORE_ALERT_REFS_MAX];
	struct store_alert a = {
		.ts_wall_ns = t, .rule_id = r->id, .title = r->title, .severity = (int)r->level,
		.category = corr_kind_name(r->kind), .taxonomy = r->taxonomy,
		.article = r->article, .technique = r->technique, .pid = rec->subj.pid,
		.image = ev->f[SIGMA_F_IMAGE] ? ev->f[SIGMA_F_IMAGE] : "", .leaf = at->leaf,
		.rec_index = at->idx, .refs = sr, .ref_total = total, .group = label,
	};
	int ret;

	(void)c;
	for (size_t i = 0; i < n && a.n_refs < STORE_ALERT_REFS_MAX; i++)
		sr[a.n_refs++] = refs[i].r;
	memcpy(a.host_id, at->h->host_id, sizeof(a.host_id));
	memcpy(a.batch_hash, at->hash, sizeof(a.batch_hash));
	ret = store_add_alert(s, &a);
	if (!ret)
		(*alerts)++;
	return ret;
}

static void ref_of(struct ref *out, const struct corr_at *at, int64_t t)
{
	out->ts = t;
	out->r.leaf = at->leaf;
	out->r.rec_index = at->idx;
	memcpy(out->r.batch_hash, at->hash, CUSTOS_HASH_LEN);
}

/* --- threshold rules ------------------------------------------------------- */

/* The group key. Returns 0 when the record has no value. */
static int group_key(struct corr *c, const struct corr_rule *r, const struct batch_header *h,
		     const struct custos_record *rec, const struct sigma_event *ev, uint64_t *key)
{
	const char *v;

	switch (r->group) {
	case CORR_BY_PROCESS:
		*key = key_pid(h->boot_id, rec->subj.pid);
		return 1;
	case CORR_BY_TREE:
		*key = fnv(key_pid(h->boot_id, tree_root(c, h, rec->subj.pid)), &rec->subj.sessionid,
			   sizeof(rec->subj.sessionid));
		return 1;
	default:
		v = ev->f[r->group_field];
		if (!v)
			return 0;
		*key = fnv(FNV0, v, strlen(v));
		return 1;
	}
}

/* A new group's label (group_key gave its key: the field is there). */
static void group_label(struct corr *c, const struct corr_rule *r, const struct batch_header *h,
			const struct custos_record *rec, const struct sigma_event *ev,
			char label[STORE_GROUP_MAX])
{
	if (r->group == CORR_BY_PROCESS)
		snprintf(label, STORE_GROUP_MAX, "pid %llu", (unsigned long long)rec->subj.pid);
	else if (r->group == CORR_BY_TREE)
		snprintf(label, STORE_GROUP_MAX, "tree of pid %llu, session %llu",
			 (unsigned long long)tree_root(c, h, rec->subj.pid),
			 (unsigned long long)rec->subj.sessionid);
	else
		snprintf(label, STORE_GROUP_MAX, "%.120s", ev->f[r->group_field]);
}

/* Count the record in g (invariants 2, 3). OUT: *count, *keep (the record
 * is worth a reference: a plain count, or a new distinct value). */
static void count_in(struct group *g, const struct corr_rule *r, const struct sigma_event *ev,
		     int64_t t, uint64_t *count, int *keep)
{
	int64_t w = (int64_t)r->window_ns;
	size_t k = 0;

	while (k < g->n_refs && g->refs[k].ts + w <= t)
		k++;
	if (k) {	/* (a full group's references are 2.8 KiB: not moved in place) */
		memmove(g->refs, g->refs + k, (g->n_refs - k) * sizeof(g->refs[0]));
		g->n_refs -= (uint32_t)k;
	}
	if (r->distinct >= 0) {
		const char *v = ev->f[r->distinct];
		uint64_t hv = fnv(FNV0, v, strlen(v));
		uint32_t j = 0, found = 0;

		for (uint32_t i = 0; i < g->n_distinct; i++)	/* expire, exactly */
			if (g->distinct[i].ts + w > t)
				g->distinct[j++] = g->distinct[i];
		g->n_distinct = j;
		for (uint32_t i = 0; i < g->n_distinct && !found; i++)
			if (g->distinct[i].v == hv) {
				g->distinct[i].ts = t;
				found = 1;
			}
		if (!found && g->n_distinct < CORR_DISTINCT_MAX) {
			g->distinct[g->n_distinct].v = hv;
			g->distinct[g->n_distinct++].ts = t;
		}
		*keep = !found;
		*count = g->n_distinct;
		return;
	}
	/* Plain count: CORR_SUBWIN sub-windows cover the last 7/8 to 8/8 of
	 * the window, so a record counts for at most the window's length. */
	uint64_t sw = r->window_ns / CORR_SUBWIN, b = (uint64_t)(t > 0 ? t : 0) / sw;

	for (uint64_t x = g->cur + 1; x <= b && x <= g->cur + CORR_SUBWIN; x++)
		g->sub[x % CORR_SUBWIN] = 0;
	if (b > g->cur)
		g->cur = b;
	g->sub[g->cur % CORR_SUBWIN]++;
	*count = 0;
	for (int i = 0; i < CORR_SUBWIN; i++)
		*count += g->sub[i];
	*keep = 1;
}

static int threshold(struct corr *c, size_t ri, struct store *s, const struct corr_at *at,
		     const struct custos_record *rec, const struct sigma_event *ev, int64_t t,
		     uint64_t *alerts)
{
	const struct corr_rule *r = c->set->rules[ri];
	struct group *g;
	uint64_t key, count;
	int keep, created, ret = 0;

	if ((r->distinct >= 0 && !ev->f[r->distinct]) ||
	    !group_key(c, r, at->h, rec, ev, &key))
		return 0;	/* no value to count or group by: the record does not count */
	g = (struct group *)slot_get(c, &c->tables[ri], at->h->host_id,
				     key, 0);
	created = !g;
	if (!g)
		g = (struct group *)slot_get(c, &c->tables[ri],
					     at->h->host_id, key, 1);
	if (created) {
		g->last = t;
		g->cur = (uint64_t)(t > 0 ? t : 0) / (r->window_ns / CORR_SUBWIN);
		group_label(c, r, at->h, rec, ev, g->label);
	}
	t = t < g->last ? g->last : t;
	g->last = t;
	if (g->fired && t < g->fired_at + (int64_t)r->window_ns) {
		c->suppressed++;
		return 0;
	}
	g->fired = 0;
	count_in(g, r, ev, t, &count, &keep);
	if (keep && g->n_refs < CORR_REFS)
		ref_of(&g->refs[g->n_refs++], at, t);
	if (count < r->count)
		return 0;
	ret = fire(c, s, r, at, rec, ev, g->refs, g->n_refs, count, g->label, t, alerts);
	memset(g->sub, 0, sizeof(g->sub));
	g->n_distinct = g->n_refs = 0;
	g->fired = 1;
	g->fired_at = t;
	return ret;
}

/* --- sequence rules ---------------------------------------------------------- */

static uint64_t path_key(const char *p)
{
	return fnv(FNV0 ^ 0x5a, p, strlen(p));
}

static int sequence_then(struct corr *c, size_t ri, struct store *s, const struct corr_at *at,
			 const struct custos_record *rec, const struct sigma_event *ev, int64_t t,
			 uint64_t *alerts)
{
	const struct corr_rule *r = c->set->rules[ri];
	struct pending *e = NULL;
	uint64_t pid = rec->subj.pid;
	struct ref both[2];
	char label[STORE_GROUP_MAX];

	if (r->scope == CORR_SCOPE_FILE && ev->f[SIGMA_F_IMAGE])
		e = (struct pending *)slot_get(c, &c->tables[ri],
					       at->h->host_id, path_key(ev->f[SIGMA_F_IMAGE]), 0);
	/* Same process tree: B's process or one of its ancestors was A's. */
	for (int d = 0; r->scope == CORR_SCOPE_TREE && d < CORR_TREE_DEPTH; d++) {
		struct corr_proc *p;

		e = (struct pending *)slot_get(c, &c->tables[ri],
					       at->h->host_id, key_pid(at->h->boot_id, pid), 0);
		if (e && e->ref.ts <= t && t - e->ref.ts <= (int64_t)r->window_ns)
			break;
		e = NULL;
		p = corr_proc_find(c->procs, at->h, pid);
		if (!p || p->ppid == 0 || p->ppid == pid)
			break;
		pid = p->ppid;
	}
	if (!e || e->ref.ts > t || t - e->ref.ts > (int64_t)r->window_ns)
		return 0;
	both[0] = e->ref;
	ref_of(&both[1], at, t);
	snprintf(label, sizeof(label), "%s", e->label);
	slot_free(&c->tables[ri], &e->h);	/* invariant 4 */
	return fire(c, s, r, at, rec, ev, both, 2, 2, label, t, alerts);
}

static void sequence_first(struct corr *c, size_t ri, const struct corr_at *at,
			   const struct custos_record *rec, const struct sigma_event *ev, int64_t t)
{
	const struct corr_rule *r = c->set->rules[ri];
	const char *path = ev->f[SIGMA_F_TARGETFILENAME];
	uint64_t key;
	struct pending *e;

	if (r->scope == CORR_SCOPE_FILE && !path)
		return;
	key = r->scope == CORR_SCOPE_FILE ? path_key(path) : key_pid(at->h->boot_id, rec->subj.pid);
	e = (struct pending *)slot_get(c, &c->tables[ri], at->h->host_id,
				       key, 1);
	if (e->ref.ts && e->ref.ts <= t && t - e->ref.ts <= (int64_t)r->window_ns)
		return;		/* an earlier first stage still waits: keep it */
	ref_of(&e->ref, at, t);
	if (r->scope == CORR_SCOPE_FILE)
		snprintf(e->label, sizeof(e->label), "file %.100s", path);
	else
		snprintf(e->label, sizeof(e->label), "tree of pid %llu",
			 (unsigned long long)rec->subj.pid);
}

/* --- records ------------------------------------------------------------------ */

/* The stage events of one record, each built once whatever the number of
 * rules (have: 0 not built yet, 1 built, -1 the record is not of it). */
struct stage_events {
	signed char have[CORR_CAT_COUNT];
	struct sigma_event ev[CORR_CAT_COUNT];
};

static int stage_eval(struct corr *c, const struct corr_stage *st, const struct batch_header *h,
		      const struct custos_record *rec, const struct sigma_event *sev,
		      const char *image, struct stage_events *se)
{
	struct corr_proc *p;

	if (!se->have[st->cat])
		se->have[st->cat] = corr_event(st->cat, rec, sev, image, &se->ev[st->cat],
					       &c->buf) ? 1 : -1;
	if (se->have[st->cat] < 0 || !sigma_rule_match(st->sel, &se->ev[st->cat]))
		return 0;
	if (!st->connected)
		return 1;
	p = corr_proc_find(c->procs, h, rec->subj.pid);
	return p && p->connected;
}

/* Whether stage st (memo slot m) matches the record, evaluated once per
 * record and memo slot. */
static int stage_match(struct corr *c, const struct corr_stage *st, size_t m,
		       const struct batch_header *h, const struct custos_record *rec,
		       const struct sigma_event *sev, const char *image, struct stage_events *se)
{
	if (!c->memo[m])
		c->memo[m] = stage_eval(c, st, h, rec, sev, image, se) ? 1 : -1;
	return c->memo[m] > 0;
}

int corr_record(struct corr *c, struct store *s, const struct corr_at *at,
		const struct custos_record *rec, const struct sigma_event *ev, const char *image,
		uint64_t *alerts)
{
	int64_t t = (int64_t)rec->ts_ns + at->h->clock_offset_ns;
	struct stage_events se;
	int ret = 0;

	track(c, at->h, rec);
	if (rec->kind < 1 || rec->kind > 95)
		return 0;
	memset(se.have, 0, sizeof(se.have));
	memset(c->memo, 0, c->n_memo);
	for (size_t i = 0; !ret && i < c->set->n; i++) {
		const struct corr_rule *r = c->set->rules[i];
		size_t k = r->kind == CORR_THRESHOLD ? 0 : 1;
		const struct corr_stage *st = &r->stage[k];

		if (r->kind == CORR_THRESHOLD) {
			if (stage_match(c, st, c->memo_of[2 * i], at->h, rec, ev, image, &se))
				ret = threshold(c, i, s, at, rec, &se.ev[st->cat], t, alerts);
			continue;
		}
		if (stage_match(c, st, c->memo_of[2 * i + 1], at->h, rec, ev, image, &se))
			ret = sequence_then(c, i, s, at, rec, &se.ev[st->cat], t, alerts);
		st = &r->stage[0];
		if (!ret && stage_match(c, st, c->memo_of[2 * i], at->h, rec, ev, image, &se))
			sequence_first(c, i, at, rec, &se.ev[st->cat], t);
	}
	return ret;
}
