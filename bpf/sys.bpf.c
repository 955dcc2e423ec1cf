// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Syscall capture for the process kinds that share docs/format.md's
 * syscall body: credential changes (cred, 4), ptrace (5), module loads
 * (6), memfd_create (7), bpf() program loads (8) and clock changes
 * (clock_set, 9). Per-syscall tracepoints, enter/exit paired by thread
 * (common.bpf.h). Calls that are routine noise are dropped at sys_enter:
 * ptrace requests that only read, bpf() commands other than PROG_LOAD,
 * adjtimex modes that neither step nor re-tick the clock.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "common.bpf.h"

#define BPF_PROG_LOAD_CMD 5
#define CLOCK_REALTIME 0
#define ADJ_SETOFFSET 0x0100
#define ADJ_NANO 0x2000
#define ADJ_TICK 0x4000
#define ADJ_OFFSET_SINGLESHOT 0x8001
#define ADJ_OFFSET_SS_READ 0xa001
#define TIMEX_TIME 72		/* offsetof(struct __kernel_timex, time) */

/* What the record's fields come from; -1 where nothing. */
struct sspec {
	int op;		/* argument holding the op, -1: the syscall number */
	int a0, a1, a2;	/* arguments copied to arg0..arg2 */
	int name;	/* argument holding a user string */
};

#pragma clang diagnostic ignored "-Winitializer-overrides"
#define SSPEC(...) ((struct sspec){ .op = -1, .a0 = -1, .a1 = -1, .a2 = -1, .name = -1, \
	__VA_ARGS__ })

static __always_inline __u64 sarg(const struct custos_args *p, int i)
{
	return i >= 0 && i < 6 ? p->args[i & 7] : 0;
}

static __always_inline struct custos_ev_sys *sys_begin(struct trace_event_raw_sys_exit *ctx,
						       __u32 kind, struct custos_args *p)
{
	struct custos_ev_sys *e;

	if (!custos_take(ctx, p))
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(kind);
		return NULL;
	}
	fill_hdr(&e->hdr, kind);
	e->result = ctx->ret;
	e->nr = p->nr;
	e->name_len = 0;
	e->name_truncated = 0;
	e->pad = 0;
	e->op = p->nr;
	e->arg0 = e->arg1 = e->arg2 = 0;
	return e;
}

static __always_inline int sys_exit(struct trace_event_raw_sys_exit *ctx, __u32 kind,
				    struct sspec s)
{
	struct custos_args p;
	struct custos_ev_sys *e = sys_begin(ctx, kind, &p);

	if (!e)
		return 0;
	if (s.op >= 0)
		e->op = sarg(&p, s.op);
	e->arg0 = sarg(&p, s.a0);
	e->arg1 = sarg(&p, s.a1);
	e->arg2 = sarg(&p, s.a2);
	if (s.name >= 0 && sarg(&p, s.name)) {
		long n = bpf_probe_read_user_str(e->name, sizeof(e->name),
						 (const void *)sarg(&p, s.name));

		e->name_truncated = n < 0 || n >= (long)sizeof(e->name);
		e->name_len = n > 0 ? n - 1 : 0;
	}
	custos_submit(e, sizeof(*e));
	return 0;
}

