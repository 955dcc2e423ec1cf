/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/proctab.c, the agent's process table: a snapshot,
 * fork, exec and exit build and end entries (parent, exe, start); an exec
 * record gets its parent's start time (parent_start_ns); a new thread and
 * a failed exec change nothing; a pid seen with another start time is a
 * new process, except a kernel start time within one tick of a snapshot's;
 * a full table evicts the least recently seen process, counted. */
#include <unistd.h>

#include "testutil.h"
#include "proctab.h"

static void rec_exec(struct custos_record *r, uint64_t kind, uint64_t pid, uint64_t ppid,
		     const char *exe, uint64_t start)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->subj.pid = r->subj.tid = pid;
	r->subj.ppid = ppid;
	record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, exe);
	r->u.exec.start_ns = start;
}

static void rec_fork(struct custos_record *r, uint64_t parent, uint64_t child, uint64_t start)
{
	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_FORK;
	r->subj.pid = r->subj.tid = parent;
	r->u.fork.child_pid = r->u.fork.child_tid = child;
	r->u.fork.child_start_ns = start;
}

static void rec_other(struct custos_record *r, uint64_t kind, uint64_t pid)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->subj.pid = r->subj.tid = pid;
}

static void test_lifecycle(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	const struct proctab_entry *e;
	struct proctab_stats st;
	struct proctab *t;

	(void)state;
	assert_non_null(r);
	assert_int_equal(proctab_open(1, &t), -CUSTOS_ERR_INVAL);
	assert_int_equal(proctab_open(64, &t), 0);
	rec_exec(r, CUSTOS_REC_SNAPSHOT, 100, 1, "/usr/sbin/sshd", 2000000000ull);
	proctab_update(t, r);
	rec_fork(r, 100, 200, 9000000123ull);
	proctab_update(t, r);
	e = proctab_get(t, 200);
	assert_non_null(e);
	assert_int_equal(e->ppid, 100);
	assert_string_equal(e->exe, "/usr/sbin/sshd");		/* inherited */
	assert_int_equal(e->start_ns, 9000000123ull);
	rec_fork(r, 200, 200, 9100000000ull);			/* a new thread */
	proctab_update(t, r);
	rec_exec(r, CUSTOS_REC_EXEC, 200, 100, "/bin/bash", 9000000123ull);
	proctab_enrich(t, r);
	assert_int_equal(r->u.exec.parent_start_ns, 2000000000ull);
	proctab_update(t, r);
	rec_exec(r, CUSTOS_REC_EXEC, 200, 100, "/nope", 9000000123ull);
	r->u.exec.result = -2;					/* failed: no change */
	proctab_update(t, r);
	e = proctab_get(t, 200);
	assert_string_equal(e->exe, "/bin/bash");
	rec_exec(r, CUSTOS_REC_EXEC, 300, 999, "/bin/ls", 9500000000ull);
	proctab_enrich(t, r);
	assert_int_equal(r->u.exec.parent_start_ns, 0);	/* parent unknown */
	rec_other(r, CUSTOS_REC_EXIT, 200);
	proctab_update(t, r);
	assert_null(proctab_get(t, 200));
	proctab_get_stats(t, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.added, 2);
	assert_int_equal(st.removed, 1);
	assert_int_equal(st.evicted, 0);
	proctab_close(t);
	free(r);
}

static void test_start_times(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	uint64_t tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	const struct proctab_entry *e;
	struct proctab_stats st;
	struct proctab *t;

	(void)state;
	assert_non_null(r);
	assert_int_equal(proctab_open(64, &t), 0);
	/* /proc says 3.00 s; the kernel's exact start is within the tick. */
	rec_exec(r, CUSTOS_REC_SNAPSHOT, 50, 1, "/usr/bin/python3", 3000000000ull);
	proctab_update(t, r);
	rec_exec(r, CUSTOS_REC_EXEC, 50, 1, "/usr/bin/python3", 3000000000ull + tick - 1);
	proctab_update(t, r);
	e = proctab_get(t, 50);
	assert_int_equal(e->start_ns, 3000000000ull + tick - 1);
	assert_true(e->start_exact);
	proctab_get_stats(t, &st);
	assert_int_equal(st.reused, 0);
	/* The pid again, another start: another process. */
	rec_fork(r, 1, 50, 7000000000ull);
	proctab_update(t, r);
	e = proctab_get(t, 50);
	assert_int_equal(e->start_ns, 7000000000ull);
	assert_int_equal(e->ppid, 1);
	assert_string_equal(e->exe, "");			/* pid 1 unknown here */
	proctab_get_stats(t, &st);
	assert_int_equal(st.reused, 1);
	assert_int_equal(st.entries, 1);
	proctab_close(t);
	free(r);
}

static void count(void *ctx, const struct proctab_entry *e)
{
	(void)e;
	(*(int *)ctx)++;
}

static void test_eviction(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct proctab_stats st;
	struct proctab *t;
	int n = 0;

	(void)state;
	assert_non_null(r);
	assert_int_equal(proctab_open(3, &t), 0);
	for (uint64_t pid = 10; pid < 13; pid++) {
		rec_exec(r, CUSTOS_REC_EXEC, pid, 1, "/bin/x", pid * 1000);
		proctab_update(t, r);
	}
	rec_other(r, CUSTOS_REC_OPEN, 10);	/* 10 seen again: 11 is now the oldest */
	proctab_update(t, r);
	rec_exec(r, CUSTOS_REC_EXEC, 13, 1, "/bin/y", 13000);
	proctab_update(t, r);
	assert_non_null(proctab_get(t, 10));
	assert_null(proctab_get(t, 11));
	assert_non_null(proctab_get(t, 12));
	assert_non_null(proctab_get(t, 13));
	rec_other(r, CUSTOS_REC_EXIT, 12);
	proctab_update(t, r);
	rec_exec(r, CUSTOS_REC_EXEC, 14, 1, "/bin/z", 14000);	/* takes the freed entry */
	proctab_update(t, r);
	proctab_each(t, count, &n);
	assert_int_equal(n, 3);
	proctab_get_stats(t, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.entries, 3);
	proctab_close(t);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_start_times),
		cmocka_unit_test(test_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
