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
	const uint8_t type[] = { 1, 7, 0, 0, 0, 0, 0, 0 };
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_roundtrip_and_partial),
		cmocka_unit_test(test_frame_bad_headers),
		cmocka_unit_test(test_ack_sign_verify),
	};
	return cmocka_run_group_tests_name("frame_ack", tests, setup, NULL);
}
