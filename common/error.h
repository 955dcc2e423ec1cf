/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes of libcustos. Every public function returns 0 (or a count)
 * on success and one of these negated on failure; custos_strerror() turns a
 * code into the sentence a log line or a verifier report shows.
 *
 * The verification codes are deliberately fine-grained: an examiner must be
 * told *why* a batch was refused (forged, cut short, replayed...), not just
 * that it was.
 */
#ifndef CUSTOS_ERROR_H
#define CUSTOS_ERROR_H

enum custos_err {
	CUSTOS_OK = 0,
	CUSTOS_ERR_NOMEM = 1,		/* allocation failed */
	CUSTOS_ERR_INVAL,		/* caller passed an invalid argument */
	CUSTOS_ERR_IO,			/* read/write/fsync failed (see errno) */
	CUSTOS_ERR_CRYPTO_INIT,		/* libsodium could not initialise */
	CUSTOS_ERR_TRUNCATED,		/* input ends before the structure does */
	CUSTOS_ERR_OVERSIZED,		/* a length exceeds its hard limit */
	CUSTOS_ERR_MALFORMED,		/* bytes do not follow the format (docs/) */
	CUSTOS_ERR_NONCANONICAL,	/* valid CBOR, but not deterministic encoding */
	CUSTOS_ERR_VERSION,		/* format or protocol version not supported */
	CUSTOS_ERR_NOT_SEALED_TO_US,	/* sealed to another collector key */
	CUSTOS_ERR_SEAL,		/* sealed box fails authentication */
	CUSTOS_ERR_BAD_SIGNATURE,	/* Ed25519 signature does not verify */
	CUSTOS_ERR_UNKNOWN_HOST,	/* signer is not an enrolled host */
	CUSTOS_ERR_CHAIN_BROKEN,	/* previous-batch hash does not match */
	CUSTOS_ERR_SEQ_GAP,		/* sequence number skips ahead */
	CUSTOS_ERR_REPLAY,		/* sequence number already seen */
	CUSTOS_ERR_CORRUPT_PAYLOAD,	/* payload hash, zlib stream or records wrong */
	CUSTOS_ERR_DECOMPRESSION_BOMB,	/* payload inflates past its limit */
	CUSTOS_ERR_KEY_PERMS,		/* secret key file readable by others */
	CUSTOS_ERR_KEY_FORMAT,		/* key file is not a custos key file */
	CUSTOS_ERR_EXISTS,		/* refusing to overwrite an existing file */
	CUSTOS_ERR_AGAIN,		/* need more input (incremental parsers) */
	CUSTOS_ERR_BAD_PROOF,		/* Merkle inclusion or consistency proof fails */
	CUSTOS_ERR__COUNT
};

/* Returns a static, human-readable description of err (positive or
 * negative); never NULL, "unknown error" for codes out of range. */
const char *custos_strerror(int err);

#endif
