/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batcher: group records into batches by size and age, then sign, seal and
 * spool them (batcher.h). docs/format.md 3 gives the batch it builds;
 * clock.c supplies header keys 2 and 8-13 at the moment of sealing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batcher.h"
#include "clock.h"
#include "error.h"
#include "seal.h"

int batcher_init(struct batcher *b, const struct batcher_opts *o)
{
	memset(b, 0, sizeof(*b));
	b->o = *o;
	batch_builder_init(&b->bb);
	buf_init(&b->signed_buf, CUSTOS_SIGNED_MAX);
	buf_init(&b->sealed_buf, CUSTOS_SEALED_MAX);
	b->scratch = calloc(1, sizeof(*b->scratch));
	spool_get_gap(o->spool, &b->gap);
	return b->scratch ? 0 : -CUSTOS_ERR_NOMEM;
}

void batcher_free(struct batcher *b)
{
	if (!b)
		return;
	batch_builder_free(&b->bb);
	buf_free(&b->signed_buf);
	buf_free(&b->sealed_buf);
	free(b->scratch);
	b->scratch = NULL;
}

uint64_t batcher_losses(const struct batcher *b)
{
	return b->lost_total + b->other_lost;
}

/* The gap record that opens the first batch after a loss (kind 102). */
static int add_gap_record(struct batcher *b, uint64_t now)
{
	struct custos_record *r = b->scratch;

	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_GAP;
	r->ts_ns = now;
	r->u.agent.text_truncated = (uint64_t)record_set_bytes(r->u.agent.text,
		&r->u.agent.text_len, CUSTOS_CONFIG_MAX, "spool full or unwritable");
	r->u.agent.lost = b->gap.lost;
	r->u.agent.batches_lost = b->gap.batches;
	r->u.agent.from_ns = b->gap.from_ns;
	r->u.agent.to_ns = b->gap.to_ns;
	b->gap_in_batch = true;
	return batch_builder_add(&b->bb, r);
}

/* The sealed batch could not be spooled: count its records as lost. */
static void count_dropped(struct batcher *b, const struct batch_header *h)
{
	uint64_t n = h->record_count - (b->gap_in_batch ? 1 : 0);

	if (b->gap.batches == 0 || h->first_ts_ns < b->gap.from_ns)
		b->gap.from_ns = h->first_ts_ns;
	if (h->last_ts_ns > b->gap.to_ns)
		b->gap.to_ns = h->last_ts_ns;
	b->gap.lost += n;
	b->gap.batches++;
	b->lost_total += n;
	if (spool_set_gap(b->o.spool, &b->gap, batcher_losses(b)))
		fprintf(stderr, "custos-agent: the pending gap could not be written to the spool's "
			"state (a crash now would lose its counts)\n");
}

int batcher_flush(struct batcher *b)
{
	struct batch_header h;
	struct clock_sample cs;
	uint8_t hash[CUSTOS_HASH_LEN];
	int ret;

	if (b->bb.count == 0)
		return 0;
	memset(&h, 0, sizeof(h));
	memcpy(h.boot_id, b->o.boot_id, CUSTOS_BOOT_ID_LEN);
	spool_chain(b->o.spool, &h.seq, h.prev_hash);
	ret = clock_sample(&cs);
	if (ret)
		return ret;
	clock_to_header(&cs, &h);
	buf_reset(&b->signed_buf);
	buf_reset(&b->sealed_buf);
	ret = batch_sign(&b->bb, &h, b->o.host, &b->signed_buf, hash);
	if (ret)
		return ret;
	ret = seal_batch(b->signed_buf.data, b->signed_buf.len, b->o.collector, &b->sealed_buf);
	if (ret)
		return ret;
	/* After a loss, stay in the gap until the spool is half empty: one
	 * gap record per episode, not one per batch that squeezes in. */
	if (b->gap.batches > 0 && !spool_has_room_low(b->o.spool, b->sealed_buf.len))
		ret = -CUSTOS_ERR_OVERSIZED;
	else
		ret = spool_put(b->o.spool, h.seq, hash, b->sealed_buf.data, b->sealed_buf.len,
				batcher_losses(b));
	if (ret == 0) {
		b->batches++;
		if (b->gap_in_batch) {
			memset(&b->gap, 0, sizeof(b->gap));	/* the gap is on record */
			spool_set_gap(b->o.spool, &b->gap, batcher_losses(b));
		}
	} else if (ret == -CUSTOS_ERR_OVERSIZED || ret == -CUSTOS_ERR_IO) {
		count_dropped(b, &h);
		if (b->gap.batches == 1)
			fprintf(stderr, "custos-agent: spool %s: dropping batches until there "
				"is room; a gap record will follow\n",
				ret == -CUSTOS_ERR_IO ? "unwritable" : "full");
		ret = ret == -CUSTOS_ERR_IO ? ret : 0;
	}
	b->gap_in_batch = false;
	return ret;
}

int batcher_add(struct batcher *b, const struct custos_record *rec, uint64_t now)
{
	int ret;

	if (b->bb.count > 0 && b->bb.raw.len >= b->o.max_bytes) {
		ret = batcher_flush(b);
		if (ret)
			return ret;
	}
	if (b->bb.count == 0) {
		b->opened_ns = now;
		if (b->gap.batches > 0 && (ret = add_gap_record(b, now)) != 0)
			return ret;
	}
	ret = batch_builder_add(&b->bb, rec);
	if (ret == -CUSTOS_ERR_OVERSIZED) {
		/* Past the hard raw limit: seal what there is, start anew. */
		if ((ret = batcher_flush(b)) != 0)
			return ret;
		b->opened_ns = now;
		if (b->gap.batches > 0 && (ret = add_gap_record(b, now)) != 0)
			return ret;
		ret = batch_builder_add(&b->bb, rec);
	}
	if (ret)
		return ret;
	b->records++;
	if (b->bb.raw.len >= b->o.max_bytes)
		return batcher_flush(b);
	return 0;
}

int batcher_tick(struct batcher *b, uint64_t now)
{
	if (b->bb.count > 0 && now - b->opened_ns >= b->o.max_delay_ns)
		return batcher_flush(b);
	return 0;
}
