/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/snapshot.c: a child started here (sleep, from a
 * known directory with known arguments) is described exactly by its
 * snapshot record, the record encodes, and the walk finds this process
 * and no kernel thread. */
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "snapshot.h"

extern char **environ;

static uint64_t boot_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void test_child_described(void **state)
{
	static const char argv_bytes[] = "/bin/sleep\0" "30\0" "1s";
	char *args[] = { "/bin/sleep", "30", "1s", NULL };
	char cwd[4096], exe[4096];
	struct custos_record *r = malloc(sizeof(*r));
	struct stat st;
	struct buf b;
	pid_t pid;
	uint64_t ts;

	(void)state;
	assert_non_null(r);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(posix_spawn(&pid, "/bin/sleep", NULL, NULL, args, environ), 0);
	usleep(100000);	/* let it exec */
	ts = boot_ns();
	assert_int_equal(snapshot_process("/proc", (uint64_t)pid, ts, r), 0);
	assert_int_equal(r->kind, CUSTOS_REC_SNAPSHOT);
	assert_int_equal(r->subj.pid, pid);
	assert_int_equal(r->subj.ppid, getpid());
	assert_int_equal(r->subj.uid, getuid());
	assert_int_equal(r->subj.euid, geteuid());
	assert_int_equal(r->subj.comm_len, 5);
	assert_memory_equal(r->subj.comm, "sleep", 5);
	assert_non_null(realpath("/bin/sleep", exe));
	assert_int_equal(r->u.exec.exe_len, strlen(exe));
	assert_memory_equal(r->u.exec.exe, exe, strlen(exe));
	assert_int_equal(r->u.exec.cwd_len, strlen(cwd));
	assert_memory_equal(r->u.exec.cwd, cwd, strlen(cwd));
	assert_int_equal(r->u.exec.argc, 3);
	assert_int_equal(r->u.exec.argv_count, 3);
	assert_int_equal(r->u.exec.argv_len, sizeof(argv_bytes));
	assert_memory_equal(r->u.exec.argv, argv_bytes, sizeof(argv_bytes));
	assert_int_equal(r->u.exec.argv_truncated, 0);
	assert_int_equal(stat("/bin/sleep", &st), 0);
	assert_int_equal(r->u.exec.exe_ino, st.st_ino);
	assert_int_equal(r->u.exec.exe_dev, st.st_dev);
	assert_int_equal(r->u.exec.exe_mode, st.st_mode);
	assert_true(r->u.exec.start_ns > 0 && r->u.exec.start_ns <= ts);
	assert_true(ts - r->u.exec.start_ns < 5000000000ull);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_PENDING);
	assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
	assert_int_equal(r->subj.pidns, st.st_ino);
	buf_init(&b, 1 << 20);
	assert_int_equal(record_encode(&b, r), 0);	/* a valid record */
	buf_free(&b);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(snapshot_process("/proc", (uint64_t)pid, ts, r), -CUSTOS_ERR_IO);
	free(r);
}

struct walk {
	int self, kthreads;
};

static int on_rec(void *ctx, const struct custos_record *r)
{
	struct walk *w = ctx;

	if (r->subj.pid == (uint64_t)getpid())
		w->self++;
	if (r->subj.pid == 2 || r->subj.ppid == 2)
		w->kthreads++;
	return 0;
}

static void test_walk(void **state)
{
	struct walk w = { 0 };
	uint64_t n;

	(void)state;
	assert_int_equal(snapshot_walk("/proc", boot_ns(), on_rec, &w, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(w.self, 1);
	assert_int_equal(w.kthreads, 0);
	assert_int_equal(snapshot_walk("/nonexistent", 1, on_rec, &w, &n), -CUSTOS_ERR_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_described),
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
