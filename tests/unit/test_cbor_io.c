/* SPDX-License-Identifier: Apache-2.0 */
/* The CBOR cursor and writer: shortest forms out, only canonical CBOR in,
 * and no read past the end whatever a length claims. */
#include "testutil.h"
#include "cbor_io.h"

static void expect_bytes(const struct buf *b, const uint8_t *want, size_t n)
{
	assert_int_equal(b->len, n);
	assert_memory_equal(b->data, want, n);
}

static void test_uint_shortest(void **state)
{
	static const struct { uint64_t v; uint8_t enc[9]; size_t n; } cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 23, { 0x17 }, 1 },
		{ 24, { 0x18, 24 }, 2 },
		{ 255, { 0x18, 0xff }, 2 },
		{ 256, { 0x19, 0x01, 0x00 }, 3 },
		{ 65535, { 0x19, 0xff, 0xff }, 3 },
		{ 65536, { 0x1a, 0, 1, 0, 0 }, 5 },
		{ 4294967295u, { 0x1a, 0xff, 0xff, 0xff, 0xff }, 5 },
		{ 4294967296ull, { 0x1b, 0, 0, 0, 1, 0, 0, 0, 0 }, 9 },
		{ UINT64_MAX, { 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		struct cbr r;
		uint64_t v;

		buf_init(&b, 64);
		assert_int_equal(cbw_uint(&b, cases[i].v), 0);
		expect_bytes(&b, cases[i].enc, cases[i].n);
		cbr_init(&r, b.data, b.len);
		assert_int_equal(cbr_uint(&r, &v), 0);
		assert_true(v == cases[i].v);
		assert_true(cbr_done(&r));
		buf_free(&b);
	}
}

static void test_int_roundtrip(void **state)
{
	static const int64_t values[] = { 0, -1, -24, -25, -256, -257, INT64_MIN, INT64_MAX, 42 };
	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct buf b;
		struct cbr r;
		int64_t v;

		buf_init(&b, 64);
		assert_int_equal(cbw_int(&b, values[i]), 0);
		cbr_init(&r, b.data, b.len);
		assert_int_equal(cbr_int(&r, &v), 0);
		assert_true(v == values[i]);
		buf_free(&b);
	}
	/* RFC 8949 3.1: -1 is 0x20, -25 is 0x38 0x18 */
	{
		struct buf b;

		buf_init(&b, 64);
		assert_int_equal(cbw_int(&b, -1), 0);
		assert_int_equal(cbw_int(&b, -25), 0);
		expect_bytes(&b, (const uint8_t[]){ 0x20, 0x38, 0x18 }, 3);
		buf_free(&b);
	}
}

static int read_one(const uint8_t *p, size_t n)
{
	struct cbr r;
	struct cbr_item it;

	cbr_init(&r, p, n);
	return cbr_next(&r, &it);
}

static void test_rejects_noncanonical(void **state)
{
	(void)state;
	assert_int_equal(read_one((const uint8_t[]){ 0x18, 0x05 }, 2), -CUSTOS_ERR_NONCANONICAL);
	assert_int_equal(read_one((const uint8_t[]){ 0x19, 0x00, 0xff }, 3), -CUSTOS_ERR_NONCANONICAL);
	assert_int_equal(read_one((const uint8_t[]){ 0x1a, 0, 0, 0xff, 0xff }, 5),
			 -CUSTOS_ERR_NONCANONICAL);
	assert_int_equal(read_one((const uint8_t[]){ 0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff }, 9),
			 -CUSTOS_ERR_NONCANONICAL);
	/* a 1-byte string with a 1-byte length argument */
	assert_int_equal(read_one((const uint8_t[]){ 0x58, 0x01, 0x41 }, 3),
			 -CUSTOS_ERR_NONCANONICAL);
	assert_int_equal(read_one((const uint8_t[]){ 0xb8, 0x01, 0x00, 0x00 }, 4),
			 -CUSTOS_ERR_NONCANONICAL);
}

static void test_rejects_unused_kinds(void **state)
{
	(void)state;
	assert_int_equal(read_one((const uint8_t[]){ 0x5f, 0x41, 0x00, 0xff }, 4), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0x9f, 0xff }, 2), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0xbf, 0xff }, 2), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0xc0, 0x00 }, 2), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0xf9, 0x3c, 0x00 }, 3), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0xf5 }, 1), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0xf6 }, 1), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0x1c }, 1), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(read_one((const uint8_t[]){ 0xff }, 1), -CUSTOS_ERR_MALFORMED);
}

static void test_truncation_and_lying_lengths(void **state)
{
	/* a byte string claiming 2^64-1 bytes, followed by 3 */
	const uint8_t huge[] = { 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };
	const uint8_t near_wrap[] = { 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf8, 1 };
	(void)state;
	assert_int_equal(read_one(NULL, 0), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(read_one((const uint8_t[]){ 0x19, 0x01 }, 2), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(read_one((const uint8_t[]){ 0x43, 0x01, 0x02 }, 3), -CUSTOS_ERR_TRUNCATED);
	assert_int_not_equal(read_one(huge, sizeof(huge)), 0);
	assert_int_not_equal(read_one(near_wrap, sizeof(near_wrap)), 0);
}

static void test_typed_reads(void **state)
{
	/* {1: h'aabb'} */
	const uint8_t map[] = { 0xa1, 0x01, 0x42, 0xaa, 0xbb };
	const uint8_t *p;
	size_t n;
	uint64_t count;
	struct cbr r;
	(void)state;

	cbr_init(&r, map, sizeof(map));
	assert_int_equal(cbr_map(&r, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(cbr_key(&r, 1), 0);
	assert_int_equal(cbr_bytes(&r, &p, &n, 2), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(p, map + 3);
	assert_true(cbr_done(&r));

	cbr_init(&r, map, sizeof(map));
	assert_int_equal(cbr_array(&r, &count), -CUSTOS_ERR_MALFORMED);
	cbr_init(&r, map + 1, sizeof(map) - 1);
	assert_int_equal(cbr_key(&r, 2), -CUSTOS_ERR_MALFORMED);
	cbr_init(&r, map + 2, sizeof(map) - 2);
	assert_int_equal(cbr_bytes(&r, &p, &n, 1), -CUSTOS_ERR_OVERSIZED);
	assert_null(p);
}

static void test_buf_ceiling(void **state)
{
	struct buf b;
	(void)state;

	buf_init(&b, 4);
	assert_int_equal(buf_put(&b, "abcd", 4), 0);
	assert_int_equal(buf_put(&b, "e", 1), -CUSTOS_ERR_OVERSIZED);
	assert_int_equal(b.len, 4);
	assert_int_equal(cbw_uint(&b, 1), -CUSTOS_ERR_OVERSIZED);
	buf_free(&b);
	buf_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint_shortest),
		cmocka_unit_test(test_int_roundtrip),
		cmocka_unit_test(test_rejects_noncanonical),
		cmocka_unit_test(test_rejects_unused_kinds),
		cmocka_unit_test(test_truncation_and_lying_lengths),
		cmocka_unit_test(test_typed_reads),
		cmocka_unit_test(test_buf_ceiling),
	};
	return cmocka_run_group_tests_name("cbor_io", tests, NULL, NULL);
}
