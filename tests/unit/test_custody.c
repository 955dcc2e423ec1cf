/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the collector's archive (collector/archive.c) and custody
 * log (collector/custody.c): records read back bit for bit, torn records
 * told from complete ones, segment rollover, and recovery after a crash
 * at each point of custody_append: a torn leaves entry is cut, an archived
 * batch without a leaf is adopted (once), a torn archive record is skipped
 * and the archive continues in a new segment; checkpoints verify and
 * commit to the right root; inclusion proofs of leaves read back verify;
 * after a failed write the log stops (fail-stop) until a reopen recovers.
 * Group commit: staged batches are readable but not in the log until
 * custody_sync, which writes their entries at once, across a segment
 * rollover; a crash before the sync leaves them to recovery (adopted,
 * never acknowledged).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "archive.h"
#include "checkpoint.h"
#include "custody.h"
#include "merkle.h"

static char dir[64];

static int setup(void **state)
{
	char path[128];

	(void)state;
	assert_int_equal(custos_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/custos-test-custody.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/archive", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/custody", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* A distinct fake "signed batch" of n bytes (the archive does not parse). */
static void blob(struct buf *b, int i, size_t n)
{
	buf_reset(b);
	assert_int_equal(buf_reserve(b, n), 0);
	for (size_t k = 0; k < n; k++)
		b->data[k] = (uint8_t)(i * 31 + (int)k);
	b->len = n;
}

static void append_raw(const char *rel, const void *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static off_t size_of(const char *rel)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void check_leaf(const struct custody *c, uint64_t i, int id, size_t n)
{
	struct buf got, want;
	uint64_t recv;

	buf_init(&got, 1 << 20);
	buf_init(&want, 1 << 20);
	blob(&want, id, n);
	assert_int_equal(custody_read(c, i, &got, &recv), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	assert_int_equal(recv, 1000 + (uint64_t)id);
	buf_free(&got);
	buf_free(&want);
}

static void test_append_reopen_read(void **state)
{
	struct custody c;
	struct buf b;
	uint64_t leaf;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 0);
	for (int i = 0; i < 5; i++) {
		blob(&b, i, 100 + (size_t)i);
		assert_int_equal(custody_append(&c, b.data, b.len, 1000 + (uint64_t)i, &leaf), 0);
		assert_int_equal(leaf, (uint64_t)i);
	}
	custody_close(&c);
	assert_int_equal(custody_size_on_disk(dir), 5);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 5);
	assert_int_equal(c.adopted, 0);
	for (int i = 0; i < 5; i++)
		check_leaf(&c, (uint64_t)i, i, 100 + (size_t)i);
	assert_int_equal(custody_read(&c, 5, &b, &leaf), -CUSTOS_ERR_INVAL);
	custody_close(&c);
	buf_free(&b);
}

static void test_archive_torn_and_magic(void **state)
{
	struct archive a;
	struct archive_loc l;
	struct buf b, out;
	uint8_t leaf[MERKLE_HASH_LEN], got[MERKLE_HASH_LEN];
	uint64_t recv, rec_len;
	int missing;

	(void)state;
	buf_init(&b, 1 << 20);
	buf_init(&out, 1 << 20);
	blob(&b, 7, 300);
	assert_int_equal(archive_open(&a, dir, 0, 0, 0), 0);
	assert_int_equal(archive_append(&a, b.data, b.len, 42, &l, leaf), 0);
	archive_close(&a);
	assert_int_equal(archive_read(dir, 0, 0, &out, &recv, got, &rec_len, &missing), 0);
	assert_memory_equal(got, leaf, sizeof(leaf));
	assert_int_equal(rec_len, 300 + ARCHIVE_OVERHEAD);
	assert_int_equal(recv, 42);
	/* the exact end of the segment, and a segment that does not exist */
	assert_int_equal(archive_read(dir, 0, rec_len, &out, &recv, got, &rec_len, &missing),
			 -CUSTOS_ERR_AGAIN);
	assert_int_equal(archive_read(dir, 9, 0, &out, &recv, got, &rec_len, &missing),
			 -CUSTOS_ERR_IO);
	assert_true(missing);
	/* a record cut short, then bytes that are not a record */
	append_raw("archive/seg-00000000", "CSTR\0\0\1\0", 8);
	assert_int_equal(archive_read(dir, 0, 300 + ARCHIVE_OVERHEAD, &out, &recv, got, &rec_len,
				      &missing), -CUSTOS_ERR_TRUNCATED);
	append_raw("archive/seg-00000001", "XXXXXXXXXXXXXXXXXXXX", 20);
	assert_int_equal(archive_read(dir, 1, 0, &out, &recv, got, &rec_len, &missing),
			 -CUSTOS_ERR_MALFORMED);
	buf_free(&b);
	buf_free(&out);
}

/* Crash points of custody_append, each followed by a reopen. */
static void test_recovery(void **state)
{
	struct custody c;
	struct archive_loc l;
	struct buf b;
	uint8_t leaf_hash[MERKLE_HASH_LEN];
	uint64_t leaf;
	off_t seg0;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(custody_open(&c, dir), 0);
	blob(&b, 0, 64);
	assert_int_equal(custody_append(&c, b.data, b.len, 1000, &leaf), 0);
	/* 1. archived, fsynced, then killed before the leaf entry: adopted */
	blob(&b, 1, 80);
	assert_int_equal(archive_append(&c.ar, b.data, b.len, 1001, &l, leaf_hash), 0);
	custody_close(&c);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 2);
	assert_int_equal(c.adopted, 1);
	assert_memory_equal(c.hash[1], leaf_hash, MERKLE_HASH_LEN);
	check_leaf(&c, 1, 1, 80);
	custody_close(&c);
	assert_int_equal(custody_open(&c, dir), 0);	/* adopted once, not twice */
	assert_int_equal(c.size, 2);
	assert_int_equal(c.adopted, 0);
	custody_close(&c);
	/* 2. a torn leaves entry: cut back, nothing else changes */
	append_raw("custody/leaves", "0123456789", 10);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 2);
	assert_int_equal(size_of("custody/leaves"), 2 * CUSTODY_ENTRY_LEN);
	custody_close(&c);
	/* 3. a torn archive record: left alone, appends go to a new segment */
	seg0 = size_of("archive/seg-00000000");
	append_raw("archive/seg-00000000", "CSTR\0\0\0\x50", 8);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 2);
	blob(&b, 2, 90);
	assert_int_equal(custody_append(&c, b.data, b.len, 1002, &leaf), 0);
	assert_int_equal(leaf, 2);
	assert_int_equal(c.loc[2].seg, 1);
	assert_int_equal(size_of("archive/seg-00000000"), seg0 + 8);	/* never rewritten */
	/* 4. and an archived-but-unlogged record in that new segment */
	blob(&b, 3, 70);
	assert_int_equal(archive_append(&c.ar, b.data, b.len, 1003, &l, leaf_hash), 0);
	custody_close(&c);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 4);
	assert_int_equal(c.adopted, 1);
	for (int i = 0; i < 4; i++)
		check_leaf(&c, (uint64_t)i, i, i == 0 ? 64 : i == 1 ? 80 : i == 2 ? 90 : 70);
	custody_close(&c);
	buf_free(&b);
}

