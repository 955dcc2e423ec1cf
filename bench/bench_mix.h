/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record mix of the collector benchmarks (bench_mix.c).
 */
#ifndef CUSTOS_BENCH_MIX_H
#define CUSTOS_BENCH_MIX_H

#include <stdint.h>

#include "record.h"

/* Set r's kind and body for position k (0-19) of the mix: 0-4 fork, 5-9
 * exit, 10-14 exec of grep, 15-18 an open for writing of
 * /var/log/app/(seq % 97).log, 19 a connect to 10.0.0.7:443. ts is the
 * record's time (the exit's process started 1 ms before, the exec's 500
 * ns). The envelope and subject are the caller's. */
void bench_mix_body(struct custos_record *r, unsigned k, uint64_t seq, uint64_t ts);

#endif
