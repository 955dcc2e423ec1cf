/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Append-only segment files of signed batches (format, invariants and
 * crash behaviour in archive.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "archive.h"
#include "collector.h"
#include "error.h"

static int seg_path(char path[COLL_PATH_MAX], const char *dir, uint32_t seg)
{
	int n = snprintf(path, COLL_PATH_MAX, "%s/archive/seg-%08u", dir, seg);

	return n < 0 || n >= COLL_PATH_MAX ? -CUSTOS_ERR_INVAL : 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -CUSTOS_ERR_IO;
	ret = fsync(fd) == 0 ? 0 : -CUSTOS_ERR_IO;
	close(fd);
	return ret;
}

/* Open (creating when create is set) segment seg for appending. */
static int seg_open(struct archive *a, uint32_t seg, int create)
{
	char path[COLL_PATH_MAX], adir[COLL_PATH_MAX];

	if (seg_path(path, a->dir, seg) || coll_path(adir, a->dir, "archive"))
		return -CUSTOS_ERR_INVAL;
	archive_close(a);
	a->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT | O_EXCL : 0),
		     0600);
	if (a->fd < 0) {
		coll_log("%s: cannot open: %s", path, strerror(errno));
		return -CUSTOS_ERR_IO;
	}
	if (create && (fsync(a->fd) != 0 || fsync_dir(adir) != 0)) {
		archive_close(a);
		return -CUSTOS_ERR_IO;
	}
	a->seg = seg;
	return 0;
}

int archive_open(struct archive *a, const char *dir, uint32_t seg, uint64_t off, int torn)
{
	char path[COLL_PATH_MAX];
	struct stat st;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (snprintf(a->dir, sizeof(a->dir), "%s", dir) >= (int)sizeof(a->dir) ||
	    seg_path(path, dir, seg))
		return -CUSTOS_ERR_INVAL;
	a->seg = seg;
	a->off = off;
	a->torn = torn;
	a->seg_max = ARCHIVE_SEGMENT_MAX;
	if (torn || stat(path, &st) != 0)
		return 0;	/* the first append creates a segment */
	if ((uint64_t)st.st_size != off) {
		coll_log("%s: %lld bytes where %llu were expected", path, (long long)st.st_size,
			 (unsigned long long)off);
		return -CUSTOS_ERR_IO;
	}
	return seg_open(a, seg, 0);
}

