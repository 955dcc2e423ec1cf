/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the collector's ingest path (collector/ingest.c) on a
 * state directory made by the real init/enroll/revoke subcommands:
 * accepted batches are acknowledged with their leaf index (the ack
 * verifies with the collector key); a byte-identical resend gets the
 * original ack and is not archived twice; a replay, an unknown or revoked
 * host, a forged signature, a damaged or foreign seal are refused with
 * their error and store nothing; a gap is accepted and indexed as a gap;
 * after a restart the chain state is what it was (the index is the
 * source); the enrolment log refuses tampering. With triage on, a batch
 * whose last record does not decode (signed and chained correctly) is
 * refused with no row, alert or triage state left: the next good batches
 * alert as if it had never come (triage.h invariant 4).
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "ack.h"
#include "collector.h"
#include "ingest.h"
#include "triage.h"

static char dir[96], work[64];
static struct custos_keypair host, other;

static int run(int (*fn)(int, char **), const char *a0, const char *a1, const char *a2,
	       const char *a3, const char *a4)
{
	char *argv[] = { (char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	int argc = 0;

	while (argv[argc])
		argc++;
	return fn(argc, argv);
}

static int setup(void **state)
{
	char pub[128];

	(void)state;
	assert_int_equal(custos_init(), 0);
	snprintf(work, sizeof(work), "/tmp/custos-test-ingest.XXXXXX");
	assert_non_null(mkdtemp(work));
	snprintf(dir, sizeof(dir), "%s/c", work);
	tu_keys(&host, 1);
	tu_keys(&other, 2);
	snprintf(pub, sizeof(pub), "%s/host.pub", work);
	assert_int_equal(keys_save_public(pub, &host.pub), 0);
	assert_int_equal(run(cmd_init, "init", "--dir", dir, "--name", "custos.test/log"), 0);
	assert_int_equal(run(cmd_enroll, "enroll", "--dir", dir, "--name", "web1"), 2);
	char *argv[] = { "enroll", "--dir", dir, "--name", "web1", "--key", pub, NULL };
	assert_int_equal(cmd_enroll(7, argv), 0);
	assert_int_equal(cmd_enroll(7, argv), 1);	/* never twice */
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
	return system(cmd);
}

/* Seal a signed batch to the collector of g. */
static void seal(const struct ingest *g, const struct buf *signed_batch, struct buf *env)
{
	buf_reset(env);
	assert_int_equal(seal_batch(signed_batch->data, signed_batch->len, &g->ks.kp.pub, env), 0);
}

/* Ingest; on success check the ack and return its leaf index. */
static int ingest(struct ingest *g, const struct buf *env, uint64_t seq,
		  const uint8_t hash[CUSTOS_HASH_LEN], uint64_t *leaf)
{
	struct buf ack;
	struct ack a;
	char why[512];
	int ret;

	buf_init(&ack, ACK_MAX);
	ret = ingest_envelope(g, env->data, env->len, &ack, why, sizeof(why));
	if (ret >= 0) {
		assert_int_equal(ack_verify(ack.data, ack.len, g->ks.kp.pub.sign_pk, &a), 0);
		assert_int_equal(a.seq, seq);
		assert_memory_equal(a.batch_hash, hash, CUSTOS_HASH_LEN);
		assert_memory_equal(a.host_id, host.pub.sign_pk, KEYS_SIGN_PK_LEN);
		*leaf = a.leaf_index;
	} else {
		assert_true(why[0] != '\0');
		assert_int_equal(ack.len, 0);
	}
	buf_free(&ack);
	return ret;
}

static void test_ingest_paths(void **state)
{
	struct ingest g;
	struct buf sb, env;
	uint8_t h0[CUSTOS_HASH_LEN], h1[CUSTOS_HASH_LEN], hx[CUSTOS_HASH_LEN];
	uint64_t leaf, size;
	struct custos_keypair foreign;

	(void)state;
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	buf_init(&env, CUSTOS_SEALED_MAX);
	assert_int_equal(ingest_open(&g, dir, NULL), 0);
	buf_reset(&sb);
	tu_batch(&sb, &host, 0, NULL, 3, h0);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 0, h0, &leaf), 0);
	assert_int_equal(leaf, 0);
	assert_int_equal(ingest(&g, &env, 0, h0, &leaf), 1);	/* resend: same ack */
	assert_int_equal(leaf, 0);
	assert_int_equal(g.log.size, 1);
	buf_reset(&sb);
	tu_batch(&sb, &host, 1, h0, 2, h1);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 1, h1, &leaf), 0);
	assert_int_equal(leaf, 1);
	/* seq 0 again, other content: a replay */
	buf_reset(&sb);
	tu_batch(&sb, &host, 0, NULL, 5, hx);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 0, hx, &leaf), -CUSTOS_ERR_REPLAY);
	/* an unknown host, a forged signature, a damaged seal, another collector */
	buf_reset(&sb);
	tu_batch(&sb, &other, 0, NULL, 1, hx);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 0, hx, &leaf), -CUSTOS_ERR_UNKNOWN_HOST);
	buf_reset(&sb);
	tu_batch(&sb, &host, 2, h1, 1, hx);
	struct batch_view v;
	assert_int_equal(batch_parse(sb.data, sb.len, &v), 0);
	sb.data[v.sig - sb.data + 10] ^= 0x20;
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 2, hx, &leaf), -CUSTOS_ERR_BAD_SIGNATURE);
	env.data[env.len - 1] ^= 1;
	assert_int_equal(ingest(&g, &env, 2, hx, &leaf), -CUSTOS_ERR_SEAL);
	tu_keys(&foreign, 9);
	buf_reset(&env);
	assert_int_equal(seal_batch(sb.data, sb.len, &foreign.pub, &env), 0);
	assert_int_equal(ingest(&g, &env, 2, hx, &leaf), -CUSTOS_ERR_NOT_SEALED_TO_US);
	assert_int_equal(g.log.size, 2);	/* nothing refused was stored */
	/* a gap: accepted */
	buf_reset(&sb);
	tu_batch(&sb, &host, 5, h1, 1, hx);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 5, hx, &leaf), 0);
	assert_int_equal(leaf, 2);
	assert_int_equal(store_indexed(g.store, &size), 0);
	assert_int_equal(size, 3);
	ingest_close(&g);

	/* restart: the chain continues from the index */
	assert_int_equal(ingest_open(&g, dir, NULL), 0);
	buf_reset(&sb);
	tu_batch(&sb, &host, 5, h1, 1, hx);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 5, hx, &leaf), 1);	/* resend after restart */
	assert_int_equal(leaf, 2);
	buf_reset(&sb);
	tu_batch(&sb, &host, 0, NULL, 3, h0);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 0, h0, &leaf), 1);	/* an old one, same bytes */
	assert_int_equal(leaf, 0);
	buf_reset(&sb);
	tu_batch(&sb, &host, 4, h1, 1, hx);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 4, hx, &leaf), -CUSTOS_ERR_REPLAY);
	/* revoked: refused from the next reload on */
	assert_int_equal(run(cmd_revoke, "revoke", "--dir", dir, "--name", "web1"), 0);
	assert_int_equal(keystore_reload(&g.ks), 0);
	buf_reset(&sb);
	tu_batch(&sb, &host, 6, hx, 1, h1);
	seal(&g, &sb, &env);
	assert_int_equal(ingest(&g, &env, 6, h1, &leaf), -CUSTOS_ERR_UNKNOWN_HOST);
	assert_int_equal(g.log.size, 3);
	ingest_close(&g);
	buf_free(&sb);
	buf_free(&env);
}

