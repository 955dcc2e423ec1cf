/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test vectors of docs/format.md, checked against this implementation.
 * The vectors are read from the document itself (blocks marked
 * "<!-- vector: NAME -->"), so the document and the code cannot drift
 * apart unnoticed. `test_vectors --print` prints freshly computed blocks
 * for pasting into the document when the format changes on purpose.
 */
#include <ctype.h>
#include <sodium.h>

#include "testutil.h"
#include "ack.h"
#include "frame.h"

#define MAX_VECTORS 32

struct vector {
	const char *name;
	struct buf bytes;
};

static struct vector computed[MAX_VECTORS];
static size_t ncomputed;
static struct custos_keypair host, collector;
static char *doc;

static void put(const char *name, const void *p, size_t n)
{
	struct vector *v = &computed[ncomputed++];

	assert_true(ncomputed <= MAX_VECTORS);
	v->name = name;
	buf_init(&v->bytes, 1 << 20);
	assert_int_equal(buf_put(&v->bytes, p, n), 0);
}

static void seeds(uint8_t out[KEYS_SEED_LEN], uint8_t first)
{
	for (int i = 0; i < KEYS_SEED_LEN; i++)
		out[i] = (uint8_t)(first + i);
}

/* The fixed records of the vector batch: an exec and a heartbeat. */
static void vector_records(struct custos_record *exec, struct custos_record *hb)
{
	tu_exec(exec, 4242, 5000000000ull);
	memset(exec->u.exec.sha256, 0, CUSTOS_HASH_LEN);
	exec->u.exec.parent_start_ns = 1500000000ull;
	memset(hb, 0, sizeof(*hb));
	hb->kind = CUSTOS_REC_HEARTBEAT;
	hb->ts_ns = 5000000100ull;
	hb->u.agent.events = 1;
	hb->u.agent.losses = 0;
	hb->u.agent.spool_batches = 0;
	hb->u.agent.spool_bytes = 0;
}

static void vector_header(struct batch_header *h)
{
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < CUSTOS_BOOT_ID_LEN; i++)
		h->boot_id[i] = (uint8_t)(0xb0 + i);
	h->seq = 0;
	h->clock_offset_ns = 1763769600000000000ll;	/* 2025-11-22T00:00:00Z */
	h->sealed_boot_ns = 5100000000ull;
	h->ntp_synced = 1;
	h->ntp_maxerror_us = 16000;
	h->ntp_esterror_us = 250;
	h->ntp_status = 0x2001;
}

static void compute(void)
{
	uint8_t s1[KEYS_SEED_LEN], s2[KEYS_SEED_LEN], hash[CUSTOS_HASH_LEN];
	char fpr[KEYS_FPR_STRLEN];
	struct custos_record *exec = calloc(1, sizeof(*exec)), *hb = calloc(1, sizeof(*hb));
	struct batch_builder b;
	struct batch_header h;
	struct batch_view v;
	struct buf tmp, sb;
	struct ack a;

	assert_non_null(exec);
	assert_non_null(hb);
	seeds(s1, 0x00);
	seeds(s2, 0x20);
	assert_int_equal(keys_from_seeds(&host, s1, s2), 0);
	seeds(s1, 0x40);
	seeds(s2, 0x60);
	assert_int_equal(keys_from_seeds(&collector, s1, s2), 0);
	put("host-sign-public", host.pub.sign_pk, KEYS_SIGN_PK_LEN);
	put("host-box-public", host.pub.box_pk, KEYS_BOX_PK_LEN);
	keys_fingerprint(&host.pub, fpr);
	put("host-fingerprint", fpr, strlen(fpr));
	put("collector-sign-public", collector.pub.sign_pk, KEYS_SIGN_PK_LEN);
	put("collector-box-public", collector.pub.box_pk, KEYS_BOX_PK_LEN);
	keys_fingerprint(&collector.pub, fpr);
	put("collector-fingerprint", fpr, strlen(fpr));
	{
		uint8_t id[SEAL_KEY_ID_LEN];

		seal_key_id(collector.pub.box_pk, id);
		put("collector-key-id", id, sizeof(id));
	}

	vector_records(exec, hb);
	buf_init(&tmp, 1 << 20);
	assert_int_equal(record_encode(&tmp, exec), 0);
	put("record-exec", tmp.data, tmp.len);
	buf_reset(&tmp);
	assert_int_equal(record_encode(&tmp, hb), 0);
	put("record-heartbeat", tmp.data, tmp.len);

	batch_builder_init(&b);
	assert_int_equal(batch_builder_add(&b, exec), 0);
	assert_int_equal(batch_builder_add(&b, hb), 0);
	vector_header(&h);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	assert_int_equal(batch_sign(&b, &h, &host, &sb, hash), 0);
	assert_int_equal(batch_parse(sb.data, sb.len, &v), 0);
	put("batch-header", v.header_bytes, v.header_len);
	put("batch-payload", v.payload, v.payload_len);
	put("batch-hash", hash, sizeof(hash));
	put("batch-signature", v.sig, CUSTOS_SIG_LEN);
	put("signed-batch", sb.data, sb.len);

	memset(&a, 0, sizeof(a));
	memcpy(a.host_id, host.pub.sign_pk, KEYS_SIGN_PK_LEN);
	a.seq = 0;
	memcpy(a.batch_hash, hash, sizeof(hash));
	a.leaf_index = 7;
	a.received_unix_ns = 1763769605200000000ull;
	buf_reset(&tmp);
	assert_int_equal(ack_sign(&a, &collector, &tmp), 0);
	put("signed-ack", tmp.data, tmp.len);

	{	/* docs/format.md 5.1: the NACK a replay of that batch gets */
		struct frame_nack k;
		struct buf nk;
		buf_init(&nk, FRAME_NACK_MAX);
		frame_nack_set(&k, -CUSTOS_ERR_REPLAY, hash, "replay of seq 0 (next expected 1)");
		assert_int_equal(frame_nack_encode(&nk, &k), 0);
		buf_reset(&tmp);
		assert_int_equal(frame_write(&tmp, FRAME_NACK, nk.data, nk.len), 0);
		put("nack-frame", tmp.data, tmp.len);
		buf_free(&nk);
	}

	batch_builder_free(&b);
	buf_free(&tmp);
	buf_free(&sb);
	free(exec);
	free(hb);
}

