/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward: the TCP client that delivers the spool to the collector
 * (forward.h). One thread: connect (back-off with jitter on failure), send
 * BATCH frames up to max_inflight ahead, read ACK frames, check each ack
 * (docs/format.md 6: signature, host id, sequence number, batch hash),
 * then spool_ack() keeps it as a receipt and deletes the batch. Any
 * protocol error, forged or mismatched ack, or ack timeout closes the
 * connection; unacknowledged batches are simply sent again on the next.
 * A NACK (the collector refused a batch and closes) is logged, noted in
 * the spool for `status`, and handled like a closed connection: the batch
 * stays, the back-off keeps growing.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "ack.h"
#include "error.h"
#include "forward.h"
#include "frame.h"

#define CONNECT_TIMEOUT_MS 3000
#define SEND_TIMEOUT_S 10
#define POLL_MS 50

struct forward {
	struct forward_opts o;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t mu;		/* guards st */
	struct forward_stats st;
	int fd;
	struct spool_entry inflight[FORWARD_INFLIGHT_MAX];
	unsigned n_inflight;
	uint64_t next_from;		/* next sequence number to send */
	uint8_t rbuf[FRAME_HEADER_LEN + (ACK_MAX > FRAME_NACK_MAX ? ACK_MAX : FRAME_NACK_MAX)];
	int refusal_noted;		/* the spool may hold a refusal note to clear */
	size_t rlen;
	uint64_t progress_ms;		/* last send into an empty window, or ack */
	unsigned backoff_ms;
	struct buf sealed, framed;
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void stat_update(struct forward *f, void (*fn)(struct forward_stats *, uint64_t), uint64_t v)
{
	pthread_mutex_lock(&f->mu);
	fn(&f->st, v);
	pthread_mutex_unlock(&f->mu);
}

static void st_sent(struct forward_stats *s, uint64_t v) { (void)v; s->sent++; }
static void st_refused(struct forward_stats *s, uint64_t v) { (void)v; s->refused_acks++; }
static void st_connected(struct forward_stats *s, uint64_t v) { s->connected = (int)v; if (v) s->connects++; }
static void st_conn_fail(struct forward_stats *s, uint64_t v) { (void)v; s->connect_failures++; }
static void st_acked(struct forward_stats *s, uint64_t seq) { s->acked++; s->last_ack_seq = seq; }
static void st_nack(struct forward_stats *s, uint64_t err)
{
	s->refusals++;
	s->last_refusal_error = err;
	s->last_refusal_permanent = frame_nack_permanent(err);
}

/* Sleep ms, waking early when asked to stop. */
static void nap(struct forward *f, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (!atomic_load(&f->stop) && now_ms() < end)
		poll(NULL, 0, POLL_MS);
}

/* Exponential back-off with jitter: wait a random time in [b/2, b], then
 * double b up to the maximum. */
static void back_off(struct forward *f)
{
	unsigned b = f->backoff_ms;

	nap(f, b / 2 + randombytes_uniform(b / 2 + 1));
	f->backoff_ms = b * 2 > f->o.backoff_max_ms ? f->o.backoff_max_ms : b * 2;
}

static int connect_addr(const struct addrinfo *ai)
{
	struct pollfd p;
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	int fd, err = 0, one = 1;
	socklen_t len = sizeof(err);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, CONNECT_TIMEOUT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		goto fail;
	if (fcntl(fd, F_SETFL, 0) || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	close(fd);
	return -1;
}

static int open_connection(struct forward *f)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char port[8];

	snprintf(port, sizeof(port), "%u", f->o.port);
	if (getaddrinfo(f->o.host, port, &hints, &res))
		return -1;
	for (ai = res; ai && f->fd < 0; ai = ai->ai_next)
		f->fd = connect_addr(ai);
	freeaddrinfo(res);
	if (f->fd < 0)
		return -1;
	f->n_inflight = 0;
	f->next_from = 0;
	f->rlen = 0;
	f->progress_ms = now_ms();
	fprintf(stderr, "custos-agent: forward: connected to %s:%u\n", f->o.host, f->o.port);
	stat_update(f, st_connected, 1);
	return 0;
}

static void close_connection(struct forward *f, const char *why)
{
	if (f->fd < 0)
		return;
	fprintf(stderr, "custos-agent: forward: closing the connection to %s:%u: %s; %u "
		"unacknowledged batch(es) stay spooled\n", f->o.host, f->o.port, why,
		f->n_inflight);
	close(f->fd);
	f->fd = -1;
	f->n_inflight = 0;
	stat_update(f, st_connected, 0);
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send spooled batches until the window is full. Returns 0 or -1. */
static int fill_window(struct forward *f)
{
	struct spool_entry e;

	while (f->n_inflight < f->o.max_inflight && spool_next(f->o.spool, f->next_from, &e) == 1) {
		if (spool_read(f->o.spool, &e, &f->sealed))
			return -1;
		buf_reset(&f->framed);
		if (frame_write(&f->framed, FRAME_BATCH, f->sealed.data, f->sealed.len) ||
		    send_all(f->fd, f->framed.data, f->framed.len))
			return -1;
		if (f->n_inflight == 0)
			f->progress_ms = now_ms();
		f->inflight[f->n_inflight++] = e;
		f->next_from = e.seq + 1;
		stat_update(f, st_sent, 0);
	}
	return 0;
}

/* Check one ack (docs/format.md 6) and, if it holds, keep it and delete
 * the batch. Returns 0 or -1 with *why set. */
static int take_ack(struct forward *f, const uint8_t *p, size_t n, const char **why)
{
	struct ack a;
	unsigned i;
	int ret = ack_verify(p, n, f->o.collector_sign_pk, &a);

	if (ret) {
		*why = ret == -CUSTOS_ERR_BAD_SIGNATURE ? "an ack whose signature does not verify "
			"with the collector key" : "a malformed ack";
		stat_update(f, st_refused, 0);
		return -1;
	}
	for (i = 0; i < f->n_inflight && f->inflight[i].seq != a.seq; i++)
		;
	if (sodium_memcmp(a.host_id, f->o.host_id, KEYS_SIGN_PK_LEN) != 0 || i == f->n_inflight ||
	    sodium_memcmp(a.batch_hash, f->inflight[i].hash, CUSTOS_HASH_LEN) != 0) {
		*why = "an ack for another host, sequence number or batch hash";
		stat_update(f, st_refused, 0);
		return -1;
	}
	if (spool_ack(f->o.spool, a.seq, a.batch_hash, p, n)) {
		*why = "the receipt could not be written to the spool";
		return -1;
	}
	memmove(&f->inflight[i], &f->inflight[i + 1], (f->n_inflight - i - 1) * sizeof(f->inflight[0]));
	f->n_inflight--;
	f->progress_ms = now_ms();
	f->backoff_ms = f->o.backoff_min_ms;
	stat_update(f, st_acked, a.seq);
	if (f->refusal_noted && spool_note_refusal(f->o.spool, NULL) == 0)
		f->refusal_noted = 0;
	return 0;
}

/* A NACK: which batch, why, permanent or not; logged and noted for
 * `status`. The batch stays spooled. Returns -1 with *why set (the
 * collector closes the connection after a NACK). */
static int take_nack(struct forward *f, const uint8_t *p, size_t n, const char **why)
{
	char reason[FRAME_NACK_REASON_MAX + 1], line[SPOOL_REFUSAL_MAX], when[32];
	struct frame_nack k;
	struct tm tm;
	time_t t = time(NULL);
	unsigned i = 0;
	int perm;

	*why = "the collector refused a batch (logged above)";
	if (frame_nack_decode(p, n, &k)) {
		*why = "a malformed NACK frame";
		return -1;
	}
	for (uint32_t j = 0; j < k.reason_len; j++)	/* printable in a log line */
		reason[j] = k.reason[j] < 0x20 || k.reason[j] == 0x7f ? '?' : (char)k.reason[j];
	reason[k.reason_len] = '\0';
	while (k.batch_hash_len && i < f->n_inflight &&
	       sodium_memcmp(f->inflight[i].hash, k.batch_hash, CUSTOS_HASH_LEN) != 0)
		i++;
	if (i == f->n_inflight)
		i = 0;	/* no hash: the oldest batch not yet acknowledged */
	perm = frame_nack_permanent(k.error);
	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "?");
	snprintf(line, sizeof(line), "%s: batch seq %llu refused, %s (%s): %s", when,
		 f->n_inflight ? (unsigned long long)f->inflight[i].seq : 0ull,
		 custos_strerror((int)(k.error > INT32_MAX ? 0 : k.error)),
		 perm ? "permanent: it is refused again until the collector's operator acts"
		      : "transient", reason);
	fprintf(stderr, "custos-agent: forward: %s:%u: %s; the batch stays spooled\n", f->o.host,
		f->o.port, line);
	if (spool_note_refusal(f->o.spool, line) == 0)
		f->refusal_noted = 1;
	stat_update(f, st_nack, k.error);
	return -1;
}

/* Read what the collector sent and handle whole frames. Returns 0 or -1. */
static int read_acks(struct forward *f, const char **why)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	struct frame fr;
	size_t used;
	ssize_t r;
	int ret;

