/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Numbers from text (command lines, configuration files), checked the one
 * way every program here checks them: decimal digits only, no sign, no
 * space, nothing after them, no overflow, within given bounds.
 */
#ifndef CUSTOS_NUMBER_H
#define CUSTOS_NUMBER_H

#include <stdint.h>

/* Parse s as a decimal number in [min, max]. OUT: *out when 0 is
 * returned (untouched otherwise). Returns 0 or -CUSTOS_ERR_INVAL (NULL,
 * empty, not all digits, out of range). */
int custos_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
