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
const volatile __u32 ring_mark = 0;	/* an eighth of the ring's bytes (custos_wake_flags) */

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

/* Nonzero once the agent has put anything in the two maps above (it sets
 * it first and never clears it): until then custos_skip does not look
 * them up (bpf_stats: the two lookups and the cgroup id were 75-120 ns
 * of a recorded open). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_on SEC(".maps");

#define AUDIT_UNSET 0xffffffffu

static __always_inline bool from_agent(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == agent_tgid;
}

/* The agent itself, or configured noise: checked first by every syscall
 * handler, so filtered calls cost two hash lookups and nothing else. */
static __always_inline bool custos_skip(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	__u32 *on;
	__u64 cg;

	if (tgid == agent_tgid)
		return true;
	on = bpf_map_lookup_elem(&filter_on, &zero);
	if (!on || !*on)
		return false;
	if (bpf_map_lookup_elem(&ignored_tgids, &tgid))
		return true;
	cg = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&ignored_cgroups, &cg) != NULL;
}

/* When each CPU last woke the agent (custos_wake_flags). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_wake SEC(".maps");

#define CUSTOS_WAKE_GAP_NS 1000000ull	/* 1 ms between wake-ups, per CPU */

/* A record of kind is lost: count it, and wake the agent if this CPU has
 * not woken it for CUSTOS_WAKE_GAP_NS. The ring is full (or nearly:
 * custos_reserve), and a full ring wakes nobody by itself: no record is
 * submitted until the agent reads, so an agent that the last records in
 * did not wake (custos_wake_flags' once-a-millisecond rule: two CPUs can
 * cross the mark together and neither see itself cross) slept to its
 * poll timeout (100 ms) while every record meanwhile was lost. The
 * wake-up is an 8-byte record reserved and discarded with
 * BPF_RB_FORCE_WAKEUP: the agent never sees it (a discarded record is
 * skipped), but it wakes the agent as a submit does. It takes 16 bytes
 * of the ring, which custos_reserve keeps free (CUSTOS_WAKE_ROOM); only
 * fixed-size records (which do not keep that room) can take the last
 * bytes, and then there is no wake-up, as before. Once a millisecond per
 * CPU bounds what a storm of losses costs in wake-ups (each an irq_work
 * self-IPI) while the agent is already reading. */
static __always_inline void count_loss(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &kind);
	__u64 *last, now = bpf_ktime_get_ns();
	__u32 zero = 0;
	void *w;

	if (n)
		(*n)++;		/* per-CPU: no other writer */
	last = bpf_map_lookup_elem(&last_wake, &zero);
	if (!last || now - *last < CUSTOS_WAKE_GAP_NS)
		return;
	w = bpf_ringbuf_reserve(&events, 8, 0);
	if (!w)
		return;
	bpf_ringbuf_discard(w, BPF_RB_FORCE_WAKEUP);
	*last = now;
}

/* Wake-ups. A wake-up of the agent is
 * an irq_work, a self-IPI (a VM exit under a hypervisor) and a context
 * switch: measured, it was most of the cost of a recorded open when every
 * record asked for one. So a record wakes the agent only when it fills
 * the ring buffer past an eighth of its size in bytes (the agent, which
 * drains the ring to empty once woken, is then asleep or about to read it
 * anyway), or, while the ring stays above that mark, at most once a
 * millisecond per CPU (in case two CPUs crossed the mark together and
 * neither saw itself cross). Below the mark the agent reads records at
 * its next poll timeout (at most 100 ms later), so a lone event costs its
 * process no wake-up. A record takes its size plus the ring's 8-byte
 * header, rounded up to 8, of the ring: that is what "crossed" compares.
 * The mark is a constant the agent sets with the ring's size (ring_mark),
 * not a second query. A lost record wakes the agent too (count_loss). */
static __always_inline __u64 custos_ring_took(__u64 size)
{
	return (size + 8 + 7) & ~7ull;
}

/* The flag for a record that took took bytes of the ring, which held
 * before bytes before it. */
