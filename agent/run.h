/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state of `custos-agent run`, shared by run.c (the loop) and
 * runsetup.c (set-up, reload, teardown).
 */
#ifndef CUSTOS_AGENT_RUN_H
#define CUSTOS_AGENT_RUN_H

#include <stdint.h>

#include "batcher.h"
#include "clock.h"
#include "config.h"
#include "decode.h"
#include "events.h"
#include "exehash.h"
#include "forward.h"
#include "hashq.h"
#include "keys.h"
#include "outfile.h"
#include "proctab.h"
#include "spool.h"

struct capture;

struct run_args {
	const char *config;
	int config_given;
	const char *output;		/* offline mode when set */
	uint64_t duration;
	uint64_t ringbuf_kb;
};

struct run_state {
	struct agent_config cfg;
	const char *config_path;
	struct custos_keypair host;
	struct custos_pubkey coll;
	uint8_t boot_id[CUSTOS_BOOT_ID_LEN];
	struct spool *sp;
	struct batcher b;
	int batcher_ready;
	struct forward *fw;
	struct outfile *of;
	struct capture *cap;
	struct exehash *eh;
	struct hashq *hq;		/* exec records waiting for their hash */
	struct proctab *pt;		/* live processes */
	struct clock_sample last_clock;
	uint64_t lost_prev[CUSTOS_EV_KIND_MAX];
	uint64_t kernel_lost;
	uint64_t loss_checked_ns;
	uint64_t events, refused, filtered;
	uint64_t next_heartbeat_ns, next_second_ns;
	unsigned io_reported, out_reported;
	struct custos_record rec;	/* decoded event */
	struct custos_record arec;	/* the agent's own records */
};

/* Load the configuration and keys, open the spool, the batcher and the
 * forwarder or offline file. Messages on stderr. Returns 0 or an error. */
int run_setup(struct run_state *rs, const struct run_args *a);

/* SIGHUP: read the configuration again; on success apply what can change
 * while running (batch policy, heartbeat, noise filters, clock step
 * threshold) and record it (config record); on failure keep the old one
 * and say why. Returns 0, or an error that must stop the agent. */
int run_reload(struct run_state *rs);

/* The capture options the configuration c gives (pointers into c). */
struct capture_opts;
void run_capture_opts(const struct agent_config *c, struct capture_opts *o);

/* Records of a noisy process (a comm in noise_comms) are dropped. */
int run_is_noise(const struct agent_config *c, const struct custos_record *r);

/* Deliver for up to grace_ms (online), close everything. */
void run_teardown(struct run_state *rs, unsigned grace_ms);

#endif
