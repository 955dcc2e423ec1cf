/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify, the evidence: the signed tree head, custody/proofs.json,
 * every batch (its leaf hash and inclusion proof, its host, signature,
 * payload and records, the chain of each host), the consistency proof,
 * and timeline.jsonl, timeline.csv and gaps.json recomputed from the
 * batches and compared byte for byte: the timelines row by row as each
 * batch is decoded (compare.c), so memory is bounded by a batch, not by
 * the bundle; the results are reported after the batches' checks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "error.h"
#include "verify.h"

struct ev {
	struct vr *v;
	struct bundle_proofs p;
	struct bundle_derive d;
	FILE *jlf, *csvf;		/* compared while derived (compare.c) */
	struct vr_cmp *jlc, *csvc;
	struct chain_state chain[64];
	size_t gaps;
};

static int tree_head(struct vr *v)
{
	uint8_t *t;
	size_t n;
	int ret;

	if (vr_read(v, "custody/checkpoint", CHECKPOINT_MAX, &t, &n)) {
		vr_fail(v, "custody/checkpoint", NULL, "signed tree head", "missing or unreadable");
		return -1;
	}
	ret = checkpoint_verify(t, n, v->logname, v->cpk, &v->cp);
	free(t);
	if (ret) {
		vr_fail(v, "custody/checkpoint", NULL, "signed tree head", "%s",
			custos_strerror(ret));
		return -1;
	}
	v->have_cp = 1;
	vr_ok(v, "custody/checkpoint is a tree head of log '%s' signed by the collector: "
	      "%llu batches", v->logname, (unsigned long long)v->cp.size);
	return 0;
}

static const struct vr_key *key_of(const struct vr *v, const char *host, size_t *idx)
{
	for (size_t i = 0; i < v->nkeys; i++)
		if (strcmp(v->keys[i].host, host) == 0) {
			*idx = i;
			return &v->keys[i];
		}
	return NULL;
}

static void chain_step(struct ev *e, size_t k, const struct bundle_batch *b,
		       const struct batch_view *bv)
{
	struct chain_state *c = &e->chain[k];
	int err = c->started ? chain_check(c, &bv->hdr) : 0;
	char what[160];

	snprintf(what, sizeof(what), "(leaf %llu, host %s, seq %llu)",
		 (unsigned long long)b->leaf, b->host, (unsigned long long)bv->hdr.seq);
	if (err == -CUSTOS_ERR_SEQ_GAP) {
		e->gaps++;
		printf("  gap   host %s: batches %llu to %llu are not in the bundle (the collector "
		       "never received them, or they are outside the export)\n", b->host,
		       (unsigned long long)c->next_seq, (unsigned long long)bv->hdr.seq - 1);
	} else if (err) {
		vr_fail(e->v, b->file, what, "chain link", "%s: the batches of host %s are not in "
			"the order their host signed them", custos_strerror(err), b->host);
	}
	chain_advance(c, &bv->hdr, bv->hash);
}

