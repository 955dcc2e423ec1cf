/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Frames: how bytes travel between agent and collector over TCP
 * (docs/format.md "Frames").
 *
 *   version 0x01 | type (1) | reserved 0x0000 | length (4, big-endian) | payload
 *
 * The length is checked against FRAME_PAYLOAD_MAX before a single payload
 * byte is buffered, so a peer cannot make the collector allocate what it
 * claims.
 *
 * A NACK frame (docs/format.md 5.1) tells an agent why the collector
 * refused a batch before it closes the connection:
 *
 *   nack = { 0: uint error (CUSTOS_ERR_*), 1: bstr batch hash (32, or
 *            empty when the envelope did not open), 2: bstr reason (<= 256,
 *            UTF-8) }
 *
 * It is not signed: it proves nothing and grants nothing (the agent keeps
 * the batch either way); it only lets the agent say why.
 */
#ifndef CUSTOS_FRAME_H
#define CUSTOS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "seal.h"

#define FRAME_VERSION 1
#define FRAME_HEADER_LEN 8
#define FRAME_PAYLOAD_MAX CUSTOS_SEALED_MAX

enum frame_type {
	FRAME_BATCH = 1,	/* agent -> collector: a sealed envelope */
	FRAME_ACK = 2,		/* collector -> agent: a signed acknowledgement */
	FRAME_NACK = 3,		/* collector -> agent: why a batch was refused */
};

#define FRAME_NACK_REASON_MAX 256
#define FRAME_NACK_MAX (FRAME_NACK_REASON_MAX + CUSTOS_HASH_LEN + 24)	/* CBOR overhead <= 17 */

struct frame_nack {
	uint64_t error;			/* a CUSTOS_ERR_* number (positive) */
	uint8_t batch_hash[CUSTOS_HASH_LEN];
	uint32_t batch_hash_len;	/* CUSTOS_HASH_LEN, or 0: the envelope did not open */
	uint8_t reason[FRAME_NACK_REASON_MAX];
	uint32_t reason_len;
};

struct frame {
	uint8_t type;
	const uint8_t *payload;	/* inside the parsed input */
	uint32_t len;
};

/* Append a frame to out. Returns 0, -CUSTOS_ERR_INVAL (unknown type),
 * -CUSTOS_ERR_OVERSIZED (payload past FRAME_PAYLOAD_MAX), or the errors of
 * buf_reserve. */
int frame_write(struct buf *out, uint8_t type, const uint8_t *payload, size_t n);

/* Parse the frame at the start of p[0..n). OUT: *f, *consumed (header and
 * payload). Returns 0; -CUSTOS_ERR_AGAIN when more bytes are needed (after
 * the header has been checked); -CUSTOS_ERR_VERSION; -CUSTOS_ERR_MALFORMED
 * (unknown type, reserved bits set); -CUSTOS_ERR_OVERSIZED (declared length
 * past FRAME_PAYLOAD_MAX: the connection must be closed). */
int frame_parse(const uint8_t *p, size_t n, struct frame *f, size_t *consumed);

/* Fill *n: error err (a CUSTOS_ERR_* number, either sign), hash (NULL:
 * none), reason cut to FRAME_NACK_REASON_MAX bytes at a UTF-8 character
 * boundary. OUT: *n. */
void frame_nack_set(struct frame_nack *n, int err, const uint8_t *hash, const char *reason);

/* Append the NACK payload of *n to out (deterministic CBOR). Returns 0,
 * -CUSTOS_ERR_INVAL (a hash that is neither empty nor 32 bytes), or the
 * errors of buf_reserve. */
int frame_nack_encode(struct buf *out, const struct frame_nack *n);

/* Parse a NACK payload. OUT: *n (zeroed on failure). Returns 0,
 * -CUSTOS_ERR_OVERSIZED, -CUSTOS_ERR_TRUNCATED, -CUSTOS_ERR_MALFORMED
 * (also a hash of another length than 0 or 32), -CUSTOS_ERR_NONCANONICAL. */
int frame_nack_decode(const uint8_t *p, size_t len, struct frame_nack *n);

/* True for the refusals that the same batch will meet again however
 * often it is resent (UNKNOWN_HOST, BAD_SIGNATURE, NOT_SEALED_TO_US,
 * REPLAY, and the format errors of the batch itself); false for the rest
 * (a collector's I/O error, an error number this version does not know). */
int frame_nack_permanent(uint64_t error);

#endif