	if (poll(&p, 1, POLL_MS) <= 0)
		return 0;
	r = recv(f->fd, f->rbuf + f->rlen, sizeof(f->rbuf) - f->rlen, MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		*why = r == 0 ? "the collector closed it" : strerror(errno);
		return -1;
	}
	if (r > 0)
		f->rlen += (size_t)r;
	while ((ret = frame_parse(f->rbuf, f->rlen, &fr, &used)) == 0) {
		if (fr.type == FRAME_NACK)
			return take_nack(f, fr.payload, fr.len, why);
		if (fr.type != FRAME_ACK) {
			*why = "a frame other than ACK or NACK";
			return -1;
		}
		if (take_ack(f, fr.payload, fr.len, why))
			return -1;
		memmove(f->rbuf, f->rbuf + used, f->rlen - used);
		f->rlen -= used;
	}
	if (ret != -CUSTOS_ERR_AGAIN || f->rlen == sizeof(f->rbuf)) {
		*why = "a malformed or oversized frame";
		return -1;
	}
	return 0;
}

static void *forward_main(void *arg)
{
	struct forward *f = arg;
	const char *why = NULL;

	while (!atomic_load(&f->stop)) {
		if (f->fd < 0) {
			if (open_connection(f)) {
				stat_update(f, st_conn_fail, 0);
				back_off(f);
			}
			continue;
		}
		why = NULL;
		if (fill_window(f))
			why = "sending failed";
		else if (read_acks(f, &why) == 0 && f->n_inflight > 0 &&
			 now_ms() - f->progress_ms > f->o.ack_timeout_ms)
			why = "no acknowledgement in time";
		if (why) {
			close_connection(f, why);
			back_off(f);
		}
	}
	close_connection(f, "stopping");
	return NULL;
}

