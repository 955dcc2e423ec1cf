/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9162 section 2.1 Merkle trees (see merkle.h). Generation follows the
 * RFC's recursive definitions of MTH, PATH and SUBPROOF one to one, over
 * a range [lo, lo + n) of the caller's leaves; verification follows the
 * numbered steps of 2.1.3.2 and 2.1.4.2, quoted next to the code.
 * Hashes and proofs are public data: plain memcmp is fine.
 */
#include <string.h>
#include <sodium.h>

#include "error.h"
#include "merkle.h"

#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

int merkle_leaves_get(void *ctx, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
	const struct merkle_leaves *a = ctx;

	if (!a || index >= a->count)
		return -CUSTOS_ERR_INVAL;
	memcpy(out, a->hash[index], MERKLE_HASH_LEN);
	return 0;
}

void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	crypto_hash_sha256_state st;
	const uint8_t prefix = LEAF_PREFIX;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN])
{
	crypto_hash_sha256_state st;
	const uint8_t prefix = NODE_PREFIX;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, left, MERKLE_HASH_LEN);
	crypto_hash_sha256_update(&st, right, MERKLE_HASH_LEN);
	crypto_hash_sha256_final(&st, out);	/* inputs fully read: out may alias */
}

/* RFC 9162 2.1.1: "k be the largest power of two smaller than n (i.e.,
 * k < n <= 2k)". n >= 2. Written so that no shift can overflow. */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

struct source {
	merkle_leaf_fn get;
	void *ctx;
};

/* RFC 9162 2.1.1: MTH(D[lo:lo+n]), n >= 1. Recursion depth <= 64. */
static int mth(const struct source *s, uint64_t lo, uint64_t n, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
	uint64_t k;
	int ret;

	if (n == 1)
		return s->get(s->ctx, lo, out);
	k = split(n);
	ret = mth(s, lo, k, left);
	if (ret == 0)
		ret = mth(s, lo + k, n - k, right);
	if (ret == 0)
		merkle_node_hash(left, right, out);
	return ret;
}

int merkle_root(merkle_leaf_fn get, void *ctx, uint64_t n, uint8_t root[MERKLE_HASH_LEN])
{
	struct source s = { get, ctx };

	memset(root, 0, MERKLE_HASH_LEN);
	if (n == 0) {
		/* "The hash of an empty list is the hash of an empty string" */
		crypto_hash_sha256(root, NULL, 0);
		return 0;
	}
	if (!get || n > MERKLE_SIZE_MAX)
		return -CUSTOS_ERR_INVAL;
	return mth(&s, 0, n, root);
}

/* A proof being built: the ":" (append) of the RFC's definitions. */
struct proof_out {
	uint8_t (*hash)[MERKLE_HASH_LEN];
	size_t len;
};

/* Append MTH(D[lo:lo+n]) to the proof. */
static int append_mth(const struct source *s, struct proof_out *p, uint64_t lo, uint64_t n)
{
	if (p->len >= MERKLE_PROOF_MAX)	/* unreachable for n <= MERKLE_SIZE_MAX */
		return -CUSTOS_ERR_OVERSIZED;
	return mth(s, lo, n, p->hash[p->len++]);
}

/* RFC 9162 2.1.3.1: PATH(m, D[lo:lo+n]), 0 <= m < n.
 *   PATH(0, {d(0)}) = {}
 *   m < k:  PATH(m, D_n) = PATH(m, D[0:k]) : MTH(D[k:n])
 *   m >= k: PATH(m, D_n) = PATH(m - k, D[k:n]) : MTH(D[0:k]) */
static int path(const struct source *s, struct proof_out *p, uint64_t m, uint64_t lo, uint64_t n)
{
	uint64_t k;
	int ret;

	if (n == 1)
		return 0;
	k = split(n);
	if (m < k) {
		ret = path(s, p, m, lo, k);
		return ret ? ret : append_mth(s, p, lo + k, n - k);
	}
	ret = path(s, p, m - k, lo + k, n - k);
	return ret ? ret : append_mth(s, p, lo, k);
}

