/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of common/bundle.c and bundle_timeline.c: the manifest
 * signature, the event log check, the proofs.json reader and the
 * derivation of timeline rows and gaps from batches. */
#include <sodium.h>

#include "testutil.h"
#include "bundle.h"
#include "chain.h"

static void test_manifest_sig(void **state)
{
	struct custos_keypair a, b;
	uint8_t sig[CUSTOS_SIG_LEN];
	const char m[] = "{\"files\":[]}\n";

	(void)state;
	tu_keys(&a, 1);
	tu_keys(&b, 2);
	bundle_manifest_sign((const uint8_t *)m, strlen(m), &a, sig);
	assert_int_equal(bundle_manifest_verify((const uint8_t *)m, strlen(m), sig, a.pub.sign_pk), 0);
	assert_int_equal(bundle_manifest_verify((const uint8_t *)m, strlen(m), sig, b.pub.sign_pk),
			 -CUSTOS_ERR_BAD_SIGNATURE);
	assert_int_equal(bundle_manifest_verify((const uint8_t *)m, strlen(m) - 1, sig,
						a.pub.sign_pk), -CUSTOS_ERR_BAD_SIGNATURE);
	/* domain separation: a plain signature of the bytes is not a manifest signature */
	crypto_sign_detached(sig, NULL, (const uint8_t *)m, strlen(m), a.sign_sk);
	assert_int_equal(bundle_manifest_verify((const uint8_t *)m, strlen(m), sig, a.pub.sign_pk),
			 -CUSTOS_ERR_BAD_SIGNATURE);
}

/* Append one event line signed as keystore.c does. */
static void add_event(struct buf *log, const struct custos_keypair *kp, uint64_t seq,
		      uint8_t prev[32], const char *action)
{
	char h[129], *body, *line;
	uint8_t sig[64], *msg;
	size_t dl = sizeof(BUNDLE_EVENT_DOMAIN), bl;
	json_t *e = json_pack("{s:s,s:I}", "action", action, "seq", (json_int_t)seq);

	json_object_set_new(e, "prev", json_string(sodium_bin2hex(h, sizeof(h), prev, 32)));
	body = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	bl = strlen(body);
	msg = malloc(dl + bl);
	memcpy(msg, BUNDLE_EVENT_DOMAIN, dl);
	memcpy(msg + dl, body, bl);
	crypto_sign_detached(sig, NULL, msg, dl + bl, kp->sign_sk);
	json_object_set_new(e, "sig", json_string(sodium_bin2hex(h, sizeof(h), sig, 64)));
	line = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	crypto_generichash(prev, 32, (const uint8_t *)line, strlen(line), NULL, 0);
	assert_int_equal(buf_put(log, line, strlen(line)), 0);
	assert_int_equal(buf_put(log, "\n", 1), 0);
	free(msg);
	free(body);
	free(line);
	json_decref(e);
}

