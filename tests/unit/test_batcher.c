/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/batcher.c and agent/outfile.c: batches close by size
 * and by time, carry the clock provenance, chain and verify (opened with
 * the collector's secret key, checked with batch_verify and chain_check);
 * a full spool turns into exactly one gap record with the right counts,
 * also when the agent is killed in the middle of the episode;
 * the offline file is read back by a small reader that verifies every
 * batch and the chain, also across a restart and after a crash between
 * the append and the receipt. */
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "batcher.h"
#include "chain.h"
#include "clock.h"
#include "frame.h"
#include "outfile.h"
#include "spool.h"

struct fixture {
	struct custos_keypair host, coll;
	char dir[64];
	char file[96];
	struct spool *sp;
	struct batcher b;
	struct custos_record rec;
};

static void start(struct fixture *f, uint64_t spool_max, uint64_t max_bytes, uint64_t delay_ns)
{
	struct batcher_opts o = { 0 };
	char err[256];

	assert_int_equal(spool_open(f->dir, spool_max, &f->sp, err, sizeof(err)), 0);
	o.max_bytes = max_bytes;
	o.max_delay_ns = delay_ns;
	o.host = &f->host;
	o.collector = &f->coll.pub;
	o.spool = f->sp;
	memset(o.boot_id, 0xb0, sizeof(o.boot_id));
	assert_int_equal(batcher_init(&f->b, &o), 0);
}

static void stop(struct fixture *f)
{
	batcher_free(&f->b);
	spool_close(f->sp);
	f->sp = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_keys(&f->host, 1);
	tu_keys(&f->coll, 2);
	strcpy(f->dir, "/tmp/custos-test-batcher.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s.out", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->dir, f->file);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Open, verify and chain-check one sealed batch; count its records and
 * gap records. OUT: *gap (the last gap record seen, if any). */
static void check_sealed(const struct fixture *f, const uint8_t *p, size_t n,
			 struct chain_state *ch, uint64_t *records, struct custos_record *gap)
{
	struct buf signed_b, raw;
	struct batch_view v;
	struct record_iter it;
	struct custos_record *r = malloc(sizeof(*r));
	int ret;

	assert_non_null(r);
	buf_init(&signed_b, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	assert_int_equal(seal_open(p, n, &f->coll, &signed_b), 0);
	assert_int_equal(batch_verify(signed_b.data, signed_b.len, tu_lookup, (void *)&f->host, &v,
				      &raw), 0);
	assert_int_equal(chain_check(ch, &v.hdr), 0);
	chain_advance(ch, &v.hdr, v.hash);
	assert_int_equal(v.hdr.boot_id[0], 0xb0);
	assert_true(v.hdr.sealed_boot_ns > 0);
	assert_true(v.hdr.clock_offset_ns > 1600000000ll * 1000000000ll);
	record_iter_init(&it, &raw, &v.hdr);
	while ((ret = record_iter_next(&it, r)) == 1) {
		if (r->kind == CUSTOS_REC_GAP)
			*gap = *r;
		else
			(*records)++;
	}
	assert_int_equal(ret, 0);
	free(r);
	buf_free(&signed_b);
	buf_free(&raw);
}

/* Walk the spool in order, checking every batch. Returns the batch count. */
static uint64_t check_spool(struct fixture *f, struct chain_state *ch, uint64_t *records,
			    struct custos_record *gap)
{
	struct spool_entry e;
	struct buf b;
	uint64_t n = 0, from = 0;

	buf_init(&b, CUSTOS_SEALED_MAX);
	while (spool_next(f->sp, from, &e) == 1) {
		assert_int_equal(spool_read(f->sp, &e, &b), 0);
		check_sealed(f, b.data, b.len, ch, records, gap);
		from = e.seq + 1;
		n++;
	}
	buf_free(&b);
	return n;
}

static void add(struct fixture *f, uint64_t pid, uint64_t ts)
{
	tu_exec(&f->rec, pid, ts);
	assert_int_equal(batcher_add(&f->b, &f->rec, ts), 0);
}

static void test_by_size_and_time(void **state)
{
	struct fixture *f = *state;
	struct chain_state ch;
	struct custos_record gap = { 0 };
	uint64_t records = 0, batches;

	start(f, 1u << 30, 4096, 1000000000ull);
	for (uint64_t i = 0; i < 80; i++)	/* 187 raw bytes each */
		add(f, 100 + i, 1000000 + i);
	assert_true(f->b.batches >= 3);		/* closed by size */
	assert_true(f->b.bb.count > 0);		/* the rest waits */
	assert_int_equal(batcher_tick(&f->b, f->b.opened_ns + 999999999ull), 0);
	assert_true(f->b.bb.count > 0);		/* not old enough yet */
	assert_int_equal(batcher_tick(&f->b, f->b.opened_ns + 1000000000ull), 0);
	assert_int_equal(f->b.bb.count, 0);	/* closed by time */
	chain_init(&ch);
	batches = check_spool(f, &ch, &records, &gap);
	assert_int_equal(batches, f->b.batches);
	assert_int_equal(records, 80);
	assert_int_equal(gap.kind, 0);
	stop(f);
}

static void test_full_spool_one_gap_record(void **state)
{
	struct fixture *f = *state;
	struct chain_state ch;
	struct custos_record gap = { 0 };
	struct spool_entry e;
	uint64_t records = 0, nb, bytes, from = 0, extra;

	start(f, 1000, 1 << 20, 1000000000ull);	/* two one-record batches */
	/* One record per batch until the spool refuses. */
	for (uint64_t i = 0; i < 3; i++) {
		add(f, 100 + i, 1000 + i);
		assert_int_equal(batcher_flush(&f->b), 0);
	}
	spool_depth(f->sp, &nb, &bytes);
	assert_true(nb >= 1 && nb < 3);
	assert_true(f->b.gap.batches >= 1);
	/* Five more batches of two records each, all dropped. */
	for (uint64_t i = 0; i < 5; i++) {
		add(f, 200 + i, 2000 + 2 * i);
		add(f, 300 + i, 2001 + 2 * i);
		assert_int_equal(batcher_flush(&f->b), 0);
	}
	assert_int_equal(f->b.gap.batches, 3 - nb + 5);
	assert_int_equal(f->b.gap.lost, 3 - nb + 10);
	assert_int_equal(batcher_losses(&f->b), 3 - nb + 10);
	/* One batch acknowledged: some room, but the spool is still more than
	 * half full, so the gap goes on (one gap record per episode). */
	extra = nb == 2;
	if (extra) {
		assert_int_equal(spool_next(f->sp, 0, &e), 1);
		assert_int_equal(spool_ack(f->sp, e.seq, e.hash, (const uint8_t *)"ok", 2), 0);
		from = e.seq + 1;
		add(f, 250, 2010);
		assert_int_equal(batcher_flush(&f->b), 0);
		assert_int_equal(f->b.gap.batches, 3 - nb + 6);
	}
	/* The collector acknowledges: room again. */
	while (spool_next(f->sp, from, &e) == 1) {
		assert_int_equal(spool_ack(f->sp, e.seq, e.hash, (const uint8_t *)"ok", 2), 0);
		from = e.seq + 1;
	}
	add(f, 400, 3000);
	assert_int_equal(batcher_flush(&f->b), 0);
	assert_int_equal(f->b.gap.batches, 0);	/* the gap is on record */
	/* The spooled batch continues the chain and starts with the gap. */
	chain_init(&ch);
	ch.started = true;
	ch.next_seq = from;
	spool_chain(f->sp, &nb, ch.last_hash);
	assert_int_equal(nb, from + 1);
	{
		struct buf b;

		buf_init(&b, CUSTOS_SEALED_MAX);
		assert_int_equal(spool_next(f->sp, 0, &e), 1);
		assert_int_equal(e.seq, from);
		assert_int_equal(spool_read(f->sp, &e, &b), 0);
		ch.started = false;	/* checked alone: only its records matter here */
		chain_init(&ch);
		{
			struct buf signed_b, raw;
			struct batch_view v;
			struct record_iter it;

			buf_init(&signed_b, CUSTOS_SIGNED_MAX);
			buf_init(&raw, CUSTOS_RAW_MAX);
			assert_int_equal(seal_open(b.data, b.len, &f->coll, &signed_b), 0);
			assert_int_equal(batch_verify(signed_b.data, signed_b.len, tu_lookup,
						      (void *)&f->host, &v, &raw), 0);
			assert_int_equal(v.hdr.seq, from);
			record_iter_init(&it, &raw, &v.hdr);
			assert_int_equal(record_iter_next(&it, &gap), 1);
			assert_int_equal(gap.kind, CUSTOS_REC_GAP);
			assert_int_equal(gap.u.agent.lost, 3 - from + 10 + extra);
			assert_int_equal(gap.u.agent.batches_lost, 3 - from + 5 + extra);
			assert_int_equal(gap.u.agent.to_ns, extra ? 2010 : 2009);
			assert_int_equal(gap.u.agent.from_ns, from == 1 ? 1001 : 1002);
			assert_int_equal(record_iter_next(&it, &f->rec), 1);
			assert_int_equal(f->rec.kind, CUSTOS_REC_EXEC);
			assert_int_equal(record_iter_next(&it, &f->rec), 0);
			buf_free(&signed_b);
			buf_free(&raw);
		}
		buf_free(&b);
	}
	(void)records;
	stop(f);
}

/* A crash in the middle of a spool-full episode: the next run still writes
 * the gap record, with the counts of the run that crashed. */
static void test_gap_survives_crash(void **state)
{
	struct fixture *f = *state;
	struct spool_status ss;
	struct custos_record gap;
	struct spool_entry e;
	struct buf b, signed_b, raw;
	struct batch_view v;
	struct record_iter it;
	uint64_t from = 0;
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		start(f, 1000, 1 << 20, 1000000000ull);	/* two one-record batches fit */
		for (uint64_t i = 0; i < 5; i++) {
			add(f, 100 + i, 1000 + i);
			batcher_flush(&f->b);
		}
		_exit(f->b.gap.batches == 3 && f->b.gap.lost == 3 ? 0 : 1);	/* kill -9 */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(spool_inspect(f->dir, &ss), 0);
	assert_int_equal(ss.gap.lost, 3);
	assert_int_equal(ss.gap.batches, 3);
	start(f, 1000, 1 << 20, 1000000000ull);
	assert_int_equal(f->b.gap.lost, 3);
	while (spool_next(f->sp, from, &e) == 1) {
		assert_int_equal(spool_ack(f->sp, e.seq, e.hash, (const uint8_t *)"ok", 2), 0);
		from = e.seq + 1;
	}
	add(f, 400, 3000);
	assert_int_equal(batcher_flush(&f->b), 0);
	buf_init(&b, CUSTOS_SEALED_MAX);
	buf_init(&signed_b, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	assert_int_equal(spool_next(f->sp, 0, &e), 1);
	assert_int_equal(spool_read(f->sp, &e, &b), 0);
	assert_int_equal(seal_open(b.data, b.len, &f->coll, &signed_b), 0);
	assert_int_equal(batch_verify(signed_b.data, signed_b.len, tu_lookup, (void *)&f->host, &v,
				      &raw), 0);
	record_iter_init(&it, &raw, &v.hdr);
	assert_int_equal(record_iter_next(&it, &gap), 1);
	assert_int_equal(gap.kind, CUSTOS_REC_GAP);
	assert_int_equal(gap.u.agent.lost, 3);
	assert_int_equal(gap.u.agent.batches_lost, 3);
	assert_int_equal(gap.u.agent.from_ns, 1002);
	assert_int_equal(gap.u.agent.to_ns, 1004);
	stop(f);
	assert_int_equal(spool_inspect(f->dir, &ss), 0);
	assert_int_equal(ss.gap.batches, 0);		/* on record now */
	buf_free(&b);
	buf_free(&signed_b);
	buf_free(&raw);
}

/* The offline reader: every frame a BATCH, every batch opens, verifies and
 * chains from sequence 0. Returns the number of batches; OUT: *records. */
static uint64_t read_offline(struct fixture *f, uint64_t *records)
{
	struct custos_record gap;
	struct chain_state ch;
	struct frame fr;
	uint8_t *data = malloc(1 << 22);
	size_t len = 0, used, off = 0;
	ssize_t r;
	uint64_t n = 0;
	int fd = open(f->file, O_RDONLY);

	assert_non_null(data);
	assert_true(fd >= 0);
	while ((r = read(fd, data + len, (1 << 22) - len)) > 0)
		len += (size_t)r;
	close(fd);
	chain_init(&ch);
	*records = 0;
	while (off < len) {
		assert_int_equal(frame_parse(data + off, len - off, &fr, &used), 0);
		assert_int_equal(fr.type, FRAME_BATCH);
		check_sealed(f, fr.payload, fr.len, &ch, records, &gap);
		off += used;
		n++;
	}
	free(data);
	return n;
}

static void offline_run(struct fixture *f, uint64_t first_pid, int n)
{
	struct outfile *of;
	uint64_t moved;
	char err[256];

	start(f, 1u << 30, 2048, 1000000000ull);
	assert_int_equal(outfile_open(f->file, f->dir, f->sp, &of, err, sizeof(err)), 0);
	for (int i = 0; i < n; i++)
		add(f, first_pid + (uint64_t)i, 5000 + (uint64_t)i);
	assert_int_equal(batcher_flush(&f->b), 0);
	assert_int_equal(outfile_drain(of, &moved), 0);
	assert_true(moved >= f->b.batches);	/* plus any left by a crash */
	outfile_close(of);
	stop(f);
}

static void test_offline_file(void **state)
{
	struct fixture *f = *state;
	uint64_t records, batches;
	char err[256];
	struct outfile *of;
	int fd;

	offline_run(f, 100, 40);
	batches = read_offline(f, &records);
	assert_int_equal(records, 40);
	assert_true(batches >= 2);
	/* A restart continues the chain in the same file. */
	offline_run(f, 500, 25);
	assert_true(read_offline(f, &records) > batches);
	assert_int_equal(records, 65);
	/* A torn tail (a crash mid-append) is cut at the next open. */
	fd = open(f->file, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x01\x01\x00\x00\x00\x00\x10\x00torn", 12), 12);
	close(fd);
	assert_int_equal(spool_open(f->dir, 1u << 30, &f->sp, err, sizeof(err)), 0);
	assert_int_equal(outfile_open(f->file, f->dir, f->sp, &of, err, sizeof(err)), 0);
	outfile_close(of);
	spool_close(f->sp);
	read_offline(f, &records);
	assert_int_equal(records, 65);
}

static int crash_step;
static void crash_hook(int step)
{
	if (step == crash_step)
		_exit(0);
}

/* Crash after the frame is in the file but before its receipt: the next
 * run must not write that batch twice. */
static void test_offline_crash_before_receipt(void **state)
{
	struct fixture *f = *state;
	uint64_t records;

	for (crash_step = SPOOL_STEP_ACK_TMP; crash_step <= SPOOL_STEP_UNLINKED; crash_step++) {
		pid_t pid;
		int status;
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' && mkdir '%s'", f->dir, f->file,
			 f->dir);
		assert_int_equal(system(cmd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			spool_fault_hook = crash_hook;
			offline_run(f, 100, 10);
			_exit(2);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("crash at step %d: child status %d", crash_step, status);
		offline_run(f, 900, 3);
		read_offline(f, &records);
		assert_int_equal(records, 13);
	}
}

static void test_clock(void **state)
{
	struct clock_sample a, b;
	struct custos_record r;
	uint8_t id[CUSTOS_BOOT_ID_LEN], zero[CUSTOS_BOOT_ID_LEN] = { 0 };

	(void)state;
	assert_int_equal(clock_boot_id(id), 0);
	assert_memory_not_equal(id, zero, sizeof(id));
	assert_int_equal(clock_sample(&a), 0);
	assert_int_equal(clock_sample(&b), 0);
	assert_true(b.boot_ns >= a.boot_ns);
	assert_false(clock_step_check(&a, &b, 100000000, &r));
	b.offset_ns -= 3600ll * 1000000000ll;	/* someone set the clock back an hour */
	assert_true(clock_step_check(&a, &b, 100000000, &r));
	assert_int_equal(r.kind, CUSTOS_REC_CLOCK_STEP);
	assert_int_equal(r.u.agent.offset_new_ns, b.offset_ns);
	assert_int_equal(r.u.agent.offset_old_ns, a.offset_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_by_size_and_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_spool_one_gap_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_survives_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_crash_before_receipt, setup, teardown),
		cmocka_unit_test(test_clock),
	};

	assert_int_equal(custos_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
