// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Process capture: exec, fork and exit, from the scheduler's tracepoints
 * (tp_btf), which load on locked-down kernels where kprobes, fentry and
 * BPF-LSM do not. Each handler filters early (the agent's own process),
 * reserves a fixed-size record in the ring buffer, fills it and submits it
 * (fork, exit), or builds it in a per-CPU scratch and writes only the bytes
 * it uses (exec: its paths, filename and argv are variable-size); a failed
 * reservation is counted per kind in a per-CPU array, which the agent
 * turns into loss records. Record layouts are in events.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "common.bpf.h"
#include "path.bpf.h"

#define SIGCHLD 17
#define CLONE_VM 0x00000100
#define CLONE_VFORK 0x00004000
#define PF_KTHREAD 0x00200000
#define TS_COMPAT 0x0002		/* x86 thread_info.status: 32-bit syscall */
#define SIGNAL_GROUP_EXIT 0x00000004	/* signal_struct.flags */
/* x86-64 syscall numbers of the calls that create tasks. */
#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_CLONE3 435

/* An exec record under construction, one per CPU (events.h's layout:
 * the struct, then filename, exe, cwd, argv; filename follows the struct
 * with no padding, as in the record, so the two are written at once). */
struct exec_scratch {
	struct custos_ev_exec e;
	char filename[CUSTOS_EV_PATH_MAX];
	char argv[CUSTOS_EV_ARGS_MAX];
	struct custos_path_buf exe, cwd;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_scratch SEC(".maps");

_Static_assert(__builtin_offsetof(struct exec_scratch, filename) == sizeof(struct custos_ev_exec),
	       "filename must follow the struct as in the record");

/* Write the record in x to the ring, with argv's bytes from argv (the
 * scratch's, or argv_scratch for a failed exec). The masks are no-ops
 * (the bounds the lengths were made with) that the verifier needs. */
static __always_inline void exec_emit(struct exec_scratch *x, const char *argv)
{
	struct custos_ev_exec *e = &x->e;
	__u32 filename = e->filename_len & (CUSTOS_EV_PATH_MAX - 1);
	__u32 args = e->argv_len > CUSTOS_EV_ARGS_MAX ? CUSTOS_EV_ARGS_MAX : e->argv_len;
	__u32 size, pos = 0;
	struct bpf_dynptr d;
	__u64 wake;

	e->exe_len = custos_path_len(&x->exe);
	e->cwd_len = custos_path_len(&x->cwd);
	e->exe_truncated = x->exe.truncated;
	e->cwd_truncated = x->cwd.truncated;
	e->filename_len = filename;
	e->argv_len = args;
	e->pad = 0;
	e->pad2 = 0;
	size = sizeof(*e) + e->exe_len + e->cwd_len + filename + args;
	if (custos_reserve(&d, size, CUSTOS_EV_EXEC, &wake))
		return;
	custos_put(&d, &pos, e, sizeof(*e) + filename);	/* and filename after it */
	custos_put_path(&d, &pos, &x->exe);
	custos_put_path(&d, &pos, &x->cwd);
	custos_put(&d, &pos, argv, args);
	custos_commit(&d, wake);
}

static __always_inline struct exec_scratch *exec_begin(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&exec_scratch, &zero);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(custos_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_scratch *x;
	struct custos_ev_exec *e;
	struct file *file;
	struct fs_struct *fs;
	struct inode *inode;
	unsigned long arg_start, arg_end, n;
	long ret;

	if (from_agent())
		return 0;
	x = exec_begin();
	if (!x) {
		count_loss(CUSTOS_EV_EXEC);	/* never: the map has its one entry */
		return 0;
	}
	e = &x->e;
	fill_hdr(&e->hdr, CUSTOS_EV_EXEC);

	e->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	file = BPF_CORE_READ(bprm, file);
	inode = BPF_CORE_READ(file, f_inode);
	e->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->exe_ino = BPF_CORE_READ(inode, i_ino);
	e->exe_mode = BPF_CORE_READ(inode, i_mode);
	e->argc = BPF_CORE_READ(bprm, argc);
	e->result = 0;
	custos_path_resolve(&file->f_path, &x->exe);
	fs = BPF_CORE_READ(p, fs);
	custos_path_resolve(&fs->pwd, &x->cwd);

	ret = bpf_probe_read_kernel_str(x->filename, sizeof(x->filename),
					BPF_CORE_READ(bprm, filename));
	e->filename_len = ret > 0 ? ret - 1 : 0;

	/* The argument strings the kernel has just copied onto the new stack,
	 * each with its NUL. */
	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	n = arg_end > arg_start ? arg_end - arg_start : 0;
	e->argv_truncated = 0;
	if (n > CUSTOS_EV_ARGS_MAX) {
		n = CUSTOS_EV_ARGS_MAX;
		e->argv_truncated = 1;
	}
	if (n && bpf_probe_read_user(x->argv, n, (const void *)arg_start) < 0) {
		n = 0;
		e->argv_truncated = 1;
	}
	e->argv_len = n;

	exec_emit(x, x->argv);
	return 0;
}

/* Failed exec attempts (a missing or non-executable file, E2BIG, ...):
 * sched_process_exec fires only for an exec that succeeded, so these come
 * from the syscall tracepoints, with what the caller passed. The argument
 * strings are gathered in a per-CPU scratch twice ARGS_MAX long, so that
 * a string read at any offset below ARGS_MAX stays inside it (the
 * verifier's bound); the record takes its first argv_len bytes. */
#define ARGV_PTRS_MAX 4096	/* argv pointers counted at most */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[2 * CUSTOS_EV_ARGS_MAX]);
} argv_scratch SEC(".maps");

struct argv_walk {
	__u64 uargv;		/* the caller's char *argv[] */
	char *buf;		/* argv_scratch */
	__u32 off, argc;
	__u8 truncated;
};

static long argv_step(__u64 i, void *ctx)
{
	struct argv_walk *w = ctx;
	__u64 ptr = 0;
	long n;

	if (bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)(w->uargv + i * 8)) < 0 || !ptr)
		return 1;
	w->argc++;
	if (w->off >= CUSTOS_EV_ARGS_MAX) {
		w->truncated = 1;	/* counted, not kept */
		return 0;
	}
	n = bpf_probe_read_user_str(w->buf + (w->off & (CUSTOS_EV_ARGS_MAX - 1)),
				    CUSTOS_EV_ARGS_MAX, (const void *)ptr);
	if (n <= 0) {
		w->truncated = 1;
		return 1;
	}
	w->off += n;
	return 0;
}