/* --- triage and a refused batch (triage.h invariant 4) ------------------ */

static const char rule_evil[] =
	"title: Evil run\nid: r-evil\nlevel: high\n"
	"logsource:\n  product: linux\n  category: process_creation\n"
	"detection:\n  sel:\n    Image|endswith: /evil\n  condition: sel\n";
static const char rule_web_shell[] =	/* needs the process table: the parent */
	"title: Shell from web\nid: r-web\nlevel: high\n"
	"logsource:\n  product: linux\n  category: process_creation\n"
	"detection:\n  sel:\n    ParentImage|endswith: /nginx\n    Image|endswith: /sh\n"
	"  condition: sel\n";
static const char rule_scan[] =	/* needs a threshold window */
	"title: Three scans\nid: r-scan\nlevel: medium\n"
	"custos_threshold:\n    category: process_creation\n    detection:\n"
	"        selection:\n            Image|endswith: /scan\n        condition: selection\n"
	"    group_by: Image\n    count: 3\n    window: 60s\n";

struct exec_spec {
	uint64_t pid, ppid;
	const char *exe;
};

/* A signed batch of the given execs (times from ts), chained to prev;
 * corrupt: the last record's CBOR is broken after encoding (a batch that
 * signs, checks and chains, whose last record does not decode). */
