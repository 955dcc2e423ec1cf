/* SPDX-License-Identifier: Apache-2.0 */
/* agent/decode.c: kernel ring-buffer records become custos_records field
 * by field, and a record of the wrong size or with a length or offset out
 * of range is refused with a precise error and an all-zero output. */
#include "testutil.h"
#include "decode.h"
#include "events.h"

static struct custos_ev_exec ev;
static struct custos_record rec;

static void put_path(struct custos_ev_path *p, const char *s, int truncated)
{
	size_t n = strlen(s);

	memset(p, 0x5a, sizeof(*p));	/* stale ring-buffer bytes */
	p->off = (uint16_t)(CUSTOS_EV_PATH_MAX - n);
	p->len = (uint16_t)n;
	p->truncated = (uint8_t)truncated;
	memcpy(p->buf + p->off, s, n);
}

static void make_exec(void)
{
	static const char argv[] = "./prog\0a b\0c";	/* sizeof includes the last NUL */

	memset(&ev, 0x5a, sizeof(ev));
	ev.hdr.kind = CUSTOS_EV_EXEC;
	ev.hdr.pid = 4242;
	ev.hdr.tid = 4243;
	ev.hdr.ppid = 1;
	ev.hdr.ts_ns = 5000000000ull;
	ev.hdr.uid = 1000;
	ev.hdr.gid = 1001;
	ev.hdr.euid = 0;
	ev.hdr.loginuid = 4294967295u;
	ev.hdr.sessionid = 7;
	ev.hdr.pidns = 4026531836u;
	ev.hdr.mntns = 4026531841u;
	ev.hdr.cgroup_id = 0x1234;
	memset(ev.hdr.comm, 0, sizeof(ev.hdr.comm));
	memcpy(ev.hdr.comm, "prog", 4);
	ev.start_ns = 4999999000ull;
	ev.exe_dev = (8u << 20) | 1;	/* sda1, kernel encoding */
	ev.exe_ino = 131075;
	ev.exe_mode = 0100755;
	ev.argc = 3;
	memcpy(ev.argv, argv, sizeof(argv));
	ev.argv_len = sizeof(argv);
	ev.argv_truncated = 0;
	memcpy(ev.filename, "./prog", 6);
	ev.filename_len = 6;
	put_path(&ev.exe, "/tmp/x/prog", 0);
	put_path(&ev.cwd, "/tmp/x", 0);
}

static int decode(const void *p, size_t n)
{
	uint32_t kind;

	return decode_event(p, n, &rec, &kind);
}

static void test_exec(void **state)
{
	const struct custos_exec *x = &rec.u.exec;

	(void)state;
	make_exec();
	assert_int_equal(decode(&ev, sizeof(ev)), 0);
	assert_int_equal(rec.kind, CUSTOS_REC_EXEC);
	assert_int_equal(rec.ts_ns, 5000000000ull);
	assert_int_equal(rec.subj.pid, 4242);
	assert_int_equal(rec.subj.tid, 4243);
	assert_int_equal(rec.subj.loginuid, 4294967295u);
	assert_int_equal(rec.subj.comm_len, 4);
	assert_memory_equal(rec.subj.comm, "prog", 4);
	assert_int_equal(x->filename_len, 6);
	assert_int_equal(x->exe_len, strlen("/tmp/x/prog"));
	assert_memory_equal(x->exe, "/tmp/x/prog", x->exe_len);
	assert_int_equal(x->cwd_len, strlen("/tmp/x"));
	assert_memory_equal(x->cwd, "/tmp/x", x->cwd_len);
	assert_int_equal(x->argc, 3);
	assert_int_equal(x->argv_count, 3);
	assert_int_equal(x->argv_len, 13);
	assert_memory_equal(x->argv, "./prog\0a b\0c\0", 13);
	assert_int_equal(x->argv_truncated, 0);
	assert_int_equal(x->exe_dev, 0x801);	/* as stat(2) shows it */
	assert_int_equal(x->exe_mode, 0100755);
	assert_int_equal(x->start_ns, 4999999000ull);
	assert_int_equal(x->hash_status, CUSTOS_HASH_PENDING);

	/* A record of this shape encodes: the decoder's output is valid. */
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(record_encode(&b, &rec), 0);
	buf_free(&b);
}

static void test_argv_cut(void **state)
{
	(void)state;
	/* The area filled ARGS_MAX bytes and ended inside an argument. */
	make_exec();
	memset(ev.argv, 'a', sizeof(ev.argv));
	ev.argv[10] = 0;
	ev.argv_len = sizeof(ev.argv);
	ev.argv_truncated = 1;
	ev.argc = 5;
	assert_int_equal(decode(&ev, sizeof(ev)), 0);
	assert_int_equal(rec.u.exec.argv_count, 2);
	assert_int_equal(rec.u.exec.argv_len, CUSTOS_ARGS_MAX);
	assert_int_equal(rec.u.exec.argv[CUSTOS_ARGS_MAX - 1], 0);
	assert_int_equal(rec.u.exec.argv_truncated, 1);
	assert_int_equal(rec.u.exec.argc, 5);

	/* Fewer elements than argc, even without the kernel's flag. */
	make_exec();
	ev.argc = 4;
	assert_int_equal(decode(&ev, sizeof(ev)), 0);
	assert_int_equal(rec.u.exec.argv_truncated, 1);

	/* No arguments at all. */
	make_exec();
	ev.argc = 0;
	ev.argv_len = 0;
	assert_int_equal(decode(&ev, sizeof(ev)), 0);
	assert_int_equal(rec.u.exec.argv_count, 0);
	assert_int_equal(rec.u.exec.argv_truncated, 0);
}

