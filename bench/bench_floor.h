/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capture benchmark's floor: an empty eBPF program (return 0) on every
 * hook the Custos capture attaches, so that the cost of the hooks alone
 * can be told from the cost of what the programs do.
 */
#ifndef CUSTOS_BENCH_FLOOR_H
#define CUSTOS_BENCH_FLOOR_H

struct bench_floor;

/* Which of the capture's hooks get an empty program. */
enum bench_floor_hooks {
	BENCH_FLOOR_ALL,	/* every one */
	BENCH_FLOOR_OPENS,	/* the open family's exits alone (open, creat, openat,
				   openat2): the cost any capture of opens pays with
				   syscall tracepoints, whatever its programs do */
};

/* Attach one empty program per distinct hook of the Custos objects whose
 * tracepoint this kernel has (the section names are read from the agent's
 * own skeletons, so the two lists cannot drift apart), of those which
 * selects. OUT: *out, and *hooks, the number of hooks attached. Returns 0
 * or a negative errno; messages go to stderr. */
int bench_floor_attach(struct bench_floor **out, int *hooks, enum bench_floor_hooks which);

/* Detach and free; accepts NULL. */
void bench_floor_detach(struct bench_floor *f);

#endif
