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
 * strings. A name used twice in one record (chown's uid beside the
 * subject's uid) is written the second time with its part prefix
 * ("file.uid").
 */
#ifndef CUSTOS_RECORD_JSON_H
#define CUSTOS_RECORD_JSON_H

#include <stdio.h>
#include <jansson.h>

#include "record.h"

/* Build the JSON object of rec. OUT: *out, a new reference the caller
 * releases with json_decref(). Returns 0; -CUSTOS_ERR_INVAL for an unknown
 * kind, a length past its capacity or an argv count that does not match
 * its bytes; -CUSTOS_ERR_NOMEM. */
int record_json(const struct custos_record *rec, json_t **out);

/* Write rec to f as one line of compact JSON ending in '\n'. Returns 0,
 * the errors of record_json, or -CUSTOS_ERR_IO when f refuses the bytes. */
int record_json_write(FILE *f, const struct custos_record *rec);

#endif
