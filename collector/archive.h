/* SPDX-License-Identifier: Apache-2.0 */
/*
 * archive: the evidence itself, the signed batches exactly as their hosts
 * signed them, in append-only segment files archive/seg-NNNNNNNN. Each
 * batch is one segment record:
 *
 *   "CSTR" | length (4, big-endian) | received_unix_ns (8, big-endian)
 *          | signed batch (length bytes) | SHA-256(0x00 || signed batch) (32)
 *
 * The trailer is the batch's RFC 9162 leaf hash: it lets recovery tell a
 * complete record from one cut short by a crash, and it is the hash the
 * custody log uses.
 *
 * Invariants:
 *   1. Bytes are only ever appended to a segment; nothing is rewritten or
 *      truncated, ever. A new segment starts when the current one would
 *      pass ARCHIVE_SEGMENT_MAX, and after any failed or torn write (so
 *      nothing is ever written after bytes of unknown state).
 *   2. archive_append returns only after the record and (for a new
 *      segment) the directory entry are on stable storage (fsync).
 *      archive_write + archive_sync is the same in two steps, so that
 *      several records share one fsync (group commit): a record is on
 *      stable storage once an archive_sync after its write returned
 *      (leaving a segment syncs it first).
 *   3. Which records are part of the log is decided by custody.c (its
 *      leaves file), not here: a complete record that no leaf names yet is
 *      adopted by custody recovery, a torn one is left alone and skipped.
 * Crash: at any instant, every record archive_append (or archive_sync
 * after its write) returned for is complete on disk; only records
 * written after the last sync can be incomplete (torn), at the end of the
 * last segment, and none of them was acknowledged.
 */
#ifndef CUSTOS_COLL_ARCHIVE_H
#define CUSTOS_COLL_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "merkle.h"

#define ARCHIVE_MAGIC "CSTR"
#define ARCHIVE_HEAD_LEN 16
#define ARCHIVE_OVERHEAD (ARCHIVE_HEAD_LEN + MERKLE_HASH_LEN)
#define ARCHIVE_SEGMENT_MAX (256ull << 20)

struct archive {
	char dir[4096];		/* DIR/archive */
	int fd;			/* current segment, -1 when none open */
	uint32_t seg;
	uint64_t off;		/* where the next record goes */
	int torn;		/* the next append must start a new segment */
	uint64_t seg_max;	/* ARCHIVE_SEGMENT_MAX; tests lower it */
	int dirty;		/* records written since the last sync */
};

/* Where one record sits. */
struct archive_loc {
	uint32_t seg;
	uint64_t off;
	uint32_t len;		/* signed batch bytes */
};

/* Position the archive of dir (DIR/archive) to append at (seg, off); when
 * torn is set the next append starts segment seg + 1. OUT: *a.
 * Returns 0, -CUSTOS_ERR_INVAL, -CUSTOS_ERR_IO. */
int archive_open(struct archive *a, const char *dir, uint32_t seg, uint64_t off, int torn);

/* Close the current segment. Accepts NULL. */
void archive_close(struct archive *a);

/* Append one signed batch (invariants 1, 2). OUT: *loc, leaf (its leaf
 * hash). Returns 0, -CUSTOS_ERR_INVAL (empty, or over 4 GiB), -CUSTOS_ERR_IO
 * (the archive is then marked torn). */
int archive_append(struct archive *a, const uint8_t *batch, size_t n, uint64_t received_ns,
		   struct archive_loc *loc, uint8_t leaf[MERKLE_HASH_LEN]);

/* archive_append in two steps: write one record without syncing, then
 * sync every record written so far. Same OUT and returns as
 * archive_append (archive_sync: 0 or -CUSTOS_ERR_IO, the archive then
 * marked torn). Nothing written is acknowledged before archive_sync. */
int archive_write(struct archive *a, const uint8_t *batch, size_t n, uint64_t received_ns,
		  struct archive_loc *loc, uint8_t leaf[MERKLE_HASH_LEN]);
int archive_sync(struct archive *a);

/* Read the record at (seg, off) of dir's archive and check it. OUT: out
 * (the signed batch, emptied first), *received_ns, leaf, *rec_len (the
 * whole record). Returns 0; -CUSTOS_ERR_AGAIN at the exact end of the
 * segment; -CUSTOS_ERR_TRUNCATED (torn: ends early, or its trailer does
 * not match); -CUSTOS_ERR_MALFORMED (no record magic); -CUSTOS_ERR_IO
 * (cannot open: *missing set when the segment does not exist);
 * -CUSTOS_ERR_NOMEM, -CUSTOS_ERR_OVERSIZED. */
int archive_read(const char *dir, uint32_t seg, uint64_t off, struct buf *out,
		 uint64_t *received_ns, uint8_t leaf[MERKLE_HASH_LEN], uint64_t *rec_len,
		 int *missing);

#endif
