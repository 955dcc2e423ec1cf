/* SPDX-License-Identifier: Apache-2.0 */
/* agent/decode.c: kernel ring-buffer records become custos_records field
 * by field; exec and file records carry their strings packed after their
 * struct (bpf/events.h), and a record of the wrong size, with a length out
 * of its bound or lengths that do not add up to the record's size, is
 * refused with a precise error and an all-zero output. */
#include "testutil.h"
#include "decode.h"
#include "events.h"

#define SRC_MAX (CUSTOS_EV_PATH_MAX + 8)	/* room for a length one past its bound */

/* The record as the ring hands it over: 8-byte aligned. */
static union {
	uint8_t b[CUSTOS_EV_RECORD_MAX + 64];
	uint64_t align;
} rb;

static struct custos_ev_exec ev;
static char exe[SRC_MAX], cwd[SRC_MAX], filename[SRC_MAX], argvb[SRC_MAX];
static struct custos_record rec;

static size_t put(size_t pos, const void *p, size_t n)
{
	memcpy(rb.b + pos, p, n);
	return pos + n;
}

/* ev's struct, then as many bytes of each string as its length says, in
 * events.h's order: filename, exe, cwd, argv. */
static size_t pack_exec(void)
{
	size_t n = put(0, &ev, sizeof(ev));

	n = put(n, filename, ev.filename_len);
	n = put(n, exe, ev.exe_len);
	n = put(n, cwd, ev.cwd_len);
	return put(n, argvb, ev.argv_len);
}

/* A string source and its length field: the bytes of s, stale bytes after. */
static uint16_t set_str(char *dst, const char *s)
{
	size_t n = strlen(s);

	memset(dst, 0x5a, SRC_MAX);
	memcpy(dst, s, n);
	return (uint16_t)n;
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
	ev.result = 0;
	memset(argvb, 0x5a, sizeof(argvb));
	memcpy(argvb, argv, sizeof(argv));
	ev.argv_len = sizeof(argv);
	ev.argv_truncated = 0;
	ev.filename_len = set_str(filename, "./prog");
	ev.exe_len = set_str(exe, "/tmp/x/prog");
	ev.exe_truncated = 0;
	ev.cwd_len = set_str(cwd, "/tmp/x");
	ev.cwd_truncated = 0;
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
	assert_int_equal(decode(rb.b, pack_exec()), 0);
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
	memset(argvb, 'a', CUSTOS_EV_ARGS_MAX);
	argvb[10] = 0;
	ev.argv_len = CUSTOS_EV_ARGS_MAX;
	ev.argv_truncated = 1;
	ev.argc = 5;
	assert_int_equal(decode(rb.b, pack_exec()), 0);
	assert_int_equal(rec.u.exec.argv_count, 2);
	assert_int_equal(rec.u.exec.argv_len, CUSTOS_ARGS_MAX);
	assert_int_equal(rec.u.exec.argv[CUSTOS_ARGS_MAX - 1], 0);
	assert_int_equal(rec.u.exec.argv_truncated, 1);
	assert_int_equal(rec.u.exec.argc, 5);

	/* Fewer elements than argc, even without the kernel's flag. */
	make_exec();
	ev.argc = 4;
	assert_int_equal(decode(rb.b, pack_exec()), 0);
	assert_int_equal(rec.u.exec.argv_truncated, 1);

	/* No arguments at all. */
	make_exec();
	ev.argc = 0;
	ev.argv_len = 0;
	assert_int_equal(decode(rb.b, pack_exec()), 0);
	assert_int_equal(rec.u.exec.argv_count, 0);
	assert_int_equal(rec.u.exec.argv_truncated, 0);
}

static void test_path_truncated_flag(void **state)
{
	(void)state;
	make_exec();
	ev.exe_len = set_str(exe, "/d9/d10/t");
	ev.exe_truncated = 1;
	assert_int_equal(decode(rb.b, pack_exec()), 0);
	assert_int_equal(rec.u.exec.exe_truncated, 1);
	assert_int_equal(rec.u.exec.cwd_truncated, 0);
}

