/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_serve's shared state: the options, the simulated agents and their
 * batches, and the serve process; bench_serve.c prepares and reports,
 * bench_serve_load.c is the load generator (N agents on one epoll loop)
 * and reads serve's counters in /proc.
 */
#ifndef CUSTOS_BENCH_SERVE_H
#define CUSTOS_BENCH_SERVE_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "frame.h"
#include "keys.h"

#define BS_STALL_S 60		/* no progress for this long: missing acks, or serve stuck */
#define BS_RBUF (4 * (FRAME_HEADER_LEN + FRAME_NACK_MAX))

struct bs_opts {
	const char *collector, *dir;
	uint64_t agents, batches, records, window, port;
	int enroll_each, keep, interleave;
};

/* One simulated agent: its key, connection and progress. */
struct bs_agent {
	struct custos_keypair key;
	uint8_t prev[CUSTOS_HASH_LEN];	/* chain while building */
	int fd;
	uint32_t sent, acked;		/* batches sent, acks verified */
	size_t off;			/* bytes of frame `sent` already sent */
	int want_out;			/* EPOLLOUT registered */
	size_t rlen;
	uint8_t rbuf[BS_RBUF];
};

struct bs_state {
	struct bs_opts o;
	struct bs_agent *ag;
	struct buf *frames;		/* [a * M + j]: BATCH frame, sealed to serve */
	struct buf *imp, *inproc;	/* [a * M + j]: envelope, sealed to each baseline */
	uint32_t *order;		/* [leaf]: a * M + j, from the acks (serve's order) */
	uint8_t (*hash)[CUSTOS_HASH_LEN];	/* [a * M + j]: batch hash */
	uint8_t *leaf_seen;		/* one byte per custody leaf */
	struct custos_pubkey coll_tcp, coll_imp, coll_inp;
	char work[4096], log[4200];
	pid_t serve;
};

extern struct bs_state bs;

/* Print "bench_serve: FAILED: <what>", stop serve (showing the end of its
 * log) and exit 1, keeping the work directory. */
void bs_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* CLOCK_MONOTONIC seconds. */
double bs_now(void);

/* bs_fail when serve has exited; when says what was going on. */
void bs_serve_alive(const char *when);

/* serve's user + system CPU seconds so far (/proc/PID/stat). */
double bs_serve_cpu(void);

/* Seconds pid was runnable but waiting for a CPU (/proc/PID/schedstat;
 * 0 when the kernel does not say). */
double bs_runq_wait(pid_t pid);

/* The connections serve holds: its sockets in /proc/PID/fd, less the
 * listener. */
uint64_t bs_serve_conns(void);

/* What the timed window measured. */
struct bs_run {
	double wall, cpu, runq, self_cpu, self_runq;
	uint64_t acks, conns_start, conns_max;
};

/* Connect every agent to 127.0.0.1:port, registered in epoll ep, and wait
 * until serve holds all the connections (bs_fail otherwise). */
void bs_connect_all(int ep, unsigned port);

/* The timed window: every agent sends its batches, a window at a time,
 * until every ack is in and verified. OUT: *t. Fails (bs_fail) on a NACK,
 * a closed connection, a bad ack, no ack for BS_STALL_S or a dead serve. */
void bs_run_load(int ep, struct bs_run *t);

/* Run the collector binary (--collector) with args on CPU 0, stdout to
 * out (or /dev/null), stderr to err (or inherited). Returns its wait
 * status; OUT: cpu[0] its user + system seconds, cpu[1] its wait for the
 * CPU, when cpu is not NULL. bs_fail if it cannot be run. */
int bs_run_coll(char *const args[], const char *out, const char *err, double cpu[2]);

/* bench_serve_base.c: `import --dir dir file`, which must import every
 * batch and refuse none (bs_fail otherwise). OUT: b->wall, cpu, runq. */
void bs_import(const char *dir, const char *file, struct bs_run *b);

/* bench_serve_base.c: ingest envs[0..n) into dir in a child process
 * pinned to CPU 0, without sockets (see there). OUT: b->wall, cpu, runq.
 * bs_fail when a batch is refused or the child fails. */
void bs_inproc(const char *dir, const struct buf *envs, uint64_t n, struct bs_run *b);

#endif
