/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints (C2SP tlog-checkpoint in C2SP signed notes): the reference
 * implementation's own vector, a fixed Custos vector (also in
 * docs/custody.md, compared here), round trips, tampering with every byte,
 * every truncation, and the strict reading of envelope and body.
 *
 * External test data (data only, no code): golang.org/x/mod/sumdb/note,
 * note_test.go (TestSign, TestOpen): the PeterNeumann key pair, its text
 * and signature line, and the EnochRoot signature line. The Go package is
 * the reference implementation of c2sp.org/signed-note.
 *
 * Notes are also built here without checkpoint.c (ref_sig_line, straight
 * from libsodium and the spec), so the module is checked against a second
 * reading of the spec, and malformed bodies can carry valid signatures.
 */
#include <sodium.h>

#include "testutil.h"
#include "checkpoint.h"

#define H MERKLE_HASH_LEN
#define B64 sodium_base64_VARIANT_ORIGINAL
#define NAME "custos.example/collector"
#define EM_DASH "\xe2\x80\x94"

/* golang.org/x/mod/sumdb/note note_test.go */
static const char go_skey[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";	/* 0x01 || seed */
static const char go_vkey[] = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";	/* 0x01 || pk */
static const uint8_t go_key_id[4] = { 0xc7, 0x4f, 0x20, 0xa3 };
static const char go_text[] = "If you think cryptography is the answer to your problem,\n"
			      "then you don't know what your problem is.\n";
static const char go_peter_sig[] =
	EM_DASH " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char go_enoch_sig[] =
	EM_DASH " EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/* The RFC 6962 reference tree of eight leaves (test_merkle.c): its root. */
static const char ref_root8[] = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

/* The fixed Custos vector: the collector key of docs/format.md section 9
 * (Ed25519 seed 40 41 ... 5f), NAME, the reference tree of size 8.
 * docs/custody.md shows the same bytes. */
static const char fixed_note[] =
	"custos.example/collector\n"
	"8\n"
	"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
	"\n"
	EM_DASH " custos.example/collector "
	"2f9pczoMGqkSLgaPs7GSm7LFCF9WQAnFvsFclsi9uBqxZ9y3NbUchXin+XDg8hh+BgonJGyScsf7NhO8BHzigUfyZAU=\n";

static struct custos_keypair collector, other, peter;

static void seeds(uint8_t out[KEYS_SEED_LEN], uint8_t first)
{
	for (int i = 0; i < KEYS_SEED_LEN; i++)
		out[i] = (uint8_t)(first + i);
}

static int setup(void **state)
{
	uint8_t s1[KEYS_SEED_LEN], s2[KEYS_SEED_LEN], k[33];
	size_t n;
	(void)state;

	assert_int_equal(custos_init(), 0);
	seeds(s1, 0x40);
	seeds(s2, 0x60);
	assert_int_equal(keys_from_seeds(&collector, s1, s2), 0);
	tu_keys(&other, 0x33);
	assert_int_equal(sodium_base642bin(k, sizeof(k), go_skey, strlen(go_skey), NULL, &n,
					   NULL, B64), 0);
	assert_int_equal(n, 33);
	assert_int_equal(k[0], 0x01);
	memset(s2, 0, sizeof(s2));
	assert_int_equal(keys_from_seeds(&peter, k + 1, s2), 0);
	return 0;
}

static void unhex32(const char *s, uint8_t out[H])
{
	size_t n;

	assert_int_equal(sodium_hex2bin(out, H, s, strlen(s), NULL, &n, NULL), 0);
	assert_int_equal(n, H);
}

/* A signature line built from the spec and libsodium alone:
 * "— name base64(SHA-256(name || 0x0A || 0x01 || pk)[:4] || Ed25519(text))" */
static void ref_sig_line(struct buf *out, const void *text, size_t len, const char *name,
			 const struct custos_keypair *kp)
{
	static const uint8_t sep[2] = { 0x0a, 0x01 };
	uint8_t h[32], blob[4 + crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof(blob), B64)];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, 2);
	crypto_hash_sha256_update(&st, kp->pub.sign_pk, KEYS_SIGN_PK_LEN);
	crypto_hash_sha256_final(&st, h);
	memcpy(blob, h, 4);
	crypto_sign_detached(blob + 4, NULL, text, len, kp->sign_sk);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), B64);
	assert_int_equal(buf_put(out, EM_DASH " ", 4), 0);
	assert_int_equal(buf_put(out, name, strlen(name)), 0);
	assert_int_equal(buf_put(out, " ", 1), 0);
	assert_int_equal(buf_put(out, b64, strlen(b64)), 0);
	assert_int_equal(buf_put(out, "\n", 1), 0);
}

