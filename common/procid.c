/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procid: the stable process id (procid.h; docs/format.md 2.5).
 */
#include <stdio.h>

#include "error.h"
#include "procid.h"

int procid_format(char *out, size_t cap, const uint8_t boot_id[PROCID_BOOT_ID_LEN],
		  uint64_t start_ns, uint64_t pid)
{
	if (cap > 0)
		out[0] = '\0';
	if (cap < PROCID_STR_MAX || start_ns == 0)
		return -CUSTOS_ERR_INVAL;
	snprintf(out, cap, "%02x%02x%02x%02x-%llu-%llu", boot_id[0], boot_id[1], boot_id[2],
		 boot_id[3], (unsigned long long)start_ns, (unsigned long long)pid);
	return 0;
}
