// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * File capture (kinds 32-45) from the per-syscall tracepoints: sys_enter
 * stashes the arguments by thread (common.bpf.h), sys_exit takes them with
 * the result and writes one record. Per-syscall tracepoints were measured
 * cheaper than raw sys_enter/sys_exit with in-kernel dispatch
 * (docs/capture.md).
 *
 * Paths: an open that succeeded, and the fd calls, resolve the struct file
 * itself. Calls that name the file by a string resolve, in the kernel, the
 * directory the string is relative to (the dirfd's, the cwd, or the root
 * for an absolute string) and send it with the string; the agent joins the
 * two (agent/decode.c), because the file may be gone at exit (unlink,
 * rename source) and a BPF program cannot look a name up.
 *
 * A record is built in this CPU's scratch (file_scratch) and written to
 * the ring with only the bytes it uses (file_emit; events.h's packed
 * layout): an open of /etc/hostname takes about 180 bytes of the ring,
 * not the 8.6 KiB its buffers span.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "common.bpf.h"
#include "path.bpf.h"

#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define O_ACCMODE 00000003
#define O_CREAT 00000100
#define O_TRUNC 00001000
#define O_PATH 010000000
#define MS_BIND 4096
#define MS_MOVE 8192
#define NR_MOUNT 165		/* x86-64 */
#define EPERM 1
#define EACCES 13
#define SENS_DEPTH 12		/* ancestors checked against the sensitive map */

/* Set by the agent before load (--all-opens, all_opens): every open that
 * succeeded or was refused is recorded, on every mount, read-only ones
 * too, and the sensitive-read list is never consulted (the verifier
 * drops its code from the program). */
const volatile __u32 all_opens = 0;

/* The sensitive-read list, filled by the agent before attach. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct custos_ev_sens_key);
	__type(value, __u8);
} sensitive SEC(".maps");

/* The Bloom filter over sensitive's keys (events.h), set by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct custos_ev_sens_filter);
} sensitive_filter SEC(".maps");

/* One record under construction: the fixed struct and its strings at
 * their largest, one per CPU (a program runs to its end on its CPU, and
 * the syscall tracepoints do not nest). raw follows the struct with no
 * padding (sizeof(struct custos_ev_file) is a multiple of 8), as in the
 * record, so the two are written to the ring at once. */
struct file_scratch {
	struct custos_ev_file e;
	char raw[CUSTOS_EV_PATH_MAX];	/* the user's path argument */
	char raw2[CUSTOS_EV_PATH_MAX];
	char name[CUSTOS_EV_XNAME_MAX];	/* xattr name, fs type */
	struct custos_path_buf path, path2;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_scratch);
} file_scratch SEC(".maps");

_Static_assert(__builtin_offsetof(struct file_scratch, raw) == sizeof(struct custos_ev_file),
	       "raw must follow the struct as in the record");

/* Which arguments a call has; -1 where it has none. */
struct fspec {
	int dfd, path, fd;		/* dirfd and path string, or fd alone */
	int dfd2, path2;		/* second path string (its dirfd) */
	int flags, mode, uid, gid, size, name;
	int xargs;			/* setxattrat: struct xattr_args (size, flags) */
	int attr;			/* fsmount: attr_flags */
	int mattr;			/* mount_setattr: struct mount_attr *, its size
					   the next argument */
	int two;			/* record with a second path */
	int path2_resolve;		/* resolve path2 (not symlink's target text) */
	int no_path;			/* mount(2) of a device, fsopen, fsconfig: the
					   string is not a path (kept raw only) */
};

/* SPEC(.path = 1) starts from "none" for every field and overrides some:
 * that override is the point, so clang's warning about it is off. */
#pragma clang diagnostic ignored "-Winitializer-overrides"
#define SPEC(...) ((struct fspec){ .dfd = -1, .path = -1, .fd = -1, .dfd2 = -1, .path2 = -1, \
	.flags = -1, .mode = -1, .uid = -1, .gid = -1, .size = -1, .name = -1, .two = 0,   \
	.xargs = -1, .no_path = 0, .attr = -1, .mattr = -1,                                \
	.path2_resolve = 1, __VA_ARGS__ })

static __always_inline __u64 arg(const struct custos_args *p, int i)
{
	return i >= 0 && i < 6 ? p->args[i & 7] : 0;
}

