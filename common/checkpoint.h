/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: the custody log's signed tree heads, written as C2SP
 * tlog-checkpoint notes (c2sp.org/tlog-checkpoint) in the C2SP signed-note
 * envelope (c2sp.org/signed-note) with an Ed25519 signature, so that any
 * tool of that ecosystem can read them. docs/custody.md section 4 is the
 * spec; in short:
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(key ID (4 bytes) || Ed25519 signature (64))>\n
 *
 * The Ed25519 signature covers the text above the blank line, newline
 * included; key ID = SHA-256(key name || 0x0A || 0x01 || public key)[0:4].
 * Custos signs with one name that is both the origin and the key name.
 *
 * Reading is strict and bounded: CHECKPOINT_MAX bytes, at most
 * CHECKPOINT_SIGS_MAX signature lines, valid UTF-8 with no control
 * characters but newline, exactly the three body lines, canonical numbers
 * and base64. Signature lines of other keys (a witness's cosignature, a
 * rotated key) must be well formed and are then ignored, as signed-note
 * requires; every line of the expected key must verify, and at least one
 * must be present.
 */
#ifndef CUSTOS_CHECKPOINT_H
#define CUSTOS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "keys.h"
#include "merkle.h"

#define CHECKPOINT_MAX 131072		/* a whole note, bytes */
#define CHECKPOINT_SIGS_MAX 16		/* signature lines in a note */
#define CHECKPOINT_NAME_MAX 255		/* our key name (and origin), bytes */
#define CHECKPOINT_KEY_ID_LEN 4

/* A tree head: the size of the log and its RFC 9162 root. */
struct checkpoint {
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
};

/* signed-note "Ed25519 signatures": the key ID of (name, pk).
 * OUT: id. Returns 0 or -CUSTOS_ERR_INVAL (name not valid, see
 * checkpoint_sign). */
int checkpoint_key_id(const char *name, const uint8_t pk[KEYS_SIGN_PK_LEN],
		      uint8_t id[CHECKPOINT_KEY_ID_LEN]);

/* Sign the checkpoint of cp, origin and key name `name`, with kp's Ed25519
 * key, and append the note to out. name: 1 to CHECKPOINT_NAME_MAX bytes of
 * printable ASCII (0x21-0x7e) other than '+'. A tree of size 0 must have
 * the empty tree's root. Returns 0, -CUSTOS_ERR_INVAL, or the errors of
 * buf_put (out is left as it was on any error). */
int checkpoint_sign(const struct checkpoint *cp, const char *name,
		    const struct custos_keypair *kp, struct buf *out);

/* Parse and verify a checkpoint note: the origin must be name, and the
 * note must carry a signature line of (name, pk) that verifies. OUT: *cp
 * (zeroed unless 0 is returned). Returns 0,
 *   -CUSTOS_ERR_OVERSIZED  longer than CHECKPOINT_MAX, or more than
 *                          CHECKPOINT_SIGS_MAX signature lines;
 *   -CUSTOS_ERR_TRUNCATED  the input ends before its signature lines do
 *                          (no final newline, no blank line, nothing
 *                          after it);
 *   -CUSTOS_ERR_MALFORMED  anything else out of place, in the envelope or
 *                          in the body, or a correctly signed checkpoint
 *                          whose origin is not name;
 *   -CUSTOS_ERR_BAD_SIGNATURE  no signature line of (name, pk), or one
 *                          that does not verify;
 *   -CUSTOS_ERR_INVAL      name not valid. */
int checkpoint_verify(const uint8_t *note, size_t n, const char *name,
		      const uint8_t pk[KEYS_SIGN_PK_LEN], struct checkpoint *cp);

/* The signed-note layer alone, for any text (tests, cosignatures later).
 * Sign text (non-empty, ending in a newline, not starting with one, valid
 * UTF-8 without control characters other than newline) with kp under
 * name, appending the note to out. Returns 0, -CUSTOS_ERR_INVAL,
 * -CUSTOS_ERR_OVERSIZED (the note would pass CHECKPOINT_MAX), or the
 * errors of buf_put (out is left as it was on any error). */
int checkpoint_note_sign(const uint8_t *text, size_t len, const char *name,
			 const struct custos_keypair *kp, struct buf *out);

/* Verify a signed note as checkpoint_verify does, without reading its
 * text. OUT: *text_len, the length of the signed text, which starts at
 * note[0] (0 unless 0 is returned). Returns 0 or the errors of
 * checkpoint_verify but the body's MALFORMED cases. */
int checkpoint_note_open(const uint8_t *note, size_t n, const char *name,
			 const uint8_t pk[KEYS_SIGN_PK_LEN], size_t *text_len);

#endif
