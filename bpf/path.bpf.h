/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Resolve a struct path (a dentry on a mount) into an absolute path, in the
 * kernel, for any capture family: exec's executable and cwd now, the files
 * of file events later. bpf_d_path is refused outside a few LSM and fentry
 * hooks, which locked-down kernels do not load, so this walks the dentries
 * up to the root of their mount, crosses to the parent mount at its mount
 * point, and repeats, for at most CUSTOS_EV_PATH_DEPTH steps.
 *
 * It starts from BPF_CORE_READ and walks with plain loads through
 * bpf_rdonly_cast (common.bpf.h; Linux 6.4), so it works from tp_btf,
 * raw_tp and tracepoint programs alike. Like d_path it stops at the
 * root of the task's mount namespace tree; unlike d_path it does not take
 * rename_lock, so a rename racing with the walk can give a mixed path.
 *
 * The path is built in a struct custos_path_buf, which lives in a per-CPU
 * scratch map of the caller (never in the ring buffer): the record gets
 * only its bytes (custos_put_path, bpf_dynptr_write).
 */
#ifndef CUSTOS_BPF_PATH_H
#define CUSTOS_BPF_PATH_H

#include "events.h"

/* A path resolved in the kernel, built right to left: its bytes are
 * buf[off .. off + len), with no NUL, and off + len is PATH_MAX. truncated
 * is 1 when the walk ran out of depth or room before the root (the bytes
 * kept are then the last components) or a name could not be read. buf is
 * twice PATH_MAX so that a copy of up to PATH_MAX bytes from any offset
 * below PATH_MAX stays inside it: the bound the verifier checks for
 * custos_put_path, which knows off and len apart, not their sum. */
struct custos_path_buf {
	__u16 off;
	__u16 len;
	__u8 truncated;
	__u8 pad[3];
	char buf[2 * CUSTOS_EV_PATH_MAX];
};

/* An empty path: len 0, with truncated as given (1: could not be
 * resolved; 0: there is no path to resolve). */
static __always_inline void custos_path_empty(struct custos_path_buf *out, __u8 truncated)
{
	out->off = 0;
	out->len = 0;
	out->truncated = truncated;
}

/* The walk's state, on the caller's stack, for the bpf_loop callback. */
struct custos_walk {
	struct custos_path_buf *out;
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u32 off;
	__u8 truncated, unreadable;
};

/* The kernel's BTF ids of the types the walk reads, as plain loads. */
#define CUSTOS_BTF(type) bpf_core_type_id_kernel(struct type)

/* Names up to this many 8-byte words are copied by plain loads; longer
 * ones by bpf_probe_read_kernel. The bound is the verifier's cost: the
 * walk's step is a bpf_loop callback, which the verifier checks again for
 * each iteration whose state it cannot prove equivalent to one it has
 * seen, and a copy loop of 32 words inside it took the four objects from
 * 0.7 to 7 million instructions verified (from about 3 s to 10 s of
 * verification before `capturing`, docs/capture.md) for no saving at run
 * time over 4 words: components of more than 32 bytes are rare. */
#define CUSTOS_COPY_WORDS 4

/* Copy a component's len bytes from name to dst: up to CUSTOS_COPY_WORDS
 * words by 8-byte plain loads (bpf_rdonly_cast to void: a faulting load
 * gives zeros) and stores, no helper call; a longer name by one
 * bpf_probe_read_kernel. Whole words are stored, so up to 7 bytes past
 * dst + len are overwritten: those 8 bytes are the next component's '/'
 * and name (the path is built right to left) or the buffer's slack, saved
 * first and put back last. Reading whole words stays inside the name's
 * buffer: a short name is in the dentry's inline array (40 bytes), a long
 * one in an allocation whose size is a multiple of 8 with the NUL inside
 * it. Returns nonzero when a byte of the name was 0 (no name holds a NUL,
 * so the load faulted) or the probe read failed: the caller marks the
 * path truncated. The lowest byte the zero-byte test flags is always a
 * real 0, so masking the test to the name's bytes is exact. */