/* Resolve the directory a user path is relative to: the root for an
 * absolute one, else the dirfd's file or the cwd. */
static __always_inline void resolve_base(struct custos_path_buf *out, long dfd, char first)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct file *f;

	if (first == '/') {
		custos_path_resolve(&fs->root, out);
	} else if ((int)dfd == AT_FDCWD) {
		custos_path_resolve(&fs->pwd, out);
	} else {
		f = custos_fd_file((int)dfd);
		if (f)
			custos_path_resolve(&f->f_path, out);
		else
			custos_path_empty(out, 1);
	}
}

/* Read a user string. OUT: buf, *len (no NUL), *truncated (did not fit,
 * or unreadable). */
static __always_inline void read_user(char *buf, __u32 cap, __u64 ptr, __u16 *len, __u8 *truncated)
{
	long n = ptr ? bpf_probe_read_user_str(buf, cap, (const void *)ptr) : 0;

	*truncated = n < 0 || n >= cap;
	*len = n > 0 ? n - 1 : 0;
}

/* The object's path (from a struct file), or a base to join raw to. */
static __always_inline void fill_path(struct custos_path_buf *out, __u8 *how, struct file *obj,
				      long dfd, const char *raw)
{
	if (obj) {
		/* obj is a BTF pointer: its path's fields are plain loads. */
		custos_path_walk(obj->f_path.dentry, obj->f_path.mnt, out);
		*how = CUSTOS_EV_PATH_OBJECT;
	} else {
		resolve_base(out, dfd, raw[0]);
		*how = CUSTOS_EV_PATH_BASE;
	}
}

/* mount_setattr's struct mount_attr (attr_set, attr_clr, propagation,
 * userns_fd: four __u64), as far as its size argument covers it: a size
 * of 16 gives attr_set and attr_clr and zeros, as the kernel would see
 * (it refuses sizes below 32; a larger struct's extra bytes must be zero,
 * so they are not read). An unreadable struct gives zeros. */
static __always_inline void read_mount_attr(struct custos_ev_file *e, __u64 ptr, __u64 size)
{
	__u64 a[4] = { 0, 0, 0, 0 };
	__u32 n = size > sizeof(a) ? sizeof(a) : (__u32)size;

	if (n && bpf_probe_read_user(a, n, (const void *)ptr) < 0)
		a[0] = a[1] = a[2] = a[3] = 0;
	e->attr_flags = a[0];
	e->attr_clr = a[1];
	e->propagation = a[2];
	e->userns_fd = a[3];
}

static __always_inline void fill_args(struct file_scratch *fs, const struct custos_args *p,
				      struct fspec s)
{
	struct custos_ev_file *e = &fs->e;

	e->flags = s.flags >= 0 ? arg(p, s.flags) : 0;
	e->mode = s.mode >= 0 ? arg(p, s.mode) : 0;
	e->owner_uid = s.uid >= 0 ? (__u32)arg(p, s.uid) : 0;
	e->owner_gid = s.gid >= 0 ? (__u32)arg(p, s.gid) : 0;
	e->size = s.size >= 0 ? arg(p, s.size) : 0;
	e->attr_flags = s.attr >= 0 ? arg(p, s.attr) : 0;
	e->attr_clr = 0;
	e->propagation = 0;
	e->userns_fd = 0;
	if (s.mattr >= 0)
		read_mount_attr(e, arg(p, s.mattr), arg(p, s.mattr + 1));
	if (s.xargs >= 0) {
		__u32 sf[2] = { 0, 0 };	/* xattr_args.size, .flags */

		bpf_probe_read_user(sf, sizeof(sf), (const void *)(arg(p, s.xargs) + 8));
		e->size = sf[0];
		e->flags = sf[1];
	}
	e->name_len = 0;
	e->name_truncated = 0;
	if (s.name >= 0)
		read_user(fs->name, sizeof(fs->name), arg(p, s.name), &e->name_len,
			  &e->name_truncated);
}

/* This CPU's scratch, with the fields every record sets cleared: no
 * second path, no name (the scratch keeps the previous record's bytes,
 * but only the lengths decide what is written). */
