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
 * source); the enrolment log refuses tampering.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "ack.h"
#include "collector.h"
#include "ingest.h"

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
		cmocka_unit_test(test_event_log_tamper),
	};

	return cmocka_run_group_tests_name("ingest", tests, setup, teardown);
}