static const struct vector *find_computed(const char *name)
{
	for (size_t i = 0; i < ncomputed; i++)
		if (strcmp(computed[i].name, name) == 0)
			return &computed[i];
	return NULL;
}

/* Fingerprints are shown as the text a person reads, not as hex. */
static bool is_text(const char *name)
{
	size_t n = strlen(name);

	return n > 12 && strcmp(name + n - 12, "-fingerprint") == 0;
}

/* Find "<!-- vector: NAME -->" and decode the hex of the fenced block that
 * follows it. Returns 0 or -1 when the document has no such vector. */
static int doc_vector(const char *name, struct buf *out)
{
	char marker[128];
	const char *p, *end;
	bool text = is_text(name);

	snprintf(marker, sizeof(marker), "<!-- vector: %s -->", name);
	p = strstr(doc, marker);
	if (!p || !(p = strstr(p, "```")) || !(p = strchr(p, '\n')) || !(end = strstr(p, "```")))
		return -1;
	if (text) {
		p++;
		assert_true(end > p && end[-1] == '\n');
		return buf_put(out, p, (size_t)(end - 1 - p));
	}
	for (; p < end; p++) {
		uint8_t byte;
		char pair[3] = { 0 };

		if (isspace((unsigned char)*p))
			continue;
		pair[0] = p[0];
		pair[1] = p[1];
		assert_true(isxdigit((unsigned char)pair[0]) && isxdigit((unsigned char)pair[1]));
		byte = (uint8_t)strtoul(pair, NULL, 16);
		assert_int_equal(buf_put(out, &byte, 1), 0);
		p++;
	}
	return 0;
}

static void load_doc(void)
{
	const char *path = getenv("CUSTOS_FORMAT_MD");
	FILE *f = fopen(path ? path : "docs/format.md", "r");
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(custos_init(), 0);
	compute();
	load_doc();
	return 0;
}

static void expect_doc_equals(const char *name)
{
	const struct vector *c = find_computed(name);
	struct buf d;

	assert_non_null(c);
	buf_init(&d, 1 << 20);
	if (doc_vector(name, &d) != 0)
		fail_msg("docs/format.md has no vector '%s'", name);
	if (d.len != c->bytes.len || memcmp(d.data, c->bytes.data, d.len) != 0)
		fail_msg("vector '%s' in docs/format.md differs from this implementation", name);
	buf_free(&d);
}

static void test_keys_vectors(void **state)
{
	(void)state;
	expect_doc_equals("host-sign-public");
	expect_doc_equals("host-box-public");
	expect_doc_equals("host-fingerprint");
	expect_doc_equals("collector-sign-public");
	expect_doc_equals("collector-box-public");
	expect_doc_equals("collector-fingerprint");
	expect_doc_equals("collector-key-id");
}

