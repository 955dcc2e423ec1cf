/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authentication results in threshold rules (collector/corr_event.c, the
 * authentication category; collector/rules/custos_password_guessing.yml):
 * five failed PAM authentications from one source within a minute raise
 * the password-guessing alert with its classification and every record
 * referenced, grouped by the remote address when the service knows it and
 * by account, program and terminal for a local attempt; four do not, nor
 * successes, nor other message types, nor failures spread over two
 * sources or past the window; a hex-encoded account groups by its decoded
 * name; a malformed text maps no field and counts in no group.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "sigma_testutil.h"
#include "audit_text.h"
#include "corr.h"
#include "store.h"
#include "triage.h"

#define SEC 1000000000ll
#define GUESS_ID "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0012"

static char dir[] = "/tmp/custos-test-corr-auth-XXXXXX";
static struct custos_record *rec;
static struct batch_header hdr;
static uint8_t bhash[CUSTOS_HASH_LEN];
static uint32_t next_idx;

static void auth(uint64_t pid, uint64_t type, const char *text, int64_t ts)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = CUSTOS_REC_AUTH;
	rec->ts_ns = (uint64_t)ts;
	tu_subject(&rec->subj, pid);
	rec->u.auth.result = (int64_t)strlen(text) + 16;
	rec->u.auth.op = 44;
	rec->u.auth.audit_type = type;
	record_set_bytes(rec->u.auth.text, &rec->u.auth.text_len, CUSTOS_AUDIT_TEXT_MAX, text);
}

struct seen {
	int n;
	char ids[8][48], group[8][STORE_GROUP_MAX], taxonomy[8][64], technique[8][32];
	char image[8][64];
	size_t n_refs[8];
};

static int collect(void *ctx, const struct store_alert *a)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", a->rule_id);
		snprintf(s->group[s->n], sizeof(s->group[0]), "%s", a->group ? a->group : "");
		snprintf(s->taxonomy[s->n], sizeof(s->taxonomy[0]), "%s",
			 a->taxonomy ? a->taxonomy : "");
		snprintf(s->technique[s->n], sizeof(s->technique[0]), "%s",
			 a->technique ? a->technique : "");
		s->n_refs[s->n] = a->n_refs;
		snprintf(s->image[s->n], sizeof(s->image[0]), "%s", a->image ? a->image : "");
	}
	s->n++;
	return 0;
}

/* A fresh store and triage over our pack; feed is one transaction. */
struct run {
	struct store *s;
	struct triage *t;
};

static void run_open(struct run *r, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.sqlite", dir, name);
	r->s = NULL;
	assert_int_equal(store_open(path, 0, &r->s), 0);
	assert_int_equal(triage_open("collector/rules", &r->t), 0);
	assert_int_equal(store_begin(r->s), 0);
	next_idx = 0;
}

static void feed(struct run *r)
{
	uint64_t n = 0;

	assert_int_equal(triage_record(r->t, r->s, &hdr, bhash, 1, next_idx++, rec, &n), 0);
}

static struct seen run_close(struct run *r)
{
	struct seen seen;

	assert_int_equal(store_commit(r->s), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alerts(r->s, NULL, collect, &seen), 0);
	triage_close(r->t);
	store_close(r->s);
	return seen;
}

#define SU_FAIL "op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/bin/su\" " \
	"hostname=? addr=? terminal=pts/1 res=failed"
#define SSH_FAIL(a) "op=PAM:authentication grantors=? acct=\"admin\" " \
	"exe=\"/usr/sbin/sshd\" hostname=" a " addr=" a " terminal=ssh res=failed"

static void test_local_guessing(void **state)
{
	struct run r;
	struct seen seen;
	int64_t t0 = 1000 * SEC;

	(void)state;
	run_open(&r, "local");
	tu_exec(rec, 104, (uint64_t)t0);	/* the fifth's program, known to triage */
	record_set_bytes(rec->u.exec.exe, &rec->u.exec.exe_len, CUSTOS_PATH_MAX, "/usr/bin/su");
	record_set_bytes(rec->u.exec.filename, &rec->u.exec.filename_len, CUSTOS_PATH_MAX, "su");
	memcpy(rec->u.exec.argv, "su\0root", 8);	/* tu_exec's cat /etc/shadow would alert */
	rec->u.exec.argv_len = 8;
	rec->u.exec.argc = rec->u.exec.argv_count = 2;
	feed(&r);
	for (int i = 0; i < 5; i++) {	/* five su processes, 2 s apart */
		auth(100 + (uint64_t)i, 1100, SU_FAIL, t0 + i * 2 * SEC);
		feed(&r);
	}
	seen = run_close(&r);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.ids[0], GUESS_ID);
	assert_string_equal(seen.group[0], "local acct=root exe=/usr/bin/su terminal=pts/1");
	assert_string_equal(seen.taxonomy[0], "intrusion-attempts/brute-force");
	assert_string_equal(seen.technique[0], "T1110.001");
	assert_int_equal(seen.n_refs[0], 5);
	assert_string_equal(seen.image[0], "/usr/bin/su");	/* the sender's program */
}

