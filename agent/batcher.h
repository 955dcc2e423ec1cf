/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batcher: records in, sealed batches out into the spool. It closes a
 * batch by size (raw bytes) or by age (the first record's wait), chains
 * it to the spool's last batch, stamps the clock provenance, signs it with
 * the host key, seals it to the collector and spools it (common/batch.h,
 * seal.h). When the spool is full, the batch is dropped and counted; the
 * first batch that fits again starts with one gap record saying how many
 * records and batches were lost, between when and when (never a silent
 * loss, never an unbounded disk). The pending gap is written to the
 * spool's state file at each dropped batch, so a crash in the middle of
 * the episode does not lose it: the next run records it.
 */
#ifndef CUSTOS_AGENT_BATCHER_H
#define CUSTOS_AGENT_BATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "keys.h"
#include "spool.h"

struct batcher_opts {
	uint64_t max_bytes;			/* raw record bytes per batch */
	uint64_t max_delay_ns;			/* oldest record's wait */
	const struct custos_keypair *host;
	const struct custos_pubkey *collector;
	struct spool *spool;
	uint8_t boot_id[CUSTOS_BOOT_ID_LEN];
};

struct batcher {
	struct batcher_opts o;
	struct batch_builder bb;
	uint64_t opened_ns;			/* boot ns of the batch's first record */
	bool gap_in_batch;			/* the open batch starts with a gap record */
	struct spool_gap gap;			/* pending, not yet in a spooled batch;
						   kept in the spool's state file */
	uint64_t records;			/* records accepted since start */
	uint64_t batches;			/* batches spooled since start */
	uint64_t lost_total;			/* records lost to a full spool */
	uint64_t other_lost;			/* losses the caller reports (kernel...) */
	struct buf signed_buf, sealed_buf;
	struct custos_record *scratch;
};

/* Set up, taking over a gap the spool recorded before a crash. Returns 0
 * or -CUSTOS_ERR_NOMEM. */
int batcher_init(struct batcher *b, const struct batcher_opts *o);

/* Free. Accepts NULL. Records not yet sealed are dropped: call
 * batcher_flush() first. */
void batcher_free(struct batcher *b);

/* Add one record; seals first when it would not fit, and after it when
 * the batch reached max_bytes. now is CLOCK_BOOTTIME ns. Returns 0 or the
 * errors of batcher_flush (a full spool is not an error: it is counted). */
int batcher_add(struct batcher *b, const struct custos_record *rec, uint64_t now);

/* Seal the open batch if its first record waited max_delay_ns. Returns as
 * batcher_flush. */
int batcher_tick(struct batcher *b, uint64_t now);

/* Seal and spool the open batch, if any. Returns 0; -CUSTOS_ERR_IO (the
 * spool could not be written: the records are counted lost, as for a full
 * spool); -CUSTOS_ERR_NOMEM and the errors of batch_sign and seal_batch. */
int batcher_flush(struct batcher *b);

/* Records lost so far (spool full or unwritable) plus other_lost. */
uint64_t batcher_losses(const struct batcher *b);

#endif
