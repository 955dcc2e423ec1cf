/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bounded CBOR cursor (see cbor_io.h). libcbor's streaming decoder does
 * the decoding; this file adds what evidence needs on top: a length check
 * against the real end of input before any pointer is handed out, and the
 * refusal of everything outside deterministic encoding.
 */
#include <cbor.h>
#include <string.h>

#include "cbor_io.h"
#include "error.h"

struct decode_ctx {
	struct cbr_item *it;
	bool unsupported;	/* an item kind Custos never writes */
};

#define CTX ((struct decode_ctx *)ctx)

static void on_uint8(void *ctx, uint8_t v) { CTX->it->type = CBR_UINT; CTX->it->val = v; }
static void on_uint16(void *ctx, uint16_t v) { CTX->it->type = CBR_UINT; CTX->it->val = v; }
static void on_uint32(void *ctx, uint32_t v) { CTX->it->type = CBR_UINT; CTX->it->val = v; }
static void on_uint64(void *ctx, uint64_t v) { CTX->it->type = CBR_UINT; CTX->it->val = v; }
static void on_neg8(void *ctx, uint8_t v) { CTX->it->type = CBR_NEGINT; CTX->it->val = v; }
static void on_neg16(void *ctx, uint16_t v) { CTX->it->type = CBR_NEGINT; CTX->it->val = v; }
static void on_neg32(void *ctx, uint32_t v) { CTX->it->type = CBR_NEGINT; CTX->it->val = v; }
static void on_neg64(void *ctx, uint64_t v) { CTX->it->type = CBR_NEGINT; CTX->it->val = v; }

static void on_bytes(void *ctx, cbor_data p, size_t n)
{
	CTX->it->type = CBR_BYTES;
	CTX->it->ptr = p;
	CTX->it->val = n;
}

static void on_text(void *ctx, cbor_data p, size_t n)
{
	CTX->it->type = CBR_TEXT;
	CTX->it->ptr = p;
	CTX->it->val = n;
}

static void on_array(void *ctx, size_t n) { CTX->it->type = CBR_ARRAY; CTX->it->val = n; }
static void on_map(void *ctx, size_t n) { CTX->it->type = CBR_MAP; CTX->it->val = n; }

static void refuse(void *ctx) { CTX->unsupported = true; }
static void refuse_u64(void *ctx, uint64_t v) { (void)v; refuse(ctx); }
static void refuse_float(void *ctx, float v) { (void)v; refuse(ctx); }
static void refuse_double(void *ctx, double v) { (void)v; refuse(ctx); }
static void refuse_bool(void *ctx, bool v) { (void)v; refuse(ctx); }

#undef CTX

static const struct cbor_callbacks callbacks = {
	.uint8 = on_uint8, .uint16 = on_uint16, .uint32 = on_uint32, .uint64 = on_uint64,
	.negint8 = on_neg8, .negint16 = on_neg16, .negint32 = on_neg32, .negint64 = on_neg64,
	.byte_string = on_bytes, .byte_string_start = refuse,
	.string = on_text, .string_start = refuse,
	.array_start = on_array, .indef_array_start = refuse,
	.map_start = on_map, .indef_map_start = refuse,
	.tag = refuse_u64,
	.float2 = refuse_float, .float4 = refuse_float, .float8 = refuse_double,
	.undefined = refuse, .null = refuse, .boolean = refuse_bool,
	.indef_break = refuse,
};

void cbr_init(struct cbr *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

bool cbr_done(const struct cbr *r)
{
	return r->off == r->len;
}

/* RFC 8949 4.2.1: "integers must be as small as possible", which includes
 * the arguments giving string lengths and element counts. */
static bool head_is_shortest(uint8_t initial, uint64_t v)
{
	switch (initial & 0x1f) {
	case 24: return v >= 24;
	case 25: return v > UINT8_MAX;
	case 26: return v > UINT16_MAX;
	case 27: return v > UINT32_MAX;
	default: return (initial & 0x1f) < 24;
	}
}

static size_t head_len(uint8_t initial)
{
	switch (initial & 0x1f) {
	case 24: return 2;
	case 25: return 3;
	case 26: return 5;
	case 27: return 9;
	default: return 1;
	}
}

int cbr_next(struct cbr *r, struct cbr_item *it)
{
	struct decode_ctx ctx = { .it = it, .unsupported = false };
	struct cbor_decoder_result res;
	size_t left = r->len - r->off, hlen;
	uint8_t initial;

	memset(it, 0, sizeof(*it));
	if (left == 0)
		return -CUSTOS_ERR_TRUNCATED;
	initial = r->p[r->off];
	hlen = head_len(initial);
	if (hlen > left)
		return -CUSTOS_ERR_TRUNCATED;
	res = cbor_stream_decode(r->p + r->off, left, &callbacks, &ctx);
	if (res.status == CBOR_DECODER_NEDATA)
		return -CUSTOS_ERR_TRUNCATED;
	if (res.status != CBOR_DECODER_FINISHED || ctx.unsupported)
		return -CUSTOS_ERR_MALFORMED;
	if (!head_is_shortest(initial, it->val))
		return -CUSTOS_ERR_NONCANONICAL;
	if (it->type == CBR_BYTES || it->type == CBR_TEXT) {
		/* Never trust the decoder's arithmetic on a 64-bit length. */
		if (it->val > left - hlen || it->ptr != r->p + r->off + hlen)
			return -CUSTOS_ERR_TRUNCATED;
		r->off += hlen + it->val;
	} else {
		r->off += hlen;
	}
	if (res.read != hlen + (it->type == CBR_BYTES || it->type == CBR_TEXT ? it->val : 0))
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

static int next_of(struct cbr *r, struct cbr_item *it, enum cbr_type want)
{
	int ret = cbr_next(r, it);

	if (ret)
		return ret;
	return it->type == want ? 0 : -CUSTOS_ERR_MALFORMED;
}

int cbr_uint(struct cbr *r, uint64_t *v)
{
	struct cbr_item it;
	int ret = next_of(r, &it, CBR_UINT);

	*v = ret ? 0 : it.val;
	return ret;
}

int cbr_int(struct cbr *r, int64_t *v)
{
	struct cbr_item it;
	int ret = cbr_next(r, &it);

	*v = 0;
	if (ret)
		return ret;
	if (it.type == CBR_UINT && it.val <= INT64_MAX)
		*v = (int64_t)it.val;
	else if (it.type == CBR_NEGINT && it.val <= INT64_MAX)
		*v = -1 - (int64_t)it.val;
	else
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

int cbr_bytes(struct cbr *r, const uint8_t **p, size_t *n, size_t max)
{
	struct cbr_item it;
	int ret = next_of(r, &it, CBR_BYTES);

	*p = NULL;
	*n = 0;
	if (ret)
		return ret;
	if (it.val > max)
		return -CUSTOS_ERR_OVERSIZED;
	*p = it.ptr;
	*n = it.val;
	return 0;
}

int cbr_array(struct cbr *r, uint64_t *n)
{
	struct cbr_item it;
	int ret = next_of(r, &it, CBR_ARRAY);

	*n = ret ? 0 : it.val;
	return ret;
}

int cbr_map(struct cbr *r, uint64_t *n)
{
	struct cbr_item it;
	int ret = next_of(r, &it, CBR_MAP);

	*n = ret ? 0 : it.val;
	return ret;
}

int cbr_key(struct cbr *r, uint64_t key)
{
	uint64_t got;
	int ret = cbr_uint(r, &got);

	if (ret)
		return ret;
	return got == key ? 0 : -CUSTOS_ERR_MALFORMED;
}
