/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixed keys shared by the fuzz targets and make_corpus.c. They must
 * agree: the kept corpus holds batches signed by the host key below and
 * envelopes sealed to the collector key below, and only with these keys do
 * the targets get past signature checking and seal opening. Test keys,
 * derived from public seeds: never use them for anything else.
 *
 * Header-only on purpose: each target is one self-contained program, and
 * the Makefile builds tests/fuzz/fuzz_*.c only.
 */
#ifndef CUSTOS_FUZZKEYS_H
#define CUSTOS_FUZZKEYS_H

#include <stdint.h>
#include <string.h>

#include "keys.h"

#define FUZZ_HOST_SEED 0x48		/* 'H' */
#define FUZZ_COLLECTOR_SEED 0x43	/* 'C' */

/* Key pairs from one byte, as tests/unit/testutil.h does: the signing seed
 * is that byte repeated, the box seed its complement repeated.
 * OUT: *kp. Returns 0 or the errors of keys_from_seeds. */
static inline int fuzz_keys(struct custos_keypair *kp, uint8_t b)
{
	uint8_t sign_seed[KEYS_SEED_LEN], box_seed[KEYS_SEED_LEN];

	memset(sign_seed, b, sizeof(sign_seed));
	memset(box_seed, (uint8_t)~b, sizeof(box_seed));
	return keys_from_seeds(kp, sign_seed, box_seed);
}

#endif
