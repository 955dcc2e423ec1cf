/* SPDX-License-Identifier: Apache-2.0 */
/* audit_text: the fields of libaudit's messages (quoted, bare, "?" and
 * hex-encoded values), the source an authentication came from, and
 * malformed or hostile texts refused or read within their bounds; an
 * auth record's values as the index and incident show write them; the
 * auth record kind through the record schema and JSON. */
#include "testutil.h"
#include "audit_text.h"
#include "record_json.h"

#define SU_FAILED "op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/bin/su\" " \
	"hostname=? addr=? terminal=? res=failed"
#define SSHD_FAILED "op=PAM:authentication grantors=? acct=\"admin\" exe=\"/usr/sbin/sshd\" " \
	"hostname=192.0.2.7 addr=192.0.2.7 terminal=ssh res=failed"

static int field(const char *text, const char *key, char *out, size_t cap)
{
	return audit_text_field((const uint8_t *)text, strlen(text), key, out, cap);
}

static void test_pam_fields(void **state)
{
	char v[AUDIT_TEXT_VALUE_MAX];

	(void)state;
	assert_int_equal(field(SU_FAILED, "op", v, sizeof(v)), 0);
	assert_string_equal(v, "PAM:authentication");
	assert_int_equal(field(SU_FAILED, "acct", v, sizeof(v)), 0);
	assert_string_equal(v, "root");
	assert_int_equal(field(SU_FAILED, "exe", v, sizeof(v)), 0);
	assert_string_equal(v, "/usr/bin/su");
	assert_int_equal(field(SU_FAILED, "res", v, sizeof(v)), 0);
	assert_string_equal(v, "failed");
	/* "?" is "not known"; an absent key the same. */
	assert_int_equal(field(SU_FAILED, "addr", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(field(SU_FAILED, "grantors", v, sizeof(v)), 1);
	assert_int_equal(field(SU_FAILED, "uid", v, sizeof(v)), 1);
	assert_int_equal(field("acct=\"?\" res=success", "acct", v, sizeof(v)), 1);
	/* Keys match whole: "res" is not "r" nor "result". */
	assert_int_equal(field(SU_FAILED, "r", v, sizeof(v)), 1);
	assert_int_equal(field("result=1 res=success", "res", v, sizeof(v)), 0);
	assert_string_equal(v, "success");
	assert_int_equal(field(SSHD_FAILED, "addr", v, sizeof(v)), 0);
	assert_string_equal(v, "192.0.2.7");
	assert_int_equal(field(SSHD_FAILED, "terminal", v, sizeof(v)), 0);
	assert_string_equal(v, "ssh");
	/* Extra spaces, a word without '=', an empty value. */
	assert_int_equal(field("  junk  acct=\"x\"   res= ", "acct", v, sizeof(v)), 0);
	assert_string_equal(v, "x");
	assert_int_equal(field("acct=\"x\" res= terminal=tty1", "res", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(field("", "acct", v, sizeof(v)), 1);
}

static void test_hex_values(void **state)
{
	char v[AUDIT_TEXT_VALUE_MAX];

	(void)state;
	/* libaudit writes an unsafe account name in hex, unquoted. */
	assert_int_equal(field("op=PAM:authentication acct=666F6F20626172 res=failed", "acct",
			       v, sizeof(v)), 0);
	assert_string_equal(v, "foo bar");
	assert_int_equal(field("acct=22726F6F7422 exe=2F746D702F6120622F7375", "exe", v,
			       sizeof(v)), 0);
	assert_string_equal(v, "/tmp/a b/su");
	assert_int_equal(field("acct=22726F6F7422", "acct", v, sizeof(v)), 0);
	assert_string_equal(v, "\"root\"");
	/* Fields libaudit never encodes stay as written. */
	assert_int_equal(field("hostname=BEEF addr=ABCD", "hostname", v, sizeof(v)), 0);
	assert_string_equal(v, "BEEF");
	/* Not hex where hex must be: odd length, lower case, other
	 * characters, an encoded NUL. */
	assert_int_equal(field("acct=726F6F7 res=failed", "acct", v, sizeof(v)),
			 -CUSTOS_ERR_MALFORMED);
	assert_string_equal(v, "");
	assert_int_equal(field("acct=726f6f74", "acct", v, sizeof(v)), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(field("acct=root", "acct", v, sizeof(v)), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(field("acct=72006F74", "acct", v, sizeof(v)), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(field("exe=", "exe", v, sizeof(v)), -CUSTOS_ERR_MALFORMED);
}

static void test_malformed(void **state)
{
	char v[AUDIT_TEXT_VALUE_MAX], small[5];
	char big[600];
	uint8_t nul[] = "acct=\"ro\0t\" res=failed";

	(void)state;
	/* An unterminated quote: the field and everything after it. */
	assert_int_equal(field("acct=\"root res=failed", "acct", v, sizeof(v)),
			 -CUSTOS_ERR_MALFORMED);
	assert_int_equal(field("acct=\"root res=failed", "res", v, sizeof(v)),
			 -CUSTOS_ERR_MALFORMED);
	/* A key inside a quoted value is not a field. */
	assert_int_equal(field("exe=\"/x res=success\" res=failed", "res", v, sizeof(v)), 0);
	assert_string_equal(v, "failed");
	/* The first of two fields of one name counts. */
	assert_int_equal(field("res=failed res=success", "res", v, sizeof(v)), 0);
	assert_string_equal(v, "failed");
	/* Bounded output. */
	assert_int_equal(field("acct=\"abcde\"", "acct", small, sizeof(small)),
			 -CUSTOS_ERR_OVERSIZED);
	assert_string_equal(small, "");
	assert_int_equal(field("acct=\"abcd\"", "acct", small, sizeof(small)), 0);
	assert_string_equal(small, "abcd");
	assert_int_equal(field("acct=6162636465", "acct", small, sizeof(small)),
			 -CUSTOS_ERR_OVERSIZED);
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "exe=\"", 5);
	big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(field(big, "exe", v, sizeof(v)), -CUSTOS_ERR_OVERSIZED);
	/* A NUL inside a quoted value; a text cut inside a value. */
	assert_int_equal(audit_text_field(nul, sizeof(nul) - 1, "acct", v, sizeof(v)),
			 -CUSTOS_ERR_MALFORMED);
	assert_int_equal(audit_text_field((const uint8_t *)"acct=\"root\"", 8, "acct", v,
					  sizeof(v)), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(audit_text_field((const uint8_t *)"res=failed", 6, "res", v, sizeof(v)),
			 0);
	assert_string_equal(v, "fa");
	assert_int_equal(field("acct=\"x\"", "acct", v, 0), -CUSTOS_ERR_INVAL);
}

static int source(const char *text, char *out, size_t cap)
{
	return audit_text_source((const uint8_t *)text, strlen(text), out, cap);
}

static void test_source(void **state)
{
	char s[128];

	(void)state;
	assert_int_equal(source(SSHD_FAILED, s, sizeof(s)), 0);
	assert_string_equal(s, "192.0.2.7");
	assert_int_equal(source("acct=\"a\" hostname=gw.example addr=? res=failed", s, sizeof(s)),
			 0);
	assert_string_equal(s, "gw.example");
	assert_int_equal(source(SU_FAILED, s, sizeof(s)), 0);
	assert_string_equal(s, "local acct=root exe=/usr/bin/su terminal=?");
	assert_int_equal(source("acct=666F6F20626172 exe=\"/bin/login\" terminal=tty1 res=failed",
				s, sizeof(s)), 0);
	assert_string_equal(s, "local acct=foo bar exe=/bin/login terminal=tty1");
	assert_int_equal(source("res=failed", s, sizeof(s)), 0);
	assert_string_equal(s, "local acct=? exe=? terminal=?");
	assert_int_equal(source("acct=\"root res=failed", s, sizeof(s)), -CUSTOS_ERR_MALFORMED);
	assert_string_equal(s, "");
	assert_int_equal(source(SU_FAILED, s, 12), 0);
	assert_string_equal(s, "local acct=");
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(audit_type_name(1100), "USER_AUTH");
	assert_string_equal(audit_type_name(1101), "USER_ACCT");
	assert_string_equal(audit_type_name(1105), "USER_START");
	assert_string_equal(audit_type_name(1108), "USER_CHAUTHTOK");
	assert_string_equal(audit_type_name(1112), "USER_LOGIN");
	assert_string_equal(audit_type_name(1124), "USER_TTY");
	assert_string_equal(audit_type_name(1138), "SOFTWARE_UPDATE");
	assert_string_equal(audit_type_name(1005), "USER");
	assert_null(audit_type_name(1139));
	assert_null(audit_type_name(2100));
	assert_null(audit_type_name(1099));
}

/* A field of an auth record's text as the index (as_is) and incident show
 * (line) write it; the text cut after cut bytes (0: whole), as the agent
 * cuts a long message. */
struct value_case {
	const char *text;
	size_t cut;
	const char *key, *as_is, *line;
};

static const struct value_case value_cases[] = {
	/* Present: quoted and bare, alike both ways. */
	{ SU_FAILED, 0, "acct", "root", "root" },
	{ SU_FAILED, 0, "res", "failed", "failed" },
	{ SSHD_FAILED, 0, "addr", "192.0.2.7", "192.0.2.7" },
	/* Missing, or "?" quoted or not. */
	{ SU_FAILED, 0, "uid", "?", "?" },
	{ SU_FAILED, 0, "addr", "?", "?" },
	{ "acct=\"?\" res=success", 0, "acct", "?", "?" },
	{ "", 0, "res", "?", "?" },
	/* Quoted with a space; hex-encoded with a space, a newline, UTF-8:
	 * kept as is, each byte outside '!'..'~' a '?' on a line. */
	{ "exe=\"/tmp/a b\" res=ok", 0, "exe", "/tmp/a b", "/tmp/a?b" },
	{ "acct=666F6F20626172 res=failed", 0, "acct", "foo bar", "foo?bar" },
	{ "acct=610A7265733D6F6B", 0, "acct", "a\nres=ok", "a?res=ok" },
	{ "acct=C3A97665", 0, "acct", "\xc3\xa9ve", "??ve" },
	/* Broken: not hex where hex must be (the next field still reads), an
	 * unterminated quote (nothing after it reads). */
	{ "acct=726f6f74 res=failed", 0, "acct", "?", "(malformed)" },
	{ "acct=726f6f74 res=failed", 0, "res", "failed", "failed" },
	{ "acct=\"root res=failed", 0, "res", "?", "(malformed)" },
	/* Truncated inside exe's quotes: what lies before the cut reads as
	 * ever, the value cut and all after it are broken; a bare value cut
	 * is read cut. */
	{ SU_FAILED, 50, "acct", "root", "root" },
	{ SU_FAILED, 50, "exe", "?", "(malformed)" },
	{ SU_FAILED, 50, "res", "?", "(malformed)" },
	{ SSHD_FAILED, sizeof(SSHD_FAILED) - 4, "res", "fai", "fai" },
};

/* One case's field, how says. OUT: out (cap bytes). Returns out. */
static const char *case_value(const struct value_case *c, enum audit_text_show how, char *out,
			      size_t cap)
{
	static struct custos_auth a;
	size_t len = c->cut ? c->cut : strlen(c->text);

	memset(&a, 0, sizeof(a));
	assert_true(len <= sizeof(a.text));
	memcpy(a.text, c->text, len);
	a.text_len = (uint32_t)len;
	a.text_truncated = c->cut != 0;
	return audit_text_value(&a, c->key, how, out, cap);
}

/* What the index (as is) and incident show (one line) write of a field:
 * the value when known; "?" when absent or "?"; a broken field "?" as is,
 * "(malformed)" on a line; on a line no byte outside '!'..'~'. */
static void test_text_value(void **state)
{
	static struct custos_auth a;
	char v[AUDIT_TEXT_VALUE_MAX], small[5];

	(void)state;
	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const struct value_case *c = &value_cases[i];

		assert_string_equal(case_value(c, AUDIT_TEXT_AS_IS, v, sizeof(v)), c->as_is);
		assert_string_equal(case_value(c, AUDIT_TEXT_ONE_LINE, v, sizeof(v)), c->line);
	}
	/* Longer than the room for it ("root": 4 bytes fit, "failed" not):
	 * broken too. */
	assert_string_equal(case_value(&value_cases[0], AUDIT_TEXT_AS_IS, small, sizeof(small)),
			    "root");
	assert_string_equal(case_value(&value_cases[1], AUDIT_TEXT_AS_IS, small, sizeof(small)),
			    "?");
	assert_string_equal(case_value(&value_cases[1], AUDIT_TEXT_ONE_LINE, small,
				       sizeof(small)), "(mal");
	/* A text_len past the text's size reads no further than the text. */
	memset(a.text, ' ', sizeof(a.text));
	memcpy(a.text + sizeof(a.text) - 6, "res=ok", 6);
	a.text_len = UINT32_MAX;
	a.text_truncated = UINT64_MAX;
	assert_string_equal(audit_text_value(&a, "res", AUDIT_TEXT_AS_IS, v, sizeof(v)), "ok");
	/* The type: its name, or type=N. */
	assert_string_equal(audit_type_label(1100, v, sizeof(v)), "USER_AUTH");
	assert_string_equal(audit_type_label(1999, v, sizeof(v)), "type=1999");
	assert_string_equal(audit_type_label(1999, small, sizeof(small)), "type");
}

/* The auth kind round-trips through the schema and prints its text. */
static void test_auth_record(void **state)
{
	static struct custos_record rec, back;
	struct buf b;
	struct cbr r;
	json_t *obj = NULL;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.kind = CUSTOS_REC_AUTH;
	rec.ts_ns = 42;
	tu_subject(&rec.subj, 77);
	rec.u.auth.result = 120;
	rec.u.auth.op = 44;
	rec.u.auth.audit_type = 1100;
	record_set_bytes(rec.u.auth.text, &rec.u.auth.text_len, sizeof(rec.u.auth.text),
			 SU_FAILED);
	buf_init(&b, 1 << 20);
	assert_int_equal(record_encode(&b, &rec), 0);
	cbr_init(&r, b.data, b.len);
	assert_int_equal(record_decode(&r, &back), 0);
	assert_memory_equal(&rec, &back, sizeof(rec));
	assert_string_equal(record_kind_name(CUSTOS_REC_AUTH), "auth");
	assert_int_equal(record_kind_by_name("auth"), CUSTOS_REC_AUTH);
	assert_int_equal(record_json(&rec, &obj), 0);
	assert_string_equal(json_string_value(json_object_get(obj, "kind")), "auth");
	assert_int_equal(json_integer_value(json_object_get(obj, "audit_type")), 1100);
	assert_string_equal(json_string_value(json_object_get(obj, "text")), SU_FAILED);
	assert_int_equal(json_integer_value(json_object_get(obj, "text_truncated")), 0);
	json_decref(obj);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pam_fields), cmocka_unit_test(test_hex_values),
		cmocka_unit_test(test_malformed), cmocka_unit_test(test_source),
		cmocka_unit_test(test_type_names), cmocka_unit_test(test_text_value),
		cmocka_unit_test(test_auth_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
