/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of common/procid.c, the stable process id (docs/format.md
 * 2.5): its exact text, an unknown start time gives no id, a buffer too
 * small is refused. */
#include "testutil.h"
#include "procid.h"

static void test_format(void **state)
{
	uint8_t boot[PROCID_BOOT_ID_LEN];
	char out[PROCID_STR_MAX], small[8];

	(void)state;
	for (int i = 0; i < PROCID_BOOT_ID_LEN; i++)
		boot[i] = (uint8_t)(0xb0 + i);
	assert_int_equal(procid_format(out, sizeof(out), boot, 4999999000ull, 4242), 0);
	assert_string_equal(out, "b0b1b2b3-4999999000-4242");
	assert_int_equal(procid_format(out, sizeof(out), boot, UINT64_MAX, UINT64_MAX), 0);
	assert_string_equal(out, "b0b1b2b3-18446744073709551615-18446744073709551615");
	assert_int_equal(procid_format(out, sizeof(out), boot, 0, 4242), -CUSTOS_ERR_INVAL);
	assert_string_equal(out, "");
	assert_int_equal(procid_format(small, sizeof(small), boot, 1, 1), -CUSTOS_ERR_INVAL);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_format) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
