/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve: one process, one epoll loop, many agents (docs/protocol.md).
 * Each connection carries frames (docs/format.md 5): the agent sends
 * BATCH frames, the collector answers each accepted batch with an ACK
 * frame, in order. Refused input is logged with its reason and closes
 * that connection only; a refused batch is first answered with a NACK
 * frame giving the reason.
 *
 * Budgets per connection, so that slow, silent or hostile peers cannot
 * hurt the others: the frame header is checked before any payload is
 * buffered (length over --max-frame: closed); unparsed input never
 * exceeds one frame (header + --max-frame); at most READ_BUDGET bytes are
 * read and WRITE_BUDGET written per wakeup (level-triggered epoll comes
 * back for the rest); pending output past OUT_MAX (a peer that does not
 * read its acks) closes it; a connection that completes no frame for
 * --idle-timeout seconds is closed by the periodic timer (CLOCK_MONOTONIC,
 * timerfd), which also signs checkpoints every --checkpoint-interval and
 * rereads enrolments; a connection closing with acks still unread by its
 * peer gets CLOSING_MS to take them. A connection is only marked dead inside a callback
 * and freed after the wakeup's events are all handled.
 *
 * States of a connection: OPEN (reading frames) -> CLOSING (an error was
 * logged; pending acks are flushed, nothing more is read) -> DEAD (freed
 * at the end of the wakeup). Crash behaviour is that of ingest.h: an ack
 * is only ever queued after its batch is archived and logged.
 *
 * Input budget across connections (--max-buffered): a connection reads
 * a frame's payload only after reserving header + length bytes of the
 * budget, and without a reservation reads no further than the next
 * header; a frame that does not fit waits (the connection is paused: no
 * EPOLLIN, its idle clock stopped) until frames of others complete. A
 * reserved frame can always complete, so nothing deadlocks; unparsed
 * input is at most the budget plus 8 bytes per connection (allocations
 * at most twice that: buffers grow by doubling and are freed past 1 MiB
 * once their frame is handled).
 *
 * Group commit (invariant): the batches of all connections read in one
 * epoll wakeup are staged (ingest_stage: archived, not yet synced) and
 * their answers are held in each connection's `held` buffer, in order;
 * after the wakeup's events, one ingest_commit syncs them all (one fsync
 * of the archive, one of the custody leaves), and only then are the held
 * frames moved to the output. An ack therefore never leaves before the
 * fsync that covers its batch; if the commit fails, the held frames are
 * dropped and those connections are closed (the log is then fail-stop).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "triage.h"
#include "error.h"
#include "ack.h"
#include "frame.h"
#include "ingest.h"

#define READ_BUDGET (1u << 20)
#define WRITE_BUDGET (64u << 10)
#define OUT_MAX (1u << 20)
#define TICK_MS 250
#define CLOSING_MS 5000		/* time to flush acks before a close */
#define SERVE_BUFFERED_DEFAULT (256ull << 20)	/* --max-buffered */

enum src_type { SRC_LISTEN, SRC_TIMER, SRC_SIGNAL, SRC_CONN };
enum conn_state { CONN_OPEN, CONN_CLOSING, CONN_DEAD };

struct src {
	enum src_type type;
};

struct conn {
	struct src src;
	int fd;
	enum conn_state state;
	uint64_t id;
	char peer[80];
	struct buf in, out;
	struct buf held;	/* frames answering this wakeup's batches (group commit) */
	size_t out_off;
	uint64_t last_frame_ms;
	uint64_t closing_ms;	/* when CLOSING began */
	int want_out;
	int want_in;		/* EPOLLIN registered */
	int paused;		/* waiting for input budget */
	size_t reserved;	/* input budget held for the frame being read */
	struct conn *next;
};

struct server {
	int epfd;
	struct src listen_src, timer_src, signal_src;
	int lfd, tfd, sfd;
	struct ingest g;
	struct triage *triage;	/* serve --rules (NULL: none), for ingest_open */
	struct conn *conns;
	size_t nconns, max_conns;
	uint64_t next_id;
	uint32_t max_frame;
	uint64_t max_buffered, reserved;	/* input budget, and what is reserved of it */
	uint64_t idle_ms, checkpoint_ms, last_checkpoint_ms;
	int stop;
	int staged;		/* batches staged in this wakeup, not yet committed */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Mark c for closing with a logged reason (CLOSING: flush acks first). */
static void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_fail(struct conn *c, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->state == CONN_OPEN)
		coll_log("conn #%llu %s: closed: %s", (unsigned long long)c->id, c->peer, why);
	c->state = c->out.len > c->out_off || c->held.len ? CONN_CLOSING : CONN_DEAD;
	c->closing_ms = mono_ms();
}