static __always_inline int exec_failed(struct trace_event_raw_sys_exit *ctx, bool at)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
	struct argv_walk w = { .off = 0, .argc = 0, .truncated = 0 };
	struct exec_scratch *x;
	struct custos_ev_exec *e;
	__u32 zero = 0;
	long n;

	if (ctx->ret >= 0 || custos_skip())
		return 0;
	w.buf = bpf_map_lookup_elem(&argv_scratch, &zero);
	x = exec_begin();
	if (!w.buf || !x) {
		count_loss(CUSTOS_EV_EXEC);	/* never: the maps have their one entry */
		return 0;
	}
	e = &x->e;
	fill_hdr(&e->hdr, CUSTOS_EV_EXEC);
	e->result = ctx->ret;
	e->start_ns = BPF_CORE_READ(t, group_leader, start_boottime);
	e->exe_dev = 0;
	e->exe_ino = 0;
	e->exe_mode = 0;
	custos_path_empty(&x->exe, 0);
	custos_path_resolve(&t->fs->pwd, &x->cwd);
	/* execve(filename, argv, envp); execveat(dfd, filename, argv, envp, flags) */
	n = bpf_probe_read_user_str(x->filename, sizeof(x->filename),
				    (const void *)(at ? regs->si : regs->di));
	e->filename_len = n > 0 ? n - 1 : 0;
	w.uargv = at ? regs->dx : regs->si;
	if (w.uargv)
		bpf_loop(ARGV_PTRS_MAX, argv_step, &w, 0);
	if (w.off > CUSTOS_EV_ARGS_MAX) {
		w.off = CUSTOS_EV_ARGS_MAX;	/* the last string was cut */
		w.truncated = 1;
	}
	e->argv_len = w.off;
	e->argc = w.argc;
	e->argv_truncated = w.truncated;
	exec_emit(x, w.buf);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return exec_failed(ctx, false);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	return exec_failed(ctx, true);
}