int merkle_inclusion_proof(merkle_leaf_fn get, void *ctx, uint64_t index, uint64_t n,
			   uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], size_t *len)
{
	struct source s = { get, ctx };
	struct proof_out p = { proof, 0 };
	int ret;

	*len = 0;
	if (!get || !proof || n == 0 || n > MERKLE_SIZE_MAX || index >= n)
		return -CUSTOS_ERR_INVAL;
	ret = path(&s, &p, index, 0, n);
	if (ret == 0)
		*len = p.len;
	return ret;
}

/* RFC 9162 2.1.4.1: SUBPROOF(m, D[lo:lo+n], b), 1 <= m <= n.
 *   SUBPROOF(m, D[m], true)  = {}
 *   SUBPROOF(m, D[m], false) = {MTH(D[m])}
 *   m <= k: SUBPROOF(m, D_n, b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
 *   m > k:  SUBPROOF(m, D_n, b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) */
static int subproof(const struct source *s, struct proof_out *p, uint64_t m, uint64_t lo,
		    uint64_t n, int b)
{
	uint64_t k;
	int ret;

	if (m == n)
		return b ? 0 : append_mth(s, p, lo, n);
	k = split(n);
	if (m <= k) {
		ret = subproof(s, p, m, lo, k, b);
		return ret ? ret : append_mth(s, p, lo + k, n - k);
	}
	ret = subproof(s, p, m - k, lo + k, n - k, 0);
	return ret ? ret : append_mth(s, p, lo, k);
}

int merkle_consistency_proof(merkle_leaf_fn get, void *ctx, uint64_t m, uint64_t n,
			     uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], size_t *len)
{
	struct source s = { get, ctx };
	struct proof_out p = { proof, 0 };
	int ret;

	*len = 0;
	if (!get || !proof || m == 0 || m > n || n > MERKLE_SIZE_MAX)
		return -CUSTOS_ERR_INVAL;
	/* PROOF(m, D_n) = SUBPROOF(m, D_n, true) */
	ret = subproof(&s, &p, m, 0, n, 1);
	if (ret == 0)
		*len = p.len;
	return ret;
}

static int lsb(uint64_t x)
{
	return (int)(x & 1);
}

