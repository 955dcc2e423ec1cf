/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest: one sealed batch, end to end (docs/format.md 3.5, 4, 6):
 *   seal_open -> batch_verify (host enrolled and not revoked, signature,
 *   payload) -> chain check against the host's last accepted batch ->
 *   every record decodes, and is indexed as it is (invariant 5) ->
 *   archive + custody leaf (custody_append: both fsynced) -> signed
 *   acknowledgement -> index committed.
 * Used by serve (server.c) and import (import.c) alike.
 *
 * Invariants:
 *   1. A batch is acknowledged only after custody_sync returned (its
 *      bytes and its leaf are on stable storage). Group commit:
 *      ingest_stage checks and archives a batch without syncing and signs
 *      its ack, which the caller holds; ingest_commit syncs every staged
 *      batch at once (one fsync of the archive and one of the leaves
 *      file), and only then may the held acks go out. A caller sends no
 *      ack of a group whose ingest_commit failed.
 *   2. Per host, the accepted sequence numbers strictly increase: a batch
 *      whose sequence was already accepted is refused (REPLAY) unless it
 *      is byte for byte the batch already accepted, which is answered
 *      with the original acknowledgement (same leaf index and receive
 *      time) and not archived again: an agent that lost an ack resends,
 *      and no batch is ever in the archive twice.
 *   3. A sequence gap or a broken link is accepted; the index records it
 *      as a gap (indexer.c), the log line says so.
 *   4. The in-memory chain state of a host is loaded from the index, which
 *      ingest_open first brings up to the log's size (catch-up), so after
 *      a restart it is what it was before the crash.
 *   5. Each record is decoded once: ingest_stage writes its index row as
 *      it checks that it decodes, into the store's open group (a batch
 *      that does not decode is rolled back and refused before it is
 *      archived); the group is committed only after the sync (on a failed
 *      sync it is aborted), so the index never holds a leaf that is not
 *      in the log. A batch the stage could not index (the
 *      index behind, an index error) is indexed from the archive by the
 *      catch-up in ingest_commit. Triage runs on each record as it is
 *      decoded, in the batch's triage batch (triage.h invariant 4): a
 *      refused batch's alerts go with its rolled-back rows and
 *      triage_abort undoes what its records did to triage's memory.
 *   6. The index commit is deferred (fewer commits, each dirty page
 *      written once for many batches): ingest_commit commits the store's
 *      group once it holds INGEST_INDEX_BATCHES batches, else leaves it
 *      open for the next ones; ingest_flush commits it now (serve: before
 *      the acks when no input is pending, else when idle, when the group
 *      is old, and at shutdown; ingest_close always).
 *      Deferring touches the index only: every ack still waits for its
 *      batch's archive and custody sync (invariant 1). A crash loses at
 *      most the open group's rows, whose leaves are in the log: the
 *      catch-up at the next start indexes them again (invariant 4).
 * Crash: see custody.h and store.h; nothing here is persistent on its own.
 */
#ifndef CUSTOS_COLL_INGEST_H
#define CUSTOS_COLL_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "chain.h"
#include "custody.h"
#include "keystore.h"
#include "store.h"

struct ingest_host {
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	struct chain_state chain;
	uint64_t last_leaf;
};

/* Batches the index group may hold before ingest_commit commits it
 * (invariant 6). */
#define INGEST_INDEX_BATCHES 256

struct ingest {
	char dir[4096];
	struct keystore ks;
	struct custody log;
	struct store *store;
	struct triage *triage;	/* run on each record indexed (NULL: none), not owned */
	struct ingest_host *hosts;
	size_t nhosts, cap;
	struct buf signed_batch, raw, old;	/* scratch */
	struct custos_record *rec;
	struct indexer_pass *ix;	/* the batch being indexed as it is decoded */
	uint64_t accepted, duplicates, refused;
	uint64_t index_batches;	/* leaves indexed in the open group, not committed */
	uint8_t refused_hash[CUSTOS_HASH_LEN];	/* the last refused batch's hash... */
	int refused_hash_set;			/* ...when its envelope opened and parsed */
};

/* Open dir: keys and enrolments, the custody log (recovering it), the
 * index (catching it up). Triage t (NULL: none; not owned, must outlive
 * g) runs on every record indexed, the catch-up's included. OUT: *g.
 * Returns 0 or the first error, logged. */
struct triage;
int ingest_open(struct ingest *g, const char *dir, struct triage *t);

/* Close everything, committing the index group (ingest_flush) first.
 * Accepts NULL. */
void ingest_close(struct ingest *g);

/* Ingest one sealed envelope. OUT: ack (the signed acknowledgement is
 * appended on success), why (a one-line reason on failure), and on
 * failure g->refused_hash(_set) (for the NACK frame). Returns 0
 * (accepted), 1 (a resend of an accepted batch: the original ack is
 * appended), or the first check's -CUSTOS_ERR_* (nothing stored). */
int ingest_envelope(struct ingest *g, const uint8_t *env, size_t n, struct buf *ack, char *why,
		    size_t why_len);

/* ingest_envelope in two steps (invariant 1): ingest_stage returns as
 * ingest_envelope, but the ack it appends must be held until
 * ingest_commit returned 0 (also the ack of a resend, whose leaf may be in
 * the group); ingest_commit syncs the staged batches, then indexes what
 * the stage could not and commits the index group when it is full
 * (invariants 5 and 6). Returns 0, or -CUSTOS_ERR_IO (the log is failed:
 * no ack of the group may be sent). */
int ingest_stage(struct ingest *g, const uint8_t *env, size_t n, struct buf *ack, char *why,
		 size_t why_len);
int ingest_commit(struct ingest *g);

/* Commit the index group now, if one is open (invariant 6). Returns 0,
 * or -CUSTOS_ERR_IO (logged: the group is rolled back; its leaves are in
 * the log and the next start's catch-up indexes them). */
int ingest_flush(struct ingest *g);

/* Whether the index has a group not yet committed (ingest_flush). */
int ingest_index_open(const struct ingest *g);

/* Sign a checkpoint if the log grew (custody_checkpoint). Returns its
 * result. */
int ingest_checkpoint(struct ingest *g, int force);

#endif
