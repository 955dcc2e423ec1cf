/* SPDX-License-Identifier: Apache-2.0 */
/* Signed acknowledgements (see ack.h). */
#include <string.h>
#include <sodium.h>

#include "ack.h"
#include "error.h"
#include "schema.h"

typedef struct ack A;

/* format.md "Acknowledgement": body keys 0-4. */
static const struct schema_field ack_f[] = {
	SCHEMA_FIXED(0, A, host_id), SCHEMA_U64(1, A, seq), SCHEMA_FIXED(2, A, batch_hash),
	SCHEMA_U64(3, A, leaf_index), SCHEMA_U64(4, A, received_unix_ns),
};
static const struct schema ack_schema = SCHEMA_OF("ack", ack_f);
static const struct schema *const ack_parts[] = { &ack_schema };

enum { ACK_BODY = 0, ACK_SIG = 1, ACK_FIELDS = 2 };

static int sig_message(struct buf *msg, const uint8_t *body, size_t n)
{
	int ret = buf_put(msg, ACK_SIG_DOMAIN, sizeof(ACK_SIG_DOMAIN));	/* with NUL */

	return ret ? ret : buf_put(msg, body, n);
}

int ack_sign(const struct ack *a, const struct custos_keypair *collector, struct buf *out)
{
	uint8_t sig[CUSTOS_SIG_LEN];
	struct buf body, msg;
	int ret;

	buf_init(&body, ACK_BODY_MAX);
	buf_init(&msg, ACK_BODY_MAX + sizeof(ACK_SIG_DOMAIN));
	ret = schema_encode(&body, ack_parts, 1, a);
	if (!ret)
		ret = sig_message(&msg, body.data, body.len);
	if (ret)
		goto out;
	crypto_sign_detached(sig, NULL, msg.data, msg.len, collector->sign_sk);
	ret = cbw_map(out, ACK_FIELDS);
	if (!ret)
		ret = cbw_uint(out, ACK_BODY);
	if (!ret)
		ret = cbw_bytes(out, body.data, body.len);
	if (!ret)
		ret = cbw_uint(out, ACK_SIG);
	if (!ret)
		ret = cbw_bytes(out, sig, sizeof(sig));
out:
	buf_free(&body);
	buf_free(&msg);
	return ret;
}

static int parse_signed(const uint8_t *p, size_t n, const uint8_t **body, size_t *body_len,
			const uint8_t **sig)
{
	size_t sig_len;
	uint64_t count;
	struct cbr r;
	int ret;

	if (n > ACK_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	cbr_init(&r, p, n);
	ret = cbr_map(&r, &count);
	if (!ret && count != ACK_FIELDS)
		ret = -CUSTOS_ERR_MALFORMED;
	if (!ret)
		ret = cbr_key(&r, ACK_BODY);
	if (!ret)
		ret = cbr_bytes(&r, body, body_len, ACK_BODY_MAX);
	if (!ret)
		ret = cbr_key(&r, ACK_SIG);
	if (!ret)
		ret = cbr_bytes(&r, sig, &sig_len, CUSTOS_SIG_LEN);
	if (!ret && (sig_len != CUSTOS_SIG_LEN || !cbr_done(&r)))
		ret = -CUSTOS_ERR_MALFORMED;
	return ret;
}

int ack_verify(const uint8_t *p, size_t n, const uint8_t collector_sign_pk[KEYS_SIGN_PK_LEN],
	       struct ack *a)
{
	const uint8_t *body, *sig;
	size_t body_len;
	struct buf msg;
	struct cbr r;
	int ret;

	memset(a, 0, sizeof(*a));
	buf_init(&msg, ACK_BODY_MAX + sizeof(ACK_SIG_DOMAIN));
	ret = parse_signed(p, n, &body, &body_len, &sig);
	if (!ret)
		ret = sig_message(&msg, body, body_len);
	if (!ret && crypto_sign_verify_detached(sig, msg.data, msg.len, collector_sign_pk) != 0)
		ret = -CUSTOS_ERR_BAD_SIGNATURE;
	if (!ret) {
		cbr_init(&r, body, body_len);
		ret = schema_decode(&r, ack_parts, 1, a);
		if (!ret && !cbr_done(&r))
			ret = -CUSTOS_ERR_MALFORMED;
	}
	if (ret)
		memset(a, 0, sizeof(*a));
	buf_free(&msg);
	return ret;
}
