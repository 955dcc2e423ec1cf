/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9162 Merkle trees: the reference vectors every certificate
 * transparency implementation checks, then every tree up to 64 leaves,
 * every leaf and every pair of sizes, with their proofs tampered with.
 *
 * Test data (data only, no code) comes from:
 *   - google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc
 *     (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs), the RFC 6962
 *     reference tree of eight leaves, carried over unchanged into
 *   - transparency-dev/merkle, proof/verify_test.go (leaves, roots,
 *     inclusionProofs, consistencyProofs, plus the extra 6 -> 7 proof) and
 *     rfc6962/rfc6962_test.go (empty tree, empty leaf, "L123456" leaf).
 * In those files leaf indices are 1-based; here they are 0-based.
 */
#include <sodium.h>

#include "testutil.h"
#include "merkle.h"

#define H MERKLE_HASH_LEN
#define EXHAUSTIVE_MAX 64

/* ---- reference data ------------------------------------------------- */

static const char *const ref_inputs[8] = {
	"", "00", "10", "2021", "3031", "40414243",
	"5051525354555657", "606162636465666768696a6b6c6d6e6f",
};

/* MTH of the first n inputs, n = 1..8 */
static const char *const ref_roots[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static const char ref_empty_root[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char ref_leaf_l123456[] =	/* leaf hash of "L123456" */
	"395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56";

struct ref_proof {
	uint64_t a, b;		/* inclusion: index, size; consistency: m, n */
	size_t len;
	const char *hash[3];
};

static const struct ref_proof ref_inclusion[] = {
	{ 0, 1, 0, { NULL } },
	{ 0, 8, 3, {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 5, 8, 3, {
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 3, 1, {
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
	{ 1, 5, 3, {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static const struct ref_proof ref_consistency[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3, {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 6, 8, 3, {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 5, 2, {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	{ 6, 7, 3, {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
};

/* ---- helpers -------------------------------------------------------- */

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n;

	assert_int_equal(sodium_hex2bin(out, max, s, strlen(s), NULL, &n, NULL), 0);
	return n;
}

static void unhex32(const char *s, uint8_t out[H])
{
	assert_int_equal(unhex(s, out, H), H);
}

static uint8_t ref_leaf[8][H];		/* leaf hashes of ref_inputs */
static uint8_t big_leaf[EXHAUSTIVE_MAX][H];	/* leaf hashes of the bytes 0..63 */

static int setup(void **state)
{
	uint8_t in[16];
	(void)state;

	assert_int_equal(custos_init(), 0);
	for (int i = 0; i < 8; i++)
		merkle_leaf_hash(in, unhex(ref_inputs[i], in, sizeof(in)), ref_leaf[i]);
	for (int i = 0; i < EXHAUSTIVE_MAX; i++) {
		uint8_t b = (uint8_t)i;

		merkle_leaf_hash(&b, 1, big_leaf[i]);
	}
	return 0;
}

static unsigned ceil_log2(uint64_t n)
{
	unsigned c = 0;

	while ((UINT64_C(1) << c) < n)
		c++;
	return c;
}

/* An independent way to the same root: fold leaves left to right into a
 * stack of complete subtrees (a binary counter), then fold the stack right
 * to left. It never computes a split point. */
static void counter_root(const uint8_t (*leaf)[H], uint64_t n, uint8_t root[H])
{
	uint8_t stack[64][H];
	uint64_t size[64];
	int top = 0;

	assert_true(n > 0);
	for (uint64_t i = 0; i < n; i++) {
		memcpy(stack[top], leaf[i], H);
		size[top++] = 1;
		while (top >= 2 && size[top - 1] == size[top - 2]) {
			merkle_node_hash(stack[top - 2], stack[top - 1], stack[top - 2]);
			size[top - 2] *= 2;
			top--;
		}
	}
	while (top >= 2) {
		merkle_node_hash(stack[top - 2], stack[top - 1], stack[top - 2]);
		top--;
	}
	memcpy(root, stack[0], H);
}

static void root_of(const uint8_t (*leaf)[H], uint64_t n, uint8_t root[H])
{
	struct merkle_leaves a = { leaf, n };

	assert_int_equal(merkle_root(merkle_leaves_get, &a, n, root), 0);
}

static void incl_proof(const uint8_t (*leaf)[H], uint64_t idx, uint64_t n,
		       uint8_t proof[MERKLE_PROOF_MAX][H], size_t *len)
{
	struct merkle_leaves a = { leaf, n };

	assert_int_equal(merkle_inclusion_proof(merkle_leaves_get, &a, idx, n, proof, len), 0);
}

static void cons_proof(const uint8_t (*leaf)[H], uint64_t m, uint64_t n,
		       uint8_t proof[MERKLE_PROOF_MAX][H], size_t *len)
{
	struct merkle_leaves a = { leaf, n };

	assert_int_equal(merkle_consistency_proof(merkle_leaves_get, &a, m, n, proof, len), 0);
}

#define BAD(call) assert_int_equal((call), -CUSTOS_ERR_BAD_PROOF)

/* Tampered variants of a valid inclusion proof, the same probes the
 * reference verifier tests run, plus every bit position class. */
static void inclusion_probes(uint64_t idx, uint64_t n, const uint8_t leaf[H],
			     uint8_t proof[MERKLE_PROOF_MAX + 1][H], size_t len,
			     const uint8_t root[H])
{
	uint8_t wrong[H], other[MERKLE_PROOF_MAX + 1][H];

	assert_int_equal(merkle_verify_inclusion(idx, n, leaf, proof, len, root), 0);
	/* wrong leaf index */
	BAD(merkle_verify_inclusion(idx - 1, n, leaf, proof, len, root));
	BAD(merkle_verify_inclusion(idx + 1, n, leaf, proof, len, root));
	BAD(merkle_verify_inclusion(idx ^ 2, n, leaf, proof, len, root));
	/* wrong leaf or root */
	memcpy(wrong, leaf, H);
	wrong[H - 1] ^= 1;
	BAD(merkle_verify_inclusion(idx, n, wrong, proof, len, root));
	memcpy(wrong, root, H);
	wrong[0] ^= 0x80;
	BAD(merkle_verify_inclusion(idx, n, leaf, proof, len, wrong));
	unhex32(ref_empty_root, wrong);
	BAD(merkle_verify_inclusion(idx, n, leaf, proof, len, wrong));
	/* every element of the path, one bit at each end */
	for (size_t i = 0; i < len; i++) {
		proof[i][0] ^= 8;
		BAD(merkle_verify_inclusion(idx, n, leaf, proof, len, root));
		proof[i][0] ^= 8;
		proof[i][H - 1] ^= 1;
		BAD(merkle_verify_inclusion(idx, n, leaf, proof, len, root));
		proof[i][H - 1] ^= 1;
	}
	/* trailing root, trailing zeroes; removed last element */
	memcpy(proof[len], root, H);
	BAD(merkle_verify_inclusion(idx, n, leaf, proof, len + 1, root));
	memset(proof[len], 0, H);
	BAD(merkle_verify_inclusion(idx, n, leaf, proof, len + 1, root));
	if (len > 0)
		BAD(merkle_verify_inclusion(idx, n, leaf, proof, len - 1, root));
	/* preceding root, preceding zeroes */
	memcpy(other[0], root, H);
	memcpy(other[1], proof, len * H);
	BAD(merkle_verify_inclusion(idx, n, leaf, other, len + 1, root));
	memset(other[0], 0, H);
	BAD(merkle_verify_inclusion(idx, n, leaf, other, len + 1, root));
	/* two elements swapped */
	if (len > 1) {
		memcpy(other, proof, len * H);
		memcpy(other[0], proof[1], H);
		memcpy(other[1], proof[0], H);
		BAD(merkle_verify_inclusion(idx, n, leaf, other, len, root));
	}
}

static void consistency_probes(uint64_t m, uint64_t n, const uint8_t r1[H], const uint8_t r2[H],
			       uint8_t proof[MERKLE_PROOF_MAX + 1][H], size_t len)
{
	uint8_t wrong[H], other[MERKLE_PROOF_MAX + 1][H];

	assert_int_equal(merkle_verify_consistency(m, n, r1, r2, proof, len), 0);
	if (len == 0)
		return;
	/* wrong sizes */
	BAD(merkle_verify_consistency(m - 1, n, r1, r2, proof, len));
	BAD(merkle_verify_consistency(m + 1, n, r1, r2, proof, len));
	BAD(merkle_verify_consistency(m ^ 2, n, r1, r2, proof, len));
	BAD(merkle_verify_consistency(m, n * 2, r1, r2, proof, len));
	BAD(merkle_verify_consistency(m, n / 2, r1, r2, proof, len));
	/* wrong or swapped roots */
	memcpy(wrong, r1, H);
	wrong[5] ^= 0x20;
	BAD(merkle_verify_consistency(m, n, wrong, r2, proof, len));
	memcpy(wrong, r2, H);
	wrong[7] ^= 0x04;
	BAD(merkle_verify_consistency(m, n, r1, wrong, proof, len));
	BAD(merkle_verify_consistency(m, n, r2, r1, proof, len));
	/* empty proof */
	BAD(merkle_verify_consistency(m, n, r1, r2, proof, 0));
	/* every element, one bit at each end */
	for (size_t i = 0; i < len; i++) {
		proof[i][0] ^= 16;
		BAD(merkle_verify_consistency(m, n, r1, r2, proof, len));
		proof[i][0] ^= 16;
		proof[i][H - 1] ^= 0x40;
		BAD(merkle_verify_consistency(m, n, r1, r2, proof, len));
		proof[i][H - 1] ^= 0x40;
	}
	/* trailing root1, root2, zeroes, last element again; removed last */
	memcpy(proof[len], r1, H);
	BAD(merkle_verify_consistency(m, n, r1, r2, proof, len + 1));
	memcpy(proof[len], r2, H);
	BAD(merkle_verify_consistency(m, n, r1, r2, proof, len + 1));
	memset(proof[len], 0, H);
	BAD(merkle_verify_consistency(m, n, r1, r2, proof, len + 1));
	memcpy(proof[len], proof[len - 1], H);
	BAD(merkle_verify_consistency(m, n, r1, r2, proof, len + 1));
	BAD(merkle_verify_consistency(m, n, r1, r2, proof, len - 1));
	/* preceding root1, root2, zeroes, first element again */
	memcpy(other[1], proof, len * H);
	memcpy(other[0], r1, H);
	BAD(merkle_verify_consistency(m, n, r1, r2, other, len + 1));
	memcpy(other[0], r2, H);
	BAD(merkle_verify_consistency(m, n, r1, r2, other, len + 1));
	memset(other[0], 0, H);
	BAD(merkle_verify_consistency(m, n, r1, r2, other, len + 1));
	memcpy(other[0], proof[0], H);
	BAD(merkle_verify_consistency(m, n, r1, r2, other, len + 1));
}

/* ---- reference vectors ---------------------------------------------- */

static void test_hash_vectors(void **state)
{
	uint8_t got[H], want[H];
	(void)state;

	assert_int_equal(merkle_root(NULL, NULL, 0, got), 0);
	unhex32(ref_empty_root, want);
	assert_memory_equal(got, want, H);
	merkle_leaf_hash("", 0, got);	/* the empty leaf is not the empty tree */
	unhex32(ref_roots[0], want);
	assert_memory_equal(got, want, H);
	merkle_leaf_hash("L123456", 7, got);
	unhex32(ref_leaf_l123456, want);
	assert_memory_equal(got, want, H);
	/* node hash: the 2-leaf root is H(0x01 || leaf0 || leaf1) */
	merkle_node_hash(ref_leaf[0], ref_leaf[1], got);
	unhex32(ref_roots[1], want);
	assert_memory_equal(got, want, H);
	/* order matters, and a node is not a leaf of the concatenation */
	merkle_node_hash(ref_leaf[1], ref_leaf[0], got);
	assert_memory_not_equal(got, want, H);
	{
		uint8_t cat[2 * H];

		memcpy(cat, ref_leaf[0], H);
		memcpy(cat + H, ref_leaf[1], H);
		merkle_leaf_hash(cat, sizeof(cat), got);
		assert_memory_not_equal(got, want, H);
	}
}

static void test_reference_roots(void **state)
{
	uint8_t got[H], want[H];
	(void)state;

	for (uint64_t n = 1; n <= 8; n++) {
		root_of(ref_leaf, n, got);
		unhex32(ref_roots[n - 1], want);
		assert_memory_equal(got, want, H);
	}
}

static void test_reference_inclusion(void **state)
{
	uint8_t proof[MERKLE_PROOF_MAX + 1][H], want[H], root[H];
	size_t len;
	(void)state;

	for (size_t v = 0; v < sizeof(ref_inclusion) / sizeof(ref_inclusion[0]); v++) {
		const struct ref_proof *r = &ref_inclusion[v];

		incl_proof(ref_leaf, r->a, r->b, proof, &len);
		assert_int_equal(len, r->len);
		for (size_t i = 0; i < len; i++) {
			unhex32(r->hash[i], want);
			assert_memory_equal(proof[i], want, H);
		}
		unhex32(ref_roots[r->b - 1], root);
		inclusion_probes(r->a, r->b, ref_leaf[r->a], proof, len, root);
		/* wrong tree sizes, as the reference tests probe */
		BAD(merkle_verify_inclusion(r->a, r->b * 2, ref_leaf[r->a], proof, len, root));
		BAD(merkle_verify_inclusion(r->a, r->b / 2, ref_leaf[r->a], proof, len, root));
	}
	/* the invalid (index, size) pairs of the reference tests */
	unhex32(ref_empty_root, root);
	BAD(merkle_verify_inclusion(0, 0, root, NULL, 0, root));
	BAD(merkle_verify_inclusion(1, 0, ref_leaf[0], NULL, 0, root));
	BAD(merkle_verify_inclusion(2, 1, ref_leaf[0], NULL, 0, root));
	BAD(merkle_verify_inclusion(0, 1, ref_leaf[0], NULL, 0, root));
}

static void test_reference_consistency(void **state)
{
	uint8_t proof[MERKLE_PROOF_MAX + 1][H], want[H], r1[H], r2[H], empty[H];
	size_t len;
	(void)state;

	for (size_t v = 0; v < sizeof(ref_consistency) / sizeof(ref_consistency[0]); v++) {
		const struct ref_proof *r = &ref_consistency[v];

		cons_proof(ref_leaf, r->a, r->b, proof, &len);
		assert_int_equal(len, r->len);
		for (size_t i = 0; i < len; i++) {
			unhex32(r->hash[i], want);
			assert_memory_equal(proof[i], want, H);
		}
		unhex32(ref_roots[r->a - 1], r1);
		unhex32(ref_roots[r->b - 1], r2);
		consistency_probes(r->a, r->b, r1, r2, proof, len);
	}
	/* the reference tests' table of trivial cases; where it accepts any
	 * first root for size 0, we want the empty tree's (docs/custody.md) */
	unhex32(ref_empty_root, empty);
	unhex32(ref_roots[0], r1);
	unhex32(ref_roots[1], r2);
	assert_int_equal(merkle_verify_consistency(0, 0, empty, empty, NULL, 0), 0);
	assert_int_equal(merkle_verify_consistency(0, 1, empty, r1, NULL, 0), 0);
	assert_int_equal(merkle_verify_consistency(1, 1, r1, r1, NULL, 0), 0);
	BAD(merkle_verify_consistency(0, 1, r2, r1, NULL, 0));
	BAD(merkle_verify_consistency(0, 0, empty, r1, NULL, 0));
	BAD(merkle_verify_consistency(1, 1, r1, r2, NULL, 0));
	BAD(merkle_verify_consistency(1, 0, r1, r2, NULL, 0));	/* time travel */
	BAD(merkle_verify_consistency(2, 1, r2, r1, NULL, 0));
	BAD(merkle_verify_consistency(1, 2, r1, r2, NULL, 0));	/* empty proof */
	memcpy(proof[0], empty, H);	/* equal roots, but a proof */
	BAD(merkle_verify_consistency(0, 0, empty, empty, proof, 1));
	BAD(merkle_verify_consistency(0, 1, empty, empty, proof, 1));
	BAD(merkle_verify_consistency(1, 1, empty, empty, proof, 1));
}

/* ---- exhaustive: every tree up to 64 leaves -------------------------- */

static void test_roots_agree_with_counter(void **state)
{
	uint8_t a[H], b[H];
	(void)state;

	for (uint64_t n = 1; n <= EXHAUSTIVE_MAX; n++) {
		root_of(big_leaf, n, a);
		counter_root(big_leaf, n, b);
		assert_memory_equal(a, b, H);
	}
}

static void test_every_inclusion_proof(void **state)
{
	uint8_t proof[MERKLE_PROOF_MAX + 1][H], root[H];
	size_t len;
	(void)state;

	for (uint64_t n = 1; n <= EXHAUSTIVE_MAX; n++) {
		root_of(big_leaf, n, root);
		for (uint64_t m = 0; m < n; m++) {
			incl_proof(big_leaf, m, n, proof, &len);
			assert_true(len <= ceil_log2(n));
			inclusion_probes(m, n, big_leaf[m], proof, len, root);
			/* the same proof claimed for any other index, or for
			 * another leaf at this index, fails */
			for (uint64_t o = 0; o <= n + 1; o++) {
				if (o != m)
					BAD(merkle_verify_inclusion(o, n, big_leaf[m], proof,
								    len, root));
				if (o < n && o != m)
					BAD(merkle_verify_inclusion(m, n, big_leaf[o], proof,
								    len, root));
			}
		}
	}
}

static void test_every_consistency_proof(void **state)
{
	uint8_t proof[MERKLE_PROOF_MAX + 1][H], roots[EXHAUSTIVE_MAX + 1][H];
	size_t len;
	(void)state;

	for (uint64_t n = 1; n <= EXHAUSTIVE_MAX; n++)
		root_of(big_leaf, n, roots[n]);
	for (uint64_t n = 1; n <= EXHAUSTIVE_MAX; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			cons_proof(big_leaf, m, n, proof, &len);
			assert_true(len <= ceil_log2(n) + 1);
			if (m == n) {
				assert_int_equal(len, 0);
				assert_int_equal(merkle_verify_consistency(m, n, roots[m], roots[n],
									   proof, 0), 0);
				memcpy(proof[0], roots[m], H);
				BAD(merkle_verify_consistency(m, n, roots[m], roots[n], proof, 1));
				if (m > 1)
					BAD(merkle_verify_consistency(m, n, roots[m - 1], roots[n],
								      proof, 0));
				continue;
			}
			consistency_probes(m, n, roots[m], roots[n], proof, len);
			/* any other old size, with its own root or ours, fails */
			for (uint64_t o = 1; o <= n; o++) {
				if (o == m)
					continue;
				BAD(merkle_verify_consistency(o, n, roots[m], roots[n], proof, len));
				BAD(merkle_verify_consistency(o, n, roots[o], roots[n], proof, len));
			}
			/* and so does any other new size with its own root (with
			 * root n it may not: see test_size_bound_by_root) */
			for (uint64_t o = m; o <= EXHAUSTIVE_MAX; o++)
				if (o != n)
					BAD(merkle_verify_consistency(m, o, roots[m], roots[o], proof,
								      len));
		}
	}
}

/* What the RFC 9162 verifiers do not check, and the checkpoint must: a
 * proof binds the new tree size only through its root. The proof that
 * tree 3 extends tree 1 also "proves" it for a tree of size 4 with tree
 * 3's root, a pair no honest log signs. So (size, root) pairs must come
 * from one verified checkpoint (docs/custody.md 3.3); the old size, by
 * contrast, is bound (the exhaustive test above tries every other one). */
static void test_size_bound_by_root(void **state)
{
	uint8_t proof[MERKLE_PROOF_MAX][H], r1[H], r3[H], r4[H];
	size_t len;
	(void)state;

	root_of(big_leaf, 1, r1);
	root_of(big_leaf, 3, r3);
	root_of(big_leaf, 4, r4);
	cons_proof(big_leaf, 1, 3, proof, &len);
	assert_int_equal(merkle_verify_consistency(1, 3, r1, r3, proof, len), 0);
	assert_int_equal(merkle_verify_consistency(1, 4, r1, r3, proof, len), 0);
	BAD(merkle_verify_consistency(1, 4, r1, r4, proof, len));
	/* the same holds for inclusion proofs */
	incl_proof(big_leaf, 0, 3, proof, &len);
	assert_int_equal(merkle_verify_inclusion(0, 4, big_leaf[0], proof, len, r3), 0);
	BAD(merkle_verify_inclusion(0, 4, big_leaf[0], proof, len, r4));
}

/* ---- arguments, callbacks, limits ------------------------------------ */

static int failing_get(void *ctx, uint64_t index, uint8_t out[H])
{
	uint64_t fail_at = *(const uint64_t *)ctx;

	if (index == fail_at)
		return -CUSTOS_ERR_IO;
	memcpy(out, big_leaf[index % EXHAUSTIVE_MAX], H);
	return 0;
}

static void test_arguments_and_callback_errors(void **state)
{
	uint8_t proof[MERKLE_PROOF_MAX + 1][H], root[H];
	struct merkle_leaves a = { big_leaf, 10 };
	uint64_t fail_at;
	size_t len = 99;
	(void)state;

	assert_int_equal(merkle_root(NULL, NULL, 1, root), -CUSTOS_ERR_INVAL);
	assert_int_equal(merkle_root(merkle_leaves_get, &a, MERKLE_SIZE_MAX + 1, root),
			 -CUSTOS_ERR_INVAL);
	/* the array adapter refuses to read past its end */
	assert_int_equal(merkle_root(merkle_leaves_get, &a, 11, root), -CUSTOS_ERR_INVAL);
	assert_int_equal(merkle_inclusion_proof(merkle_leaves_get, &a, 10, 10, proof, &len),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(len, 0);
	assert_int_equal(merkle_inclusion_proof(merkle_leaves_get, &a, 0, 0, proof, &len),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(merkle_inclusion_proof(NULL, &a, 0, 1, proof, &len), -CUSTOS_ERR_INVAL);
	assert_int_equal(merkle_consistency_proof(merkle_leaves_get, &a, 0, 5, proof, &len),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(merkle_consistency_proof(merkle_leaves_get, &a, 6, 5, proof, &len),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(merkle_consistency_proof(merkle_leaves_get, &a, 1, MERKLE_SIZE_MAX + 1,
						  proof, &len), -CUSTOS_ERR_INVAL);

	/* a leaf source's error comes back unchanged, wherever it happens */
	for (fail_at = 0; fail_at < 10; fail_at++) {
		assert_int_equal(merkle_root(failing_get, &fail_at, 10, root), -CUSTOS_ERR_IO);
		assert_int_equal(merkle_consistency_proof(failing_get, &fail_at, 3, 10, proof,
							  &len), -CUSTOS_ERR_IO);
		assert_int_equal(len, 0);
		if (fail_at != 4)	/* PATH(4, D_10) never reads leaf 4 */
			assert_int_equal(merkle_inclusion_proof(failing_get, &fail_at, 4, 10,
								proof, &len), -CUSTOS_ERR_IO);
	}

	/* verification bounds */
	root_of(big_leaf, 2, root);
	assert_int_equal(merkle_verify_inclusion(0, 2, big_leaf[0], proof, MERKLE_PROOF_MAX + 1,
						 root), -CUSTOS_ERR_OVERSIZED);
	assert_int_equal(merkle_verify_inclusion(0, 2, big_leaf[0], NULL, 1, root),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(merkle_verify_consistency(1, 2, big_leaf[0], root, proof,
						   MERKLE_PROOF_MAX + 1), -CUSTOS_ERR_OVERSIZED);
	assert_int_equal(merkle_verify_consistency(1, 2, big_leaf[0], root, NULL, 1),
			 -CUSTOS_ERR_INVAL);
	memcpy(proof[0], big_leaf[1], H);
	assert_int_equal(merkle_verify_consistency(1, 2, big_leaf[0], root, proof, 1), 0);
}

/* Untrusted sizes at the top of the range: the verifiers finish and
 * refuse, whatever the proof holds. */
static void test_huge_sizes(void **state)
{
	uint8_t proof[MERKLE_PROOF_MAX][H], root[H], leaf[H];
	(void)state;

	randombytes_buf(proof, sizeof(proof));
	randombytes_buf(root, sizeof(root));
	randombytes_buf(leaf, sizeof(leaf));
	for (size_t len = 0; len <= MERKLE_PROOF_MAX; len++) {
		BAD(merkle_verify_inclusion(UINT64_MAX - 1, UINT64_MAX, leaf, proof, len, root));
		BAD(merkle_verify_inclusion(0, UINT64_MAX, leaf, proof, len, root));
		BAD(merkle_verify_inclusion(UINT64_C(1) << 63, UINT64_MAX, leaf, proof, len, root));
		BAD(merkle_verify_consistency(UINT64_C(1) << 63, UINT64_MAX, leaf, root, proof, len));
		BAD(merkle_verify_consistency(1, UINT64_MAX, leaf, root, proof, len));
		BAD(merkle_verify_consistency(UINT64_MAX - 1, UINT64_MAX, leaf, root, proof, len));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_reference_roots),
		cmocka_unit_test(test_reference_inclusion),
		cmocka_unit_test(test_reference_consistency),
		cmocka_unit_test(test_roots_agree_with_counter),
		cmocka_unit_test(test_every_inclusion_proof),
		cmocka_unit_test(test_every_consistency_proof),
		cmocka_unit_test(test_size_bound_by_root),
		cmocka_unit_test(test_arguments_and_callback_errors),
		cmocka_unit_test(test_huge_sizes),
	};

	return cmocka_run_group_tests_name("merkle", tests, setup, NULL);
}
