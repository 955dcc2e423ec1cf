/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capture benchmark's floor (bench_floor.h): reads the hook list from
 * the agent's skeletons (tp_btf/... and tracepoint/syscalls/... sections),
 * loads one two-instruction program (r0 = 0; exit) per distinct hook (or
 * per hook of the open family alone) and
 * attaches it the way libbpf attaches the real ones: tp_btf through a raw
 * tracepoint link on the program's BTF target, syscall tracepoints through
 * a perf event with PERF_EVENT_IOC_SET_BPF.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bench_floor.h"
#include "process.skel.h"
#include "file.skel.h"
#include "net.skel.h"
#include "sys.skel.h"

#define FLOOR_MAX 256
#define TRACEFS "/sys/kernel/tracing"
#define TP_SYSCALLS "tracepoint/syscalls/"
#define TP_BTF "tp_btf/"

struct bench_floor {
	char *sections[FLOOR_MAX];
	int n_sections;
	int fds[2 * FLOOR_MAX];	/* programs and their links or perf events */
	int n_fds;
};

static const struct bpf_insn empty_prog[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int add_section(struct bench_floor *f, const char *sec)
{
	for (int i = 0; i < f->n_sections; i++)
		if (strcmp(f->sections[i], sec) == 0)
			return 0;
	if (f->n_sections == FLOOR_MAX)
		return -E2BIG;
	f->sections[f->n_sections] = strdup(sec);
	if (!f->sections[f->n_sections])
		return -ENOMEM;
	f->n_sections++;
	return 0;
}

static int add_object(struct bench_floor *f, struct bpf_object *obj)
{
	struct bpf_program *prog;
	int ret = 0;

	bpf_object__for_each_program(prog, obj) {
		ret = add_section(f, bpf_program__section_name(prog));
		if (ret)
			break;
	}
	return ret;
}

/* The section names of the four capture objects, opened but not loaded. */
static int collect_sections(struct bench_floor *f)
{
	struct custos_process *p = custos_process__open();
	struct custos_file *fi = custos_file__open();
	struct custos_net *n = custos_net__open();
	struct custos_sys *s = custos_sys__open();
	int ret = -ENOMEM;

	if (p && fi && n && s) {
		ret = add_object(f, p->obj);
		if (!ret)
			ret = add_object(f, fi->obj);
		if (!ret)
			ret = add_object(f, n->obj);
		if (!ret)
			ret = add_object(f, s->obj);
	}
	custos_process__destroy(p);
	custos_file__destroy(fi);
	custos_net__destroy(n);
	custos_sys__destroy(s);
	return ret;
}

static int attach_tp_btf(struct bench_floor *f, const struct btf *vmlinux, const char *event)
{
	char name[128];
	int id, prog;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP);

	snprintf(name, sizeof(name), "btf_trace_%s", event);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id < 0) {
		fprintf(stderr, "bench_floor: %s: not in the kernel's BTF\n", name);
		return id;
	}
	opts.attach_btf_id = (__u32)id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "floor", "GPL", empty_prog, 2, &opts);
	if (prog < 0)
		return prog;
	f->fds[f->n_fds++] = prog;
	id = bpf_raw_tracepoint_open(NULL, prog);
	if (id < 0)
		return id;
	f->fds[f->n_fds++] = id;
	return 1;
}

/* Returns 1 attached, 0 when this kernel lacks the tracepoint (the agent
 * leaves it out too), or a negative errno. */
static int attach_syscall_tp(struct bench_floor *f, const char *event)
{
	char path[256], buf[32];
	struct perf_event_attr attr;
	int fd, prog, pfd;
	ssize_t n;

	snprintf(path, sizeof(path), TRACEFS "/events/syscalls/%s/id", event);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "floor", "GPL", empty_prog, 2, NULL);
	if (prog < 0)
		return prog;
	f->fds[f->n_fds++] = prog;
	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.size = sizeof(attr);
	attr.config = strtoull(buf, NULL, 10);
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	f->fds[f->n_fds++] = pfd;
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) < 0 || ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0)
		return -errno;
	return 1;
}

/* Is sec one of the open family's exits? */
static bool is_open_hook(const char *sec)
{
	static const char *const opens[] = { "open", "creat", "openat", "openat2" };
	const char *p = TP_SYSCALLS "sys_exit_";

	if (strncmp(sec, p, strlen(p)) != 0)
		return false;
	for (size_t i = 0; i < sizeof(opens) / sizeof(opens[0]); i++)
		if (strcmp(sec + strlen(p), opens[i]) == 0)
			return true;
	return false;
}

int bench_floor_attach(struct bench_floor **out, int *hooks, enum bench_floor_hooks which)
{
	struct bench_floor *f = calloc(1, sizeof(*f));
	struct btf *vmlinux = NULL;
	int ret = -ENOMEM;

	*out = NULL;
	*hooks = 0;
	if (!f)
		goto out;
	if (access(TRACEFS "/events/syscalls", F_OK) != 0)
		mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	ret = collect_sections(f);
	vmlinux = btf__load_vmlinux_btf();
	if (!ret && !vmlinux)
		ret = -errno;
	for (int i = 0; !ret && i < f->n_sections; i++) {
		const char *sec = f->sections[i];
		int r = 0;

		if (which == BENCH_FLOOR_OPENS && !is_open_hook(sec))
			continue;
		if (strncmp(sec, TP_BTF, strlen(TP_BTF)) == 0)
			r = attach_tp_btf(f, vmlinux, sec + strlen(TP_BTF));
		else if (strncmp(sec, TP_SYSCALLS, strlen(TP_SYSCALLS)) == 0)
			r = attach_syscall_tp(f, sec + strlen(TP_SYSCALLS));
		else
			r = -EINVAL;
		if (r < 0) {
			fprintf(stderr, "bench_floor: attaching an empty program to %s: %s\n", sec,
				strerror(-r));
			ret = r;
		}
		*hooks += r > 0;
	}
out:
	btf__free(vmlinux);
	if (ret) {
		bench_floor_detach(f);
		return ret;
	}
	*out = f;
	return 0;
}

void bench_floor_detach(struct bench_floor *f)
{
	if (!f)
		return;
	for (int i = f->n_fds - 1; i >= 0; i--)
		close(f->fds[i]);
	for (int i = 0; i < f->n_sections; i++)
		free(f->sections[i]);
	free(f);
}
