/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The custody log: leaves on disk, recovery after a crash, and signed
 * tree heads (format, invariants and crash behaviour in custody.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "batch.h"
#include "custody.h"
#include "error.h"

static void entry_encode(uint8_t e[CUSTODY_ENTRY_LEN], const uint8_t hash[MERKLE_HASH_LEN],
			 const struct archive_loc *l)
{
	memcpy(e, hash, MERKLE_HASH_LEN);
	for (int i = 0; i < 4; i++)
		e[32 + i] = (uint8_t)(l->seg >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		e[36 + i] = (uint8_t)(l->off >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		e[44 + i] = (uint8_t)(l->len >> (24 - 8 * i));
}

static void entry_decode(const uint8_t e[CUSTODY_ENTRY_LEN], uint8_t hash[MERKLE_HASH_LEN],
			 struct archive_loc *l)
{
	memcpy(hash, e, MERKLE_HASH_LEN);
	l->seg = load_be32(e + 32);
	l->off = (uint64_t)load_be32(e + 36) << 32 | load_be32(e + 40);
	l->len = load_be32(e + 44);
}

static int grow(struct custody *c)
{
	uint64_t cap = c->cap ? 2 * c->cap : 1024;
	void *h, *l;

	if (c->size + c->pending < c->cap)
		return 0;
	h = realloc(c->hash, cap * MERKLE_HASH_LEN);
	if (h)
		c->hash = h;
	l = h ? realloc(c->loc, cap * sizeof(*c->loc)) : NULL;
	if (!l)
		return -CUSTOS_ERR_NOMEM;
	c->loc = l;
	c->cap = cap;
	return 0;
}

/* Append an entry to the leaves file and to memory (invariant 1). */
static int entry_append(struct custody *c, const uint8_t hash[MERKLE_HASH_LEN],
			const struct archive_loc *l)
{
	uint8_t e[CUSTODY_ENTRY_LEN];

	if (grow(c))
		return -CUSTOS_ERR_NOMEM;
	entry_encode(e, hash, l);
	if (pwrite(c->fd, e, sizeof(e), (off_t)(c->size * CUSTODY_ENTRY_LEN)) != (ssize_t)sizeof(e) ||
	    fdatasync(c->fd) != 0) {
		coll_log("custody/leaves: writing leaf %llu failed: %s; no more batches are "
			 "accepted until a restart recovers the log", (unsigned long long)c->size,
			 strerror(errno));
		c->failed = 1;
		return -CUSTOS_ERR_IO;
	}
	memcpy(c->hash[c->size], hash, MERKLE_HASH_LEN);
	c->loc[c->size++] = *l;
	return 0;
}

static int load_entries(struct custody *c)
{
	uint8_t e[CUSTODY_ENTRY_LEN];
	struct stat st;
	uint64_t whole;

	if (fstat(c->fd, &st) != 0)
		return -CUSTOS_ERR_IO;
	whole = (uint64_t)st.st_size / CUSTODY_ENTRY_LEN;
	if ((uint64_t)st.st_size % CUSTODY_ENTRY_LEN) {
		coll_log("custody/leaves: a torn entry after leaf %llu (never acknowledged) is cut off",
			 (unsigned long long)whole);
		if (ftruncate(c->fd, (off_t)(whole * CUSTODY_ENTRY_LEN)) != 0 || fsync(c->fd) != 0)
			return -CUSTOS_ERR_IO;
	}
	for (uint64_t i = 0; i < whole; i++) {
		if (grow(c))
			return -CUSTOS_ERR_NOMEM;
		if (pread(c->fd, e, sizeof(e), (off_t)(i * CUSTODY_ENTRY_LEN)) != (ssize_t)sizeof(e))
			return -CUSTOS_ERR_IO;
		entry_decode(e, c->hash[i], &c->loc[i]);
		c->size++;
	}
	return 0;
}

/* Adopt complete records after the last leaf; position the archive. */
static int recover(struct custody *c)
{
	struct buf b;
	uint8_t leaf[MERKLE_HASH_LEN];
	uint64_t recv, rec_len, off = 0;
	uint32_t seg = 0;
	int missing, ret, torn = 0;
	char next[COLL_PATH_MAX];
	struct stat st;

	if (c->size) {
		const struct archive_loc *l = &c->loc[c->size - 1];
		seg = l->seg;
		off = l->off + l->len + ARCHIVE_OVERHEAD;
	}
	buf_init(&b, CUSTOS_SIGNED_MAX);
	for (;;) {
		ret = archive_read(c->dir, seg, off, &b, &recv, leaf, &rec_len, &missing);
		if (!ret) {
			struct archive_loc l = { seg, off, (uint32_t)b.len };
			ret = entry_append(c, leaf, &l);
			if (ret)
				break;
			c->adopted++;
			off += rec_len;
			continue;
		}
		if (ret == -CUSTOS_ERR_IO && missing && off == 0) {
			ret = 0;
			break;
		}
		if (ret != -CUSTOS_ERR_AGAIN && ret != -CUSTOS_ERR_TRUNCATED &&
		    ret != -CUSTOS_ERR_MALFORMED)
			break;
		torn = ret != -CUSTOS_ERR_AGAIN;
		if (snprintf(next, sizeof(next), "%s/archive/seg-%08u", c->dir, seg + 1) >=
		    (int)sizeof(next)) {
			ret = -CUSTOS_ERR_INVAL;
			break;
		}
		if (stat(next, &st) == 0) {
			if (torn)
				coll_log("archive segment %u: torn record at %llu skipped", seg,
					 (unsigned long long)off);
			seg++;
			off = 0;
			continue;
		}
		if (torn)
			coll_log("archive segment %u: torn record at %llu (never acknowledged); "
				 "new batches go to segment %u", seg, (unsigned long long)off, seg + 1);
		ret = 0;
		break;
	}
	buf_free(&b);
	if (!ret)
		ret = archive_open(&c->ar, c->dir, seg, off, torn);
	return ret;
}

int custody_open(struct custody *c, const char *dir)
{
	char path[COLL_PATH_MAX];
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ar.fd = -1;
	c->signed_size = UINT64_MAX;
	if (snprintf(c->dir, sizeof(c->dir), "%s", dir) >= (int)sizeof(c->dir) ||
	    coll_path(path, dir, "custody/leaves"))
		return -CUSTOS_ERR_INVAL;
	c->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->fd < 0) {
		coll_log("%s: cannot open: %s", path, strerror(errno));
		return -CUSTOS_ERR_IO;
	}
	ret = load_entries(c);
	if (!ret)
		ret = recover(c);
	if (!ret && c->adopted)
		coll_log("custody log: %llu archived batch(es) without a leaf adopted as leaves "
			 "(crash after archiving, before the log entry)",
			 (unsigned long long)c->adopted);
	return ret;
}

int custody_open_readonly(struct custody *c, const char *dir, uint64_t want)
{
	char path[COLL_PATH_MAX];
	uint8_t ent[CUSTODY_ENTRY_LEN];
	struct stat st;
	uint64_t n;
	FILE *f = NULL;
	int ret = -CUSTOS_ERR_IO;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ar.fd = -1;
	if (snprintf(c->dir, sizeof(c->dir), "%s", dir) >= (int)sizeof(c->dir) ||
	    coll_path(path, dir, "custody/leaves") ||
	    (want != CUSTODY_COMPLETE && want > (UINT64_C(1) << 40)))
		return -CUSTOS_ERR_INVAL;
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) != 0)
		goto out;
	n = (uint64_t)st.st_size / CUSTODY_ENTRY_LEN;	/* an entry being written: not yet */
	if (want != CUSTODY_COMPLETE) {
		if (n < want)
			goto out;	/* the head covers more leaves than the file holds */
		n = want;
	}
	c->hash = malloc((size_t)(n ? n : 1) * MERKLE_HASH_LEN);
	c->loc = malloc((size_t)(n ? n : 1) * sizeof(*c->loc));
	if (!c->hash || !c->loc) {
		ret = -CUSTOS_ERR_NOMEM;
		goto out;
	}
	for (c->size = 0; c->size < n; c->size++) {
		if (fread(ent, 1, sizeof(ent), f) != sizeof(ent))
			goto out;
		entry_decode(ent, c->hash[c->size], &c->loc[c->size]);
	}
	c->cap = n;
	ret = 0;
out:
	if (f)
		fclose(f);
	return ret;
}

