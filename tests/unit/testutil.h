/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit tests: deterministic keys and records, and a
 * batch builder that does the whole signing path. Header-only on purpose:
 * each test is one self-contained program. */
#ifndef CUSTOS_TESTUTIL_H
#define CUSTOS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batch.h"
#include "error.h"
#include "keys.h"
#include "record.h"
#include "seal.h"

/* Every record kind record.h defines (docs/format.md), for the tests that
 * go through them all. */
static const uint64_t tu_all_kinds[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
	64, 65, 66, 67, 68, 69,
	96, 97, 98, 99, 100, 101, 102,
};
#define TU_NKINDS (sizeof(tu_all_kinds) / sizeof(tu_all_kinds[0]))

/* Key pairs from one byte: seeds are that byte repeated (sign) and its
 * complement repeated (box). */
static inline void tu_keys(struct custos_keypair *kp, uint8_t b)
{
	uint8_t s1[KEYS_SEED_LEN], s2[KEYS_SEED_LEN];

	memset(s1, b, sizeof(s1));
	memset(s2, (uint8_t)~b, sizeof(s2));
	assert_int_equal(keys_from_seeds(kp, s1, s2), 0);
}

static inline void tu_subject(struct custos_subject *s, uint64_t pid)
{
	s->pid = pid;
	s->tid = pid + 1;
	s->ppid = 1;
	s->uid = 1000;
	s->gid = 1000;
	s->euid = 0;
	s->loginuid = 1000;
	s->sessionid = 7;
	s->comm_len = (uint32_t)strlen("bash");
	memcpy(s->comm, "bash", s->comm_len);
	s->cgroup_id = 0x1234;
	s->pidns = 4026531836ull;
	s->mntns = 4026531841ull;
}

/* An exec record with arguments, deterministic in (pid, ts). */
static inline void tu_exec(struct custos_record *r, uint64_t pid, uint64_t ts)
{
	static const char argv[] = "/bin/cat\0/etc/shadow\0with space\0";

	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_EXEC;
	r->ts_ns = ts;
	tu_subject(&r->subj, pid);
	record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX, "cat");
	record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, "/usr/bin/cat");
	r->u.exec.argc = 3;
	memcpy(r->u.exec.argv, argv, sizeof(argv) - 1);
	r->u.exec.argv_len = sizeof(argv) - 1;
	r->u.exec.argv_count = 3;
	record_set_bytes(r->u.exec.cwd, &r->u.exec.cwd_len, CUSTOS_PATH_MAX, "/root");
	r->u.exec.exe_dev = 0x801;
	r->u.exec.exe_ino = 131075;
	r->u.exec.exe_mode = 0100755;
	r->u.exec.start_ns = ts - 1000;
	r->u.exec.hash_status = CUSTOS_HASH_PENDING;
}

/* A signed batch of n exec records, sequence seq, chained to prev. */
static inline void tu_batch(struct buf *out, const struct custos_keypair *host, uint64_t seq,
			    const uint8_t prev[CUSTOS_HASH_LEN], int n,
			    uint8_t hash[CUSTOS_HASH_LEN])
{
	struct batch_builder b;
	struct batch_header h;
	struct custos_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	batch_builder_init(&b);
	for (int i = 0; i < n; i++) {
		tu_exec(r, 100 + (uint64_t)i, 1000000 * (seq + 1) + (uint64_t)i);
		assert_int_equal(batch_builder_add(&b, r), 0);
	}
	memset(&h, 0, sizeof(h));
	memset(h.boot_id, 0xb0, sizeof(h.boot_id));
	h.seq = seq;
	if (prev)
		memcpy(h.prev_hash, prev, CUSTOS_HASH_LEN);
	h.clock_offset_ns = 1700000000000000000ll;
	h.sealed_boot_ns = 1000000 * (seq + 2);
	h.ntp_synced = 1;
	h.ntp_maxerror_us = 16000;
	h.ntp_esterror_us = 500;
	assert_int_equal(batch_sign(&b, &h, host, out, hash), 0);
	batch_builder_free(&b);
	free(r);
}

static inline int tu_lookup(void *ctx, const uint8_t host_id[KEYS_SIGN_PK_LEN])
{
	const struct custos_keypair *host = ctx;

	return memcmp(host_id, host->pub.sign_pk, KEYS_SIGN_PK_LEN) == 0
		       ? 0 : -CUSTOS_ERR_UNKNOWN_HOST;
}

/* Run the whole check path on a signed batch, for a single enrolled host.
 * Returns the first error, or 0. */
static inline int tu_check_signed(const uint8_t *p, size_t n, const struct custos_keypair *host)
{
	struct batch_view v;
	struct record_iter it;
	struct custos_record *r = malloc(sizeof(*r));
	struct buf raw;
	int ret;

	assert_non_null(r);
	buf_init(&raw, CUSTOS_RAW_MAX);
	ret = batch_verify(p, n, tu_lookup, (void *)host, &v, &raw);
	if (!ret) {
		record_iter_init(&it, &raw, &v.hdr);
		while ((ret = record_iter_next(&it, r)) == 1)
			;
	}
	free(r);
	buf_free(&raw);
	return ret;
}

#endif