static void exec_batch(struct buf *out, uint64_t seq, const uint8_t *prev,
		       const struct exec_spec *e, int n, uint64_t ts, int corrupt,
		       uint8_t hash[CUSTOS_HASH_LEN])
{
	struct batch_builder b;
	struct batch_header h;
	struct custos_record *r = calloc(1, sizeof(*r));
	size_t last = 0;

	assert_non_null(r);
	batch_builder_init(&b);
	for (int i = 0; i < n; i++) {
		tu_exec(r, e[i].pid, ts + (uint64_t)i * 1000000);
		r->subj.ppid = e[i].ppid;
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, e[i].exe);
		last = b.raw.len;
		assert_int_equal(batch_builder_add(&b, r), 0);
	}
	if (corrupt)
		b.raw.data[last] = 0xff;	/* a CBOR "break" where a record map starts */
	memset(&h, 0, sizeof(h));
	memset(h.boot_id, 0xb0, sizeof(h.boot_id));
	h.seq = seq;
	if (prev)
		memcpy(h.prev_hash, prev, CUSTOS_HASH_LEN);
	h.clock_offset_ns = 1700000000000000000ll;
	h.sealed_boot_ns = ts + 1000000000ull;
	h.ntp_synced = 1;
	h.ntp_maxerror_us = 16000;
	assert_int_equal(batch_sign(&b, &h, &host, out, hash), 0);
	batch_builder_free(&b);
	free(r);
}

struct alerts_seen {
	int n, evil, web, scan, refused_ref;
	uint8_t refused[CUSTOS_HASH_LEN];
	uint64_t scan_refs;
};

static int seen_alert(void *ctx, const struct store_alert *a)
{
	struct alerts_seen *s = ctx;

	s->n++;
	s->evil += strcmp(a->rule_id, "r-evil") == 0;
	s->web += strcmp(a->rule_id, "r-web") == 0;
	if (strcmp(a->rule_id, "r-scan") == 0) {
		s->scan++;
		s->scan_refs = a->n_refs;
	}
	s->refused_ref += memcmp(a->batch_hash, s->refused, CUSTOS_HASH_LEN) == 0;
	for (size_t i = 0; i < a->n_refs; i++)
		s->refused_ref += memcmp(a->refs[i].batch_hash, s->refused, CUSTOS_HASH_LEN) == 0;
	return 0;
}

static void send_batch(struct ingest *g, const struct buf *sb, int expect)
{
	struct buf env, ack;
	char why[512];

	buf_init(&env, CUSTOS_SEALED_MAX);
	buf_init(&ack, ACK_MAX);
	assert_int_equal(seal_batch(sb->data, sb->len, &g->ks.kp.pub, &env), 0);
	if (expect < 0)	/* refused: the record's decode error */
		assert_true(ingest_envelope(g, env.data, env.len, &ack, why, sizeof(why)) < 0);
	else
		assert_int_equal(ingest_envelope(g, env.data, env.len, &ack, why, sizeof(why)),
				 expect);
	buf_free(&env);
	buf_free(&ack);
}