/* text, blank line, one signature line by (name, kp) */
static void ref_note(struct buf *out, const char *text, const char *name,
		     const struct custos_keypair *kp)
{
	buf_reset(out);
	assert_int_equal(buf_put(out, text, strlen(text)), 0);
	assert_int_equal(buf_put(out, "\n", 1), 0);
	ref_sig_line(out, text, strlen(text), name, kp);
}

static int verify_str(const char *note, struct checkpoint *cp)
{
	return checkpoint_verify((const uint8_t *)note, strlen(note), NAME,
				 collector.pub.sign_pk, cp);
}

static int verify_buf(const struct buf *b, struct checkpoint *cp)
{
	return checkpoint_verify(b->data, b->len, NAME, collector.pub.sign_pk, cp);
}

/* ---- the reference implementation's vector ---------------------------- */

static void test_go_vector_key(void **state)
{
	uint8_t vk[33], id[CHECKPOINT_KEY_ID_LEN];
	size_t n;
	(void)state;

	assert_int_equal(sodium_base642bin(vk, sizeof(vk), go_vkey, strlen(go_vkey), NULL, &n,
					   NULL, B64), 0);
	assert_int_equal(n, 33);
	assert_int_equal(vk[0], 0x01);
	assert_memory_equal(peter.pub.sign_pk, vk + 1, KEYS_SIGN_PK_LEN);
	assert_int_equal(checkpoint_key_id("PeterNeumann", peter.pub.sign_pk, id), 0);
	assert_memory_equal(id, go_key_id, sizeof(id));
}

static void test_go_vector_sign(void **state)
{
	struct buf out, want;
	(void)state;

	buf_init(&out, CHECKPOINT_MAX);
	buf_init(&want, CHECKPOINT_MAX);
	assert_int_equal(buf_put(&want, go_text, strlen(go_text)), 0);
	assert_int_equal(buf_put(&want, "\n", 1), 0);
	assert_int_equal(buf_put(&want, go_peter_sig, strlen(go_peter_sig)), 0);
	assert_int_equal(checkpoint_note_sign((const uint8_t *)go_text, strlen(go_text),
					      "PeterNeumann", &peter, &out), 0);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	/* and the independent construction agrees */
	ref_note(&out, go_text, "PeterNeumann", &peter);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	buf_free(&out);
	buf_free(&want);
}

static int go_open(const char *sigs, size_t *text_len)
{
	char note[4096];
	int n = snprintf(note, sizeof(note), "%s\n%s", go_text, sigs);

	assert_true(n > 0 && (size_t)n < sizeof(note));
	return checkpoint_note_open((const uint8_t *)note, (size_t)n, "PeterNeumann",
				    peter.pub.sign_pk, text_len);
}

