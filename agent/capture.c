/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading, attaching and reading the eBPF capture (capture.h). Process
 * events come from tp_btf programs; file, network and syscall events from
 * per-syscall tracepoints, which need tracefs: it is mounted at
 * /sys/kernel/tracing when absent. A call whose tracepoint this kernel
 * lacks (init_module without CONFIG_MODULES, fchmodat2 before 6.6) is left
 * out and named in capture_programs(). The families are separate objects;
 * the process object's ring buffer, loss counters and filter maps are
 * given to the others before they load, so there is one of each.
 * libbpf 1.x raises RLIMIT_MEMLOCK itself where the kernel still needs it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "capture_filter.h"
#include "process.skel.h"
#include "file.skel.h"
#include "net.skel.h"
#include "sys.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define SYSCALL_SECTION "tracepoint/syscalls/"

struct capture {
	struct custos_process *process;
	struct custos_file *file;
	struct custos_net *net;
	struct custos_sys *sys;
	struct ring_buffer *rb;
	struct capture_filter *filter;
	char programs[1024];
	struct capture_opts opts;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	fputs("custos-agent: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* Linux 6.16 added `bool group_dead` to sched_process_exit. The kernel's
 * BTF says whether its tracepoint has it: btf_trace_sched_process_exit is
 * a typedef of a pointer to (void *ctx, struct task_struct *p[, bool]). */
static bool exit_has_group_dead(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t = NULL;
	bool yes = false;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	if (id > 0)
		t = btf__type_by_id(btf, id);
	if (t)
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_func_proto(t) && btf_vlen(t) >= 3)
		yes = true;
	btf__free(btf);
	return yes;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;

	if (capture_filter_drop(c->filter, data, size))
		return 0;
	return c->opts.on_event(c->opts.ctx, data, size);
}

/* Syscall tracepoints live in tracefs; mount it where libbpf looks when
 * neither it nor debugfs's copy is there. Returns 0 or a negative errno. */
static int ensure_tracefs(void)
{
	if (access(TRACEFS "/events/syscalls", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		int err = errno;

		fprintf(stderr, "custos-agent: mounting tracefs on " TRACEFS ": %s\n",
			strerror(err));
		return -err;
	}
	if (access(TRACEFS "/events/syscalls", F_OK) != 0) {
		fprintf(stderr, "custos-agent: " TRACEFS "/events/syscalls: no syscall "
			"tracepoints in this kernel (CONFIG_FTRACE_SYSCALLS)\n");
		return -ENOENT;
	}
	return 0;
}

static bool tracepoint_exists(const char *section)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/syscalls/%s",
		 section + strlen(SYSCALL_SECTION));
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/syscalls/%s",
		 section + strlen(SYSCALL_SECTION));
	return access(path, F_OK) == 0;
}

/* Append to the programs line, cutting at its end. */
static void describe(struct capture *c, const char *fmt, ...)
{
	size_t used = strlen(c->programs);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->programs + used, sizeof(c->programs) - used, fmt, ap);
	va_end(ap);
}

/* Before load: give obj the process object's shared maps and agent pid,
 * and leave out the syscalls whose tracepoints are absent. */
static int prepare_family(struct capture *c, struct bpf_object *obj, const char *family)
{
	static const char *const shared[] = { "events", "losses", "ignored_tgids",
					      "ignored_cgroups", "filter_on" };
	struct bpf_program *prog;
	int syscalls = 0, absent = 0;

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *mine = bpf_object__find_map_by_name(obj, shared[i]);
		struct bpf_map *theirs = bpf_object__find_map_by_name(c->process->obj, shared[i]);
		int ret = mine && theirs ? bpf_map__reuse_fd(mine, bpf_map__fd(theirs)) : -ENOENT;

		if (ret) {
			fprintf(stderr, "custos-agent: sharing map %s with the %s programs: %s\n",
				shared[i], family, strerror(-ret));
			return ret;
		}
	}
	describe(c, " %s(", family);
	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);

		if (strncmp(sec, SYSCALL_SECTION, strlen(SYSCALL_SECTION)) != 0)
			continue;
		if (!tracepoint_exists(sec)) {
			bpf_program__set_autoload(prog, false);
			if (strstr(sec, "sys_exit_"))
				describe(c, "%s%s", absent++ ? "," : "absent:",
					 strstr(sec, "sys_exit_") + strlen("sys_exit_"));
			continue;
		}
		syscalls += strstr(sec, "sys_exit_") != NULL;
	}
	describe(c, "%s%d syscalls)", absent ? " " : "", syscalls);
	return 0;
}

static int load_process(struct capture *c)
{
	bool group_dead = exit_has_group_dead();
	int ret;

	c->process = custos_process__open();
	if (!c->process) {
		ret = -errno;
		fprintf(stderr, "custos-agent: opening the process programs: %s\n", strerror(-ret));
		return ret;
	}
	c->process->rodata->agent_tgid = (uint32_t)getpid();
	c->process->rodata->ring_mark = c->opts.ringbuf_bytes / 8;
	ret = bpf_map__set_max_entries(c->process->maps.events, c->opts.ringbuf_bytes);
	if (ret) {
		fprintf(stderr, "custos-agent: ring buffer of %u bytes: %s\n",
			c->opts.ringbuf_bytes, strerror(-ret));
		return ret;
	}
	bpf_program__set_autoload(c->process->progs.custos_exit, group_dead);
	bpf_program__set_autoload(c->process->progs.custos_exit_leader, !group_dead);
	describe(c, group_dead ? "exec fork exit(group_dead)" : "exec fork exit(leader)");
	ret = custos_process__load(c->process);
	if (ret)
		fprintf(stderr, "custos-agent: loading the process programs into the kernel: %s%s\n",
			strerror(-ret), ret == -EPERM ? " (needs root: CAP_BPF and CAP_PERFMON)" : "");
	return ret;
}