/* One batch: bytes, leaf hash, inclusion, host, signature, payload. */
static void one_batch(struct ev *e, const struct bundle_batch *b, struct buf *raw)
{
	struct vr *v = e->v;
	uint8_t *p, leaf[MERKLE_HASH_LEN];
	const struct vr_key *k;
	struct batch_view bv;
	char what[160];
	size_t n, ki;
	int ret;

	snprintf(what, sizeof(what), "(leaf %llu, host %s, seq %llu)",
		 (unsigned long long)b->leaf, b->host, (unsigned long long)b->seq);
	if (vr_read(v, b->file, CUSTOS_SIGNED_MAX, &p, &n)) {
		vr_fail(v, b->file, what, "batch", "missing or unreadable");
		return;
	}
	merkle_leaf_hash(p, n, leaf);
	if (memcmp(leaf, b->leaf_hash, sizeof(leaf)) != 0)
		vr_fail(v, b->file, what, "leaf hash", "the batch is not the one the custody log "
			"holds at leaf %llu", (unsigned long long)b->leaf);
	else if (merkle_verify_inclusion(b->leaf, v->cp.size, leaf, b->path, b->path_len,
					 v->cp.root) != 0)
		vr_fail(v, b->file, what, "inclusion proof", "does not lead to the signed tree "
			"head's root");
	if ((ret = batch_parse(p, n, &bv)) != 0) {
		vr_fail(v, b->file, what, "batch format", "%s", custos_strerror(ret));
	} else if (!(k = key_of(v, b->host, &ki))) {
		vr_fail(v, b->file, what, "host key", "no verified key for host %s", b->host);
	} else if (memcmp(bv.hdr.host_id, k->pk.sign_pk, KEYS_SIGN_PK_LEN) != 0) {
		vr_fail(v, b->file, what, "batch host", "the batch was signed by another host than "
			"%s (host id does not match keys/%s.pub)", b->host, b->host);
	} else if ((ret = batch_verify_signature(&bv, k->pk.sign_pk)) != 0) {
		vr_fail(v, b->file, what, "batch signature", "%s", custos_strerror(ret));
	} else if (bv.hdr.seq != b->seq) {
		vr_fail(v, b->file, what, "batch sequence", "the batch says seq %llu",
			(unsigned long long)bv.hdr.seq);
	} else if ((ret = batch_check_payload(&bv, raw)) != 0) {
		vr_fail(v, b->file, what, "batch payload", "%s", custos_strerror(ret));
	} else {
		chain_step(e, ki, b, &bv);
		ret = bundle_derive_batch(&e->d, b->host, b->leaf, &bv, raw);
		if (ret)
			vr_fail(v, b->file, what, "records", "%s", custos_strerror(ret));
	}
	free(p);
}

static void consistency(struct ev *e)
{
	struct vr *v = e->v;
	struct checkpoint fc;
	uint8_t *t;
	size_t n;
	int ret;

	if (!e->p.has_consistency) {
		printf("  note  no consistency proof in the bundle (no earlier signed tree head "
		       "held these batches)\n");
		return;
	}
	if (vr_read(v, "custody/checkpoint-first", CHECKPOINT_MAX, &t, &n)) {
		vr_fail(v, "custody/checkpoint-first", NULL, "consistency", "missing or unreadable");
		return;
	}
	ret = checkpoint_verify(t, n, v->logname, v->cpk, &fc);
	free(t);
	if (ret || fc.size != e->p.first_size)
		vr_fail(v, "custody/checkpoint-first", NULL, "earlier tree head", "%s",
			ret ? custos_strerror(ret) : "its size is not proofs.json's first_size");
	else if (merkle_verify_consistency(fc.size, v->cp.size, fc.root, v->cp.root, e->p.cons,
					   e->p.cons_len) != 0)
		vr_fail(v, "custody/proofs.json", NULL, "consistency proof", "the log of size %llu "
			"is not a prefix of the log of size %llu", (unsigned long long)fc.size,
			(unsigned long long)v->cp.size);
	else if (e->p.n && e->p.b[e->p.n - 1].leaf >= fc.size)
		vr_fail(v, "custody/checkpoint-first", NULL, "earlier tree head",
			"does not hold every exported batch");
	else
		vr_ok(v, "the custody log only grew from the earlier signed tree head (size %llu, "
		      "holding every batch) to this one (consistency proof)",
		      (unsigned long long)fc.size);
}

static void derived(struct ev *e)
{
	struct vr_cmp *c = NULL;
	char *gaps = NULL;
	FILE *f;

	vr_cmp_close(e->v, e->jlf, e->jlc);
	e->jlf = NULL;
	e->jlc = NULL;
	if (e->v->stop)
		return;
	vr_cmp_close(e->v, e->csvf, e->csvc);
	e->csvf = NULL;
	e->csvc = NULL;
	if (!e->v->stop && bundle_derive_gaps(&e->d, &gaps) == 0 &&
	    (f = vr_cmp_open(e->v, "gaps.json", &c)) != NULL) {
		fputs(gaps, f);
		vr_cmp_close(e->v, f, c);
	}
	free(gaps);
}