static void test_go_vector_open(void **state)
{
	char sigs[4096], bad[256];
	size_t tl;
	(void)state;

	assert_int_equal(go_open(go_peter_sig, &tl), 0);
	assert_int_equal(tl, strlen(go_text));
	/* an unknown key's signature is ignored, before or after ours */
	snprintf(sigs, sizeof(sigs), "%s%s", go_peter_sig, go_enoch_sig);
	assert_int_equal(go_open(sigs, &tl), 0);
	snprintf(sigs, sizeof(sigs), "%s%s", go_enoch_sig, go_peter_sig);
	assert_int_equal(go_open(sigs, &tl), 0);
	/* but it is not enough */
	assert_int_equal(go_open(go_enoch_sig, &tl), -CUSTOS_ERR_BAD_SIGNATURE);
	assert_int_equal(tl, 0);
	/* TestOpen's invalid signature: "ABCD" inserted at offset 60 */
	snprintf(bad, sizeof(bad), "%.60sABCD%s", go_peter_sig, go_peter_sig + 60);
	assert_int_equal(go_open(bad, &tl), -CUSTOS_ERR_BAD_SIGNATURE);
	/* repeated signatures: up to CHECKPOINT_SIGS_MAX lines, each checked */
	sigs[0] = 0;
	for (int i = 0; i < CHECKPOINT_SIGS_MAX; i++)
		strcat(sigs, go_peter_sig);
	assert_int_equal(go_open(sigs, &tl), 0);
	strcat(sigs, go_peter_sig);
	assert_int_equal(go_open(sigs, &tl), -CUSTOS_ERR_OVERSIZED);
	/* TestOpen's badMsgs, each with the error that says why */
	{
		char note[1024];
		size_t n;

		n = (size_t)snprintf(note, sizeof(note), "%s", go_text);
		assert_int_equal(checkpoint_note_open((uint8_t *)note, n, "PeterNeumann",
						      peter.pub.sign_pk, &tl), -CUSTOS_ERR_TRUNCATED);
		n = (size_t)snprintf(note, sizeof(note), "%s\n", go_text);
		assert_int_equal(checkpoint_note_open((uint8_t *)note, n, "PeterNeumann",
						      peter.pub.sign_pk, &tl), -CUSTOS_ERR_TRUNCATED);
		n = (size_t)snprintf(note, sizeof(note), "%s\n%.*s", go_text,
				     (int)strlen(go_peter_sig) - 1, go_peter_sig);
		assert_int_equal(checkpoint_note_open((uint8_t *)note, n, "PeterNeumann",
						      peter.pub.sign_pk, &tl), -CUSTOS_ERR_TRUNCATED);
		n = (size_t)snprintf(note, sizeof(note), "\x01%s\n%s", go_text, go_peter_sig);
		assert_int_equal(checkpoint_note_open((uint8_t *)note, n, "PeterNeumann",
						      peter.pub.sign_pk, &tl), -CUSTOS_ERR_MALFORMED);
		n = (size_t)snprintf(note, sizeof(note), "\xff%s\n%s", go_text, go_peter_sig);
		assert_int_equal(checkpoint_note_open((uint8_t *)note, n, "PeterNeumann",
						      peter.pub.sign_pk, &tl), -CUSTOS_ERR_MALFORMED);
		n = (size_t)snprintf(note, sizeof(note), "%s\n" EM_DASH " Bad Name %s", go_text,
				     go_peter_sig + strlen(EM_DASH " PeterNeumann "));
		assert_int_equal(checkpoint_note_open((uint8_t *)note, n, "PeterNeumann",
						      peter.pub.sign_pk, &tl), -CUSTOS_ERR_MALFORMED);
		n = (size_t)snprintf(note, sizeof(note), "%s\n%sUnexpected line.\n", go_text,
				     go_peter_sig);
		assert_int_equal(checkpoint_note_open((uint8_t *)note, n, "PeterNeumann",
						      peter.pub.sign_pk, &tl), -CUSTOS_ERR_MALFORMED);
	}
}

/* ---- Custos checkpoints -------------------------------------------------- */

