/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel ring-buffer records to custos_record (decode.h). The layouts are
 * in bpf/events.h; the fields they fill are docs/format.md section 2. The
 * size of a record is checked against its kind's struct before anything
 * else is read; the strings of a variable-size record (exec, file) are
 * taken from the bytes after it through a bounded cursor (struct tail),
 * each length checked against its bound and the record's size against
 * the sum, so a bug or a mismatch between the kernel object and this code
 * is reported instead of read past.
 */
#include <string.h>
#include <sys/sysmacros.h>

#include "decode.h"
#include "error.h"
#include "events.h"

_Static_assert(CUSTOS_EV_EXEC == CUSTOS_REC_EXEC, "exec kind differs from record.h");
_Static_assert(CUSTOS_EV_FORK == CUSTOS_REC_FORK, "fork kind differs from record.h");
_Static_assert(CUSTOS_EV_EXIT == CUSTOS_REC_EXIT, "exit kind differs from record.h");
_Static_assert(CUSTOS_EV_COMM_LEN == CUSTOS_COMM_MAX, "comm length differs");
_Static_assert(CUSTOS_EV_PATH_MAX == CUSTOS_PATH_MAX, "path length differs");
_Static_assert(CUSTOS_EV_ARGS_MAX == CUSTOS_ARGS_MAX, "argv length differs");

_Static_assert(CUSTOS_EV_CRED == CUSTOS_REC_CRED && CUSTOS_EV_PTRACE == CUSTOS_REC_PTRACE &&
	       CUSTOS_EV_MODULE == CUSTOS_REC_MODULE && CUSTOS_EV_MEMFD == CUSTOS_REC_MEMFD &&
	       CUSTOS_EV_BPF == CUSTOS_REC_BPF && CUSTOS_EV_CLOCK_SET == CUSTOS_REC_CLOCK_SET,
	       "process syscall kinds differ from record.h");
_Static_assert(CUSTOS_EV_OPEN == CUSTOS_REC_OPEN && CUSTOS_EV_UNLINK == CUSTOS_REC_UNLINK &&
	       CUSTOS_EV_RENAME == CUSTOS_REC_RENAME && CUSTOS_EV_CHMOD == CUSTOS_REC_CHMOD &&
	       CUSTOS_EV_CHOWN == CUSTOS_REC_CHOWN && CUSTOS_EV_TRUNCATE == CUSTOS_REC_TRUNCATE &&
	       CUSTOS_EV_LINK == CUSTOS_REC_LINK && CUSTOS_EV_SYMLINK == CUSTOS_REC_SYMLINK &&
	       CUSTOS_EV_MKDIR == CUSTOS_REC_MKDIR && CUSTOS_EV_RMDIR == CUSTOS_REC_RMDIR &&
	       CUSTOS_EV_MOUNT == CUSTOS_REC_MOUNT && CUSTOS_EV_UMOUNT == CUSTOS_REC_UMOUNT &&
	       CUSTOS_EV_SETXATTR == CUSTOS_REC_SETXATTR &&
	       CUSTOS_EV_REMOVEXATTR == CUSTOS_REC_REMOVEXATTR, "file kinds differ from record.h");
_Static_assert(CUSTOS_EV_CONNECT == CUSTOS_REC_CONNECT && CUSTOS_EV_ACCEPT == CUSTOS_REC_ACCEPT &&
	       CUSTOS_EV_BIND == CUSTOS_REC_BIND && CUSTOS_EV_LISTEN == CUSTOS_REC_LISTEN &&
	       CUSTOS_EV_SEND == CUSTOS_REC_SEND && CUSTOS_EV_SOCKET == CUSTOS_REC_SOCKET,
	       "network kinds differ from record.h");
_Static_assert(CUSTOS_EV_AUTH == CUSTOS_REC_AUTH, "auth kind differs from record.h");
_Static_assert(CUSTOS_EV_AUDIT_TEXT_MAX == CUSTOS_AUDIT_TEXT_MAX, "audit text length differs");
_Static_assert(CUSTOS_EV_XNAME_MAX <= CUSTOS_NAME_MAX, "xattr name length differs");
_Static_assert(CUSTOS_EV_ADDR_MAX == CUSTOS_ADDR_MAX, "address length differs");

