/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading, attaching and reading the eBPF capture (capture.h). Only
 * tp_btf programs are used, so nothing here needs tracefs. libbpf 1.x
 * raises RLIMIT_MEMLOCK itself on kernels that still charge BPF memory to
 * it (before 5.11) and leaves it alone on those that use memory cgroups.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "process.skel.h"

struct capture {
	struct custos_process *process;
	struct ring_buffer *rb;
	const char *programs;
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
	const struct capture *c = ctx;

	return c->opts.on_event(c->opts.ctx, data, size);
}

int capture_open(const struct capture_opts *opts, struct capture **out)
{
	struct capture *c;
	bool group_dead = exit_has_group_dead();
	int ret = -ENOMEM;

	*out = NULL;
	libbpf_set_print(libbpf_log);
	c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "custos-agent: capture: out of memory\n");
		return ret;
	}
	c->opts = *opts;
	c->process = custos_process__open();
	if (!c->process) {
		ret = -errno;
		fprintf(stderr, "custos-agent: opening the process programs: %s\n", strerror(-ret));
		goto out;
	}
	c->process->rodata->agent_tgid = (uint32_t)getpid();
	ret = bpf_map__set_max_entries(c->process->maps.events, opts->ringbuf_bytes);
	if (ret) {
		fprintf(stderr, "custos-agent: ring buffer of %u bytes: %s\n",
			opts->ringbuf_bytes, strerror(-ret));
		goto out;
	}
	bpf_program__set_autoload(c->process->progs.custos_exit, group_dead);
	bpf_program__set_autoload(c->process->progs.custos_exit_leader, !group_dead);
	c->programs = group_dead ? "exec fork exit(group_dead)" : "exec fork exit(leader)";

	ret = custos_process__load(c->process);
	if (ret) {
		fprintf(stderr, "custos-agent: loading the process programs into the kernel: %s%s\n",
			strerror(-ret), ret == -EPERM ? " (needs root: CAP_BPF and CAP_PERFMON)" : "");
		goto out;
	}
	ret = custos_process__attach(c->process);
	if (ret) {
		fprintf(stderr, "custos-agent: attaching the process programs: %s\n",
			strerror(-ret));
		goto out;
	}
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

int capture_poll(struct capture *c, int timeout_ms)
{
	return ring_buffer__poll(c->rb, timeout_ms);
}

int capture_drain(struct capture *c)
{
	return ring_buffer__consume(c->rb);
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
	custos_process__destroy(c->process);
	free(c);
}