#define SYS_EXIT(sc, nargs, kind, ...)                                                    \
	SEC("tracepoint/syscalls/sys_exit_" #sc)                                   \
	int exit_##sc(struct trace_event_raw_sys_exit *ctx)                        \
	{                                                                          \
		return sys_exit(ctx, kind, SSPEC(__VA_ARGS__));                    \
	}

/* Credentials: op is the syscall number, arg0..2 the ids asked for. */
SYS_EXIT(setuid, 1, CUSTOS_EV_CRED, .a0 = 0)
SYS_EXIT(setgid, 1, CUSTOS_EV_CRED, .a0 = 0)
SYS_EXIT(setreuid, 2, CUSTOS_EV_CRED, .a0 = 0, .a1 = 1)
SYS_EXIT(setregid, 2, CUSTOS_EV_CRED, .a0 = 0, .a1 = 1)
SYS_EXIT(setresuid, 3, CUSTOS_EV_CRED, .a0 = 0, .a1 = 1, .a2 = 2)
SYS_EXIT(setresgid, 3, CUSTOS_EV_CRED, .a0 = 0, .a1 = 1, .a2 = 2)
SYS_EXIT(setfsuid, 1, CUSTOS_EV_CRED, .a0 = 0)
SYS_EXIT(setfsgid, 1, CUSTOS_EV_CRED, .a0 = 0)

/* capset(header, data): the first 32-bit word of the effective,
 * permitted and inheritable sets (struct __user_cap_data_struct). */
SEC("tracepoint/syscalls/sys_exit_capset")
int exit_capset(struct trace_event_raw_sys_exit *ctx)
{
	struct custos_args p;
	struct custos_ev_sys *e = sys_begin(ctx, CUSTOS_EV_CRED, &p);
	__u32 d[3] = { 0, 0, 0 };

	if (!e)
		return 0;
	if (p.args[1])
		bpf_probe_read_user(d, sizeof(d), (const void *)p.args[1]);
	e->arg0 = d[0];
	e->arg1 = d[1];
	e->arg2 = d[2];
	custos_submit(e, sizeof(*e));
	return 0;
}

/* ptrace: requests that attach or write; reads are debugger routine. */
static __always_inline bool ptrace_kept(__u64 request)
{
	switch (request) {
	case 0:		/* PTRACE_TRACEME */
	case 4: case 5: case 6:		/* POKETEXT, POKEDATA, POKEUSER */
	case 13: case 15:		/* SETREGS, SETFPREGS */
	case 16:	/* PTRACE_ATTACH */
	case 0x4205:	/* PTRACE_SETREGSET */
	case 0x4206:	/* PTRACE_SEIZE */
		return true;
	}
	return false;
}

/* The current task's saved user registers: the call's arguments. */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tracepoint/syscalls/sys_exit_ptrace")
int exit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	if (!ptrace_kept(user_regs()->di))
		return 0;
	return sys_exit(ctx, CUSTOS_EV_PTRACE, SSPEC(.op = 0, .a0 = 1, .a1 = 2));
}

/* Modules: the kernel has these tracepoints only with CONFIG_MODULES;
 * the agent leaves them out otherwise. name is the parameter string. */
SYS_EXIT(init_module, 3, CUSTOS_EV_MODULE, .a1 = 1, .name = 2)
SYS_EXIT(finit_module, 3, CUSTOS_EV_MODULE, .a0 = 2, .a1 = 0, .name = 1)

/* op is 0 for memfd (format.md): OP_ZERO names no argument. */
#define OP_ZERO 6
SYS_EXIT(memfd_create, 2, CUSTOS_EV_MEMFD, .op = OP_ZERO, .a0 = 1, .name = 0)

/* bpf(BPF_PROG_LOAD, attr, size): prog_type, insn_cnt and prog_name are
 * at offsets 0, 4 and 48 of union bpf_attr. */
SEC("tracepoint/syscalls/sys_exit_bpf")
int exit_bpf(struct trace_event_raw_sys_exit *ctx)
{
	struct custos_args p;
	struct custos_ev_sys *e;
	__u32 head[2] = { 0, 0 };
	long n;

	if (user_regs()->di != BPF_PROG_LOAD_CMD)
		return 0;
	e = sys_begin(ctx, CUSTOS_EV_BPF, &p);
	if (!e)
		return 0;
	e->op = p.args[0];
	bpf_probe_read_user(head, sizeof(head), (const void *)p.args[1]);
	e->arg0 = head[0];
	e->arg1 = head[1];
	n = bpf_probe_read_user_str(e->name, 16, (const void *)(p.args[1] + 48));
	e->name_len = n > 0 ? n - 1 : 0;
	custos_submit(e, sizeof(*e));
	return 0;
}

