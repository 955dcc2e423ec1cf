/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schemas: a table per structure that says which C field sits under which
 * CBOR integer key. One generic encoder and one strict decoder serve every
 * structure of docs/format.md (records, batch headers, acknowledgements),
 * so the canonical-ordering and bounds rules are written once.
 *
 * A structure may be described by several parts (a record is envelope +
 * subject + body); their keys, taken together, must be strictly ascending,
 * which is the map ordering deterministic CBOR requires for integer keys
 * (RFC 8949 4.2.1: bytewise order of encoded keys equals numeric order for
 * unsigned integers). schema_check() asserts that in the unit tests.
 *
 * Decoding is strict: the map must hold exactly the schema's keys, in order,
 * with the right types and within each field's capacity. Custos never
 * omits a field, so a missing, extra or reordered key means the bytes were
 * not written by a conforming encoder.
 */
#ifndef CUSTOS_SCHEMA_H
#define CUSTOS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cbor_io.h"

enum schema_type {
	SF_U64,		/* uint64_t, CBOR unsigned */
	SF_I64,		/* int64_t, CBOR unsigned or negative */
	SF_BYTES,	/* uint8_t[cap] + uint32_t length, CBOR byte string */
	SF_FIXED,	/* uint8_t[cap], CBOR byte string of exactly cap bytes */
	SF_STRV,	/* NUL-separated uint8_t[cap] + uint32_t length + uint64_t count,
			   CBOR array of byte strings (argv) */
};

struct schema_field {
	uint32_t key;
	uint8_t type;		/* enum schema_type */
	uint32_t off;		/* offsetof the value */
	uint32_t len_off;	/* offsetof the uint32_t length (BYTES, STRV) */
	uint32_t cnt_off;	/* offsetof the uint64_t element count (STRV) */
	uint32_t cap;		/* capacity in bytes (BYTES, FIXED, STRV) */
	const char *name;	/* JSON and documentation name */
};

struct schema {
	const char *name;
	const struct schema_field *fields;
	size_t count;
};

#define SCHEMA_U64(k, T, f) { (k), SF_U64, offsetof(T, f), 0, 0, 0, #f }
#define SCHEMA_I64(k, T, f) { (k), SF_I64, offsetof(T, f), 0, 0, 0, #f }
#define SCHEMA_BYTES(k, T, f) \
	{ (k), SF_BYTES, offsetof(T, f), offsetof(T, f##_len), 0, sizeof(((T *)0)->f), #f }
#define SCHEMA_FIXED(k, T, f) { (k), SF_FIXED, offsetof(T, f), 0, 0, sizeof(((T *)0)->f), #f }
#define SCHEMA_STRV(k, T, f) \
	{ (k), SF_STRV, offsetof(T, f), offsetof(T, f##_len), offsetof(T, f##_count), \
	  sizeof(((T *)0)->f), #f }
#define SCHEMA_OF(n, table) { (n), (table), sizeof(table) / sizeof((table)[0]) }

/* Encode obj as one CBOR map of all fields of all parts, in order.
 * Returns 0, -CUSTOS_ERR_INVAL for a length field past its capacity (a bug
 * in the caller), or the errors of buf_reserve. */
int schema_encode(struct buf *out, const struct schema *const *parts, size_t nparts,
		  const void *obj);

/* Decode one CBOR map from r into obj, against the same parts. Only the
 * fields the map holds are written, byte strings up to their length: the
 * caller clears what its readers may read past them (all of obj, or, as
 * record_decode does, all but arrays read only up to their length). Returns 0, -CUSTOS_ERR_MALFORMED (wrong map size, key,
 * type or fixed length), -CUSTOS_ERR_OVERSIZED (a field past capacity), or
 * the errors of cbr_next. OUT: the fields of obj. */
int schema_decode(struct cbr *r, const struct schema *const *parts, size_t nparts, void *obj);

/* Returns 0 when the parts' keys are strictly ascending and every capacity
 * fits its type, -CUSTOS_ERR_INVAL otherwise. For tests. */
int schema_check(const struct schema *const *parts, size_t nparts);

#endif