/* Every file of evidence/ must be a batch proofs.json lists. */
static void orphans(struct ev *e)
{
	char dir[VR_PATH_MAX], rel[VR_PATH_MAX];
	struct dirent **d;
	int n;

	snprintf(dir, sizeof(dir), "%s/evidence", e->v->dir);
	n = scandir(dir, &d, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		size_t k;

		snprintf(rel, sizeof(rel), "evidence/%s", d[i]->d_name);
		for (k = 0; k < e->p.n && strcmp(e->p.b[k].file, rel) != 0; k++)
			;
		if (d[i]->d_name[0] != '.' && k == e->p.n && !e->v->stop)
			vr_fail(e->v, rel, NULL, "proofs", "an evidence file that custody/proofs.json "
				"does not list (no inclusion proof)");
		free(d[i]);
	}
	if (n >= 0)
		free(d);
}

static int proofs(struct ev *e)
{
	uint8_t *t;
	const char *why;
	size_t n;
	int ret;

	if (vr_read(e->v, "custody/proofs.json", BUNDLE_JSON_MAX, &t, &n)) {
		vr_fail(e->v, "custody/proofs.json", NULL, "proofs", "missing or unreadable");
		return -1;
	}
	ret = bundle_proofs_parse(t, n, &e->p, &why);
	free(t);
	if (!ret && e->p.tree_size != e->v->cp.size)
		ret = -CUSTOS_ERR_MALFORMED, why = "tree_size is not the signed tree head's";
	if (ret)
		vr_fail(e->v, "custody/proofs.json", NULL, "proofs", "%s", why);
	return ret ? -1 : 0;
}

int vr_evidence(struct vr *v)
{
	json_t *req = json_object_get(v->manifest, "request");
	struct ev e = { .v = v };
	struct buf raw;
	unsigned before;

	if (tree_head(v) || proofs(&e))
		return -1;
	if (bundle_derive_init(&e.d, json_integer_value(json_object_get(req, "from_unix_ns")),
			       json_integer_value(json_object_get(req, "to_unix_ns")),
			       e.jlf = vr_cmp_open(v, "timeline.jsonl", &e.jlc),
			       e.csvf = vr_cmp_open(v, "timeline.csv", &e.csvc)) || !e.jlf ||
	    !e.csvf) {
		vr_cmp_discard(e.jlf, e.jlc);
		vr_cmp_discard(e.csvf, e.csvc);
		bundle_derive_free(&e.d);
		bundle_proofs_free(&e.p);
		fprintf(stderr, "custos-verify: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < 64; i++)
		chain_init(&e.chain[i]);
	buf_init(&raw, CUSTOS_RAW_MAX);
	before = v->failures;
	for (size_t i = 0; i < e.p.n && !v->stop; i++)
		one_batch(&e, &e.p.b[i], &raw);
	if (!v->stop)
		orphans(&e);
	if (!v->stop && v->failures == before)
		vr_ok(v, "all %zu batches: in the custody log (inclusion proofs), signed by their "
		      "enrolled host, intact, linked in order (%zu gaps)", e.p.n, e.gaps);
	if (!v->stop)
		consistency(&e);
	if (!v->stop)
		derived(&e);
	if (!v->stop)
		vr_findings(v, &e.p);	/* alerts.json, incidents.json (findings.c) */
	vr_cmp_discard(e.jlf, e.jlc);	/* when the run stopped before derived() */
	vr_cmp_discard(e.csvf, e.csvc);
	buf_free(&raw);
	bundle_derive_free(&e.d);
	bundle_proofs_free(&e.p);
	return v->stop ? -1 : 0;
}
