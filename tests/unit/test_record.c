/* SPDX-License-Identifier: Apache-2.0 */
/* Records: every kind round-trips with every field filled, the schema
 * tables are canonical, and bad bytes get a precise error. */
#include "testutil.h"
#include "cbor_io.h"
#include "schema.h"

/* Fill every field the kind's schema names with values derived from seed;
 * byte fields get fill bytes of the given length (clamped to capacity). */
static void fill(struct custos_record *r, uint64_t kind, uint64_t seed, size_t blen)
{
	const struct schema *parts[3];
	size_t n = record_schema(kind, parts);

	memset(r, 0, sizeof(*r));
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < parts[i]->count; j++) {
			const struct schema_field *f = &parts[i]->fields[j];
			uint8_t *base = (uint8_t *)r;
			size_t len = blen < f->cap ? blen : f->cap;

			switch (f->type) {
			case SF_U64:
				*(uint64_t *)(base + f->off) = seed * 1000003u + f->key;
				break;
			case SF_I64:
				*(int64_t *)(base + f->off) = -(int64_t)(seed + f->key);
				break;
			case SF_FIXED:
				memset(base + f->off, (int)(seed + f->key) | 1, f->cap);
				break;
			case SF_BYTES:
				memset(base + f->off, 'a' + (int)(f->key % 26), len);
				*(uint32_t *)(base + f->len_off) = (uint32_t)len;
				break;
			case SF_STRV:
				/* "xx..\0" twice */
				len = len < 4 ? 4 : len;
				len = len > f->cap ? f->cap : len;
				memset(base + f->off, 'x', len);
				base[f->off + len / 2 - 1] = 0;
				base[f->off + len - 1] = 0;
				*(uint32_t *)(base + f->len_off) = (uint32_t)len;
				*(uint64_t *)(base + f->cnt_off) = 2;
				break;
			}
		}
	}
	r->kind = kind;
}

static void test_schemas_are_canonical(void **state)
{
	(void)state;
	for (size_t k = 0; k < TU_NKINDS; k++) {
		const struct schema *parts[3];
		size_t n = record_schema(tu_all_kinds[k], parts);

		assert_true(n >= 2);
		assert_int_equal(schema_check(parts, n), 0);
		assert_non_null(record_kind_name(tu_all_kinds[k]));
		assert_true(record_kind_by_name(record_kind_name(tu_all_kinds[k])) == tu_all_kinds[k]);
	}
	assert_null(record_kind_name(0));
	assert_null(record_kind_name(12));
	assert_true(record_kind_by_name("no-such-kind") == 0);
}

static void roundtrip(uint64_t kind, size_t blen)
{
	/* b zeroed: record_decode leaves the bytes past a large array's
	 * length + 1 as they were (test_record_reuse checks a reused struct) */
	struct custos_record *a = malloc(sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct buf enc, again;
	struct cbr r;

	assert_non_null(a);
	assert_non_null(b);
	buf_init(&enc, 1 << 20);
	buf_init(&again, 1 << 20);
	fill(a, kind, kind * 7 + blen, blen);
	assert_int_equal(record_encode(&enc, a), 0);
	cbr_init(&r, enc.data, enc.len);
	assert_int_equal(record_decode(&r, b), 0);
	assert_true(cbr_done(&r));
	assert_memory_equal(a, b, sizeof(*a));
	assert_int_equal(record_encode(&again, b), 0);
	assert_int_equal(enc.len, again.len);
	assert_memory_equal(enc.data, again.data, enc.len);
	buf_free(&enc);
	buf_free(&again);
	free(a);
	free(b);
}

static void test_every_kind_roundtrips(void **state)
{
	(void)state;
	for (size_t k = 0; k < TU_NKINDS; k++) {
		roundtrip(tu_all_kinds[k], 0);
		roundtrip(tu_all_kinds[k], 5);
		roundtrip(tu_all_kinds[k], 300);
		roundtrip(tu_all_kinds[k], CUSTOS_CONFIG_MAX);	/* every field at capacity */
	}
}

static void test_encode_refuses_bad_records(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct buf b;
	(void)state;

	assert_non_null(r);
	buf_init(&b, 1 << 20);
	tu_exec(r, 1, 2);
	r->kind = 12;
	assert_int_equal(record_encode(&b, r), -CUSTOS_ERR_INVAL);
	tu_exec(r, 1, 2);
	r->u.exec.exe_len = CUSTOS_PATH_MAX + 1;
	assert_int_equal(record_encode(&b, r), -CUSTOS_ERR_INVAL);
	tu_exec(r, 1, 2);
	r->u.exec.argv_count = 4;	/* blob holds 3 */
	assert_int_equal(record_encode(&b, r), -CUSTOS_ERR_INVAL);
	tu_exec(r, 1, 2);
	r->u.exec.argv_len--;		/* last element without its NUL */
	assert_int_equal(record_encode(&b, r), -CUSTOS_ERR_INVAL);
	buf_free(&b);
	free(r);
}

static int decode_bytes(const uint8_t *p, size_t n)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct cbr c;
	int ret;

	assert_non_null(r);
	cbr_init(&c, p, n);
	ret = record_decode(&c, r);
	free(r);
	return ret;
}