static void test_segment_rollover(void **state)
{
	struct custody c;
	struct buf b;
	uint64_t leaf;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(custody_open(&c, dir), 0);
	c.ar.seg_max = 500;
	for (int i = 0; i < 6; i++) {
		blob(&b, i, 200);
		assert_int_equal(custody_append(&c, b.data, b.len, 1000 + (uint64_t)i, &leaf), 0);
	}
	assert_int_equal(c.loc[0].seg, 0);
	assert_int_equal(c.loc[1].seg, 0);	/* 2 x 248 bytes fit in 500 */
	assert_int_equal(c.loc[2].seg, 1);
	assert_int_equal(c.loc[5].seg, 2);
	custody_close(&c);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 6);
	for (int i = 0; i < 6; i++)
		check_leaf(&c, (uint64_t)i, i, 200);
	custody_close(&c);
	buf_free(&b);
}

static void test_group_commit(void **state)
{
	struct custody c;
	struct buf b;
	uint64_t leaf;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(custody_open(&c, dir), 0);
	c.ar.seg_max = 700;
	blob(&b, 0, 100);
	assert_int_equal(custody_append(&c, b.data, b.len, 1000, &leaf), 0);
	for (int i = 1; i < 7; i++) {	/* 248-byte records: a new segment every 2 */
		blob(&b, i, 200);
		assert_int_equal(custody_stage(&c, b.data, b.len, 1000 + (uint64_t)i, &leaf), 0);
		assert_int_equal(leaf, (uint64_t)i);
	}
	assert_int_equal(c.size, 1);	/* staged: not in the log yet */
	assert_int_equal(custody_size_on_disk(dir), 1);
	check_leaf(&c, 4, 4, 200);	/* but readable (a resend in the group) */
	assert_int_equal(custody_sync(&c), 0);
	assert_int_equal(c.size, 7);
	assert_int_equal(c.pending, 0);
	assert_int_equal(custody_size_on_disk(dir), 7);
	assert_true(c.loc[6].seg > c.loc[1].seg);
	assert_int_equal(custody_sync(&c), 0);	/* nothing staged: nothing to do */
	/* staged, then a crash before the sync: recovery adopts them */
	for (int i = 7; i < 9; i++) {
		blob(&b, i, 50);
		assert_int_equal(custody_stage(&c, b.data, b.len, 1000 + (uint64_t)i, &leaf), 0);
	}
	assert_int_equal(custody_size_on_disk(dir), 7);
	custody_close(&c);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 9);
	assert_int_equal(c.adopted, 2);
	for (int i = 0; i < 9; i++)
		check_leaf(&c, (uint64_t)i, i, i == 0 ? 100 : i < 7 ? 200 : 50);
	custody_close(&c);
	buf_free(&b);
}

