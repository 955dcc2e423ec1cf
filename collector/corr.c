/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluating correlation rules (corr.h, invariants there): per threshold
 * rule a table of groups (sliding-window counts or distinct values, with
 * the references of the records counted), per sequence rule a table of
 * first-stage matches waiting for their second stage. The tables and
 * their undo journal are corr_state.c's; the process table (parent, tree
 * root, "has connected since exec", and triage's image pair) is
 * corr_proc.c's, built the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "corr_impl.h"
#include "error.h"

/* --- the process table ------------------------------------------------------ */

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
	key = corr_key_pid(h->boot_id, rec->subj.pid);
	for (size_t i = 0; i < c->n_by_proc; i++) {
		const struct table *t = &c->tables[c->by_proc[i]];
		size_t k = key & (t->n - 1);

		if (!corr_may_map(c->set->rules[c->by_proc[i]]->stage[0].cat, rec->kind))
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
		*key = corr_key_pid(h->boot_id, rec->subj.pid);
		return 1;
	case CORR_BY_TREE:
		*key = corr_fnv(corr_key_pid(h->boot_id, tree_root(c, h, rec->subj.pid)), &rec->subj.sessionid,
			   sizeof(rec->subj.sessionid));
		return 1;
	default:
		v = ev->f[r->group_field];
		if (!v)
			return 0;
		*key = corr_fnv(CORR_FNV0, v, strlen(v));
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
		uint64_t hv = corr_fnv(CORR_FNV0, v, strlen(v));
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
	g = (struct group *)corr_slot_get(c, &c->tables[ri], at->h->host_id,
				     key, 0);
	created = !g;
	if (!g)
		g = (struct group *)corr_slot_get(c, &c->tables[ri],
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
	return corr_fnv(CORR_FNV0 ^ 0x5a, p, strlen(p));
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
		e = (struct pending *)corr_slot_get(c, &c->tables[ri],
					       at->h->host_id, path_key(ev->f[SIGMA_F_IMAGE]), 0);
	/* Same process tree: B's process or one of its ancestors was A's. */
	for (int d = 0; r->scope == CORR_SCOPE_TREE && d < CORR_TREE_DEPTH; d++) {
		struct corr_proc *p;

		e = (struct pending *)corr_slot_get(c, &c->tables[ri],
					       at->h->host_id, corr_key_pid(at->h->boot_id, pid), 0);
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
	corr_slot_free(&c->tables[ri], &e->h);	/* invariant 4 */
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
	key = r->scope == CORR_SCOPE_FILE ? path_key(path) : corr_key_pid(at->h->boot_id, rec->subj.pid);
	e = (struct pending *)corr_slot_get(c, &c->tables[ri], at->h->host_id,
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
 * rules (have: 0 not built yet, 1 built, -1 the record is not of it); ev
 * points at the Sigma event or at own[]. */
struct stage_events {
	signed char have[CORR_CAT_COUNT];
	const struct sigma_event *ev[CORR_CAT_COUNT];
	struct sigma_event own[CORR_CAT_COUNT];
};

static int stage_eval(struct corr *c, const struct corr_stage *st, const struct batch_header *h,
		      const struct custos_record *rec, const struct sigma_event *sev,
		      const char *image, struct stage_events *se)
{
	struct corr_proc *p;

	if (!se->have[st->cat])
		se->have[st->cat] = corr_event(st->cat, rec, sev, image, &se->own[st->cat],
					       &c->buf, &se->ev[st->cat]) ? 1 : -1;
	if (se->have[st->cat] < 0 || !sigma_rule_match(st->sel, se->ev[st->cat]))
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
	/* The rules a stage of which may see this kind (corr_open): the
	 * others' stages cannot match it. */
	for (size_t j = c->kind_first[rec->kind]; !ret && j < c->kind_first[rec->kind + 1]; j++) {
		size_t i = c->kind_rules[j];
		const struct corr_rule *r = c->set->rules[i];
		size_t k = r->kind == CORR_THRESHOLD ? 0 : 1;
		const struct corr_stage *st = &r->stage[k];

		if (r->kind == CORR_THRESHOLD) {
			if (stage_match(c, st, c->memo_of[2 * i], at->h, rec, ev, image, &se))
				ret = threshold(c, i, s, at, rec, se.ev[st->cat], t, alerts);
			continue;
		}
		if (stage_match(c, st, c->memo_of[2 * i + 1], at->h, rec, ev, image, &se))
			ret = sequence_then(c, i, s, at, rec, se.ev[st->cat], t, alerts);
		st = &r->stage[0];
		if (!ret && stage_match(c, st, c->memo_of[2 * i], at->h, rec, ev, image, &se))
			sequence_first(c, i, at, rec, se.ev[st->cat], t);
	}
	return ret;
}
