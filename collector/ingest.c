/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verifying, archiving and acknowledging one sealed batch (the steps,
 * invariants and crash behaviour are in ingest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ack.h"
#include "batch.h"
#include "collector.h"
#include "error.h"
#include "indexer.h"
#include "ingest.h"
#include "seal.h"

int ingest_open(struct ingest *g, const char *dir, struct triage *t)
{
	char path[COLL_PATH_MAX];
	uint64_t done = 0;
	int ret;

	memset(g, 0, sizeof(*g));
	g->log.fd = -1;
	g->triage = t;
	buf_init(&g->signed_batch, CUSTOS_SIGNED_MAX);
	buf_init(&g->raw, CUSTOS_RAW_MAX);
	buf_init(&g->old, CUSTOS_SIGNED_MAX);
	snprintf(g->dir, sizeof(g->dir), "%s", dir);
	g->rec = malloc(sizeof(*g->rec));
	g->ix = malloc(sizeof(*g->ix));
	if (!g->rec || !g->ix)
		return -CUSTOS_ERR_NOMEM;
	ret = keystore_open(&g->ks, dir, 1);
	if (ret)
		return ret;
	ret = custody_open(&g->log, dir);
	if (ret) {
		coll_log("%s: the custody log cannot be opened: %s", dir, custos_strerror(ret));
		return ret;
	}
	ret = coll_path(path, dir, "index.sqlite");
	if (!ret)
		ret = store_open(path, 0, &g->store);
	if (!ret)
		ret = indexer_catch_up(g->store, &g->log, g->triage, &done);
	if (!ret && done)
		coll_log("index: caught up %llu batch(es) archived before the last stop",
			 (unsigned long long)done);
	return ret;
}

void ingest_close(struct ingest *g)
{
	if (!g)
		return;
	if (g->store)
		ingest_flush(g);
	store_close(g->store);
	g->store = NULL;
	custody_close(&g->log);
	keystore_close(&g->ks);
	free(g->hosts);
	g->hosts = NULL;
	free(g->rec);
	g->rec = NULL;
	free(g->ix);
	g->ix = NULL;
	buf_free(&g->signed_batch);
	buf_free(&g->raw);
	buf_free(&g->old);
}

/* The chain state of a host, loaded from the index the first time
 * (invariant 4). NULL only when out of memory or the index fails. */
static struct ingest_host *host_state(struct ingest *g, const uint8_t id[KEYS_SIGN_PK_LEN])
{
	struct ingest_host *h;
	uint64_t seq;
	int ret;

	for (size_t i = 0; i < g->nhosts; i++)
		if (memcmp(g->hosts[i].host_id, id, KEYS_SIGN_PK_LEN) == 0)
			return &g->hosts[i];
	if (g->nhosts == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		h = realloc(g->hosts, cap * sizeof(*h));
		if (!h)
			return NULL;
		g->hosts = h;
		g->cap = cap;
	}
	h = &g->hosts[g->nhosts];
	memset(h, 0, sizeof(*h));
	memcpy(h->host_id, id, KEYS_SIGN_PK_LEN);
	chain_init(&h->chain);
	ret = store_host_last(g->store, id, &seq, h->chain.last_hash, &h->last_leaf);
	if (ret < 0)
		return NULL;
	if (ret == 0) {
		h->chain.started = true;
		h->chain.next_seq = seq + 1;
	}
	g->nhosts++;
	return h;
}

static void host_label(const struct ingest *g, const uint8_t id[KEYS_SIGN_PK_LEN], char *out,
		       size_t n)
{
	char hex[17];

	sodium_bin2hex(hex, sizeof(hex), id, 8);
	snprintf(out, n, "host %s (%s...)", keystore_name(&g->ks, id), hex);
}

static int sign_ack(struct ingest *g, const struct batch_view *v, uint64_t leaf,
		    uint64_t received, struct buf *out)
{
	struct ack a;

	memset(&a, 0, sizeof(a));
	memcpy(a.host_id, v->hdr.host_id, sizeof(a.host_id));
	a.seq = v->hdr.seq;
	memcpy(a.batch_hash, v->hash, sizeof(a.batch_hash));
	a.leaf_index = leaf;
	a.received_unix_ns = received;
	return ack_sign(&a, &g->ks.kp, out);
}

/* A sequence already accepted: the same batch again gets its original
 * ack (invariant 2), anything else is a replay. */
static int resend(struct ingest *g, const struct ingest_host *h, const struct batch_view *v,
		  struct buf *ack)
{
	uint64_t leaf, received;
	int ret;

	if (sodium_memcmp(h->chain.last_hash, v->hash, CUSTOS_HASH_LEN) == 0)
		leaf = h->last_leaf;
	else if (store_find_batch(g->store, v->hash, &leaf) != 0)
		return -CUSTOS_ERR_REPLAY;
	ret = custody_read(&g->log, leaf, &g->old, &received);
	if (ret)
		return ret;
	if (g->old.len != g->signed_batch.len ||
	    memcmp(g->old.data, g->signed_batch.data, g->old.len) != 0)
		return -CUSTOS_ERR_REPLAY;
	ret = sign_ack(g, v, leaf, received, ack);
	return ret ? ret : 1;
}

/* docs/format.md 3.5 steps 1-6 (step 7: decode). */
static int verify(struct ingest *g, const uint8_t *env, size_t n, struct batch_view *v,
		  char *why, size_t why_len)
{
	const struct ks_host *kh;
	char label[128];
	int ret;

	buf_reset(&g->signed_batch);
	ret = seal_open(env, n, &g->ks.kp, &g->signed_batch);
	if (ret) {
		snprintf(why, why_len, "sealed envelope refused: %s", custos_strerror(ret));
		return ret;
	}
	ret = batch_verify(g->signed_batch.data, g->signed_batch.len, keystore_lookup, &g->ks, v,
			   &g->raw);
	if (ret == -CUSTOS_ERR_UNKNOWN_HOST) {
		char hex[65];
		kh = keystore_host(&g->ks, v->hdr.host_id);
		sodium_bin2hex(hex, sizeof(hex), v->hdr.host_id, KEYS_SIGN_PK_LEN);
		snprintf(why, why_len, "batch refused: %s %s (seq %llu)",
			 kh ? "revoked host" : "unknown host", kh ? kh->name : hex,
			 (unsigned long long)v->hdr.seq);
		return ret;
	}
	if (ret) {
		snprintf(why, why_len, "batch refused: %s", custos_strerror(ret));
		if (ret == -CUSTOS_ERR_BAD_SIGNATURE || ret == -CUSTOS_ERR_CORRUPT_PAYLOAD ||
		    ret == -CUSTOS_ERR_DECOMPRESSION_BOMB) {
			host_label(g, v->hdr.host_id, label, sizeof(label));
			snprintf(why, why_len, "batch refused: %s, seq %llu: %s", label,
				 (unsigned long long)v->hdr.seq, custos_strerror(ret));
		}
		return ret;
	}
	return 0;
}

/* docs/format.md 3.5 step 7, every record decodes, and (decode once)
 * each record's index row and triage as it is decoded, when the index is
 * at leaf: in the store's group (ingest_commit commits it after the
 * sync), in the batch's own savepoint and triage batch (triage.h
 * invariant 4). OUT: *indexed (the pass is open: the caller ends it).
 * Returns 0 or the decode error (why set, nothing indexed, triage
 * undone). */
static int decode(struct ingest *g, const struct batch_view *v, uint64_t leaf, uint64_t received,
		  int *indexed, char *why, size_t why_len)
{
	struct record_iter it;
	char label[128];
	uint32_t idx = 0;
	int ret, rows;

	rows = store_group_begin(g->store) == 0 &&
	       indexer_begin(g->ix, g->store, g->triage, v, leaf, received) == 0;
	record_iter_init(&it, &g->raw, &v->hdr);
	while ((ret = record_iter_next(&it, g->rec)) == 1) {
		if (rows && indexer_record(g->ix, idx, g->rec) != 0) {
			indexer_end(g->ix, 0);	/* catch-up indexes it at commit */
			rows = 0;
		}
		idx++;
	}
	if (ret && rows)
		indexer_end(g->ix, 0);	/* refused: rows, alerts and triage state undone */
	*indexed = rows && !ret;
	if (ret) {
		host_label(g, v->hdr.host_id, label, sizeof(label));
		snprintf(why, why_len, "batch refused: %s, seq %llu: %s", label,
			 (unsigned long long)v->hdr.seq, custos_strerror(ret));
	}
	return ret;
}

int ingest_stage(struct ingest *g, const uint8_t *env, size_t n, struct buf *ack, char *why,
		 size_t why_len)
{
	struct batch_view v;
	struct ingest_host *h;
	uint64_t leaf, staged = 0, received;
	char label[128];
	int ret, iret, link, indexed = 0;

	why[0] = '\0';
	g->refused_hash_set = 0;
	ret = verify(g, env, n, &v, why, why_len);
	if (ret)
		goto refused;
	h = host_state(g, v.hdr.host_id);
	host_label(g, v.hdr.host_id, label, sizeof(label));
	ret = h ? 0 : -CUSTOS_ERR_NOMEM;
	link = h ? chain_check(&h->chain, &v.hdr) : 0;
	if (!ret && link == -CUSTOS_ERR_REPLAY) {
		ret = resend(g, h, &v, ack);
		if (ret == 1) {
			g->duplicates++;
			coll_log("%s: seq %llu resent: acknowledged again (leaf %llu kept, not "
				 "archived twice)", label, (unsigned long long)v.hdr.seq,
				 (unsigned long long)h->last_leaf);
			return 1;
		}
		snprintf(why, why_len, "batch refused: %s: replay of seq %llu (next expected %llu)",
			 label, (unsigned long long)v.hdr.seq, (unsigned long long)h->chain.next_seq);
	}
	if (ret)
		goto refused;
	received = coll_now_ns();
	leaf = g->log.size + g->log.pending;	/* custody_stage's next leaf */
	ret = decode(g, &v, leaf, received, &indexed, why, why_len);
	if (ret)
		goto refused;
	ret = custody_stage(&g->log, g->signed_batch.data, g->signed_batch.len, received, &staged);
	if (indexed && !ret && staged == leaf && (iret = indexer_end(g->ix, 1)) != 0)
		coll_log("index: leaf %llu: %s (indexed again at the commit)",
			 (unsigned long long)leaf, custos_strerror(iret));
	else if (indexed && !ret && staged == leaf)
		g->index_batches++;
	else if (indexed && (ret || staged != leaf))
		indexer_end(g->ix, 0);	/* not archived (or elsewhere: catch-up) */
	if (ret) {
		snprintf(why, why_len, "batch not stored: archive or custody log write failed");
		goto refused;
	}
	if (link)
		coll_log("%s: seq %llu: %s (expected %llu): accepted, recorded as a gap", label,
			 (unsigned long long)v.hdr.seq, custos_strerror(link),
			 (unsigned long long)(h->chain.started ? h->chain.next_seq : 0));
	chain_advance(&h->chain, &v.hdr, v.hash);
	h->last_leaf = staged;
	g->accepted++;
	return sign_ack(g, &v, staged, received, ack);
refused:
	g->refused++;
	g->refused_hash_set = g->signed_batch.len && batch_parse(g->signed_batch.data,
								 g->signed_batch.len, &v) == 0;
	if (g->refused_hash_set)
		memcpy(g->refused_hash, v.hash, CUSTOS_HASH_LEN);
	return ret;
}

int ingest_commit(struct ingest *g)
{
	uint64_t done;
	int ret = custody_sync(&g->log), iret;

	if (ret) {
		/* The open group holds rows of leaves that are not in the log; with
		 * the deferred commit (invariant 6) also rows of logged leaves,
		 * which the next start's catch-up indexes again. */
		store_group_abort(g->store);
		g->index_batches = 0;
		coll_log("custody log: the group of batches could not be synced: %s; none of them "
			 "is acknowledged", custos_strerror(ret));
		return ret;
	}
	iret = store_group_begin(g->store);
	if (!iret)
		iret = indexer_catch_up(g->store, &g->log, g->triage, &done);
	if (!iret)
		g->index_batches += done;
	if (iret || g->index_batches >= INGEST_INDEX_BATCHES)	/* invariant 6 */
		ingest_flush(g);	/* on an error, keeps the batches indexed before it */
	if (iret)
		coll_log("index: %s (archived and logged; the index catches up later)",
			 custos_strerror(iret));
	return 0;
}

int ingest_flush(struct ingest *g)
{
	int ret = store_group_end(g->store);

	g->index_batches = 0;
	if (ret)
		coll_log("index: the group of batches could not be committed: %s (archived and "
			 "logged; the index catches up at the next start)", custos_strerror(ret));
	return ret;
}

int ingest_index_open(const struct ingest *g)
{
	return g->store && store_group_open(g->store);
}

int ingest_envelope(struct ingest *g, const uint8_t *env, size_t n, struct buf *ack, char *why,
		    size_t why_len)
{
	int ret = ingest_stage(g, env, n, ack, why, why_len);

	if (ret >= 0 && ingest_commit(g) != 0) {
		buf_reset(ack);
		snprintf(why, why_len, "batch not stored: archive or custody log write failed");
		return -CUSTOS_ERR_IO;
	}
	return ret;
}

int ingest_checkpoint(struct ingest *g, int force)
{
	return custody_checkpoint(&g->log, g->ks.logname, &g->ks.kp, force, NULL);
}
