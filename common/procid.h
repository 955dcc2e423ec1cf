/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procid: the stable process id, one definition for the agent and the
 * collector (docs/format.md 2.5): a process is named by the boot it ran
 * in, its start time and its pid, so that a pid reused later (or after
 * a reboot) names another process.
 */
#ifndef CUSTOS_PROCID_H
#define CUSTOS_PROCID_H

#include <stddef.h>
#include <stdint.h>

#define PROCID_BOOT_ID_LEN 16
#define PROCID_STR_MAX 64	/* "xxxxxxxx-<20 digits>-<20 digits>" and NUL */

/* Write "<first 4 bytes of boot_id, lower-case hex>-<start_ns>-<pid>"
 * (decimal) to out. OUT: out (NUL-terminated). Returns 0, or
 * -CUSTOS_ERR_INVAL when start_ns is 0 (unknown: no id) or cap is smaller
 * than PROCID_STR_MAX (out is then "" if cap > 0). */
int procid_format(char *out, size_t cap, const uint8_t boot_id[PROCID_BOOT_ID_LEN],
		  uint64_t start_ns, uint64_t pid);

#endif