/* Open, prepare and load one syscall family; its skeleton's open and load
 * functions are passed in, so the steps and messages are shared. setup is
 * a statement that sets the family's own load-time constants. */
#define LOAD_FAMILY(c, member, name, family, setup)                                \
	({                                                                         \
		int ret_ = 0;                                                      \
		(c)->member = custos_##name##__open();                             \
		if (!(c)->member) {                                                \
			ret_ = -errno;                                             \
			fprintf(stderr, "custos-agent: opening the %s programs: %s\n", \
				family, strerror(-ret_));                          \
		}                                                                  \
		if (!ret_) {                                                       \
			(c)->member->rodata->agent_tgid = (uint32_t)getpid();      \
			(c)->member->rodata->ring_mark = (c)->opts.ringbuf_bytes / 8; \
			setup;                                                     \
			ret_ = prepare_family((c), (c)->member->obj, family);      \
		}                                                                  \
		if (!ret_) {                                                       \
			ret_ = custos_##name##__load((c)->member);                 \
			if (ret_)                                                  \
				fprintf(stderr, "custos-agent: loading the %s programs " \
					"into the kernel: %s\n", family, strerror(-ret_)); \
		}                                                                  \
		ret_;                                                              \
	})

static int attach_all(struct capture *c)
{
	int ret = custos_process__attach(c->process);

	if (!ret)
		ret = custos_file__attach(c->file);
	if (!ret)
		ret = custos_net__attach(c->net);
	if (!ret)
		ret = custos_sys__attach(c->sys);
	if (ret)
		fprintf(stderr, "custos-agent: attaching the programs: %s\n", strerror(-ret));
	return ret;
}

int capture_open(const struct capture_opts *opts, struct capture **out)
{
	struct capture *c;
	int ret = -ENOMEM;

	*out = NULL;
	libbpf_set_print(libbpf_log);
	c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "custos-agent: capture: out of memory\n");
		return ret;
	}
	c->opts = *opts;
	ret = ensure_tracefs();
	if (!ret)
		ret = load_process(c);
	if (!ret)
		ret = LOAD_FAMILY(c, file, file, "file",
				  c->file->rodata->all_opens = c->opts.all_opens ? 1 : 0);
	if (!ret && c->opts.all_opens)
		describe(c, " all-opens");
	if (!ret)
		ret = LOAD_FAMILY(c, net, net, "net", (void)0);
	if (!ret)
		ret = LOAD_FAMILY(c, sys, sys, "sys", (void)0);
	if (!ret)
		ret = capture_filter_open(opts, bpf_map__fd(c->process->maps.ignored_tgids),
					  bpf_map__fd(c->process->maps.ignored_cgroups),
					  bpf_map__fd(c->file->maps.sensitive),
					  bpf_map__fd(c->file->maps.sensitive_filter),
					  bpf_map__fd(c->process->maps.filter_on), &c->filter);
	if (!ret)
		ret = attach_all(c);
	if (ret)
		goto out;
	c->rb = ring_buffer__new(bpf_map__fd(c->process->maps.events), on_sample, c, NULL);
	if (!c->rb) {
		ret = -errno;
		fprintf(stderr, "custos-agent: mapping the ring buffer: %s\n", strerror(-ret));
		goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	capture_close(c);
	return ret;
}

const char *capture_programs(const struct capture *c)
{
	return c->programs;
}

struct capture_filter *capture_filter(struct capture *c)
{
	return c ? c->filter : NULL;
}

/* Records below the ring's wake-up mark (common.bpf.h custos_wake_flags)
 * wake nobody, and ring_buffer__poll reads only the rings epoll reported:
 * so the rings are read after every wait, woken or timed out. */
int capture_poll(struct capture *c, int timeout_ms)
{
	int woken = ring_buffer__poll(c->rb, timeout_ms);
	int rest;

	if (woken < 0)
		return woken;
	rest = ring_buffer__consume(c->rb);
	return rest < 0 ? rest : woken + rest;
}

int capture_drain(struct capture *c)
{
	return ring_buffer__consume(c->rb);
}

int capture_stop(struct capture *c)
{
	int got = 0, ret;

	custos_file__detach(c->file);
	if ((ret = capture_drain(c)) < 0)
		return ret;
	got += ret;
	custos_net__detach(c->net);
	custos_sys__detach(c->sys);
	if ((ret = capture_drain(c)) < 0)
		return ret;
	got += ret;
	custos_process__detach(c->process);
	if ((ret = capture_drain(c)) < 0)
		return ret;
	return got + ret;
}

int capture_losses(const struct capture *c, uint64_t lost[CUSTOS_EV_KIND_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *percpu;
	int ret = 0;

	memset(lost, 0, CUSTOS_EV_KIND_MAX * sizeof(lost[0]));
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (uint32_t kind = 0; kind < CUSTOS_EV_KIND_MAX; kind++) {
		ret = bpf_map__lookup_elem(c->process->maps.losses, &kind, sizeof(kind), percpu,
					   (size_t)ncpu * sizeof(*percpu), 0);
		if (ret)
			break;
		for (int cpu = 0; cpu < ncpu; cpu++)
			lost[kind] += percpu[cpu];
	}
	free(percpu);
	return ret;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	custos_sys__destroy(c->sys);
	custos_net__destroy(c->net);
	custos_file__destroy(c->file);
	custos_process__destroy(c->process);
	capture_filter_close(c->filter);
	free(c);
}
