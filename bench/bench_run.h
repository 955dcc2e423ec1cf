/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The conditions of the capture benchmark (bench_capture.c): what runs
 * while the workloads are timed, how it is started and stopped, and the
 * audit state every condition is measured in.
 */
#ifndef CUSTOS_BENCH_RUN_H
#define CUSTOS_BENCH_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_ROUNDS_MAX 64
#define BENCH_COND_MAX 8
#define BENCH_WORKLOADS 3

struct bench_opts {
	int rounds;
	uint64_t ops[BENCH_WORKLOADS];
	bool want[BENCH_WORKLOADS];
	const char *agent;	/* custos-agent to measure */
	const char *before;	/* another build to compare, or NULL */
	const char *before_sensitive;	/* another build, with --sensitive /, or NULL */
	bool auditd;		/* measure the auditd condition */
	bool audit_state;	/* auditctl is usable: the never,task rule is ours */
};

enum bench_kind { BENCH_NONE, BENCH_FLOOR, BENCH_FLOOR_OPEN, BENCH_AGENT, BENCH_AUDITD };

struct bench_cond {
	const char *name;
	enum bench_kind kind;
	const char *agent;	/* BENCH_AGENT: the binary */
	const char *extra;	/* BENCH_AGENT: one more option, or NULL */
	const char *extra_arg;
	bool ran;
	double ns[BENCH_WORKLOADS][BENCH_ROUNDS_MAX];
	char note[256];		/* the agent's summary, auditd's log bytes */
	/* while running */
	pid_t pid;
	int err_fd;
	struct bench_floor *floor;
	long long log_start;
};

#define BENCH_CPU_WORKLOAD 0
#define BENCH_CPU_CONSUMER 1

/* Pin the calling process to cpu when the machine has more than one
 * (the workload on one, the agent or auditd on the other). */
void bench_pin(int cpu);

/* Fill conds with the conditions o asks for, "none" first. Returns their
 * number. */
int bench_conditions(struct bench_opts *o, struct bench_cond conds[BENCH_COND_MAX]);

/* Put audit in the state every condition but auditd is measured in
 * (rule `-a never,task`, audit disabled), or leave the auditd condition
 * out with the reason printed when that cannot be done. Returns 0 or -1. */
int bench_audit_prepare(struct bench_opts *o);

/* Load the never,task rule again and disable audit if ours to touch. */
void bench_audit_finish(const struct bench_opts *o);

/* Start or stop a condition. Return 0 or -1 with a message on stderr. */
int bench_cond_start(const struct bench_opts *o, struct bench_cond *c);
int bench_cond_stop(const struct bench_opts *o, struct bench_cond *c);

#endif
