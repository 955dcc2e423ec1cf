/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Acknowledgements: the collector's signed receipt for one batch. The agent
 * deletes a spooled batch only after one verifies, and keeps it as proof
 * of delivery (docs/format.md "Acknowledgement").
 *
 *   signed ack = {0: body (bstr), 1: Ed25519 signature (bstr 64)}
 *   signature over "CUSTOS-ACK-SIG-V1" NUL || body
 */
#ifndef CUSTOS_ACK_H
#define CUSTOS_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"
#include "keys.h"

#define ACK_SIG_DOMAIN "CUSTOS-ACK-SIG-V1"
#define ACK_BODY_MAX 256
#define ACK_MAX (ACK_BODY_MAX + 96)

struct ack {
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	uint64_t seq;
	uint8_t batch_hash[CUSTOS_HASH_LEN];
	uint64_t leaf_index;		/* in the collector's custody log */
	uint64_t received_unix_ns;	/* collector's clock when archived */
};

/* Encode and sign *a; append the signed ack to out. Returns 0 or the
 * errors of buf_reserve. */
int ack_sign(const struct ack *a, const struct custos_keypair *collector, struct buf *out);

/* Parse and verify a signed ack. OUT: *a (zeroed on failure). Returns 0,
 * -CUSTOS_ERR_OVERSIZED, -CUSTOS_ERR_TRUNCATED, -CUSTOS_ERR_MALFORMED,
 * -CUSTOS_ERR_NONCANONICAL, -CUSTOS_ERR_BAD_SIGNATURE. */
int ack_verify(const uint8_t *p, size_t n, const uint8_t collector_sign_pk[KEYS_SIGN_PK_LEN],
	       struct ack *a);

#endif