static __always_inline __u64 custos_wake_rule(__u64 before, __u64 took)
{
	__u64 mark = ring_mark;
	__u32 zero = 0;
	__u64 *last, now;

	if (before + took < mark)
		return BPF_RB_NO_WAKEUP;
	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&last_wake, &zero);
	if (before >= mark && last && now - *last < CUSTOS_WAKE_GAP_NS)
		return BPF_RB_NO_WAKEUP;	/* was above the mark before it */
	if (last)
		*last = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* The wake-up flag for a fixed-size record of size bytes that has just
 * been reserved (so the ring's available data includes it). */
static __always_inline __u64 custos_wake_flags(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 took = custos_ring_took(size);

	return custos_wake_rule(avail > took ? avail - took : 0, took);
}

/* Submit a fixed-size record of size bytes (reserved with
 * bpf_ringbuf_reserve). */
static __always_inline void custos_submit(void *e, __u64 size)
{
	bpf_ringbuf_submit(e, custos_wake_flags(size));
}

/* Variable-size records (events.h: exec, file) are built in a per-CPU
 * scratch map value of their family, then written to the ring with only
 * the bytes they use: custos_reserve a record of the exact size, the
 * fixed struct and each string with custos_put (the scratch puts the
 * first string right after the struct, so the two are one put),
 * custos_commit. A failed
 * reservation is counted as a loss of the kind, exactly like a failed
 * bpf_ringbuf_reserve; the dynptr must be discarded even then (the
 * verifier's rule). The ring is queried before the reservation: a record
 * that would leave less than CUSTOS_WAKE_ROOM bytes free is refused and
 * counted lost without trying (so count_loss's wake-up finds room), and
 * what the ring held is what custos_wake_rule compares. Returns 0 when
 * reserved, with *wake the flag custos_commit must submit with. */
#define CUSTOS_WAKE_ROOM 64	/* four of count_loss's 16-byte wake-up records */

static __always_inline int custos_reserve(struct bpf_dynptr *d, __u32 size, __u32 kind,
					  __u64 *wake)
{
	__u64 before = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 took = custos_ring_took(size);

	if (before + took + CUSTOS_WAKE_ROOM > (__u64)ring_mark * 8) {
		count_loss(kind);	/* the ring is ring_mark * 8 bytes */
		return -1;
	}
	if (bpf_ringbuf_reserve_dynptr(&events, size, 0, d) == 0) {
		*wake = custos_wake_rule(before, took);
		return 0;
	}
	bpf_ringbuf_discard_dynptr(d, 0);
	count_loss(kind);
	return -1;
}

/* Write a record of size bytes that lies contiguous at data (a map value)
 * to the ring with one bpf_ringbuf_output (it reserves, copies and
 * commits): the same room check, loss count and wake-up rule as
 * custos_reserve + custos_commit, three helper calls fewer. size must be
 * verifier-bounded inside data's object. */
static __always_inline void custos_output(void *data, __u32 size, __u32 kind)
{
	__u64 before = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 took = custos_ring_took(size);

	if (before + took + CUSTOS_WAKE_ROOM > (__u64)ring_mark * 8 ||
	    bpf_ringbuf_output(&events, data, size, custos_wake_rule(before, took)) < 0)
		count_loss(kind);
}

/* Append len bytes at src to d at *pos. len must be verifier-bounded and
 * src + len inside src's object; the position is checked at run time
 * (the reservation's size is the sum of what is put). */
static __always_inline void custos_put(struct bpf_dynptr *d, __u32 *pos, const void *src,
				       __u32 len)
{
	if (len)
		bpf_dynptr_write(d, *pos, (void *)src, len, 0);
	*pos += len;
}

static __always_inline void custos_commit(struct bpf_dynptr *d, __u64 wake)
{
	bpf_ringbuf_submit_dynptr(d, wake);
}

/* bpf_rdonly_cast (kfunc, Linux 6.4): a scalar kernel address seen as a
 * read-only BTF pointer, so that fields are read by plain loads (the
 * verifier turns them into faulting-safe loads) instead of one
 * bpf_probe_read_kernel helper call each. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* The inode number of the pid namespace t lives in (task_active_pid_ns).
 * t is a BTF pointer: plain loads. */
static __always_inline __u32 pidns_of(struct task_struct *t)
{
	struct pid *pid = t->thread_pid;
	struct upid *up;

	if (!pid)
		return 0;
	up = bpf_rdonly_cast((void *)((unsigned long)pid + bpf_core_field_offset(struct pid, numbers) +
				      (unsigned long)(pid->level & 63) *
				      bpf_core_type_size(struct upid)),
			     bpf_core_type_id_kernel(struct upid));
	return up->ns->ns.inum;
}

/* The subject of every record: the current task (docs/format.md 2.2).
 * The task is a BTF pointer, so its fields and those it points to are
 * plain loads (bpf_stats: a recorded open's program took about 1.6 us
 * with the 16 bpf_probe_read_kernel calls this did). */
static __always_inline void fill_hdr(struct custos_ev_hdr *h, __u32 kind)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *cred = t->real_cred;

	h->kind = kind;
	h->pid = t->tgid;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->tid = t->pid;
	h->ppid = t->real_parent->tgid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->euid = cred->euid.val;
	h->loginuid = AUDIT_UNSET;
	h->sessionid = AUDIT_UNSET;
	if (bpf_core_field_exists(t->loginuid)) {
		h->loginuid = t->loginuid.val;
		h->sessionid = t->sessionid;
	}
	h->pidns = pidns_of(t);
	h->mntns = t->nsproxy->mnt_ns->ns.inum;
	h->pad0 = 0;
	/* What bpf_get_current_cgroup_id returns (the default hierarchy's
	 * cgroup's kernfs id), by plain loads. */
	h->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
	/* The comm by plain loads (a char array of a BTF pointer), not
	 * bpf_get_current_comm: bpf_stats, 50-60 ns less a record. The kernel
	 * NUL-pads comm whenever it sets it (strscpy_pad), as the helper did. */
	__builtin_memcpy(h->comm, t->comm, sizeof(h->comm));
}

