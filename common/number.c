/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos_parse_u64 (number.h): strtoull with every check a caller would
 * otherwise repeat (strtoull alone accepts a sign, leading space and
 * trailing text, and saturates on overflow).
 */
#include <errno.h>
#include <stdlib.h>

#include "error.h"
#include "number.h"

int custos_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return -CUSTOS_ERR_INVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -CUSTOS_ERR_INVAL;
	*out = v;
	return 0;
}