static __always_inline struct file_scratch *file_begin(void)
{
	__u32 zero = 0;
	struct file_scratch *fs = bpf_map_lookup_elem(&file_scratch, &zero);

	if (!fs)
		return NULL;
	fs->e.user_check = 0;
	fs->e.path_how = CUSTOS_EV_PATH_OBJECT;
	fs->e.path2_how = CUSTOS_EV_PATH_OBJECT;
	fs->e.name_len = 0;
	fs->e.name_truncated = 0;
	fs->e.raw_len = 0;
	fs->e.raw_truncated = 0;
	fs->e.raw2_len = 0;
	fs->e.raw2_truncated = 0;
	fs->e.pad[0] = fs->e.pad[1] = 0;
	custos_path_empty(&fs->path, 0);
	custos_path_empty(&fs->path2, 0);
	return fs;
}

/* Write the record in fs to the ring: the struct and raw, then path,
 * name, raw2 and path2, each its length's bytes (events.h). The masks are
 * no-ops (read_user's bounds) that the verifier needs. */
static __always_inline void file_emit(struct file_scratch *fs, __u32 kind)
{
	struct custos_ev_file *e = &fs->e;
	__u32 raw = e->raw_len & (CUSTOS_EV_PATH_MAX - 1);
	__u32 raw2 = e->raw2_len & (CUSTOS_EV_PATH_MAX - 1);
	__u32 name = e->name_len & (CUSTOS_EV_XNAME_MAX - 1);
	__u32 size, pos = 0;
	struct bpf_dynptr d;
	__u64 wake;

	e->path_len = custos_path_len(&fs->path);
	e->path2_len = custos_path_len(&fs->path2);
	e->path_truncated = fs->path.truncated;
	e->path2_truncated = fs->path2.truncated;
	e->raw_len = raw;
	e->raw2_len = raw2;
	e->name_len = name;
	size = sizeof(*e) + e->path_len + raw + name + e->path2_len + raw2;
	if (custos_reserve(&d, size, kind, &wake))
		return;
	custos_put(&d, &pos, e, sizeof(*e) + raw);	/* and raw, right after it */
	custos_put_path(&d, &pos, &fs->path);
	custos_put(&d, &pos, fs->name, name);
	custos_put(&d, &pos, fs->raw2, raw2);
	custos_put_path(&d, &pos, &fs->path2);
	custos_commit(&d, wake);
}

#define OPEN_COPY_WORDS 32	/* paths up to 256 bytes copied by plain loads */

/* Write an open's record in fs to the ring: it has no name, raw2 or
 * path2, so its bytes are the struct, raw and path; path is copied to
 * right after raw (over raw2, unused by an open), and the record leaves
 * the scratch in one custos_output. A path of up to OPEN_COPY_WORDS words
 * is copied by 8-byte loads and stores (bpf_stats: bpf_probe_read_kernel
 * was 35-50 ns of a recorded open), whole words, so up to 7 bytes past
 * the record's end in the scratch are overwritten (nothing: the rest of
 * raw2, never sent); a longer one by bpf_probe_read_kernel. The masks are
 * no-ops (read_user's and custos_path_len's bounds) that the verifier
 * needs: raw + path_len stays inside raw and raw2, the word copy's reads
 * inside path's buffer. */
static __always_inline void file_emit_open(struct file_scratch *fs)
{
	struct custos_ev_file *e = &fs->e;
	__u32 raw = e->raw_len & (CUSTOS_EV_PATH_MAX - 1);
	__u32 len = custos_path_len(&fs->path), off = fs->path.off & (CUSTOS_EV_PATH_MAX - 1);

	if (len > CUSTOS_EV_PATH_MAX)
		len = CUSTOS_EV_PATH_MAX;	/* the verifier's bound */
	e->path_len = len;
	e->path2_len = 0;
	e->path_truncated = fs->path.truncated;
	e->path2_truncated = 0;
	e->raw_len = raw;
	if (len <= OPEN_COPY_WORDS * 8) {
		for (__u32 i = 0; i < OPEN_COPY_WORDS && i * 8 < len; i++)
			*(__u64 *)(void *)&fs->raw[raw + i * 8] =
				*(__u64 *)(void *)&fs->path.buf[off + i * 8];
	} else {
		bpf_probe_read_kernel(&fs->raw[raw], len, &fs->path.buf[off]);
	}
	custos_output(fs, sizeof(*e) + raw + len, CUSTOS_EV_OPEN);
}

