/* SPDX-License-Identifier: Apache-2.0 */
/* Batches: sign and check, tampering at every byte, chains with dropped,
 * duplicated and reordered batches, decompression bombs, lying headers. */
#include <sodium.h>

#include "testutil.h"
#include "cbor_io.h"
#include "chain.h"
#include "compress.h"

static struct custos_keypair host, other;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(custos_init(), 0);
	tu_keys(&host, 0x11);
	tu_keys(&other, 0x22);
	return 0;
}

static void test_sign_and_check(void **state)
{
	uint8_t hash[CUSTOS_HASH_LEN];
	struct batch_view v;
	struct buf sb;
	(void)state;

	buf_init(&sb, CUSTOS_SIGNED_MAX);
	tu_batch(&sb, &host, 0, NULL, 50, hash);
	assert_int_equal(tu_check_signed(sb.data, sb.len, &host), 0);
	assert_int_equal(batch_parse(sb.data, sb.len, &v), 0);
	assert_memory_equal(v.hash, hash, sizeof(hash));
	assert_int_equal(v.hdr.record_count, 50);
	assert_int_equal(v.hdr.first_ts_ns, 1000000);
	assert_int_equal(v.hdr.last_ts_ns, 1000049);
	assert_memory_equal(v.hdr.host_id, host.pub.sign_pk, KEYS_SIGN_PK_LEN);
	assert_int_equal(batch_verify_signature(&v, other.pub.sign_pk), -CUSTOS_ERR_BAD_SIGNATURE);
	/* signed by a host the checker has not enrolled */
	assert_int_equal(tu_check_signed(sb.data, sb.len, &other), -CUSTOS_ERR_UNKNOWN_HOST);
	buf_free(&sb);
}

static void test_empty_builder_refused(void **state)
{
	struct batch_builder b;
	struct batch_header h = { 0 };
	uint8_t hash[CUSTOS_HASH_LEN];
	struct buf sb;
	(void)state;

	batch_builder_init(&b);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	assert_int_equal(batch_sign(&b, &h, &host, &sb, hash), -CUSTOS_ERR_INVAL);
	batch_builder_free(&b);
	buf_free(&sb);
}

/* Where each part of a signed batch lies, found by parsing it. */
struct layout {
	size_t hdr_start, hdr_end, sig_start, sig_end, pay_start, pay_end;
};

static void find_layout(const struct buf *sb, struct layout *l)
{
	struct batch_view v;

	assert_int_equal(batch_parse(sb->data, sb->len, &v), 0);
	l->hdr_start = (size_t)(v.header_bytes - sb->data);
	l->hdr_end = l->hdr_start + v.header_len;
	l->sig_start = (size_t)(v.sig - sb->data);
	l->sig_end = l->sig_start + CUSTOS_SIG_LEN;
	l->pay_start = (size_t)(v.payload - sb->data);
	l->pay_end = l->pay_start + v.payload_len;
}

static int in(size_t i, size_t a, size_t b)
{
	return i >= a && i < b;
}

static int is_parse_error(int e)
{
	return e == -CUSTOS_ERR_MALFORMED || e == -CUSTOS_ERR_TRUNCATED ||
	       e == -CUSTOS_ERR_OVERSIZED || e == -CUSTOS_ERR_NONCANONICAL ||
	       e == -CUSTOS_ERR_VERSION;
}

static void check_flip(struct buf *sb, const struct layout *l, size_t i, uint8_t mask)
{
	struct batch_view v;
	int e, parsed;

	sb->data[i] ^= mask;
	e = tu_check_signed(sb->data, sb->len, &host);
	parsed = batch_parse(sb->data, sb->len, &v);
	if (in(i, l->sig_start, l->sig_end))
		assert_int_equal(e, -CUSTOS_ERR_BAD_SIGNATURE);
	else if (in(i, l->pay_start, l->pay_end))
		assert_int_equal(e, -CUSTOS_ERR_CORRUPT_PAYLOAD);
	else if (in(i, l->hdr_start, l->hdr_end) && parsed == 0)
		/* a header that still parses: the signature catches it, or the
		 * signer is not ours any more */
		assert_int_equal(e, memcmp(v.hdr.host_id, host.pub.sign_pk, KEYS_SIGN_PK_LEN)
					    ? -CUSTOS_ERR_UNKNOWN_HOST : -CUSTOS_ERR_BAD_SIGNATURE);
	else
		assert_true(is_parse_error(e));
	sb->data[i] ^= mask;
}

