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

#include "custody.h"
#include "store.h"

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