/* Every file call but open: build, emit. */
static __always_inline int file_exit(struct trace_event_raw_sys_exit *ctx, __u32 kind,
				     struct fspec s)
{
	struct custos_args p;
	struct file_scratch *fs;
	struct custos_ev_file *e;
	struct file *obj = NULL;
	long dfd;

	if (!custos_take(ctx, &p))
		return 0;
	fs = file_begin();
	if (!fs) {
		count_loss(kind);	/* never: the map has its one entry */
		return 0;
	}
	e = &fs->e;
	fill_hdr(&e->hdr, kind);
	e->result = ctx->ret;
	e->nr = p.nr;
	fill_args(fs, &p, s);
	fs->raw[0] = 0;
	if (s.path >= 0)
		read_user(fs->raw, sizeof(fs->raw), arg(&p, s.path), &e->raw_len,
			  &e->raw_truncated);
	dfd = s.dfd >= 0 ? (long)arg(&p, s.dfd) : AT_FDCWD;
	if (s.fd >= 0)
		obj = custos_fd_file((int)arg(&p, s.fd));
	else if (s.path >= 0 && e->raw_len == 0 && !e->raw_truncated && s.dfd >= 0)
		obj = custos_fd_file((int)dfd);		/* AT_EMPTY_PATH */
	if (!(s.no_path || (p.nr == NR_MOUNT && !(e->flags & (MS_BIND | MS_MOVE)) && !obj)))
		fill_path(&fs->path, &e->path_how, obj, dfd, fs->raw);
	/* else the source of a new mount is a device or a name, not a path:
	 * path stays empty, not truncated. */
	if (s.two) {
		long dfd2 = s.dfd2 >= 0 ? (long)arg(&p, s.dfd2) : AT_FDCWD;

		read_user(fs->raw2, sizeof(fs->raw2), arg(&p, s.path2), &e->raw2_len,
			  &e->raw2_truncated);
		if (s.path2_resolve)
			fill_path(&fs->path2, &e->path2_how, NULL, dfd2, fs->raw2);
	}
	file_emit(fs, kind);
	return 0;
}

/* Whether k may be in the sensitive map: both its bits set in f. */
static __always_inline bool sens_maybe(const struct custos_ev_sens_filter *f,
				       const struct custos_ev_sens_key *k)
{
	__u64 h = custos_sens_hash(k);
	__u32 a = CUSTOS_SENS_BIT1(h), b = CUSTOS_SENS_BIT2(h);

	return (f->w[a >> 6] >> (a & 63)) & (f->w[b >> 6] >> (b & 63)) & 1;
}

/* k's name: the first CUSTOS_EV_SENS_NAME - 1 bytes of name up to its
 * NUL, NUL-padded, as bpf_probe_read_kernel_str would copy them, but by
 * four 8-byte plain loads (bpf_rdonly_cast to void: faulting-safe) and
 * no helper call: every read-only open runs this. Bytes from the first
 * NUL on are cleared (the lowest byte the zero-byte test flags is always
 * the first NUL); reading past a short name stays inside the dentry's
 * inline name (40 bytes), and a long name's buffer holds at least 32. */