static void test_roundtrip(void **state)
{
	struct checkpoint in, got;
	struct buf out;
	size_t before;
	(void)state;

	buf_init(&out, CHECKPOINT_MAX);
	/* the empty tree */
	memset(&in, 0, sizeof(in));
	assert_int_equal(merkle_root(NULL, NULL, 0, in.root), 0);
	assert_int_equal(checkpoint_sign(&in, NAME, &collector, &out), 0);
	assert_int_equal(verify_buf(&out, &got), 0);
	assert_int_equal(got.size, 0);
	assert_memory_equal(got.root, in.root, H);
	/* sizes 1, 10, ..., 10^19 and the largest; random roots */
	for (int k = 0; k <= 20; k++) {
		uint64_t size = 1;

		for (int j = 0; j < k && k < 20; j++)
			size *= 10;
		if (k == 20)
			size = UINT64_MAX;
		in.size = size;
		randombytes_buf(in.root, H);
		buf_reset(&out);
		assert_int_equal(checkpoint_sign(&in, NAME, &collector, &out), 0);
		assert_int_equal(verify_buf(&out, &got), 0);
		assert_int_equal(got.size, size);
		assert_memory_equal(got.root, in.root, H);
		/* another key, another name: refused */
		assert_int_equal(checkpoint_verify(out.data, out.len, NAME, other.pub.sign_pk, &got),
				 -CUSTOS_ERR_BAD_SIGNATURE);
		assert_int_equal(got.size, 0);
		assert_int_equal(checkpoint_verify(out.data, out.len, "custos.example/other",
						   collector.pub.sign_pk, &got),
				 -CUSTOS_ERR_BAD_SIGNATURE);
	}
	/* signing appends */
	buf_reset(&out);
	assert_int_equal(buf_put(&out, "prefix", 6), 0);
	before = out.len;
	assert_int_equal(checkpoint_sign(&in, NAME, &collector, &out), 0);
	assert_memory_equal(out.data, "prefix", 6);
	assert_int_equal(checkpoint_verify(out.data + before, out.len - before, NAME,
					   collector.pub.sign_pk, &got), 0);
	buf_free(&out);
}

static void fixed_checkpoint(struct buf *out)
{
	struct checkpoint cp = { .size = 8 };

	unhex32(ref_root8, cp.root);
	buf_reset(out);
	assert_int_equal(checkpoint_sign(&cp, NAME, &collector, out), 0);
}

static char *load_doc(void)
{
	const char *path = getenv("CUSTOS_CUSTODY_MD");
	FILE *f = fopen(path ? path : "docs/custody.md", "r");
	char *doc;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return doc;
}

static void test_fixed_vector(void **state)
{
	struct checkpoint got;
	struct buf out;
	char *doc;
	const char *p, *end;
	(void)state;

	buf_init(&out, CHECKPOINT_MAX);
	fixed_checkpoint(&out);
	assert_int_equal(out.len, strlen(fixed_note));
	assert_memory_equal(out.data, fixed_note, out.len);
	assert_int_equal(verify_str(fixed_note, &got), 0);
	assert_int_equal(got.size, 8);
	/* the independent construction gives the same bytes */
	{
		struct buf ref;
		size_t text_len = (size_t)(strstr(fixed_note, "\n\n") - fixed_note) + 1;
		char text[256];

		memcpy(text, fixed_note, text_len);
		text[text_len] = 0;
		buf_init(&ref, CHECKPOINT_MAX);
		ref_note(&ref, text, NAME, &collector);
		assert_int_equal(ref.len, out.len);
		assert_memory_equal(ref.data, out.data, out.len);
		buf_free(&ref);
	}
	/* docs/custody.md shows exactly these bytes */
	doc = load_doc();
	p = strstr(doc, "<!-- vector: checkpoint -->");
	assert_non_null(p);
	p = strstr(p, "```\n");
	assert_non_null(p);
	p += 4;
	end = strstr(p, "```");
	assert_non_null(end);
	assert_int_equal((size_t)(end - p), strlen(fixed_note));
	assert_memory_equal(p, fixed_note, strlen(fixed_note));
	free(doc);
	buf_free(&out);
}

static bool any_of(int e, int a, int b, int c)
{
	return e == a || e == b || e == c;
}

/* Every byte of the fixed note, changed three ways: always refused, and
 * for what reason depends on where. */
static void test_every_flipped_byte(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x20, 0x80 };
	const size_t n = strlen(fixed_note);
	const size_t body_end = (size_t)(strstr(fixed_note, "\n\n") - fixed_note) + 1;
	const size_t sig_b64 = (size_t)(strrchr(fixed_note, ' ') - fixed_note) + 1;
	struct checkpoint got;
	uint8_t note[512];
	int e;
	(void)state;

	memcpy(note, fixed_note, n);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			note[i] ^= masks[k];
			e = checkpoint_verify(note, n, NAME, collector.pub.sign_pk, &got);
			assert_true(any_of(e, -CUSTOS_ERR_MALFORMED, -CUSTOS_ERR_BAD_SIGNATURE,
					   -CUSTOS_ERR_TRUNCATED));
			assert_int_equal(got.size, 0);
			/* inside a line (not a newline, not the separator):
			 * never "truncated" */
			if (fixed_note[i] != '\n')
				assert_true(e != -CUSTOS_ERR_TRUNCATED);
			/* a changed origin, size or root digit that still
			 * reads well is caught by the signature */
			if (i < body_end && fixed_note[i] != '\n' && e != -CUSTOS_ERR_MALFORMED)
				assert_int_equal(e, -CUSTOS_ERR_BAD_SIGNATURE);
			if (i >= sig_b64 && i < n - 1)
				assert_true(e == -CUSTOS_ERR_BAD_SIGNATURE ||
					    e == -CUSTOS_ERR_MALFORMED);
			note[i] ^= masks[k];
		}
	}
	assert_int_equal(checkpoint_verify(note, n, NAME, collector.pub.sign_pk, &got), 0);
}

