/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/hashq.c, hashing off the event path: a record that
 * needs a hash is held (complete, in order, with its process's later
 * records behind it) until the worker is done; a file too large, a
 * deleted file and a cache hit go out at once; a deadline gives TIMEOUT;
 * no free job gives QUEUE_FULL; a full hold passes records (counted); the
 * waiting mode (snapshot) never gives QUEUE_FULL; a file unlinked after
 * the exec was queued is still hashed (its descriptor was open). */
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "hashq.h"

#define MAX_OUT 16

static char dir[64];
static struct custos_record *out;	/* what emit received */
static unsigned n_out;

static int on_emit(void *ctx, const struct custos_record *r)
{
	(void)ctx;
	assert_true(n_out < MAX_OUT);
	out[n_out++] = *r;
	return 0;
}

/* dir/name with len bytes of pattern b; returns its path (static). */
static const char *make_file(const char *name, size_t len, uint8_t b)
{
	static char path[4][160];
	static unsigned k;
	char *p = path[k++ % 4];
	uint8_t *buf = malloc(len ? len : 1);
	int fd;

	assert_non_null(buf);
	memset(buf, b, len);
	snprintf(p, 160, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
	return p;
}

static void exec_record(struct custos_record *r, const char *p, uint64_t pid)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_EXEC;
	r->subj.pid = pid;
	record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, p);
	assert_int_equal(stat(p, &st), 0);
	r->u.exec.exe_dev = st.st_dev;
	r->u.exec.exe_ino = st.st_ino;
	r->u.exec.hash_status = CUSTOS_HASH_PENDING;
}

static void open_record(struct custos_record *r, uint64_t pid)
{
	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_OPEN;
	r->subj.pid = pid;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/custos-test-hashq.XXXXXX");
	assert_non_null(mkdtemp(dir));
	out = calloc(MAX_OUT, sizeof(*out));
	assert_non_null(out);
	n_out = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(out);
	return 0;
}

static void open_q(uint64_t max_bytes, uint64_t max_ms, unsigned jobs, unsigned hold,
		   struct exehash **h, struct hashq **q)
{
	assert_int_equal(exehash_open(max_bytes, max_ms, h), 0);
	assert_int_equal(hashq_open(*h, jobs, hold, on_emit, NULL, q), 0);
}

static void test_held_in_order(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	const char *p = make_file("prog", 100000, 'a');
	uint8_t *want = malloc(100000), digest[CUSTOS_HASH_LEN];
	struct hashq_stats st;
	struct exehash *h;
	struct hashq *q;

	(void)state;
	assert_non_null(r);
	assert_non_null(want);
	memset(want, 'a', 100000);
	crypto_hash_sha256(digest, want, 100000);
	open_q(EXEHASH_MAX_BYTES_DEFAULT, 5000, 4, 8, &h, &q);
	exec_record(r, p, 10);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(n_out, 0);			/* held for the worker */
	open_record(r, 10);
	assert_int_equal(hashq_add(q, r, 0), 0);	/* behind its exec */
	open_record(r, 11);
	assert_int_equal(hashq_add(q, r, 0), 0);	/* another process: at once */
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].subj.pid, 11);
	assert_int_equal(hashq_held(q), 2);
	assert_int_equal(hashq_drain(q), 0);
	assert_int_equal(n_out, 3);
	assert_int_equal(out[1].kind, CUSTOS_REC_EXEC);
	assert_int_equal(out[1].u.exec.hash_status, CUSTOS_HASH_OK);
	assert_memory_equal(out[1].u.exec.sha256, digest, CUSTOS_HASH_LEN);
	assert_int_equal(out[2].kind, CUSTOS_REC_OPEN);
	assert_int_equal(out[2].subj.pid, 10);
	/* Run again: a cache hit, at once. */
	exec_record(r, p, 12);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(n_out, 4);
	assert_int_equal(out[3].u.exec.hash_status, CUSTOS_HASH_OK);
	hashq_get_stats(q, &st);
	assert_int_equal(st.jobs, 1);
	assert_int_equal(st.held, 2);
	hashq_close(q);
	exehash_close(h);
	free(want);
	free(r);
}

static void test_too_large_deleted(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	const char *big = make_file("big", 8192, 'b'), *gone = make_file("gone", 10, 'c');
	struct exehash *h;
	struct hashq *q;

	(void)state;
	assert_non_null(r);
	open_q(4096, 5000, 4, 8, &h, &q);
	exec_record(r, big, 20);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(n_out, 1);			/* no worker needed */
	assert_int_equal(out[0].u.exec.hash_status, CUSTOS_HASH_TOO_LARGE);
	exec_record(r, gone, 21);
	assert_int_equal(unlink(gone), 0);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(n_out, 2);
	assert_int_equal(out[1].u.exec.hash_status, CUSTOS_HASH_DELETED);
	assert_int_equal(hashq_held(q), 0);
	hashq_close(q);
	exehash_close(h);
	free(r);
}