static void conn_interest(struct server *s, struct conn *c)
{
	int want = c->out.len > c->out_off, in = c->state == CONN_OPEN && !c->paused;
	struct epoll_event ev = { .events = (in ? EPOLLIN : 0) | (want ? EPOLLOUT : 0),
				  .data.ptr = c };

	if (c->state == CONN_DEAD)
		return;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		conn_fail(c, "epoll: %s", strerror(errno));
	c->want_out = want;
	c->want_in = in;
}

static void conn_flush(struct conn *c)
{
	size_t budget = WRITE_BUDGET;

	while (c->out.len > c->out_off && budget > 0) {
		size_t n = c->out.len - c->out_off;
		ssize_t w = send(c->fd, c->out.data + c->out_off, n < budget ? n : budget,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				c->out_off = c->out.len;	/* nothing more can go out */
				conn_fail(c, "write: %s", strerror(errno));
				c->state = CONN_DEAD;
			}
			return;
		}
		c->out_off += (size_t)w;
		budget -= (size_t)w;
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
		if (c->state == CONN_CLOSING && !c->held.len)	/* held: after the commit */
			c->state = CONN_DEAD;
	}
}

/* A refused batch: a NACK frame with the reason (docs/protocol.md 4),
 * after the answers already held, then the connection closes. */
static void refuse(struct server *s, struct conn *c, int err, const char *why)
{
	struct frame_nack n;
	struct buf p;

	buf_init(&p, FRAME_NACK_MAX);
	frame_nack_set(&n, err, s->g.refused_hash_set ? s->g.refused_hash : NULL, why);
	if (frame_nack_encode(&p, &n) == 0)
		frame_write(&c->held, FRAME_NACK, p.data, p.len);
	buf_free(&p);
	conn_fail(c, "%s", why);
}

/* One complete frame: its answer is held until the wakeup's commit. */
static void conn_frame(struct server *s, struct conn *c, const struct frame *f)
{
	char why[512];
	struct buf ack;
	int ret;

	if (f->type != FRAME_BATCH) {
		conn_fail(c, "protocol: frame type %u is not sent by agents", f->type);
		return;
	}
	buf_init(&ack, ACK_MAX);
	ret = ingest_stage(&s->g, f->payload, f->len, &ack, why, sizeof(why));
	if (ret >= 0) {
		s->staged = 1;
		ret = frame_write(&c->held, FRAME_ACK, ack.data, ack.len);
	}
	buf_free(&ack);
	if (ret < 0) {
		refuse(s, c, ret, why[0] ? why : custos_strerror(ret));
		return;
	}
	if (c->out.len - c->out_off + c->held.len > OUT_MAX)
		conn_fail(c, "%zu bytes of acknowledgements unread: the peer does not read",
			  c->out.len - c->out_off + c->held.len);
	c->last_frame_ms = mono_ms();
}

/* Parse and handle every complete frame in the input. */
static void conn_parse(struct server *s, struct conn *c)
{
	size_t used = 0, consumed;
	struct frame f;
	int ret;

	while (c->state == CONN_OPEN) {
		const uint8_t *p = c->in.data + used;
		size_t n = c->in.len - used;
		if (n >= FRAME_HEADER_LEN && load_be32(p + 4) > s->max_frame &&
		    p[0] == FRAME_VERSION) {
			conn_fail(c, "frame header announces %u bytes, over the limit of %u",
				  load_be32(p + 4), s->max_frame);
			break;
		}
		ret = frame_parse(p, n, &f, &consumed);
		if (ret == -CUSTOS_ERR_AGAIN)
			break;
		if (ret) {
			conn_fail(c, "bad frame header: %s", custos_strerror(ret));
			break;
		}
		conn_frame(s, c, &f);
		used += consumed;
	}
	if (used) {
		memmove(c->in.data, c->in.data + used, c->in.len - used);
		c->in.len -= used;
		s->reserved -= c->reserved;	/* only whole frames are reserved */
		c->reserved = 0;
		if (!c->in.len && c->in.cap > (1u << 20))
			buf_free(&c->in);
	}
}

/* How many bytes c may read now (the input budget, see the top): up to
 * the end of its reserved frame, or of the next header; 0 and paused when
 * the frame whose header is read does not fit in the budget. */
