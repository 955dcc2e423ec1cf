/* SPDX-License-Identifier: Apache-2.0 */
/* Frames and acknowledgements: the wire between agent and collector. */
#include <sodium.h>

#include "testutil.h"
#include "ack.h"
#include "frame.h"

static struct custos_keypair collector, stranger;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(custos_init(), 0);
	tu_keys(&collector, 0x33);
	tu_keys(&stranger, 0x44);
	return 0;
}

static void test_frame_roundtrip_and_partial(void **state)
{
	struct frame f;
	struct buf b;
	size_t used;
	(void)state;

	buf_init(&b, 1 << 16);
	assert_int_equal(frame_write(&b, FRAME_BATCH, (const uint8_t *)"hello", 5), 0);
	assert_int_equal(frame_write(&b, FRAME_ACK, NULL, 0), 0);
	assert_int_equal(b.len, 2 * FRAME_HEADER_LEN + 5);
	assert_memory_equal(b.data, ((const uint8_t[]){ 1, 1, 0, 0, 0, 0, 0, 5 }), 8);
	/* byte by byte, the first frame needs more until it is whole */
	for (size_t n = 0; n < FRAME_HEADER_LEN + 5; n++)
		assert_int_equal(frame_parse(b.data, n, &f, &used), -CUSTOS_ERR_AGAIN);
	assert_int_equal(frame_parse(b.data, b.len, &f, &used), 0);
	assert_int_equal(f.type, FRAME_BATCH);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "hello", 5);
	assert_int_equal(used, FRAME_HEADER_LEN + 5);
	assert_int_equal(frame_parse(b.data + used, b.len - used, &f, &used), 0);
	assert_int_equal(f.type, FRAME_ACK);
	assert_int_equal(f.len, 0);
	assert_int_equal(frame_write(&b, 9, NULL, 0), -CUSTOS_ERR_INVAL);
	buf_free(&b);
}

