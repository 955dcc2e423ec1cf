/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve's connections (server.h): accepting them, reading frames within
 * the per-connection and shared input budgets, staging each batch
 * (ingest_stage) with its answer held until the wakeup's commit, sending
 * answers within the write budget, and closing with a logged reason.
 * The budgets and states are described at the top of server.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ack.h"
#include "collector.h"
#include "error.h"
#include "frame.h"
#include "ingest.h"
#include "server.h"

void conn_fail(struct conn *c, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->state == CONN_OPEN)
		coll_log("conn #%llu %s: closed: %s", (unsigned long long)c->id, c->peer, why);
	c->state = c->out.len > c->out_off || c->held.len ? CONN_CLOSING : CONN_DEAD;
	c->closing_ms = server_mono_ms();
}

void conn_interest(struct server *s, struct conn *c)
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

void conn_flush(struct conn *c)
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
	c->last_frame_ms = server_mono_ms();
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
size_t conn_room(struct server *s, struct conn *c)
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

void conn_free(struct server *s, struct conn *c)
{
	s->reserved -= c->reserved;
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->held);
	free(c);
}

/* The listener out of epoll: level-triggered, it would report the same
 * pending connection at every wait, a busy loop until a descriptor
 * frees. */
static void accept_pause(struct server *s, int err)
{
	struct epoll_event ev = { .events = 0, .data.ptr = &s->listen_src };

	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev) != 0) {
		coll_log("accept: %s; the listener stays watched (epoll: %s)", strerror(err),
			 strerror(errno));
		return;
	}
	s->accept_paused = 1;
	s->accept_paused_ms = server_mono_ms();
	if (!s->accept_short)	/* once until a connection is accepted again */
		coll_log("accept: %s with %zu connections: new connections wait until "
			 "descriptors free", strerror(err), s->nconns);
	s->accept_short = 1;
}

void conn_accept(struct server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], port[16];
	struct conn *c;
	int fd;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (s->accept_short) {
			coll_log("accepting connections again (%zu open)", s->nconns);
			s->accept_short = 0;
		}
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
			coll_log("connection from %s:%s refused: out of memory", host, port);
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
		c->last_frame_ms = server_mono_ms();
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			conn_free(s, c);
			continue;
		}
		c->want_in = 1;
		c->next = s->conns;
		s->conns = c;
		s->nconns++;
	}
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
		accept_pause(s, errno);
	else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		coll_log("accept: %s", strerror(errno));
}

void conn_accept_resume(struct server *s, int force)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->listen_src };

	if (!s->accept_paused || (!force && server_mono_ms() - s->accept_paused_ms < ACCEPT_PAUSE_MS))
		return;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev) != 0) {
		coll_log("accept: cannot watch the listener again: %s", strerror(errno));
		return;		/* the next tick tries again */
	}
	s->accept_paused = 0;
}

void conn_event(struct server *s, struct conn *c, uint32_t events)
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