static size_t conn_room(struct server *s, struct conn *c)
{
	size_t need;

	if (c->reserved)
		return c->reserved - c->in.len;
	if (c->in.len < FRAME_HEADER_LEN)
		return FRAME_HEADER_LEN - c->in.len;
	need = FRAME_HEADER_LEN + (size_t)load_be32(c->in.data + 4);	/* checked by conn_parse */
	if (s->reserved + need > s->max_buffered) {
		if (!c->paused)
			coll_log("conn #%llu %s: paused: a frame of %zu bytes waits for the input "
				 "budget (%llu of %llu bytes reserved)", (unsigned long long)c->id,
				 c->peer, need, (unsigned long long)s->reserved,
				 (unsigned long long)s->max_buffered);
		c->paused = 1;
		return 0;
	}
	s->reserved += need;
	c->reserved = need;
	c->paused = 0;
	return need - c->in.len;
}

static void conn_read(struct server *s, struct conn *c)
{
	size_t budget = READ_BUDGET, room;
	ssize_t r;

	while (c->state == CONN_OPEN && budget > 0) {
		if (c->in.len >= c->in.max) {
			conn_fail(c, "more than %zu bytes of unparsed input", c->in.max);
			return;
		}
		room = conn_room(s, c);
		if (room == 0)
			return;	/* paused */
		if (room > 65536)
			room = 65536;
		if (buf_reserve(&c->in, room) != 0) {
			conn_fail(c, "out of memory for input");
			return;
		}
		r = recv(c->fd, c->in.data + c->in.len, room, MSG_DONTWAIT);
		if (r == 0) {
			if (c->in.len)
				conn_fail(c, "peer closed inside a frame (%zu bytes unparsed)",
					  c->in.len);
			else
				conn_fail(c, "peer closed the connection");
			return;
		}
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_fail(c, "read: %s", strerror(errno));
			return;
		}
		c->in.len += (size_t)r;
		budget -= (size_t)r < budget ? (size_t)r : budget;
		conn_parse(s, c);
	}
}

static void conn_free(struct server *s, struct conn *c)
{
	s->reserved -= c->reserved;
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->held);
	free(c);
}

static void on_accept(struct server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], port[16];
	struct conn *c;
	int fd;

	while ((fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
				NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			snprintf(host, sizeof(host), "?"), snprintf(port, sizeof(port), "?");
		if (s->nconns >= s->max_conns) {
			coll_log("connection from %s:%s refused: %zu connections already", host, port,
				 s->nconns);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->src.type = SRC_CONN;
		c->fd = fd;
		c->id = ++s->next_id;
		snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
		buf_init(&c->in, FRAME_HEADER_LEN + (size_t)s->max_frame);
		buf_init(&c->out, 2 * (OUT_MAX + FRAME_HEADER_LEN + ACK_MAX));
		buf_init(&c->held, OUT_MAX + FRAME_HEADER_LEN + ACK_MAX);
		c->last_frame_ms = mono_ms();
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			conn_free(s, c);
			continue;
		}
		c->want_in = 1;
		c->next = s->conns;
		s->conns = c;
		s->nconns++;
		sl = sizeof(ss);
	}
	if (errno != EAGAIN && errno != EINTR)
		coll_log("accept: %s", strerror(errno));
}

static void checkpoint(struct server *s, int force)
{
	int ret = ingest_checkpoint(&s->g, force);

	if (ret < 0)
		coll_log("checkpoint: %s", custos_strerror(ret));
	else if (ret == 1)
		coll_log("checkpoint signed: tree size %llu", (unsigned long long)s->g.log.size);
	s->last_checkpoint_ms = mono_ms();
}

/* The periodic job: idle timeouts, checkpoints, enrolment changes. */
static void on_tick(struct server *s)
{
	uint64_t expirations, now = mono_ms();
	int ret;

	if (read(s->tfd, &expirations, sizeof(expirations)) < 0)
		return;
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->paused)	/* waiting for us, not idle */
			c->last_frame_ms = now;
		if (c->state == CONN_OPEN && now - c->last_frame_ms > s->idle_ms)
			conn_fail(c, "no complete frame for %llu s (idle or too slow)",
				  (unsigned long long)(s->idle_ms / 1000));
		else if (c->state == CONN_CLOSING && now - c->closing_ms > CLOSING_MS)
			c->state = CONN_DEAD;	/* it does not read what is left */
	}
	if (now - s->last_checkpoint_ms >= s->checkpoint_ms)
		checkpoint(s, 0);
	ret = keystore_reload(&s->g.ks);
	if (ret)
		coll_log("custody/events.jsonl: %s: enrolments not reread", custos_strerror(ret));
}

