/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for opening evidence as the collector and the verifier
 * do (batch.h, seal.h): a sealed envelope is opened with a fixed collector
 * key and its contents checked like a plain input; a signed batch is
 * parsed, its signature checked against a fixed host key, its payload
 * hashed and inflated, and its records iterated to the end.
 *
 * Random bytes never pass the signature or the payload hash, so the target
 * also inflates every parsed payload directly and walks its records even
 * when the hash is wrong. And a custom mutator, one time in four, inflates
 * a parsed batch's payload, mutates the records, recompresses and re-signs
 * with the fixed host key, so the whole checking path sees valid batches
 * holding mutated records too.
 *
 * Invariants, checked with abort(): every error is negative and has a
 * message; a parsed batch re-encodes to exactly the bytes it came from
 * (header and whole signed batch: canonical form); every record the
 * iterator yields re-encodes to exactly its bytes in the payload; the
 * iterator never yields more records than the header counts; failing calls
 * append nothing to their output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "batch.h"
#include "compress.h"
#include "error.h"
#include "keys.h"
#include "record.h"
#include "seal.h"
#include "fuzzkeys.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static struct custos_keypair host, collector;

/* An error code from a libcustos call: 0, or negative with a message. */
static void check_code(int ret)
{
	CHECK(ret <= 0);
	CHECK(strcmp(custos_strerror(ret), "unknown error") != 0);
}

/* p[0..n) is inside base[0..size). */
static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	return p >= base && (size_t)(p - base) <= size && n <= size - (size_t)(p - base);
}

/* Canonical form: the header re-encodes to its own bytes, and the signed
 * batch ({0: header, 1: signature, 2: payload}) to the whole input. */
static void check_canonical(const uint8_t *p, size_t n, const struct batch_view *v)
{
	struct buf hdr, all;

	CHECK(inside(v->header_bytes, v->header_len, p, n));
	CHECK(inside(v->sig, CUSTOS_SIG_LEN, p, n));
	CHECK(inside(v->payload, v->payload_len, p, n));
	CHECK(v->hdr.payload_len == v->payload_len);
	CHECK(v->hdr.record_count > 0 && v->hdr.first_ts_ns <= v->hdr.last_ts_ns);
	CHECK(v->hdr.raw_len <= CUSTOS_RAW_MAX);

	buf_init(&hdr, CUSTOS_HEADER_MAX);
	CHECK(batch_header_encode(&hdr, &v->hdr) == 0);
	CHECK(hdr.len == v->header_len && memcmp(hdr.data, v->header_bytes, hdr.len) == 0);
	buf_free(&hdr);

	buf_init(&all, CUSTOS_SIGNED_MAX);
	CHECK(cbw_map(&all, 3) == 0 && cbw_uint(&all, 0) == 0 &&
	      cbw_bytes(&all, v->header_bytes, v->header_len) == 0 && cbw_uint(&all, 1) == 0 &&
	      cbw_bytes(&all, v->sig, CUSTOS_SIG_LEN) == 0 && cbw_uint(&all, 2) == 0 &&
	      cbw_bytes(&all, v->payload, v->payload_len) == 0);
	CHECK(all.len == n && memcmp(all.data, p, n) == 0);
	buf_free(&all);
}

/* Walk the records of an inflated payload to the end or the first error. */
static void walk_records(const struct buf *raw, const struct batch_header *hdr)
{
	struct custos_record *rec = malloc(sizeof(*rec));
	struct record_iter it;
	struct buf enc;
	int ret;

	CHECK(rec != NULL);
	buf_init(&enc, CUSTOS_RAW_MAX);
	record_iter_init(&it, raw, hdr);
	for (;;) {
		size_t at = it.r.off;

		ret = record_iter_next(&it, rec);
		if (ret != 1)
			break;
		CHECK(it.seen <= hdr->record_count);
		CHECK(it.r.off > at && it.r.off <= raw->len);
		buf_reset(&enc);
		CHECK(record_encode(&enc, rec) == 0);
		CHECK(enc.len == it.r.off - at && memcmp(enc.data, raw->data + at, enc.len) == 0);
	}
	check_code(ret);
	if (ret == 0)
		CHECK(cbr_done(&it.r) && it.seen == hdr->record_count);
	buf_free(&enc);
	free(rec);
}

