/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batches: the unit of evidence. A batch is a canonical CBOR header, a
 * zlib-deflated payload of records, and the host's Ed25519 signature over
 * the header's BLAKE2b-256 hash (the "batch hash"). Headers chain: each
 * holds the hash of the host's previous batch and a sequence number, so a
 * removed, inserted or reordered batch is visible (chain.h).
 *
 * Building: records are added to a batch_builder one by one; batch_sign()
 * compresses, fills the header, hashes, signs and emits the signed batch.
 *
 * Checking, in this order, each step failing with its own error:
 *   batch_parse            structure, limits, header -> hash
 *   (caller looks the host id up: CUSTOS_ERR_UNKNOWN_HOST)
 *   batch_verify_signature Ed25519 over the hash
 *   batch_check_payload    payload hash, then inflate with a hard limit
 *   record_iter_*          each record, their count and time range
 * The signed batch bytes are what the archive and custody log keep.
 */
#ifndef CUSTOS_BATCH_H
#define CUSTOS_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cbor_io.h"
#include "keys.h"
#include "record.h"

#define CUSTOS_FORMAT_VERSION 1
#define CUSTOS_COMPRESSION_ZLIB 1
#define CUSTOS_BOOT_ID_LEN 16
#define CUSTOS_SIG_LEN 64
#define CUSTOS_RAW_MAX (16u << 20)		/* records of one batch, inflated */
#define CUSTOS_PAYLOAD_MAX (CUSTOS_RAW_MAX + (1u << 20))	/* > compressBound */
#define CUSTOS_HEADER_MAX 512
#define CUSTOS_SIGNED_MAX (CUSTOS_PAYLOAD_MAX + CUSTOS_HEADER_MAX + 128)
#define BATCH_SIG_DOMAIN "CUSTOS-BATCH-SIG-V1"	/* signed: domain, NUL, hash */

struct batch_header {
	uint64_t version;
	uint8_t host_id[KEYS_SIGN_PK_LEN];
	uint8_t boot_id[CUSTOS_BOOT_ID_LEN];
	uint64_t seq;
	uint8_t prev_hash[CUSTOS_HASH_LEN];	/* zero for sequence 0 */
	uint64_t record_count;
	uint64_t first_ts_ns, last_ts_ns;	/* min and max record ts_ns */
	int64_t clock_offset_ns;		/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint64_t sealed_boot_ns;		/* CLOCK_BOOTTIME when signed */
	uint64_t ntp_synced;			/* adjtimex: not TIME_ERROR */
	uint64_t ntp_maxerror_us, ntp_esterror_us, ntp_status;
	uint64_t compression;
	uint64_t raw_len, payload_len;
	uint8_t payload_hash[CUSTOS_HASH_LEN];	/* BLAKE2b-256 of the payload */
};

struct batch_builder {
	struct buf raw;		/* concatenated record maps */
	uint64_t count;
	uint64_t first_ts_ns, last_ts_ns;
};

/* A parsed signed batch. Pointers point into the bytes given to
 * batch_parse, which must outlive the view. */
struct batch_view {
	struct batch_header hdr;
	uint8_t hash[CUSTOS_HASH_LEN];
	const uint8_t *header_bytes;
	size_t header_len;
	const uint8_t *sig;
	const uint8_t *payload;
	size_t payload_len;
};

void batch_builder_init(struct batch_builder *b);
void batch_builder_free(struct batch_builder *b);	/* accepts NULL */

/* Append one record. Returns 0; -CUSTOS_ERR_OVERSIZED when it would take
 * the batch past CUSTOS_RAW_MAX (nothing is appended: seal and retry);
 * the errors of record_encode. */
int batch_builder_add(struct batch_builder *b, const struct custos_record *rec);

/* Seal the builder's records into a signed batch appended to out.
 * IN: hdr->boot_id, seq, prev_hash and the clock fields; OUT: every other
 * field of *hdr, hash (the batch hash). The builder is emptied on success.
 * Returns 0, -CUSTOS_ERR_INVAL for an empty builder, or the errors of
 * compress_payload and buf_reserve. */
int batch_sign(struct batch_builder *b, struct batch_header *hdr,
	       const struct custos_keypair *host, struct buf *out,
	       uint8_t hash[CUSTOS_HASH_LEN]);

/* Parse a signed batch. OUT: *v. Returns 0, -CUSTOS_ERR_OVERSIZED,
 * -CUSTOS_ERR_TRUNCATED, -CUSTOS_ERR_MALFORMED, -CUSTOS_ERR_NONCANONICAL,
 * -CUSTOS_ERR_VERSION. */
int batch_parse(const uint8_t *p, size_t n, struct batch_view *v);

/* Check the signature with host_pk (the enrolled key for v->hdr.host_id).
 * Returns 0 or -CUSTOS_ERR_BAD_SIGNATURE. */
int batch_verify_signature(const struct batch_view *v, const uint8_t host_pk[KEYS_SIGN_PK_LEN]);

/* Check the payload against its signed hash and inflate it into raw.
 * Returns 0, -CUSTOS_ERR_CORRUPT_PAYLOAD, -CUSTOS_ERR_DECOMPRESSION_BOMB,
 * -CUSTOS_ERR_NOMEM. OUT: raw holds the records' CBOR. */
int batch_check_payload(const struct batch_view *v, struct buf *raw);

/* Says whether host_id is an enrolled (and not revoked) host: returns 0 if
 * so, -CUSTOS_ERR_UNKNOWN_HOST if not. */
typedef int (*batch_host_lookup)(void *ctx, const uint8_t host_id[KEYS_SIGN_PK_LEN]);

/* The whole check of docs/format.md 3.5 steps 1-6 on a signed batch:
 * parse, look the host up, verify the signature, check and inflate the
 * payload. OUT: *v (pointing into p), raw (the records' CBOR). Returns 0 or
 * the first error of those steps. Records are then read with record_iter_*
 * (step 7) and the chain checked with chain_check (step 8). */
int batch_verify(const uint8_t *p, size_t n, batch_host_lookup lookup, void *ctx,
		 struct batch_view *v, struct buf *raw);

/* Encode a header canonically (for tests and the format document).
 * Returns 0 or the errors of buf_reserve. */
int batch_header_encode(struct buf *out, const struct batch_header *hdr);

struct record_iter {
	struct cbr r;
	const struct batch_header *hdr;
	uint64_t seen;
	uint64_t min_ts, max_ts;
};

/* Iterate over the records of an inflated payload. */
void record_iter_init(struct record_iter *it, const struct buf *raw,
		      const struct batch_header *hdr);

/* Returns 1 with the next record in *rec; 0 at the end, once the count and
 * time range have been checked against the header; or
 * -CUSTOS_ERR_CORRUPT_PAYLOAD (a record that does not decode, a wrong
 * count, a time range that disagrees, trailing bytes). */
int record_iter_next(struct record_iter *it, struct custos_record *rec);

#endif
