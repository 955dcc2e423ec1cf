/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exehash: the SHA-256 (libsodium) and ELF GNU build-id (libelf) of the
 * executable an exec or snapshot record names, with the record saying why
 * when there is no hash (docs/format.md 2.3 key 31: deleted, memfd, too
 * large, error). Results are cached by (device, inode, mtime, size,
 * ctime) in a fixed-size table, so a program run again costs one stat(2).
 * Hashing is bounded in file size and in time.
 */
#ifndef CUSTOS_AGENT_EXEHASH_H
#define CUSTOS_AGENT_EXEHASH_H

#include <stdint.h>

#include "record.h"

#define EXEHASH_MAX_BYTES_DEFAULT (256ull << 20)
#define EXEHASH_MAX_MS_DEFAULT 2000
#define EXEHASH_CACHE_SLOTS 4096

struct exehash_stats {
	uint64_t hashed, cache_hits, not_taken;
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
 * hash_status. Other kinds are left alone. Never fails: a hash that
 * cannot be taken is a status. */
void exehash_fill(struct exehash *h, struct custos_record *rec);

/* Counters so far. OUT: *st. */
void exehash_get_stats(const struct exehash *h, struct exehash_stats *st);

#endif
