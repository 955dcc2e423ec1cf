/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: boot id, realtime-minus-boottime offset, adjtimex NTP state and
 * clock step detection for the agent (clock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "clock.h"
#include "error.h"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

int clock_boot_id(uint8_t id[CUSTOS_BOOT_ID_LEN])
{
	char text[64];
	size_t bin_len = 0;
	ssize_t n;
	int fd = open(BOOT_ID_PATH, O_RDONLY | O_CLOEXEC);

	memset(id, 0, CUSTOS_BOOT_ID_LEN);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -CUSTOS_ERR_IO;
	text[n] = '\0';
	if (text[n - 1] == '\n')
		text[--n] = '\0';
	/* "8-4-4-4-12" hex digits: 36 characters, 16 bytes. */
	if (n != 36 || sodium_hex2bin(id, CUSTOS_BOOT_ID_LEN, text, (size_t)n, "-", &bin_len,
				      NULL) != 0 || bin_len != CUSTOS_BOOT_ID_LEN)
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

uint64_t clock_boot_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_BOOTTIME, &t);
	return ts_ns(&t);
}

int clock_sample(struct clock_sample *s)
{
	struct timespec b1, r, b2;
	struct timex tx;
	int state;

	memset(s, 0, sizeof(*s));
	if (clock_gettime(CLOCK_BOOTTIME, &b1) || clock_gettime(CLOCK_REALTIME, &r) ||
	    clock_gettime(CLOCK_BOOTTIME, &b2))
		return -CUSTOS_ERR_IO;
	s->boot_ns = ts_ns(&b1) + (ts_ns(&b2) - ts_ns(&b1)) / 2;
	s->offset_ns = (int64_t)(ts_ns(&r) - s->boot_ns);
	memset(&tx, 0, sizeof(tx));	/* modes 0: read only */
	state = adjtimex(&tx);
	if (state < 0)
		return -CUSTOS_ERR_IO;
	s->ntp_synced = state != TIME_ERROR;
	s->ntp_maxerror_us = tx.maxerror < 0 ? 0 : (uint64_t)tx.maxerror;
	s->ntp_esterror_us = tx.esterror < 0 ? 0 : (uint64_t)tx.esterror;
	s->ntp_status = (uint64_t)(unsigned)tx.status;
	return 0;
}

void clock_to_header(const struct clock_sample *s, struct batch_header *h)
{
	h->clock_offset_ns = s->offset_ns;
	h->sealed_boot_ns = s->boot_ns;
	h->ntp_synced = s->ntp_synced;
	h->ntp_maxerror_us = s->ntp_maxerror_us;
	h->ntp_esterror_us = s->ntp_esterror_us;
	h->ntp_status = s->ntp_status;
}

bool clock_step_check(const struct clock_sample *old, const struct clock_sample *now,
		      int64_t threshold_ns, struct custos_record *rec)
{
	int64_t d = now->offset_ns - old->offset_ns;

	if (d <= threshold_ns && d >= -threshold_ns)
		return false;
	memset(rec, 0, sizeof(*rec));
	rec->kind = CUSTOS_REC_CLOCK_STEP;
	rec->ts_ns = now->boot_ns;
	rec->u.agent.offset_old_ns = old->offset_ns;
	rec->u.agent.offset_new_ns = now->offset_ns;
	rec->u.agent.ntp_synced = now->ntp_synced;
	rec->u.agent.ntp_maxerror_us = now->ntp_maxerror_us;
	rec->u.agent.ntp_esterror_us = now->ntp_esterror_us;
	return true;
}