static void on_signal(struct server *s)
{
	struct signalfd_siginfo si;

	if (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		coll_log("signal %u: stopping", si.ssi_signo);
		s->stop = 1;
	}
}

/* After the wakeup's events: one commit for every batch staged in it,
 * then the held answers go out (group commit, see the top). */
static void release(struct server *s)
{
	int ret = s->staged ? ingest_commit(&s->g) : 0;

	s->staged = 0;
	for (struct conn *c = s->conns; c; c = c->next) {
		int bad = ret;
		if (!c->held.len)
			continue;
		if (c->state != CONN_DEAD && !bad && buf_put(&c->out, c->held.data, c->held.len))
			bad = -CUSTOS_ERR_NOMEM;
		buf_reset(&c->held);
		if (c->state == CONN_DEAD)
			continue;
		if (bad) {
			conn_fail(c, "%s", ret ? "batch not stored: archive or custody log write failed"
					       : "out of memory for acknowledgements");
			if (c->out.len <= c->out_off)
				c->state = CONN_DEAD;
			continue;
		}
		conn_flush(c);
		if (c->state != CONN_DEAD)
			conn_interest(s, c);
	}
}

/* Paused connections whose frame now fits in the budget read again. */
static void resume(struct server *s)
{
	for (struct conn *c = s->conns; c && s->reserved < s->max_buffered; c = c->next) {
		if (c->state != CONN_OPEN || !c->paused || !conn_room(s, c))
			continue;
		coll_log("conn #%llu %s: resumed", (unsigned long long)c->id, c->peer);
		conn_interest(s, c);
	}
}

/* Free the connections marked dead during this wakeup. */
static void reap(struct server *s)
{
	struct conn **pp = &s->conns;

	while (*pp) {
		struct conn *c = *pp;
		if (c->state == CONN_DEAD) {
			*pp = c->next;
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
			conn_free(s, c);
			s->nconns--;
		} else {
			pp = &c->next;
		}
	}
}

static void on_conn(struct server *s, struct conn *c, uint32_t events)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->paused && (events & (EPOLLHUP | EPOLLERR)))	/* reported even without EPOLLIN */
		conn_fail(c, "peer gone while its frame waited for the input budget");
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(s, c);
	if (c->state != CONN_DEAD)
		conn_flush(c);
	if (c->state != CONN_DEAD && (c->want_out != (c->out.len > c->out_off) ||
				      c->want_in != (c->state == CONN_OPEN && !c->paused) ||
				      c->state == CONN_CLOSING))
		conn_interest(s, c);
}

static int listen_on(const char *spec)
{
	char host[256], *colon;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1;

	snprintf(host, sizeof(host), "%s", spec);
	colon = strrchr(host, ':');
	if (!colon) {
		coll_log("--listen %s: not ADDR:PORT", spec);
		return -CUSTOS_ERR_INVAL;
	}
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
		coll_log("--listen %s: not a numeric ADDR:PORT", spec);
		return -CUSTOS_ERR_INVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0) {
		coll_log("listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -CUSTOS_ERR_IO;
	}
	freeaddrinfo(ai);
	return fd;
}

static void log_listening(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], port[16];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		coll_log("listening on %s:%s", host, port);
}

static int setup(struct server *s, const char *listen_spec)
{
	struct itimerspec its = { { 0, TICK_MS * 1000000L }, { 0, TICK_MS * 1000000L } };
	sigset_t mask;
	struct epoll_event ev;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		return -CUSTOS_ERR_IO;
	signal(SIGPIPE, SIG_IGN);
	s->lfd = listen_on(listen_spec);
	if (s->lfd < 0)
		return s->lfd;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->epfd < 0 || s->tfd < 0 || s->sfd < 0 || timerfd_settime(s->tfd, 0, &its, NULL) != 0)
		return -CUSTOS_ERR_IO;
	s->listen_src.type = SRC_LISTEN;
	s->timer_src.type = SRC_TIMER;
	s->signal_src.type = SRC_SIGNAL;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &s->listen_src };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) != 0)
		return -CUSTOS_ERR_IO;
	ev.data.ptr = &s->timer_src;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &ev) != 0)
		return -CUSTOS_ERR_IO;
	ev.data.ptr = &s->signal_src;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sfd, &ev) != 0)
		return -CUSTOS_ERR_IO;
	log_listening(s->lfd);
	return 0;
}