static void test_checkpoint_and_proofs(void **state)
{
	struct custos_keypair kp;
	struct custody c;
	struct checkpoint cp;
	struct merkle_leaves leaves;
	struct buf b, note;
	uint8_t root[MERKLE_HASH_LEN], lh[MERKLE_HASH_LEN], proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	uint64_t leaf, recv;
	size_t plen;

	(void)state;
	tu_keys(&kp, 0x40);
	buf_init(&b, 1 << 20);
	buf_init(&note, CHECKPOINT_MAX);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(custody_checkpoint(&c, "custos.test/log", &kp, 0, &note), 1);
	assert_int_equal(checkpoint_verify(note.data, note.len, "custos.test/log", kp.pub.sign_pk, &cp), 0);
	assert_int_equal(cp.size, 0);
	assert_int_equal(custody_checkpoint(&c, "custos.test/log", &kp, 0, NULL), 0);	/* no growth */
	for (int i = 0; i < 7; i++) {
		blob(&b, i, 50 + (size_t)i);
		assert_int_equal(custody_append(&c, b.data, b.len, 1000 + (uint64_t)i, &leaf), 0);
	}
	buf_reset(&note);
	assert_int_equal(custody_checkpoint(&c, "custos.test/log", &kp, 0, &note), 1);
	assert_int_equal(checkpoint_verify(note.data, note.len, "custos.test/log", kp.pub.sign_pk, &cp), 0);
	assert_int_equal(cp.size, 7);
	leaves.hash = (const uint8_t (*)[MERKLE_HASH_LEN])c.hash;
	leaves.count = c.size;
	assert_int_equal(merkle_root(merkle_leaves_get, &leaves, 7, root), 0);
	assert_memory_equal(cp.root, root, MERKLE_HASH_LEN);
	/* the latest note is on disk, and leaf 4 read back proves into it */
	assert_int_equal(size_of("custody/checkpoint"), (off_t)note.len);
	assert_int_equal(custody_read(&c, 4, &b, &recv), 0);
	merkle_leaf_hash(b.data, b.len, lh);
	assert_int_equal(merkle_inclusion_proof(merkle_leaves_get, &leaves, 4, 7, proof, &plen), 0);
	assert_int_equal(merkle_verify_inclusion(4, 7, lh, (const uint8_t (*)[MERKLE_HASH_LEN])proof,
						 plen, cp.root), 0);
	custody_close(&c);
	buf_free(&b);
	buf_free(&note);
}

/* A write that fails (here: the leaves file is swapped for a read-only
 * descriptor) stops the log: nothing more is archived until a reopen,
 * which adopts the batch archived before the failure. */
static void test_fail_stop(void **state)
{
	struct custody c;
	struct buf b;
	uint64_t leaf;
	off_t seg0;
	char path[128];

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(custody_open(&c, dir), 0);
	blob(&b, 0, 64);
	assert_int_equal(custody_append(&c, b.data, b.len, 1000, &leaf), 0);
	close(c.fd);
	snprintf(path, sizeof(path), "%s/custody/leaves", dir);
	c.fd = open(path, O_RDONLY);
	assert_true(c.fd >= 0);
	blob(&b, 1, 80);
	assert_int_equal(custody_append(&c, b.data, b.len, 1001, &leaf), -CUSTOS_ERR_IO);
	assert_true(c.failed);
	assert_int_equal(c.size, 1);
	seg0 = size_of("archive/seg-00000000");
	blob(&b, 2, 90);
	assert_int_equal(custody_append(&c, b.data, b.len, 1002, &leaf), -CUSTOS_ERR_IO);
	assert_int_equal(size_of("archive/seg-00000000"), seg0);	/* nothing archived */
	custody_close(&c);
	assert_int_equal(custody_open(&c, dir), 0);
	assert_int_equal(c.size, 2);
	assert_int_equal(c.adopted, 1);
	check_leaf(&c, 1, 1, 80);
	custody_close(&c);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_reopen_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_torn_and_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_rollover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_and_proofs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_stop, setup, teardown),
	};

	return cmocka_run_group_tests_name("custody", tests, NULL, NULL);
}