static void test_frame_bad_headers(void **state)
{
	const uint8_t too_big[] = { 1, 1, 0, 0, 0xff, 0xff, 0xff, 0xff };
	const uint8_t version[] = { 2, 1, 0, 0, 0, 0, 0, 0 };
	const uint8_t type[] = { 1, 4, 0, 0, 0, 0, 0, 0 };
	const uint8_t reserved[] = { 1, 1, 0, 1, 0, 0, 0, 0 };
	struct frame f;
	size_t used;
	(void)state;

	/* the length is refused from the header alone, before any payload */
	assert_int_equal(frame_parse(too_big, sizeof(too_big), &f, &used), -CUSTOS_ERR_OVERSIZED);
	assert_int_equal(frame_parse(version, sizeof(version), &f, &used), -CUSTOS_ERR_VERSION);
	assert_int_equal(frame_parse(type, sizeof(type), &f, &used), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(frame_parse(reserved, sizeof(reserved), &f, &used), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(used, 0);
}

static void make_ack(struct ack *a)
{
	memset(a, 0, sizeof(*a));
	memset(a->host_id, 0xab, sizeof(a->host_id));
	a->seq = 42;
	memset(a->batch_hash, 0xcd, sizeof(a->batch_hash));
	a->leaf_index = 1234567;
	a->received_unix_ns = 1763800000123456789ull;
}

static void test_ack_sign_verify(void **state)
{
	struct ack a, b;
	struct buf sb;
	(void)state;

	make_ack(&a);
	buf_init(&sb, ACK_MAX);
	assert_int_equal(ack_sign(&a, &collector, &sb), 0);
	assert_int_equal(ack_verify(sb.data, sb.len, collector.pub.sign_pk, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(ack_verify(sb.data, sb.len, stranger.pub.sign_pk, &b),
			 -CUSTOS_ERR_BAD_SIGNATURE);
	for (size_t i = 0; i < sb.len; i++) {
		sb.data[i] ^= 0x01;
		assert_true(ack_verify(sb.data, sb.len, collector.pub.sign_pk, &b) < 0);
		sb.data[i] ^= 0x01;
	}
	for (size_t n = 0; n < sb.len; n++)
		assert_true(ack_verify(sb.data, n, collector.pub.sign_pk, &b) < 0);
	buf_free(&sb);
}

/* docs/format.md 5.1: encode, decode, bounds, classification. */
static void test_nack(void **state)
{
	struct frame_nack n, got;
	struct buf b, fb;
	struct frame f;
	uint8_t hash[CUSTOS_HASH_LEN];
	char longr[400];
	size_t used;
	(void)state;

	buf_init(&b, 4096);
	buf_init(&fb, 4096);
	memset(hash, 0x5c, sizeof(hash));
	frame_nack_set(&n, -CUSTOS_ERR_UNKNOWN_HOST, hash, "batch refused: unknown host");
	assert_int_equal(n.error, CUSTOS_ERR_UNKNOWN_HOST);
	assert_int_equal(frame_nack_encode(&b, &n), 0);
	assert_true(b.len <= FRAME_NACK_MAX);
	assert_int_equal(frame_nack_decode(b.data, b.len, &got), 0);
	assert_int_equal(got.error, CUSTOS_ERR_UNKNOWN_HOST);
	assert_int_equal(got.batch_hash_len, CUSTOS_HASH_LEN);
	assert_memory_equal(got.batch_hash, hash, CUSTOS_HASH_LEN);
	assert_int_equal(got.reason_len, strlen("batch refused: unknown host"));
	assert_true(frame_nack_permanent(got.error));
	/* type 3 travels in a frame */
	assert_int_equal(frame_write(&fb, FRAME_NACK, b.data, b.len), 0);
	assert_int_equal(frame_parse(fb.data, fb.len, &f, &used), 0);
	assert_int_equal(f.type, FRAME_NACK);
	assert_int_equal(used, fb.len);
	/* cut anything shorter: an error, the output zeroed */
	for (size_t k = 0; k < b.len; k++)
		assert_true(frame_nack_decode(b.data, k, &got) < 0 && got.error == 0);
	/* no hash (the envelope did not open); a long reason cut at a
	 * character boundary (two-byte characters from byte 255 on) */
	memset(longr, 'a', sizeof(longr));
	for (int i = 255; i + 1 < (int)sizeof(longr); i += 2)
		longr[i] = (char)0xc3, longr[i + 1] = (char)0xa9;
	longr[sizeof(longr) - 1] = '\0';
	frame_nack_set(&n, CUSTOS_ERR_IO, NULL, longr);
	assert_int_equal(n.batch_hash_len, 0);
	assert_int_equal(n.reason_len, 255);
	buf_reset(&b);
	assert_int_equal(frame_nack_encode(&b, &n), 0);
	assert_int_equal(frame_nack_decode(b.data, b.len, &got), 0);
	assert_int_equal(got.batch_hash_len, 0);
	assert_false(frame_nack_permanent(got.error));	/* the collector's disk */
	assert_false(frame_nack_permanent(9999));	/* unknown: not permanent */
	assert_true(frame_nack_permanent(CUSTOS_ERR_REPLAY));
	assert_true(frame_nack_permanent(CUSTOS_ERR_BAD_SIGNATURE));
	assert_true(frame_nack_permanent(CUSTOS_ERR_NOT_SEALED_TO_US));
	/* the longest reason with a hash fits in FRAME_NACK_MAX */
	memset(longr, 'r', sizeof(longr));
	longr[sizeof(longr) - 1] = '\0';
	frame_nack_set(&n, CUSTOS_ERR_DECOMPRESSION_BOMB, hash, longr);
	assert_int_equal(n.reason_len, FRAME_NACK_REASON_MAX);
	buf_reset(&b);
	assert_int_equal(frame_nack_encode(&b, &n), 0);
	assert_true(b.len <= FRAME_NACK_MAX);
	assert_int_equal(frame_nack_decode(b.data, b.len, &got), 0);
	assert_int_equal(got.reason_len, FRAME_NACK_REASON_MAX);
	/* a hash of another length is malformed, both ways */
	n.batch_hash_len = 5;
	assert_int_equal(frame_nack_encode(&b, &n), -CUSTOS_ERR_INVAL);
	buf_reset(&b);
	assert_int_equal(cbw_map(&b, 3), 0);
	assert_int_equal(cbw_uint(&b, 0), 0);
	assert_int_equal(cbw_uint(&b, 12), 0);
	assert_int_equal(cbw_uint(&b, 1), 0);
	assert_int_equal(cbw_bytes(&b, hash, 5), 0);
	assert_int_equal(cbw_uint(&b, 2), 0);
	assert_int_equal(cbw_bytes(&b, "x", 1), 0);
	assert_int_equal(frame_nack_decode(b.data, b.len, &got), -CUSTOS_ERR_MALFORMED);
	buf_free(&b);
	buf_free(&fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_roundtrip_and_partial),
		cmocka_unit_test(test_frame_bad_headers),
		cmocka_unit_test(test_ack_sign_verify),
		cmocka_unit_test(test_nack),
	};
	return cmocka_run_group_tests_name("frame_ack", tests, setup, NULL);
}