size_t decode_event_size(uint32_t kind)
{
	switch (kind) {
	case CUSTOS_EV_EXEC:
		return sizeof(struct custos_ev_exec);
	case CUSTOS_EV_FORK:
		return sizeof(struct custos_ev_fork);
	case CUSTOS_EV_EXIT:
		return sizeof(struct custos_ev_exit);
	case CUSTOS_EV_CRED ... CUSTOS_EV_CLOCK_SET:
		return sizeof(struct custos_ev_sys);
	case CUSTOS_EV_AUTH:
		return sizeof(struct custos_ev_auth);
	case CUSTOS_EV_OPEN ... CUSTOS_EV_REMOVEXATTR:
		return sizeof(struct custos_ev_file);
	case CUSTOS_EV_CONNECT ... CUSTOS_EV_SOCKET:
		return sizeof(struct custos_ev_net);
	}
	return 0;
}

/* Whether records of kind carry strings after their struct. */
static int variable_size(uint32_t kind)
{
	return kind == CUSTOS_EV_EXEC || (kind >= CUSTOS_EV_OPEN && kind <= CUSTOS_EV_REMOVEXATTR);
}

/* The bytes after a variable-size record's struct: strings are taken from
 * the front, never past the end. */
struct tail {
	const uint8_t *p;
	size_t left;
};

/* The next n bytes, or NULL when fewer are left. */
static const uint8_t *take(struct tail *t, size_t n)
{
	const uint8_t *p = t->p;

	if (n > t->left)
		return NULL;
	t->p += n;
	t->left -= n;
	return p;
}

/* The tail holds exactly the strings its struct's lengths claim: fewer
 * bytes is a cut record, more an oversized one. */
static int tail_check(const struct tail *t, size_t want)
{
	if (t->left < want)
		return -CUSTOS_ERR_TRUNCATED;
	if (t->left > want)
		return -CUSTOS_ERR_OVERSIZED;
	return 0;
}

static void decode_hdr(const struct custos_ev_hdr *h, struct custos_record *rec)
{
	struct custos_subject *s = &rec->subj;

	rec->kind = h->kind;
	rec->ts_ns = h->ts_ns;
	s->pid = h->pid;
	s->tid = h->tid;
	s->ppid = h->ppid;
	s->uid = h->uid;
	s->gid = h->gid;
	s->euid = h->euid;
	s->loginuid = h->loginuid;
	s->sessionid = h->sessionid;
	s->comm_len = (uint32_t)strnlen(h->comm, sizeof(h->comm));
	memcpy(s->comm, h->comm, s->comm_len);
	s->cgroup_id = h->cgroup_id;
	s->pidns = h->pidns;
	s->mntns = h->mntns;
}

/* Copy a kernel-resolved path of len bytes from the tail. OUT: dst,
 * *dst_len, *truncated. Returns 0 or -CUSTOS_ERR_MALFORMED when the
 * length is out of bounds or the tail is short. */
static int take_path(struct tail *t, uint32_t len, uint8_t flag, uint8_t *dst, uint32_t *dst_len,
		     uint64_t *truncated)
{
	const uint8_t *p = len <= CUSTOS_EV_PATH_MAX ? take(t, len) : NULL;

	if (!p)
		return -CUSTOS_ERR_MALFORMED;
	memcpy(dst, p, len);
	*dst_len = len;
	*truncated = flag != 0;
	return 0;
}

/* The kernel copies mm->arg_start..arg_end: each argument with its NUL.
 * The record keeps the same NUL-terminated layout (SF_STRV) and counts the
 * elements. An area cut at ARGS_MAX ends inside an argument: its last byte
 * becomes that argument's terminator. src is argv_len bytes of the tail.
 * OUT: x->argv, argv_len, argv_count, argv_truncated. */
static void decode_argv(const struct custos_ev_exec *e, const uint8_t *src,
			struct custos_exec *x)
{
	uint32_t n = e->argv_len;
	uint64_t count = 0;