static void test_events(void **state)
{
	struct custos_keypair kp, other;
	uint8_t prev[32] = { 0 };
	struct buf log;
	json_t *e;
	size_t line, first;

	(void)state;
	tu_keys(&kp, 3);
	tu_keys(&other, 4);
	buf_init(&log, 1 << 16);
	add_event(&log, &kp, 0, prev, "init");
	first = log.len;
	add_event(&log, &kp, 1, prev, "enroll");
	add_event(&log, &kp, 2, prev, "export");
	assert_int_equal(bundle_events_verify((char *)log.data, log.len, kp.pub.sign_pk, &e, &line), 0);
	assert_int_equal(json_array_size(e), 3);
	json_decref(e);
	assert_int_equal(bundle_events_verify((char *)log.data, log.len, other.pub.sign_pk, &e,
					      &line), -CUSTOS_ERR_BAD_SIGNATURE);
	assert_int_equal(line, 1);
	/* cut the last newline: truncated at line 3 */
	assert_int_equal(bundle_events_verify((char *)log.data, log.len - 1, kp.pub.sign_pk, &e,
					      &line), -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(line, 3);
	/* drop entry 0: entry 1 now comes first with seq 1: refused at line 1 */
	assert_int_equal(bundle_events_verify((char *)log.data + first, log.len - first,
					      kp.pub.sign_pk, &e, &line), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(line, 1);
	assert_null(e);
	buf_free(&log);
}

static int parse(const char *s, struct bundle_proofs *p)
{
	const char *why = NULL;
	int ret = bundle_proofs_parse((const uint8_t *)s, strlen(s), p, &why);

	assert_non_null(why);
	return ret;
}

#define H64 "\"0000000000000000000000000000000000000000000000000000000000000000\""

static void test_proofs(void **state)
{
	struct bundle_proofs p;

	(void)state;
	assert_int_equal(parse("{\"tree_size\":4,\"consistency\":null,\"batches\":[{\"file\":"
			       "\"evidence/leaf-00000002.batch\",\"host\":\"a\",\"leaf\":2,\"seq\":0,"
			       "\"leaf_hash\":" H64 ",\"inclusion_path\":[" H64 "," H64 "]}]}", &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.b[0].leaf, 2);
	assert_int_equal(p.b[0].path_len, 2);
	assert_false(p.has_consistency);
	bundle_proofs_free(&p);
	/* file not named after its leaf */
	assert_int_equal(parse("{\"tree_size\":4,\"consistency\":null,\"batches\":[{\"file\":"
			       "\"evidence/leaf-00000003.batch\",\"host\":\"a\",\"leaf\":2,\"seq\":0,"
			       "\"leaf_hash\":" H64 ",\"inclusion_path\":[]}]}", &p), -CUSTOS_ERR_MALFORMED);
	/* leaf beyond the tree, host with a slash, upper-case hex */
	assert_int_equal(parse("{\"tree_size\":2,\"consistency\":null,\"batches\":[{\"file\":"
			       "\"evidence/leaf-00000002.batch\",\"host\":\"a\",\"leaf\":2,\"seq\":0,"
			       "\"leaf_hash\":" H64 ",\"inclusion_path\":[]}]}", &p), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(parse("{\"tree_size\":4,\"consistency\":null,\"batches\":[{\"file\":"
			       "\"evidence/leaf-00000002.batch\",\"host\":\"../a\",\"leaf\":2,\"seq\":0,"
			       "\"leaf_hash\":" H64 ",\"inclusion_path\":[]}]}", &p), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(parse("{\"tree_size\":4,\"consistency\":{\"first_size\":5,\"path\":[]},"
			       "\"batches\":[]}", &p), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(parse("{\"tree_size\":4,\"consistency\":{\"first_size\":3,\"path\":[]},"
			       "\"batches\":[]}", &p), 0);
	assert_true(p.has_consistency);
	bundle_proofs_free(&p);
	assert_int_equal(parse("[1]", &p), -CUSTOS_ERR_MALFORMED);
	assert_int_equal(parse("{\"tree_size\":-1,\"batches\":[]}", &p), -CUSTOS_ERR_MALFORMED);
}

/* Two batches with a sequence gap: rows in range only, gap found, and
 * the same input gives the same bytes. */
static void derive(char **jl, size_t *jn, char **gaps, int64_t from, int64_t to)
{
	struct custos_keypair host;
	struct bundle_derive d;
	uint8_t h0[32], h2[32];
	struct buf b0, b2, raw;
	struct batch_view v;
	size_t cn;
	char *csv;
	FILE *f = open_memstream(jl, jn), *c = open_memstream(&csv, &cn);

	tu_keys(&host, 5);
	buf_init(&b0, CUSTOS_SIGNED_MAX);
	buf_init(&b2, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	tu_batch(&b0, &host, 0, NULL, 3, h0);
	tu_batch(&b2, &host, 2, h0, 2, h2);
	assert_int_equal(bundle_derive_init(&d, from, to, f, c), 0);
	assert_int_equal(batch_parse(b0.data, b0.len, &v), 0);
	assert_int_equal(batch_check_payload(&v, &raw), 0);
	assert_int_equal(bundle_derive_batch(&d, "web1", 0, &v, &raw), 0);
	assert_int_equal(batch_parse(b2.data, b2.len, &v), 0);
	assert_int_equal(batch_check_payload(&v, &raw), 0);
	assert_int_equal(bundle_derive_batch(&d, "web1", 7, &v, &raw), 0);
	assert_int_equal(bundle_derive_gaps(&d, gaps), 0);
	fclose(f);
	fclose(c);
	assert_string_equal(csv, "datetime,timestamp_desc,host,kind,pid,comm,message,"
			    "evidence_leaf,evidence_seq,evidence_record\n"
			    "2023-11-14T22:13:20.001000000Z,event time (host clock),web1,exec,"
			    "100,bash,exec /usr/bin/cat by bash (pid 100),0,0,0\n"
			    "2023-11-14T22:13:20.001000001Z,event time (host clock),web1,exec,"
			    "101,bash,exec /usr/bin/cat by bash (pid 101),0,0,1\n"
			    "2023-11-14T22:13:20.001000002Z,event time (host clock),web1,exec,"
			    "102,bash,exec /usr/bin/cat by bash (pid 102),0,0,2\n"
			    "2023-11-14T22:13:20.003000000Z,event time (host clock),web1,exec,"
			    "100,bash,exec /usr/bin/cat by bash (pid 100),7,2,0\n"
			    "2023-11-14T22:13:20.003000001Z,event time (host clock),web1,exec,"
			    "101,bash,exec /usr/bin/cat by bash (pid 101),7,2,1\n");
	free(csv);
	bundle_derive_free(&d);
	buf_free(&b0);
	buf_free(&b2);
	buf_free(&raw);
}

static void test_derive(void **state)
{
	char *jl1, *jl2, *g1, *g2;
	size_t n1, n2;

	(void)state;
	derive(&jl1, &n1, &g1, INT64_MIN, INT64_MAX);
	derive(&jl2, &n2, &g2, INT64_MIN, INT64_MAX);
	assert_int_equal(n1, n2);
	assert_memory_equal(jl1, jl2, n1);
	assert_string_equal(g1, g2);
	assert_non_null(strstr(g1, "\"type\": \"sequence_gap\""));
	assert_non_null(strstr(g1, "\"after_seq\": 0"));
	assert_non_null(strstr(g1, "\"before_seq\": 2"));
	assert_non_null(strstr(jl1, "\"datetime\":\"2023-11-14T22:13:20.001000000Z\""));
	assert_non_null(strstr(jl1, "\"timestamp_desc\":\"event time (host clock)\""));
	free(jl1);
	free(jl2);
	free(g1);
	free(g2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_sig),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_proofs),
		cmocka_unit_test(test_derive),
	};

	if (custos_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
