/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/forward.c against a minimal collector written here
 * with common/frame.h and common/ack.h on 127.0.0.1: it receives BATCH
 * frames, opens them with seal_open, checks them with batch_verify and
 * chain_check, and answers ACK frames. Cases: everything is delivered and
 * receipted; the peer dies and comes back (the spool grows, then drains);
 * a peer that forges acks (wrong key, wrong hash) never gets a batch
 * deleted; a peer that refuses with a NACK: the refusal is counted as
 * permanent, noted for status, the batch kept, and it goes once the peer
 * accepts. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "ack.h"
#include "batcher.h"
#include "chain.h"
#include "forward.h"
#include "frame.h"
#include "spool.h"

enum peer_mode { PEER_GOOD, PEER_FORGED_KEY, PEER_WRONG_HASH, PEER_NACK };

struct peer {
	const struct custos_keypair *coll, *host, *forger;
	enum peer_mode mode;
	int lfd;
	uint16_t port;
	atomic_int stop;
	atomic_int received;		/* batches that verified */
	uint64_t max_batches;		/* close everything after this many (0: never) */
	struct chain_state chain;
	int chain_errors;
	pthread_t th;
};

static int listen_on(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*bound = ntohs(a.sin_port);
	return fd;
}

/* Answer one BATCH frame's payload. Returns 0 or -1 (close). */
static int answer(struct peer *p, int fd, const uint8_t *sealed, size_t n)
{
	struct buf signed_b, raw, out, frame;
	struct batch_view v;
	struct ack a = { 0 };
	int ret = -1;

	buf_init(&signed_b, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	buf_init(&out, ACK_MAX);
	buf_init(&frame, ACK_MAX + FRAME_HEADER_LEN);
	if (seal_open(sealed, n, p->coll, &signed_b) ||
	    batch_verify(signed_b.data, signed_b.len, tu_lookup, (void *)p->host, &v, &raw))
		goto out;
	if (p->mode == PEER_NACK) {	/* what custos-collector sends, then it closes */
		struct frame_nack k;
		frame_nack_set(&k, -CUSTOS_ERR_UNKNOWN_HOST, v.hash, "batch refused: unknown host "
			       "web1\n(seq 0)");
		if (frame_nack_encode(&out, &k) == 0 &&
		    frame_write(&frame, FRAME_NACK, out.data, out.len) == 0)
			send(fd, frame.data, frame.len, MSG_NOSIGNAL);
		goto out;
	}
	if (chain_check(&p->chain, &v.hdr) == -CUSTOS_ERR_REPLAY) {
		ret = 0;	/* a resend of a batch already archived: ack again */
	} else {
		if (chain_check(&p->chain, &v.hdr))
			p->chain_errors++;
		chain_advance(&p->chain, &v.hdr, v.hash);
		atomic_fetch_add(&p->received, 1);
	}
	memcpy(a.host_id, v.hdr.host_id, KEYS_SIGN_PK_LEN);
	a.seq = v.hdr.seq;
	memcpy(a.batch_hash, v.hash, CUSTOS_HASH_LEN);
	if (p->mode == PEER_WRONG_HASH)
		a.batch_hash[0] ^= 1;
	a.leaf_index = v.hdr.seq;
	a.received_unix_ns = 1;
	if (ack_sign(&a, p->mode == PEER_FORGED_KEY ? p->forger : p->coll, &out) ||
	    frame_write(&frame, FRAME_ACK, out.data, out.len) ||
	    send(fd, frame.data, frame.len, MSG_NOSIGNAL) != (ssize_t)frame.len)
		goto out;
	ret = 0;
out:
	buf_free(&signed_b);
	buf_free(&raw);
	buf_free(&out);
	buf_free(&frame);
	return ret;
}

static void serve(struct peer *p, int fd)
{
	struct buf in;
	struct frame fr;
	size_t used;

	buf_init(&in, CUSTOS_SEALED_MAX + 64);
	while (!atomic_load(&p->stop)) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		if (buf_reserve(&in, 65536))
			break;
		r = recv(fd, in.data + in.len, 65536, 0);
		if (r <= 0)
			break;
		in.len += (size_t)r;
		while (frame_parse(in.data, in.len, &fr, &used) == 0) {
			if (fr.type != FRAME_BATCH || answer(p, fd, fr.payload, fr.len))
				goto out;
			memmove(in.data, in.data + used, in.len - used);
			in.len -= used;
			if (p->max_batches && (uint64_t)atomic_load(&p->received) >= p->max_batches)
				goto out;
		}
	}
out:
	buf_free(&in);
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;

	while (!atomic_load(&p->stop)) {
		struct pollfd pf = { .fd = p->lfd, .events = POLLIN };
		int fd;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		fd = accept(p->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(p, fd);
		close(fd);
		if (p->max_batches && (uint64_t)atomic_load(&p->received) >= p->max_batches)
			break;	/* the collector "dies" */
	}
	return NULL;
}

static void peer_start(struct peer *p, uint16_t port)
{
	atomic_store(&p->stop, 0);
	p->lfd = listen_on(port, &p->port);
	assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static void peer_stop(struct peer *p)
{
	atomic_store(&p->stop, 1);
	pthread_join(p->th, NULL);
	close(p->lfd);
}

struct fx {
	struct custos_keypair host, coll, forger;
	char dir[64];
	struct spool *sp;
	struct batcher b;
	struct peer peer;
	struct custos_record rec;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct batcher_opts o = { 0 };
	char err[256];

	assert_non_null(f);
	tu_keys(&f->host, 1);
	tu_keys(&f->coll, 2);
	tu_keys(&f->forger, 3);
	strcpy(f->dir, "/tmp/custos-test-forward.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(spool_open(f->dir, 1u << 30, &f->sp, err, sizeof(err)), 0);
	o.max_bytes = 1024;
	o.max_delay_ns = 1000000000ull;
	o.host = &f->host;
	o.collector = &f->coll.pub;
	o.spool = f->sp;
	assert_int_equal(batcher_init(&f->b, &o), 0);
	f->peer.coll = &f->coll;
	f->peer.host = &f->host;
	f->peer.forger = &f->forger;
	chain_init(&f->peer.chain);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	batcher_free(&f->b);
	spool_close(f->sp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Spool n batches of 3 records each. */
static void make_batches(struct fx *f, int n)
{
	static uint64_t ts = 1000;

	for (int i = 0; i < n; i++) {
		for (int j = 0; j < 3; j++) {
			tu_exec(&f->rec, 100 + (uint64_t)j, ts++);
			assert_int_equal(batcher_add(&f->b, &f->rec, ts), 0);
		}
		assert_int_equal(batcher_flush(&f->b), 0);
	}
}

static struct forward *fwd_start(struct fx *f)
{
	struct forward_opts o = { 0 };
	struct forward *fw;

	snprintf(o.host, sizeof(o.host), "127.0.0.1");
	o.port = f->peer.port;
	memcpy(o.collector_sign_pk, f->coll.pub.sign_pk, KEYS_SIGN_PK_LEN);
	memcpy(o.host_id, f->host.pub.sign_pk, KEYS_SIGN_PK_LEN);
	o.max_inflight = 4;
	o.backoff_min_ms = 20;
	o.backoff_max_ms = 200;
	o.ack_timeout_ms = 5000;
	o.spool = f->sp;
	assert_int_equal(forward_start(&o, &fw), 0);
	return fw;
}

static void expect_receipts(struct fx *f, uint64_t n)
{
	struct spool_status st;

	assert_int_equal(spool_inspect(f->dir, &st), 0);
	assert_int_equal(st.acks, n);
	assert_int_equal(st.batches, 0);
	assert_int_equal(st.last_ack_seq, n - 1);
}

static void test_delivers_all_in_order(void **state)
{
	struct fx *f = *state;
	struct forward_stats st;
	struct forward *fw;

	make_batches(f, 10);
	f->peer.mode = PEER_GOOD;
	peer_start(&f->peer, 0);
	fw = fwd_start(f);
	assert_int_equal(forward_wait_drained(fw, 10000), 0);
	make_batches(f, 5);	/* while connected */
	assert_int_equal(forward_wait_drained(fw, 10000), 0);
	/* The counter moves just after the spool empties: wait for it. */
	for (int i = 0; i < 200; i++) {
		forward_get_stats(fw, &st);
		if (st.acked == 15)
			break;
		usleep(10000);
	}
	forward_stop(fw);
	peer_stop(&f->peer);
	assert_int_equal(atomic_load(&f->peer.received), 15);
	assert_int_equal(f->peer.chain_errors, 0);
	assert_int_equal(f->peer.chain.next_seq, 15);
	assert_int_equal(st.acked, 15);
	assert_int_equal(st.refused_acks, 0);
	expect_receipts(f, 15);
}

static void test_peer_dies_and_comes_back(void **state)
{
	struct fx *f = *state;
	struct forward *fw;
	uint64_t nb, bytes;
	uint16_t port;

	make_batches(f, 6);
	f->peer.mode = PEER_GOOD;
	f->peer.max_batches = 3;	/* dies after three */
	peer_start(&f->peer, 0);
	port = f->peer.port;
	fw = fwd_start(f);
	pthread_join(f->peer.th, NULL);	/* it died */
	close(f->peer.lfd);
	make_batches(f, 4);		/* the spool grows meanwhile */
	usleep(300000);
	spool_depth(f->sp, &nb, &bytes);
	assert_true(nb >= 7);
	f->peer.max_batches = 0;
	peer_start(&f->peer, port);	/* back on the same port */
	assert_int_equal(forward_wait_drained(fw, 15000), 0);
	forward_stop(fw);
	peer_stop(&f->peer);
	assert_int_equal(atomic_load(&f->peer.received), 10);
	assert_int_equal(f->peer.chain_errors, 0);
	expect_receipts(f, 10);
}

static void forged(void **state, enum peer_mode mode)
{
	struct fx *f = *state;
	struct forward_stats st;
	struct forward *fw;
	struct spool_status ss;

	make_batches(f, 3);
	f->peer.mode = mode;
	peer_start(&f->peer, 0);
	fw = fwd_start(f);
	assert_int_equal(forward_wait_drained(fw, 1500), -CUSTOS_ERR_AGAIN);
	forward_get_stats(fw, &st);
	assert_true(st.refused_acks >= 1);
	assert_int_equal(st.acked, 0);
	assert_int_equal(spool_inspect(f->dir, &ss), 0);
	assert_int_equal(ss.batches, 3);	/* nothing deleted */
	assert_int_equal(ss.acks, 0);		/* no receipt kept */
	/* The real collector answers: now they go. */
	f->peer.mode = PEER_GOOD;
	assert_int_equal(forward_wait_drained(fw, 10000), 0);
	forward_stop(fw);
	peer_stop(&f->peer);
	expect_receipts(f, 3);
}

static void test_nack_keeps_batch(void **state)
{
	struct fx *f = *state;
	struct forward_stats st;
	struct forward *fw;
	struct spool_status ss;

	make_batches(f, 2);
	f->peer.mode = PEER_NACK;
	peer_start(&f->peer, 0);
	fw = fwd_start(f);
	assert_int_equal(forward_wait_drained(fw, 1000), -CUSTOS_ERR_AGAIN);
	forward_get_stats(fw, &st);
	assert_true(st.refusals >= 1);
	assert_int_equal(st.last_refusal_error, CUSTOS_ERR_UNKNOWN_HOST);
	assert_true(st.last_refusal_permanent);
	assert_int_equal(st.acked, 0);
	assert_int_equal(spool_inspect(f->dir, &ss), 0);
	assert_int_equal(ss.batches, 2);	/* kept */
	assert_non_null(strstr(ss.refusal, "batch seq 0 refused"));
	assert_non_null(strstr(ss.refusal, "permanent"));
	assert_non_null(strstr(ss.refusal, "unknown host web1?(seq 0)"));	/* no newline */
	f->peer.mode = PEER_GOOD;	/* enrolled now */
	assert_int_equal(forward_wait_drained(fw, 10000), 0);
	forward_stop(fw);
	peer_stop(&f->peer);
	expect_receipts(f, 2);
	assert_int_equal(spool_inspect(f->dir, &ss), 0);
	assert_string_equal(ss.refusal, "");	/* cleared by the ack */
}

static void test_forged_ack_key(void **state)
{
	forged(state, PEER_FORGED_KEY);
}

static void test_ack_wrong_hash(void **state)
{
	forged(state, PEER_WRONG_HASH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delivers_all_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_dies_and_comes_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_ack_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_wrong_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack_keeps_batch, setup, teardown),
	};

	assert_int_equal(custos_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