static void test_refused_batch_triage(void **state)
{
	static const struct exec_spec first[] = { { 10, 1, "/usr/bin/true" } };
	static const struct exec_spec bad[] = {	/* all undone: the last does not decode */
		{ 500, 1, "/usr/sbin/nginx" }, { 501, 1, "/usr/bin/evil" },
		{ 502, 1, "/usr/bin/scan" }, { 503, 1, "/usr/bin/scan" }, { 504, 1, "/bin/true" } };
	static const struct exec_spec good1[] = {	/* 600's parent 500: unknown */
		{ 600, 500, "/bin/sh" }, { 601, 1, "/usr/bin/scan" }, { 602, 1, "/usr/bin/evil" } };
	static const struct exec_spec good2[] = { { 700, 1, "/usr/bin/scan" },
		{ 701, 1, "/usr/bin/scan" }, { 702, 1, "/usr/sbin/nginx" }, { 703, 702, "/bin/sh" } };
	char tdir[128], path[200], pub[128], rules[160];
	char *argv[] = { "enroll", "--dir", tdir, "--name", "web1", "--key", pub, NULL };
	struct alerts_seen seen;
	struct triage *t = NULL;
	struct ingest g;
	struct buf sb;
	uint8_t h0[CUSTOS_HASH_LEN], h1[CUSTOS_HASH_LEN], h2[CUSTOS_HASH_LEN];
	uint8_t hr[CUSTOS_HASH_LEN];
	uint64_t size;
	FILE *f;

	(void)state;
	snprintf(tdir, sizeof(tdir), "%s/t", work);
	snprintf(pub, sizeof(pub), "%s/host.pub", work);
	snprintf(rules, sizeof(rules), "%s/rules", work);
	assert_int_equal(mkdir(rules, 0700), 0);
	const char *texts[] = { rule_evil, rule_web_shell, rule_scan };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/r%d.yml", rules, i);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(texts[i], f);
		fclose(f);
	}
	assert_int_equal(run(cmd_init, "init", "--dir", tdir, "--name", "custos.test/t"), 0);
	assert_int_equal(cmd_enroll(7, argv), 0);
	assert_int_equal(triage_open(rules, &t), 0);
	assert_int_equal(ingest_open(&g, tdir, t), 0);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	exec_batch(&sb, 0, NULL, first, 1, 1000000000ull, 0, h0);
	send_batch(&g, &sb, 0);
	/* seq 1, signed and chained, last record broken: refused, nothing kept */
	buf_reset(&sb);
	exec_batch(&sb, 1, h0, bad, 5, 2000000000ull, 1, hr);
	assert_int_equal(tu_check_signed(sb.data, sb.len, &host) < 0, 1);
	send_batch(&g, &sb, -1);
	assert_int_equal(g.log.size, 1);
	assert_int_equal(store_indexed(g.store, &size), 0);
	assert_int_equal(size, 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alerts(g.store, NULL, seen_alert, &seen), 0);
	assert_int_equal(seen.n, 0);
	/* seq 1 again, good: the evil exec alerts; 600's parent and the two
	 * refused scans are not known, so no web shell and no threshold */
	buf_reset(&sb);
	exec_batch(&sb, 1, h0, good1, 3, 3000000000ull, 0, h1);
	send_batch(&g, &sb, 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alerts(g.store, NULL, seen_alert, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.evil, 1);
	/* two more scans: the threshold fires on the good batches' three */
	buf_reset(&sb);
	exec_batch(&sb, 2, h1, good2, 4, 4000000000ull, 0, h2);
	send_batch(&g, &sb, 0);
	memset(&seen, 0, sizeof(seen));
	memcpy(seen.refused, hr, sizeof(hr));
	assert_int_equal(store_alerts(g.store, NULL, seen_alert, &seen), 0);
	assert_int_equal(seen.evil, 1);
	assert_int_equal(seen.web, 1);		/* 703 under 702 (nginx): the table works */
	assert_int_equal(seen.scan, 1);
	assert_int_equal(seen.scan_refs, 3);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.refused_ref, 0);
	assert_int_equal(store_indexed(g.store, &size), 0);
	assert_int_equal(size, 3);
	ingest_close(&g);
	triage_close(t);
	buf_free(&sb);
}

static void test_event_log_tamper(void **state)
{
	char path[128], line[4096];
	struct keystore ks;
	FILE *f;
	long n;

	(void)state;
	assert_int_equal(keystore_open(&ks, dir, 0), 0);
	assert_int_equal(ks.count, 1);	/* web1, revoked by the test before */
	assert_true(ks.hosts[0].revoked);
	assert_int_equal(ks.events, 3);	/* init, enroll, revoke */
	keystore_close(&ks);
	/* change one character of the enrolment's name: the log is refused */
	snprintf(path, sizeof(path), "%s/custody/events.jsonl", dir);
	f = fopen(path, "r+");
	assert_non_null(f);
	n = (long)fread(line, 1, sizeof(line) - 1, f);
	line[n] = '\0';
	char *p = strstr(line, "\"name\":\"web1\"");
	assert_non_null(p);
	fseek(f, (long)(p - line) + 9, SEEK_SET);
	fputc('X', f);
	fclose(f);
	assert_int_equal(keystore_open(&ks, dir, 0), -CUSTOS_ERR_BAD_SIGNATURE);
	keystore_close(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingest_paths),
		cmocka_unit_test(test_refused_batch_triage),
		cmocka_unit_test(test_event_log_tamper),
	};

	return cmocka_run_group_tests_name("ingest", tests, setup, teardown);
}