static __always_inline void sens_name(struct custos_ev_sens_key *k, const unsigned char *name)
{
	const __u64 *p = bpf_rdonly_cast((void *)name, 0);
	__u64 w[CUSTOS_EV_SENS_NAME / 8];
	bool end = false;
	int i;

	for (i = 0; i < CUSTOS_EV_SENS_NAME / 8; i++) {
		__u64 v = end ? 0 : p[i];
		__u64 z = (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;

		if (z) {
			v &= ((z & -z) >> 7) - 1;	/* the bytes below the NUL */
			end = true;
		}
		w[i] = v;
	}
	w[CUSTOS_EV_SENS_NAME / 8 - 1] &= 0x00ffffffffffffffull;	/* a NUL last */
	__builtin_memcpy(k->name, w, sizeof(w));
}

/* Is the file at dentry d (on mount m) on the sensitive list: its name in
 * its directory, or one of its ancestors up to the mount's root? d and m
 * are BTF pointers (from custos_fd_file): the walk is plain loads (the
 * name too: sens_name) and one array lookup (inlined by the verifier); each of
 * the at most SENS_DEPTH + 1 keys is tested against the Bloom filter and
 * looked up in the hash map only when it may be there, so a file that is
 * not sensitive costs no hash lookup (but a filter's false positive). */
static __always_inline bool sensitive_file(struct dentry *d, struct vfsmount *m)
{
	struct dentry *root = m->mnt_root;
	struct custos_ev_sens_key k;
	struct inode *ino = d->d_parent->d_inode;
	struct custos_ev_sens_filter *f;
	__u32 zero = 0;
	int i;

	f = bpf_map_lookup_elem(&sensitive_filter, &zero);
	if (!f)
		return false;
	__builtin_memset(&k, 0, sizeof(k));
	k.dev = ino->i_sb->s_dev;
	k.ino = ino->i_ino;
	sens_name(&k, d->d_name.name);
	if (sens_maybe(f, &k) && bpf_map_lookup_elem(&sensitive, &k))
		return true;
	__builtin_memset(k.name, 0, sizeof(k.name));
	for (i = 0; i < SENS_DEPTH; i++) {
		struct dentry *parent = d->d_parent;

		ino = d->d_inode;
		k.dev = ino->i_sb->s_dev;
		k.ino = ino->i_ino;
		if (sens_maybe(f, &k) && bpf_map_lookup_elem(&sensitive, &k))
			return true;
		if (d == root || d == parent)
			break;
		d = parent;
	}
	return false;
}

/* open, creat, openat, openat2: kept when the flags say write, create or
 * truncate, or when a read is of a sensitive file. A refused read
 * (EACCES, EPERM) cannot be matched here (no struct file): it is sent
 * with user_check set, and the agent matches its joined path. With
 * all_opens every read that succeeded or was refused is kept, with no
 * check and user_check clear (a read that failed otherwise, ENOENT for
 * one, is left out as in the default configuration). The
 * decision comes first and costs register loads (flags) and, for a read
 * that succeeded, the sensitive-list check: a read-only open that is not
 * kept touches no other map. */
static __always_inline int open_exit(struct trace_event_raw_sys_exit *ctx, struct fspec s,
				     bool how2)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct custos_args p;
	struct file_scratch *fs;
	struct custos_ev_file *e;
	struct file *obj = NULL;
	__u64 flags = 0, mode = 0;
	long ret = ctx->ret;
	bool write;
	__u8 check = 0;

	if (how2) {
		/* openat2(dfd, path, struct open_how *how, size): flags, mode. */
		bpf_probe_read_user(&flags, sizeof(flags), (const void *)regs->dx);
		bpf_probe_read_user(&mode, sizeof(mode), (const void *)(regs->dx + 8));
	} else if (s.flags == 1) {
		flags = regs->si;
		mode = regs->dx;
	} else if (s.flags == 2) {
		flags = regs->dx;
		mode = regs->r10;
	} else {
		flags = O_CREAT | O_TRUNC | 1;	/* creat(path, mode) */
		mode = regs->si;
	}
	write = (flags & O_ACCMODE) || (flags & (O_CREAT | O_TRUNC));
	if (flags & O_PATH)
		write = false;
	if (ret >= 0)
		obj = custos_fd_file(ret);
	if (!write) {
		if (ret >= 0) {
			if (!all_opens &&
			    (!obj || !sensitive_file(obj->f_path.dentry, obj->f_path.mnt)))
				return 0;
		} else if (ret == -EACCES || ret == -EPERM) {
			check = !all_opens;
		} else {
			return 0;
		}
	}
	if (!custos_take(ctx, &p))
		return 0;
	fs = file_begin();
	if (!fs) {
		count_loss(CUSTOS_EV_OPEN);	/* never: the map has its one entry */
		return 0;
	}
	e = &fs->e;
	fill_hdr(&e->hdr, CUSTOS_EV_OPEN);
	e->result = ret;
	e->nr = p.nr;
	e->user_check = check;
	e->flags = flags;
	e->mode = mode;
	e->owner_uid = 0;
	e->owner_gid = 0;
	e->size = 0;
	e->attr_flags = 0;
	e->attr_clr = 0;
	e->propagation = 0;
	e->userns_fd = 0;
	read_user(fs->raw, sizeof(fs->raw), arg(&p, s.path), &e->raw_len, &e->raw_truncated);
	fill_path(&fs->path, &e->path_how, obj, s.dfd >= 0 ? (long)arg(&p, s.dfd) : AT_FDCWD,
		  fs->raw);
	file_emit_open(fs);
	return 0;
}

