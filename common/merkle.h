/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merkle: the Merkle tree of the custody log, exactly as RFC 9162
 * (Certificate Transparency 2.0) section 2.1 defines it with SHA-256:
 * leaf hash SHA-256(0x00 || data), node hash SHA-256(0x01 || left || right),
 * the root of n > 1 leaves split at k, the largest power of two below n.
 * This file computes roots and generates and verifies inclusion and
 * consistency proofs; it keeps no state. docs/custody.md is the spec.
 *
 * Generation reads leaf hashes from the caller through a merkle_leaf_fn, so
 * the collector can serve them from its log on disk; merkle_leaves_get
 * adapts an array. What a leaf source must guarantee:
 *   1. Append-only: leaf i's hash, once written, never changes, and every
 *      call for index i returns it. A tree of size n is leaves 0..n-1, so a
 *      tree of size m < n is a prefix of it: that is what a consistency
 *      proof proves and what a signed checkpoint commits to.
 *   2. The functions ask only for indices below the n they were given, in
 *      no promised order; a source returns 0, or a negative error that is
 *      passed back to the caller unchanged.
 * Cost: a root, an inclusion proof or a consistency proof over n leaves
 * reads each leaf hash at most once (O(n)) and recurses at most 64 deep.
 * By 1, the hash of a complete subtree (2^j leaves starting at a multiple
 * of 2^j) never changes either: a collector may cache those behind the
 * same callback without changing any result.
 *
 * Verification takes only hashes and sizes, all of them untrusted: it
 * follows RFC 9162's algorithms step by step and fails with
 * -CUSTOS_ERR_BAD_PROOF, never by reading past a proof.
 */
#ifndef CUSTOS_MERKLE_H
#define CUSTOS_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32		/* SHA-256 */
#define MERKLE_PROOF_MAX 64		/* hashes in any proof we make or accept */
/* Largest tree we generate proofs for: its inclusion proofs have at most
 * 63 hashes and its consistency proofs at most 64, so both fit
 * MERKLE_PROOF_MAX. */
#define MERKLE_SIZE_MAX (UINT64_C(1) << 63)

/* Supplies the hash of leaf `index`. OUT: out. Returns 0 or a negative
 * -CUSTOS_ERR_... code, which the caller of the merkle_* function gets. */
typedef int (*merkle_leaf_fn)(void *ctx, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);

/* An array of leaf hashes as a leaf source: pass merkle_leaves_get with a
 * pointer to one of these as ctx. */
struct merkle_leaves {
	const uint8_t (*hash)[MERKLE_HASH_LEN];
	uint64_t count;
};

/* merkle_leaf_fn over a struct merkle_leaves. OUT: out. Returns 0, or
 * -CUSTOS_ERR_INVAL for an index at or past count. */
int merkle_leaves_get(void *ctx, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);

/* RFC 9162 2.1.1: SHA-256(0x00 || data). OUT: out. Never fails. */
void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);

/* RFC 9162 2.1.1: SHA-256(0x01 || left || right). OUT: out (may alias an
 * input). Never fails. */
void merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN]);

/* RFC 9162 2.1.1: MTH of the first n leaves of get; for n = 0 the hash of
 * the empty string (get is not called and may be NULL). OUT: root.
 * Returns 0, -CUSTOS_ERR_INVAL (no get, or n > MERKLE_SIZE_MAX), or the
 * error of get. */
int merkle_root(merkle_leaf_fn get, void *ctx, uint64_t n, uint8_t root[MERKLE_HASH_LEN]);

/* RFC 9162 2.1.3.1: PATH(index, D_n), the inclusion proof of leaf index in
 * the tree of the first n leaves. OUT: proof[0..*len), *len (0 when n is
 * 1). Returns 0, -CUSTOS_ERR_INVAL (no get, n = 0, n > MERKLE_SIZE_MAX,
 * index >= n), or the error of get. */
int merkle_inclusion_proof(merkle_leaf_fn get, void *ctx, uint64_t index, uint64_t n,
			   uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], size_t *len);

/* RFC 9162 2.1.3.2: check that leaf_hash is leaf `index` of the tree of
 * size n whose root is root. Returns 0, -CUSTOS_ERR_BAD_PROOF (it is not,
 * including index >= n), -CUSTOS_ERR_OVERSIZED (len > MERKLE_PROOF_MAX),
 * -CUSTOS_ERR_INVAL (NULL proof with len > 0). */
int merkle_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf_hash[MERKLE_HASH_LEN],
			    const uint8_t proof[][MERKLE_HASH_LEN], size_t len,
			    const uint8_t root[MERKLE_HASH_LEN]);

/* RFC 9162 2.1.4.1: PROOF(m, D_n), the consistency proof between the trees
 * of the first m and the first n leaves, 1 <= m <= n (empty when m = n).
 * OUT: proof[0..*len), *len. Returns 0, -CUSTOS_ERR_INVAL (no get, m = 0,
 * m > n, n > MERKLE_SIZE_MAX), or the error of get. */
int merkle_consistency_proof(merkle_leaf_fn get, void *ctx, uint64_t m, uint64_t n,
			     uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], size_t *len);

/* Check that the tree of size n with root second_hash extends the tree of
 * size m with root first_hash. For 0 < m < n this is RFC 9162 2.1.4.2 as
 * written. Outside it (the RFC assumes 0 < m < n): m = n holds with an
 * empty proof and equal roots; m = 0 holds with an empty proof when
 * first_hash is the empty tree's root; m > n never holds.
 * Returns 0, -CUSTOS_ERR_BAD_PROOF, -CUSTOS_ERR_OVERSIZED (len >
 * MERKLE_PROOF_MAX), -CUSTOS_ERR_INVAL (NULL proof with len > 0). */
int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t first_hash[MERKLE_HASH_LEN],
			      const uint8_t second_hash[MERKLE_HASH_LEN],
			      const uint8_t proof[][MERKLE_HASH_LEN], size_t len);

#endif