static void test_every_flipped_byte_is_caught(void **state)
{
	uint8_t hash[CUSTOS_HASH_LEN];
	struct layout l;
	struct buf sb;
	(void)state;

	buf_init(&sb, CUSTOS_SIGNED_MAX);
	tu_batch(&sb, &host, 3, hash, 5, hash);
	find_layout(&sb, &l);
	for (size_t i = 0; i < sb.len; i++) {
		check_flip(&sb, &l, i, 0x01);
		check_flip(&sb, &l, i, 0x80);
		check_flip(&sb, &l, i, 0xff);
	}
	assert_int_equal(tu_check_signed(sb.data, sb.len, &host), 0);
	buf_free(&sb);
}

static void test_truncated_and_oversized(void **state)
{
	uint8_t hash[CUSTOS_HASH_LEN];
	struct batch_view v;
	struct buf sb;
	uint8_t *big;
	(void)state;

	buf_init(&sb, CUSTOS_SIGNED_MAX);
	tu_batch(&sb, &host, 0, NULL, 3, hash);
	for (size_t n = 0; n < sb.len; n++)
		assert_int_equal(batch_parse(sb.data, n, &v), -CUSTOS_ERR_TRUNCATED);
	/* trailing garbage after a complete batch */
	assert_int_equal(buf_put(&sb, "x", 1), 0);
	assert_int_equal(batch_parse(sb.data, sb.len, &v), -CUSTOS_ERR_MALFORMED);
	big = calloc(1, CUSTOS_SIGNED_MAX + 1);
	assert_non_null(big);
	assert_int_equal(batch_parse(big, CUSTOS_SIGNED_MAX + 1, &v), -CUSTOS_ERR_OVERSIZED);
	free(big);
	buf_free(&sb);
}

static void test_random_inputs(void **state)
{
	uint8_t junk[4096];
	struct batch_view v;
	(void)state;

	for (int i = 0; i < 2000; i++) {
		size_t n = randombytes_uniform(sizeof(junk));
		int e;

		randombytes_buf(junk, n);
		/* also start like a real batch, to get past the first byte */
		if (i % 2)
			junk[0] = 0xa3, junk[1] = 0x00;
		e = batch_parse(junk, n, &v);
		assert_true(e < 0 && is_parse_error(e));
	}
}

/* Sign an arbitrary header and payload, so a test can make a host lie.
 * This is the construction of docs/format.md written out independently. */
static void sign_custom(struct batch_header *h, const uint8_t *payload, size_t n, struct buf *out)
{
	uint8_t msg[sizeof(BATCH_SIG_DOMAIN) + CUSTOS_HASH_LEN], sig[CUSTOS_SIG_LEN];
	struct buf hb;

	h->version = CUSTOS_FORMAT_VERSION;
	h->compression = CUSTOS_COMPRESSION_ZLIB;
	memcpy(h->host_id, host.pub.sign_pk, KEYS_SIGN_PK_LEN);
	h->payload_len = n;
	crypto_generichash(h->payload_hash, CUSTOS_HASH_LEN, payload, n, NULL, 0);
	buf_init(&hb, CUSTOS_HEADER_MAX);
	assert_int_equal(batch_header_encode(&hb, h), 0);
	memcpy(msg, "CUSTOS-BATCH-SIG-V1", 20);
	crypto_generichash(msg + 20, CUSTOS_HASH_LEN, hb.data, hb.len, NULL, 0);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), host.sign_sk);
	cbw_map(out, 3);
	cbw_uint(out, 0);
	cbw_bytes(out, hb.data, hb.len);
	cbw_uint(out, 1);
	cbw_bytes(out, sig, sizeof(sig));
	cbw_uint(out, 2);
	assert_int_equal(cbw_bytes(out, payload, n), 0);
	buf_free(&hb);
}

