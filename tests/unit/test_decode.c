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

/* File records: a path from the object, or a base joined with raw. */
static struct custos_ev_file2 fe;

static void make_file(uint32_t kind, const char *base, int how, const char *raw)
{
	memset(&fe, 0x5a, sizeof(fe));
	memcpy(&fe.f.hdr, &ev.hdr, sizeof(ev.hdr));
	fe.f.hdr.kind = kind;
	fe.f.result = -2;
	fe.f.nr = 87;
	fe.f.path_how = (uint8_t)how;
	fe.f.path2_how = CUSTOS_EV_PATH_BASE;
	fe.f.user_check = 0;
	fe.f.flags = 0x200;
	fe.f.mode = 0644;
	fe.f.owner_uid = 4294967295u;
	fe.f.owner_gid = 7;
	fe.f.size = 10;
	fe.f.raw_len = (uint16_t)strlen(raw);
	memcpy(fe.f.raw, raw, fe.f.raw_len);
	fe.f.raw_truncated = 0;
	fe.f.raw2_len = 0;
	fe.f.raw2_truncated = 0;
	fe.f.name_len = 11;
	memcpy(fe.f.name, "user.custos", 11);
	put_path(&fe.f.path, base, 0);
	put_path(&fe.path2, "/", 0);
}

