/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Resolve a struct path (a dentry on a mount) into an absolute path, in the
 * kernel, for any capture family: exec's executable and cwd now, the files
 * of file events later. bpf_d_path is refused outside a few LSM and fentry
 * hooks, which locked-down kernels do not load, so this walks the dentries
 * up to the root of their mount, crosses to the parent mount at its mount
 * point, and repeats, for at most CUSTOS_EV_PATH_DEPTH steps.
 *
 * It reads through BPF_CORE_READ (bpf_probe_read_kernel), so it works from
 * tp_btf, raw_tp and tracepoint programs alike. Like d_path it stops at the
 * root of the task's mount namespace tree; unlike d_path it does not take
 * rename_lock, so a rename racing with the walk can give a mixed path.
 */
#ifndef CUSTOS_BPF_PATH_H
#define CUSTOS_BPF_PATH_H

#include "events.h"

/* Fill out with the absolute path of path. The path is built from the end
 * of out->buf towards its start; on return it is buf[off .. off + len).
 * An empty path (len 0) with truncated set means path was NULL. */
static __always_inline void custos_path_resolve(const struct path *path,
						struct custos_ev_path *out)
{
	struct dentry *dentry = BPF_CORE_READ(path, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	__u32 off = CUSTOS_EV_PATH_MAX;
	__u8 truncated = 1, unreadable = 0;
	int i;

	if (!dentry || !vfsmnt) {
		out->off = 0;
		out->len = 0;
		out->truncated = 1;
		return;
	}
	for (i = 0; i < CUSTOS_EV_PATH_DEPTH; i++) {
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
		const unsigned char *name;
		__u32 len;

		if (dentry == mnt_root || dentry == parent) {
			struct mount *mnt_parent;

			if (dentry != mnt_root) {
				/* Root of a tree that is not mounted (pipes,
				 * sockets, a lazily unmounted file system). */
				truncated = 0;
				break;
			}
			mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
			if (mnt == mnt_parent || !mnt_parent) {
				truncated = 0;	/* the namespace's root */
				break;
			}
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			vfsmnt = &mnt->mnt;
			continue;
		}
		len = BPF_CORE_READ(dentry, d_name.len);
		name = BPF_CORE_READ(dentry, d_name.name);
		if (len > CUSTOS_EV_NAME_MAX || len + 1 > off)
			break;	/* no room left: keep the last components */
		off -= len + 1;
		/* Both masks are no-ops after the checks above; they give the
		 * verifier the bounds off < PATH_MAX and len < NAME_SLACK. */
		off &= CUSTOS_EV_PATH_MAX - 1;
		len &= CUSTOS_EV_NAME_SLACK - 1;
		out->buf[off] = '/';
		if (bpf_probe_read_kernel(&out->buf[off + 1], len, name) < 0)
			unreadable = 1;
		dentry = parent;
	}
	if (off == CUSTOS_EV_PATH_MAX) {
		/* The root itself (or nothing could be added). */
		off = CUSTOS_EV_PATH_MAX - 1;
		out->buf[off] = '/';
	}
	out->off = off;
	out->len = CUSTOS_EV_PATH_MAX - off;
	out->truncated = truncated | unreadable;
}

#endif
