/* SPDX-License-Identifier: Apache-2.0 */
/* Length-prefixed frames with a hard limit, and the NACK payload (see
 * frame.h; docs/format.md 5). */
#include <string.h>

#include "error.h"
#include "frame.h"
#include "schema.h"

typedef struct frame_nack N;

/* docs/format.md 5.1: NACK keys 0-2. */
static const struct schema_field nack_f[] = {
	SCHEMA_U64(0, N, error), SCHEMA_BYTES(1, N, batch_hash), SCHEMA_BYTES(2, N, reason),
};
static const struct schema nack_schema = SCHEMA_OF("nack", nack_f);
static const struct schema *const nack_parts[] = { &nack_schema };

static int type_known(uint8_t type)
{
	return type == FRAME_BATCH || type == FRAME_ACK || type == FRAME_NACK;
}

int frame_write(struct buf *out, uint8_t type, const uint8_t *payload, size_t n)
{
	uint8_t head[4] = { FRAME_VERSION, type, 0, 0 };
	int ret;

	if (!type_known(type))
		return -CUSTOS_ERR_INVAL;
	if (n > FRAME_PAYLOAD_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	ret = buf_reserve(out, FRAME_HEADER_LEN + n);
	if (!ret)
		ret = buf_put(out, head, sizeof(head));
	if (!ret)
		ret = buf_put_be32(out, (uint32_t)n);
	if (!ret)
		ret = buf_put(out, payload, n);
	return ret;
}

int frame_parse(const uint8_t *p, size_t n, struct frame *f, size_t *consumed)
{
	uint32_t len;

	memset(f, 0, sizeof(*f));
	*consumed = 0;
	if (n < FRAME_HEADER_LEN)
		return -CUSTOS_ERR_AGAIN;
	if (p[0] != FRAME_VERSION)
		return -CUSTOS_ERR_VERSION;
	if (!type_known(p[1]) || p[2] != 0 || p[3] != 0)
		return -CUSTOS_ERR_MALFORMED;
	len = load_be32(p + 4);
	if (len > FRAME_PAYLOAD_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	if (n - FRAME_HEADER_LEN < len)
		return -CUSTOS_ERR_AGAIN;
	f->type = p[1];
	f->payload = p + FRAME_HEADER_LEN;
	f->len = len;
	*consumed = FRAME_HEADER_LEN + (size_t)len;
	return 0;
}

void frame_nack_set(struct frame_nack *n, int err, const uint8_t *hash, const char *reason)
{
	size_t len = reason ? strlen(reason) : 0;

	memset(n, 0, sizeof(*n));
	n->error = (uint64_t)(err < 0 ? -err : err);
	if (hash) {
		memcpy(n->batch_hash, hash, CUSTOS_HASH_LEN);
		n->batch_hash_len = CUSTOS_HASH_LEN;
	}
	if (len > FRAME_NACK_REASON_MAX) {	/* not inside a UTF-8 sequence */
		len = FRAME_NACK_REASON_MAX;
		while (len > 0 && ((uint8_t)reason[len] & 0xc0) == 0x80)
			len--;
	}
	if (len)
		memcpy(n->reason, reason, len);
	n->reason_len = (uint32_t)len;
}

int frame_nack_encode(struct buf *out, const struct frame_nack *n)
{
	if (n->batch_hash_len != 0 && n->batch_hash_len != CUSTOS_HASH_LEN)
		return -CUSTOS_ERR_INVAL;
	return schema_encode(out, nack_parts, 1, n);
}

int frame_nack_decode(const uint8_t *p, size_t len, struct frame_nack *n)
{
	struct cbr r;
	int ret;

	memset(n, 0, sizeof(*n));
	if (len > FRAME_NACK_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	cbr_init(&r, p, len);
	ret = schema_decode(&r, nack_parts, 1, n);
	if (!ret && !cbr_done(&r))
		ret = -CUSTOS_ERR_MALFORMED;
	if (!ret && n->batch_hash_len != 0 && n->batch_hash_len != CUSTOS_HASH_LEN)
		ret = -CUSTOS_ERR_MALFORMED;
	if (ret)
		memset(n, 0, sizeof(*n));
	return ret;
}

int frame_nack_permanent(uint64_t error)
{
	switch (error) {
	case CUSTOS_ERR_UNKNOWN_HOST: case CUSTOS_ERR_BAD_SIGNATURE:
	case CUSTOS_ERR_NOT_SEALED_TO_US: case CUSTOS_ERR_REPLAY: case CUSTOS_ERR_SEAL:
	case CUSTOS_ERR_TRUNCATED: case CUSTOS_ERR_OVERSIZED: case CUSTOS_ERR_MALFORMED:
	case CUSTOS_ERR_NONCANONICAL: case CUSTOS_ERR_VERSION: case CUSTOS_ERR_CORRUPT_PAYLOAD:
	case CUSTOS_ERR_DECOMPRESSION_BOMB:
		return 1;
	default:
		return 0;
	}
}