void custody_close(struct custody *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	archive_close(&c->ar);
	free(c->hash);
	free(c->loc);
	c->hash = NULL;
	c->loc = NULL;
	c->size = c->cap = 0;
}

int custody_stage(struct custody *c, const uint8_t *batch, size_t n, uint64_t received_ns,
		  uint64_t *leaf)
{
	uint64_t i = c->size + c->pending;
	int ret;

	if (c->failed)
		return -CUSTOS_ERR_IO;
	if (grow(c))
		return -CUSTOS_ERR_NOMEM;
	ret = archive_write(&c->ar, batch, n, received_ns, &c->loc[i], c->hash[i]);
	if (ret) {
		c->failed = 1;
		return ret;
	}
	c->pending++;
	*leaf = i;
	return 0;
}

/* The staged entries, in one write after their records are synced
 * (invariant 1), then synced themselves (invariant 3). */
int custody_sync(struct custody *c)
{
	uint8_t *e;
	size_t len = (size_t)c->pending * CUSTODY_ENTRY_LEN;
	int ret = 0;

	if (c->failed)
		return -CUSTOS_ERR_IO;
	if (!c->pending)
		return 0;
	e = malloc(len);
	if (!e)
		return -CUSTOS_ERR_NOMEM;
	for (uint64_t k = 0; k < c->pending; k++)
		entry_encode(e + k * CUSTODY_ENTRY_LEN, c->hash[c->size + k], &c->loc[c->size + k]);
	if (archive_sync(&c->ar) != 0) {
		ret = -CUSTOS_ERR_IO;
	} else if (pwrite(c->fd, e, len, (off_t)(c->size * CUSTODY_ENTRY_LEN)) != (ssize_t)len ||
		   fdatasync(c->fd) != 0) {
		coll_log("custody/leaves: writing leaves %llu-%llu failed: %s; no more batches are "
			 "accepted until a restart recovers the log", (unsigned long long)c->size,
			 (unsigned long long)(c->size + c->pending - 1), strerror(errno));
		ret = -CUSTOS_ERR_IO;
	}
	free(e);
	if (ret) {
		c->failed = 1;
		c->pending = 0;
		return ret;
	}
	c->size += c->pending;
	c->pending = 0;
	return 0;
}

