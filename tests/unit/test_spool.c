/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/spool.c: put/next/read/ack, the byte bound, the
 * lock, recovery of the chain position from the files, and crash safety:
 * a child process is killed (_exit from the fault hook) after every step
 * of a put and of an ack, and by SIGKILL at random instants of a stream
 * of puts; after each, reopening must give a chain position that repeats
 * no sequence number and breaks no link. */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "testutil.h"
#include "spool.h"

#define MAXB (1u << 20)

/* The "batch hash" of sequence seq in these tests. */
static void hash_of(uint64_t seq, uint8_t h[CUSTOS_HASH_LEN])
{
	crypto_generichash(h, CUSTOS_HASH_LEN, (const uint8_t *)&seq, sizeof(seq), NULL, 0);
}

static void body_of(uint64_t seq, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seq * 31 + i);
}

static char *mkspool(void)
{
	char *d = strdup("/tmp/custos-test-spool.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rmspool(char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static struct spool *open_ok(const char *d, uint64_t max)
{
	struct spool *sp;
	char err[256];

	assert_int_equal(spool_open(d, max, &sp, err, sizeof(err)), 0);
	return sp;
}

static void put(struct spool *sp, uint64_t seq, size_t n)
{
	uint8_t h[CUSTOS_HASH_LEN], *body = malloc(n);

	assert_non_null(body);
	hash_of(seq, h);
	body_of(seq, body, n);
	assert_int_equal(spool_put(sp, seq, h, body, n, seq), 0);
	free(body);
}

static void expect_chain(struct spool *sp, uint64_t next)
{
	uint8_t h[CUSTOS_HASH_LEN], want[CUSTOS_HASH_LEN] = { 0 };
	uint64_t seq;

	spool_chain(sp, &seq, h);
	assert_int_equal(seq, next);
	if (next > 0)
		hash_of(next - 1, want);
	assert_memory_equal(h, want, CUSTOS_HASH_LEN);
}

static int count_tmp(const char *d)
{
	char cmd[512];
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "find '%s' -name '*.tmp' | wc -l", d);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

static void test_put_next_read_ack(void **state)
{
	char *d = mkspool();
	struct spool *sp = open_ok(d, MAXB);
	struct spool_entry e;
	struct buf b;
	uint8_t h[CUSTOS_HASH_LEN], body[300];
	uint64_t nb, bytes;

	(void)state;
	buf_init(&b, MAXB);
	expect_chain(sp, 0);
	for (uint64_t s = 0; s < 3; s++)
		put(sp, s, 300);
	expect_chain(sp, 3);
	spool_depth(sp, &nb, &bytes);
	assert_int_equal(nb, 3);
	assert_int_equal(bytes, 900);
	assert_int_equal(spool_next(sp, 1, &e), 1);
	assert_int_equal(e.seq, 1);
	assert_int_equal(spool_read(sp, &e, &b), 0);
	body_of(1, body, sizeof(body));
	assert_int_equal(b.len, 300);
	assert_memory_equal(b.data, body, 300);
	/* wrong sequence number, wrong hash for an ack */
	hash_of(7, h);
	assert_int_equal(spool_put(sp, 7, h, body, 10, 0), -CUSTOS_ERR_INVAL);
	assert_int_equal(spool_ack(sp, 1, h, (const uint8_t *)"ack", 3), -CUSTOS_ERR_INVAL);
	hash_of(1, h);
	assert_int_equal(spool_ack(sp, 1, h, (const uint8_t *)"ack1", 4), 0);
	assert_int_equal(spool_next(sp, 1, &e), 1);
	assert_int_equal(e.seq, 2);
	assert_int_equal(spool_last_receipt(sp, &b, &nb), 1);
	assert_int_equal(nb, 1);
	assert_int_equal(b.len, 4);
	spool_close(sp);

	sp = open_ok(d, MAXB);
	expect_chain(sp, 3);
	spool_depth(sp, &nb, &bytes);
	assert_int_equal(nb, 2);
	spool_close(sp);
	buf_free(&b);
	rmspool(d);
}

static void test_bound_and_lock(void **state)
{
	char *d = mkspool(), err[256];
	struct spool *sp = open_ok(d, 1u << 20), *sp2;
	uint8_t h[CUSTOS_HASH_LEN];
	uint8_t *big = calloc(1, 600000);

	(void)state;
	assert_non_null(big);
	assert_int_equal(spool_open(d, 1u << 20, &sp2, err, sizeof(err)), -CUSTOS_ERR_EXISTS);
	hash_of(0, h);
	assert_int_equal(spool_put(sp, 0, h, big, 600000, 0), 0);
	assert_int_equal(spool_has_room(sp, 600000), 0);
	hash_of(1, h);
	assert_int_equal(spool_put(sp, 1, h, big, 600000, 0), -CUSTOS_ERR_OVERSIZED);
	expect_chain(sp, 1);
	spool_close(sp);
	free(big);
	rmspool(d);
}

/* All batches delivered and the state file lost: the receipts alone keep
 * the sequence from repeating. */
static void test_recover_from_receipts(void **state)
{
	char *d = mkspool(), path[512];
	struct spool *sp = open_ok(d, MAXB);
	uint8_t h[CUSTOS_HASH_LEN];
	struct spool_status st;

	(void)state;
	for (uint64_t s = 0; s < 4; s++) {
		put(sp, s, 50);
		hash_of(s, h);
		assert_int_equal(spool_ack(sp, s, h, (const uint8_t *)"r", 1), 0);
	}
	spool_close(sp);
	assert_int_equal(spool_inspect(d, &st), 0);
	assert_int_equal(st.next_seq, 4);
	assert_int_equal(st.batches, 0);
	assert_int_equal(st.acks, 4);
	assert_int_equal(st.last_ack_seq, 3);
	assert_int_equal(st.lost, 3);
	snprintf(path, sizeof(path), "%s/state", d);
	assert_int_equal(unlink(path), 0);
	sp = open_ok(d, MAXB);
	expect_chain(sp, 4);
	spool_close(sp);
	rmspool(d);
}

static int crash_at;

static void crash_hook(int step)
{
	if (step == crash_at)
		_exit(0);
}

/* In a child: put batches 0..k-1, then crash at step during put k (or
 * during the ack of batch 0 when ack is set). */
static void run_child(const char *d, uint64_t k, int step, int ack)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct spool *sp;
		uint8_t h[CUSTOS_HASH_LEN];
		char err[256];

		if (spool_open(d, MAXB, &sp, err, sizeof(err)))
			_exit(3);
		for (uint64_t s = 0; s < k; s++)
			put(sp, s, 200 + s);
		crash_at = step;
		spool_fault_hook = crash_hook;
		hash_of(0, h);
		if (ack)
			spool_ack(sp, 0, h, (const uint8_t *)"receipt", 7);
		else
			put(sp, k, 200 + k);
		_exit(2);	/* the step was never reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_crash_every_put_step(void **state)
{
	(void)state;
	for (int step = SPOOL_STEP_BATCH_HALF; step <= SPOOL_STEP_STATE_DIRSYNC; step++) {
		char *d = mkspool();
		struct spool *sp;
		struct spool_entry e;
		uint64_t next, nb, bytes;
		uint8_t h[CUSTOS_HASH_LEN];

		run_child(d, 3, step, 0);
		sp = open_ok(d, MAXB);
		assert_int_equal(count_tmp(d), 0);
		spool_chain(sp, &next, h);
		/* Before the rename the batch never existed; after it, it is the
		 * last link. Either way the position names a spooled batch. */
		assert_int_equal(next, step < SPOOL_STEP_BATCH_RENAMED ? 3 : 4);
		expect_chain(sp, next);
		spool_depth(sp, &nb, &bytes);
		assert_int_equal(nb, next);
		for (uint64_t s = 0; s < next; s++) {
			assert_int_equal(spool_next(sp, s, &e), 1);
			assert_int_equal(e.seq, s);
			assert_int_equal(e.size, 200 + s);
		}
		put(sp, next, 10);	/* the chain goes on from there */
		expect_chain(sp, next + 1);
		spool_close(sp);
		rmspool(d);
	}
}