void archive_close(struct archive *a)
{
	if (a && a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
}

int archive_sync(struct archive *a)
{
	if (!a->dirty)
		return 0;
	if (a->fd < 0 || fdatasync(a->fd) != 0) {
		coll_log("archive: segment %u: fsync failed: %s", a->seg, strerror(errno));
		a->torn = 1;
		return -CUSTOS_ERR_IO;
	}
	a->dirty = 0;
	return 0;
}

/* Pick the segment this record goes to (invariant 1); records written and
 * not yet synced in the current segment are synced before it is left. */
static int seg_for(struct archive *a, size_t rec)
{
	uint32_t next = a->seg + (a->fd >= 0 || a->torn ? 1 : 0);

	if (a->fd >= 0 && !a->torn && (a->off == 0 || a->off + rec <= a->seg_max))
		return 0;
	if (archive_sync(a))
		return -CUSTOS_ERR_IO;
	if (a->fd < 0 && !a->torn) {
		char path[COLL_PATH_MAX];
		struct stat st;
		if (seg_path(path, a->dir, a->seg))
			return -CUSTOS_ERR_INVAL;
		next = a->seg;
		if (stat(path, &st) == 0)
			return seg_open(a, a->seg, 0);
	}
	if (seg_open(a, next, 1))
		return -CUSTOS_ERR_IO;
	a->off = 0;
	a->torn = 0;
	return 0;
}

int archive_write(struct archive *a, const uint8_t *batch, size_t n, uint64_t received_ns,
		  struct archive_loc *loc, uint8_t leaf[MERKLE_HASH_LEN])
{
	uint8_t head[ARCHIVE_HEAD_LEN];
	struct iovec iov[3];
	size_t rec = n + ARCHIVE_OVERHEAD;
	ssize_t w;

	if (n == 0 || n > UINT32_MAX - ARCHIVE_OVERHEAD)
		return -CUSTOS_ERR_INVAL;
	if (seg_for(a, rec))
		return -CUSTOS_ERR_IO;
	merkle_leaf_hash(batch, n, leaf);
	memcpy(head, ARCHIVE_MAGIC, 4);
	head[4] = (uint8_t)(n >> 24);
	head[5] = (uint8_t)(n >> 16);
	head[6] = (uint8_t)(n >> 8);
	head[7] = (uint8_t)n;
	put_be64(head + 8, received_ns);
	iov[0] = (struct iovec){ head, sizeof(head) };
	iov[1] = (struct iovec){ (void *)batch, n };
	iov[2] = (struct iovec){ leaf, MERKLE_HASH_LEN };
	w = pwritev(a->fd, iov, 3, (off_t)a->off);
	if (w != (ssize_t)rec) {
		coll_log("archive: segment %u at %llu: write failed: %s", a->seg,
			 (unsigned long long)a->off, w < 0 ? strerror(errno) : "short write");
		a->torn = 1;
		return -CUSTOS_ERR_IO;
	}
	a->dirty = 1;
	loc->seg = a->seg;
	loc->off = a->off;
	loc->len = (uint32_t)n;
	a->off += rec;
	return 0;
}

int archive_append(struct archive *a, const uint8_t *batch, size_t n, uint64_t received_ns,
		   struct archive_loc *loc, uint8_t leaf[MERKLE_HASH_LEN])
{
	int ret = archive_write(a, batch, n, received_ns, loc, leaf);

	return ret ? ret : archive_sync(a);
}

int archive_read(const char *dir, uint32_t seg, uint64_t off, struct buf *out,
		 uint64_t *received_ns, uint8_t leaf[MERKLE_HASH_LEN], uint64_t *rec_len,
		 int *missing)
{
	char path[COLL_PATH_MAX];
	uint8_t head[ARCHIVE_HEAD_LEN], trailer[MERKLE_HASH_LEN];
	uint32_t n;
	ssize_t r;
	int fd, ret;

	*missing = 0;
	buf_reset(out);
	if (seg_path(path, dir, seg))
		return -CUSTOS_ERR_INVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*missing = errno == ENOENT;
		return -CUSTOS_ERR_IO;
	}
	r = pread(fd, head, sizeof(head), (off_t)off);
	ret = r == 0 ? -CUSTOS_ERR_AGAIN : r < 0 ? -CUSTOS_ERR_IO
		: r < (ssize_t)sizeof(head) ? -CUSTOS_ERR_TRUNCATED : 0;
	if (!ret && memcmp(head, ARCHIVE_MAGIC, 4) != 0)
		ret = -CUSTOS_ERR_MALFORMED;
	if (ret)
		goto out;
	n = load_be32(head + 4);
	*received_ns = get_be64(head + 8);
	ret = n == 0 ? -CUSTOS_ERR_MALFORMED : buf_reserve(out, n);
	if (ret)
		goto out;
	r = pread(fd, out->data, n, (off_t)(off + ARCHIVE_HEAD_LEN));
	if (r == (ssize_t)n)
		r = pread(fd, trailer, sizeof(trailer), (off_t)(off + ARCHIVE_HEAD_LEN + n));
	else if (r >= 0)
		r = 0;
	ret = r < 0 ? -CUSTOS_ERR_IO : r < (ssize_t)sizeof(trailer) ? -CUSTOS_ERR_TRUNCATED : 0;
	if (ret)
		goto out;
	out->len = n;
	merkle_leaf_hash(out->data, n, leaf);
	if (memcmp(leaf, trailer, sizeof(trailer)) != 0)
		ret = -CUSTOS_ERR_TRUNCATED;
	*rec_len = (uint64_t)n + ARCHIVE_OVERHEAD;
out:
	if (ret)
		buf_reset(out);
	close(fd);
	return ret;
}
