/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the agent's ring-buffer decoder (agent/decode.c):
 * the input is one ring-buffer record as the kernel would hand it over
 * (exec and file records: the struct, then their strings packed).
 *
 * Invariants (abort() otherwise): an error is a negative code with a
 * message and leaves the output all zero; a record that decodes is a
 * valid custos_record, so it encodes to CBOR, decodes back from it, and
 * converts to JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cbor_io.h"
#include "decode.h"
#include "error.h"
#include "events.h"
#include "record.h"
#include "record_json.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

#define INPUT_MAX (2 * CUSTOS_EV_RECORD_MAX)

/* Ring-buffer records are 8-byte aligned; so is this copy. */
static union {
	uint8_t bytes[INPUT_MAX];
	uint64_t align;
} input;
static struct custos_record rec, again;
static const uint8_t zero[sizeof(struct custos_record)];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbr r;
	struct buf b;
	json_t *obj = NULL;
	uint32_t kind;
	int ret;

	if (size > INPUT_MAX)
		return 0;
	memcpy(input.bytes, data, size);
	ret = decode_event(input.bytes, size, &rec, &kind);
	if (ret) {
		CHECK(ret < 0 && custos_strerror(ret)[0] != 0);
		CHECK(memcmp(&rec, zero, sizeof(rec)) == 0);
		return 0;
	}
	buf_init(&b, 1 << 20);
	CHECK(record_encode(&b, &rec) == 0);
	cbr_init(&r, b.data, b.len);
	CHECK(record_decode(&r, &again) == 0);
	CHECK(cbr_done(&r));
	CHECK(record_json(&rec, &obj) == 0);
	json_decref(obj);
	buf_free(&b);
	return 0;
}
