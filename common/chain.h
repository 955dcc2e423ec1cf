/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chain state of one host, as seen by whoever checks its batches (the
 * collector, custos-verify). Invariants:
 *   1. A host's first batch has sequence 0 and an all-zero prev_hash.
 *   2. Batch n+1 has sequence n+1 and prev_hash = batch hash of batch n.
 *   3. Sequence numbers never repeat, across restarts and reboots.
 * States: EMPTY (nothing accepted yet) -> HAVE(next_seq, last_hash).
 * chain_check() classifies a header without changing the state;
 * chain_advance() moves to the header just accepted, also after a gap or a
 * broken link, because the evidence that did arrive is still evidence.
 */
#ifndef CUSTOS_CHAIN_H
#define CUSTOS_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"

struct chain_state {
	bool started;
	uint64_t next_seq;
	uint8_t last_hash[CUSTOS_HASH_LEN];
};

void chain_init(struct chain_state *c);

/* Returns 0 when hdr is exactly the next link; -CUSTOS_ERR_REPLAY when its
 * sequence was already accepted; -CUSTOS_ERR_SEQ_GAP when batches are
 * missing before it; -CUSTOS_ERR_CHAIN_BROKEN when the sequence follows but
 * prev_hash does not match (or sequence 0 has a non-zero prev_hash). */
int chain_check(const struct chain_state *c, const struct batch_header *hdr);

/* Record hdr (with batch hash) as the latest accepted batch. */
void chain_advance(struct chain_state *c, const struct batch_header *hdr,
		   const uint8_t hash[CUSTOS_HASH_LEN]);

#endif
