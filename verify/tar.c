/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify, the tar archive: `custos-verify BUNDLE.tar KEY` reads the
 * archive custos-collector export wrote (POSIX ustar or GNU tar headers,
 * GNU long names) and unpacks it into a new private directory (mkdtemp,
 * 0700) that the usual checks then read, and which is removed afterwards.
 * The archive is untrusted: every 512-byte header is read through a
 * bounded cursor, its checksum checked, and a member is refused, with the
 * whole archive, when its path is absolute, has an empty, "." or ".."
 * part, or characters outside [A-Za-z0-9._+/-], lies outside the one
 * top-level directory, names a member seen before, is anything but a
 * regular file or a directory (symlinks, hard links, devices, pax
 * headers), or is larger than VR_TAR_MEMBER_MAX or than what the archive
 * still holds. Nothing is written outside the private directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "verify.h"

#define TAR_BLOCK 512
#define TAR_NAME_MAX 1024

/* A bounded view of one header block. */
struct tcur {
	const uint8_t *p;
	size_t n;
};

/* The field [off, off+len) as a NUL-terminated string. Returns 0, or -1
 * when it does not lie in the block or fill out. */
static int tcur_str(const struct tcur *c, size_t off, size_t len, char *out, size_t cap)
{
	size_t i;

	if (off > c->n || len > c->n - off || len >= cap)
		return -1;
	for (i = 0; i < len && c->p[off + i]; i++)
		out[i] = (char)c->p[off + i];
	out[i] = 0;
	return 0;
}

/* An octal field: digits 0-7, then NUL or spaces. OUT: *v. Returns 0 or -1
 * (base-256 sizes, larger than any member we accept, are refused). */
static int tcur_octal(const struct tcur *c, size_t off, size_t len, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	if (off > c->n || len > c->n - off)
		return -1;
	while (i < len && c->p[off + i] == ' ')
		i++;
	for (; i < len && c->p[off + i] >= '0' && c->p[off + i] <= '7'; i++) {
		if (*v >> 60)
			return -1;
		*v = *v * 8 + (uint64_t)(c->p[off + i] - '0');
	}
	for (; i < len; i++)
		if (c->p[off + i] != 0 && c->p[off + i] != ' ')
			return -1;
	return 0;
}

struct untar {
	int fd;
	const char *tar;
	char *dir;			/* the private directory */
	char top[256];			/* the archive's one top-level directory */
	json_t *names;			/* members seen */
	uint64_t left;			/* bytes of the archive not yet read */
	char *why;
	size_t why_n;
};

static int refuse(struct untar *u, const char *name, const char *what)
{
	snprintf(u->why, u->why_n, "%s: member '%.200s': %s", u->tar, name, what);
	return -1;
}

static int read_full(struct untar *u, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = read(u->fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
		u->left -= (uint64_t)r < u->left ? (uint64_t)r : u->left;
	}
	return 0;
}

/* The path rules of the header comment; strips nothing. Returns 0 or -1. */
static int path_safe(const char *s)
{
	size_t n = strlen(s);
	const char *part = s;

	if (n == 0 || n >= TAR_NAME_MAX || s[0] == '/')
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+/-",
			    s[i]))
			return -1;
	while (*part) {
		size_t len = strcspn(part, "/");

		if (len == 0 || (len == 1 && part[0] == '.') ||
		    (len == 2 && part[0] == '.' && part[1] == '.'))
			return -1;
		part += len;
		if (*part == '/')
			part++;
	}
	return 0;
}

/* Check a member's name and record it. OUT: rel (below the private dir). */
static int member(struct untar *u, char *name, int is_dir, char rel[TAR_NAME_MAX])
{
	size_t n = strlen(name), t;

	if (is_dir && n && name[n - 1] == '/')
		name[--n] = 0;
	if (path_safe(name))
		return refuse(u, name, "unsafe path (absolute, empty, '.' or '..' part, or "
			      "characters outside [A-Za-z0-9._+/-]): path traversal refused");
	t = strcspn(name, "/");
	if (!u->top[0]) {
		if (!is_dir || name[t] || t >= sizeof(u->top))
			return refuse(u, name, "the archive must begin with the bundle's directory");
		memcpy(u->top, name, t + 1);
	} else if (strncmp(name, u->top, t) != 0 || u->top[t] != 0 || name[t] != '/') {
		return refuse(u, name, "outside the bundle's directory");
	}
	if (json_object_get(u->names, name))
		return refuse(u, name, "a second member of the same name");
	if (json_object_set_new(u->names, name, json_true()))
		return refuse(u, name, "out of memory");
	snprintf(rel, TAR_NAME_MAX, "%s", name);
	return 0;
}

