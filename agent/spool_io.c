/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool_io: durable writes and the state file of the spool (spool_io.h).
 * The ordering a durable write follows is what spool.c's invariants rest
 * on: the bytes are fsynced before the rename makes the name visible, and
 * the directory is fsynced before the caller goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "error.h"
#include "spool_io.h"

#define STATE_MAGIC "custos spool state v1"
#define PATH_LEN 4200

static void fault(int step)
{
	if (spool_fault_hook)
		spool_fault_hook(step);
}

int spool_io_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -CUSTOS_ERR_IO;
	ret = fsync(fd) ? -CUSTOS_ERR_IO : 0;
	close(fd);
	return ret;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -CUSTOS_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int spool_io_durable_write(const char *dir, const char *name, const uint8_t *p, size_t n,
			   int step0)
{
	char tmp[PATH_LEN], final[PATH_LEN];
	int fd, ret = -CUSTOS_ERR_IO;

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(final, sizeof(final), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	if (step0 == SPOOL_STEP_BATCH_TMP) {
		if (write_all(fd, p, n / 2))
			goto out;
		fault(SPOOL_STEP_BATCH_HALF);
		if (write_all(fd, p + n / 2, n - n / 2))
			goto out;
	} else if (write_all(fd, p, n)) {
		goto out;
	}
	if (fsync(fd))
		goto out;
	fault(step0);
	if (close(fd)) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, final))
		goto out;
	fault(step0 + 1);
	if (spool_io_fsync_dir(dir))
		goto out;
	fault(step0 + 2);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp);
	return ret;
}

/* ---- the state file -------------------------------------------------- */

int spool_io_write_state(const char *dir, const struct spool_statefile *st)
{
	char text[512], hex[2 * CUSTOS_HASH_LEN + 1];
	int n;

	sodium_bin2hex(hex, sizeof(hex), st->last_hash, CUSTOS_HASH_LEN);
	n = snprintf(text, sizeof(text), STATE_MAGIC "\nnext_seq %" PRIu64 "\nlast_hash %s\n"
		     "lost %" PRIu64 "\ngap %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		     st->next_seq, hex, st->lost, st->gap.lost, st->gap.batches, st->gap.from_ns,
		     st->gap.to_ns);
	return spool_io_durable_write(dir, "state", (const uint8_t *)text, (size_t)n,
				      SPOOL_STEP_STATE_TMP);
}

/* "key N" or, with n > 1, "key N N ..." into v[0..n). Returns 0 or -1. */
static int parse_u64_fields(const char *line, const char *key, uint64_t *v, int n)
{
	size_t kl = strlen(key);
	const char *p = line + kl;
	char *end;

	if (strncmp(line, key, kl) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (p[0] != ' ' || p[1] < '0' || p[1] > '9')
			return -1;
		errno = 0;
		v[i] = strtoull(p + 1, &end, 10);
		if (errno)
			return -1;
		p = end;
	}
	return *p ? -1 : 0;
}

/* The "gap" line came later: a state file without it has no pending gap. */
int spool_io_read_state(const char *dir, struct spool_statefile *st)
{
	char path[4200], text[1024], *lines[5], *save = NULL;
	uint64_t gap[4] = { 0 };
	size_t bin_len = 0;
	ssize_t n;
	int fd, i = 0;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/state", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : -CUSTOS_ERR_IO;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return -CUSTOS_ERR_IO;
	text[n] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l && i < 5; l = strtok_r(NULL, "\n", &save))
		lines[i++] = l;
	if (i < 4 || strcmp(lines[0], STATE_MAGIC) != 0 ||
	    parse_u64_fields(lines[1], "next_seq", &st->next_seq, 1) ||
	    strncmp(lines[2], "last_hash ", 10) != 0 ||
	    sodium_hex2bin(st->last_hash, CUSTOS_HASH_LEN, lines[2] + 10, strlen(lines[2] + 10),
			   NULL, &bin_len, NULL) || bin_len != CUSTOS_HASH_LEN ||
	    parse_u64_fields(lines[3], "lost", &st->lost, 1) ||
	    (i == 5 && parse_u64_fields(lines[4], "gap", gap, 4)))
		return -CUSTOS_ERR_MALFORMED;
	st->gap.lost = gap[0];
	st->gap.batches = gap[1];
	st->gap.from_ns = gap[2];
	st->gap.to_ns = gap[3];
	return 0;
}
