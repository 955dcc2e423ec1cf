/* SPDX-License-Identifier: Apache-2.0 */
/* Sealed envelopes: only the right collector opens them, and every flipped
 * byte gets the error of the part it hit. */
#include <sodium.h>

#include "testutil.h"

static struct custos_keypair host, collector, stranger;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(custos_init(), 0);
	tu_keys(&host, 0x11);
	tu_keys(&collector, 0x33);
	tu_keys(&stranger, 0x44);
	return 0;
}

static void make_sealed(struct buf *sb, struct buf *sealed)
{
	uint8_t hash[CUSTOS_HASH_LEN];

	buf_init(sb, CUSTOS_SIGNED_MAX);
	buf_init(sealed, CUSTOS_SEALED_MAX);
	tu_batch(sb, &host, 0, NULL, 4, hash);
	assert_int_equal(seal_batch(sb->data, sb->len, &collector.pub, sealed), 0);
}

static void test_seal_open(void **state)
{
	struct buf sb, sealed, opened;
	(void)state;

	make_sealed(&sb, &sealed);
	assert_int_equal(sealed.len, sb.len + SEAL_OVERHEAD);
	buf_init(&opened, CUSTOS_SIGNED_MAX);
	assert_int_equal(seal_open(sealed.data, sealed.len, &collector, &opened), 0);
	assert_int_equal(opened.len, sb.len);
	assert_memory_equal(opened.data, sb.data, sb.len);
	assert_int_equal(tu_check_signed(opened.data, opened.len, &host), 0);
	buf_reset(&opened);
	assert_int_equal(seal_open(sealed.data, sealed.len, &stranger, &opened),
			 -CUSTOS_ERR_NOT_SEALED_TO_US);
	buf_free(&sb);
	buf_free(&sealed);
	buf_free(&opened);
}

static int expected_for(size_t i)
{
	if (i < SEAL_MAGIC_LEN)
		return -CUSTOS_ERR_MALFORMED;
	if (i == SEAL_MAGIC_LEN)
		return -CUSTOS_ERR_VERSION;
	if (i < SEAL_PREFIX_LEN)
		return -CUSTOS_ERR_NOT_SEALED_TO_US;
	return -CUSTOS_ERR_SEAL;
}

static void test_every_flipped_byte(void **state)
{
	struct buf sb, sealed, opened;
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	(void)state;

	make_sealed(&sb, &sealed);
	buf_init(&opened, CUSTOS_SIGNED_MAX);
	for (size_t i = 0; i < sealed.len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			sealed.data[i] ^= masks[m];
			buf_reset(&opened);
			assert_int_equal(seal_open(sealed.data, sealed.len, &collector, &opened),
					 expected_for(i));
			sealed.data[i] ^= masks[m];
		}
	}
	buf_free(&sb);
	buf_free(&sealed);
	buf_free(&opened);
}

static void test_truncated_and_oversized(void **state)
{
	struct buf sb, sealed, opened;
	uint8_t *big;
	(void)state;

	make_sealed(&sb, &sealed);
	buf_init(&opened, CUSTOS_SIGNED_MAX);
	for (size_t n = 0; n < sealed.len; n++) {
		int e;

		buf_reset(&opened);
		e = seal_open(sealed.data, n, &collector, &opened);
		if (n < SEAL_MAGIC_LEN + 1 || n <= SEAL_PREFIX_LEN + crypto_box_SEALBYTES)
			assert_int_equal(e, -CUSTOS_ERR_TRUNCATED);
		else
			assert_int_equal(e, -CUSTOS_ERR_SEAL);
	}
	big = calloc(1, CUSTOS_SEALED_MAX + 1);
	assert_non_null(big);
	assert_int_equal(seal_open(big, CUSTOS_SEALED_MAX + 1, &collector, &opened),
			 -CUSTOS_ERR_OVERSIZED);
	free(big);
	buf_free(&sb);
	buf_free(&sealed);
	buf_free(&opened);
}

static void test_random_inputs(void **state)
{
	uint8_t junk[512];
	struct buf opened;
	(void)state;

	buf_init(&opened, CUSTOS_SIGNED_MAX);
	for (int i = 0; i < 2000; i++) {
		size_t n = randombytes_uniform(sizeof(junk));

		randombytes_buf(junk, n);
		if (i % 2 && n >= SEAL_PREFIX_LEN) {
			memcpy(junk, SEAL_MAGIC, SEAL_MAGIC_LEN);
			junk[SEAL_MAGIC_LEN] = SEAL_VERSION;
			seal_key_id(collector.pub.box_pk, junk + SEAL_MAGIC_LEN + 1);
		}
		buf_reset(&opened);
		assert_true(seal_open(junk, n, &collector, &opened) < 0);
	}
	buf_free(&opened);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_every_flipped_byte),
		cmocka_unit_test(test_truncated_and_oversized),
		cmocka_unit_test(test_random_inputs),
	};
	return cmocka_run_group_tests_name("seal", tests, setup, NULL);
}