static void assert_refused(size_t size, int want)
{
	static const uint8_t zero[sizeof(rec)];

	assert_int_equal(decode(rb.b, size), want);
	assert_memory_equal(&rec, zero, sizeof(rec));
}

static void test_bad_lengths(void **state)
{
	(void)state;
	/* A length past its bound, in a record whose size agrees with it. */
	make_exec();
	memset(exe, 'a', SRC_MAX);
	ev.exe_len = CUSTOS_EV_PATH_MAX + 1;
	assert_refused(pack_exec(), -CUSTOS_ERR_MALFORMED);

	make_exec();
	ev.cwd_len = 0xffff;		/* and past the record */
	put(0, &ev, sizeof(ev));
	assert_refused(sizeof(ev) + 64, -CUSTOS_ERR_MALFORMED);

	make_exec();
	ev.filename_len = CUSTOS_EV_PATH_MAX + 1;
	assert_refused(pack_exec(), -CUSTOS_ERR_MALFORMED);

	make_exec();
	ev.argv_len = CUSTOS_EV_ARGS_MAX + 1;
	assert_refused(pack_exec(), -CUSTOS_ERR_MALFORMED);

	/* Lengths that claim more or fewer bytes than the record has. */
	make_exec();
	assert_refused(pack_exec() - 1, -CUSTOS_ERR_TRUNCATED);
	make_exec();
	ev.cwd_len += 1;		/* its byte taken from argv's */
	assert_refused(pack_exec() - 1, -CUSTOS_ERR_TRUNCATED);
	make_exec();
	ev.argv_len -= 1;
	assert_refused(pack_exec() + 1, -CUSTOS_ERR_OVERSIZED);

	/* The largest legal values are accepted. */
	make_exec();
	memset(exe, '/', SRC_MAX);
	memset(cwd, '/', SRC_MAX);
	memset(filename, 'f', SRC_MAX);
	memset(argvb, 'a', SRC_MAX);
	ev.exe_len = ev.cwd_len = CUSTOS_EV_PATH_MAX;
	ev.filename_len = CUSTOS_EV_PATH_MAX;
	ev.argv_len = CUSTOS_EV_ARGS_MAX;
	assert_true(pack_exec() <= CUSTOS_EV_RECORD_MAX);
	assert_int_equal(decode(rb.b, pack_exec()), 0);
	assert_int_equal(rec.u.exec.exe_len, CUSTOS_PATH_MAX);
	assert_int_equal(rec.u.exec.filename_len, CUSTOS_PATH_MAX);
}

