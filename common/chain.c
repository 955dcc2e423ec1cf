/* SPDX-License-Identifier: Apache-2.0 */
/* Sequence and hash-chain checks of one host's batches (see chain.h). */
#include <string.h>
#include <sodium.h>

#include "chain.h"
#include "error.h"

void chain_init(struct chain_state *c)
{
	memset(c, 0, sizeof(*c));
}

int chain_check(const struct chain_state *c, const struct batch_header *hdr)
{
	static const uint8_t zero[CUSTOS_HASH_LEN];

	if (!c->started) {
		if (hdr->seq != 0)
			return -CUSTOS_ERR_SEQ_GAP;
		return sodium_memcmp(hdr->prev_hash, zero, sizeof(zero)) == 0
			       ? 0 : -CUSTOS_ERR_CHAIN_BROKEN;
	}
	if (hdr->seq < c->next_seq)
		return -CUSTOS_ERR_REPLAY;
	if (hdr->seq > c->next_seq)
		return -CUSTOS_ERR_SEQ_GAP;
	if (sodium_memcmp(hdr->prev_hash, c->last_hash, CUSTOS_HASH_LEN) != 0)
		return -CUSTOS_ERR_CHAIN_BROKEN;
	return 0;
}

void chain_advance(struct chain_state *c, const struct batch_header *hdr,
		   const uint8_t hash[CUSTOS_HASH_LEN])
{
	c->started = true;
	c->next_seq = hdr->seq + 1;
	memcpy(c->last_hash, hash, CUSTOS_HASH_LEN);
}
