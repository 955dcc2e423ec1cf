/* SPDX-License-Identifier: Apache-2.0 */
/* zlib payloads: exact-length inflation, bombs stopped at the limit. */
#include <sodium.h>

#include "testutil.h"
#include "compress.h"

static void test_roundtrip(void **state)
{
	uint8_t data[10000];
	struct buf z, out;
	(void)state;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 % 13);
	buf_init(&z, 1 << 20);
	buf_init(&out, 1 << 20);
	assert_int_equal(compress_payload(data, sizeof(data), &z), 0);
	assert_true(z.len < sizeof(data));
	assert_int_equal(inflate_payload(z.data, z.len, sizeof(data), &out), 0);
	assert_int_equal(out.len, sizeof(data));
	assert_memory_equal(out.data, data, sizeof(data));
	buf_free(&z);
	buf_free(&out);
}

static void test_bomb_short_corrupt(void **state)
{
	uint8_t data[100000] = { 0 };
	struct buf z, out;
	(void)state;

	buf_init(&z, 1 << 20);
	buf_init(&out, 1 << 20);
	assert_int_equal(compress_payload(data, sizeof(data), &z), 0);
	assert_int_equal(inflate_payload(z.data, z.len, 100, &out),
			 -CUSTOS_ERR_DECOMPRESSION_BOMB);
	assert_int_equal(inflate_payload(z.data, z.len, sizeof(data) - 1, &out),
			 -CUSTOS_ERR_DECOMPRESSION_BOMB);
	assert_int_equal(inflate_payload(z.data, z.len, sizeof(data) + 1, &out),
			 -CUSTOS_ERR_CORRUPT_PAYLOAD);
	assert_int_equal(inflate_payload(z.data, z.len - 1, sizeof(data), &out),
			 -CUSTOS_ERR_CORRUPT_PAYLOAD);
	/* trailing bytes after the end of the stream */
	assert_int_equal(buf_put(&z, "x", 1), 0);
	assert_int_equal(inflate_payload(z.data, z.len, sizeof(data), &out),
			 -CUSTOS_ERR_CORRUPT_PAYLOAD);
	assert_int_equal(inflate_payload((const uint8_t *)"garbage!", 8, 10, &out),
			 -CUSTOS_ERR_CORRUPT_PAYLOAD);
	/* the output ceiling is respected too */
	buf_free(&out);
	buf_init(&out, 50);
	assert_int_equal(inflate_payload(z.data, z.len, 100, &out), -CUSTOS_ERR_OVERSIZED);
	buf_free(&z);
	buf_free(&out);
}

/* A stream exactly as long as the limit allows, at every small length:
 * the end marker may need one more inflate call after the output is full. */
static void test_exact_lengths(void **state)
{
	uint8_t data[300];
	struct buf z, out;
	(void)state;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	buf_init(&z, 1 << 20);
	buf_init(&out, sizeof(data));	/* the ceiling is the declared length */
	for (size_t n = 0; n <= sizeof(data); n++) {
		buf_reset(&z);
		assert_int_equal(compress_payload(data, n, &z), 0);
		assert_int_equal(inflate_payload(z.data, z.len, n, &out), 0);
		assert_int_equal(out.len, n);
		assert_memory_equal(out.data, data, n);
		if (n > 0)
			assert_int_equal(inflate_payload(z.data, z.len, n - 1, &out),
					 -CUSTOS_ERR_DECOMPRESSION_BOMB);
	}
	buf_free(&z);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bomb_short_corrupt),
		cmocka_unit_test(test_exact_lengths),
	};
	return cmocka_run_group_tests_name("compress", tests, NULL, NULL);
}
