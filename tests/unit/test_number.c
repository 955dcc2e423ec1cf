/* SPDX-License-Identifier: Apache-2.0 */
/* custos_parse_u64: what a command line or configuration number may be. */
#include "testutil.h"
#include "number.h"

static void test_accepted(void **state)
{
	uint64_t v = 0;
	(void)state;

	assert_int_equal(custos_parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(custos_parse_u64("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(custos_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(custos_parse_u64("10", 10, 10, &v), 0);	/* bounds inclusive */
	assert_int_equal(v, 10);
}

static void test_refused_untouched(void **state)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "-1", "1x", "0x10", "1e3", "1.0",
		"18446744073709551616",		/* overflows */
		"99999999999999999999999",
	};
	uint64_t v = 42;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(custos_parse_u64(bad[i], 0, UINT64_MAX, &v), -CUSTOS_ERR_INVAL);
		assert_int_equal(v, 42);
	}
	assert_int_equal(custos_parse_u64(NULL, 0, 10, &v), -CUSTOS_ERR_INVAL);
	assert_int_equal(custos_parse_u64("9", 10, 20, &v), -CUSTOS_ERR_INVAL);	/* below */
	assert_int_equal(custos_parse_u64("21", 10, 20, &v), -CUSTOS_ERR_INVAL);	/* above */
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused_untouched),
	};
	return cmocka_run_group_tests_name("number", tests, NULL, NULL);
}