	memcpy(x->argv, src, n);
	x->argv_truncated = e->argv_truncated != 0;
	if (n > 0 && x->argv[n - 1] != 0) {
		if (n == sizeof(x->argv)) {
			x->argv[n - 1] = 0;
			x->argv_truncated = 1;
		} else {
			x->argv[n++] = 0;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		count += x->argv[i] == 0;
	x->argv_len = n;
	x->argv_count = count;
	if (count < e->argc)
		x->argv_truncated = 1;
}

/* An exec record: the struct, then filename, exe, cwd and argv. */
static int decode_exec(const struct custos_ev_exec *e, struct tail *t, struct custos_record *rec)
{
	struct custos_exec *x = &rec->u.exec;
	const uint8_t *filename, *argv;
	int ret;

	if (e->exe_len > CUSTOS_EV_PATH_MAX || e->cwd_len > CUSTOS_EV_PATH_MAX ||
	    e->filename_len > CUSTOS_EV_PATH_MAX || e->argv_len > CUSTOS_EV_ARGS_MAX)
		return -CUSTOS_ERR_MALFORMED;
	ret = tail_check(t, (size_t)e->exe_len + e->cwd_len + e->filename_len + e->argv_len);
	if (ret)
		return ret;
	decode_hdr(&e->hdr, rec);
	x->result = e->result;	/* 0, or a failed attempt's -errno */
	filename = take(t, e->filename_len);
	ret = take_path(t, e->exe_len, e->exe_truncated, x->exe, &x->exe_len, &x->exe_truncated);
	if (!ret)
		ret = take_path(t, e->cwd_len, e->cwd_truncated, x->cwd, &x->cwd_len,
				&x->cwd_truncated);
	argv = take(t, e->argv_len);
	if (ret || !filename || !argv)
		return -CUSTOS_ERR_MALFORMED;	/* never after tail_check */
	memcpy(x->filename, filename, e->filename_len);
	x->filename_len = e->filename_len;
	x->argc = e->argc;
	decode_argv(e, argv, x);
	/* The kernel keeps dev_t as major << 20 | minor; records carry the
	 * encoding stat(2) shows in st_dev. */
	x->exe_dev = makedev((unsigned int)(e->exe_dev >> 20), (unsigned int)(e->exe_dev & 0xfffff));
	x->exe_ino = e->exe_ino;
	x->exe_mode = e->exe_mode;
	x->start_ns = e->start_ns;
	x->hash_status = CUSTOS_HASH_PENDING;	/* hashing comes later */
	return 0;
}

static void decode_fork(const struct custos_ev_fork *e, struct custos_record *rec)
{
	decode_hdr(&e->hdr, rec);
	rec->u.fork.child_pid = e->child_pid;
	rec->u.fork.child_tid = e->child_tid;
	rec->u.fork.clone_flags = e->clone_flags;
	rec->u.fork.child_start_ns = e->child_start_ns;
}

/* A wait(2) status: the low 7 bits are the terminating signal (0 for a
 * normal exit, whose code is then bits 8-15), bit 7 says core dumped. */
static void decode_exit(const struct custos_ev_exit *e, struct custos_record *rec)
{
	uint32_t sig = e->status & 0x7f;

	decode_hdr(&e->hdr, rec);
	if (sig == 0) {
		rec->u.exit.code = (e->status >> 8) & 0xff;
	} else {
		rec->u.exit.signal = sig;
		rec->u.exit.core_dumped = (e->status & 0x80) != 0;
	}
	rec->u.exit.start_ns = e->start_ns;
}

/* Join a kernel-resolved base directory and a user path (format.md 2.3:
 * path is absolute). An absolute raw path is relative to the task's root,
 * which is the base; a relative one to the dirfd or cwd. Leading "./"
 * components are dropped; nothing else is normalised (".." and symlinks
 * inside raw are kept as written). When the result is longer than PATH,
 * its last PATH bytes are kept and *truncated is set. OUT: dst, *dst_len. */
static void join_path(const uint8_t *base, uint32_t base_len, const uint8_t *raw,
		      uint32_t raw_len, uint8_t *dst, uint32_t *dst_len, uint64_t *truncated)
{
	uint8_t tmp[2 * CUSTOS_PATH_MAX + 2];
	uint32_t n = 0;

	while (raw_len >= 2 && raw[0] == '.' && raw[1] == '/') {
		raw += 2;
		raw_len -= 2;
		while (raw_len && raw[0] == '/') {
			raw++;
			raw_len--;
		}
	}
	if (raw_len == 1 && raw[0] == '.')
		raw_len = 0;
	if (base_len == 0)
		*truncated = 1;		/* the kernel could not resolve the base */
	memcpy(tmp, base, base_len);
	n = base_len;
	while (n > 0 && tmp[n - 1] == '/')
		n--;			/* "/" and "/a/" end without a slash here */
	if (raw_len && raw[0] != '/')
		tmp[n++] = '/';
	memcpy(tmp + n, raw, raw_len);
	n += raw_len;
	if (n == 0)
		tmp[n++] = '/';
	if (n > CUSTOS_PATH_MAX) {
		memcpy(dst, tmp + n - CUSTOS_PATH_MAX, CUSTOS_PATH_MAX);
		*dst_len = CUSTOS_PATH_MAX;
		*truncated = 1;
		return;
	}
	memcpy(dst, tmp, n);
	*dst_len = n;
}

/* One path of a file record: the object's path as resolved, or its base
 * joined with the user string raw. OUT: dst, *dst_len, *truncated. */
static int file_path(const uint8_t *path, uint32_t path_len, uint8_t path_truncated, uint8_t how,
		     const uint8_t *raw, uint32_t raw_len, uint8_t raw_truncated, uint8_t *dst,
		     uint32_t *dst_len, uint64_t *truncated)
{
	*truncated = path_truncated != 0;
	if (how == CUSTOS_EV_PATH_OBJECT) {
		memcpy(dst, path, path_len);
		*dst_len = path_len;
		return 0;
	}
	if (how != CUSTOS_EV_PATH_BASE)
		return -CUSTOS_ERR_MALFORMED;
	join_path(path, path_len, raw, raw_len, dst, dst_len, truncated);
	if (raw_truncated)
		*truncated = 1;
	return 0;
}

static int two_paths(uint32_t kind)
{
	return kind == CUSTOS_EV_RENAME || kind == CUSTOS_EV_LINK || kind == CUSTOS_EV_SYMLINK ||
	       kind == CUSTOS_EV_MOUNT;
}

/* A file record: the struct, then raw, path, name, raw2 and path2. */
static int decode_file(const struct custos_ev_file *e, struct tail *t, struct custos_record *rec)
{
	struct custos_file *f = &rec->u.file;
	const uint8_t *path, *raw, *name, *path2, *raw2;
	int ret;

	if (e->path_len > CUSTOS_EV_PATH_MAX || e->raw_len > CUSTOS_EV_PATH_MAX ||
	    e->path2_len > CUSTOS_EV_PATH_MAX || e->raw2_len > CUSTOS_EV_PATH_MAX ||
	    e->name_len > CUSTOS_EV_XNAME_MAX ||
	    (!two_paths(e->hdr.kind) && (e->path2_len || e->raw2_len)))
		return -CUSTOS_ERR_MALFORMED;
	ret = tail_check(t, (size_t)e->path_len + e->raw_len + e->name_len + e->path2_len +
			 e->raw2_len);
	if (ret)
		return ret;
	raw = take(t, e->raw_len);
	path = take(t, e->path_len);
	name = take(t, e->name_len);
	raw2 = take(t, e->raw2_len);
	path2 = take(t, e->path2_len);
	if (!path || !raw || !name || !path2 || !raw2)
		return -CUSTOS_ERR_MALFORMED;	/* never after tail_check */
	decode_hdr(&e->hdr, rec);
	f->result = e->result;
	f->op = e->nr;
	ret = file_path(path, e->path_len, e->path_truncated, e->path_how, raw, e->raw_len,
			e->raw_truncated, f->path, &f->path_len, &f->path_truncated);
	if (ret)
		return ret;
	memcpy(f->path_raw, raw, e->raw_len);
	f->path_raw_len = e->raw_len;
	if (two_paths(e->hdr.kind)) {
		memcpy(f->path2_raw, raw2, e->raw2_len);
		f->path2_raw_len = e->raw2_len;
		if (e->hdr.kind != CUSTOS_EV_SYMLINK) {
			ret = file_path(path2, e->path2_len, e->path2_truncated, e->path2_how, raw2,
					e->raw2_len, e->raw2_truncated, f->path2, &f->path2_len,
					&f->path2_truncated);
			if (ret)
				return ret;
		}
	}
	f->flags = e->flags;
	f->mode = e->mode;
	f->owner_uid = e->owner_uid;
	f->owner_gid = e->owner_gid;
	f->size = e->size;
	f->attr_flags = e->attr_flags;
	f->attr_clr = e->attr_clr;
	f->propagation = e->propagation;
	f->userns_fd = e->userns_fd;
	memcpy(f->name, name, e->name_len);
	f->name_len = e->name_len;
	return 0;
}

static int decode_net(const struct custos_ev_net *e, struct custos_record *rec)
{
	struct custos_net *n = &rec->u.net;

	if (e->local_len > sizeof(e->local) || e->remote_len > sizeof(e->remote))
		return -CUSTOS_ERR_MALFORMED;
	decode_hdr(&e->hdr, rec);
	n->result = e->result;
	n->family = e->family;
	n->sock_type = e->sock_type;
	n->protocol = e->protocol;
	memcpy(n->local_addr, e->local, e->local_len);
	n->local_addr_len = e->local_len;
	n->local_port = e->local_port;
	memcpy(n->remote_addr, e->remote, e->remote_len);
	n->remote_addr_len = e->remote_len;
	n->remote_port = e->remote_port;
	n->op = e->hdr.kind == CUSTOS_EV_SEND ? e->nr : 0;
	if (e->hdr.kind == CUSTOS_EV_SOCKET)
		n->sock_flags = e->backlog;	/* events.h: the type's flag bits */
	else
		n->backlog = e->backlog;
	return 0;
}

static int decode_sys(const struct custos_ev_sys *e, struct custos_record *rec)
{
	struct custos_syscall *s = &rec->u.sys;

	if (e->name_len > sizeof(e->name))
		return -CUSTOS_ERR_MALFORMED;
	decode_hdr(&e->hdr, rec);
	s->result = e->result;
	s->op = e->op;
	s->arg0 = e->arg0;
	s->arg1 = e->arg1;
	s->arg2 = e->arg2;
	memcpy(s->name, e->name, e->name_len);
	s->name_len = e->name_len;
	s->name_truncated = e->name_truncated != 0;
	return 0;
}

/* An audit message's text is what the kernel logs of it: the payload up
 * to its first NUL (libaudit pads the message with NULs). */
static int decode_auth(const struct custos_ev_auth *e, struct custos_record *rec)
{
	struct custos_auth *a = &rec->u.auth;

	if (e->text_len > sizeof(e->text))
		return -CUSTOS_ERR_MALFORMED;
	decode_hdr(&e->hdr, rec);
	a->result = e->result;
	a->op = e->nr;
	a->audit_type = e->msg_type;
	a->text_len = (uint32_t)strnlen(e->text, e->text_len);
	memcpy(a->text, e->text, a->text_len);
	a->text_truncated = e->text_truncated != 0;
	return 0;
}

int decode_event(const void *data, size_t size, struct custos_record *rec, uint32_t *kind)
{
	struct tail t;
	size_t want;
	int ret = 0;

	memset(rec, 0, sizeof(*rec));
	*kind = 0;
	if (size < sizeof(uint32_t))
		return -CUSTOS_ERR_TRUNCATED;
	memcpy(kind, data, sizeof(*kind));
	want = decode_event_size(*kind);
	if (want == 0)
		return -CUSTOS_ERR_MALFORMED;
	if (size < want)
		return -CUSTOS_ERR_TRUNCATED;
	if (size > want && !variable_size(*kind))
		return -CUSTOS_ERR_OVERSIZED;
	t.p = (const uint8_t *)data + want;
	t.left = size - want;
	switch (*kind) {
	case CUSTOS_EV_EXEC:
		ret = decode_exec(data, &t, rec);
		break;
	case CUSTOS_EV_FORK:
		decode_fork(data, rec);
		break;
	case CUSTOS_EV_EXIT:
		decode_exit(data, rec);
		break;
	case CUSTOS_EV_CRED ... CUSTOS_EV_CLOCK_SET:
		ret = decode_sys(data, rec);
		break;
	case CUSTOS_EV_AUTH:
		ret = decode_auth(data, rec);
		break;
	case CUSTOS_EV_OPEN ... CUSTOS_EV_REMOVEXATTR:
		ret = decode_file(data, &t, rec);
		break;
	case CUSTOS_EV_CONNECT ... CUSTOS_EV_SOCKET:
		ret = decode_net(data, rec);
		break;
	}
	if (ret)
		memset(rec, 0, sizeof(*rec));
	return ret;
}
