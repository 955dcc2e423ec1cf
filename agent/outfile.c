/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outfile: the offline file writer (outfile.h).
 *
 * Invariants:
 *   1. The file is a whole number of BATCH frames, in sequence order, each
 *      batch once, up to the length L named by the newest receipt.
 *   2. A frame is appended at L and fsynced before its receipt
 *      ("custos offline receipt v1 end=<new L>") is made durable, and the
 *      batch leaves the spool only after that (spool.c invariant 4).
 * Crash guarantees: bytes past L (a torn frame, or a whole frame whose
 * receipt was not yet durable) are cut off at the next open; the batch is
 * still spooled and is written again, so the file never holds a partial
 * or repeated batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "frame.h"
#include "outfile.h"

#define RECEIPT_PREFIX "custos offline receipt v1 end="

struct outfile {
	int fd;
	uint64_t len;		/* L of invariant 1 */
	struct spool *sp;
	struct buf sealed, framed, receipt;
};

void outfile_close(struct outfile *of)
{
	if (!of)
		return;
	if (of->fd >= 0)
		close(of->fd);
	buf_free(&of->sealed);
	buf_free(&of->framed);
	buf_free(&of->receipt);
	free(of);
}

/* L from the newest receipt: 0 when none. Returns 0 or an error. */
static int receipt_len(struct outfile *of, uint64_t *len)
{
	char text[128];
	uint64_t seq;
	char *end;
	int ret = spool_last_receipt(of->sp, &of->receipt, &seq);

	*len = 0;
	if (ret <= 0)
		return ret;
	if (of->receipt.len >= sizeof(text))
		return -CUSTOS_ERR_MALFORMED;
	memcpy(text, of->receipt.data, of->receipt.len);
	text[of->receipt.len] = '\0';
	if (strncmp(text, RECEIPT_PREFIX, strlen(RECEIPT_PREFIX)) != 0)
		return -CUSTOS_ERR_MALFORMED;
	if (text[strlen(RECEIPT_PREFIX)] < '0' || text[strlen(RECEIPT_PREFIX)] > '9')
		return -CUSTOS_ERR_MALFORMED;
	errno = 0;
	*len = strtoull(text + strlen(RECEIPT_PREFIX), &end, 10);
	if (errno || strcmp(end, "\n") != 0)
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

/* The spool's claim on its output file: spool_dir/offline holds the file's
 * path, written (and fsynced) before the first byte goes into the file.
 * Returns 1 if the claim is there, 0 if not, -1 on error. */
static int claim(const char *spool_dir, const char *path, int create)
{
	char marker[4200];
	int fd, ret = -1;

	snprintf(marker, sizeof(marker), "%s/offline", spool_dir);
	if (access(marker, F_OK) == 0)
		return 1;
	if (!create)
		return 0;
	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, path, strlen(path)) == (ssize_t)strlen(path) && write(fd, "\n", 1) == 1 &&
	    fsync(fd) == 0)
		ret = 0;
	close(fd);
	if (ret == 0) {
		fd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd))
			ret = -1;
		if (fd >= 0)
			close(fd);
	}
	return ret;
}

static int recover(struct outfile *of, const char *path, const char *spool_dir, char *err,
		   size_t errlen)
{
	struct stat st;
	int ret = receipt_len(of, &of->len);

	if (ret) {
		snprintf(err, errlen, "%s: the spool's newest receipt is not an offline receipt "
			 "for this file: %s", path, custos_strerror(ret));
		return ret;
	}
	if (fstat(of->fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -CUSTOS_ERR_IO;
	}
	if ((uint64_t)st.st_size < of->len) {
		snprintf(err, errlen, "%s: %lld bytes, but its receipts say %" PRIu64
			 ": the file was cut", path, (long long)st.st_size, of->len);
		return -CUSTOS_ERR_MALFORMED;
	}
	if (of->len == 0 && st.st_size > 0 && claim(spool_dir, path, 0) != 1) {
		snprintf(err, errlen, "%s: exists and holds data this spool did not write", path);
		return -CUSTOS_ERR_EXISTS;
	}
	if (claim(spool_dir, path, 1) < 0) {
		snprintf(err, errlen, "%s/offline: %s", spool_dir, strerror(errno));
		return -CUSTOS_ERR_IO;
	}
	if ((uint64_t)st.st_size > of->len) {
		fprintf(stderr, "custos-agent: %s: cutting %" PRIu64 " bytes written after the "
			"last receipt (a crash); those batches are still spooled\n", path,
			(uint64_t)st.st_size - of->len);
		if (ftruncate(of->fd, (off_t)of->len) || fsync(of->fd)) {
			snprintf(err, errlen, "%s: truncating: %s", path, strerror(errno));
			return -CUSTOS_ERR_IO;
		}
	}
	return 0;
}

int outfile_open(const char *path, const char *spool_dir, struct spool *sp,
		 struct outfile **out, char *err, size_t errlen)
{
	struct outfile *of = calloc(1, sizeof(*of));
	int ret;

	*out = NULL;
	err[0] = '\0';
	if (!of)
		return -CUSTOS_ERR_NOMEM;
	of->sp = sp;
	buf_init(&of->sealed, CUSTOS_SEALED_MAX);
	buf_init(&of->framed, CUSTOS_SEALED_MAX + FRAME_HEADER_LEN);
	buf_init(&of->receipt, 4096);
	of->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (of->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -CUSTOS_ERR_IO;
	} else {
		ret = recover(of, path, spool_dir, err, errlen);
	}
	if (ret)
		outfile_close(of);
	else
		*out = of;
	return ret;
}

static int append_at(int fd, uint64_t off, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -CUSTOS_ERR_IO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int move_one(struct outfile *of, const struct spool_entry *e)
{
	char receipt[64];
	int n, ret = spool_read(of->sp, e, &of->sealed);

	if (ret)
		return ret;
	buf_reset(&of->framed);
	ret = frame_write(&of->framed, FRAME_BATCH, of->sealed.data, of->sealed.len);
	if (ret)
		return ret;
	if (append_at(of->fd, of->len, of->framed.data, of->framed.len) || fsync(of->fd))
		return -CUSTOS_ERR_IO;
	n = snprintf(receipt, sizeof(receipt), RECEIPT_PREFIX "%" PRIu64 "\n",
		     of->len + of->framed.len);
	ret = spool_ack(of->sp, e->seq, e->hash, (const uint8_t *)receipt, (size_t)n);
	if (ret == 0)
		of->len += of->framed.len;
	return ret;
}

int outfile_drain(struct outfile *of, uint64_t *moved)
{
	struct spool_entry e;
	uint64_t from = 0;
	int ret;

	*moved = 0;
	while (spool_next(of->sp, from, &e) == 1) {
		ret = move_one(of, &e);
		if (ret)
			return ret;
		from = e.seq + 1;
		(*moved)++;
	}
	return 0;
}
