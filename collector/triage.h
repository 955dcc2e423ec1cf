/* SPDX-License-Identifier: Apache-2.0 */
/*
 * triage: Sigma rules (sigma.h) run over records as they are indexed
 * (streaming, `serve --rules DIR`) and on demand over the archive
 * (`custos-collector triage --rules DIR [--from T] [--to T]`); each rule
 * that fires on a record adds an alert to the index (store_add_alert)
 * with the record's references (host, batch hash, record index).
 *
 * Invariants:
 *   1. The process table is corr's (corr.h invariant 1: at most CORR_PROCS
 *      entries, a full probe run evicts its least recently changed one),
 *      so memory does not grow with the number of processes seen; one
 *      entry holds what Sigma's events and the correlation rules need of
 *      a process, so a record looks its process up once.
 *   2. An alert is added inside the transaction of its batch's rows when
 *      streaming, so an alert never points at a record not indexed.
 *   3. No alert twice: an alert is keyed by (rule id, leaf, record index)
 *      and inserted with INSERT OR IGNORE, so streaming triage (serve
 *      --rules) and on-demand triage may overlap, and rerun, without
 *      duplicates. On-demand triage runs under the directory's lock, or,
 *      when serve holds it, beside serve: it reads custody/leaves
 *      read-only (the leaves complete when it starts; serve's recovery is
 *      not run) and the archive by path (each batch checked against its
 *      leaf hash), and writes alerts through its own SQLite connection
 *      (WAL) in one BEGIN IMMEDIATE transaction per leaf, then regroups
 *      incidents in one transaction: SQLite serialises it with serve's
 *      transactions (busy timeout 5 s), so serve's streaming grouping
 *      sees either none or all of the regrouping.
 *   4. Batches: the records of one batch are triaged between triage_begin
 *      and triage_commit (the batch's rows committed) or triage_abort
 *      (rolled back: a batch refused, say because a later record does not
 *      decode, or not archived); they are corr_begin, corr_commit and
 *      corr_abort. The first time a batch changes a process table entry,
 *      the entry is saved in a journal, which takes the reference to its
 *      image and command line (an immutable, reference-counted pair a
 *      fork shares with its parent) when the batch replaces it; commit
 *      drops the pairs replaced, abort drops the batch's, puts the saved entries, the
 *      LRU clock and the eviction count back, and undoes the correlation
 *      tables (corr.h invariant 5). So after an abort the
 *      in-memory state is what it was at triage_begin: nothing of the
 *      refused batch can later make an alert reference its records or
 *      change a later alert (its alerts went with the rolled-back rows,
 *      invariant 2). The journal holds each slot at most once per batch
 *      (at most the table's size); if it cannot grow, the abort empties
 *      the table instead (lost context, never an invented alert).
 *      triage_record outside a batch changes the state for good.
 * Crash: alerts are index rows; a lost transaction is redone by catch-up
 * (with the rules of that run) or by `triage` on demand.
 */
#ifndef CUSTOS_COLL_TRIAGE_H
#define CUSTOS_COLL_TRIAGE_H

#include <stdint.h>

#include "batch.h"
#include "record.h"
#include "store.h"

struct triage;

/* Load the rules under rules_dir; each refused rule is logged with its
 * file and reason, then the per-category counts. OUT: *t. Returns 0,
 * -CUSTOS_ERR_IO (unreadable directory), -CUSTOS_ERR_NOMEM. */
int triage_open(const char *rules_dir, struct triage **t);
void triage_close(struct triage *t);	/* accepts NULL */

/* One batch's records (invariant 4): triage_begin before its first
 * triage_record; then triage_commit once its rows are committed, or
 * triage_abort once they are rolled back. */
void triage_begin(struct triage *t);
void triage_commit(struct triage *t);
void triage_abort(struct triage *t);

/* A hint, before other work on rec (ingest: before its index rows), so
 * that the process table's lines triage_record(t, ..., h, ..., rec, ...)
 * will read are loaded meanwhile; changes no state. A triage_record of
 * the same rec pointer next does not prefetch again. */
void triage_prefetch(struct triage *t, const struct batch_header *h,
		     const struct custos_record *rec);

/* Run the rules on record idx of the batch (header h, hash) at leaf, note
 * the process in the table, and add an alert per rule that fires.
 * OUT: *alerts incremented. Returns 0, -CUSTOS_ERR_IO, -CUSTOS_ERR_NOMEM. */
int triage_record(struct triage *t, struct store *s, const struct batch_header *h,
		  const uint8_t hash[CUSTOS_HASH_LEN], uint64_t leaf, uint32_t idx,
		  const struct custos_record *rec, uint64_t *alerts);

#endif