static __always_inline __u64 custos_copy_name(char *dst, const unsigned char *name, __u32 len)
{
	const __u64 *src = bpf_rdonly_cast((void *)name, 0);
	__u64 saved, zero = 0;
	__u32 i;

	if (len > CUSTOS_COPY_WORDS * 8)
		return bpf_probe_read_kernel(dst, len, name) < 0;
	saved = *(__u64 *)(void *)(dst + len);
	for (i = 0; i < CUSTOS_COPY_WORDS; i++) {
		__u64 v, z;

		if (i * 8 >= len)
			break;
		v = src[i];
		z = (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
		if (len - i * 8 < 8)
			z &= (1ull << ((len - i * 8) * 8)) - 1;	/* the name's bytes */
		zero |= z;
		*(__u64 *)(void *)(dst + i * 8) = v;
	}
	*(__u64 *)(void *)(dst + len) = saved;
	return zero;
}

/* One step: add a component, or cross to the parent mount. Returns 1 to
 * stop (the root, no room), 0 to go on. The pointers are cast to BTF
 * pointers (bpf_rdonly_cast, which the verifier inlines into a move), so
 * fields are plain loads, and the name's bytes are too (custos_copy_name):
 * a step calls no helper (measured: the probe reads were a third of a
 * recorded open's cost in the kernel; the name's bpf_probe_read_kernel,
 * the last of them, about 30 ns a component). */
static long custos_walk_step(__u64 index, void *ctx)
{
	struct custos_walk *w = ctx;
	struct dentry *dentry = bpf_rdonly_cast(w->dentry, CUSTOS_BTF(dentry));
	struct vfsmount *vfsmnt = bpf_rdonly_cast(w->vfsmnt, CUSTOS_BTF(vfsmount));
	struct mount *mnt = bpf_rdonly_cast(w->mnt, CUSTOS_BTF(mount));
	struct dentry *mnt_root = vfsmnt->mnt_root;
	struct dentry *parent = dentry->d_parent;
	const unsigned char *name;
	__u32 len, off = w->off;

	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent;

		if (dentry != mnt_root) {
			/* Root of a tree that is not mounted (pipes,
			 * sockets, a lazily unmounted file system). */
			w->truncated = 0;
			return 1;
		}
		mnt_parent = mnt->mnt_parent;
		if (mnt == mnt_parent || !mnt_parent) {
			w->truncated = 0;	/* the namespace's root */
			return 1;
		}
		w->dentry = mnt->mnt_mountpoint;
		w->mnt = mnt_parent;
		w->vfsmnt = &mnt_parent->mnt;
		return 0;
	}
	len = dentry->d_name.len;
	name = dentry->d_name.name;
	if (len > CUSTOS_EV_NAME_MAX || len + 1 > off)
		return 1;	/* no room left: keep the last components */
	off -= len + 1;
	/* Both masks are no-ops after the checks above; they give the
	 * verifier the bounds off < PATH_MAX and len < NAME_SLACK. */
	off &= CUSTOS_EV_PATH_MAX - 1;
	len &= CUSTOS_EV_NAME_SLACK - 1;
	w->out->buf[off] = '/';
	if (custos_copy_name(&w->out->buf[off + 1], name, len))
		w->unreadable = 1;
	w->off = off;
	w->dentry = parent;
	return 0;
}

/* Fill out with the absolute path of dentry on vfsmnt (a struct path's
 * two fields; from a BTF pointer, plain loads). The path is built from the end
 * of out->buf towards its start; on return it is buf[off .. off + len).
 * An empty path (len 0) with truncated set means one of them was NULL. The walk
 * is a bpf_loop (Linux 5.17) callback, so the verifier checks one step
 * rather than every one of the CUSTOS_EV_PATH_DEPTH iterations. */
static __always_inline void custos_path_walk(struct dentry *dentry, struct vfsmount *vfsmnt,
					     struct custos_path_buf *out)
{
	struct custos_walk w;

	w.out = out;
	w.dentry = dentry;
	w.vfsmnt = vfsmnt;
	w.mnt = container_of(w.vfsmnt, struct mount, mnt);
	w.off = CUSTOS_EV_PATH_MAX;
	w.truncated = 1;
	w.unreadable = 0;
	if (!w.dentry || !w.vfsmnt) {
		custos_path_empty(out, 1);
		return;
	}
	bpf_loop(CUSTOS_EV_PATH_DEPTH, custos_walk_step, &w, 0);
	if (w.off >= CUSTOS_EV_PATH_MAX) {
		/* The root itself (or nothing could be added). */
		w.off = CUSTOS_EV_PATH_MAX - 1;
		out->buf[w.off] = '/';
	}
	out->off = w.off;
	out->len = CUSTOS_EV_PATH_MAX - w.off;
	out->truncated = w.truncated | w.unreadable;
}

/* The same from a struct path that may not be a BTF pointer (fs->root,
 * fs->pwd): its two fields by bpf_probe_read_kernel. */
static __always_inline void custos_path_resolve(const struct path *path,
						struct custos_path_buf *out)
{
	custos_path_walk(BPF_CORE_READ(path, dentry), BPF_CORE_READ(path, mnt), out);
}

/* The length of p as the record states it: 0..PATH_MAX. */
static __always_inline __u16 custos_path_len(const struct custos_path_buf *p)
{
	return p->len > CUSTOS_EV_PATH_MAX ? CUSTOS_EV_PATH_MAX : p->len;	/* never more */
}

/* Append p's custos_path_len bytes to the record d at *pos (custos_put,
 * common.bpf.h). */
static __always_inline void custos_put_path(struct bpf_dynptr *d, __u32 *pos,
					    const struct custos_path_buf *p)
{
	__u32 len = custos_path_len(p), off = p->off & (CUSTOS_EV_PATH_MAX - 1);

	if (len > CUSTOS_EV_PATH_MAX)
		len = CUSTOS_EV_PATH_MAX;	/* the verifier's bound */
	custos_put(d, pos, &p->buf[off], len);
}

#endif
