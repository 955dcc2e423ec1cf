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
 */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct custos_record *rec = malloc(sizeof(*rec));	/* ~20 KB */
	const struct schema *parts[3];
	struct buf enc;
	struct cbr r;
	int ret = 0;

	CHECK(rec != NULL);
	buf_init(&enc, CUSTOS_RAW_MAX);
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
	}
	CHECK(ret <= 0);
	CHECK(strcmp(custos_strerror(ret), "unknown error") != 0);
	buf_free(&enc);
	free(rec);
	return 0;
}
