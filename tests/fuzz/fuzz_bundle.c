/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the readers of untrusted export-bundle content
 * (common/bundle.h): the first input byte picks the reader, the rest is
 * the file: even, custody/proofs.json (bundle_proofs_parse); odd,
 * custody/events.jsonl (bundle_events_verify with the fixed collector key
 * of fuzzkeys.h).
 *
 * Invariants, checked with abort():
 *   1. Every error is negative with a message and a reason (proofs) or a
 *      1-based line (events); the outputs are empty on error.
 *   2. Parsed proofs are what the verifier relies on: leaves strictly
 *      increasing and below tree_size, each file named after its leaf,
 *      host names non-empty, every path at most MERKLE_PROOF_MAX hashes,
 *      a consistency first_size in 1..tree_size.
 *   3. A verified event log has one entry per line, with seq 0, 1, ...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "error.h"
#include "fuzzkeys.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

static struct custos_keypair collector;

static void proofs(const uint8_t *p, size_t n)
{
	struct bundle_proofs pr;
	const char *why = NULL;
	char want[96];
	int ret = bundle_proofs_parse(p, n, &pr, &why);

	CHECK(ret <= 0);
	if (ret) {
		CHECK(why && strcmp(custos_strerror(ret), "unknown error") != 0);
		CHECK(pr.b == NULL && pr.n == 0);
		return;
	}
	for (size_t i = 0; i < pr.n; i++) {
		CHECK(pr.b[i].leaf < pr.tree_size);
		CHECK(i == 0 || pr.b[i].leaf > pr.b[i - 1].leaf);
		bundle_batch_file(pr.b[i].leaf, want);
		CHECK(strcmp(want, pr.b[i].file) == 0);
		CHECK(pr.b[i].host[0] != 0 && pr.b[i].path_len <= MERKLE_PROOF_MAX);
	}
	CHECK(!pr.has_consistency ||
	      (pr.first_size >= 1 && pr.first_size <= pr.tree_size && pr.cons_len <= MERKLE_PROOF_MAX));
	bundle_proofs_free(&pr);
}

static void events(const uint8_t *p, size_t n)
{
	json_t *e = NULL;
	size_t line = 0, lines = 0;
	int ret = bundle_events_verify((const char *)p, n, collector.pub.sign_pk, &e, &line);

	CHECK(ret <= 0);
	if (ret) {
		CHECK(e == NULL && line >= 1);
		CHECK(strcmp(custos_strerror(ret), "unknown error") != 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	CHECK(line == 0 && json_array_size(e) == lines);
	for (size_t i = 0; i < lines; i++)
		CHECK(json_integer_value(json_object_get(json_array_get(e, i), "seq")) ==
		      (json_int_t)i);
	json_decref(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;

	if (!init) {
		CHECK(custos_init() == 0 && fuzz_keys(&collector, FUZZ_COLLECTOR_SEED) == 0);
		init = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		proofs(data + 1, size - 1);
	else
		events(data + 1, size - 1);
	return 0;
}