/* The clone flags of the system call that is creating a task, read from
 * the caller's saved registers; 0 when unknown (kernel threads, tasks
 * created outside clone, 32-bit callers, an unreadable clone_args). */
static __always_inline __u64 clone_flags_of_current(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs;
	__u64 flags = 0;
	long nr;

	if (BPF_CORE_READ(t, flags) & PF_KTHREAD)
		return 0;
	if (bpf_core_field_exists(t->thread_info.status) &&
	    (BPF_CORE_READ(t, thread_info.status) & TS_COMPAT))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	nr = BPF_CORE_READ(regs, orig_ax);
	switch (nr) {
	case NR_CLONE:
		return BPF_CORE_READ(regs, di);
	case NR_FORK:
		return SIGCHLD;
	case NR_VFORK:
		return CLONE_VFORK | CLONE_VM | SIGCHLD;
	case NR_CLONE3:
		/* struct clone_args starts with its __u64 flags. */
		if (bpf_probe_read_user(&flags, sizeof(flags),
					(const void *)BPF_CORE_READ(regs, di)) < 0)
			return 0;
		return flags;
	}
	return 0;
}

/* A new process of an ignored process is ignored too (common.bpf.h). */
static __always_inline void inherit_ignored(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (ctgid != ptgid && bpf_map_lookup_elem(&ignored_tgids, &ptgid))
		bpf_map_update_elem(&ignored_tgids, &ctgid, &one, BPF_ANY);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(custos_fork, struct task_struct *parent, struct task_struct *child)
{
	struct custos_ev_fork *e;

	if (from_agent())
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(CUSTOS_EV_FORK);
		return 0;
	}
	fill_hdr(&e->hdr, CUSTOS_EV_FORK);
	inherit_ignored(parent, child);
	e->child_pid = BPF_CORE_READ(child, tgid);
	e->child_tid = BPF_CORE_READ(child, pid);
	e->clone_flags = clone_flags_of_current();
	e->child_start_ns = BPF_CORE_READ(child, start_boottime);
	custos_submit(e, sizeof(*e));
	return 0;
}

/* One exit record per process. Its status is what wait(2) on the process
 * reports: the group exit code after exit_group or a fatal signal, else
 * the leader's own exit code (kernel/exit.c, wait_task_zombie). */
static __always_inline int emit_exit(struct task_struct *p)
{
	struct custos_ev_exit *e;
	struct signal_struct *sig;

	__u32 tgid = BPF_CORE_READ(p, tgid);

	bpf_map_delete_elem(&ignored_tgids, &tgid);
	if (from_agent())
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(CUSTOS_EV_EXIT);
		return 0;
	}
	fill_hdr(&e->hdr, CUSTOS_EV_EXIT);
	sig = BPF_CORE_READ(p, signal);
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		e->status = BPF_CORE_READ(sig, group_exit_code);
	else
		e->status = BPF_CORE_READ(p, group_leader, exit_code);
	e->pad = 0;
	e->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	custos_submit(e, sizeof(*e));
	return 0;
}

/* Linux 6.16 and later pass group_dead: true for the last task of the
 * process to exit, so the record marks the real end of the process even
 * when its leader ended first. The agent loads this program when the
 * kernel's BTF shows the argument, and custos_exit_leader otherwise. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(custos_exit, struct task_struct *p, bool group_dead)
{
	if (!group_dead)
		return 0;
	return emit_exit(p);
}

/* Older kernels: the exit of the thread-group leader stands for the
 * process (it may come before the other threads end). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(custos_exit_leader, struct task_struct *p)
{
	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0;
	return emit_exit(p);
}
