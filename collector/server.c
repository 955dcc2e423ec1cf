/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve: one process, one epoll loop, many agents (docs/protocol.md).
 * This file is the loop (listening socket, timer, signals, the group
 * commit after each wakeup); server_conn.c handles each connection.
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
 *
 * The index commit is deferred while input keeps coming (ingest.h
 * invariant 6): when a wakeup ends with no connection's input pending
 * (a peek, epoll_wait with no timeout: every source is level-triggered,
 * so what it sees is reported again by the next wait), the index group is
 * committed before the held acks go out, so an agent that waits for its
 * acks finds its batches in the index; while input is pending the acks
 * go out first, and the group is committed when it holds
 * INGEST_INDEX_BATCHES batches, after SERVE_INDEX_IDLE_MS without events,
 * SERVE_INDEX_MAX_MS after it opened, and at shutdown. A kill -9 loses
 * only index rows, whose batches are in the log: the next start's
 * catch-up indexes them again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "incident.h"
#include "triage.h"
#include "error.h"
#include "ack.h"
#include "frame.h"
#include "ingest.h"
#include "server.h"
#include "number.h"

static void checkpoint(struct server *s, int force)
{
	int ret = ingest_checkpoint(&s->g, force);

	if (ret < 0)
		coll_log("checkpoint: %s", custos_strerror(ret));
	else if (ret == 1)
		coll_log("checkpoint signed: tree size %llu", (unsigned long long)s->g.log.size);
	s->last_checkpoint_ms = server_mono_ms();
}

/* The periodic job: idle timeouts, checkpoints, enrolment changes. */
static void on_tick(struct server *s)
{
	uint64_t expirations, now = server_mono_ms();
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
	conn_accept_resume(s, 0);
	if (now - s->last_checkpoint_ms >= s->checkpoint_ms)
		checkpoint(s, 0);
	/* A lasting failure (e.g. no descriptor free) is logged once, and
	 * its end. */
	ret = keystore_reload(&s->g.ks);
	if (ret && ret != s->reload_err)
		coll_log("custody/events.jsonl: %s: enrolments not reread", custos_strerror(ret));
	else if (!ret && s->reload_err)
		coll_log("custody/events.jsonl: enrolments reread again");
	s->reload_err = ret;
}

static void on_signal(struct server *s)
{
	struct signalfd_siginfo si;

	if (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		coll_log("signal %u: stopping", si.ssi_signo);
		s->stop = 1;
	}
}

