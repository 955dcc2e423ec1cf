/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool: the agent's on-disk queue of sealed batches waiting for the
 * collector's acknowledgement, and the durable home of the host's chain
 * position (next sequence number, hash of the last batch). Invariants,
 * layout and crash guarantees are at the top of spool.c and in
 * docs/agent.md. Thread-safe: the batcher puts, the forwarder reads and
 * acknowledges, each call under the spool's mutex.
 */
#ifndef CUSTOS_AGENT_SPOOL_H
#define CUSTOS_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"

struct spool;

struct spool_entry {
	uint64_t seq;
	uint8_t hash[CUSTOS_HASH_LEN];
	uint64_t size;
};

/* Records not written because the spool was full or unwritable, and not
 * yet described by a gap record (batcher.h): kept in the state file so
 * that a crash during the episode does not make the loss silent. */
struct spool_gap {
	uint64_t lost;			/* records */
	uint64_t batches;
	uint64_t from_ns, to_ns;	/* CLOCK_BOOTTIME of the boot that lost them */
};

/* What `custos-agent status` shows, read without opening the spool. */
#define SPOOL_REFUSAL_MAX 512

struct spool_status {
	uint64_t next_seq;
	uint64_t batches, bytes;
	uint64_t oldest_seq;		/* valid when batches > 0 */
	uint64_t acks;			/* receipts kept */
	uint64_t last_ack_seq;		/* valid when acks > 0 */
	int64_t last_ack_mtime;		/* Unix seconds the receipt was written */
	uint64_t lost;			/* records lost, as of the last state written */
	struct spool_gap gap;		/* a loss not yet on record */
	char refusal[SPOOL_REFUSAL_MAX];	/* the collector's last refusal, "" none */
};

/* Fault injection for the crash tests: when set, called after each step of
 * a write (enum spool_step); a test makes it _exit() the process. */
enum spool_step {
	SPOOL_STEP_BATCH_HALF = 1,	/* half of the temp file written */
	SPOOL_STEP_BATCH_TMP,		/* temp file written and fsynced */
	SPOOL_STEP_BATCH_RENAMED,
	SPOOL_STEP_BATCH_DIRSYNC,
	SPOOL_STEP_STATE_TMP,
	SPOOL_STEP_STATE_RENAMED,
	SPOOL_STEP_STATE_DIRSYNC,
	SPOOL_STEP_ACK_TMP,
	SPOOL_STEP_ACK_RENAMED,
	SPOOL_STEP_ACK_DIRSYNC,
	SPOOL_STEP_UNLINKED,
	SPOOL_STEP_UNLINK_DIRSYNC,
	SPOOL_STEP__COUNT
};
extern void (*spool_fault_hook)(int step);

/* Open (creating if needed) the spool in dir, bounded to max_bytes of
 * batches, and recover the chain position (spool.c "Recovery"). Takes an
 * exclusive lock: a second agent on the same spool is refused. OUT: *out;
 * err, a message on failure. Returns 0, -CUSTOS_ERR_IO, -CUSTOS_ERR_EXISTS
 * (locked by another process), -CUSTOS_ERR_MALFORMED (a damaged state
 * file), -CUSTOS_ERR_NOMEM. */
int spool_open(const char *dir, uint64_t max_bytes, struct spool **out, char *err, size_t errlen);

/* Close and unlock. Accepts NULL. */
void spool_close(struct spool *sp);

/* The chain position: the sequence number the next batch must carry and
 * the hash of the last batch (zero before the first). OUT: both. */
void spool_chain(struct spool *sp, uint64_t *next_seq, uint8_t last_hash[CUSTOS_HASH_LEN]);

/* Make a sealed batch durable, then advance the chain to (seq, hash) and
 * record lost_total (records lost so far) in the state. seq must be the
 * next sequence number. Returns 0 once the batch is durable;
 * -CUSTOS_ERR_INVAL (wrong seq); -CUSTOS_ERR_OVERSIZED when it does not
 * fit under the bound (nothing written, chain unchanged); -CUSTOS_ERR_IO
 * (chain unchanged; the temp file is removed). */
int spool_put(struct spool *sp, uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN],
	      const uint8_t *sealed, size_t n, uint64_t lost_total);

/* Would a batch of n bytes fit now? Returns 1 or 0. */
int spool_has_room(struct spool *sp, size_t n);

/* Would it fit under half the bound (or is the spool empty)? The batcher
 * asks this after a loss, so that one gap ends only when there is real
 * room again, not at the first small batch that squeezes in. Returns 1
 * or 0. */
int spool_has_room_low(struct spool *sp, size_t n);

/* The first spooled batch with a sequence number >= from. OUT: *e.
 * Returns 1 when found, 0 when none. */
int spool_next(struct spool *sp, uint64_t from, struct spool_entry *e);

/* Read a spooled batch's sealed bytes. OUT: out (emptied first).
 * Returns 0, -CUSTOS_ERR_IO (gone or unreadable), -CUSTOS_ERR_NOMEM. */
int spool_read(struct spool *sp, const struct spool_entry *e, struct buf *out);

/* Keep the receipt ack[0..n) and delete the batch (seq, hash), which the
 * caller has checked the ack for. Returns 0; -CUSTOS_ERR_INVAL when no
 * spooled batch has that seq and hash; -CUSTOS_ERR_IO. */
int spool_ack(struct spool *sp, uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN],
	      const uint8_t *ack, size_t n);

/* Record the pending gap (all zero: none) durably in the state file.
 * Returns 0 or -CUSTOS_ERR_IO. */
int spool_set_gap(struct spool *sp, const struct spool_gap *g, uint64_t lost_total);

/* The pending gap recovered at open or last set. OUT: *g. */
void spool_get_gap(struct spool *sp, struct spool_gap *g);

/* The receipt with the largest sequence number. OUT: out (emptied first),
 * *seq. Returns 1 when there is one, 0 when none, -CUSTOS_ERR_IO,
 * -CUSTOS_ERR_OVERSIZED (past out's ceiling), -CUSTOS_ERR_NOMEM. */
int spool_last_receipt(struct spool *sp, struct buf *out, uint64_t *seq);

/* Batches waiting and their bytes. OUT: both. */
void spool_depth(struct spool *sp, uint64_t *batches, uint64_t *bytes);

/* Read-only inspection for `status`: no lock, no change. OUT: *st.
 * Returns 0, -CUSTOS_ERR_IO (no spool there), -CUSTOS_ERR_MALFORMED. */
int spool_inspect(const char *dir, struct spool_status *st);

/* Keep the collector's last refusal (one line, from the forwarder's NACK
 * handling) in D/refusal for `status`, replacing the previous one; NULL
 * removes it (a batch was acknowledged since). Informational only: it is
 * not fsynced. Returns 0 or -CUSTOS_ERR_IO. */
int spool_note_refusal(struct spool *sp, const char *line);

#endif