/* Unlinked after it was queued: the open descriptor still reads it. */
static void test_unlinked_after_queue(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	const char *p = make_file("late", 3000, 'd');
	uint8_t want[3000], digest[CUSTOS_HASH_LEN];
	struct exehash *h;
	struct hashq *q;

	(void)state;
	assert_non_null(r);
	memset(want, 'd', sizeof(want));
	crypto_hash_sha256(digest, want, sizeof(want));
	open_q(EXEHASH_MAX_BYTES_DEFAULT, 5000, 4, 8, &h, &q);
	exec_record(r, p, 30);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(hashq_drain(q), 0);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].u.exec.hash_status, CUSTOS_HASH_OK);
	assert_memory_equal(out[0].u.exec.sha256, digest, CUSTOS_HASH_LEN);
	hashq_close(q);
	exehash_close(h);
	free(r);
}

/* 64 MiB cannot be hashed in 1 ms: TIMEOUT, hash zero, not cached. */
static void test_deadline(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	uint8_t zero[CUSTOS_HASH_LEN] = { 0 };
	char p[160];
	struct hashq_stats st;
	struct exehash_stats es;
	struct exehash *h;
	struct hashq *q;
	int fd;

	(void)state;
	assert_non_null(r);
	snprintf(p, sizeof(p), "%s/huge", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	close(fd);
	open_q(EXEHASH_MAX_BYTES_DEFAULT, 1, 4, 8, &h, &q);
	exec_record(r, p, 40);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(n_out, 0);
	assert_int_equal(hashq_drain(q), 0);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].u.exec.hash_status, CUSTOS_HASH_TIMEOUT);
	assert_memory_equal(out[0].u.exec.sha256, zero, CUSTOS_HASH_LEN);
	hashq_get_stats(q, &st);
	exehash_get_stats(h, &es);
	assert_int_equal(es.hashed, 0);
	assert_int_equal(es.not_taken, 1);
	hashq_close(q);
	exehash_close(h);
	free(r);
}

/* One job, one hold slot: a second file finds no job (QUEUE_FULL, at
 * once); a record of the held process finds no slot (passed). */
static void test_queue_full(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	const char *a = make_file("a", 5000, 'e'), *b = make_file("b", 5000, 'f');
	struct hashq_stats st;
	struct exehash *h;
	struct hashq *q;

	(void)state;
	assert_non_null(r);
	open_q(EXEHASH_MAX_BYTES_DEFAULT, 5000, 1, 1, &h, &q);
	exec_record(r, a, 50);
	assert_int_equal(hashq_add(q, r, 0), 0);
	exec_record(r, b, 51);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].subj.pid, 51);
	assert_int_equal(out[0].u.exec.hash_status, CUSTOS_HASH_QUEUE_FULL);
	open_record(r, 50);
	assert_int_equal(hashq_add(q, r, 0), 0);
	assert_int_equal(n_out, 2);
	assert_int_equal(out[1].kind, CUSTOS_REC_OPEN);
	assert_int_equal(hashq_drain(q), 0);
	assert_int_equal(n_out, 3);
	assert_int_equal(out[2].u.exec.hash_status, CUSTOS_HASH_OK);
	hashq_get_stats(q, &st);
	assert_int_equal(st.queue_full, 1);
	assert_int_equal(st.passed, 1);
	/* The same two with wait (the snapshot): both hashed, in order. */
	n_out = 0;
	b = make_file("b2", 5001, 'g');
	a = make_file("a2", 5001, 'h');
	exec_record(r, a, 52);
	assert_int_equal(hashq_add(q, r, 1), 0);
	exec_record(r, b, 53);
	assert_int_equal(hashq_add(q, r, 1), 0);
	assert_int_equal(hashq_drain(q), 0);
	assert_int_equal(n_out, 2);
	assert_int_equal(out[0].subj.pid, 52);
	assert_int_equal(out[1].subj.pid, 53);
	assert_int_equal(out[0].u.exec.hash_status, CUSTOS_HASH_OK);
	assert_int_equal(out[1].u.exec.hash_status, CUSTOS_HASH_OK);
	hashq_close(q);
	exehash_close(h);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlinked_after_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
	};

	assert_int_equal(custos_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
