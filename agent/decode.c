/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel ring-buffer records to custos_record (decode.h). The layouts are
 * in bpf/events.h; the fields they fill are docs/format.md section 2. The
 * size of a record is checked against its kind's struct before anything
 * else is read, and every length or offset against its buffer, so a bug or
 * a mismatch between the kernel object and this code is reported instead
 * of read past.
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

size_t decode_event_size(uint32_t kind)
{
	switch (kind) {
	case CUSTOS_EV_EXEC:
		return sizeof(struct custos_ev_exec);
	case CUSTOS_EV_FORK:
		return sizeof(struct custos_ev_fork);
	case CUSTOS_EV_EXIT:
		return sizeof(struct custos_ev_exit);
	}
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

/* Copy a kernel-resolved path. OUT: dst, *dst_len, *truncated. Returns 0
 * or -CUSTOS_ERR_MALFORMED when off/len point outside the buffer. */
static int decode_path(const struct custos_ev_path *p, uint8_t *dst, uint32_t *dst_len,
		       uint64_t *truncated)
{
	if (p->len > CUSTOS_EV_PATH_MAX || p->off > sizeof(p->buf) - p->len)
		return -CUSTOS_ERR_MALFORMED;
	memcpy(dst, p->buf + p->off, p->len);
	*dst_len = p->len;
	*truncated = p->truncated != 0;
	return 0;
}

/* The kernel copies mm->arg_start..arg_end: each argument with its NUL.
 * The record keeps the same NUL-terminated layout (SF_STRV) and counts the
 * elements. An area cut at ARGS_MAX ends inside an argument: its last byte
 * becomes that argument's terminator. OUT: x->argv, argv_len, argv_count,
 * argv_truncated. */
static int decode_argv(const struct custos_ev_exec *e, struct custos_exec *x)
{
	uint32_t n = e->argv_len;
	uint64_t count = 0;

	if (n > sizeof(e->argv))
		return -CUSTOS_ERR_MALFORMED;
	memcpy(x->argv, e->argv, n);
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
	return 0;
}

static int decode_exec(const struct custos_ev_exec *e, struct custos_record *rec)
{
	struct custos_exec *x = &rec->u.exec;
	int ret;

	if (e->filename_len > sizeof(e->filename))
		return -CUSTOS_ERR_MALFORMED;
	decode_hdr(&e->hdr, rec);
	x->result = 0;	/* the tracepoint fires only for an exec that succeeded */
	memcpy(x->filename, e->filename, e->filename_len);
	x->filename_len = e->filename_len;
	ret = decode_path(&e->exe, x->exe, &x->exe_len, &x->exe_truncated);
	if (ret)
		return ret;
	x->argc = e->argc;
	ret = decode_argv(e, x);
	if (ret)
		return ret;
	ret = decode_path(&e->cwd, x->cwd, &x->cwd_len, &x->cwd_truncated);
	if (ret)
		return ret;
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

int decode_event(const void *data, size_t size, struct custos_record *rec, uint32_t *kind)
{
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
	if (size > want)
		return -CUSTOS_ERR_OVERSIZED;
	switch (*kind) {
	case CUSTOS_EV_EXEC:
		ret = decode_exec(data, rec);
		break;
	case CUSTOS_EV_FORK:
		decode_fork(data, rec);
		break;
	case CUSTOS_EV_EXIT:
		decode_exit(data, rec);
		break;
	}
	if (ret)
		memset(rec, 0, sizeof(*rec));
	return ret;
}
