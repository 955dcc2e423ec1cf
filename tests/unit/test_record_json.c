/* SPDX-License-Identifier: Apache-2.0 */
/* record_json: every kind converts, names come from the schema, byte
 * strings are text only when they are printable UTF-8, and bad records
 * are refused with an error rather than printed. */
#include <arpa/inet.h>
#include "testutil.h"
#include "record_json.h"
#include "schema.h"

static struct custos_record rec;

static json_t *to_json(const struct custos_record *r)
{
	json_t *obj = NULL;

	assert_int_equal(record_json(r, &obj), 0);
	assert_non_null(obj);
	return obj;
}

static void test_exec_fields(void **state)
{
	json_t *obj, *argv;

	(void)state;
	tu_exec(&rec, 4242, 5000000000ull);
	obj = to_json(&rec);
	assert_string_equal(json_string_value(json_object_get(obj, "kind")), "exec");
	assert_int_equal(json_integer_value(json_object_get(obj, "ts_ns")), 5000000000ll);
	assert_int_equal(json_integer_value(json_object_get(obj, "pid")), 4242);
	assert_string_equal(json_string_value(json_object_get(obj, "comm")), "bash");
	assert_string_equal(json_string_value(json_object_get(obj, "exe")), "/usr/bin/cat");
	argv = json_object_get(obj, "argv");
	assert_true(json_is_array(argv));
	assert_int_equal(json_array_size(argv), 3);
	assert_string_equal(json_string_value(json_array_get(argv, 2)), "with space");
	/* Hashes are always hex, even when all zero. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "sha256"), "hex")),
			    "0000000000000000000000000000000000000000000000000000000000000000");
	/* The numeric kind is not repeated: "kind" is the name. */
	assert_int_equal(json_object_size(obj), 2 + 12 + 17);	/* envelope, subject, body */
	json_decref(obj);
}

/* One filename, as JSON: a string or the hex of its bytes. */
static void check_filename(const char *bytes, size_t n, const char *text, const char *hex)
{
	json_t *obj, *v;

	tu_exec(&rec, 1, 1);
	memcpy(rec.u.exec.filename, bytes, n);
	rec.u.exec.filename_len = (uint32_t)n;
	obj = to_json(&rec);
	v = json_object_get(obj, "filename");
	if (text) {
		assert_true(json_is_string(v));
		assert_int_equal(json_string_length(v), n);
		assert_memory_equal(json_string_value(v), text, n);
	} else {
		assert_true(json_is_object(v));
		assert_string_equal(json_string_value(json_object_get(v, "hex")), hex);
	}
	json_decref(obj);
}

static void test_bytes_text_or_hex(void **state)
{
	(void)state;
	check_filename("plain", 5, "plain", NULL);
	check_filename("caf\xc3\xa9", 5, "caf\xc3\xa9", NULL);		/* U+00E9 */
	check_filename("\xf0\x9f\x94\x92", 4, "\xf0\x9f\x94\x92", NULL);	/* U+1F512 */
	check_filename("", 0, "", NULL);
	check_filename("a\nb", 3, NULL, "610a62");			/* C0 control */
	check_filename("a\x7f", 2, NULL, "617f");			/* DEL */
	check_filename("a\0b", 3, NULL, "610062");			/* NUL */
	check_filename("\xc2\x85", 2, NULL, "c285");			/* C1: U+0085 */
	check_filename("\xff", 1, NULL, "ff");				/* not UTF-8 */
	check_filename("\xc0\xaf", 2, NULL, "c0af");			/* overlong '/' */
	check_filename("\xed\xa0\x80", 3, NULL, "eda080");		/* surrogate */
	check_filename("\xf4\x90\x80\x80", 4, NULL, "f4908080");	/* > U+10FFFF */
	check_filename("\xe2\x82", 2, NULL, "e282");			/* cut short */
}

static void test_every_kind_converts(void **state)
{
	(void)state;
	for (size_t i = 0; i < TU_NKINDS; i++) {
		const struct schema *parts[3];
		size_t nparts, nfields = 0;
		json_t *obj;

		memset(&rec, 0, sizeof(rec));
		rec.kind = tu_all_kinds[i];
		nparts = record_schema(rec.kind, parts);
		for (size_t p = 0; p < nparts; p++)
			nfields += parts[p]->count;
		obj = to_json(&rec);
		assert_string_equal(json_string_value(json_object_get(obj, "kind")),
				    record_kind_name(rec.kind));
		/* Every field has its own name: none overwrote another. */
		assert_int_equal(json_object_size(obj), nfields);
		json_decref(obj);
	}
}

