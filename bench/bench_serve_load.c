/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_serve's load generator: N simulated agents on one epoll loop in
 * this process, each its own TCP connection to serve, each sending its
 * BATCH frames with at most --window unacknowledged (agent/forward.c's
 * max_inflight) and checking every ACK as forward.c does (signature,
 * host, seq, batch hash), and that no custody leaf is named twice. Also
 * what it reads of serve in /proc: CPU time, run-queue wait, sockets.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ack.h"
#include "bench_serve.h"
#include "error.h"
#include "frame.h"

/* serve's user + system CPU seconds so far (/proc/PID/stat fields 14, 15). */
double bs_serve_cpu(void)
{
	char path[64], text[1024], *p;
	unsigned long long ut, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)bs.serve);
	f = fopen(path, "re");
	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	p = strrchr(text, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &stime) != 2)
		bs_fail("%s: cannot read serve's CPU time", path);
	return (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* From /proc/PID/schedstat: seconds runnable but waiting for a CPU (other
 * work on a shared machine). */
double bs_runq_wait(pid_t pid)
{
	char path[64];
	unsigned long long run, wait = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	if (f)
		fclose(f);
	return (double)wait / 1e9;
}

/* This process's user + system CPU seconds. */
static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Connections serve holds: its sockets, the listener excluded. */
uint64_t bs_serve_conns(void)
{
	char path[64], link[64];
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)bs.serve);
	d = opendir(path);
	if (!d)
		bs_fail("%s: %s", path, strerror(errno));
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			ssize_t k = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
			n += k > 7 && memcmp(link, "socket:", 7) == 0;
		}
	closedir(d);
	return n ? n - 1 : 0;
}

/* Connect every agent (blocking, then non-blocking), and wait until serve
 * holds all the connections. */
void bs_connect_all(int ep, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event ev = { .events = EPOLLIN };
	double t0 = bs_now();

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (uint64_t a = 0; a < bs.o.agents; a++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			bs_fail("agent %llu: connect to 127.0.0.1:%u: %s", (unsigned long long)a, port,
			     strerror(errno));
		if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
			bs_fail("fcntl: %s", strerror(errno));
		bs.ag[a].fd = fd;
		ev.data.u64 = a;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			bs_fail("epoll_ctl: %s", strerror(errno));
	}
	while (bs_serve_conns() < bs.o.agents) {
		bs_serve_alive("while the agents connected");
		if (bs_now() - t0 > BS_STALL_S)
			bs_fail("serve holds %llu of the %llu connections after %d s",
			     (unsigned long long)bs_serve_conns(), (unsigned long long)bs.o.agents,
			     BS_STALL_S);
		usleep(20000);
	}
}

/* Watch for EPOLLOUT only while a send would block. */
static void want_out(int ep, uint64_t a, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = a };

	if (bs.ag[a].want_out != on && epoll_ctl(ep, EPOLL_CTL_MOD, bs.ag[a].fd, &ev) != 0)
		bs_fail("epoll_ctl: %s", strerror(errno));
	bs.ag[a].want_out = on;
}

/* Send agent a's next batches while its window has room. */
static void pump(int ep, uint64_t a)
{
	struct bs_agent *ag = &bs.ag[a];

	while (ag->sent < bs.o.batches && ag->sent - ag->acked < bs.o.window) {
		const struct buf *f = &bs.frames[a * bs.o.batches + ag->sent];
		ssize_t w = send(ag->fd, f->data + ag->off, f->len - ag->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			want_out(ep, a, 1);
			return;
		}
		if (w < 0)
			bs_fail("agent %llu: send of batch %u: %s", (unsigned long long)a, ag->sent,
			     strerror(errno));
		ag->off += (size_t)w;
		if (ag->off == f->len) {
			ag->sent++;
			ag->off = 0;
		}
	}
	want_out(ep, a, 0);
}

/* One ACK frame for agent a: docs/format.md 6, checked as forward.c does,
 * plus in order and a custody leaf never named before. */
