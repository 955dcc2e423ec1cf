/* SPDX-License-Identifier: Apache-2.0 */
/* Canonical CBOR item heads appended to a struct buf (see cbor_io.h). */
#include <cbor.h>
#include <string.h>

#include "cbor_io.h"
#include "error.h"

/* The longest head CBOR has: one initial byte and an 8-byte argument. */
#define CBOR_HEAD_MAX 9

typedef size_t (*head_encoder)(uint64_t, unsigned char *, size_t);

static size_t enc_uint(uint64_t v, unsigned char *p, size_t n) { return cbor_encode_uint(v, p, n); }
static size_t enc_negint(uint64_t v, unsigned char *p, size_t n) { return cbor_encode_negint(v, p, n); }
static size_t enc_bytes(uint64_t v, unsigned char *p, size_t n) { return cbor_encode_bytestring_start(v, p, n); }
static size_t enc_array(uint64_t v, unsigned char *p, size_t n) { return cbor_encode_array_start(v, p, n); }
static size_t enc_map(uint64_t v, unsigned char *p, size_t n) { return cbor_encode_map_start(v, p, n); }

static int put_head(struct buf *b, head_encoder enc, uint64_t v)
{
	size_t n;
	int ret = buf_reserve(b, CBOR_HEAD_MAX);

	if (ret)
		return ret;
	n = enc(v, b->data + b->len, CBOR_HEAD_MAX);
	if (n == 0)
		return -CUSTOS_ERR_INVAL;
	b->len += n;
	return 0;
}

int cbw_uint(struct buf *b, uint64_t v)
{
	return put_head(b, enc_uint, v);
}

int cbw_int(struct buf *b, int64_t v)
{
	/* RFC 8949 3.1: major type 1 encodes -1 - n. */
	if (v >= 0)
		return put_head(b, enc_uint, (uint64_t)v);
	return put_head(b, enc_negint, (uint64_t)(-1 - v));
}

int cbw_bytes(struct buf *b, const void *p, size_t n)
{
	int ret = put_head(b, enc_bytes, n);

	return ret ? ret : buf_put(b, p, n);
}

int cbw_array(struct buf *b, size_t n)
{
	return put_head(b, enc_array, n);
}

int cbw_map(struct buf *b, size_t n)
{
	return put_head(b, enc_map, n);
}