static void assert_path(const uint8_t *p, uint32_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static size_t file_size(uint32_t kind)
{
	return decode_event_size(kind);
}

static void test_file_join(void **state)
{
	static const struct {
		const char *base, *raw, *want;
	} cases[] = {
		{ "/tmp/x", "b/f", "/tmp/x/b/f" },
		{ "/tmp/x", "./b/f", "/tmp/x/b/f" },
		{ "/tmp/x", ".//b", "/tmp/x/b" },
		{ "/tmp/x", ".", "/tmp/x" },
		{ "/", "a", "/a" },
		{ "/", "/etc/passwd", "/etc/passwd" },		/* absolute: base is the root */
		{ "/srv/chroot", "/etc/passwd", "/srv/chroot/etc/passwd" },
		{ "/tmp/x", "../y", "/tmp/x/../y" },		/* kept as written */
	};
	struct custos_file *f = &rec.u.file;

	(void)state;
	make_exec();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_file(CUSTOS_EV_UNLINK, cases[i].base, CUSTOS_EV_PATH_BASE, cases[i].raw);
		assert_int_equal(decode(&fe, file_size(CUSTOS_EV_UNLINK)), 0);
		assert_int_equal(rec.kind, CUSTOS_REC_UNLINK);
		assert_path(f->path, f->path_len, cases[i].want);
		assert_path(f->path_raw, f->path_raw_len, cases[i].raw);
		assert_int_equal(f->path_truncated, 0);
		assert_int_equal(f->result, -2);
	}
	/* The object itself: the path is used as resolved. */
	make_file(CUSTOS_EV_OPEN, "/tmp/x/real", CUSTOS_EV_PATH_OBJECT, "lnk");
	assert_int_equal(decode(&fe, file_size(CUSTOS_EV_OPEN)), 0);
	assert_path(f->path, f->path_len, "/tmp/x/real");
	assert_path(f->path_raw, f->path_raw_len, "lnk");
	assert_int_equal(f->mode, 0644);

	/* An unresolvable base (a bad dirfd) or a cut raw string is flagged. */
	make_file(CUSTOS_EV_UNLINK, "", CUSTOS_EV_PATH_BASE, "f");
	assert_int_equal(decode(&fe, file_size(CUSTOS_EV_UNLINK)), 0);
	assert_int_equal(f->path_truncated, 1);
	make_file(CUSTOS_EV_UNLINK, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	fe.f.raw_truncated = 1;
	assert_int_equal(decode(&fe, file_size(CUSTOS_EV_UNLINK)), 0);
	assert_int_equal(f->path_truncated, 1);

	/* A join longer than PATH keeps its last PATH bytes. */
	make_file(CUSTOS_EV_UNLINK, "/base", CUSTOS_EV_PATH_BASE, "");
	memset(fe.f.raw, 'a', CUSTOS_EV_PATH_MAX);
	fe.f.raw_len = CUSTOS_EV_PATH_MAX;
	assert_int_equal(decode(&fe, file_size(CUSTOS_EV_UNLINK)), 0);
	assert_int_equal(f->path_len, CUSTOS_PATH_MAX);
	assert_int_equal(f->path[0], 'a');
	assert_int_equal(f->path_truncated, 1);
}

static void test_file_two_paths(void **state)
{
	struct custos_file *f = &rec.u.file;
	struct buf b;

	(void)state;
	make_exec();
	make_file(CUSTOS_EV_RENAME, "/tmp/x", CUSTOS_EV_PATH_BASE, "b/f1");
	put_path(&fe.path2, "/tmp/y", 0);
	fe.f.raw2_len = 2;
	memcpy(fe.raw2, "f3", 2);
	fe.f.result = 0;
	assert_int_equal(decode(&fe, sizeof(fe)), 0);
	assert_int_equal(rec.kind, CUSTOS_REC_RENAME);
	assert_path(f->path, f->path_len, "/tmp/x/b/f1");
	assert_path(f->path2, f->path2_len, "/tmp/y/f3");
	assert_path(f->path2_raw, f->path2_raw_len, "f3");
	buf_init(&b, 1 << 20);
	assert_int_equal(record_encode(&b, &rec), 0);
	buf_free(&b);

	/* symlink: the target is text, never resolved. */
	fe.f.hdr.kind = CUSTOS_EV_SYMLINK;
	assert_int_equal(decode(&fe, sizeof(fe)), 0);
	assert_int_equal(f->path2_len, 0);
	assert_path(f->path2_raw, f->path2_raw_len, "f3");

	/* A two-path kind in a one-path record, and the reverse. */
	fe.f.hdr.kind = CUSTOS_EV_RENAME;
	assert_int_equal(decode(&fe, sizeof(struct custos_ev_file)), -CUSTOS_ERR_TRUNCATED);
	fe.f.hdr.kind = CUSTOS_EV_CHMOD;
	assert_int_equal(decode(&fe, sizeof(fe)), -CUSTOS_ERR_OVERSIZED);
}

static void test_file_bad_lengths(void **state)
{
	static const uint8_t zero[sizeof(rec)];

	(void)state;
	make_exec();
	make_file(CUSTOS_EV_CHMOD, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	fe.f.raw_len = CUSTOS_EV_PATH_MAX + 1;
	assert_int_equal(decode(&fe, file_size(CUSTOS_EV_CHMOD)), -CUSTOS_ERR_MALFORMED);
	assert_memory_equal(&rec, zero, sizeof(rec));
	make_file(CUSTOS_EV_SETXATTR, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	fe.f.name_len = CUSTOS_EV_XNAME_MAX + 1;
	assert_int_equal(decode(&fe, file_size(CUSTOS_EV_SETXATTR)), -CUSTOS_ERR_MALFORMED);
	make_file(CUSTOS_EV_CHMOD, "/tmp", 7, "f");	/* no such path_how */
	assert_int_equal(decode(&fe, file_size(CUSTOS_EV_CHMOD)), -CUSTOS_ERR_MALFORMED);
	make_file(CUSTOS_EV_RENAME, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	fe.f.raw2_len = CUSTOS_EV_PATH_MAX + 1;
	assert_int_equal(decode(&fe, sizeof(fe)), -CUSTOS_ERR_MALFORMED);
	make_file(CUSTOS_EV_RENAME, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	fe.f.raw2_len = 0;
	fe.path2.len = CUSTOS_EV_PATH_MAX + 1;
	assert_int_equal(decode(&fe, sizeof(fe)), -CUSTOS_ERR_MALFORMED);
	assert_memory_equal(&rec, zero, sizeof(rec));
}

static void test_net(void **state)
{
	struct custos_ev_net n;
	struct buf b;

	(void)state;
	make_exec();
	memset(&n, 0x5a, sizeof(n));
	memcpy(&n.hdr, &ev.hdr, sizeof(ev.hdr));
	n.hdr.kind = CUSTOS_EV_SEND;
	n.result = 5;
	n.nr = 44;
	n.family = 2;
	n.sock_type = 2;
	n.protocol = 17;
	n.local_len = 4;
	memcpy(n.local, "\x7f\0\0\x01", 4);
	n.local_port = 40000;
	n.remote_len = 4;
	memcpy(n.remote, "\x7f\0\0\x01", 4);
	n.remote_port = 53;
	n.backlog = 0;
	assert_int_equal(decode(&n, sizeof(n)), 0);
	assert_int_equal(rec.kind, CUSTOS_REC_SEND);
	assert_int_equal(rec.u.net.op, 44);
	assert_int_equal(rec.u.net.remote_port, 53);
	assert_int_equal(rec.u.net.local_addr_len, 4);
	assert_memory_equal(rec.u.net.remote_addr, "\x7f\0\0\x01", 4);
	buf_init(&b, 1 << 16);
	assert_int_equal(record_encode(&b, &rec), 0);
	buf_free(&b);
	n.hdr.kind = CUSTOS_EV_CONNECT;
	assert_int_equal(decode(&n, sizeof(n)), 0);
	assert_int_equal(rec.u.net.op, 0);	/* op is for send only */
	n.remote_len = CUSTOS_EV_ADDR_MAX + 1;
	assert_int_equal(decode(&n, sizeof(n)), -CUSTOS_ERR_MALFORMED);
	n.remote_len = CUSTOS_EV_ADDR_MAX;	/* a full unix path */
	assert_int_equal(decode(&n, sizeof(n)), 0);
	assert_int_equal(decode(&n, sizeof(n) - 1), -CUSTOS_ERR_TRUNCATED);
}

/* socket (69): the net body without addresses; backlog carries the type's
 * flag bits, which become sock_flags, and the record encodes. */
static void test_socket(void **state)
{
	struct custos_ev_net n;
	struct buf b;

	(void)state;
	make_exec();
	memset(&n, 0x5a, sizeof(n));
	memcpy(&n.hdr, &ev.hdr, sizeof(ev.hdr));
	n.hdr.kind = CUSTOS_EV_SOCKET;
	n.result = -1;		/* EPERM: no CAP_NET_RAW */
	n.nr = 41;
	n.family = 17;
	n.sock_type = 3;
	n.protocol = 768;
	n.local_len = 0;
	n.remote_len = 0;
	n.local_port = 0;
	n.remote_port = 0;
	n.backlog = 0x80800;	/* SOCK_CLOEXEC | SOCK_NONBLOCK */
	assert_int_equal(decode(&n, sizeof(n)), 0);
	assert_int_equal(rec.kind, CUSTOS_REC_SOCKET);
	assert_int_equal(rec.u.net.result, -1);
	assert_int_equal(rec.u.net.family, 17);
	assert_int_equal(rec.u.net.sock_type, 3);
	assert_int_equal(rec.u.net.protocol, 768);
	assert_int_equal(rec.u.net.sock_flags, 0x80800);
	assert_int_equal(rec.u.net.backlog, 0);
	assert_int_equal(rec.u.net.op, 0);
	assert_int_equal(rec.subj.pid, ev.hdr.pid);
	assert_string_equal(record_kind_name(rec.kind), "socket");
	buf_init(&b, 1 << 16);
	assert_int_equal(record_encode(&b, &rec), 0);
	buf_free(&b);
	n.hdr.kind = CUSTOS_EV_LISTEN;	/* the same field is listen's backlog */
	assert_int_equal(decode(&n, sizeof(n)), 0);
	assert_int_equal(rec.u.net.backlog, 0x80800);
	assert_int_equal(rec.u.net.sock_flags, 0);
}

static void test_sys(void **state)
{
	struct custos_ev_sys y;

	(void)state;
	make_exec();
	memset(&y, 0x5a, sizeof(y));
	memcpy(&y.hdr, &ev.hdr, sizeof(ev.hdr));
	y.hdr.kind = CUSTOS_EV_MEMFD;
	y.result = 3;
	y.op = 0;
	y.arg0 = 1;
	y.arg1 = y.arg2 = 0;
	y.name_len = 4;
	memcpy(y.name, "evil", 4);
	y.name_truncated = 0;
	assert_int_equal(decode(&y, sizeof(y)), 0);
	assert_int_equal(rec.kind, CUSTOS_REC_MEMFD);
	assert_int_equal(rec.u.sys.result, 3);
	assert_int_equal(rec.u.sys.arg0, 1);
	assert_path(rec.u.sys.name, rec.u.sys.name_len, "evil");
	y.hdr.kind = CUSTOS_EV_CLOCK_SET;
	y.result = -22;
	y.arg0 = 12345;
	assert_int_equal(decode(&y, sizeof(y)), 0);
	assert_int_equal(rec.u.sys.result, -22);
	assert_int_equal(rec.u.sys.arg0, 12345);
	y.name_len = CUSTOS_EV_XNAME_MAX + 1;
	assert_int_equal(decode(&y, sizeof(y)), -CUSTOS_ERR_MALFORMED);
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
		cmocka_unit_test(test_file_join),
		cmocka_unit_test(test_file_two_paths),
		cmocka_unit_test(test_file_bad_lengths),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_sys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
