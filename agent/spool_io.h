/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool_io: the spool's file primitives, internal to spool.c: the durable
 * write (temp file, fsync, rename, fsync of the directory) with its fault
 * injection steps, and the state file's text format (docs/agent.md
 * "Spool").
 */
#ifndef CUSTOS_AGENT_SPOOL_IO_H
#define CUSTOS_AGENT_SPOOL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

struct spool_statefile {
	uint64_t next_seq;
	uint8_t last_hash[CUSTOS_HASH_LEN];
	uint64_t lost;
	struct spool_gap gap;		/* records not written and not yet on record */
};

/* fsync a directory. Returns 0 or -CUSTOS_ERR_IO. */
int spool_io_fsync_dir(const char *path);

/* Durably replace dir/name with p[0..n); step0 is the fault step after the
 * temp file's fsync (step0 + 1 after the rename, + 2 after the directory
 * fsync; SPOOL_STEP_BATCH_HALF midway through a batch). Returns 0 or
 * -CUSTOS_ERR_IO (the temp file removed). */
int spool_io_durable_write(const char *dir, const char *name, const uint8_t *p, size_t n,
			   int step0);

/* Durably write dir/state. Returns 0 or -CUSTOS_ERR_IO. */
int spool_io_write_state(const char *dir, const struct spool_statefile *st);

/* Read dir/state. OUT: *st (zeroed first). Returns 0, 1 when there is
 * none, -CUSTOS_ERR_IO, -CUSTOS_ERR_MALFORMED. */
int spool_io_read_state(const char *dir, struct spool_statefile *st);

#endif
