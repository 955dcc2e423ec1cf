/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outfile: offline mode. Moves spooled sealed batches, in sequence order,
 * into one local file that `custos-collector import` takes in later: the
 * file is a plain concatenation of BATCH frames (docs/format.md 5), laid
 * out byte by byte in docs/agent.md "Offline file". A batch leaves the
 * spool only after the file holds it durably, with a local receipt (the
 * file's length after it) in the spool's acks/; at open, the file is cut
 * back to the newest receipt's length, so a torn or repeated tail left by
 * a crash never survives.
 */
#ifndef CUSTOS_AGENT_OUTFILE_H
#define CUSTOS_AGENT_OUTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

struct outfile;

/* Open (or create) path as the output of spool sp (whose directory is
 * spool_dir) and recover it. The spool remembers, in spool_dir/offline,
 * that it owns the file. OUT: *out; err. Returns 0, -CUSTOS_ERR_IO,
 * -CUSTOS_ERR_EXISTS (the file holds bytes this spool did not write), -CUSTOS_ERR_MALFORMED (a receipt that is
 * not an offline receipt, or a file shorter than its receipt says),
 * -CUSTOS_ERR_NOMEM. */
int outfile_open(const char *path, const char *spool_dir, struct spool *sp,
		 struct outfile **out, char *err, size_t errlen);

/* Append every spooled batch to the file (fsync), then receipt and delete
 * it. OUT: *moved, batches moved. Returns 0, -CUSTOS_ERR_IO, or the errors
 * of spool_read. */
int outfile_drain(struct outfile *of, uint64_t *moved);

/* Close. Accepts NULL. */
void outfile_close(struct outfile *of);

#endif
