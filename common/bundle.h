/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle: what custos-collector export writes and custos-verify checks,
 * shared so that both sides derive the same bytes from the same evidence
 * (docs/export.md is the byte-exact layout): the manifest signature, the
 * chain-of-custody event log check, the reading of custody/proofs.json,
 * and (bundle_timeline.c) the timeline rows and gaps the batches decode
 * to. Everything read here is untrusted bundle content: it is parsed with
 * jansson under explicit size limits and every field is checked for type,
 * range and length before use; nothing is trusted because it parsed.
 */
#ifndef CUSTOS_BUNDLE_H
#define CUSTOS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "batch.h"
#include "keys.h"
#include "merkle.h"
#include "record.h"

#define BUNDLE_FORMAT "custos-export-1"
#define BUNDLE_TOOL_VERSION "custos 0.1.0-dev"
/* Signed: domain, NUL, manifest.json's bytes. */
#define BUNDLE_MANIFEST_DOMAIN "CUSTOS-EXPORT-MANIFEST-V1"
/* The collector's event log (docs/collector.md): domain, NUL, the line's
 * sorted compact JSON without "sig". */
#define BUNDLE_EVENT_DOMAIN "CUSTOS-CUSTODY-EVENT-V1"
#define BUNDLE_EVENT_LINE_MAX 8192
#define BUNDLE_JSON_MAX (64u << 20)	/* proofs.json, manifest.json */
#define BUNDLE_BATCHES_MAX 10000000u
#define BUNDLE_NAME_MAX 64

/* Sign manifest bytes with the collector's key. OUT: sig. Never fails. */
void bundle_manifest_sign(const uint8_t *m, size_t n, const struct custos_keypair *kp,
			  uint8_t sig[CUSTOS_SIG_LEN]);

/* Check a manifest signature. Returns 0, -CUSTOS_ERR_BAD_SIGNATURE,
 * -CUSTOS_ERR_NOMEM. */
int bundle_manifest_verify(const uint8_t *m, size_t n, const uint8_t sig[CUSTOS_SIG_LEN],
			   const uint8_t pk[KEYS_SIGN_PK_LEN]);

/* Check the event log text (one entry a line, each ending in '\n'):
 * canonical sorted compact JSON, "seq" counting from 0, "prev" the
 * BLAKE2b-256 of the previous line, "sig" the collector's signature.
 * OUT: *entries (a new JSON array of the entries, on success only),
 * *bad_line (1-based line of the first failure, 0 if none). Returns 0,
 * -CUSTOS_ERR_MALFORMED (format, seq or prev), -CUSTOS_ERR_BAD_SIGNATURE,
 * -CUSTOS_ERR_TRUNCATED (no final newline), -CUSTOS_ERR_OVERSIZED,
 * -CUSTOS_ERR_NOMEM. */
int bundle_events_verify(const char *text, size_t n, const uint8_t pk[KEYS_SIGN_PK_LEN],
			 json_t **entries, size_t *bad_line);

/* One exported batch, as custody/proofs.json lists it. */
struct bundle_batch {
	char file[96];			/* "evidence/leaf-00000006.batch" */
	char host[BUNDLE_NAME_MAX + 1];
	uint64_t leaf, seq;
	uint8_t leaf_hash[MERKLE_HASH_LEN];
	uint8_t path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	size_t path_len;
};

/* custody/proofs.json, parsed. */
struct bundle_proofs {
	uint64_t tree_size;
	struct bundle_batch *b;		/* in leaf order */
	size_t n;
	int has_consistency;
	uint64_t first_size;		/* of custody/checkpoint-first */
	uint8_t cons[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	size_t cons_len;
};

/* Parse custody/proofs.json (docs/export.md). Checks: types, hex
 * lengths, host names [A-Za-z0-9._-], file names of the exact form
 * evidence/leaf-NNNNNNNN.batch naming their leaf, leaves strictly
 * increasing and below tree_size, proof lengths. OUT: *p (free with
 * bundle_proofs_free), *why (a static phrase naming what is wrong).
 * Returns 0, -CUSTOS_ERR_MALFORMED, -CUSTOS_ERR_OVERSIZED, -CUSTOS_ERR_NOMEM. */
int bundle_proofs_parse(const uint8_t *text, size_t n, struct bundle_proofs *p, const char **why);

void bundle_proofs_free(struct bundle_proofs *p);	/* accepts NULL */

/* The evidence file name of leaf i. OUT: out. */
void bundle_batch_file(uint64_t leaf, char out[96]);

/* --- bundle_timeline.c ----------------------------------------------------- */

/* What the timeline and gaps are derived from, one exported batch at a
 * time (in leaf order), for the request's time range [from_ns, to_ns]
 * (wall clock = record ts_ns + the batch's clock_offset_ns). */
struct bundle_host;
struct bundle_order;
struct bundle_derive {
	int64_t from_ns, to_ns;
	FILE *jsonl, *csv;		/* either may be NULL */
	json_t *gaps;			/* array, filled by bundle_derive_batch */
	struct bundle_host *hosts;	/* per-host state (bundle_timeline.c) */
	size_t nhosts;
	uint64_t rows;
	struct buf row;			/* the row being written */
	struct bundle_order *order;	/* per kind, its rows' key order */
};

/* Start a derivation; writes the CSV header when csv is set. OUT: *d.
 * Returns 0 or -CUSTOS_ERR_NOMEM / -CUSTOS_ERR_IO. */
int bundle_derive_init(struct bundle_derive *d, int64_t from_ns, int64_t to_ns, FILE *jsonl,
		       FILE *csv);

/* Add one verified batch (its payload inflated into raw) of host: its
 * records in range become timeline rows; sequence gaps against the
 * host's previous exported batch, losses, gap records, agent stops,
 * clock steps and heartbeat silences become gaps entries. Returns 0,
 * -CUSTOS_ERR_CORRUPT_PAYLOAD (records that do not decode), -CUSTOS_ERR_IO,
 * -CUSTOS_ERR_NOMEM. */
int bundle_derive_batch(struct bundle_derive *d, const char *host, uint64_t leaf,
			const struct batch_view *v, const struct buf *raw);

/* Write one timeline row (what bundle_derive_batch does for a record in
 * range; public for tests): record r, index idx of the batch at leaf with
 * sequence number seq of host, wall time wall, to d->jsonl and d->csv.
 * The bytes are those of record_json()'s object plus our keys dumped by
 * jansson with JSON_COMPACT | JSON_SORT_KEYS, written directly
 * (record_json_members). Returns 0, the errors of record_json_members,
 * -CUSTOS_ERR_IO. */
int bundle_derive_row(struct bundle_derive *d, const char *host, uint64_t leaf, uint64_t seq,
		      const struct custos_record *r, uint64_t idx, int64_t wall);

/* The gaps document (a new reference) once every batch was added:
 * {"gaps": [...]} with keys sorted. OUT: *out. Returns 0 or -CUSTOS_ERR_NOMEM. */
int bundle_derive_gaps(struct bundle_derive *d, char **out);

void bundle_derive_free(struct bundle_derive *d);	/* accepts NULL */

/* Format a wall-clock time as RFC 3339 UTC with nanoseconds. OUT: out
 * (at least 40 bytes). */
void bundle_fmt_time(int64_t unix_ns, char *out, size_t n);

#endif
