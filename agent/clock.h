/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: the clock provenance every batch carries (docs/format.md 3.2
 * keys 2 and 8-13): the boot id, CLOCK_REALTIME - CLOCK_BOOTTIME when
 * sealed, and the kernel's NTP state from adjtimex(2); and the detection
 * of wall-clock steps, which the agent records (CUSTOS_REC_CLOCK_STEP)
 * because a backdated clock is itself evidence.
 */
#ifndef CUSTOS_AGENT_CLOCK_H
#define CUSTOS_AGENT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "record.h"

struct clock_sample {
	uint64_t boot_ns;		/* CLOCK_BOOTTIME */
	int64_t offset_ns;		/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint64_t ntp_synced;		/* adjtimex state is not TIME_ERROR */
	uint64_t ntp_maxerror_us, ntp_esterror_us, ntp_status;
};

/* Read /proc/sys/kernel/random/boot_id (a UUID) as 16 bytes. OUT: id.
 * Returns 0, -CUSTOS_ERR_IO, -CUSTOS_ERR_MALFORMED. */
int clock_boot_id(uint8_t id[CUSTOS_BOOT_ID_LEN]);

/* Take a sample now. The offset is read between two CLOCK_BOOTTIME reads
 * and uses their midpoint. OUT: *s. Returns 0 or -CUSTOS_ERR_IO. */
int clock_sample(struct clock_sample *s);

/* CLOCK_BOOTTIME in ns: the time base of every record. */
uint64_t clock_boot_ns(void);

/* Copy the sample into a batch header's clock fields (keys 8-13). */
void clock_to_header(const struct clock_sample *s, struct batch_header *h);

/* Compare a new sample with the previous one: when the offset moved by more
 * than threshold_ns in either direction, fill *rec with a clock_step record
 * (ts = now's boot ns) and return true; otherwise false. NTP slewing moves
 * the offset by at most 500 ppm, so a threshold of 100 ms between samples a
 * few seconds apart only fires on steps. */
bool clock_step_check(const struct clock_sample *old, const struct clock_sample *now,
		      int64_t threshold_ns, struct custos_record *rec);

#endif
