/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for record decoding (record.h, schema.h, cbor_io.h):
 * the input is read as the inside of an inflated batch payload, a sequence
 * of CBOR record maps, decoded one after another until the end or the
 * first error.
 *
 * The decoder accepts only canonical CBOR in the exact key order of a
 * record kind's schema, so decoding followed by encoding must be the
 * identity: every record that decodes is encoded again and must come out
 * as exactly the bytes it was decoded from (abort() otherwise). Errors
 * must be negative codes with a message.
 *
 * The records are decoded one after another into the same struct, which
 * starts as garbage (record_decode clears only what record.h says a
 * reader may read): each must give the JSON line, envelope and subject
 * of a decode into a zeroed struct, and a NUL after every byte field
 * shorter than its capacity.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "buf.h"
#include "cbor_io.h"
#include "error.h"
#include "keys.h"
#include "record.h"
#include "record_json.h"
#include "schema.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (custos_init() != 0)
		abort();
	return 0;
}

/* A NUL right after every byte field of rec shorter than its capacity. */
static void check_terminated(const struct custos_record *rec)
{
	const struct schema *parts[3];
	size_t n = record_schema(rec->kind, parts);
	const uint8_t *p = (const uint8_t *)rec;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < parts[i]->count; j++) {
			const struct schema_field *f = &parts[i]->fields[j];
			uint32_t len;

			if (f->type != SF_BYTES && f->type != SF_STRV)
				continue;
			memcpy(&len, p + f->len_off, sizeof(len));
			CHECK(len <= f->cap);
			CHECK(len == f->cap || p[f->off + len] == 0);
		}
}

/* rec, decoded from data[0..n) into a reused struct, reads as a decode of
 * the same bytes into a zeroed one. */
static void check_as_fresh(const struct custos_record *rec, const uint8_t *data, size_t n,
			   struct custos_record *fresh, struct buf *a, struct buf *b)
{
	struct cbr r;

	memset(fresh, 0, sizeof(*fresh));
	cbr_init(&r, data, n);
	CHECK(record_decode(&r, fresh) == 0 && cbr_done(&r));
	CHECK(memcmp(rec, fresh, offsetof(struct custos_record, u)) == 0);
	check_terminated(rec);
	buf_reset(a);
	buf_reset(b);
	CHECK(record_json_line(rec, a) == 0 && record_json_line(fresh, b) == 0);
	CHECK(a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct custos_record *rec = malloc(sizeof(*rec));	/* ~17 KB */
	struct custos_record *fresh = malloc(sizeof(*fresh));
	const struct schema *parts[3];
	struct buf enc, ja, jb;
	struct cbr r;
	int ret = 0;

	CHECK(rec != NULL && fresh != NULL);
	memset(rec, 0xa5, sizeof(*rec));	/* what a reused struct may hold */
	buf_init(&enc, CUSTOS_RAW_MAX);
	buf_init(&ja, RECORD_JSON_LINE_MAX);
	buf_init(&jb, RECORD_JSON_LINE_MAX);
	cbr_init(&r, data, size);
	while (!cbr_done(&r)) {
		size_t at = r.off;

		ret = record_decode(&r, rec);
		if (ret)
			break;
		CHECK(r.off > at && r.off <= size);
		CHECK(record_kind_name(rec->kind) != NULL);
		CHECK(record_schema(rec->kind, parts) >= 2);
		buf_reset(&enc);
		CHECK(record_encode(&enc, rec) == 0);
		CHECK(enc.len == r.off - at && memcmp(enc.data, data + at, enc.len) == 0);
		check_as_fresh(rec, data + at, r.off - at, fresh, &ja, &jb);
	}
	CHECK(ret <= 0);
	CHECK(strcmp(custos_strerror(ret), "unknown error") != 0);
	buf_free(&enc);
	buf_free(&ja);
	buf_free(&jb);
	free(rec);
	free(fresh);
	return 0;
}
