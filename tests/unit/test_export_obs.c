/* SPDX-License-Identifier: Apache-2.0 */
/* export_obs (collector/export_obs.c): a successful exec becomes a process
 * observable with its executable; a failed execve attempt (result -errno,
 * empty exe: docs/capture.md) is not described as a process that ran nor
 * as a file, only counted; repeats of one process only count. An auth
 * record of an authentication attempt (USER_AUTH, USER_ACCT, USER_LOGIN)
 * becomes an attempt observable with the fields of its text and its
 * evidence reference; other auth records (USER_START...) are only
 * counted; a broken or hostile text yields no invented field. */
#include "testutil.h"
#include "export_obs.h"

static void add(struct batch_builder *b, struct custos_record *r)
{
	assert_int_equal(batch_builder_add(b, r), 0);
}

static void test_failed_exec_is_no_process(void **state)
{
	struct custos_record *r = calloc(1, sizeof(*r));
	struct batch_builder b;
	struct batch_view v;
	struct export_obs o;
	struct buf signed_batch;
	json_t *p;

	(void)state;
	assert_non_null(r);
	batch_builder_init(&b);
	tu_exec(r, 100, 1000);			/* ran /usr/bin/cat */
	add(&b, r);
	tu_exec(r, 100, 1001);			/* the same process again: counted */
	r->u.exec.start_ns = 0;			/* (as the first one's) */
	add(&b, r);
	tu_exec(r, 101, 1002);			/* execve("/tmp/nope") failed: ENOENT */
	r->u.exec.result = -2;
	r->u.exec.exe_len = 0;
	r->u.exec.exe_dev = r->u.exec.exe_ino = r->u.exec.exe_mode = 0;
	record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX,
			 "/tmp/nope");
	add(&b, r);
	tu_exec(r, 102, 1003);			/* E2BIG on a real program: still failed */
	r->u.exec.result = -7;
	r->u.exec.exe_len = 0;
	add(&b, r);

	memset(&v, 0, sizeof(v));
	v.hdr.record_count = b.count;
	v.hdr.first_ts_ns = b.first_ts_ns;
	v.hdr.last_ts_ns = b.last_ts_ns;
	buf_init(&signed_batch, 16);
	assert_int_equal(buf_put(&signed_batch, "batch", 5), 0);
	assert_int_equal(export_obs_init(&o, 0, 1000000), 0);
	assert_int_equal(export_obs_batch(&o, "laptop", 7, &signed_batch, &v, &b.raw), 0);

	assert_int_equal(json_array_size(o.list[OBS_PROC]), 1);
	p = json_array_get(o.list[OBS_PROC], 0);
	assert_string_equal(json_string_value(json_object_get(p, "exe")), "/usr/bin/cat");
	assert_int_equal(json_integer_value(json_object_get(p, "pid")), 100);
	assert_int_equal(o.records[OBS_PROC], 2);
	assert_int_equal(o.failed_exec, 2);
	assert_int_equal(json_array_size(o.list[OBS_FILE]), 0);
	assert_int_equal(o.records[OBS_FILE], 0);
	assert_int_equal(json_array_size(o.files), 1);	/* the evidence file itself */

	export_obs_free(&o);
	buf_free(&signed_batch);
	batch_builder_free(&b);
	free(r);
}

static void auth(struct custos_record *r, uint64_t pid, int64_t ts, uint64_t type,
		 const char *text)
{
	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_AUTH;
	r->ts_ns = (uint64_t)ts;
	tu_subject(&r->subj, pid);
	r->u.auth.result = (int64_t)strlen(text) + 16;
	r->u.auth.op = 44;
	r->u.auth.audit_type = type;
	record_set_bytes(r->u.auth.text, &r->u.auth.text_len, CUSTOS_AUDIT_TEXT_MAX, text);
}