int merkle_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf_hash[MERKLE_HASH_LEN],
			    const uint8_t proof[][MERKLE_HASH_LEN], size_t len,
			    const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint64_t fn, sn;

	if (len > MERKLE_PROOF_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	if (len > 0 && !proof)
		return -CUSTOS_ERR_INVAL;
	/* 1. "If leaf_index is greater than or equal to tree_size, then fail
	 *    the proof verification." */
	if (index >= n)
		return -CUSTOS_ERR_BAD_PROOF;
	/* 2. "Set fn to leaf_index and sn to tree_size - 1." */
	fn = index;
	sn = n - 1;
	/* 3. "Set r to hash." */
	memcpy(r, leaf_hash, MERKLE_HASH_LEN);
	/* 4. "For each value p in the inclusion_path array:" */
	for (size_t i = 0; i < len; i++) {
		/* a. "If sn is 0, then stop the iteration and fail the proof
		 *    verification." */
		if (sn == 0)
			return -CUSTOS_ERR_BAD_PROOF;
		/* b. "If LSB(fn) is set, or if fn is equal to sn, then:" */
		if (lsb(fn) || fn == sn) {
			/* i. "Set r to HASH(0x01 || p || r)." */
			merkle_node_hash(proof[i], r, r);
			/* ii. "If LSB(fn) is not set, then right-shift both fn
			 *     and sn equally until either LSB(fn) is set or fn
			 *     is 0." */
			while (!lsb(fn) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			/* "Otherwise: i. Set r to HASH(0x01 || r || p)." */
			merkle_node_hash(r, proof[i], r);
		}
		/* c. "Finally, right-shift both fn and sn one time." */
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. "If sn is equal to 0 and r and the root_hash are equal, then the
	 *    log has proven the inclusion of hash. Otherwise, fail the proof
	 *    verification." */
	if (sn == 0 && memcmp(r, root, MERKLE_HASH_LEN) == 0)
		return 0;
	return -CUSTOS_ERR_BAD_PROOF;
}

int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t first_hash[MERKLE_HASH_LEN],
			      const uint8_t second_hash[MERKLE_HASH_LEN],
			      const uint8_t proof[][MERKLE_HASH_LEN], size_t len)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN], empty[MERKLE_HASH_LEN];
	const uint8_t *c;
	uint64_t fn, sn;
	size_t count, i, skip;

	if (len > MERKLE_PROOF_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	if (len > 0 && !proof)
		return -CUSTOS_ERR_INVAL;
	/* Outside the RFC algorithm, which assumes 0 < first < second. */
	if (m > n)
		return -CUSTOS_ERR_BAD_PROOF;
	if (m == n)
		return len == 0 && memcmp(first_hash, second_hash, MERKLE_HASH_LEN) == 0
			       ? 0 : -CUSTOS_ERR_BAD_PROOF;
	if (m == 0) {
		crypto_hash_sha256(empty, NULL, 0);
		return len == 0 && memcmp(first_hash, empty, MERKLE_HASH_LEN) == 0
			       ? 0 : -CUSTOS_ERR_BAD_PROOF;
	}

	/* 1. "If consistency_path is an empty array, stop and fail the proof
	 *    verification." */
	if (len == 0)
		return -CUSTOS_ERR_BAD_PROOF;
	/* 2. "If first is an exact power of 2, then prepend first_hash to the
	 *    consistency_path array." The array is then path[0..count), with
	 *    path[0] = first_hash when skip is 1 and proof[i - skip] after. */
	skip = (m & (m - 1)) == 0 ? 1 : 0;
	count = len + skip;
	/* 3. "Set fn to first - 1 and sn to second - 1." */
	fn = m - 1;
	sn = n - 1;
	/* 4. "If LSB(fn) is set, then right-shift both fn and sn equally until
	 *    LSB(fn) is not set." */
	while (lsb(fn)) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. "Set both fr and sr to the first value in the consistency_path
	 *    array." */
	c = skip ? first_hash : proof[0];
	memcpy(fr, c, MERKLE_HASH_LEN);
	memcpy(sr, c, MERKLE_HASH_LEN);
	/* 6. "For each subsequent value c in the consistency_path array:" */
	for (i = 1; i < count; i++) {
		c = proof[i - skip];
		/* a. "If sn is 0, then stop the iteration and fail the proof
		 *    verification." */
		if (sn == 0)
			return -CUSTOS_ERR_BAD_PROOF;
		/* b. "If LSB(fn) is set, or if fn is equal to sn, then:" */
		if (lsb(fn) || fn == sn) {
			/* i. "Set fr to HASH(0x01 || c || fr)."
			 * ii. "Set sr to HASH(0x01 || c || sr)." */
			merkle_node_hash(c, fr, fr);
			merkle_node_hash(c, sr, sr);
			/* iii. "If LSB(fn) is not set, then right-shift both fn
			 *      and sn equally until either LSB(fn) is set or fn
			 *      is 0." */
			while (!lsb(fn) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			/* "Otherwise: i. Set sr to HASH(0x01 || sr || c)." */
			merkle_node_hash(sr, c, sr);
		}
		/* c. "Finally, right-shift both fn and sn one time." */
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. "verify that the fr calculated is equal to the first_hash
	 *    supplied, that the sr calculated is equal to the second_hash
	 *    supplied, and that sn is 0." */
	if (memcmp(fr, first_hash, MERKLE_HASH_LEN) == 0 &&
	    memcmp(sr, second_hash, MERKLE_HASH_LEN) == 0 && sn == 0)
		return 0;
	return -CUSTOS_ERR_BAD_PROOF;
}
