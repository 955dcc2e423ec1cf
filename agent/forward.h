/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward: deliver spooled batches to the collector over TCP, in sequence
 * order, several in flight, and delete each only after the collector's
 * signed acknowledgement verifies with the collector's key AND names this
 * host, the batch's sequence number and its batch hash (docs/format.md 6).
 * The acknowledgements are kept in the spool as receipts. A forged or
 * mismatched acknowledgement closes the connection; the batch stays
 * spooled and is sent again. Runs in its own thread; reconnects with
 * exponential back-off and jitter.
 *
 * A NACK frame (docs/protocol.md 4) says why the collector refused a
 * batch: the forwarder logs it, telling a permanent refusal (the same
 * batch will be refused again: UNKNOWN_HOST, BAD_SIGNATURE,
 * NOT_SEALED_TO_US, REPLAY, a malformed batch) from a transient one, keeps
 * it in the spool's refusal note for `custos-agent status`, and keeps the
 * batch (unacknowledged evidence is never deleted) and backing off.
 */
#ifndef CUSTOS_AGENT_FORWARD_H
#define CUSTOS_AGENT_FORWARD_H

#include <stdint.h>

#include "keys.h"
#include "spool.h"

struct forward_opts {
	char host[256];			/* numeric address or name */
	uint16_t port;
	uint8_t collector_sign_pk[KEYS_SIGN_PK_LEN];
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	unsigned max_inflight;		/* 1 to FORWARD_INFLIGHT_MAX */
	unsigned backoff_min_ms, backoff_max_ms;
	unsigned ack_timeout_ms;	/* no ack for this long: reconnect */
	struct spool *spool;
};

#define FORWARD_INFLIGHT_MAX 64

struct forward_stats {
	uint64_t sent, acked, refused_acks, connects, connect_failures;
	uint64_t last_ack_seq;		/* valid when acked > 0 */
	int connected;
	uint64_t refusals;		/* NACK frames received */
	uint64_t last_refusal_error;	/* CUSTOS_ERR_* number, valid when refusals > 0 */
	int last_refusal_permanent;
};

struct forward;

/* Start the forwarding thread. OUT: *out. Returns 0, -CUSTOS_ERR_INVAL,
 * -CUSTOS_ERR_NOMEM, -CUSTOS_ERR_IO (thread creation). */
int forward_start(const struct forward_opts *o, struct forward **out);

/* Wait up to timeout_ms for the spool to drain (every batch acknowledged).
 * Returns 0 when drained, -CUSTOS_ERR_AGAIN when the time ran out. */
int forward_wait_drained(struct forward *f, unsigned timeout_ms);

/* Stop the thread, close the connection, free. Accepts NULL. */
void forward_stop(struct forward *f);

/* Counters so far. OUT: *st. */
void forward_get_stats(struct forward *f, struct forward_stats *st);

#endif