/* The struct file behind descriptor fd of the current task, NULL when
 * there is none (a closed or out-of-range fd). The returned pointer is a
 * BTF pointer: its fields can be read directly. */
static __always_inline struct file *custos_fd_file(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file **fds = fdt->fd;
	struct file *f = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	/* fds[fd] by a plain load: bpf_rdonly_cast to void (Linux 6.12)
	 * makes a scalar address a read-only untrusted pointer, which
	 * the verifier turns into a faulting-safe load. */
	f = *(struct file **)bpf_rdonly_cast((void *)&fds[fd], 0);
	if (!f)
		return NULL;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

/* A system call's number and arguments, as its sys_exit handler sees
 * them. */
struct custos_args {
	__u64 nr;
	__u64 args[6];
};

/* sys_exit: the call's arguments, read from the task's saved user
 * registers (x86-64: di, si, dx, r10, r8, r9), which no hooked call
 * changes before it returns. There is no sys_enter program and no map
 * pairing enter with exit, so nothing can be lost between the two and a
 * call that is not recorded costs one program run. The syscall
 * tracepoints ignore 32-bit (compat) calls on x86-64, so the registers are
 * always the 64-bit convention. Returns false when the caller is filtered
 * out (custos_skip). */
static __always_inline bool custos_take(struct trace_event_raw_sys_exit *ctx,
					struct custos_args *out)
{
	struct pt_regs *regs;

	if (custos_skip())
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	out->nr = (__u32)ctx->id;	/* an int in the record: the upper half is padding */
	out->args[0] = regs->di;
	out->args[1] = regs->si;
	out->args[2] = regs->dx;
	out->args[3] = regs->r10;
	out->args[4] = regs->r8;
	out->args[5] = regs->r9;
	return true;
}

#endif