static void test_wrong_size_or_kind(void **state)
{
	struct custos_ev_fork fork;
	uint32_t kind;

	(void)state;
	make_exec();
	assert_int_equal(decode(rb.b, pack_exec() - 1), -CUSTOS_ERR_TRUNCATED);
	rb.b[pack_exec()] = 0;
	assert_int_equal(decode(rb.b, pack_exec() + 1), -CUSTOS_ERR_OVERSIZED);
	/* An exec claimed in a fork-sized record: shorter than its struct. */
	assert_int_equal(decode(rb.b, sizeof(struct custos_ev_fork)), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(decode(rb.b, sizeof(ev) - 1), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(decode(rb.b, 3), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(decode(rb.b, 0), -CUSTOS_ERR_TRUNCATED);

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
static struct custos_ev_file fe;
static char fpath[SRC_MAX], fraw[SRC_MAX], fname[SRC_MAX], fpath2[SRC_MAX], fraw2[SRC_MAX];

/* fe's struct, then raw, path, name, raw2, path2 by their lengths. */
static size_t pack_file(void)
{
	size_t n = put(0, &fe, sizeof(fe));

	n = put(n, fraw, fe.raw_len);
	n = put(n, fpath, fe.path_len);
	n = put(n, fname, fe.name_len);
	n = put(n, fraw2, fe.raw2_len);
	return put(n, fpath2, fe.path2_len);
}

static void make_file(uint32_t kind, const char *base, int how, const char *raw)
{
	memset(&fe, 0x5a, sizeof(fe));
	memcpy(&fe.hdr, &ev.hdr, sizeof(ev.hdr));
	fe.hdr.kind = kind;
	fe.result = -2;
	fe.nr = 87;
	fe.path_how = (uint8_t)how;
	fe.path2_how = CUSTOS_EV_PATH_BASE;
	fe.user_check = 0;
	fe.flags = 0x200;
	fe.mode = 0644;
	fe.owner_uid = 4294967295u;
	fe.owner_gid = 7;
	fe.size = 10;
	fe.raw_len = set_str(fraw, raw);
	fe.raw_truncated = 0;
	fe.raw2_len = set_str(fraw2, "");
	fe.raw2_truncated = 0;
	fe.name_len = set_str(fname, "user.custos");
	fe.name_truncated = 0;
	fe.path_len = set_str(fpath, base);
	fe.path_truncated = 0;
	fe.path2_len = set_str(fpath2, "");
	fe.path2_truncated = 0;
}

static void assert_path(const uint8_t *p, uint32_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
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
		assert_int_equal(decode(rb.b, pack_file()), 0);
		assert_int_equal(rec.kind, CUSTOS_REC_UNLINK);
		assert_path(f->path, f->path_len, cases[i].want);
		assert_path(f->path_raw, f->path_raw_len, cases[i].raw);
		assert_int_equal(f->path_truncated, 0);
		assert_int_equal(f->result, -2);
		assert_path(f->name, f->name_len, "user.custos");
	}
	/* The object itself: the path is used as resolved. */
	make_file(CUSTOS_EV_OPEN, "/tmp/x/real", CUSTOS_EV_PATH_OBJECT, "lnk");
	assert_int_equal(decode(rb.b, pack_file()), 0);
	assert_path(f->path, f->path_len, "/tmp/x/real");
	assert_path(f->path_raw, f->path_raw_len, "lnk");
	assert_int_equal(f->mode, 0644);
	assert_int_equal(f->owner_gid, 7);

	/* The kernel's truncated flag on the resolved path is kept. */
	fe.path_truncated = 1;
	assert_int_equal(decode(rb.b, pack_file()), 0);
	assert_int_equal(f->path_truncated, 1);

	/* An unresolvable base (a bad dirfd) or a cut raw string is flagged. */
	make_file(CUSTOS_EV_UNLINK, "", CUSTOS_EV_PATH_BASE, "f");
	assert_int_equal(decode(rb.b, pack_file()), 0);
	assert_int_equal(f->path_truncated, 1);
	make_file(CUSTOS_EV_UNLINK, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	fe.raw_truncated = 1;
	assert_int_equal(decode(rb.b, pack_file()), 0);
	assert_int_equal(f->path_truncated, 1);

	/* A join longer than PATH keeps its last PATH bytes. */
	make_file(CUSTOS_EV_UNLINK, "/base", CUSTOS_EV_PATH_BASE, "");
	memset(fraw, 'a', CUSTOS_EV_PATH_MAX);
	fe.raw_len = CUSTOS_EV_PATH_MAX;
	assert_int_equal(decode(rb.b, pack_file()), 0);
	assert_int_equal(f->path_len, CUSTOS_PATH_MAX);
	assert_int_equal(f->path[0], 'a');
	assert_int_equal(f->path_truncated, 1);

	/* A record with no strings at all: just the struct. */
	make_file(CUSTOS_EV_CHMOD, "", CUSTOS_EV_PATH_OBJECT, "");
	fe.name_len = 0;
	assert_int_equal(pack_file(), sizeof(fe));
	assert_int_equal(decode(rb.b, sizeof(fe)), 0);
	assert_int_equal(f->path_len, 0);
}

static void test_file_two_paths(void **state)
{
	struct custos_file *f = &rec.u.file;
	struct buf b;

	(void)state;
	make_exec();
	make_file(CUSTOS_EV_RENAME, "/tmp/x", CUSTOS_EV_PATH_BASE, "b/f1");
	fe.path2_len = set_str(fpath2, "/tmp/y");
	fe.raw2_len = set_str(fraw2, "f3");
	fe.result = 0;
	assert_int_equal(decode(rb.b, pack_file()), 0);
	assert_int_equal(rec.kind, CUSTOS_REC_RENAME);
	assert_path(f->path, f->path_len, "/tmp/x/b/f1");
	assert_path(f->path2, f->path2_len, "/tmp/y/f3");
	assert_path(f->path2_raw, f->path2_raw_len, "f3");
	buf_init(&b, 1 << 20);
	assert_int_equal(record_encode(&b, &rec), 0);
	buf_free(&b);

	/* symlink: the target is text, never resolved. */
	fe.hdr.kind = CUSTOS_EV_SYMLINK;
	fe.path2_len = 0;
	assert_int_equal(decode(rb.b, pack_file()), 0);
	assert_int_equal(f->path2_len, 0);
	assert_path(f->path2_raw, f->path2_raw_len, "f3");

	/* A one-path kind with second-path bytes. */
	fe.hdr.kind = CUSTOS_EV_CHMOD;
	assert_int_equal(decode(rb.b, pack_file()), -CUSTOS_ERR_MALFORMED);
	fe.raw2_len = 0;
	fe.path2_len = 1;
	assert_int_equal(decode(rb.b, pack_file()), -CUSTOS_ERR_MALFORMED);
	fe.path2_len = 0;
	assert_int_equal(decode(rb.b, pack_file()), 0);
}

static void test_file_bad_lengths(void **state)
{
	static const uint8_t zero[sizeof(rec)];

	(void)state;
	make_exec();
	make_file(CUSTOS_EV_CHMOD, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	memset(fraw, 'a', SRC_MAX);
	fe.raw_len = CUSTOS_EV_PATH_MAX + 1;
	assert_int_equal(decode(rb.b, pack_file()), -CUSTOS_ERR_MALFORMED);
	assert_memory_equal(&rec, zero, sizeof(rec));
	make_file(CUSTOS_EV_SETXATTR, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	memset(fname, 'n', SRC_MAX);
	fe.name_len = CUSTOS_EV_XNAME_MAX + 1;
	assert_int_equal(decode(rb.b, pack_file()), -CUSTOS_ERR_MALFORMED);
	make_file(CUSTOS_EV_CHMOD, "/tmp", 7, "f");	/* no such path_how */
	assert_int_equal(decode(rb.b, pack_file()), -CUSTOS_ERR_MALFORMED);
	make_file(CUSTOS_EV_RENAME, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	memset(fraw2, 'a', SRC_MAX);
	fe.raw2_len = CUSTOS_EV_PATH_MAX + 1;
	assert_int_equal(decode(rb.b, pack_file()), -CUSTOS_ERR_MALFORMED);
	make_file(CUSTOS_EV_RENAME, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	memset(fpath2, '/', SRC_MAX);
	fe.path2_len = CUSTOS_EV_PATH_MAX + 1;
	assert_int_equal(decode(rb.b, pack_file()), -CUSTOS_ERR_MALFORMED);
	assert_memory_equal(&rec, zero, sizeof(rec));
	make_file(CUSTOS_EV_RENAME, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	fe.path_len = 0xffff;		/* past the bound and the record */
	put(0, &fe, sizeof(fe));
	assert_int_equal(decode(rb.b, sizeof(fe) + 16), -CUSTOS_ERR_MALFORMED);

	/* The lengths and the record's size disagree. */
	make_file(CUSTOS_EV_UNLINK, "/tmp", CUSTOS_EV_PATH_BASE, "f");
	assert_int_equal(decode(rb.b, pack_file() - 1), -CUSTOS_ERR_TRUNCATED);
	assert_memory_equal(&rec, zero, sizeof(rec));
	assert_int_equal(decode(rb.b, pack_file() + 1), -CUSTOS_ERR_OVERSIZED);
	assert_int_equal(decode(rb.b, sizeof(fe) - 1), -CUSTOS_ERR_TRUNCATED);
	fe.name_len += 4;		/* claims bytes the record does not have */
	assert_int_equal(decode(rb.b, pack_file() - 4), -CUSTOS_ERR_TRUNCATED);
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