static void test_path_truncated_flag(void **state)
{
	(void)state;
	make_exec();
	put_path(&ev.exe, "/d9/d10/t", 1);
	assert_int_equal(decode(&ev, sizeof(ev)), 0);
	assert_int_equal(rec.u.exec.exe_truncated, 1);
	assert_int_equal(rec.u.exec.cwd_truncated, 0);
}

static void assert_refused(int want)
{
	static const uint8_t zero[sizeof(rec)];

	assert_int_equal(decode(&ev, sizeof(ev)), want);
	assert_memory_equal(&rec, zero, sizeof(rec));
}

static void test_bad_lengths(void **state)
{
	(void)state;
	make_exec();
	ev.exe.len = CUSTOS_EV_PATH_MAX + 1;
	ev.exe.off = 0;
	assert_refused(-CUSTOS_ERR_MALFORMED);

	make_exec();
	ev.cwd.off = CUSTOS_EV_PATH_BUF - 2;
	ev.cwd.len = 3;			/* one byte past the buffer */
	assert_refused(-CUSTOS_ERR_MALFORMED);

	make_exec();
	ev.cwd.off = 0xffff;
	ev.cwd.len = 0;
	assert_refused(-CUSTOS_ERR_MALFORMED);

	make_exec();
	ev.filename_len = CUSTOS_EV_PATH_MAX + 1;
	assert_refused(-CUSTOS_ERR_MALFORMED);

	make_exec();
	ev.argv_len = CUSTOS_EV_ARGS_MAX + 1;
	assert_refused(-CUSTOS_ERR_MALFORMED);

	/* The largest legal values are accepted. */
	make_exec();
	ev.exe.off = CUSTOS_EV_NAME_SLACK;
	ev.exe.len = CUSTOS_EV_PATH_MAX;
	ev.filename_len = CUSTOS_EV_PATH_MAX;
	assert_int_equal(decode(&ev, sizeof(ev)), 0);
}

static void test_wrong_size_or_kind(void **state)
{
	struct custos_ev_fork fork;
	uint8_t big[sizeof(ev) + 8];
	uint32_t kind;

	(void)state;
	make_exec();
	assert_int_equal(decode(&ev, sizeof(ev) - 1), -CUSTOS_ERR_TRUNCATED);
	memset(big, 0, sizeof(big));
	memcpy(big, &ev, sizeof(ev));
	assert_int_equal(decode(big, sizeof(ev) + 1), -CUSTOS_ERR_OVERSIZED);
	/* An exec claimed in a fork-sized record. */
	assert_int_equal(decode(&ev, sizeof(struct custos_ev_fork)), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(decode(&ev, 3), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(decode(&ev, 0), -CUSTOS_ERR_TRUNCATED);

	memset(&fork, 0, sizeof(fork));
	for (uint32_t k = 0; k < 300; k++) {
		if (decode_event_size(k))
			continue;
		fork.hdr.kind = k;
		assert_int_equal(decode_event(&fork, sizeof(fork), &rec, &kind),
				 -CUSTOS_ERR_MALFORMED);
		assert_int_equal(kind, k);
	}
}

static void test_fork_and_exit(void **state)
{
	struct custos_ev_fork f;
	struct custos_ev_exit x;
	static const struct {
		uint32_t status;
		int64_t code;
		uint64_t signal, core;
	} cases[] = {
		{ 0, 0, 0, 0 },
		{ 3 << 8, 3, 0, 0 },
		{ 255 << 8, 255, 0, 0 },
		{ 9, 0, 9, 0 },			/* SIGKILL */
		{ 0x80 | 11, 0, 11, 1 },	/* SIGSEGV, core dumped */
	};

	(void)state;
	memset(&f, 0, sizeof(f));
	f.hdr.kind = CUSTOS_EV_FORK;
	f.hdr.pid = 10;
	f.child_pid = 11;
	f.child_tid = 11;
	f.clone_flags = 17;
	f.child_start_ns = 99;
	assert_int_equal(decode(&f, sizeof(f)), 0);
	assert_int_equal(rec.kind, CUSTOS_REC_FORK);
	assert_int_equal(rec.subj.pid, 10);
	assert_int_equal(rec.u.fork.child_pid, 11);
	assert_int_equal(rec.u.fork.clone_flags, 17);
	assert_int_equal(rec.u.fork.child_start_ns, 99);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&x, 0, sizeof(x));
		x.hdr.kind = CUSTOS_EV_EXIT;
		x.status = cases[i].status;
		x.start_ns = 5;
		assert_int_equal(decode(&x, sizeof(x)), 0);
		assert_int_equal(rec.kind, CUSTOS_REC_EXIT);
		assert_int_equal(rec.u.exit.code, cases[i].code);
		assert_int_equal(rec.u.exit.signal, cases[i].signal);
		assert_int_equal(rec.u.exit.core_dumped, cases[i].core);
		assert_int_equal(rec.u.exit.start_ns, 5);
	}
	assert_int_equal(decode(&x, sizeof(x) + 0), 0);
	assert_int_equal(decode(&x, sizeof(x) - 8), -CUSTOS_ERR_TRUNCATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_argv_cut),
		cmocka_unit_test(test_path_truncated_flag),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_wrong_size_or_kind),
		cmocka_unit_test(test_fork_and_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