static int extract(struct untar *u, const char *rel, int is_dir, uint64_t size)
{
	char path[VR_PATH_MAX], buf[65536];
	uint64_t left = size;
	int fd, ok = 1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", u->dir, rel) >= sizeof(path))
		return refuse(u, rel, "path too long");
	if (is_dir)
		return mkdir(path, 0700) == 0 ? 0 : refuse(u, rel, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return refuse(u, rel, errno == ENOENT ? "its directory is not in the archive "
			      "before it" : strerror(errno));
	while (ok && left) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		ok = read_full(u, buf, k) == 0 && write(fd, buf, k) == (ssize_t)k;
		left -= k;
	}
	if (close(fd) != 0 || !ok)
		return refuse(u, rel, "truncated archive, or cannot write the copy");
	if (size % TAR_BLOCK)	/* padding to the block */
		return read_full(u, buf, TAR_BLOCK - size % TAR_BLOCK) ?
			refuse(u, rel, "truncated archive") : 0;
	return 0;
}

/* Verify the header checksum (sum of the bytes, the field as spaces). */
static int checksum_ok(const struct tcur *c)
{
	uint64_t want, sum = 0;

	if (tcur_octal(c, 148, 8, &want))
		return 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += i >= 148 && i < 156 ? ' ' : c->p[i];
	return sum == want;
}

/* One header; *done set at the end-of-archive block. */
static int one(struct untar *u, char *longname, int *done)
{
	uint8_t h[TAR_BLOCK];
	struct tcur c = { h, sizeof(h) };
	char name[TAR_NAME_MAX], prefix[160], magic[8], rel[TAR_NAME_MAX];
	uint64_t size;
	int type, is_dir;

	if (read_full(u, h, sizeof(h)))
		return refuse(u, "-", "truncated archive (no end-of-archive block)");
	if (h[0] == 0 && memcmp(h, h + 1, TAR_BLOCK - 1) == 0)
		return *done = 1, 0;	/* a zero block: the end of the archive */
	if (!checksum_ok(&c) || tcur_str(&c, 257, 5, magic, sizeof(magic)) ||
	    strcmp(magic, "ustar") != 0 || (h[262] != 0 && h[262] != ' '))
		return refuse(u, "-", "not a ustar header (bad checksum or magic)");
	tcur_str(&c, 0, 100, name, sizeof(name));
	if (h[263] == '0' && h[264] == '0' && !tcur_str(&c, 345, 155, prefix, sizeof(prefix)) &&
	    prefix[0]) {	/* POSIX ustar: prefix/name */
		char full[TAR_NAME_MAX];

		if ((size_t)snprintf(full, sizeof(full), "%s/%s", prefix, name) >= sizeof(full))
			return refuse(u, name, "name too long");
		snprintf(name, sizeof(name), "%s", full);
	}
	if (longname[0]) {
		snprintf(name, sizeof(name), "%s", longname);
		longname[0] = 0;
	}
	type = h[156];
	if (tcur_octal(&c, 124, 12, &size) || size > VR_TAR_MEMBER_MAX || size > u->left)
		return refuse(u, name, "oversized member (larger than the limit or than the "
			      "archive)");
	if (type == 'L') {	/* GNU long name: the data is the next member's name */
		size_t padded = (size_t)(size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;

		if (size == 0 || size >= TAR_NAME_MAX || padded > sizeof(name) ||
		    read_full(u, name, padded))
			return refuse(u, "-", "a GNU long name that is empty, too long or truncated");
		name[size] = 0;
		snprintf(longname, TAR_NAME_MAX, "%s", name);
		return 0;
	}
	if (type != '0' && type != 0 && type != '5')
		return refuse(u, name, type == '2' ? "a symbolic link: refused" : type == '1' ?
			      "a hard link: refused" : "not a regular file or directory: refused");
	is_dir = type == '5';
	if (is_dir && size)
		return refuse(u, name, "a directory with data");
	if (member(u, name, is_dir, rel))
		return -1;
	return extract(u, rel, is_dir, size);
}

int vr_tar_unpack(const char *tar, char *tmp, size_t tmp_n, char *dir, size_t dir_n, char *why,
		  size_t why_n)
{
	struct untar u = { .tar = tar, .dir = tmp, .why = why, .why_n = why_n };
	char longname[TAR_NAME_MAX] = "";
	const char *base = getenv("TMPDIR");
	struct stat st;
	int done = 0, ret = -1;

	why[0] = 0;
	u.fd = open(tar, O_RDONLY | O_CLOEXEC);
	if (u.fd < 0 || fstat(u.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_n, "%s: cannot read: %s", tar, strerror(errno));
		goto out;
	}
	u.left = (uint64_t)st.st_size;
	if ((size_t)snprintf(tmp, tmp_n, "%s/custos-verify.XXXXXX", base && base[0] == '/' ?
			     base : "/tmp") >= tmp_n || !mkdtemp(tmp)) {
		snprintf(why, why_n, "cannot make a private directory to unpack %s", tar);
		tmp[0] = 0;
		goto out;
	}
	u.names = json_object();
	while (u.names && !done)
		if (one(&u, longname, &done))
			goto out;
	if (!u.top[0]) {
		snprintf(why, why_n, "%s: an empty archive", tar);
		goto out;
	}
	if ((size_t)snprintf(dir, dir_n, "%s/%s", tmp, u.top) < dir_n)
		ret = 0;
out:
	json_decref(u.names);
	if (u.fd >= 0)
		close(u.fd);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

void vr_tar_cleanup(const char *tmp)
{
	if (tmp && tmp[0])
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
