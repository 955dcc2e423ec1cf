/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proctab: the live process table (proctab.h).
 *
 * Invariants:
 *   1. At most one entry per pid; an entry is in its hash bucket's chain
 *      and in the recency list exactly when it is used.
 *   2. The recency list runs from the most recently seen (head) to the
 *      least (tail); when the table is full, a new process takes the
 *      tail's place (counted as evicted), so memory is fixed by max.
 *   3. An exec, fork or exit carries the kernel's start time: a pid
 *      whose entry has another start time is a new process (pid reuse),
 *      and its entry starts again. A start time from /proc (snapshot) is
 *      whole clock ticks; a kernel start time within one tick above it
 *      is the same process, and replaces it (exact from then on).
 * Entries are taken from a high-water mark before the free list, so the
 * pages of a large table that was never filled are never touched.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "proctab.h"

struct proctab {
	struct proctab_entry *e;
	int32_t *bucket;
	size_t max, n_buckets, high;	/* high: entries ever handed out */
	int32_t free_head, head, tail;
	uint64_t tick_ns;
	struct proctab_stats st;
};

int proctab_open(size_t max, struct proctab **out)
{
	struct proctab *t;
	long hz = sysconf(_SC_CLK_TCK);

	*out = NULL;
	if (max < 2 || max > (1u << 30))
		return -CUSTOS_ERR_INVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -CUSTOS_ERR_NOMEM;
	for (t->n_buckets = 1; t->n_buckets < max * 2; t->n_buckets <<= 1)
		;
	t->e = calloc(max, sizeof(*t->e));
	t->bucket = malloc(t->n_buckets * sizeof(*t->bucket));
	if (!t->e || !t->bucket) {
		proctab_close(t);
		return -CUSTOS_ERR_NOMEM;
	}
	memset(t->bucket, 0xff, t->n_buckets * sizeof(*t->bucket));	/* -1 */
	t->max = max;
	t->free_head = t->head = t->tail = -1;
	t->tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	*out = t;
	return 0;
}