/* Clock changes. arg0 clock id, arg1 adjtimex modes, arg2 the requested
 * CLOCK_REALTIME time in ns (settime, settimeofday) or the step asked
 * for by ADJ_SETOFFSET (two's complement ns). */
static __always_inline __u64 timespec_ns(__u64 uptr, bool usec)
{
	__s64 ts[2] = { 0, 0 };

	if (!uptr || bpf_probe_read_user(ts, sizeof(ts), (const void *)uptr) < 0)
		return 0;
	return (__u64)(ts[0] * 1000000000ll + ts[1] * (usec ? 1000 : 1));
}

SEC("tracepoint/syscalls/sys_exit_clock_settime")
int exit_clock_settime(struct trace_event_raw_sys_exit *ctx)
{
	struct custos_args p;
	struct custos_ev_sys *e = sys_begin(ctx, CUSTOS_EV_CLOCK_SET, &p);

	if (!e)
		return 0;
	e->arg0 = p.args[0];
	e->arg2 = timespec_ns(p.args[1], false);
	custos_submit(e, sizeof(*e));
	return 0;
}

/* settimeofday(NULL, tz) sets only the time zone: not a clock change. */
SEC("tracepoint/syscalls/sys_exit_settimeofday")
int exit_settimeofday(struct trace_event_raw_sys_exit *ctx)
{
	struct custos_args p;
	struct custos_ev_sys *e;

	if (!user_regs()->di)
		return 0;
	e = sys_begin(ctx, CUSTOS_EV_CLOCK_SET, &p);
	if (!e)
		return 0;
	e->arg0 = CLOCK_REALTIME;
	e->arg2 = timespec_ns(p.args[0], true);
	custos_submit(e, sizeof(*e));
	return 0;
}

static __always_inline bool timex_sets(__u64 utimex)
{
	__u32 modes = 0;

	bpf_probe_read_user(&modes, sizeof(modes), (const void *)utimex);
	if (modes & (ADJ_SETOFFSET | ADJ_TICK))
		return true;
	return (modes & ADJ_OFFSET_SINGLESHOT) == ADJ_OFFSET_SINGLESHOT &&
	       modes != ADJ_OFFSET_SS_READ;
}

/* clock_arg: the argument holding the clock id, -1 for CLOCK_REALTIME;
 * timex_arg: the one pointing at the struct __kernel_timex. */
static __always_inline int timex_exit(struct trace_event_raw_sys_exit *ctx, int clock_arg,
				      int timex_arg)
{
	struct custos_args p;
	struct pt_regs *regs = user_regs();
	struct custos_ev_sys *e;
	__u64 utimex = timex_arg == 0 ? regs->di : regs->si;
	__u32 modes = 0;

	if (!timex_sets(utimex))
		return 0;
	e = sys_begin(ctx, CUSTOS_EV_CLOCK_SET, &p);
	if (!e)
		return 0;
	bpf_probe_read_user(&modes, sizeof(modes), (const void *)utimex);
	e->arg0 = clock_arg >= 0 ? sarg(&p, clock_arg) : CLOCK_REALTIME;
	e->arg1 = modes;
	if (modes & ADJ_SETOFFSET)
		e->arg2 = timespec_ns(utimex + TIMEX_TIME, !(modes & ADJ_NANO));
	custos_submit(e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_adjtimex")
int exit_adjtimex(struct trace_event_raw_sys_exit *ctx)
{
	return timex_exit(ctx, -1, 0);
}

SEC("tracepoint/syscalls/sys_exit_clock_adjtime")
int exit_clock_adjtime(struct trace_event_raw_sys_exit *ctx)
{
	return timex_exit(ctx, 0, 1);
}
