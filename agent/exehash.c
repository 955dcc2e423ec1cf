/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exehash: executable hashing for exec and snapshot records (exehash.h).
 *   1. A path under "/memfd:" is an anonymous file: status MEMFD.
 *   2. open(O_RDONLY|O_NOFOLLOW|O_NONBLOCK) + fstat: a missing file, or a
 *      file whose (st_dev, st_ino) is not the record's: DELETED. Not a
 *      regular file, or unreadable: ERROR.
 *   3. Cache lookup by (dev, ino, mtime, size, ctime): a hit copies the
 *      earlier result.
 *   4. Larger than max_bytes: TOO_LARGE. Otherwise SHA-256 streamed with
 *      crypto_hash_sha256_update in 64 KiB reads, abandoned (ERROR) past
 *      max_ms; the file must still have its fstat size at the end.
 *   5. The build-id: the first NT_GNU_BUILD_ID note in a PT_NOTE segment
 *      (libelf, read through the same descriptor); none: empty.
 * The cache is direct-mapped: one slot per key hash, replaced on
 * collision, so its memory is fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "error.h"
#include "exehash.h"

#define CHUNK (64 * 1024)

struct slot {
	int used;
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	uint8_t sha256[CUSTOS_HASH_LEN];
	uint8_t build_id[CUSTOS_BUILD_ID_MAX];
	uint32_t build_id_len;
	uint64_t status;
};

struct exehash {
	uint64_t max_bytes, max_ms;
	struct exehash_stats st;
	uint8_t *chunk;
	struct slot slots[EXEHASH_CACHE_SLOTS];
};

int exehash_open(uint64_t max_bytes, uint64_t max_ms, struct exehash **out)
{
	struct exehash *h;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -CUSTOS_ERR_INVAL;
	h = calloc(1, sizeof(*h));
	if (!h || !(h->chunk = malloc(CHUNK))) {
		free(h);
		return -CUSTOS_ERR_NOMEM;
	}
	h->max_bytes = max_bytes;
	h->max_ms = max_ms;
	*out = h;
	return 0;
}

void exehash_close(struct exehash *h)
{
	if (!h)
		return;
	free(h->chunk);
	free(h);
}

void exehash_get_stats(const struct exehash *h, struct exehash_stats *st)
{
	*st = h->st;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static struct slot *slot_for(struct exehash *h, const struct stat *st)
{
	uint64_t k = (uint64_t)st->st_dev * 0x9e3779b97f4a7c15ull ^ (uint64_t)st->st_ino;

	return &h->slots[(k ^ (k >> 29)) % EXEHASH_CACHE_SLOTS];
}

static int slot_matches(const struct slot *s, const struct stat *st)
{
	return s->used && s->dev == (uint64_t)st->st_dev && s->ino == (uint64_t)st->st_ino &&
	       s->size == (uint64_t)st->st_size && s->mtime_ns == ts_ns(&st->st_mtim) &&
	       s->ctime_ns == ts_ns(&st->st_ctim);
}

/* SHA-256 of the whole file, within the time bound. Returns 0 or -1. */
static int sha256_file(struct exehash *h, int fd, uint64_t size, uint8_t out[CUSTOS_HASH_LEN])
{
	crypto_hash_sha256_state s;
	uint64_t done = 0, deadline = now_ms() + h->max_ms;
	ssize_t n;

	crypto_hash_sha256_init(&s);
	while ((n = pread(fd, h->chunk, CHUNK, (off_t)done)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || now_ms() > deadline)
			return -1;
		crypto_hash_sha256_update(&s, h->chunk, (unsigned long long)n);
		done += (uint64_t)n;
	}
	crypto_hash_sha256_final(&s, out);
	return done == size ? 0 : -1;
}

/* The GNU build-id from the PT_NOTE segments, if any. */
static void build_id(int fd, uint8_t *out, uint32_t *len)
{
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	size_t nph = 0;

	*len = 0;
	if (!e)
		return;
	if (elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &nph) == 0) {
		for (size_t i = 0; i < nph && *len == 0; i++) {
			GElf_Phdr ph;
			GElf_Nhdr nh;
			Elf_Data *d;
			size_t off = 0, name_off, desc_off;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
			while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
				if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
				    memcmp((const char *)d->d_buf + name_off, "GNU", 4) == 0 &&
				    nh.n_descsz > 0 && nh.n_descsz <= CUSTOS_BUILD_ID_MAX) {
					memcpy(out, (const uint8_t *)d->d_buf + desc_off, nh.n_descsz);
					*len = nh.n_descsz;
					break;
				}
			}
		}
	}
	elf_end(e);
}

static void take(struct exehash *h, int fd, const struct stat *st, struct custos_exec *x)
{
	struct slot *s = slot_for(h, st);

	if (slot_matches(s, st)) {
		h->st.cache_hits++;
	} else {
		memset(s, 0, sizeof(*s));
		s->status = CUSTOS_HASH_TOO_LARGE;
		if ((uint64_t)st->st_size <= h->max_bytes) {
			s->status = sha256_file(h, fd, (uint64_t)st->st_size, s->sha256)
					    ? CUSTOS_HASH_ERROR : CUSTOS_HASH_OK;
			if (s->status == CUSTOS_HASH_OK)
				build_id(fd, s->build_id, &s->build_id_len);
			else
				memset(s->sha256, 0, sizeof(s->sha256));
		}
		s->used = s->status != CUSTOS_HASH_ERROR;	/* retry errors */
		s->dev = (uint64_t)st->st_dev;
		s->ino = (uint64_t)st->st_ino;
		s->size = (uint64_t)st->st_size;
		s->mtime_ns = ts_ns(&st->st_mtim);
		s->ctime_ns = ts_ns(&st->st_ctim);
		if (s->status == CUSTOS_HASH_OK)
			h->st.hashed++;
	}
	x->hash_status = s->status;
	memcpy(x->sha256, s->sha256, CUSTOS_HASH_LEN);
	memcpy(x->build_id, s->build_id, s->build_id_len);
	x->build_id_len = s->build_id_len;
}

void exehash_fill(struct exehash *h, struct custos_record *rec)
{
	struct custos_exec *x = &rec->u.exec;
	char path[CUSTOS_PATH_MAX + 1];
	struct stat st;
	int fd;

	if (rec->kind != CUSTOS_REC_EXEC && rec->kind != CUSTOS_REC_SNAPSHOT)
		return;
	memset(x->sha256, 0, sizeof(x->sha256));
	x->build_id_len = 0;
	memcpy(path, x->exe, x->exe_len);
	path[x->exe_len] = '\0';
	if (strncmp(path, "/memfd:", 7) == 0) {
		x->hash_status = CUSTOS_HASH_MEMFD;
	} else if (x->exe_len == 0 || x->exe_truncated || strlen(path) != x->exe_len) {
		x->hash_status = CUSTOS_HASH_ERROR;
	} else if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		x->hash_status = errno == ENOENT ? CUSTOS_HASH_DELETED : CUSTOS_HASH_ERROR;
	} else {
		if (fstat(fd, &st) || !S_ISREG(st.st_mode))
			x->hash_status = CUSTOS_HASH_ERROR;
		else if ((uint64_t)st.st_dev != x->exe_dev || (uint64_t)st.st_ino != x->exe_ino)
			x->hash_status = CUSTOS_HASH_DELETED;	/* another file has the name */
		else
			take(h, fd, &st, x);
		close(fd);
	}
	if (x->hash_status != CUSTOS_HASH_OK)
		h->st.not_taken++;
}
