/* SPDX-License-Identifier: Apache-2.0 */
/* Batch building, signing, parsing and checking (see batch.h and
 * docs/format.md "Batches"). */
#include <string.h>
#include <sodium.h>

#include "batch.h"
#include "compress.h"
#include "error.h"
#include "schema.h"

typedef struct batch_header H;

/* format.md "Batch header": keys 0-17. */
static const struct schema_field header_f[] = {
	SCHEMA_U64(0, H, version), SCHEMA_FIXED(1, H, host_id), SCHEMA_FIXED(2, H, boot_id),
	SCHEMA_U64(3, H, seq), SCHEMA_FIXED(4, H, prev_hash), SCHEMA_U64(5, H, record_count),
	SCHEMA_U64(6, H, first_ts_ns), SCHEMA_U64(7, H, last_ts_ns),
	SCHEMA_I64(8, H, clock_offset_ns), SCHEMA_U64(9, H, sealed_boot_ns),
	SCHEMA_U64(10, H, ntp_synced), SCHEMA_U64(11, H, ntp_maxerror_us),
	SCHEMA_U64(12, H, ntp_esterror_us), SCHEMA_U64(13, H, ntp_status),
	SCHEMA_U64(14, H, compression), SCHEMA_U64(15, H, raw_len),
	SCHEMA_U64(16, H, payload_len), SCHEMA_FIXED(17, H, payload_hash),
};
static const struct schema header_schema = SCHEMA_OF("batch header", header_f);
static const struct schema *const header_parts[] = { &header_schema };

/* format.md "Signed batch": map {0: header, 1: signature, 2: payload}. */
enum { SB_HEADER = 0, SB_SIG = 1, SB_PAYLOAD = 2, SB_FIELDS = 3 };

void batch_builder_init(struct batch_builder *b)
{
	buf_init(&b->raw, CUSTOS_RAW_MAX);
	b->count = 0;
	b->first_ts_ns = 0;
	b->last_ts_ns = 0;
}

void batch_builder_free(struct batch_builder *b)
{
	if (b)
		buf_free(&b->raw);
}

int batch_builder_add(struct batch_builder *b, const struct custos_record *rec)
{
	size_t mark = b->raw.len;
	int ret = record_encode(&b->raw, rec);

	if (ret) {
		b->raw.len = mark;	/* all or nothing */
		return ret;
	}
	if (b->count == 0 || rec->ts_ns < b->first_ts_ns)
		b->first_ts_ns = rec->ts_ns;
	if (b->count == 0 || rec->ts_ns > b->last_ts_ns)
		b->last_ts_ns = rec->ts_ns;
	b->count++;
	return 0;
}

int batch_header_encode(struct buf *out, const struct batch_header *hdr)
{
	return schema_encode(out, header_parts, 1, hdr);
}

static void sig_message(uint8_t msg[sizeof(BATCH_SIG_DOMAIN) + CUSTOS_HASH_LEN],
			const uint8_t hash[CUSTOS_HASH_LEN])
{
	memcpy(msg, BATCH_SIG_DOMAIN, sizeof(BATCH_SIG_DOMAIN));	/* with its NUL */
	memcpy(msg + sizeof(BATCH_SIG_DOMAIN), hash, CUSTOS_HASH_LEN);
}

int batch_sign(struct batch_builder *b, struct batch_header *hdr,
	       const struct custos_keypair *host, struct buf *out,
	       uint8_t hash[CUSTOS_HASH_LEN])
{
	uint8_t msg[sizeof(BATCH_SIG_DOMAIN) + CUSTOS_HASH_LEN], sig[CUSTOS_SIG_LEN];
	struct buf payload, header;
	int ret;

	if (b->count == 0)
		return -CUSTOS_ERR_INVAL;
	buf_init(&payload, CUSTOS_PAYLOAD_MAX);
	buf_init(&header, CUSTOS_HEADER_MAX);
	ret = compress_payload(b->raw.data, b->raw.len, &payload);
	if (ret)
		goto out;
	hdr->version = CUSTOS_FORMAT_VERSION;
	memcpy(hdr->host_id, host->pub.sign_pk, KEYS_SIGN_PK_LEN);
	hdr->record_count = b->count;
	hdr->first_ts_ns = b->first_ts_ns;
	hdr->last_ts_ns = b->last_ts_ns;
	hdr->compression = CUSTOS_COMPRESSION_ZLIB;
	hdr->raw_len = b->raw.len;
	hdr->payload_len = payload.len;
	crypto_generichash(hdr->payload_hash, CUSTOS_HASH_LEN, payload.data, payload.len, NULL, 0);
	ret = batch_header_encode(&header, hdr);
	if (ret)
		goto out;
	crypto_generichash(hash, CUSTOS_HASH_LEN, header.data, header.len, NULL, 0);
	sig_message(msg, hash);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), host->sign_sk);
	ret = cbw_map(out, SB_FIELDS);
	if (!ret)
		ret = cbw_uint(out, SB_HEADER);
	if (!ret)
		ret = cbw_bytes(out, header.data, header.len);
	if (!ret)
		ret = cbw_uint(out, SB_SIG);
	if (!ret)
		ret = cbw_bytes(out, sig, sizeof(sig));
	if (!ret)
		ret = cbw_uint(out, SB_PAYLOAD);
	if (!ret)
		ret = cbw_bytes(out, payload.data, payload.len);
	if (!ret) {
		buf_reset(&b->raw);
		b->count = 0;
	}
