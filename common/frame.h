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

#endif