static int check_custom(uint64_t raw_len, const uint8_t *raw, size_t raw_n, uint64_t count,
			uint64_t first, uint64_t last)
{
	struct batch_header h = { 0 };
	struct buf payload, sb;
	int e;

	buf_init(&payload, CUSTOS_PAYLOAD_MAX);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	assert_int_equal(compress_payload(raw, raw_n, &payload), 0);
	h.raw_len = raw_len;
	h.record_count = count;
	h.first_ts_ns = first;
	h.last_ts_ns = last;
	sign_custom(&h, payload.data, payload.len, &sb);
	e = tu_check_signed(sb.data, sb.len, &host);
	buf_free(&payload);
	buf_free(&sb);
	return e;
}

static void test_decompression_bomb(void **state)
{
	size_t n = 8u << 20;
	uint8_t *zeros = calloc(1, n);
	(void)state;

	assert_non_null(zeros);
	/* 8 MiB of zeros deflates to ~8 KiB; the header admits to 1000 bytes */
	assert_int_equal(check_custom(1000, zeros, n, 1, 0, 0), -CUSTOS_ERR_DECOMPRESSION_BOMB);
	/* a header that admits more than the hard limit is refused at once */
	assert_int_equal(check_custom(CUSTOS_RAW_MAX + 1, zeros, 10, 1, 0, 0),
			 -CUSTOS_ERR_OVERSIZED);
	/* a payload shorter than declared */
	assert_int_equal(check_custom(20, zeros, 10, 1, 0, 0), -CUSTOS_ERR_CORRUPT_PAYLOAD);
	free(zeros);
}

static void test_lying_headers(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct buf raw;
	(void)state;

	assert_non_null(r);
	buf_init(&raw, CUSTOS_RAW_MAX);
	tu_exec(r, 1, 500);
	assert_int_equal(record_encode(&raw, r), 0);
	assert_int_equal(check_custom(raw.len, raw.data, raw.len, 1, 500, 500), 0);
	/* wrong count, wrong time range, not records at all */
	assert_int_equal(check_custom(raw.len, raw.data, raw.len, 2, 500, 500),
			 -CUSTOS_ERR_CORRUPT_PAYLOAD);
	assert_int_equal(check_custom(raw.len, raw.data, raw.len, 1, 400, 500),
			 -CUSTOS_ERR_CORRUPT_PAYLOAD);
	assert_int_equal(check_custom(4, (const uint8_t *)"junk", 4, 1, 0, 0),
			 -CUSTOS_ERR_CORRUPT_PAYLOAD);
	/* zero records and an inverted range are malformed headers */
	assert_int_equal(check_custom(raw.len, raw.data, raw.len, 0, 500, 500),
			 -CUSTOS_ERR_MALFORMED);
	assert_int_equal(check_custom(raw.len, raw.data, raw.len, 1, 600, 500),
			 -CUSTOS_ERR_MALFORMED);
	buf_free(&raw);
	free(r);
}

/* Five chained batches; the tests replay them in various orders. */
static struct buf chain_b[5];
static uint8_t chain_h[5][CUSTOS_HASH_LEN];

static void make_chain(void)
{
	for (int i = 0; i < 5; i++) {
		buf_init(&chain_b[i], CUSTOS_SIGNED_MAX);
		tu_batch(&chain_b[i], &host, (uint64_t)i, i ? chain_h[i - 1] : NULL, 2, chain_h[i]);
	}
}

static void free_chain(void)
{
	for (int i = 0; i < 5; i++)
		buf_free(&chain_b[i]);
}