/* Every check of batch.h on one candidate signed batch. */
static void check_batch(const uint8_t *p, size_t n)
{
	uint8_t h[CUSTOS_HASH_LEN];
	struct batch_view v;
	struct buf raw;
	int ret;

	ret = batch_parse(p, n, &v);
	check_code(ret);
	if (ret)
		return;
	check_canonical(p, n, &v);
	check_code(batch_verify_signature(&v, host.pub.sign_pk));

	/* batch_check_payload when the hash matches; when it does not, check
	 * that it says so and inflate anyway, to reach zlib and the records. */
	buf_init(&raw, CUSTOS_RAW_MAX);
	crypto_generichash(h, sizeof(h), v.payload, v.payload_len, NULL, 0);
	if (sodium_memcmp(h, v.hdr.payload_hash, sizeof(h)) == 0) {
		ret = batch_check_payload(&v, &raw);
	} else {
		CHECK(batch_check_payload(&v, &raw) == -CUSTOS_ERR_CORRUPT_PAYLOAD);
		ret = inflate_payload(v.payload, v.payload_len, v.hdr.raw_len, &raw);
	}
	check_code(ret);
	if (ret == 0) {
		CHECK(raw.len == v.hdr.raw_len);
		walk_records(&raw, &v.hdr);
	}
	buf_free(&raw);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (custos_init() != 0 || fuzz_keys(&host, FUZZ_HOST_SEED) != 0 ||
	    fuzz_keys(&collector, FUZZ_COLLECTOR_SEED) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf opened;
	int ret;

	buf_init(&opened, CUSTOS_SIGNED_MAX);
	ret = seal_open(data, size, &collector, &opened);
	check_code(ret);
	if (ret == 0)
		check_batch(opened.data, opened.len);
	else
		CHECK(opened.len == 0);
	buf_free(&opened);

	check_batch(data, size);
	return 0;
}

/*
 * The re-signing mutation: parse data as a signed batch, inflate its
 * payload (whatever its hash), mutate the records' bytes, and sign them
 * again with the fixed host key through batch_sign, keeping the header's
 * chain and clock fields. When every mutated record still decodes, the
 * count and time range are the records' own, so the batch is fully valid;
 * otherwise the old count stays. Returns the new size, or 0 when data is
 * not a batch this can rework or the result would not fit max_size.
 */
static size_t resign_mutation(uint8_t *data, size_t size, size_t max_size)
{
	struct custos_record *rec = malloc(sizeof(*rec));
	struct batch_builder b;
	struct batch_header h;
	struct batch_view v;
	struct buf raw, out;
	uint8_t hash[CUSTOS_HASH_LEN];
	size_t room, ret = 0;
	struct cbr r;

	batch_builder_init(&b);
	buf_init(&raw, CUSTOS_RAW_MAX);
	buf_init(&out, CUSTOS_SIGNED_MAX);
	if (!rec || batch_parse(data, size, &v) != 0 ||
	    inflate_payload(v.payload, v.payload_len, v.hdr.raw_len, &raw) != 0 || raw.len == 0)
		goto out;

	/* Mutate in place in the builder's buffer, with room to grow. */
	room = raw.len + 256 < max_size ? raw.len + 256 : max_size;
	if (room < raw.len || buf_reserve(&b.raw, room) != 0)
		goto out;
	memcpy(b.raw.data, raw.data, raw.len);
	b.raw.len = LLVMFuzzerMutate(b.raw.data, raw.len, room);

	/* Recount; keep the old header's values when a record fails. */
	b.count = v.hdr.record_count;
	b.first_ts_ns = v.hdr.first_ts_ns;
	b.last_ts_ns = v.hdr.last_ts_ns;
	cbr_init(&r, b.raw.data, b.raw.len);
	for (uint64_t seen = 0, lo = UINT64_MAX, hi = 0;;) {
		if (cbr_done(&r)) {
			if (seen > 0) {
				b.count = seen;
				b.first_ts_ns = lo;
				b.last_ts_ns = hi;
			}
			break;
		}
		if (record_decode(&r, rec) != 0)
			break;
		seen++;
		lo = rec->ts_ns < lo ? rec->ts_ns : lo;
		hi = rec->ts_ns > hi ? rec->ts_ns : hi;
	}

	h = v.hdr;
	if (batch_sign(&b, &h, &host, &out, hash) != 0 || out.len > max_size)
		goto out;
	memcpy(data, out.data, out.len);
	ret = out.len;
out:
	buf_free(&out);
	buf_free(&raw);
	batch_builder_free(&b);
	free(rec);
	return ret;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size_t n = 0;

	if (seed % 4 == 0)
		n = resign_mutation(data, size, max_size);
	return n ? n : LLVMFuzzerMutate(data, size, max_size);
}
