/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hashq: executable hashing off the event path. Exec and snapshot records
 * whose executable is not in exehash's cache wait here, complete with
 * every other field, while a worker thread reads and hashes the file;
 * each is released (handed to the emit callback) once its hash is done
 * or its deadline has passed (status TIMEOUT), so a record is always
 * complete when it reaches the batcher. Records of the same process that
 * arrive while its exec waits wait behind it, so that a reader of the
 * sealed stream sees a process's exec before what it did. Everything is
 * bounded: a fixed number of hashing jobs and of records held.
 */
#ifndef CUSTOS_AGENT_HASHQ_H
#define CUSTOS_AGENT_HASHQ_H

#include <stddef.h>
#include <stdint.h>

#include "exehash.h"
#include "record.h"

#define HASHQ_JOBS_DEFAULT 64		/* files being hashed or waiting for the worker */
#define HASHQ_HOLD_DEFAULT 256		/* records held (about 17 KiB each) */

/* Receives each record released, in the order they were added (but see
 * hashq_add). Returns 0 or a negative error, which hashq returns. */
typedef int (*hashq_emit_fn)(void *ctx, const struct custos_record *rec);

struct hashq_stats {
	uint64_t jobs;		/* files handed to the worker */
	uint64_t shared;	/* records that waited on a job already queued */
	uint64_t timed_out;	/* released at their deadline */
	uint64_t queue_full;	/* not hashed: no job or hold slot free */
	uint64_t held;		/* records that waited */
	uint64_t passed;	/* records of a waiting process not held: the hold was full */
};

struct hashq;

/* Start the worker. jobs and hold: the bounds above (at least 1). emit
 * receives every released record. OUT: *out. Returns 0,
 * -CUSTOS_ERR_INVAL, -CUSTOS_ERR_NOMEM, -CUSTOS_ERR_IO (no thread). */
int hashq_open(struct exehash *h, unsigned jobs, unsigned hold, hashq_emit_fn emit, void *ctx,
	       struct hashq **out);

/* Stop the worker (waits for the file it is reading) and free. Records
 * still held are dropped: call hashq_drain() first. Accepts NULL. */
void hashq_close(struct hashq *q);

/* Take one record (it is copied; *rec is scratch and may be changed).
 * An exec or snapshot record whose hash is known at once (cache hit,
 * memfd, deleted, too large, error) and any other record go to emit at
 * once, unless a record of the same process is held: then it is held
 * behind it. A record that needs hashing is held and queued for the
 * worker. When no job or hold slot is free: with wait, hashq releases
 * and waits (the snapshot at start); without, the record is emitted at
 * once with status QUEUE_FULL (an exec), or out of order (another kind:
 * counted as passed). Returns 0 or emit's error. */
int hashq_add(struct hashq *q, struct custos_record *rec, int wait);

/* Emit, in order, the held records whose hash is done or whose deadline
 * has passed, up to the first that must still wait. Returns 0 or emit's
 * error. */
int hashq_release(struct hashq *q);

/* Release every held record, waiting for hashes up to their deadlines.
 * Returns 0 or emit's error. */
int hashq_drain(struct hashq *q);

/* Records held now. */
size_t hashq_held(const struct hashq *q);

/* Counters so far. OUT: *st. */
void hashq_get_stats(const struct hashq *q, struct hashq_stats *st);

#endif