int forward_start(const struct forward_opts *o, struct forward **out)
{
	struct forward *f;

	*out = NULL;
	if (!o->spool || o->max_inflight < 1 || o->max_inflight > FORWARD_INFLIGHT_MAX ||
	    o->backoff_min_ms < 1 || o->backoff_max_ms < o->backoff_min_ms || !o->ack_timeout_ms)
		return -CUSTOS_ERR_INVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -CUSTOS_ERR_NOMEM;
	f->o = *o;
	f->fd = -1;
	f->backoff_ms = o->backoff_min_ms;
	f->refusal_noted = 1;	/* a note from an earlier run goes at the first ack */
	buf_init(&f->sealed, CUSTOS_SEALED_MAX);
	buf_init(&f->framed, CUSTOS_SEALED_MAX + FRAME_HEADER_LEN);
	pthread_mutex_init(&f->mu, NULL);
	if (pthread_create(&f->thread, NULL, forward_main, f)) {
		pthread_mutex_destroy(&f->mu);
		free(f);
		return -CUSTOS_ERR_IO;
	}
	*out = f;
	return 0;
}

int forward_wait_drained(struct forward *f, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms, batches, bytes;

	for (;;) {
		spool_depth(f->o.spool, &batches, &bytes);
		if (batches == 0)
			return 0;
		if (now_ms() >= end)
			return -CUSTOS_ERR_AGAIN;
		poll(NULL, 0, 20);
	}
}

void forward_stop(struct forward *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, 1);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->mu);
	buf_free(&f->sealed);
	buf_free(&f->framed);
	free(f);
}

void forward_get_stats(struct forward *f, struct forward_stats *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	pthread_mutex_unlock(&f->mu);
}