/* Feed batches in the given order; expected[i] is the verdict for each. */
static void feed(const int *order, const int *expected, int n)
{
	struct chain_state c;

	chain_init(&c);
	for (int i = 0; i < n; i++) {
		struct batch_view v;

		assert_int_equal(batch_parse(chain_b[order[i]].data, chain_b[order[i]].len, &v), 0);
		assert_int_equal(chain_check(&c, &v.hdr), expected[i]);
		/* like the collector: replays are refused, gaps and breaks kept */
		if (expected[i] != -CUSTOS_ERR_REPLAY)
			chain_advance(&c, &v.hdr, v.hash);
	}
}

static void test_chain(void **state)
{
	(void)state;
	make_chain();
	feed((const int[]){ 0, 1, 2, 3, 4 }, (const int[]){ 0, 0, 0, 0, 0 }, 5);
	/* dropped */
	feed((const int[]){ 0, 1, 3, 4 }, (const int[]){ 0, 0, -CUSTOS_ERR_SEQ_GAP, 0 }, 4);
	/* duplicated */
	feed((const int[]){ 0, 1, 1, 2 }, (const int[]){ 0, 0, -CUSTOS_ERR_REPLAY, 0 }, 4);
	/* reordered */
	feed((const int[]){ 0, 2, 1, 3 },
	     (const int[]){ 0, -CUSTOS_ERR_SEQ_GAP, -CUSTOS_ERR_REPLAY, 0 }, 4);
	/* a collector that first hears of the host mid-chain */
	feed((const int[]){ 2, 3 }, (const int[]){ -CUSTOS_ERR_SEQ_GAP, 0 }, 2);
	free_chain();
}

static void test_chain_broken_link(void **state)
{
	uint8_t h0[CUSTOS_HASH_LEN], h1[CUSTOS_HASH_LEN], wrong[CUSTOS_HASH_LEN];
	struct buf b0, b1;
	struct batch_view v0, v1;
	struct chain_state c;
	(void)state;

	buf_init(&b0, CUSTOS_SIGNED_MAX);
	buf_init(&b1, CUSTOS_SIGNED_MAX);
	memset(wrong, 0x5a, sizeof(wrong));
	tu_batch(&b0, &host, 0, NULL, 1, h0);
	tu_batch(&b1, &host, 1, wrong, 1, h1);
	assert_int_equal(batch_parse(b0.data, b0.len, &v0), 0);
	assert_int_equal(batch_parse(b1.data, b1.len, &v1), 0);
	chain_init(&c);
	assert_int_equal(chain_check(&c, &v0.hdr), 0);
	chain_advance(&c, &v0.hdr, v0.hash);
	assert_int_equal(chain_check(&c, &v1.hdr), -CUSTOS_ERR_CHAIN_BROKEN);

	/* sequence 0 must start from the zero hash */
	buf_reset(&b0);
	tu_batch(&b0, &host, 0, wrong, 1, h0);
	assert_int_equal(batch_parse(b0.data, b0.len, &v0), 0);
	chain_init(&c);
	assert_int_equal(chain_check(&c, &v0.hdr), -CUSTOS_ERR_CHAIN_BROKEN);
	buf_free(&b0);
	buf_free(&b1);
}

static void test_builder_limit(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct batch_builder b;
	int ret = 0;
	uint64_t added = 0;
	(void)state;

	assert_non_null(r);
	batch_builder_init(&b);
	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_CONFIG;
	r->u.agent.text_len = CUSTOS_CONFIG_MAX;
	while ((ret = batch_builder_add(&b, r)) == 0)
		added++;
	assert_int_equal(ret, -CUSTOS_ERR_OVERSIZED);
	assert_true(b.raw.len <= CUSTOS_RAW_MAX);
	assert_int_equal(b.count, added);
	batch_builder_free(&b);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_check),
		cmocka_unit_test(test_empty_builder_refused),
		cmocka_unit_test(test_every_flipped_byte_is_caught),
		cmocka_unit_test(test_truncated_and_oversized),
		cmocka_unit_test(test_random_inputs),
		cmocka_unit_test(test_decompression_bomb),
		cmocka_unit_test(test_lying_headers),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_chain_broken_link),
		cmocka_unit_test(test_builder_limit),
	};
	return cmocka_run_group_tests_name("batch", tests, setup, NULL);
}