/* Whether a connection has input pending now (the peek at the top). */
static int input_pending(struct server *s)
{
	struct epoll_event evs[64];
	int n = epoll_wait(s->epfd, evs, 64, 0);

	for (int i = 0; i < n; i++) {
		struct src *src = evs[i].data.ptr;
		if (src->type == SRC_CONN && ((struct conn *)src)->state != CONN_DEAD &&
		    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			return 1;
	}
	return 0;
}

/* After the wakeup's events: one commit for every batch staged in it
 * (and of the index when no input is pending), then the held answers go
 * out (group commit, see the top). */
static void release(struct server *s)
{
	int ret = s->staged ? ingest_commit(&s->g) : 0;

	if (!ret && ingest_index_open(&s->g) && !input_pending(s))
		ingest_flush(&s->g);	/* an error is logged; the next start catches up */

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

/* How long epoll may wait: forever with no index group open, else until
 * the group is due (see the top). */
static int index_wait(const struct server *s)
{
	uint64_t age;

	if (!ingest_index_open(&s->g) || !s->index_opened_ms)
		return -1;
	age = server_mono_ms() - s->index_opened_ms;
	if (age >= SERVE_INDEX_MAX_MS)
		return 0;
	return (int)(SERVE_INDEX_MAX_MS - age < SERVE_INDEX_IDLE_MS ? SERVE_INDEX_MAX_MS - age
								     : SERVE_INDEX_IDLE_MS);
}

/* After a wakeup (idle: epoll's wait ran out): commit the index group
 * when it is due. */
static void index_due(struct server *s, int idle)
{
	uint64_t now = server_mono_ms();

	if (!ingest_index_open(&s->g)) {
		s->index_opened_ms = 0;
		return;
	}
	if (!s->index_opened_ms)
		s->index_opened_ms = now ? now : 1;
	if (idle || now - s->index_opened_ms >= SERVE_INDEX_MAX_MS) {
		ingest_flush(&s->g);	/* an error is logged; the next start catches up */
		s->index_opened_ms = 0;
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
	size_t freed = 0;

	while (*pp) {
		struct conn *c = *pp;
		if (c->state == CONN_DEAD) {
			*pp = c->next;
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
			conn_free(s, c);
			s->nconns--;
			freed++;
		} else {
			pp = &c->next;
		}
	}
	if (freed)
		conn_accept_resume(s, 1);	/* descriptors are free again */
}

/* Room for --max-conns connections in the open-file limit: the soft limit
 * is raised towards the hard one (systemd's default soft limit, 1024, is
 * below the default --max-conns); when even the hard limit is too low,
 * --max-conns is lowered to fit and the log says so, rather than accept
 * failing with EMFILE at an unannounced count. */
static void fd_budget(struct server *s)
{
	rlim_t need = (rlim_t)s->max_conns + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		coll_log("open-file limit unknown (%s): accepting up to %zu connections",
			 strerror(errno), s->max_conns);
		return;
	}
	if (rl.rlim_cur < need) {
		struct rlimit up = { need < rl.rlim_max ? need : rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = up.rlim_cur;
	}
	if (rl.rlim_cur < need) {
		size_t fit = rl.rlim_cur > 2 * FD_RESERVE ? (size_t)(rl.rlim_cur - FD_RESERVE)
							 : (size_t)(rl.rlim_cur / 2 ? rl.rlim_cur / 2 : 1);

		coll_log("--max-conns %zu lowered to %zu: the open-file limit is %llu (raise it: "
			 "LimitNOFILE= in the unit, ulimit -n)", s->max_conns, fit,
			 (unsigned long long)rl.rlim_cur);
		s->max_conns = fit;
	}
	coll_log("accepting up to %zu connections (open-file limit %llu)", s->max_conns,
		 (unsigned long long)rl.rlim_cur);
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
		int n = epoll_wait(s->epfd, evs, 64, index_wait(s));
		if (n < 0 && errno != EINTR) {
			coll_log("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct src *src = evs[i].data.ptr;
			if (src->type == SRC_LISTEN)
				conn_accept(s);
			else if (src->type == SRC_TIMER)
				on_tick(s);
			else if (src->type == SRC_SIGNAL)
				on_signal(s);
			else
				conn_event(s, (struct conn *)src, evs[i].events);
		}
		release(s);
		index_due(s, n == 0);
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
	fd_budget(s);
	ret = ingest_open(&s->g, dir, s->triage);
	if (!ret)
		ret = setup(s, listen_spec);
	if (!ret) {
		checkpoint(s, 0);
		coll_log("serving %s: %llu leaves in the custody log, %zu host(s) enrolled", dir,
			 (unsigned long long)s->g.log.size, s->g.ks.count);
		run(s);
		if (ingest_index_open(&s->g))
			ingest_flush(&s->g);
		/* No later batch will settle the alerts held back (incident.h
		 * invariant 3): group them now. */
		if (s->triage && !store_group_open(s->g.store) && incident_flush(s->g.store, NULL))
			coll_log("grouping the last alerts into incidents failed: they stay "
				 "pending until the next serve or triage");
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
			bad |= custos_parse_u64(optarg, 64, FRAME_PAYLOAD_MAX, &max_frame);
		else if (c == 'i')
			bad |= custos_parse_u64(optarg, 1, 86400, &idle);
		else if (c == 'c')
			bad |= custos_parse_u64(optarg, 1, 86400, &cpi);
		else if (c == 'n')
			bad |= custos_parse_u64(optarg, 1, 1000000, &conns);
		else if (c == 'r')
			rules = optarg;
		else if (c == 'b')
			bad |= custos_parse_u64(optarg, FRAME_HEADER_LEN + 64, 1ull << 40, &max_buffered);
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