static void test_record_vectors(void **state)
{
	(void)state;
	expect_doc_equals("record-exec");
	expect_doc_equals("record-heartbeat");
}

static void test_batch_vectors(void **state)
{
	(void)state;
	expect_doc_equals("batch-header");
	expect_doc_equals("batch-payload");
	expect_doc_equals("batch-hash");
	expect_doc_equals("batch-signature");
	expect_doc_equals("signed-batch");
	expect_doc_equals("signed-ack");
	expect_doc_equals("nack-frame");
}

/* Independently of our encoder: the document's signed batch verifies with
 * the document's host key, its hash is BLAKE2b-256 of its header, and it
 * holds the two vector records. */
static void test_doc_batch_checks_out(void **state)
{
	struct buf sb, raw, enc;
	struct batch_view v;
	struct record_iter it;
	struct custos_record *r = malloc(sizeof(*r));
	uint8_t h[CUSTOS_HASH_LEN];
	int n = 0;
	(void)state;

	assert_non_null(r);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	buf_init(&enc, 1 << 20);
	assert_int_equal(doc_vector("signed-batch", &sb), 0);
	assert_int_equal(batch_parse(sb.data, sb.len, &v), 0);
	crypto_generichash(h, sizeof(h), v.header_bytes, v.header_len, NULL, 0);
	assert_memory_equal(h, v.hash, sizeof(h));
	assert_int_equal(batch_verify_signature(&v, host.pub.sign_pk), 0);
	assert_int_equal(batch_check_payload(&v, &raw), 0);
	record_iter_init(&it, &raw, &v.hdr);
	while (record_iter_next(&it, r) == 1) {
		assert_int_equal(record_encode(&enc, r), 0);
		n++;
	}
	assert_int_equal(n, 2);
	/* the records re-encode to exactly the inflated payload */
	assert_int_equal(enc.len, raw.len);
	assert_memory_equal(enc.data, raw.data, raw.len);
	buf_free(&sb);
	buf_free(&raw);
	buf_free(&enc);
	free(r);
}

/* The sealed vector is not reproducible (crypto_box_seal uses a fresh
 * ephemeral key): check that it opens to the signed batch. */
static void test_doc_sealed_opens(void **state)
{
	struct buf sealed, opened, sb;
	(void)state;

	buf_init(&sealed, CUSTOS_SEALED_MAX);
	buf_init(&opened, CUSTOS_SIGNED_MAX);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	assert_int_equal(doc_vector("sealed-batch", &sealed), 0);
	assert_int_equal(doc_vector("signed-batch", &sb), 0);
	assert_int_equal(seal_open(sealed.data, sealed.len, &collector, &opened), 0);
	assert_int_equal(opened.len, sb.len);
	assert_memory_equal(opened.data, sb.data, sb.len);
	buf_free(&sealed);
	buf_free(&opened);
	buf_free(&sb);
}

static void print_block(const char *name, const uint8_t *p, size_t n)
{
	printf("<!-- vector: %s -->\n```\n", name);
	if (is_text(name)) {
		printf("%.*s\n```\n\n", (int)n, (const char *)p);
		return;
	}
	for (size_t i = 0; i < n; i++)
		printf("%02x%s", p[i], (i % 32 == 31 || i == n - 1) ? "\n" : "");
	printf("```\n\n");
}

static int print_vectors(void)
{
	const struct vector *sb;
	struct buf sealed;

	if (custos_init() != 0)
		return 1;
	/* compute() asserts through cmocka; outside a test run they cannot
	 * fail on valid fixed inputs */
	compute();
	for (size_t i = 0; i < ncomputed; i++)
		print_block(computed[i].name, computed[i].bytes.data, computed[i].bytes.len);
	sb = find_computed("signed-batch");
	buf_init(&sealed, CUSTOS_SEALED_MAX);
	if (seal_batch(sb->bytes.data, sb->bytes.len, &collector.pub, &sealed) != 0)
		return 1;
	print_block("sealed-batch", sealed.data, sealed.len);
	buf_free(&sealed);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_vectors),
		cmocka_unit_test(test_record_vectors),
		cmocka_unit_test(test_batch_vectors),
		cmocka_unit_test(test_doc_batch_checks_out),
		cmocka_unit_test(test_doc_sealed_opens),
	};

	if (argc == 2 && strcmp(argv[1], "--print") == 0)
		return print_vectors();
	return cmocka_run_group_tests_name("vectors", tests, setup, NULL);
}
