/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: a growable byte buffer with a hard ceiling, used for everything we
 * produce (CBOR, batches, frames). The ceiling turns "a bug makes output
 * grow forever" into CUSTOS_ERR_OVERSIZED instead of an OOM kill.
 */
#ifndef CUSTOS_BUF_H
#define CUSTOS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;	/* bytes in use */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard ceiling on len */
};

/* Initialise an empty buffer that may grow to max bytes. Never fails. */
void buf_init(struct buf *b, size_t max);

/* Free the storage (wiped first: buffers may hold plaintext evidence or
 * key material) and reset to empty. Accepts NULL. */
void buf_free(struct buf *b);

/* Make room for n more bytes. Returns 0, -CUSTOS_ERR_OVERSIZED if len + n
 * would pass max, -CUSTOS_ERR_NOMEM. */
int buf_reserve(struct buf *b, size_t n);

/* Append n bytes. Returns 0 or the errors of buf_reserve. */
int buf_put(struct buf *b, const void *p, size_t n);

/* Append a 32-bit unsigned integer, big-endian. Same returns as buf_put. */
int buf_put_be32(struct buf *b, uint32_t v);

/* Drop the content, keep the storage. */
void buf_reset(struct buf *b);

/* Read a big-endian 32-bit value from p (caller checked 4 bytes exist). */
uint32_t load_be32(const uint8_t *p);

#endif
