/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exehash: executable hashing for exec and snapshot records (exehash.h).
 *   0. A failed exec (result < 0) executed nothing: EXEC_FAILED, no file
 *      is opened.
 *   1. A path under "/memfd:" is an anonymous file: status MEMFD.
 *   2. open(O_RDONLY|O_NOFOLLOW|O_NONBLOCK) + fstat: a missing file, or a
 *      file whose (st_dev, st_ino) is not the record's: DELETED. Not a
 *      regular file, or unreadable: ERROR.
 *   3. Cache lookup by (dev, ino, mtime, size, ctime): a hit copies the
 *      earlier result.
 *   4. Larger than max_bytes: TOO_LARGE (cached). Otherwise SHA-256
 *      streamed with crypto_hash_sha256_update in 64 KiB reads, abandoned
 *      (TIMEOUT) past the deadline; the file must still have its fstat
 *      size at the end (else ERROR).
 *   5. The build-id: the first NT_GNU_BUILD_ID note in a PT_NOTE segment
 *      (libelf, read through the same descriptor); none: empty.
 * Steps 1-4's decisions are exehash_begin (no file content read); the
 * reading is exehash_compute, which shares nothing and may run on a
 * worker thread (agent/hashq.c). The cache is direct-mapped: one slot per
 * key hash, replaced on collision, so its memory is fixed; it is touched
 * by one thread only.
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

#define CHUNK EXEHASH_CHUNK

struct slot {
	int used;
	struct exehash_key key;
	struct exehash_result res;
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


uint64_t exehash_max_ms(const struct exehash *h)
{
	return h->max_ms;
}

uint64_t exehash_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static void key_of(const struct stat *st, struct exehash_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = (uint64_t)st->st_dev;
	k->ino = (uint64_t)st->st_ino;
	k->size = (uint64_t)st->st_size;
	k->mtime_ns = ts_ns(&st->st_mtim);
	k->ctime_ns = ts_ns(&st->st_ctim);
}

static struct slot *slot_for(struct exehash *h, const struct exehash_key *key)
{
	uint64_t k = key->dev * 0x9e3779b97f4a7c15ull ^ key->ino;

	return &h->slots[(k ^ (k >> 29)) % EXEHASH_CACHE_SLOTS];
}

static int slot_matches(const struct slot *s, const struct exehash_key *k)
{
	return s->used && memcmp(&s->key, k, sizeof(*k)) == 0;
}

/* SHA-256 of the whole file, until the deadline. Returns the status. */
static uint64_t sha256_file(int fd, uint64_t size, uint64_t deadline_ms, uint8_t *chunk,
			    uint8_t out[CUSTOS_HASH_LEN])
{
	crypto_hash_sha256_state s;
	uint64_t done = 0;
	ssize_t n;

	crypto_hash_sha256_init(&s);
	while ((n = pread(fd, chunk, CHUNK, (off_t)done)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return CUSTOS_HASH_ERROR;
		if (exehash_now_ms() > deadline_ms)
			return CUSTOS_HASH_TIMEOUT;
		crypto_hash_sha256_update(&s, chunk, (unsigned long long)n);
		done += (uint64_t)n;
	}
	crypto_hash_sha256_final(&s, out);
	return done == size ? CUSTOS_HASH_OK : CUSTOS_HASH_ERROR;
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

void exehash_compute(int fd, const struct exehash_key *key, uint64_t deadline_ms, uint8_t *chunk,
		     struct exehash_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = sha256_file(fd, key->size, deadline_ms, chunk, res->sha256);
	if (res->status == CUSTOS_HASH_OK)
		build_id(fd, res->build_id, &res->build_id_len);
	else
		memset(res->sha256, 0, sizeof(res->sha256));
}

void exehash_store(struct exehash *h, const struct exehash_key *key,
		   const struct exehash_result *res)
{
	struct slot *s = slot_for(h, key);

	if (res->status == CUSTOS_HASH_OK)
		h->st.hashed++;
	if (res->status != CUSTOS_HASH_OK && res->status != CUSTOS_HASH_TOO_LARGE)
		return;		/* errors and time-outs: try again next time */
	s->used = 1;
	s->key = *key;
	s->res = *res;
}

void exehash_apply(struct exehash *h, struct custos_record *rec, const struct exehash_result *res)
{
	struct custos_exec *x = &rec->u.exec;

	x->hash_status = res->status;
	memset(x->sha256, 0, sizeof(x->sha256));
	x->build_id_len = 0;
	if (res->status == CUSTOS_HASH_OK) {
		memcpy(x->sha256, res->sha256, CUSTOS_HASH_LEN);
		memcpy(x->build_id, res->build_id, res->build_id_len);
		x->build_id_len = res->build_id_len;
	} else {
		h->st.not_taken++;
	}
}

/* Steps 1 and 2: the file, or a status. Returns fd or -1 (status set). */
static int open_exe(const struct custos_exec *x, uint64_t *status, struct stat *st)
{
	char path[CUSTOS_PATH_MAX + 1];
	int fd;

	memcpy(path, x->exe, x->exe_len);
	path[x->exe_len] = '\0';
	*status = CUSTOS_HASH_ERROR;
	if (strncmp(path, "/memfd:", 7) == 0) {
		*status = CUSTOS_HASH_MEMFD;
		return -1;
	}
	if (x->exe_len == 0 || x->exe_truncated || strlen(path) != x->exe_len)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			*status = CUSTOS_HASH_DELETED;
		return -1;
	}
	if (fstat(fd, st) == 0 && S_ISREG(st->st_mode)) {
		if ((uint64_t)st->st_dev == x->exe_dev && (uint64_t)st->st_ino == x->exe_ino)
			return fd;
		*status = CUSTOS_HASH_DELETED;	/* another file has the name */
	}
	close(fd);
	return -1;
}

int exehash_begin(struct exehash *h, struct custos_record *rec, int *fd, struct exehash_key *key)
{
	struct exehash_result res;
	struct slot *s;
	struct stat st;

	*fd = -1;
	if (rec->kind != CUSTOS_REC_EXEC && rec->kind != CUSTOS_REC_SNAPSHOT)
		return 0;
	memset(&res, 0, sizeof(res));
	if (rec->kind == CUSTOS_REC_EXEC && rec->u.exec.result < 0) {
		res.status = CUSTOS_HASH_EXEC_FAILED;
		exehash_apply(h, rec, &res);
		return 0;
	}
	*fd = open_exe(&rec->u.exec, &res.status, &st);
	if (*fd < 0) {
		exehash_apply(h, rec, &res);
		return 0;
	}
	key_of(&st, key);
	s = slot_for(h, key);
	if (slot_matches(s, key)) {
		h->st.cache_hits++;
		res = s->res;
	} else if (key->size > h->max_bytes) {
		res.status = CUSTOS_HASH_TOO_LARGE;
		exehash_store(h, key, &res);
	} else {
		return 1;
	}
	close(*fd);
	*fd = -1;
	exehash_apply(h, rec, &res);
	return 0;
}

void exehash_fill(struct exehash *h, struct custos_record *rec)
{
	struct exehash_result res;
	struct exehash_key key;
	int fd;

	if (exehash_begin(h, rec, &fd, &key) == 0)
		return;
	exehash_compute(fd, &key, exehash_now_ms() + h->max_ms, h->chunk, &res);
	close(fd);
	exehash_store(h, &key, &res);
	exehash_apply(h, rec, &res);
}