static void test_targeted_tampering(void **state)
{
	struct checkpoint got;
	char note[512];
	char *p;
	(void)state;

	/* tree size 8 -> 9 */
	strcpy(note, fixed_note);
	p = strstr(note, "\n8\n");
	p[1] = '9';
	assert_int_equal(verify_str(note, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* root: one base64 digit for another (still canonical) */
	strcpy(note, fixed_note);
	p = strstr(note, "\n8\n") + 3;
	p[0] = p[0] == 'A' ? 'B' : 'A';
	assert_int_equal(verify_str(note, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* origin */
	strcpy(note, fixed_note);
	note[0] = 'C';
	assert_int_equal(verify_str(note, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* key name on the signature line: no signature by our key is left */
	strcpy(note, fixed_note);
	p = strstr(note, EM_DASH " custos.") + 4;
	p[0] = 'C';
	assert_int_equal(verify_str(note, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* signature bytes: a base64 digit in the middle */
	strcpy(note, fixed_note);
	p = strrchr(note, ' ') + 40;
	p[0] = p[0] == 'A' ? 'B' : 'A';
	assert_int_equal(verify_str(note, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* key ID: first base64 digit */
	strcpy(note, fixed_note);
	p = strrchr(note, ' ') + 1;
	p[0] = p[0] == 'A' ? 'B' : 'A';
	assert_int_equal(verify_str(note, &got), -CUSTOS_ERR_BAD_SIGNATURE);
}

static void test_every_truncation(void **state)
{
	const size_t n = strlen(fixed_note);
	struct checkpoint got;
	(void)state;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(checkpoint_verify((const uint8_t *)fixed_note, i, NAME,
						   collector.pub.sign_pk, &got),
				 -CUSTOS_ERR_TRUNCATED);
	assert_int_equal(checkpoint_verify(NULL, 0, NAME, collector.pub.sign_pk, &got),
			 -CUSTOS_ERR_TRUNCATED);
}

static void test_limits(void **state)
{
	struct checkpoint got;
	struct buf b;
	uint8_t *big;
	(void)state;

	big = malloc(CHECKPOINT_MAX + 1);
	assert_non_null(big);
	memset(big, 'a', CHECKPOINT_MAX + 1);
	big[CHECKPOINT_MAX] = '\n';
	assert_int_equal(checkpoint_verify(big, CHECKPOINT_MAX + 1, NAME, collector.pub.sign_pk,
					   &got), -CUSTOS_ERR_OVERSIZED);
	free(big);

	/* ours and 15 cosignatures: accepted; one more: refused */
	buf_init(&b, CHECKPOINT_MAX);
	assert_int_equal(buf_put(&b, fixed_note, strlen(fixed_note)), 0);
	for (int i = 1; i < CHECKPOINT_SIGS_MAX; i++) {
		char name[64];

		snprintf(name, sizeof(name), "witness%d.example/w", i);
		ref_sig_line(&b, fixed_note, (size_t)(strstr(fixed_note, "\n\n") - fixed_note) + 1,
			     name, &other);
	}
	assert_int_equal(verify_buf(&b, &got), 0);
	ref_sig_line(&b, "x", 1, "one.too.many/w", &other);
	assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_OVERSIZED);
	buf_free(&b);
}

/* Bodies that are not checkpoints, each correctly signed by our key. */
static void test_strict_body(void **state)
{
	static const char *const bad[] = {
		NAME "\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",	/* leading zero */
		NAME "\n+8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n-8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n 8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n8 \nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n0x8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n99999999999999999999\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n000000000000000000008\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n",	/* no padding */
		NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",	/* bits left */
		NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n",	/* URL-safe */
		NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQ==\n",	/* 31 bytes */
		NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQygA\n",	/* 33 bytes */
		NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=A===\n",
		NAME "\n8\n Xcnaeacbbs\n",
		NAME "\n8\n\n",						/* empty root line */
		NAME "\n8\n",						/* two lines */
		NAME "\n",
		NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\nextension\n",
		NAME " \n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",	/* origin */
		"custos.example/other\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		NAME "\n0\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",	/* empty tree, other root */
	};
	static const char *const crlf = NAME "\r\n8\r\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\r\n";
	struct checkpoint got;
	struct buf b;
	(void)state;

	buf_init(&b, CHECKPOINT_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ref_note(&b, bad[i], NAME, &collector);
		if (verify_buf(&b, &got) != -CUSTOS_ERR_MALFORMED)
			fail_msg("body %zu accepted or refused for another reason: %d", i,
				 verify_buf(&b, &got));
	}
	ref_note(&b, crlf, NAME, &collector);
	assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_MALFORMED);
	/* the largest size is fine */
	ref_note(&b, NAME "\n18446744073709551615\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
		 NAME, &collector);
	assert_int_equal(verify_buf(&b, &got), 0);
	assert_true(got.size == UINT64_MAX);
	/* the empty tree with its root */
	ref_note(&b, NAME "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", NAME, &collector);
	assert_int_equal(verify_buf(&b, &got), 0);
	assert_int_equal(got.size, 0);
	buf_free(&b);
}

/* The envelope, around a correct checkpoint. */
static void test_strict_envelope(void **state)
{
	const size_t text_len = (size_t)(strstr(fixed_note, "\n\n") - fixed_note) + 1;
	const char *ours = strstr(fixed_note, "\n\n") + 2;	/* our signature line */
	const char *b64 = strrchr(fixed_note, ' ') + 1;
	static const char *const bad_lines[] = {
		"- custos.example/collector AAAAAAAA\n",		/* ASCII dash */
		"\xe2\x80\x93 custos.example/collector AAAAAAAA\n",	/* en dash */
		EM_DASH "custos.example/collector AAAAAAAA\n",		/* no space */
		EM_DASH " custos.example/collectorAAAAAAAA\n",		/* one field */
		EM_DASH "  AAAAAAAA\n",					/* empty name */
		EM_DASH " a+b AAAAAAAA\n",				/* plus */
		EM_DASH " a\xc2\xa0" "b AAAAAAAA\n",			/* U+00A0 */
		EM_DASH " a\xe3\x80\x80" "b AAAAAAAA\n",		/* U+3000 */
		EM_DASH " w.example AAAAAA==\n",			/* 4 bytes: no signature */
		EM_DASH " w.example AAAAAAA\n",				/* not a multiple of 4 */
		EM_DASH " w.example AAAAAAA=AAAA\n",			/* padding inside */
		EM_DASH " w.example AAAAAAB=\n",			/* bits left */
		EM_DASH " w.example AAAA AAAA\n",
		EM_DASH " w.example \n",
		EM_DASH " w.example AAAAAAAA \n",
		/* bytes 0x80-0xff, which libsodium 1.0.18 decodes as '/' */
		EM_DASH " w.example \xc2\x80" "AAAAAA\n",
		EM_DASH " w.example AAAAAA\xff\xff\n",
	};
	struct checkpoint got;
	struct buf b;
	char line[256];
	(void)state;

	buf_init(&b, CHECKPOINT_MAX);
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		/* after our good signature line, and alone */
		buf_reset(&b);
		assert_int_equal(buf_put(&b, fixed_note, strlen(fixed_note)), 0);
		assert_int_equal(buf_put(&b, bad_lines[i], strlen(bad_lines[i])), 0);
		if (verify_buf(&b, &got) != -CUSTOS_ERR_MALFORMED)
			fail_msg("signature line %zu not refused as malformed", i);
		buf_reset(&b);
		assert_int_equal(buf_put(&b, fixed_note, text_len + 1), 0);
		assert_int_equal(buf_put(&b, bad_lines[i], strlen(bad_lines[i])), 0);
		assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_MALFORMED);
	}
	/* cosigners may use any valid UTF-8 name; their lines are ignored */
	buf_reset(&b);
	assert_int_equal(buf_put(&b, fixed_note, strlen(fixed_note)), 0);
	ref_sig_line(&b, fixed_note, text_len, "t\xc3\xa9moin.example/\xe2\x9c\x93", &other);
	assert_int_equal(verify_buf(&b, &got), 0);
	/* our name with another key's ID: ignored, and then nothing is left */
	buf_reset(&b);
	assert_int_equal(buf_put(&b, fixed_note, text_len + 1), 0);
	ref_sig_line(&b, fixed_note, text_len, NAME, &other);
	assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* our name and ID, a signature one byte short: refused */
	buf_reset(&b);
	assert_int_equal(buf_put(&b, fixed_note, text_len + 1), 0);
	{
		uint8_t blob[68];
		char enc[sodium_base64_ENCODED_LEN(67, B64)];
		size_t n;

		assert_int_equal(sodium_base642bin(blob, sizeof(blob), b64, strlen(b64) - 1, NULL,
						   &n, NULL, B64), 0);
		assert_int_equal(n, 68);
		sodium_bin2base64(enc, sizeof(enc), blob, 67, B64);
		snprintf(line, sizeof(line), EM_DASH " " NAME " %s\n", enc);
	}
	assert_int_equal(buf_put(&b, line, strlen(line)), 0);
	assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* two good signatures of ours: fine; a bad one beside a good one: not */
	buf_reset(&b);
	assert_int_equal(buf_put(&b, fixed_note, strlen(fixed_note)), 0);
	assert_int_equal(buf_put(&b, ours, strlen(ours)), 0);
	assert_int_equal(verify_buf(&b, &got), 0);
	ref_sig_line(&b, "another text\n", 13, NAME, &collector);
	assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_BAD_SIGNATURE);
	/* encoding: NUL, a control character, an overlong '/', a surrogate,
	 * a lone continuation byte, a note opening with the blank line */
	{
		static const char *const enc_bad[] = { "\x00", "\t", "\xc0\xaf", "\xed\xa0\x80",
						       "\x80", "\xf4\x90\x80\x80" };

		for (size_t i = 0; i < sizeof(enc_bad) / sizeof(enc_bad[0]); i++) {
			size_t l = i == 0 ? 1 : strlen(enc_bad[i]);

			buf_reset(&b);
			assert_int_equal(buf_put(&b, "custos.example/", 15), 0);
			assert_int_equal(buf_put(&b, enc_bad[i], l), 0);
			assert_int_equal(buf_put(&b, fixed_note + 15, strlen(fixed_note) - 15), 0);
			assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_MALFORMED);
		}
		buf_reset(&b);
		assert_int_equal(buf_put(&b, "\n", 1), 0);
		assert_int_equal(buf_put(&b, ours, strlen(ours)), 0);
		assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_MALFORMED);
	}
	/* a signed checkpoint of another origin, by our key: not ours */
	ref_note(&b, "custos.example/other\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", NAME,
		 &collector);
	assert_int_equal(verify_buf(&b, &got), -CUSTOS_ERR_MALFORMED);
	buf_free(&b);
}

static void test_arguments(void **state)
{
	static const char *const bad_names[] = {
		"", "a b", "a+b", "a\tb", "caf\xc3\xa9", "a\nb", "\x7f",
	};
	char longname[CHECKPOINT_NAME_MAX + 2];
	struct checkpoint cp = { .size = 8 }, got;
	uint8_t id[CHECKPOINT_KEY_ID_LEN];
	struct buf out, small;
	(void)state;

	buf_init(&out, CHECKPOINT_MAX);
	unhex32(ref_root8, cp.root);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		assert_int_equal(checkpoint_sign(&cp, bad_names[i], &collector, &out),
				 -CUSTOS_ERR_INVAL);
		assert_int_equal(checkpoint_key_id(bad_names[i], collector.pub.sign_pk, id),
				 -CUSTOS_ERR_INVAL);
		assert_int_equal(checkpoint_verify((const uint8_t *)fixed_note, strlen(fixed_note),
						   bad_names[i], collector.pub.sign_pk, &got),
				 -CUSTOS_ERR_INVAL);
	}
	assert_int_equal(checkpoint_sign(&cp, NULL, &collector, &out), -CUSTOS_ERR_INVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(checkpoint_sign(&cp, longname, &collector, &out), -CUSTOS_ERR_INVAL);
	longname[CHECKPOINT_NAME_MAX] = 0;	/* exactly the limit */
	assert_int_equal(checkpoint_sign(&cp, longname, &collector, &out), 0);
	assert_int_equal(checkpoint_verify(out.data, out.len, longname, collector.pub.sign_pk,
					   &got), 0);
	/* an empty tree must have the empty root */
	cp.size = 0;
	assert_int_equal(checkpoint_sign(&cp, NAME, &collector, &out), -CUSTOS_ERR_INVAL);
	cp.size = 8;
	/* no room: out is left as it was */
	buf_init(&small, 100);
	assert_int_equal(buf_put(&small, "keep", 4), 0);
	assert_int_equal(checkpoint_sign(&cp, NAME, &collector, &small), -CUSTOS_ERR_OVERSIZED);
	assert_int_equal(small.len, 4);
	buf_free(&small);
	/* texts a note cannot carry */
	buf_reset(&out);
	assert_int_equal(checkpoint_note_sign((const uint8_t *)"no newline", 10, NAME, &collector,
					      &out), -CUSTOS_ERR_INVAL);
	assert_int_equal(checkpoint_note_sign((const uint8_t *)"\nx\n", 3, NAME, &collector, &out),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(checkpoint_note_sign((const uint8_t *)"a\rb\n", 4, NAME, &collector, &out),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(checkpoint_note_sign((const uint8_t *)"\xff\n", 2, NAME, &collector, &out),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(checkpoint_note_sign(NULL, 0, NAME, &collector, &out), -CUSTOS_ERR_INVAL);
	{
		uint8_t *big = malloc(CHECKPOINT_MAX);

		assert_non_null(big);
		memset(big, 'a', CHECKPOINT_MAX);
		big[CHECKPOINT_MAX - 1] = '\n';
		assert_int_equal(checkpoint_note_sign(big, CHECKPOINT_MAX, NAME, &collector, &out),
				 -CUSTOS_ERR_OVERSIZED);
		free(big);
	}
	assert_int_equal(out.len, 0);
	/* a text with empty lines inside and at its end signs and opens */
	{
		static const char t[] = "a\n\nb\n\n";
		size_t tl;

		assert_int_equal(checkpoint_note_sign((const uint8_t *)t, strlen(t), NAME,
						      &collector, &out), 0);
		assert_int_equal(checkpoint_note_open(out.data, out.len, NAME,
						      collector.pub.sign_pk, &tl), 0);
		assert_int_equal(tl, strlen(t));
		/* but it is no checkpoint */
		assert_int_equal(verify_buf(&out, &got), -CUSTOS_ERR_MALFORMED);
	}
	buf_free(&out);
}

/* --print: the fixed vector, for docs/custody.md after an intended change */
static int print_vector(void)
{
	struct buf out;

	if (custos_init() != 0 || setup(NULL) != 0)
		return 1;
	buf_init(&out, CHECKPOINT_MAX);
	fixed_checkpoint(&out);
	printf("<!-- vector: checkpoint -->\n```\n%.*s```\n", (int)out.len, (const char *)out.data);
	buf_free(&out);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_vector_key),
		cmocka_unit_test(test_go_vector_sign),
		cmocka_unit_test(test_go_vector_open),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_fixed_vector),
		cmocka_unit_test(test_every_flipped_byte),
		cmocka_unit_test(test_targeted_tampering),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_strict_body),
		cmocka_unit_test(test_strict_envelope),
		cmocka_unit_test(test_arguments),
	};

	if (argc == 2 && strcmp(argv[1], "--print") == 0)
		return print_vector();
	return cmocka_run_group_tests_name("checkpoint", tests, setup, NULL);
}
