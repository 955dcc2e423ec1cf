/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify, the comparison of derived files: a write-only stdio
 * stream (fopencookie) that compares every byte written to it with the
 * next bytes of a bundle file, so timeline.jsonl and timeline.csv are
 * checked row by row while the batches are decoded, holding neither the
 * recomputed text nor the file (memory: the stream's buffer and one read
 * buffer). The first difference is kept with its line; vr_cmp_close
 * reports it, or that the file is exactly the text written.
 *
 * Invariants:
 *  1. c->line is 1 + the newlines of the bytes written and found equal so
 *     far; once c->state is not CMP_SAME it no longer changes, so it names
 *     the line of the first difference (what compare did when it held the
 *     whole text).
 *  2. The file is only read forward, never more bytes than were written
 *     (plus one at the end, to see that it ends there too).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "verify.h"

#define CMP_BUF (1u << 16)

enum cmp_state { CMP_SAME, CMP_DIFFER, CMP_MISSING };

struct vr_cmp {
	char rel[128];
	int fd;
	enum cmp_state state;
	size_t line;
	uint8_t got[CMP_BUF];
};

/* Read exactly n bytes (fewer only at the end of the file). Returns how
 * many, or -1 on a read error. */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
	size_t k = 0;

	while (k < n) {
		ssize_t r = read(fd, p + k, n - k);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		k += (size_t)r;
	}
	return (ssize_t)k;
}

static void count_lines(struct vr_cmp *c, const char *p, size_t n)
{
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		c->line++;
		p++;
	}
}

/* The stream's write: compare buf with the file's next bytes. Always
 * takes every byte, so the derivation goes on to its end after a
 * difference (gaps.json still needs every batch). */
static ssize_t cmp_write(void *cookie, const char *buf, size_t n)
{
	struct vr_cmp *c = cookie;

	for (size_t done = 0; c->state == CMP_SAME && done < n;) {
		size_t want = n - done < CMP_BUF ? n - done : CMP_BUF, j = 0;
		ssize_t r = read_full(c->fd, c->got, want);

		if (r < 0)
			r = 0;	/* unreadable from here: a difference */
		while (j < (size_t)r && c->got[j] == (uint8_t)buf[done + j])
			j++;
		count_lines(c, buf + done, j);
		done += j;
		if (j < want)
			c->state = CMP_DIFFER;
	}
	return (ssize_t)n;
}

static int cmp_close_fd(void *cookie)
{
	struct vr_cmp *c = cookie;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return 0;
}

FILE *vr_cmp_open(const struct vr *v, const char *rel, struct vr_cmp **out)
{
	static const cookie_io_functions_t io = { .write = cmp_write, .close = cmp_close_fd };
	char path[VR_PATH_MAX];
	struct vr_cmp *c = calloc(1, sizeof(*c));
	FILE *f = NULL;

	*out = NULL;
	if (!c)
		return NULL;
	snprintf(c->rel, sizeof(c->rel), "%s", rel);
	c->line = 1;
	c->fd = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", v->dir, rel) < sizeof(path))
		c->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (c->fd < 0)
		c->state = CMP_MISSING;
	f = fopencookie(c, "w", io);
	if (!f || setvbuf(f, NULL, _IOFBF, CMP_BUF) != 0) {
		if (f)
			fclose(f);
		else
			cmp_close_fd(c);
		free(c);
		return NULL;
	}
	*out = c;
	return f;
}

void vr_cmp_close(struct vr *v, FILE *f, struct vr_cmp *c)
{
	uint8_t one;

	if (!c) {
		if (f)
			fclose(f);
		return;
	}
	if (f && fflush(f) != 0 && c->state == CMP_SAME)	/* the last bytes reach cmp_write */
		c->state = CMP_DIFFER;
	if (c->state == CMP_SAME && read_full(c->fd, &one, 1) != 0)
		c->state = CMP_DIFFER;	/* the file goes on, or cannot be read */
	if (c->state == CMP_MISSING)
		vr_fail(v, c->rel, NULL, "derived from the batches", "missing or unreadable");
	else if (c->state == CMP_DIFFER)
		vr_fail(v, c->rel, NULL, "derived from the batches", "line %zu differs from what "
			"the batches decode to", c->line);
	else
		vr_ok(v, "%s is exactly what the batches decode to", c->rel);
	if (f)
		fclose(f);	/* closes c->fd */
	else
		cmp_close_fd(c);
	free(c);
}

void vr_cmp_discard(FILE *f, struct vr_cmp *c)
{
	if (f)
		fclose(f);
	else if (c)
		cmp_close_fd(c);
	free(c);
}