static void run(struct server *s)
{
	struct epoll_event evs[64];

	while (!s->stop) {
		int n = epoll_wait(s->epfd, evs, 64, -1);
		if (n < 0 && errno != EINTR) {
			coll_log("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct src *src = evs[i].data.ptr;
			if (src->type == SRC_LISTEN)
				on_accept(s);
			else if (src->type == SRC_TIMER)
				on_tick(s);
			else if (src->type == SRC_SIGNAL)
				on_signal(s);
			else
				on_conn(s, (struct conn *)src, evs[i].events);
		}
		release(s);
		reap(s);
		resume(s);
	}
}

static void teardown(struct server *s)
{
	for (struct conn *c = s->conns; c; c = c->next)
		c->state = CONN_DEAD;
	reap(s);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->tfd >= 0)
		close(s->tfd);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->epfd >= 0)
		close(s->epfd);
	ingest_close(&s->g);
}

static int serve(const char *dir, const char *listen_spec, struct server *s)
{
	int lock, ret;

	coll_log_timestamps(1);
	lock = coll_lock_dir(dir);
	if (lock < 0) {
		coll_log("%s: %s", dir, lock == -CUSTOS_ERR_EXISTS ?
			 "another custos-collector holds the directory" : custos_strerror(lock));
		return lock;
	}
	ret = ingest_open(&s->g, dir, s->triage);
	if (!ret)
		ret = setup(s, listen_spec);
	if (!ret) {
		checkpoint(s, 0);
		coll_log("serving %s: %llu leaves in the custody log, %zu host(s) enrolled", dir,
			 (unsigned long long)s->g.log.size, s->g.ks.count);
		run(s);
		checkpoint(s, 0);
		coll_log("stopped: %llu accepted, %llu resent, %llu refused",
			 (unsigned long long)s->g.accepted, (unsigned long long)s->g.duplicates,
			 (unsigned long long)s->g.refused);
	}
	teardown(s);
	close(lock);
	return ret;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "listen", required_argument, NULL, 'l' },
		{ "max-frame", required_argument, NULL, 'm' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "checkpoint-interval", required_argument, NULL, 'c' },
		{ "max-conns", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ "rules", required_argument, NULL, 'r' },	/* issue 6: triage */
		{ "max-buffered", required_argument, NULL, 'b' },
		{ 0, 0, 0, 0 } };
	const char *u = "[--dir DIR] --listen ADDR:PORT [--max-frame BYTES] "
			"[--idle-timeout S] [--checkpoint-interval S] [--max-conns N] [--rules DIR] "
			"[--max-buffered BYTES]";
	const char *dir = coll_default_dir(), *listen_spec = NULL, *rules = NULL;
	struct triage *tri = NULL;
	uint64_t max_frame = FRAME_PAYLOAD_MAX, idle = 120, cpi = 60, conns = 4096;
	uint64_t max_buffered = SERVE_BUFFERED_DEFAULT;
	struct server s = { .epfd = -1, .lfd = -1, .tfd = -1, .sfd = -1 };
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'l')
			listen_spec = optarg;
		else if (c == 'm')
			bad |= coll_parse_u64(optarg, 64, FRAME_PAYLOAD_MAX, &max_frame);
		else if (c == 'i')
			bad |= coll_parse_u64(optarg, 1, 86400, &idle);
		else if (c == 'c')
			bad |= coll_parse_u64(optarg, 1, 86400, &cpi);
		else if (c == 'n')
			bad |= coll_parse_u64(optarg, 1, 1000000, &conns);
		else if (c == 'r')
			rules = optarg;
		else if (c == 'b')
			bad |= coll_parse_u64(optarg, FRAME_HEADER_LEN + 64, 1ull << 40, &max_buffered);
		else
			bad = 1;
	}
	if (bad || optind != argc || !listen_spec) {
		fprintf(stderr, "Usage: custos-collector serve %s\n", u);
		return COLL_EXIT_USAGE;
	}
	if (max_buffered < FRAME_HEADER_LEN + max_frame) {
		fprintf(stderr, "custos-collector: serve: --max-buffered %llu is less than one "
			"frame (8 + --max-frame %llu bytes)\n", (unsigned long long)max_buffered,
			(unsigned long long)max_frame);
		return COLL_EXIT_USAGE;
	}
	s.max_buffered = max_buffered;
	s.max_frame = (uint32_t)max_frame;
	s.idle_ms = idle * 1000;
	s.checkpoint_ms = cpi * 1000;
	s.max_conns = conns;
	if (rules && triage_open(rules, &tri) != 0)
		return COLL_EXIT_FAIL;
	s.triage = tri;
	c = serve(dir, listen_spec, &s) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
	triage_close(tri);
	return c;
}