static void test_crash_every_ack_step(void **state)
{
	(void)state;
	for (int step = SPOOL_STEP_ACK_TMP; step <= SPOOL_STEP_UNLINK_DIRSYNC; step++) {
		char *d = mkspool();
		struct spool *sp;
		struct spool_entry e;
		struct spool_status st;

		run_child(d, 2, step, 1);
		sp = open_ok(d, MAXB);
		assert_int_equal(count_tmp(d), 0);
		expect_chain(sp, 2);
		assert_int_equal(spool_next(sp, 0, &e), 1);
		spool_close(sp);
		assert_int_equal(spool_inspect(d, &st), 0);
		if (step == SPOOL_STEP_ACK_TMP) {
			/* no durable receipt: the batch must still be there */
			assert_int_equal(e.seq, 0);
			assert_int_equal(st.acks, 0);
		} else {
			/* receipt durable: the batch is gone, once */
			assert_int_equal(e.seq, 1);
			assert_int_equal(st.acks, 1);
			assert_int_equal(st.batches, 1);
		}
		rmspool(d);
	}
}

/* SIGKILL at random instants of a stream of puts. */
static void test_kill9_random(void **state)
{
	uint64_t total = 0;

	(void)state;
	srand((unsigned)time(NULL));
	for (int round = 0; round < 8; round++) {
		char *d = mkspool();
		struct spool *sp;
		struct spool_entry e;
		uint64_t next, nb, bytes, s = 0;
		uint8_t h[CUSTOS_HASH_LEN];
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			char err[256];

			if (spool_open(d, 1ull << 32, &sp, err, sizeof(err)))
				_exit(3);
			for (uint64_t q = 0;; q++)
				put(sp, q, 100 + (size_t)(q % 2000));
		}
		usleep(20000 + (useconds_t)(rand() % 60000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		sp = open_ok(d, 1ull << 32);
		assert_int_equal(count_tmp(d), 0);
		spool_chain(sp, &next, h);
		expect_chain(sp, next);
		spool_depth(sp, &nb, &bytes);
		assert_int_equal(nb, next);		/* 0..next-1, each once */
		while (spool_next(sp, s, &e) == 1) {
			assert_int_equal(e.seq, s);
			s++;
		}
		assert_int_equal(s, next);
		total += next;
		spool_close(sp);
		rmspool(d);
	}
	assert_true(total > 0);	/* the children did get batches written */
}

static void test_inspect_missing(void **state)
{
	struct spool_status st;

	(void)state;
	assert_int_equal(spool_inspect("/nonexistent/custos-spool", &st), -CUSTOS_ERR_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_next_read_ack),
		cmocka_unit_test(test_bound_and_lock),
		cmocka_unit_test(test_recover_from_receipts),
		cmocka_unit_test(test_crash_every_put_step),
		cmocka_unit_test(test_crash_every_ack_step),
		cmocka_unit_test(test_kill9_random),
		cmocka_unit_test(test_inspect_missing),
	};

	assert_int_equal(custos_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
