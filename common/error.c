/* SPDX-License-Identifier: Apache-2.0 */
/* The one place where an error code becomes words. */
#include "error.h"

static const char *const messages[CUSTOS_ERR__COUNT] = {
	[CUSTOS_OK] = "success",
	[CUSTOS_ERR_NOMEM] = "out of memory",
	[CUSTOS_ERR_INVAL] = "invalid argument",
	[CUSTOS_ERR_IO] = "input/output error",
	[CUSTOS_ERR_CRYPTO_INIT] = "libsodium initialisation failed",
	[CUSTOS_ERR_TRUNCATED] = "truncated: input ends inside a structure",
	[CUSTOS_ERR_OVERSIZED] = "oversized: a length exceeds its hard limit",
	[CUSTOS_ERR_MALFORMED] = "malformed: bytes do not follow the Custos format",
	[CUSTOS_ERR_NONCANONICAL] = "not deterministic CBOR (RFC 8949 section 4.2.1)",
	[CUSTOS_ERR_VERSION] = "unsupported format or protocol version",
	[CUSTOS_ERR_NOT_SEALED_TO_US] = "not sealed to this collector's key",
	[CUSTOS_ERR_SEAL] = "sealed box fails authentication (corrupted or forged)",
	[CUSTOS_ERR_BAD_SIGNATURE] = "bad signature",
	[CUSTOS_ERR_UNKNOWN_HOST] = "unknown host: signer is not enrolled",
	[CUSTOS_ERR_CHAIN_BROKEN] = "broken chain: previous-batch hash does not match",
	[CUSTOS_ERR_SEQ_GAP] = "sequence gap: batches are missing",
	[CUSTOS_ERR_REPLAY] = "replay: sequence number already received",
	[CUSTOS_ERR_CORRUPT_PAYLOAD] = "corrupt payload",
	[CUSTOS_ERR_DECOMPRESSION_BOMB] = "decompression bomb: payload inflates past its limit",
	[CUSTOS_ERR_KEY_PERMS] = "secret key file is accessible to group or others (must be 0600)",
	[CUSTOS_ERR_KEY_FORMAT] = "not a Custos key file",
	[CUSTOS_ERR_EXISTS] = "file exists; refusing to overwrite",
	[CUSTOS_ERR_AGAIN] = "more input needed",
	[CUSTOS_ERR_BAD_PROOF] = "Merkle proof does not verify (RFC 9162)",
};

const char *custos_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= CUSTOS_ERR__COUNT || !messages[err])
		return "unknown error";
	return messages[err];
}
