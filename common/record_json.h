/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record_json: a record as one JSON object, for people and tools (the
 * agent's print mode now, timelines and exports later). It is built from
 * the same schema tables as the CBOR encoding (record_schema()), so every
 * field of docs/format.md appears, under its schema name after the last
 * '.', in key order. JSON is a view for reading: the evidence is the CBOR.
 *
 * Mapping: "kind" holds the kind's name ("exec"); integers are JSON
 * numbers, except unsigned values above 2^63-1, which are decimal strings;
 * a byte string is a JSON string when it is valid UTF-8 without control
 * characters (C0, DEL, C1), else {"hex": "<lower-case hex>"}; fixed-size
 * byte fields (hashes) are always {"hex": ...}; argv is an array of such
 * strings. Schema names are unique within a record (chown's new owner is
 * owner_uid/owner_gid beside the subject's uid/gid), so a JSON object never
 * repeats a key.
 */
#ifndef CUSTOS_RECORD_JSON_H
#define CUSTOS_RECORD_JSON_H

#include <stdio.h>
#include <jansson.h>

#include "buf.h"
#include "record.h"

/* Build the JSON object of rec. OUT: *out, a new reference the caller
 * releases with json_decref(). Returns 0; -CUSTOS_ERR_INVAL for an unknown
 * kind, a length past its capacity or an argv count that does not match
 * its bytes; -CUSTOS_ERR_NOMEM. */
int record_json(const struct custos_record *rec, json_t **out);

/* Write rec to f as one line of compact JSON ending in '\n'. Returns 0,
 * the errors of record_json, or -CUSTOS_ERR_IO when f refuses the bytes. */
int record_json_write(FILE *f, const struct custos_record *rec);

/* --- the same view written directly ------------------------------------
 * For callers that write millions of rows (export timelines): the members
 * of rec's JSON object are serialised straight into a buffer, with the
 * bytes json_dumps(JSON_COMPACT) gives for each value (the mapping above,
 * jansson's escaping), without building jansson objects. The caller
 * orders and joins them (common/bundle_timeline.c); tests/unit/
 * test_bundle_row.c checks the bytes against the jansson path. */
enum record_json_type { RECORD_JSON_OTHER, RECORD_JSON_NUMBER, RECORD_JSON_STRING };

struct record_json_member {
	const char *name;	/* the JSON key, static */
	uint32_t off, len;	/* the serialised value: out->data + off */
	uint8_t type;		/* enum record_json_type */
	const char *raw;	/* STRING: its unescaped bytes (not NUL-terminated) */
	size_t raw_len;
	char text[48];		/* storage for raw when it is made here */
};

/* Append the members of rec's object, in schema order (a later member of
 * the same name replaces an earlier one, as json_object_set does), to
 * out; m[] describes them. OUT: m[0..*n), the bytes in out. Returns 0,
 * the errors of record_json, -CUSTOS_ERR_INVAL when cap is too small,
 * -CUSTOS_ERR_OVERSIZED (out's max). raw may point into rec or m->text. */
int record_json_members(const struct custos_record *rec, struct buf *out,
			struct record_json_member *m, size_t cap, size_t *n);

/* Append s[0..n) as a JSON string, escaped as jansson's json_dumps does
 * without JSON_ENSURE_ASCII (s must be valid UTF-8, as jansson requires).
 * Returns 0 or the errors of buf_reserve. */
int record_json_put_string(struct buf *out, const void *s, size_t n);

/* Append v in decimal. Returns 0 or the errors of buf_reserve. */
int record_json_put_int(struct buf *out, int64_t v);

/* Append rec's line to out: the bytes record_json_write writes (compact,
 * keys in schema order, '\n'), without jansson and, when out is reused,
 * without allocation (custos-agent print). Returns 0, the errors of
 * record_json_members; on error out is as it was. */
#define RECORD_JSON_LINE_MEMBERS 64	/* members of the largest kind, and room */
#define RECORD_JSON_LINE_MAX (1u << 22)	/* a buf max that fits any record's line */
int record_json_line(const struct custos_record *rec, struct buf *out);

#endif
