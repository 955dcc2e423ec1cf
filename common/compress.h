/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zlib (RFC 1950) compression of batch payloads. Inflation always runs
 * against the exact length the signed header declares, so a payload that
 * would expand further is stopped at the limit (a decompression bomb)
 * instead of being allowed to fill memory.
 */
#ifndef CUSTOS_COMPRESS_H
#define CUSTOS_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The zlib level batches are compressed at (any zlib stream is valid in
 * the format; docs/agent.md "Compression level" says why this one). */
#define COMPRESS_LEVEL 1

/* Append the zlib stream of in[0..n) to out (at COMPRESS_LEVEL). Returns 0,
 * -CUSTOS_ERR_OVERSIZED past out->max, -CUSTOS_ERR_NOMEM. */
int compress_payload(const uint8_t *in, size_t n, struct buf *out);

/* Inflate in[0..n) into out (emptied first), which must come to exactly
 * expect bytes. Returns 0; -CUSTOS_ERR_DECOMPRESSION_BOMB when the stream
 * holds more than expect bytes; -CUSTOS_ERR_CORRUPT_PAYLOAD for a damaged,
 * short, or trailing-garbage stream; -CUSTOS_ERR_OVERSIZED when expect
 * passes out->max; -CUSTOS_ERR_NOMEM. */
int inflate_payload(const uint8_t *in, size_t n, size_t expect, struct buf *out);

#endif
