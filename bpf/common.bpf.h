/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * What every capture family shares: the ring buffer, the per-kind loss
 * counters, the filter maps, and the record header filled from the current
 * task. Each .bpf.c includes it and so defines its own copy of the maps;
 * the agent makes them one (bpf_map__reuse_fd) before loading, so all
 * families write one ring buffer and one set of counters and read one set
 * of filters.
 */
#ifndef CUSTOS_BPF_COMMON_H
#define CUSTOS_BPF_COMMON_H

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the agent before load. */
const volatile __u32 agent_tgid = 0;

/* Its size is set by the agent before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Failed ring-buffer reservations, by kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CUSTOS_EV_KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

/* Processes (tgid) whose file, network and syscall events are noise: the
 * agent marks them (executable path prefix), fork inherits the mark, exit
 * removes it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} ignored_tgids SEC(".maps");

/* cgroup v2 ids whose file, network and syscall events are noise. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} ignored_cgroups SEC(".maps");

#define AUDIT_UNSET 0xffffffffu

static __always_inline bool from_agent(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == agent_tgid;
}

/* The agent itself, or configured noise: checked first by every syscall
 * handler, so filtered calls cost two hash lookups and nothing else. */
static __always_inline bool custos_skip(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 cg;

	if (tgid == agent_tgid)
		return true;
	if (bpf_map_lookup_elem(&ignored_tgids, &tgid))
		return true;
	cg = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&ignored_cgroups, &cg) != NULL;
}

static __always_inline void count_loss(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &kind);

	if (n)
		(*n)++;		/* per-CPU: no other writer */
}

/* The inode number of the pid namespace t lives in (task_active_pid_ns). */
static __always_inline __u32 pidns_of(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid *up;

	if (!pid)
		return 0;
	up = (struct upid *)((unsigned long)pid + bpf_core_field_offset(struct pid, numbers) +
			     (unsigned long)(level & 63) * bpf_core_type_size(struct upid));
	return BPF_CORE_READ(up, ns, ns.inum);
}

/* The subject of every record: the current task (docs/format.md 2.2). */
static __always_inline void fill_hdr(struct custos_ev_hdr *h, __u32 kind)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *cred = BPF_CORE_READ(t, real_cred);

	h->kind = kind;
	h->pid = BPF_CORE_READ(t, tgid);
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->tid = BPF_CORE_READ(t, pid);
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->uid = BPF_CORE_READ(cred, uid.val);
	h->gid = BPF_CORE_READ(cred, gid.val);
	h->euid = BPF_CORE_READ(cred, euid.val);
	h->loginuid = AUDIT_UNSET;
	h->sessionid = AUDIT_UNSET;
	if (bpf_core_field_exists(t->loginuid)) {
		h->loginuid = BPF_CORE_READ(t, loginuid.val);
		h->sessionid = BPF_CORE_READ(t, sessionid);
	}
	h->pidns = pidns_of(t);
	h->mntns = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	h->pad0 = 0;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* The struct file behind descriptor fd of the current task, NULL when
 * there is none (a closed or out-of-range fd). */
static __always_inline struct file *custos_fd_file(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || fd >= max)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Syscall enter/exit pairing: the arguments seen at sys_enter, by thread,
 * for the sys_exit handler, which needs the result. */
struct custos_pending {
	__u64 nr;
	__u64 args[6];
};

/* LRU: a thread killed inside a call never reaches sys_exit, and its entry
 * must not stay until the map is full (the oldest is evicted instead). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct custos_pending);
} pending SEC(".maps");

/* sys_enter: remember the arguments unless the caller is filtered out.
 * Only the call's nargs arguments are read: the kernel refuses to attach
 * a program that reads past the end of its tracepoint's record (EACCES). */
static __always_inline int custos_stash(struct trace_event_raw_sys_enter *ctx, int nargs)
{
	struct custos_pending p;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (custos_skip())
		return 0;
	__builtin_memset(&p, 0, sizeof(p));
	p.nr = (__u32)ctx->id;	/* an int in the record: the upper half is padding */
	if (nargs > 0)
		p.args[0] = ctx->args[0];
	if (nargs > 1)
		p.args[1] = ctx->args[1];
	if (nargs > 2)
		p.args[2] = ctx->args[2];
	if (nargs > 3)
		p.args[3] = ctx->args[3];
	if (nargs > 4)
		p.args[4] = ctx->args[4];
	if (nargs > 5)
		p.args[5] = ctx->args[5];
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

/* sys_exit: take this thread's arguments (copied out, entry removed).
 * Returns false when the entry was not stashed (filtered, or the program
 * attached between enter and exit) or belongs to another call. */
static __always_inline bool custos_take(struct trace_event_raw_sys_exit *ctx,
					struct custos_pending *out)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct custos_pending *p = bpf_map_lookup_elem(&pending, &tid);

	if (!p)
		return false;
	*out = *p;
	bpf_map_delete_elem(&pending, &tid);
	return out->nr == (__u32)ctx->id;
}

/* The sys_enter program of a call with nargs arguments. */
#define CUSTOS_ENTER(sc, nargs)                                                    \
	SEC("tracepoint/syscalls/sys_enter_" #sc)                                  \
	int enter_##sc(struct trace_event_raw_sys_enter *ctx)                      \
	{                                                                          \
		return custos_stash(ctx, nargs);                                   \
	}

#endif