static void take_ack(uint64_t a, const struct frame *fr)
{
	struct bs_agent *ag = &bs.ag[a];
	uint64_t i = a * bs.o.batches + ag->acked;
	struct ack k;
	int ret = ack_verify(fr->payload, fr->len, bs.coll_tcp.sign_pk, &k);

	if (ret)
		bs_fail("agent %llu: ack %u: %s", (unsigned long long)a, ag->acked, custos_strerror(ret));
	if (ag->acked >= ag->sent || k.seq != ag->acked ||
	    memcmp(k.host_id, ag->key.pub.sign_pk, KEYS_SIGN_PK_LEN) != 0 ||
	    memcmp(k.batch_hash, bs.hash[i], CUSTOS_HASH_LEN) != 0)
		bs_fail("agent %llu: an ack for seq %llu, another host or batch hash, when seq %u was "
		     "due", (unsigned long long)a, (unsigned long long)k.seq, ag->acked);
	if (k.leaf_index >= bs.o.agents * bs.o.batches || bs.leaf_seen[k.leaf_index])
		bs_fail("agent %llu: ack of seq %u names leaf %llu, %s", (unsigned long long)a,
		     ag->acked, (unsigned long long)k.leaf_index,
		     bs.leaf_seen[k.leaf_index] ? "named before" : "past the batches sent");
	bs.leaf_seen[k.leaf_index] = 1;
	bs.order[k.leaf_index] = (uint32_t)i;
	ag->acked++;
}

/* A NACK: the batch was refused (docs/protocol.md 4). */
static void take_nack(uint64_t a, const struct frame *fr)
{
	struct frame_nack k;

	if (frame_nack_decode(fr->payload, fr->len, &k) != 0)
		bs_fail("agent %llu: a malformed NACK frame", (unsigned long long)a);
	bs_fail("agent %llu: batch refused after %u acks: error %llu (%s): %.*s",
	     (unsigned long long)a, bs.ag[a].acked, (unsigned long long)k.error,
	     custos_strerror((int)(k.error & 0xffff)), (int)k.reason_len, (const char *)k.reason);
}

/* Read what serve sent agent a and handle its whole frames; returns the
 * acks taken. */
static uint64_t on_input(uint64_t a)
{
	struct bs_agent *ag = &bs.ag[a];
	uint32_t before = ag->acked;
	struct frame fr;
	size_t used;
	ssize_t r = recv(ag->fd, ag->rbuf + ag->rlen, BS_RBUF - ag->rlen, MSG_DONTWAIT);
	int ret;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0)
		usleep(200000), bs_serve_alive("(a connection was cut)");
	if (r <= 0)
		bs_fail("agent %llu: serve %s after %u of %llu acks (%u sent)", (unsigned long long)a,
		     r ? strerror(errno) : "closed the connection", ag->acked,
		     (unsigned long long)bs.o.batches, ag->sent);
	ag->rlen += (size_t)r;
	while ((ret = frame_parse(ag->rbuf, ag->rlen, &fr, &used)) == 0) {
		if (fr.type == FRAME_ACK)
			take_ack(a, &fr);
		else if (fr.type == FRAME_NACK)
			take_nack(a, &fr);
		else
			bs_fail("agent %llu: a frame of type %u from serve", (unsigned long long)a,
			     fr.type);
		memmove(ag->rbuf, ag->rbuf + used, ag->rlen - used);
		ag->rlen -= used;
	}
	if (ret != -CUSTOS_ERR_AGAIN)
		bs_fail("agent %llu: a bad frame from serve: %s", (unsigned long long)a,
		     custos_strerror(ret));
	return ag->acked - before;
}

/* Every agent sends its batches; returns when every ack is in. */
void bs_run_load(int ep, struct bs_run *t)
{
	struct epoll_event evs[256];
	uint64_t total = bs.o.agents * bs.o.batches;
	double t0, cpu0, progress, sampled;

	t->conns_start = t->conns_max = bs_serve_conns();
	cpu0 = bs_serve_cpu();
	t->runq = -bs_runq_wait(bs.serve);
	t->self_cpu = -self_cpu();
	t->self_runq = -bs_runq_wait(getpid());
	t0 = progress = sampled = bs_now();
	for (uint64_t a = 0; a < bs.o.agents; a++)
		pump(ep, a);
	while (t->acks < total) {
		int n = epoll_wait(ep, evs, 256, 100);
		double now = bs_now();
		for (int i = 0; i < n; i++) {
			uint64_t a = evs[i].data.u64, got = 0;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				got = on_input(a);
			t->acks += got;
			if (got || (evs[i].events & EPOLLOUT))
				pump(ep, a);
			if (got)
				progress = now;
		}
		bs_serve_alive("while the agents sent");
		if (now - sampled >= 0.5) {
			uint64_t c = bs_serve_conns();
			t->conns_max = c > t->conns_max ? c : t->conns_max;
			sampled = now;
		}
		if (now - progress > BS_STALL_S)
			bs_fail("missing acks: %llu of %llu batches acknowledged, none for %d s",
			     (unsigned long long)t->acks, (unsigned long long)total, BS_STALL_S);
	}
	t->wall = bs_now() - t0;
	t->cpu = bs_serve_cpu() - cpu0;
	t->runq += bs_runq_wait(bs.serve);
	t->self_cpu += self_cpu();
	t->self_runq += bs_runq_wait(getpid());
}
