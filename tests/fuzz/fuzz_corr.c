/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the loader of threshold and sequence rules
 * (collector/corr_load.c): YAML through libyaml, keys, numbers,
 * durations, fields, stages compiled by the Sigma loader. The input is a
 * whole rule file; a loaded rule must have the bounds the evaluator
 * relies on (corr.h), or the fuzzer aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[SIGMA_REASON_MAX];
	struct corr_rule *r = NULL;
	enum corr_kind kind;
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (corr_rule_load(text, size, &r, &kind, reason) == 0) {
		if (!r->stage[0].sel || r->window_ns < 1000000 || r->window_ns > CORR_WINDOW_MAX_NS ||
		    (r->kind == CORR_THRESHOLD && (r->count < 1 || r->count > CORR_COUNT_MAX ||
		     (r->distinct >= 0 && r->count > CORR_DISTINCT_MAX))) ||
		    (r->kind == CORR_SEQUENCE && !r->stage[1].sel))
			abort();
		corr_rule_free(r);
	}
	free(text);
	return 0;
}