void proctab_close(struct proctab *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

static size_t bucket_of(const struct proctab *t, uint64_t pid)
{
	return (size_t)((pid * 0x9e3779b97f4a7c15ull) >> 32) & (t->n_buckets - 1);
}

static int32_t find(const struct proctab *t, uint64_t pid)
{
	int32_t i = t->bucket[bucket_of(t, pid)];

	while (i >= 0 && t->e[i].pid != pid)
		i = t->e[i].hnext;
	return i;
}

static void list_unlink(struct proctab *t, int32_t i)
{
	struct proctab_entry *x = &t->e[i];

	if (x->prev >= 0)
		t->e[x->prev].next = x->next;
	else
		t->head = x->next;
	if (x->next >= 0)
		t->e[x->next].prev = x->prev;
	else
		t->tail = x->prev;
}

static void list_push_head(struct proctab *t, int32_t i)
{
	t->e[i].prev = -1;
	t->e[i].next = t->head;
	if (t->head >= 0)
		t->e[t->head].prev = i;
	t->head = i;
	if (t->tail < 0)
		t->tail = i;
}

static void touch(struct proctab *t, int32_t i)
{
	if (t->head == i)
		return;
	list_unlink(t, i);
	list_push_head(t, i);
}

static void drop(struct proctab *t, int32_t i)
{
	int32_t *p = &t->bucket[bucket_of(t, t->e[i].pid)];

	while (*p != i)
		p = &t->e[*p].hnext;
	*p = t->e[i].hnext;
	list_unlink(t, i);
	t->e[i].used = 0;
	t->e[i].hnext = t->free_head;
	t->free_head = i;
	t->st.entries--;
}

/* The entry of pid, added (evicting the least recently seen if full). */
static struct proctab_entry *get_or_add(struct proctab *t, uint64_t pid)
{
	int32_t i = find(t, pid);
	size_t b;

	if (i >= 0) {
		touch(t, i);
		return &t->e[i];
	}
	if (t->free_head < 0 && t->high == t->max) {
		drop(t, t->tail);
		t->st.evicted++;
	}
	if (t->free_head >= 0) {
		i = t->free_head;
		t->free_head = t->e[i].hnext;
	} else {
		i = (int32_t)t->high++;
	}
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->e[i].pid = pid;
	t->e[i].used = 1;
	b = bucket_of(t, pid);
	t->e[i].hnext = t->bucket[b];
	t->bucket[b] = i;
	list_push_head(t, i);
	t->st.entries++;
	t->st.added++;
	return &t->e[i];
}

/* Whether a kernel start time names another process than the entry's
 * (invariant 3). */
static int other_process(const struct proctab *t, const struct proctab_entry *x, uint64_t start)
{
	if (!x->start_ns || !start)
		return 0;
	if (x->start_exact)
		return x->start_ns != start;
	return start < x->start_ns || start - x->start_ns >= t->tick_ns;
}

static void set_exe(struct proctab_entry *x, const uint8_t *exe, uint32_t len, uint64_t trunc)
{
	x->exe_truncated = trunc || len > PROCTAB_EXE_MAX;
	x->exe_len = len > PROCTAB_EXE_MAX ? PROCTAB_EXE_MAX : len;
	memcpy(x->exe, exe, x->exe_len);
	x->exe[x->exe_len] = '\0';
}

/* The process pid with a kernel start time (0: unknown). */
static struct proctab_entry *process(struct proctab *t, uint64_t pid, uint64_t start, int exact)
{
	struct proctab_entry *x = get_or_add(t, pid);

	if (exact && other_process(t, x, start)) {
		t->st.reused++;
		x->exe[0] = '\0';
		x->exe_len = 0;
		x->exe_truncated = 0;
		x->ppid = 0;
		x->start_ns = 0;
	}
	if (start && (exact || !x->start_exact)) {
		x->start_ns = start;
		x->start_exact = exact;
	}
	return x;
}

static void on_exec(struct proctab *t, const struct custos_record *r)
{
	const struct custos_exec *e = &r->u.exec;
	struct proctab_entry *x;

	if (e->result != 0)
		return;
	x = process(t, r->subj.pid, e->start_ns, r->kind == CUSTOS_REC_EXEC);
	x->ppid = r->subj.ppid;
	set_exe(x, e->exe, e->exe_len, e->exe_truncated);
}

static void on_fork(struct proctab *t, const struct custos_record *r)
{
	const struct custos_fork *f = &r->u.fork;
	struct proctab_entry *x;
	int32_t pi;

	if (f->child_pid == r->subj.pid || f->child_pid == 0)
		return;		/* a thread */
	x = process(t, f->child_pid, f->child_start_ns, 1);
	x->ppid = r->subj.pid;
	pi = find(t, r->subj.pid);	/* the parent may have been evicted */
	if (pi >= 0) {
		memcpy(x->exe, t->e[pi].exe, t->e[pi].exe_len + 1);
		x->exe_len = t->e[pi].exe_len;
		x->exe_truncated = t->e[pi].exe_truncated;
	}
}

void proctab_update(struct proctab *t, const struct custos_record *r)
{
	int32_t i;

	if (r->kind >= CUSTOS_REC_AGENT_START)
		return;
	switch (r->kind) {
	case CUSTOS_REC_EXEC:
	case CUSTOS_REC_SNAPSHOT:
		on_exec(t, r);
		return;
	case CUSTOS_REC_FORK:
		on_fork(t, r);
		return;
	case CUSTOS_REC_EXIT:
		if ((i = find(t, r->subj.pid)) >= 0) {
			drop(t, i);
			t->st.removed++;
		}
		return;
	default:
		if ((i = find(t, r->subj.pid)) >= 0)
			touch(t, i);
	}
}

const struct proctab_entry *proctab_get(const struct proctab *t, uint64_t pid)
{
	int32_t i = find(t, pid);

	return i >= 0 ? &t->e[i] : NULL;
}

void proctab_enrich(const struct proctab *t, struct custos_record *r)
{
	const struct proctab_entry *p;

	if (r->kind != CUSTOS_REC_EXEC && r->kind != CUSTOS_REC_SNAPSHOT)
		return;
	p = proctab_get(t, r->subj.ppid);
	r->u.exec.parent_start_ns = p ? p->start_ns : 0;
}

void proctab_each(const struct proctab *t, void (*fn)(void *ctx, const struct proctab_entry *e),
		  void *ctx)
{
	for (int32_t i = t->head; i >= 0; i = t->e[i].next)
		fn(ctx, &t->e[i]);
}

void proctab_get_stats(const struct proctab *t, struct proctab_stats *st)
{
	*st = t->st;
}