static void test_chown_owner_is_not_the_subject(void **state)
{
	json_t *obj;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.kind = CUSTOS_REC_CHOWN;
	rec.subj.uid = 1000;
	rec.u.file.owner_uid = 0;
	rec.u.file.owner_gid = 4294967295u;
	obj = to_json(&rec);
	assert_int_equal(json_integer_value(json_object_get(obj, "uid")), 1000);
	assert_int_equal(json_integer_value(json_object_get(obj, "owner_uid")), 0);
	assert_int_equal(json_integer_value(json_object_get(obj, "owner_gid")), 4294967295ll);
	json_decref(obj);
}

static void test_ip_addresses_are_text(void **state)
{
	json_t *obj;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.kind = CUSTOS_REC_CONNECT;
	rec.u.net.family = AF_INET6;
	memcpy(rec.u.net.remote_addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	rec.u.net.remote_addr_len = 16;
	memcpy(rec.u.net.local_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16);
	rec.u.net.local_addr_len = 16;
	obj = to_json(&rec);
	assert_string_equal(json_string_value(json_object_get(obj, "remote_addr")), "2001:db8::1");
	assert_string_equal(json_string_value(json_object_get(obj, "local_addr")),
			    "::ffff:127.0.0.1");
	json_decref(obj);

	memset(&rec, 0, sizeof(rec));
	rec.kind = CUSTOS_REC_BIND;
	rec.u.net.family = AF_INET;
	memcpy(rec.u.net.local_addr, "ABCD", 4);
	rec.u.net.local_addr_len = 4;
	obj = to_json(&rec);
	assert_string_equal(json_string_value(json_object_get(obj, "local_addr")), "65.66.67.68");
	json_decref(obj);
}

static void test_large_unsigned_is_a_string(void **state)
{
	json_t *obj;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.kind = CUSTOS_REC_FORK;
	rec.u.fork.clone_flags = UINT64_MAX;
	rec.u.fork.child_pid = INT64_MAX;
	obj = to_json(&rec);
	assert_string_equal(json_string_value(json_object_get(obj, "clone_flags")),
			    "18446744073709551615");
	assert_int_equal(json_integer_value(json_object_get(obj, "child_pid")), INT64_MAX);
	json_decref(obj);
}

static void test_bad_records_refused(void **state)
{
	json_t *obj = NULL;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.kind = 12;			/* reserved */
	assert_int_equal(record_json(&rec, &obj), -CUSTOS_ERR_INVAL);
	assert_null(obj);

	tu_exec(&rec, 1, 1);
	rec.u.exec.argv_count = 2;	/* the bytes hold 3 */
	assert_int_equal(record_json(&rec, &obj), -CUSTOS_ERR_INVAL);
	assert_null(obj);

	tu_exec(&rec, 1, 1);
	rec.u.exec.exe_len = CUSTOS_PATH_MAX + 1;
	assert_int_equal(record_json(&rec, &obj), -CUSTOS_ERR_INVAL);
	assert_null(obj);
}

static void test_write_one_line(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	tu_exec(&rec, 7, 8);
	assert_int_equal(record_json_write(f, &rec), 0);
	assert_int_equal(record_json_write(f, &rec), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(len > 2);
	assert_int_equal(text[len - 1], '\n');
	assert_non_null(strchr(text, '\n'));
	assert_ptr_equal(strchr(text, '\n') + 1, text + len / 2);	/* two equal lines */
	assert_memory_equal(text, "{\"kind\":\"exec\",\"ts_ns\":8,\"pid\":7,", 33);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_fields),
		cmocka_unit_test(test_bytes_text_or_hex),
		cmocka_unit_test(test_every_kind_converts),
		cmocka_unit_test(test_chown_owner_is_not_the_subject),
		cmocka_unit_test(test_ip_addresses_are_text),
		cmocka_unit_test(test_large_unsigned_is_a_string),
		cmocka_unit_test(test_bad_records_refused),
		cmocka_unit_test(test_write_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
