/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custody: the custody log, an RFC 9162 Merkle tree whose leaves are the
 * archived signed batches in arrival order (docs/custody.md), and its
 * signed tree heads. On disk:
 *   custody/leaves       one 48-byte entry per leaf, in leaf order:
 *                        leaf hash (32) | segment (4, BE) | offset (8, BE)
 *                        | signed batch length (4, BE)
 *   custody/checkpoints  every checkpoint note signed, appended, in order
 *   custody/checkpoint   the latest one (replaced by rename)
 *
 * Invariants:
 *   1. Leaf i is the archive record the entry i names, and the entry's
 *      hash equals that record's trailer; entries are appended (one
 *      pwrite, then fsync) only after their record is on disk, so the
 *      leaves file never names bytes that are not there.
 *   2. The log grows only: a leaf is never changed or removed, so every
 *      checkpoint extends the previous one (docs/custody.md 4.4).
 *   3. A batch is acknowledged only after custody_append (or
 *      custody_sync after its custody_stage) returned, i.e. after its
 *      record and its entry are both fsynced.
 *   4. Group commit: custody_stage writes a batch's record without
 *      syncing and gives it the next leaf index, pending; custody_sync
 *      syncs the archive, then writes the entries of every pending leaf
 *      in one write and syncs the leaves file: one fsync of each file for
 *      the whole group. Pending leaves are not part of the log (size,
 *      checkpoints, proofs) until custody_sync returned; they can be read
 *      back (custody_read) meanwhile.
 * Crash and recovery (custody_open): an entry cut short (file length not
 * a multiple of 48) was never acknowledged and is cut off; then every
 * complete archive record after the last entry's record (a crash between
 * archive fsync and entry fsync) is adopted as the next leaf, in archive
 * order, so a batch is never in the archive twice (the agent's resend is
 * acknowledged as a duplicate); a torn record ends the scan (with group
 * commit, complete records of the group after a torn one stay in the
 * segment unreferenced, like the torn one: they were never acknowledged
 * and are not in the log) and the
 * archive continues in a new segment. After any failed write the log
 * refuses further appends (fail-stop) until the next open recovers it.
 */
#ifndef CUSTOS_COLL_CUSTODY_H
#define CUSTOS_COLL_CUSTODY_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "buf.h"
#include "checkpoint.h"
#include "keys.h"
#include "merkle.h"

#define CUSTODY_ENTRY_LEN 48

struct custody {
	char dir[4096];
	int fd;				/* custody/leaves */
	uint8_t (*hash)[MERKLE_HASH_LEN];	/* leaf hashes, in memory */
	struct archive_loc *loc;
	uint64_t size, cap;
	uint64_t pending;		/* staged leaves size..size+pending-1 (invariant 4) */
	struct archive ar;
	int failed;			/* fail-stop after a write error */
	uint64_t signed_size;		/* size of the latest checkpoint, or UINT64_MAX */
	uint64_t adopted;		/* leaves recovered by the last open */
};

/* Open dir's custody log and archive, recovering as described above.
 * OUT: *c. Returns 0, -CUSTOS_ERR_IO, -CUSTOS_ERR_MALFORMED (the leaves
 * file and the archive disagree), -CUSTOS_ERR_NOMEM. */
int custody_open(struct custody *c, const char *dir);

/* The first want leaves of dir's log (CUSTODY_COMPLETE: every entry
 * complete in custody/leaves now), read-only, loaded as custody_open loads
 * them but without its recovery, which belongs to the process holding the
 * directory's lock (serve). custody_read still checks each leaf against
 * its hash; nothing is ever written. OUT: *c (custody_close it). Returns
 * 0, -CUSTOS_ERR_INVAL (dir too long, want over 2^40), -CUSTOS_ERR_IO
 * (unreadable, or fewer than want entries), -CUSTOS_ERR_NOMEM. */
#define CUSTODY_COMPLETE UINT64_MAX
int custody_open_readonly(struct custody *c, const char *dir, uint64_t want);

/* Close files and free memory. Accepts NULL. */
void custody_close(struct custody *c);

/* Archive one signed batch and append its leaf (invariants 1, 3).
 * OUT: *leaf (its leaf index). Returns 0, -CUSTOS_ERR_IO (the log is then
 * failed), or the errors of archive_append. */
int custody_append(struct custody *c, const uint8_t *batch, size_t n, uint64_t received_ns,
		   uint64_t *leaf);

/* custody_append in two steps (invariant 4): stage one batch (OUT: *leaf,
 * its leaf index once synced; returns as custody_append, nothing synced),
 * then sync every staged batch (returns 0, -CUSTOS_ERR_IO or
 * -CUSTOS_ERR_NOMEM; after an error the log is failed and none of the
 * staged leaves is in it). */
int custody_stage(struct custody *c, const uint8_t *batch, size_t n, uint64_t received_ns,
		  uint64_t *leaf);
int custody_sync(struct custody *c);

/* Read leaf i (or a staged one) back from the archive (checked against its leaf hash).
 * OUT: out (the signed batch), *received_ns. Returns 0, -CUSTOS_ERR_INVAL
 * (no such leaf), -CUSTOS_ERR_MALFORMED (it does not match), or the
 * errors of archive_read. */
int custody_read(const struct custody *c, uint64_t i, struct buf *out, uint64_t *received_ns);

/* Sign a checkpoint of the current size with name and kp, if the size
 * changed since the last one (or force), and store it (checkpoints,
 * checkpoint). OUT: note (the note, when one was signed; may be NULL).
 * Returns 1 when signed, 0 when nothing changed, or -CUSTOS_ERR_*. */
int custody_checkpoint(struct custody *c, const char *name, const struct custos_keypair *kp,
		       int force, struct buf *note);

/* The number of complete entries in dir's leaves file, 0 if none. */
uint64_t custody_size_on_disk(const char *dir);

#endif
