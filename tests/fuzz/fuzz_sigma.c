/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the collector's Sigma rule loader (YAML through
 * libyaml, selections, modifiers, regex translation) and its condition
 * parser. The first input byte picks the mode: even, the rest is a whole
 * rule file; odd, the rest is a condition over fixed selection names.
 * A loaded rule is also evaluated against a fixed event, and the rule
 * index (sigma_index.c) must offer it whenever it matches.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigma.h"

static const char *const names[] = { "selection", "selection_a", "filter_main_x", "_hidden" };

static int truth(const void *ctx, size_t i)
{
	(void)ctx;
	return (int)(i & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[SIGMA_REASON_MAX];
	char *text;

	if (size < 1 || size > 65536)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 1) {
		struct sigma_cond *c = NULL;

		if (sigma_cond_parse(text, names, 4, &c, reason) == 0) {
			(void)sigma_cond_eval(c, truth, NULL);
			sigma_cond_free(c);
		}
	} else {
		struct sigma_rule *r = NULL;
		enum sigma_category cat;
		struct sigma_event ev = { .cat = SIGMA_CAT_PROCESS_CREATION };

		ev.f[SIGMA_F_IMAGE] = "/usr/bin/wget";
		ev.f[SIGMA_F_COMMANDLINE] = "wget -O /tmp/x http://203.0.113.9/";
		ev.f[SIGMA_F_DESTINATIONIP] = "10.1.2.3";
		if (sigma_rule_load(text, strlen(text), "fuzz", &r, &cat, reason) == 0) {
			struct sigma_set set = { .rules = &r, .n = 1 };
			struct sigma_index *ix = NULL;
			const size_t *cand;

			(void)sigma_rule_match(r, &ev);
			ev.cat = sigma_rule_category(r);
			/* the index never leaves out a rule that matches */
			if (sigma_index_build(&set, &ix) == 0 && sigma_rule_match(r, &ev) &&
			    sigma_index_candidates(ix, &ev, &cand) != 1)
				abort();
			sigma_index_free(ix);
			sigma_rule_free(r);
		}
	}
	free(text);
	return 0;
}