out:
	buf_free(&payload);
	buf_free(&header);
	return ret;
}

/* A future format version may lay the header out differently: report the
 * version, not a confusing structural error. */
static int peek_version(const uint8_t *p, size_t n)
{
	struct cbr r;
	uint64_t count, version;
	int ret;

	cbr_init(&r, p, n);
	ret = cbr_map(&r, &count);
	if (!ret)
		ret = cbr_key(&r, 0);
	if (!ret)
		ret = cbr_uint(&r, &version);
	if (ret)
		return ret;
	return version == CUSTOS_FORMAT_VERSION ? 0 : -CUSTOS_ERR_VERSION;
}

static int parse_header(struct batch_view *v)
{
	struct batch_header *h = &v->hdr;
	struct cbr r;
	int ret = peek_version(v->header_bytes, v->header_len);

	if (ret)
		return ret;
	cbr_init(&r, v->header_bytes, v->header_len);
	ret = schema_decode(&r, header_parts, 1, h);
	if (ret)
		return ret;
	if (!cbr_done(&r))
		return -CUSTOS_ERR_MALFORMED;
	if (h->compression != CUSTOS_COMPRESSION_ZLIB)
		return -CUSTOS_ERR_VERSION;
	if (h->raw_len > CUSTOS_RAW_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	if (h->payload_len != v->payload_len || h->record_count == 0 ||
	    h->first_ts_ns > h->last_ts_ns)
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

int batch_parse(const uint8_t *p, size_t n, struct batch_view *v)
{
	const uint8_t *sig;
	size_t sig_len;
	uint64_t count;
	struct cbr r;
	int ret;

	memset(v, 0, sizeof(*v));
	if (n > CUSTOS_SIGNED_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	cbr_init(&r, p, n);
	ret = cbr_map(&r, &count);
	if (!ret && count != SB_FIELDS)
		ret = -CUSTOS_ERR_MALFORMED;
	if (!ret)
		ret = cbr_key(&r, SB_HEADER);
	if (!ret)
		ret = cbr_bytes(&r, &v->header_bytes, &v->header_len, CUSTOS_HEADER_MAX);
	if (!ret)
		ret = cbr_key(&r, SB_SIG);
	if (!ret)
		ret = cbr_bytes(&r, &sig, &sig_len, CUSTOS_SIG_LEN);
	if (!ret && sig_len != CUSTOS_SIG_LEN)
		ret = -CUSTOS_ERR_MALFORMED;
	if (!ret)
		ret = cbr_key(&r, SB_PAYLOAD);
	if (!ret)
		ret = cbr_bytes(&r, &v->payload, &v->payload_len, CUSTOS_PAYLOAD_MAX);
	if (!ret && !cbr_done(&r))
		ret = -CUSTOS_ERR_MALFORMED;
	if (!ret) {
		v->sig = sig;
		ret = parse_header(v);
	}
	if (!ret)
		crypto_generichash(v->hash, CUSTOS_HASH_LEN, v->header_bytes, v->header_len,
				   NULL, 0);
	return ret;
}

int batch_verify_signature(const struct batch_view *v, const uint8_t host_pk[KEYS_SIGN_PK_LEN])
{
	uint8_t msg[sizeof(BATCH_SIG_DOMAIN) + CUSTOS_HASH_LEN];

	sig_message(msg, v->hash);
	if (crypto_sign_verify_detached(v->sig, msg, sizeof(msg), host_pk) != 0)
		return -CUSTOS_ERR_BAD_SIGNATURE;
	return 0;
}

int batch_check_payload(const struct batch_view *v, struct buf *raw)
{
	uint8_t h[CUSTOS_HASH_LEN];

	crypto_generichash(h, sizeof(h), v->payload, v->payload_len, NULL, 0);
	if (sodium_memcmp(h, v->hdr.payload_hash, sizeof(h)) != 0)
		return -CUSTOS_ERR_CORRUPT_PAYLOAD;
	return inflate_payload(v->payload, v->payload_len, v->hdr.raw_len, raw);
}

int batch_verify(const uint8_t *p, size_t n, batch_host_lookup lookup, void *ctx,
		 struct batch_view *v, struct buf *raw)
{
	int ret = batch_parse(p, n, v);

	if (!ret)
		ret = lookup(ctx, v->hdr.host_id);
	if (!ret)
		ret = batch_verify_signature(v, v->hdr.host_id);
	if (!ret)
		ret = batch_check_payload(v, raw);
	return ret;
}

void record_iter_init(struct record_iter *it, const struct buf *raw,
		      const struct batch_header *hdr)
{
	cbr_init(&it->r, raw->data, raw->len);
	it->hdr = hdr;
	it->seen = 0;
	it->min_ts = UINT64_MAX;
	it->max_ts = 0;
}

int record_iter_next(struct record_iter *it, struct custos_record *rec)
{
	if (cbr_done(&it->r)) {
		if (it->seen != it->hdr->record_count || it->min_ts != it->hdr->first_ts_ns ||
		    it->max_ts != it->hdr->last_ts_ns)
			return -CUSTOS_ERR_CORRUPT_PAYLOAD;
		return 0;
	}
	if (it->seen == it->hdr->record_count || record_decode(&it->r, rec) != 0)
		return -CUSTOS_ERR_CORRUPT_PAYLOAD;
	it->seen++;
	if (rec->ts_ns < it->min_ts)
		it->min_ts = rec->ts_ns;
	if (rec->ts_ns > it->max_ts)
		it->max_ts = rec->ts_ns;
	return 1;
}
