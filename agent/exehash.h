/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exehash: the SHA-256 (libsodium) and ELF GNU build-id (libelf) of the
 * executable an exec or snapshot record names, with the record saying why
 * when there is no hash (docs/format.md 2.3 key 31: deleted, memfd, too
 * large, error, timed out, queue full). Results are cached by (device,
 * inode, mtime, size, ctime) in a fixed-size table, so a program run again
 * costs one open(2) and one fstat(2). Hashing is bounded in file size and
 * in time.
 *
 * Two ways to use it: exehash_fill() does everything at once (tests,
 * tools); the agent splits it (agent/hashq.c): exehash_begin() on the
 * event path decides everything that needs no read of the file,
 * exehash_compute() reads and hashes on a worker thread, and
 * exehash_store() + exehash_apply() put the result in the cache and the
 * record. Only exehash_compute() may run on another thread.
 */
#ifndef CUSTOS_AGENT_EXEHASH_H
#define CUSTOS_AGENT_EXEHASH_H

#include <stdint.h>

#include "record.h"

#define EXEHASH_MAX_BYTES_DEFAULT (256ull << 20)
#define EXEHASH_MAX_MS_DEFAULT 2000
#define EXEHASH_CACHE_SLOTS 4096
#define EXEHASH_CHUNK (64 * 1024)	/* scratch exehash_compute() needs */

struct exehash_stats {
	uint64_t hashed, cache_hits, not_taken;
};

/* The identity of one version of a file: the cache key. */
struct exehash_key {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

/* What a hash attempt gives: a status (enum custos_hash_status) and, when
 * it is CUSTOS_HASH_OK, the digest and build-id (length 0 if none). */
struct exehash_result {
	uint64_t status;
	uint8_t sha256[CUSTOS_HASH_LEN];
	uint8_t build_id[CUSTOS_BUILD_ID_MAX];
	uint32_t build_id_len;
};

struct exehash;

/* Set up with the bounds (bytes per file, ms per file). OUT: *out.
 * Returns 0, -CUSTOS_ERR_NOMEM, -CUSTOS_ERR_INVAL (libelf too old). */
int exehash_open(uint64_t max_bytes, uint64_t max_ms, struct exehash **out);

/* Free. Accepts NULL. */
void exehash_close(struct exehash *h);

/* For an exec or snapshot record: open its exe path, check that it is the
 * file the record names (exe_dev, exe_ino; a different file there means
 * the executed one was deleted or replaced), and fill sha256, build_id and
 * hash_status; a failed exec (result < 0) gets CUSTOS_HASH_EXEC_FAILED
 * without opening anything. Other kinds are left alone. Never fails: a
 * hash that cannot be taken is a status. Reads the file on the calling
 * thread. */
void exehash_fill(struct exehash *h, struct custos_record *rec);

/* The part of exehash_fill() that reads no file content: memfd, a path
 * that cannot be opened, another file at the path, not a regular file, a
 * cache hit, too large. Returns 0 when *rec is complete (hash fields
 * set), or 1 when the file must be read: OUT: *fd (open, read-only; the
 * caller closes it) and *key, the file's identity. Other kinds: 0, left
 * alone. */
int exehash_begin(struct exehash *h, struct custos_record *rec, int *fd, struct exehash_key *key);

/* Read fd (key's file) and hash it: SHA-256 in EXEHASH_CHUNK reads into
 * chunk, then the build-id. Gives up at deadline_ms (exehash_now_ms()
 * clock): CUSTOS_HASH_TIMEOUT. A read error, or a size other than
 * key->size at the end: CUSTOS_HASH_ERROR. Touches no shared state: safe
 * on any thread. OUT: *res. */
void exehash_compute(int fd, const struct exehash_key *key, uint64_t deadline_ms, uint8_t *chunk,
		     struct exehash_result *res);

/* Remember res for key (errors and time-outs are not cached, so a later
 * exec tries again). */
void exehash_store(struct exehash *h, const struct exehash_key *key,
		   const struct exehash_result *res);

/* Copy res into an exec or snapshot record; counts a hash not taken. */
void exehash_apply(struct exehash *h, struct custos_record *rec, const struct exehash_result *res);

/* The time limit per file, in ms, given at exehash_open(). */
uint64_t exehash_max_ms(const struct exehash *h);

/* CLOCK_MONOTONIC in ms: the clock of the deadlines. */
uint64_t exehash_now_ms(void);

/* Counters so far. OUT: *st. */
void exehash_get_stats(const struct exehash *h, struct exehash_stats *st);

#endif