int custody_append(struct custody *c, const uint8_t *batch, size_t n, uint64_t received_ns,
		   uint64_t *leaf)
{
	int ret = custody_stage(c, batch, n, received_ns, leaf);

	return ret ? ret : custody_sync(c);
}

int custody_read(const struct custody *c, uint64_t i, struct buf *out, uint64_t *received_ns)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	uint64_t rec_len;
	int missing, ret;

	if (i >= c->size + c->pending)
		return -CUSTOS_ERR_INVAL;
	ret = archive_read(c->dir, c->loc[i].seg, c->loc[i].off, out, received_ns, leaf, &rec_len,
			   &missing);
	if (!ret && (memcmp(leaf, c->hash[i], MERKLE_HASH_LEN) != 0 || out->len != c->loc[i].len))
		ret = -CUSTOS_ERR_MALFORMED;
	return ret;
}

/* Replace custody/checkpoint with note: temp file, fsync, rename. */
static int write_latest(const struct custody *c, const struct buf *note)
{
	char path[COLL_PATH_MAX], tmp[COLL_PATH_MAX];
	int fd, ok;

	if (coll_path(path, c->dir, "custody/checkpoint") ||
	    coll_path(tmp, c->dir, "custody/checkpoint.tmp"))
		return -CUSTOS_ERR_INVAL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	ok = write(fd, note->data, note->len) == (ssize_t)note->len && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) != 0)
		return -CUSTOS_ERR_IO;
	if (coll_path(tmp, c->dir, "custody"))
		return -CUSTOS_ERR_INVAL;
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ok = fd >= 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -CUSTOS_ERR_IO;
}

/* True when custody/checkpoint already holds exactly this note. */
static int same_as_latest(const struct custody *c, const struct buf *note)
{
	char path[COLL_PATH_MAX], old[CHECKPOINT_MAX];
	ssize_t n = -1;
	int fd;

	if (coll_path(path, c->dir, "custody/checkpoint"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, old, sizeof(old));
		close(fd);
	}
	return n == (ssize_t)note->len && memcmp(old, note->data, note->len) == 0;
}

static int append_all(const struct custody *c, const struct buf *note)
{
	char path[COLL_PATH_MAX];
	int fd, ok;

	if (coll_path(path, c->dir, "custody/checkpoints"))
		return -CUSTOS_ERR_INVAL;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	ok = write(fd, note->data, note->len) == (ssize_t)note->len && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -CUSTOS_ERR_IO;
}

int custody_checkpoint(struct custody *c, const char *name, const struct custos_keypair *kp,
		       int force, struct buf *note)
{
	struct merkle_leaves leaves = { (const uint8_t (*)[MERKLE_HASH_LEN])c->hash, c->size };
	struct checkpoint cp = { .size = c->size };
	struct buf b;
	int ret;

	if (!force && c->signed_size == c->size)
		return 0;
	ret = merkle_root(merkle_leaves_get, &leaves, c->size, cp.root);
	if (ret)
		return ret;
	buf_init(&b, CHECKPOINT_MAX);
	ret = checkpoint_sign(&cp, name, kp, &b);
	if (!ret && c->signed_size != c->size && !same_as_latest(c, &b))
		ret = append_all(c, &b);
	if (!ret)
		ret = write_latest(c, &b);
	if (!ret && note)
		ret = buf_put(note, b.data, b.len);
	if (!ret) {
		c->signed_size = c->size;
		ret = 1;
	}
	buf_free(&b);
	return ret;
}

uint64_t custody_size_on_disk(const char *dir)
{
	char path[COLL_PATH_MAX];
	struct stat st;

	if (coll_path(path, dir, "custody/leaves") || stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size / CUSTODY_ENTRY_LEN;
}
