/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What serve's two files share, and nothing else includes: the budgets,
 * the connection and server objects, and the connection functions
 * (server_conn.c) that the loop (server.c) calls. The states, budgets and
 * the group-commit invariant are described at the top of server.c.
 */
#ifndef CUSTOS_COLL_SERVER_H
#define CUSTOS_COLL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "ingest.h"

#define READ_BUDGET (1u << 20)
#define WRITE_BUDGET (64u << 10)
#define OUT_MAX (1u << 20)
#define TICK_MS 250
#define CLOSING_MS 5000		/* time to flush acks before a close */
/* The index group (ingest.h invariant 6) is committed after this much
 * quiet, or this long after it opened, whichever comes first. */
#define SERVE_INDEX_IDLE_MS 20
#define SERVE_INDEX_MAX_MS 1000
#define SERVE_BUFFERED_DEFAULT (256ull << 20)	/* --max-buffered */
#define FD_RESERVE 64		/* descriptors kept for other than connections:
				   archive, custody log, index (db, WAL, shm),
				   epoll, timer, signal, listener */
#define ACCEPT_PAUSE_MS 1000	/* no accepting after EMFILE, unless one closes */

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
	int accept_paused;	/* the listener is out of epoll (conn_accept) */
	uint64_t accept_paused_ms;
	int accept_short;	/* accept failed for want of descriptors, logged */
	int reload_err;		/* the last enrolment reread's error, logged */
	uint64_t index_opened_ms;	/* when the open index group was first seen; 0: none */
};

static inline uint64_t server_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Mark c for closing with a logged reason (CLOSING: flush acks first). */
void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Register c's interest (EPOLLIN while open and not paused, EPOLLOUT
 * while output is pending); on failure c is failed. */
void conn_interest(struct server *s, struct conn *c);

/* Send pending output, at most WRITE_BUDGET bytes; a CLOSING connection
 * with nothing left to send becomes DEAD. */
void conn_flush(struct conn *c);

/* How many bytes c may read now within the input budget (0: paused). */
size_t conn_room(struct server *s, struct conn *c);

/* Accept every pending connection (up to max_conns), registered for input.
 * Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), it stops
 * watching the listener, logged once, instead of being woken for the same
 * pending connection again and again: conn_accept_resume watches it again
 * ACCEPT_PAUSE_MS later or as soon as a connection is freed. */
void conn_accept(struct server *s);

/* Watch the listener again after a pause; force: even if ACCEPT_PAUSE_MS
 * has not passed (a connection was freed). No-op when not paused. */
void conn_accept_resume(struct server *s, int force);

/* Handle epoll events on c: read and stage its frames, flush, update
 * interest. c is never freed here (reap does, after the wakeup). */
void conn_event(struct server *s, struct conn *c, uint32_t events);

/* Close and free c, returning its input reservation. */
void conn_free(struct server *s, struct conn *c);

#endif
