/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers every subcommand uses: numbers and times from the command
 * line, paths in the state directory, the directory's writer lock, and the
 * log line format.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "error.h"
#include "number.h"

static int log_ts;

int coll_path(char out[COLL_PATH_MAX], const char *dir, const char *rel)
{
	int n = snprintf(out, COLL_PATH_MAX, "%s/%s", dir, rel);

	return n < 0 || n >= COLL_PATH_MAX ? -CUSTOS_ERR_INVAL : 0;
}

const char *coll_default_dir(void)
{
	const char *d = getenv("CUSTOS_COLLECTOR_DIR");

	return d && *d ? d : "/var/lib/custos/collector";
}

int coll_dir_only_options(int argc, char **argv, const char *name, const char **dir)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	int c;

	*dir = coll_default_dir();
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd')
			goto usage;
		*dir = optarg;
	}
	if (optind == argc)
		return 0;
usage:
	fprintf(stderr, "Usage: custos-collector %s [--dir DIR]\n", name);
	return COLL_EXIT_USAGE;
}

void coll_log_timestamps(int on)
{
	log_ts = on;
}

void coll_log(const char *fmt, ...)
{
	char line[1024], when[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_ts)
		fprintf(stderr, "%s custos-collector: %s\n",
			coll_fmt_time((int64_t)coll_now_ns(), 0, when, sizeof(when)), line);
	else
		fprintf(stderr, "custos-collector: %s\n", line);
}

uint64_t coll_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

char *coll_fmt_time(int64_t unix_ns, int local, char *out, size_t n)
{
	int64_t sec = unix_ns / 1000000000, frac = unix_ns % 1000000000;
	time_t t;
	struct tm tm;
	char zone[16] = "Z";
	size_t len;

	if (frac < 0) {
		frac += 1000000000;
		sec -= 1;
	}
	t = (time_t)sec;
	if (local) {
		localtime_r(&t, &tm);
		int off = (int)(tm.tm_gmtoff / 60) % (24 * 60);
		snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+',
			 abs(off) / 60, abs(off) % 60);
	} else {
		gmtime_r(&t, &tm);
	}
	len = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + len, n - len, ".%09lld%s", (long long)frac, zone);
	return out;
}

/* The fraction and zone after the seconds. */
static int parse_tail(const char *p, int local, int64_t *frac_ns, long *off_s, int *have_zone)
{
	*frac_ns = 0;
	*off_s = 0;
	*have_zone = 0;
	if (*p == '.') {
		int64_t scale = 100000000;
		p++;
		if (*p < '0' || *p > '9')
			return -CUSTOS_ERR_INVAL;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*frac_ns += scale ? (*p - '0') * scale : 0;
	}
	if (*p == 'Z' && p[1] == '\0') {
		*have_zone = 1;
		return 0;
	}
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
		if (hh > 23 || mm > 59)
			return -CUSTOS_ERR_INVAL;
		*off_s = (*p == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
		*have_zone = 1;
		return 0;
	}
	(void)local;
	return *p == '\0' ? 0 : -CUSTOS_ERR_INVAL;
}

int coll_parse_time(const char *s, int local, int64_t *unix_ns)
{
	struct tm tm;
	const char *p;
	int64_t frac;
	long off;
	int zone;
	uint64_t secs;
	time_t t;

	if (custos_parse_u64(s, 0, 9999999999ull, &secs) == 0) {
		*unix_ns = (int64_t)secs * 1000000000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p || parse_tail(p, local, &frac, &off, &zone) != 0)
		return -CUSTOS_ERR_INVAL;
	if (!zone && local) {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else {
		t = timegm(&tm) - off;
	}
	if (t == (time_t)-1)
		return -CUSTOS_ERR_INVAL;
	*unix_ns = (int64_t)t * 1000000000 + frac;
	return 0;
}

int coll_lock_dir(const char *dir)
{
	char path[COLL_PATH_MAX];
	int fd;

	if (coll_path(path, dir, "lock"))
		return -CUSTOS_ERR_INVAL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;
		close(fd);
		return busy ? -CUSTOS_ERR_EXISTS : -CUSTOS_ERR_IO;
	}
	return fd;
}