#define FILE_EXIT(sc, nargs, kind, ...)                                                   \
	SEC("tracepoint/syscalls/sys_exit_" #sc)                                   \
	int exit_##sc(struct trace_event_raw_sys_exit *ctx)                        \
	{                                                                          \
		return file_exit(ctx, kind, SPEC(__VA_ARGS__));                     \
	}

#define OPEN_EXIT(sc, nargs, how2, ...)                                                   \
	SEC("tracepoint/syscalls/sys_exit_" #sc)                                   \
	int exit_##sc(struct trace_event_raw_sys_exit *ctx)                        \
	{                                                                          \
		return open_exit(ctx, SPEC(__VA_ARGS__), how2);                    \
	}

/* Argument positions are the x86-64 system call signatures. */
OPEN_EXIT(open, 3, false, .path = 0, .flags = 1, .mode = 2)
OPEN_EXIT(creat, 2, false, .path = 0, .mode = 1)
OPEN_EXIT(openat, 4, false, .dfd = 0, .path = 1, .flags = 2, .mode = 3)
OPEN_EXIT(openat2, 4, true, .dfd = 0, .path = 1)

FILE_EXIT(unlink, 1, CUSTOS_EV_UNLINK, .path = 0)
FILE_EXIT(rmdir, 1, CUSTOS_EV_RMDIR, .path = 0)

/* unlinkat with AT_REMOVEDIR is an rmdir. */
SEC("tracepoint/syscalls/sys_exit_unlinkat")
int exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	if (regs->dx & AT_REMOVEDIR)
		return file_exit(ctx, CUSTOS_EV_RMDIR, SPEC(.dfd = 0, .path = 1));
	return file_exit(ctx, CUSTOS_EV_UNLINK, SPEC(.dfd = 0, .path = 1, .flags = 2));
}

FILE_EXIT(rename, 2, CUSTOS_EV_RENAME, .path = 0, .path2 = 1, .two = 1)
FILE_EXIT(renameat, 4, CUSTOS_EV_RENAME, .dfd = 0, .path = 1, .dfd2 = 2, .path2 = 3, .two = 1)
FILE_EXIT(renameat2, 5, CUSTOS_EV_RENAME, .dfd = 0, .path = 1, .dfd2 = 2, .path2 = 3, .flags = 4,
	  .two = 1)
FILE_EXIT(chmod, 2, CUSTOS_EV_CHMOD, .path = 0, .mode = 1)
FILE_EXIT(fchmod, 2, CUSTOS_EV_CHMOD, .fd = 0, .mode = 1)
FILE_EXIT(fchmodat, 3, CUSTOS_EV_CHMOD, .dfd = 0, .path = 1, .mode = 2)
FILE_EXIT(fchmodat2, 4, CUSTOS_EV_CHMOD, .dfd = 0, .path = 1, .mode = 2, .flags = 3)
FILE_EXIT(chown, 3, CUSTOS_EV_CHOWN, .path = 0, .uid = 1, .gid = 2)
FILE_EXIT(lchown, 3, CUSTOS_EV_CHOWN, .path = 0, .uid = 1, .gid = 2)
FILE_EXIT(fchown, 3, CUSTOS_EV_CHOWN, .fd = 0, .uid = 1, .gid = 2)
FILE_EXIT(fchownat, 5, CUSTOS_EV_CHOWN, .dfd = 0, .path = 1, .uid = 2, .gid = 3, .flags = 4)
FILE_EXIT(truncate, 2, CUSTOS_EV_TRUNCATE, .path = 0, .size = 1)
FILE_EXIT(ftruncate, 2, CUSTOS_EV_TRUNCATE, .fd = 0, .size = 1)
FILE_EXIT(link, 2, CUSTOS_EV_LINK, .path = 0, .path2 = 1, .two = 1)
FILE_EXIT(linkat, 5, CUSTOS_EV_LINK, .dfd = 0, .path = 1, .dfd2 = 2, .path2 = 3, .flags = 4, .two = 1)
FILE_EXIT(symlink, 2, CUSTOS_EV_SYMLINK, .path = 1, .path2 = 0, .two = 1, .path2_resolve = 0)
FILE_EXIT(symlinkat, 3, CUSTOS_EV_SYMLINK, .dfd = 1, .path = 2, .path2 = 0, .two = 1,
	  .path2_resolve = 0)
FILE_EXIT(mkdir, 2, CUSTOS_EV_MKDIR, .path = 0, .mode = 1)
FILE_EXIT(mkdirat, 3, CUSTOS_EV_MKDIR, .dfd = 0, .path = 1, .mode = 2)
FILE_EXIT(mount, 5, CUSTOS_EV_MOUNT, .path = 0, .path2 = 1, .name = 2, .flags = 3, .two = 1)
FILE_EXIT(umount, 2, CUSTOS_EV_UMOUNT, .path = 0, .flags = 1)
/* The mount API of Linux 5.2, as mount records told apart by nr (the record's op):
 * open_tree(dfd, path, flags): path the tree (OPEN_TREE_CLONE: a bind
 * mount's source); move_mount(from_dfd, from_path, to_dfd, to_path,
 * flags): path the source (a detached mount's fd resolves to "/"), path2
 * the mount point; fsopen(fs_name, flags): name the fs type; fsconfig(fd,
 * cmd, key, value, aux): flags the command, name the key, path_raw the
 * value (a string, e.g. the source device); fsmount(fs_fd, flags,
 * attr_flags): flags, attr_flags; mount_setattr(dfd, path, flags, attr,
 * size): path the mount, flags, and the struct mount_attr's attr_set (in
 * attr_flags), attr_clr, propagation and userns_fd. */
FILE_EXIT(open_tree, 3, CUSTOS_EV_MOUNT, .dfd = 0, .path = 1, .flags = 2, .two = 1,
	  .path2_resolve = 0)
FILE_EXIT(move_mount, 5, CUSTOS_EV_MOUNT, .dfd = 0, .path = 1, .dfd2 = 2, .path2 = 3, .flags = 4,
	  .two = 1)
FILE_EXIT(fsopen, 2, CUSTOS_EV_MOUNT, .name = 0, .flags = 1, .two = 1, .path2_resolve = 0,
	  .no_path = 1)
FILE_EXIT(fsconfig, 5, CUSTOS_EV_MOUNT, .flags = 1, .name = 2, .path = 3, .two = 1,
	  .path2_resolve = 0, .no_path = 1)
FILE_EXIT(fsmount, 3, CUSTOS_EV_MOUNT, .flags = 1, .attr = 2, .two = 1, .path2_resolve = 0,
	  .no_path = 1)
FILE_EXIT(mount_setattr, 5, CUSTOS_EV_MOUNT, .dfd = 0, .path = 1, .flags = 2, .mattr = 3,
	  .two = 1, .path2_resolve = 0)
FILE_EXIT(setxattr, 5, CUSTOS_EV_SETXATTR, .path = 0, .name = 1, .size = 3, .flags = 4)
FILE_EXIT(lsetxattr, 5, CUSTOS_EV_SETXATTR, .path = 0, .name = 1, .size = 3, .flags = 4)
FILE_EXIT(fsetxattr, 5, CUSTOS_EV_SETXATTR, .fd = 0, .name = 1, .size = 3, .flags = 4)
FILE_EXIT(removexattr, 2, CUSTOS_EV_REMOVEXATTR, .path = 0, .name = 1)
FILE_EXIT(lremovexattr, 2, CUSTOS_EV_REMOVEXATTR, .path = 0, .name = 1)
FILE_EXIT(fremovexattr, 2, CUSTOS_EV_REMOVEXATTR, .fd = 0, .name = 1)
/* Linux 6.13: setxattrat(dfd, path, at_flags, name, args, size) and
 * removexattrat(dfd, path, at_flags, name); flags are the xattr flags. */
FILE_EXIT(setxattrat, 6, CUSTOS_EV_SETXATTR, .dfd = 0, .path = 1, .name = 3, .xargs = 4)
FILE_EXIT(removexattrat, 4, CUSTOS_EV_REMOVEXATTR, .dfd = 0, .path = 1, .name = 3)