static const char *s_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_auth_attempts(void **state)
{
	static const char su[] = "op=PAM:authentication grantors=? acct=\"root\" "
				 "exe=\"/usr/bin/su\" hostname=? addr=? terminal=? res=failed";
	struct custos_record *r = calloc(1, sizeof(*r));
	struct batch_builder b;
	struct batch_view v;
	struct export_obs o;
	struct buf signed_batch;
	json_t *p;

	(void)state;
	assert_non_null(r);
	batch_builder_init(&b);
	auth(r, 300, 1000, 1100, su);			/* record 0: failed su root */
	add(&b, r);
	auth(r, 300, 1001, 1100, su);			/* the same process, same text: counted */
	add(&b, r);
	auth(r, 301, 1002, 1112, "op=login acct=666F6F20626172 exe=\"/usr/sbin/sshd\" "
	     "hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res=success");
	add(&b, r);					/* record 2: hex acct "foo bar" */
	auth(r, 301, 1003, 1105, "op=PAM:session_open acct=\"root\" res=success");
	add(&b, r);					/* a session: not an attempt */
	auth(r, 302, 1004, 1100, "op=PAM:authentication acct=\"x\\x01 res=success");
	add(&b, r);					/* record 4: broken quote */
	auth(r, 303, 2000000, 1100, su);		/* out of range */
	add(&b, r);

	memset(&v, 0, sizeof(v));
	v.hdr.record_count = b.count;
	v.hdr.first_ts_ns = b.first_ts_ns;
	v.hdr.last_ts_ns = b.last_ts_ns;
	buf_init(&signed_batch, 16);
	assert_int_equal(buf_put(&signed_batch, "batch", 5), 0);
	assert_int_equal(export_obs_init(&o, 0, 1000000), 0);
	assert_int_equal(export_obs_batch(&o, "laptop", 9, &signed_batch, &v, &b.raw), 0);

	assert_int_equal(o.records[OBS_AUTH], 4);
	assert_int_equal(o.auth_other, 1);
	assert_int_equal(json_array_size(o.list[OBS_AUTH]), 3);
	p = json_array_get(o.list[OBS_AUTH], 0);
	assert_string_equal(s_of(p, "host"), "laptop");
	assert_int_equal(json_integer_value(json_object_get(p, "evidence_leaf")), 9);
	assert_int_equal(json_integer_value(json_object_get(p, "evidence_record")), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "pid")), 300);
	assert_string_equal(s_of(p, "op"), "auth");
	assert_int_equal(json_integer_value(json_object_get(p, "audit_type")), 1100);
	assert_string_equal(s_of(p, "type"), "USER_AUTH");
	assert_string_equal(s_of(p, "auth_op"), "PAM:authentication");
	assert_string_equal(s_of(p, "acct"), "root");
	assert_string_equal(s_of(p, "exe"), "/usr/bin/su");
	assert_string_equal(s_of(p, "res"), "failed");
	assert_string_equal(s_of(p, "source"), "local acct=root exe=/usr/bin/su terminal=?");
	assert_null(json_object_get(p, "addr"));	/* "?": not known, not shown */
	assert_null(json_object_get(p, "hostname"));
	assert_null(json_object_get(p, "terminal"));
	assert_true(json_is_false(json_object_get(p, "text_truncated")));

	p = json_array_get(o.list[OBS_AUTH], 1);
	assert_int_equal(json_integer_value(json_object_get(p, "evidence_record")), 2);
	assert_string_equal(s_of(p, "type"), "USER_LOGIN");
	assert_string_equal(s_of(p, "auth_op"), "login");
	assert_string_equal(s_of(p, "acct"), "foo bar");
	assert_string_equal(s_of(p, "exe"), "/usr/sbin/sshd");
	assert_string_equal(s_of(p, "addr"), "203.0.113.9");
	assert_string_equal(s_of(p, "hostname"), "203.0.113.9");
	assert_string_equal(s_of(p, "terminal"), "ssh");
	assert_string_equal(s_of(p, "res"), "success");
	assert_string_equal(s_of(p, "source"), "203.0.113.9");

	p = json_array_get(o.list[OBS_AUTH], 2);	/* broken text: only what is sure */
	assert_int_equal(json_integer_value(json_object_get(p, "evidence_record")), 4);
	assert_string_equal(s_of(p, "auth_op"), "PAM:authentication");
	assert_null(json_object_get(p, "acct"));
	assert_null(json_object_get(p, "res"));	/* inside the broken quote: not a field */
	assert_null(json_object_get(p, "source"));

	export_obs_free(&o);
	buf_free(&signed_batch);
	batch_builder_free(&b);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_exec_is_no_process),
		cmocka_unit_test(test_auth_attempts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
