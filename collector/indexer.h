/* SPDX-License-Identifier: Apache-2.0 */
/*
 * indexer: turns archived signed batches into index rows (store.h), the
 * same way during ingest, at catch-up after a restart and in
 * `custos-collector reindex`, so that an index rebuilt from the archive
 * alone is the index ingest built. It also finds the chain gaps, by
 * replaying docs/format.md 3.5 step 8 over the batches in log order.
 */
#ifndef CUSTOS_COLL_INDEXER_H
#define CUSTOS_COLL_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "custody.h"
#include "store.h"

struct triage;

/* One batch being indexed from records decoded elsewhere (ingest decodes
 * each record once, to check it, to index it and to triage it).
 * indexer_begin opens the batch's transaction (store_begin), writes its
 * batch row and its gap if any, and opens triage t's batch (triage_begin;
 * t NULL: no triage); indexer_record writes one record's row and runs
 * triage on it (its alerts are rows of the same transaction);
 * indexer_end(commit 1) turns the new alerts into incidents, sets the
 * indexed count to leaf+1 and commits, then triage_commit;
 * indexer_end(commit 0), or a failed commit, rolls the batch back and
 * calls triage_abort, so that nothing of it stays in triage's memory
 * either (triage.h invariant 4). v, t and the store must outlive the
 * pass. */
struct indexer_scratch {	/* the C strings a row points to */
	char comm[CUSTOS_COMM_MAX + 1];
	char exe[CUSTOS_PATH_MAX + 1];
	char path[CUSTOS_PATH_MAX + 1];
};

struct indexer_pass {
	struct store *s;
	struct triage *t;
	const struct batch_view *v;
	uint64_t leaf, alerts;
	struct indexer_scratch x;
};

/* Returns 0 (inside the batch's transaction and triage batch), 1 when
 * leaf is not the store's next (nothing done), -CUSTOS_ERR_IO (nothing
 * left open). */
int indexer_begin(struct indexer_pass *p, struct store *s, struct triage *t,
		  const struct batch_view *v, uint64_t leaf, uint64_t received_ns);
/* Record idx, in record order: its row, then triage (triage_record).
 * Returns 0, -CUSTOS_ERR_IO or -CUSTOS_ERR_NOMEM (the pass stays open:
 * the caller ends it). */
int indexer_record(struct indexer_pass *p, uint32_t idx, const struct custos_record *rec);
/* Returns 0, or with commit the error (the batch is then rolled back and
 * its triage undone). */
int indexer_end(struct indexer_pass *p, int commit);

/* Index leaf `leaf`, the signed batch p[0..n) received at received_ns,
 * in one transaction that also sets the store's indexed count to leaf+1,
 * running triage t on each record (issue 6, triage.h; NULL: none).
 * The leaf must be the store's next (store.h invariant 2). Returns 0,
 * -CUSTOS_ERR_INVAL (not the next leaf), the errors of batch_parse,
 * batch_check_payload, record_iter_next (a batch that does not check),
 * or -CUSTOS_ERR_IO. */
struct triage;
int indexer_batch(struct store *s, struct triage *t, uint64_t leaf, const uint8_t *p, size_t n,
		  uint64_t received_ns);

/* Index every leaf of c not yet in s, with triage t (NULL: none). OUT:
 * *done, leaves indexed. Returns 0 or the first error (leaves before it
 * stay indexed). */
int indexer_catch_up(struct store *s, const struct custody *c, struct triage *t,
		     uint64_t *done);

#endif
