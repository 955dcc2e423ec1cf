/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sealed envelope around a signed batch, for the spool and the wire:
 * only the collector can open it (crypto_box_seal to its X25519 key), and
 * a clear-text key id in front tells "sealed to some other collector" apart
 * from "damaged or forged" (docs/format.md "Sealed envelope").
 *
 *   "CSTS" | version 0x01 | key id (8) | crypto_box_seal(signed batch)
 */
#ifndef CUSTOS_SEAL_H
#define CUSTOS_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "batch.h"
#include "keys.h"

#define SEAL_MAGIC "CSTS"
#define SEAL_MAGIC_LEN 4
#define SEAL_VERSION 1
#define SEAL_KEY_ID_LEN 8
#define SEAL_PREFIX_LEN (SEAL_MAGIC_LEN + 1 + SEAL_KEY_ID_LEN)
#define SEAL_OVERHEAD (SEAL_PREFIX_LEN + 48)	/* + crypto_box_SEALBYTES */
#define CUSTOS_SEALED_MAX (CUSTOS_SIGNED_MAX + SEAL_OVERHEAD)

/* The key id of an X25519 public key: the first 8 bytes of its BLAKE2b-256
 * hash. OUT: id. */
void seal_key_id(const uint8_t box_pk[KEYS_BOX_PK_LEN], uint8_t id[SEAL_KEY_ID_LEN]);

/* Seal n bytes to the collector; appends the envelope to out. Returns 0,
 * -CUSTOS_ERR_OVERSIZED, -CUSTOS_ERR_NOMEM. */
int seal_batch(const uint8_t *signed_batch, size_t n, const struct custos_pubkey *collector,
	       struct buf *out);

/* Open an envelope with the collector's keys; the signed batch is
 * appended to out. Returns 0, -CUSTOS_ERR_OVERSIZED, -CUSTOS_ERR_TRUNCATED,
 * -CUSTOS_ERR_MALFORMED (not an envelope), -CUSTOS_ERR_VERSION,
 * -CUSTOS_ERR_NOT_SEALED_TO_US, -CUSTOS_ERR_SEAL (fails authentication),
 * -CUSTOS_ERR_NOMEM. */
int seal_open(const uint8_t *sealed, size_t n, const struct custos_keypair *collector,
	      struct buf *out);

#endif