static void test_remote_by_address(void **state)
{
	struct run r;
	struct seen seen;
	int64_t t0 = 2000 * SEC;

	(void)state;
	run_open(&r, "remote");
	for (int i = 0; i < 4; i++) {	/* 4 from each of two addresses: none */
		auth(200, 1100, SSH_FAIL("192.0.2.7"), t0 + i * SEC);
		feed(&r);
		auth(201, 1100, SSH_FAIL("198.51.100.9"), t0 + i * SEC);
		feed(&r);
	}
	auth(202, 1100, SSH_FAIL("192.0.2.7"), t0 + 5 * SEC);	/* the fifth */
	feed(&r);
	seen = run_close(&r);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.ids[0], GUESS_ID);
	assert_string_equal(seen.group[0], "192.0.2.7");
	assert_int_equal(seen.n_refs[0], 5);
}

static void test_no_alert(void **state)
{
	struct run r;
	struct seen seen;
	int64_t t0 = 3000 * SEC;

	(void)state;
	run_open(&r, "none");
	for (int i = 0; i < 4; i++) {	/* four failures */
		auth(300, 1100, SU_FAIL, t0 + i * SEC);
		feed(&r);
	}
	for (int i = 0; i < 6; i++) {	/* successes, account checks, sessions */
		auth(301, 1100, "op=PAM:authentication grantors=pam_permit acct=\"root\" "
		     "exe=\"/usr/bin/su\" hostname=? addr=? terminal=pts/1 res=success",
		     t0 + 5 * SEC);
		feed(&r);
		auth(302, 1101, "op=PAM:accounting grantors=? acct=\"root\" exe=\"/usr/bin/su\" "
		     "hostname=? addr=? terminal=pts/1 res=failed", t0 + 5 * SEC);
		feed(&r);
		auth(303, 1112, "op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=? "
		     "terminal=pts/1 res=failed", t0 + 5 * SEC);
		feed(&r);
	}
	/* Malformed: an unterminated quote before res (no field maps). */
	for (int i = 0; i < 6; i++) {
		auth(304, 1100, "op=PAM:authentication acct=\"root exe=x res=failed", t0 + 6 * SEC);
		feed(&r);
	}
	/* Forged: a user's process (effective uid 1000) sending PAM's bytes. */
	for (int i = 0; i < 6; i++) {
		auth(306, 1100, SU_FAIL, t0 + 7 * SEC);
		rec->subj.euid = 1000;
		feed(&r);
	}
	/* The fifth failure past the 60 s window of the first. */
	auth(305, 1100, SU_FAIL, t0 + 61 * SEC);
	feed(&r);
	seen = run_close(&r);
	assert_int_equal(seen.n, 0);
}

static void test_hex_account(void **state)
{
	struct run r;
	struct seen seen;
	int64_t t0 = 4000 * SEC;

	(void)state;
	run_open(&r, "hex");
	for (int i = 0; i < 5; i++) {	/* "foo bar" (a space: libaudit writes it in hex) */
		auth(400, 1100, "op=PAM:authentication grantors=? acct=666F6F20626172 "
		     "exe=\"/bin/login\" hostname=? addr=? terminal=tty2 res=failed", t0 + i * SEC);
		feed(&r);
	}
	seen = run_close(&r);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.group[0], "local acct=foo bar exe=/bin/login terminal=tty2");
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	rec = malloc(sizeof(*rec));
	assert_non_null(rec);
	memset(&hdr, 0, sizeof(hdr));
	memset(hdr.host_id, 0x11, sizeof(hdr.host_id));
	memset(hdr.boot_id, 0x22, sizeof(hdr.boot_id));
	hdr.clock_offset_ns = 1700000000 * SEC;
	memset(bhash, 0x33, sizeof(bhash));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	free(rec);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_guessing), cmocka_unit_test(test_remote_by_address),
		cmocka_unit_test(test_no_alert), cmocka_unit_test(test_hex_account),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