static void test_decode_errors(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct buf b;
	(void)state;

	assert_non_null(r);
	buf_init(&b, 1 << 20);
	tu_exec(r, 1, 2);
	assert_int_equal(record_encode(&b, r), 0);

	/* every proper prefix is an error, never a crash or a success */
	for (size_t i = 0; i < b.len; i++)
		assert_int_not_equal(decode_bytes(b.data, i), 0);
	assert_int_equal(decode_bytes(b.data, 0), -CUSTOS_ERR_TRUNCATED);

	/* unknown kind: {0: 11, 1: 0} */
	assert_int_equal(decode_bytes((const uint8_t[]){ 0xa2, 0x00, 0x0b, 0x01, 0x00 }, 5),
			 -CUSTOS_ERR_MALFORMED);
	/* a heartbeat map with a key missing: kind 98 has 2 + 4 fields */
	assert_int_equal(decode_bytes((const uint8_t[]){ 0xa2, 0x00, 0x18, 0x62, 0x01, 0x00 }, 6),
			 -CUSTOS_ERR_MALFORMED);
	/* keys out of order: {1: 0, 0: 98, ...} */
	assert_int_equal(decode_bytes((const uint8_t[]){ 0xa6, 0x01, 0x00, 0x00, 0x18, 0x62 }, 6),
			 -CUSTOS_ERR_MALFORMED);
	/* not a map */
	assert_int_equal(decode_bytes((const uint8_t[]){ 0x80 }, 1), -CUSTOS_ERR_MALFORMED);
	buf_free(&b);
	free(r);
}

/* Build heartbeat bytes by hand so one field can be made wrong. */
static void put_heartbeat(struct buf *b, uint64_t key16_value_is_bytes)
{
	assert_int_equal(cbw_map(b, 6), 0);
	cbw_uint(b, 0); cbw_uint(b, CUSTOS_REC_HEARTBEAT);
	cbw_uint(b, 1); cbw_uint(b, 5);
	cbw_uint(b, 24);
	if (key16_value_is_bytes)
		cbw_bytes(b, "x", 1);
	else
		cbw_uint(b, 1);
	cbw_uint(b, 25); cbw_uint(b, 2);
	cbw_uint(b, 28); cbw_uint(b, 3);
	cbw_uint(b, 29); cbw_uint(b, 4);
}

static void test_decode_types_and_bounds(void **state)
{
	struct buf b;
	uint8_t big[CUSTOS_COMM_MAX + 1];
	(void)state;

	buf_init(&b, 1 << 20);
	put_heartbeat(&b, 0);
	assert_int_equal(decode_bytes(b.data, b.len), 0);
	buf_reset(&b);
	put_heartbeat(&b, 1);
	assert_int_equal(decode_bytes(b.data, b.len), -CUSTOS_ERR_MALFORMED);

	/* an exec whose comm (key 10) is one byte past its capacity */
	buf_reset(&b);
	memset(big, 'c', sizeof(big));
	cbw_map(&b, 2 + 12 + 17);
	cbw_uint(&b, 0); cbw_uint(&b, CUSTOS_REC_EXEC);
	cbw_uint(&b, 1); cbw_uint(&b, 1);
	for (uint64_t k = 2; k < 10; k++) {
		cbw_uint(&b, k);
		cbw_uint(&b, 0);
	}
	cbw_uint(&b, 10);
	cbw_bytes(&b, big, sizeof(big));
	assert_int_equal(decode_bytes(b.data, b.len), -CUSTOS_ERR_OVERSIZED);
	buf_free(&b);
}

static void test_argv_with_nul_is_refused(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct buf b;
	size_t at;
	(void)state;

	assert_non_null(r);
	buf_init(&b, 1 << 20);
	tu_exec(r, 1, 2);
	assert_int_equal(record_encode(&b, r), 0);
	/* "with space" is the third argv element; put a NUL inside it */
	for (at = 0; at + 10 <= b.len; at++)
		if (memcmp(b.data + at, "with space", 10) == 0)
			break;
	assert_true(at + 10 <= b.len);
	b.data[at + 4] = 0;
	assert_int_equal(decode_bytes(b.data, b.len), -CUSTOS_ERR_MALFORMED);
	buf_free(&b);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schemas_are_canonical),
		cmocka_unit_test(test_every_kind_roundtrips),
		cmocka_unit_test(test_encode_refuses_bad_records),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_types_and_bounds),
		cmocka_unit_test(test_argv_with_nul_is_refused),
	};
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
