/* SPDX-License-Identifier: Apache-2.0 */
/* Sealed envelopes (see seal.h; docs/format.md "Sealed envelope"). */
#include <string.h>
#include <sodium.h>

#include "error.h"
#include "seal.h"

void seal_key_id(const uint8_t box_pk[KEYS_BOX_PK_LEN], uint8_t id[SEAL_KEY_ID_LEN])
{
	uint8_t h[CUSTOS_HASH_LEN];

	crypto_generichash(h, sizeof(h), box_pk, KEYS_BOX_PK_LEN, NULL, 0);
	memcpy(id, h, SEAL_KEY_ID_LEN);
}

int seal_batch(const uint8_t *signed_batch, size_t n, const struct custos_pubkey *collector,
	       struct buf *out)
{
	uint8_t prefix[SEAL_PREFIX_LEN];
	int ret;

	if (n > CUSTOS_SIGNED_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	memcpy(prefix, SEAL_MAGIC, SEAL_MAGIC_LEN);
	prefix[SEAL_MAGIC_LEN] = SEAL_VERSION;
	seal_key_id(collector->box_pk, prefix + SEAL_MAGIC_LEN + 1);
	ret = buf_reserve(out, sizeof(prefix) + crypto_box_SEALBYTES + n);
	if (ret)
		return ret;
	memcpy(out->data + out->len, prefix, sizeof(prefix));
	if (crypto_box_seal(out->data + out->len + sizeof(prefix), signed_batch, n,
			    collector->box_pk) != 0)
		return -CUSTOS_ERR_INVAL;
	out->len += sizeof(prefix) + crypto_box_SEALBYTES + n;
	return 0;
}

int seal_open(const uint8_t *sealed, size_t n, const struct custos_keypair *collector,
	      struct buf *out)
{
	uint8_t id[SEAL_KEY_ID_LEN];
	size_t plain;
	int ret;

	if (n > CUSTOS_SEALED_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	if (n < SEAL_MAGIC_LEN + 1)
		return -CUSTOS_ERR_TRUNCATED;
	if (memcmp(sealed, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
		return -CUSTOS_ERR_MALFORMED;
	if (sealed[SEAL_MAGIC_LEN] != SEAL_VERSION)
		return -CUSTOS_ERR_VERSION;
	if (n < SEAL_PREFIX_LEN + crypto_box_SEALBYTES)
		return -CUSTOS_ERR_TRUNCATED;
	seal_key_id(collector->pub.box_pk, id);
	if (memcmp(sealed + SEAL_MAGIC_LEN + 1, id, sizeof(id)) != 0)
		return -CUSTOS_ERR_NOT_SEALED_TO_US;
	plain = n - SEAL_PREFIX_LEN - crypto_box_SEALBYTES;
	if (plain == 0)
		return -CUSTOS_ERR_TRUNCATED;	/* no signed batch is empty */
	ret = buf_reserve(out, plain);
	if (ret)
		return ret;
	if (crypto_box_seal_open(out->data + out->len, sealed + SEAL_PREFIX_LEN,
				 n - SEAL_PREFIX_LEN, collector->pub.box_pk, collector->box_sk) != 0)
		return -CUSTOS_ERR_SEAL;
	out->len += plain;
	return 0;
}
