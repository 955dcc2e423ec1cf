/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deterministic CBOR (RFC 8949 section 4.2.1) in both directions, through
 * libcbor.
 *
 * Writing: the cbw_* functions append one data item head (and string body)
 * to a struct buf, always in the shortest form libcbor's encoders produce.
 * Map keys are written by the caller in ascending order (schema.c does).
 *
 * Reading: struct cbr is the bounded cursor every untrusted CBOR byte goes
 * through. It decodes one item head at a time with cbor_stream_decode (no
 * allocation, no recursion), checks every length against the bytes that
 * are really left before exposing a pointer, and refuses what Custos never
 * writes: indefinite lengths, tags, floats, simple values, and any integer
 * or length not in its shortest form (CUSTOS_ERR_NONCANONICAL). Accepting
 * only the canonical form makes "decode then re-encode" the identity, so a
 * hash over the bytes and a hash over the meaning can never disagree.
 */
#ifndef CUSTOS_CBOR_IO_H
#define CUSTOS_CBOR_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Writers. Each returns 0 or the errors of buf_reserve(). */
int cbw_uint(struct buf *b, uint64_t v);
int cbw_int(struct buf *b, int64_t v);
int cbw_bytes(struct buf *b, const void *p, size_t n);
int cbw_array(struct buf *b, size_t n);
int cbw_map(struct buf *b, size_t n);

enum cbr_type {
	CBR_UINT,
	CBR_NEGINT,	/* value is -1 - val */
	CBR_BYTES,
	CBR_TEXT,
	CBR_ARRAY,
	CBR_MAP,
};

struct cbr_item {
	enum cbr_type type;
	uint64_t val;		/* integer, string length, or element count */
	const uint8_t *ptr;	/* string body (BYTES, TEXT), inside the input */
};

struct cbr {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Start reading len bytes at p. The cursor never reads outside them. */
void cbr_init(struct cbr *r, const uint8_t *p, size_t len);

/* Read the next item head (and string body). OUT: *it, zeroed first.
 * Returns 0; -CUSTOS_ERR_TRUNCATED when the input ends inside the item;
 * -CUSTOS_ERR_MALFORMED for bytes that are not CBOR or a kind of item
 * Custos does not use; -CUSTOS_ERR_NONCANONICAL for a non-shortest head. */
int cbr_next(struct cbr *r, struct cbr_item *it);

/* Typed reads: as cbr_next, plus -CUSTOS_ERR_MALFORMED when the item is of
 * another type, and (cbr_bytes) -CUSTOS_ERR_OVERSIZED past max bytes. */
int cbr_uint(struct cbr *r, uint64_t *v);			/* OUT: *v */
int cbr_int(struct cbr *r, int64_t *v);				/* OUT: *v */
int cbr_bytes(struct cbr *r, const uint8_t **p, size_t *n, size_t max);	/* OUT: *p, *n */
int cbr_array(struct cbr *r, uint64_t *n);			/* OUT: *n */
int cbr_map(struct cbr *r, uint64_t *n);			/* OUT: *n */

/* Read a map key and require it to be exactly key: schemas read keys in the
 * ascending order deterministic encoding demands, so any other key (or the
 * right key out of order) is -CUSTOS_ERR_MALFORMED. */
int cbr_key(struct cbr *r, uint64_t key);

/* True when every input byte has been consumed. */
bool cbr_done(const struct cbr *r);

#endif
