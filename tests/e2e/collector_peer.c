/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector_peer: the agent side of the collector's end-to-end tests,
 * built from libcustos alone (the real agent's forwarder is issue 4).
 * It makes host keys, builds chained, signed, sealed batches, and talks
 * to a collector over TCP the way docs/protocol.md says, well or badly:
 *
 *   collector_peer keygen OUT_PREFIX
 *   collector_peer send   --connect ADDR:PORT --host H.key --collector C.pub
 *                         --state FILE [--count N] [--interval-ms MS] [--gap K]
 *                         [--resend] [--replay] [--forge] [--records N]
 *   collector_peer raw    --connect ADDR:PORT (--random N | --truncated |
 *                         --oversized | --bad-version | --hold S | --trickle S)
 *   collector_peer offline --out FILE --host H.key --collector C.pub --state FILE
 *                         [--count N] [--framed]
 *   (send and offline also take --path P, the open record's path instead
 *   of /etc/shadow, and --auth TEXT, an auth record (USER_AUTH, docs/format.md
 *   kind 11) with that audit text in place of each heartbeat; send takes --acks DIR, where each verified ack is kept
 *   as SEQ-HASH.ack like the agent's spool keeps its receipts)
 *
 * send prints "ack seq=S leaf=L" for every verified acknowledgement,
 * "refused error=E (TEXT) permanent=0|1 hash=HEX|- reason=R" for a NACK
 * frame (docs/format.md 5.1), and "closed" when the collector closes the
 * connection instead; it exits 0
 * when every batch was acknowledged, 3 when the collector closed the
 * connection, 1 on any other failure. The state file keeps the chain
 * (next seq, last batch hash) and the last signed batch, so successive
 * runs continue one host's chain; a batch is a pure function of the host
 * key, its seq and the previous hash, so after a lost ack the next run
 * sends the very same bytes again, as a real agent resends from its spool.
 * offline writes length-prefixed envelopes, or BATCH frames with --framed
 * (the layout of custos-agent's offline file). raw exits 0 when the collector closed
 * the connection (or, for --hold, kept it open the whole time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "ack.h"
#include "batch.h"
#include "error.h"
#include "frame.h"
#include "keys.h"
#include "record.h"
#include "seal.h"

struct state {
	uint64_t next_seq;
	uint8_t last_hash[CUSTOS_HASH_LEN];
	struct buf last;	/* the last signed batch */
};

static int die(const char *what)
{
	fprintf(stderr, "collector_peer: %s\n", what);
	return 1;
}

static void state_load(const char *path, struct state *st)
{
	FILE *f = fopen(path, "rb");
	uint8_t len4[4];

	memset(st, 0, sizeof(*st));
	buf_init(&st->last, CUSTOS_SIGNED_MAX);
	if (!f)
		return;
	if (fread(&st->next_seq, 8, 1, f) == 1 && fread(st->last_hash, 32, 1, f) == 1 &&
	    fread(len4, 4, 1, f) == 1 && buf_reserve(&st->last, load_be32(len4)) == 0 &&
	    fread(st->last.data, 1, load_be32(len4), f) == load_be32(len4))
		st->last.len = load_be32(len4);
	fclose(f);
}

static int state_save(const char *path, const struct state *st)
{
	FILE *f = fopen(path, "wb");
	uint8_t len4[4] = { (uint8_t)(st->last.len >> 24), (uint8_t)(st->last.len >> 16),
			    (uint8_t)(st->last.len >> 8), (uint8_t)st->last.len };
	int ok;

	if (!f)
		return -1;
	ok = fwrite(&st->next_seq, 8, 1, f) == 1 && fwrite(st->last_hash, 32, 1, f) == 1 &&
	     fwrite(len4, 4, 1, f) == 1 && fwrite(st->last.data, 1, st->last.len, f) == st->last.len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static const char *open_path = "/etc/shadow";	/* --path */
static const char *ack_dir;			/* --acks */
static const char *auth_text;			/* --auth */

/* Records of one batch: an exec, a file open by it, a connect, a
 * heartbeat; pids and times follow seq so that every batch differs. */
static void make_records(struct batch_builder *b, uint64_t seq, int n, uint64_t salt)
{
	struct custos_record *r = calloc(1, sizeof(*r));
	uint64_t t0 = 1000000000ull * (seq + 1) + salt;

	for (int i = 0; i < n && r; i++) {
		uint64_t pid = 1000 + seq * 10 + (uint64_t)(i / 4);
		memset(r, 0, sizeof(*r));
		r->ts_ns = t0 + (uint64_t)i * 1000;
		r->subj.pid = pid;
		r->subj.tid = pid;
		r->subj.ppid = seq ? 1000 + (seq - 1) * 10 : 1;
		r->subj.uid = 1000;
		r->subj.loginuid = 1000;
		r->subj.comm_len = (uint32_t)strlen("peer");
		memcpy(r->subj.comm, "peer", 4);
		switch (i % 4) {
		case 0:
			r->kind = CUSTOS_REC_EXEC;
			record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, "/usr/bin/cat");
			record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX, "cat");
			r->u.exec.argc = 1;
			memcpy(r->u.exec.argv, "cat", 4);
			r->u.exec.argv_len = 4;
			r->u.exec.argv_count = 1;
			r->u.exec.start_ns = t0 - 500;
			r->u.exec.hash_status = CUSTOS_HASH_PENDING;
			break;
		case 1:
			r->kind = CUSTOS_REC_OPEN;
			record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, open_path);
			record_set_bytes(r->u.file.path_raw, &r->u.file.path_raw_len, CUSTOS_PATH_MAX, open_path);
			break;
		case 2:
			r->kind = CUSTOS_REC_CONNECT;
			r->u.net.family = 2;
			r->u.net.sock_type = 1;
			memcpy(r->u.net.remote_addr, "\xc0\x00\x02\x07", 4);	/* 192.0.2.7 */
			r->u.net.remote_addr_len = 4;
			r->u.net.remote_port = 443;
			memcpy(r->u.net.local_addr, "\x0a\x00\x00\x01", 4);
			r->u.net.local_addr_len = 4;
			r->u.net.local_port = 40000;
			break;
		default:
			if (auth_text) {	/* sent by the exec's process */
				r->kind = CUSTOS_REC_AUTH;
				r->u.auth.op = 46;
				r->u.auth.audit_type = 1100;
				r->u.auth.text_truncated = record_set_bytes(
					r->u.auth.text, &r->u.auth.text_len, CUSTOS_AUDIT_TEXT_MAX,
					auth_text);
				r->u.auth.result = (int64_t)r->u.auth.text_len + 16;
				break;
			}
			memset(&r->subj, 0, sizeof(r->subj));
			r->kind = CUSTOS_REC_HEARTBEAT;
			r->u.agent.events = seq;
		}
		if (batch_builder_add(b, r) != 0)
			break;
	}
	free(r);
}

static int make_batch(const struct custos_keypair *host, struct state *st, uint64_t seq,
		      int nrec, uint64_t salt, uint8_t hash[CUSTOS_HASH_LEN])
{
	struct batch_builder b;
	struct batch_header h;
	int ret;

	batch_builder_init(&b);
	make_records(&b, seq, nrec, salt);
	memset(&h, 0, sizeof(h));
	memset(h.boot_id, 0xb0, sizeof(h.boot_id));
	h.seq = seq;
	memcpy(h.prev_hash, st->last_hash, CUSTOS_HASH_LEN);
	if (seq == 0)
		memset(h.prev_hash, 0, CUSTOS_HASH_LEN);
	h.clock_offset_ns = 1763769600000000000ll;	/* 2025-11-22T00:00:00Z at boot */
	h.sealed_boot_ns = 1000000000ull * (seq + 2);
	h.ntp_synced = 1;
	h.ntp_maxerror_us = 16000;
	buf_reset(&st->last);
	ret = batch_sign(&b, &h, host, &st->last, hash);
	batch_builder_free(&b);
	return ret;
}

static int dial(const char *spec)
{
	char host[256], *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int fd;

	snprintf(host, sizeof(host), "%s", spec);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one frame (10 s at most). Returns 0, 1 when the peer closed, -1. */
static int read_frame(int fd, struct buf *in, struct frame *f, size_t *used)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int ret = frame_parse(in->data, in->len, f, used);
		if (ret == 0)
			return 0;
		if (ret != -CUSTOS_ERR_AGAIN)
			return -1;
		if (poll(&p, 1, 10000) != 1 || buf_reserve(in, 4096) != 0)
			return -1;
		ssize_t r = recv(fd, in->data + in->len, 4096, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
		if (r < 0)
			return -1;
		in->len += (size_t)r;
	}
}

/* Wait for the collector to close (10 s at most). Returns 0 if it did. */
static int wait_closed(int fd)
{
	uint8_t tmp[4096];
	struct pollfd p = { fd, POLLIN, 0 };

	while (poll(&p, 1, 10000) == 1) {
		ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 0;
		if (r < 0)
			return -1;
	}
	return -1;
}

struct opts {
	const char *connect, *host, *collector, *state, *out;
	uint64_t count, interval_ms, gap, records, random, hold, trickle;
	int resend, replay, forge, truncated, oversized, bad_version, framed;
};

/* Seal the state's last batch to the collector, framed. */
static int envelope(const struct state *st, const struct custos_pubkey *col, struct buf *frame,
		    int framed)
{
	struct buf env;
	int ret;

	buf_init(&env, CUSTOS_SEALED_MAX);
	ret = seal_batch(st->last.data, st->last.len, col, &env);
	if (!ret)
		ret = framed ? frame_write(frame, FRAME_BATCH, env.data, env.len)
			     : buf_put_be32(frame, (uint32_t)env.len) || buf_put(frame, env.data, env.len);
	buf_free(&env);
	return ret;
}

static int exchange(int fd, const struct state *st, const struct custos_pubkey *col,
		    uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN], struct buf *in)
{
	struct buf out;
	struct frame f;
	struct ack a;
	size_t used;
	int ret;

	buf_init(&out, FRAME_HEADER_LEN + CUSTOS_SEALED_MAX);
	ret = envelope(st, col, &out, 1);
	if (!ret)
		ret = send_all(fd, out.data, out.len);
	buf_free(&out);
	if (ret)
		return -1;
	ret = read_frame(fd, in, &f, &used);
	if (ret == 0 && f.type == FRAME_NACK) {
		struct frame_nack k;
		char hex[2 * CUSTOS_HASH_LEN + 1] = "-";

		if (frame_nack_decode(f.payload, f.len, &k) != 0)
			return die("a malformed NACK frame");
		if (k.batch_hash_len)
			sodium_bin2hex(hex, sizeof(hex), k.batch_hash, CUSTOS_HASH_LEN);
		printf("refused error=%llu (%s) permanent=%d hash=%s reason=%.*s\n",
		       (unsigned long long)k.error, custos_strerror((int)(k.error & 0xffff)),
		       frame_nack_permanent(k.error), hex, (int)k.reason_len,
		       (const char *)k.reason);
		memmove(in->data, in->data + used, in->len - used);
		in->len -= used;
		ret = read_frame(fd, in, &f, &used);
		if (ret != 1)
			return die("the collector sent a NACK and did not close");
	}
	if (ret == 1) {
		printf("closed\n");
		return 3;
	}
	if (ret || f.type != FRAME_ACK || ack_verify(f.payload, f.len, col->sign_pk, &a) != 0 ||
	    a.seq != seq || memcmp(a.batch_hash, hash, CUSTOS_HASH_LEN) != 0)
		return die("no valid acknowledgement for the batch");
	if (ack_dir) {
		char path[4096], hex[2 * CUSTOS_HASH_LEN + 1];
		FILE *af;

		snprintf(path, sizeof(path), "%s/%llu-%s.ack", ack_dir, (unsigned long long)a.seq,
			 sodium_bin2hex(hex, sizeof(hex), a.batch_hash, CUSTOS_HASH_LEN));
		af = fopen(path, "wb");
		if (!af || fwrite(f.payload, 1, f.len, af) != f.len || fclose(af) != 0)
			return die("cannot keep the ack");
	}
	printf("ack seq=%llu leaf=%llu\n", (unsigned long long)a.seq,
	       (unsigned long long)a.leaf_index);
	fflush(stdout);
	memmove(in->data, in->data + used, in->len - used);
	in->len -= used;
	return 0;
}

static int load_keys(const struct opts *o, struct custos_keypair *host, struct custos_pubkey *col)
{
	int line;

	if (!o->host || !o->collector || !o->state)
		return die("--host, --collector and --state are required");
	if (keys_load_secret(o->host, host, &line) || keys_load_public(o->collector, col, &line))
		return die("cannot load the keys");
	return 0;
}

static int cmd_send(const struct opts *o)
{
	struct custos_keypair host;
	struct custos_pubkey col;
	struct state st;
	struct buf in;
	uint8_t hash[CUSTOS_HASH_LEN];
	int fd, ret = 0;

	if (load_keys(o, &host, &col))
		return 1;
	state_load(o->state, &st);
	buf_init(&in, 1 << 20);
	fd = dial(o->connect);
	if (fd < 0)
		return die("cannot connect");
	if (o->resend) {
		struct batch_view v;
		if (batch_parse(st.last.data, st.last.len, &v) != 0)
			return die("no batch to resend in the state file");
		return exchange(fd, &st, &col, v.hdr.seq, v.hash, &in);
	}
	if (o->replay || o->forge) {
		struct batch_view v;
		uint64_t seq = o->replay ? (st.next_seq ? st.next_seq - 1 : 0) : st.next_seq;
		if (make_batch(&host, &st, seq, (int)o->records, 777, hash) ||
		    batch_parse(st.last.data, st.last.len, &v) != 0)
			return die("cannot build the batch");
		if (o->forge)
			st.last.data[v.sig - st.last.data] ^= 1;
		return exchange(fd, &st, &col, seq, hash, &in);	/* state not saved */
	}
	for (uint64_t i = 0; i < o->count && !ret; i++) {
		uint64_t seq = st.next_seq + (i == 0 ? o->gap : 0);
		if (make_batch(&host, &st, seq, (int)o->records, 0, hash))
			return die("cannot build the batch");
		ret = exchange(fd, &st, &col, seq, hash, &in);
		if (!ret) {
			st.next_seq = seq + 1;
			memcpy(st.last_hash, hash, CUSTOS_HASH_LEN);
			if (state_save(o->state, &st))
				return die("cannot save the state");
		}
		if (o->interval_ms)
			usleep((useconds_t)(o->interval_ms * 1000));
	}
	close(fd);
	return ret;
}

static int cmd_offline(const struct opts *o)
{
	struct custos_keypair host;
	struct custos_pubkey col;
	struct state st;
	struct buf out;
	uint8_t hash[CUSTOS_HASH_LEN];
	FILE *f;
	int ret = 0;

	if (load_keys(o, &host, &col) || !o->out)
		return 1;
	state_load(o->state, &st);
	f = fopen(o->out, "ab");
	if (!f)
		return die("cannot open --out");
	buf_init(&out, 4 + CUSTOS_SEALED_MAX);
	for (uint64_t i = 0; i < o->count && !ret; i++) {
		uint64_t seq = st.next_seq;
		buf_reset(&out);
		ret = make_batch(&host, &st, seq, (int)o->records, 0, hash) ||
		      envelope(&st, &col, &out, o->framed) || fwrite(out.data, 1, out.len, f) != out.len;
		st.next_seq = seq + 1;
		memcpy(st.last_hash, hash, CUSTOS_HASH_LEN);
	}
	buf_free(&out);
	if (fclose(f) != 0 || ret || state_save(o->state, &st))
		return die("cannot write the offline file");
	return 0;
}

static int cmd_raw(const struct opts *o)
{
	uint8_t head[8] = { 1, FRAME_BATCH, 0, 0, 0, 0, 0x03, 0xe8 };	/* 1000 bytes */
	uint8_t *junk;
	int fd = dial(o->connect), ret = 0;

	if (fd < 0)
		return die("cannot connect");
	if (o->hold) {
		struct pollfd p = { fd, POLLIN, 0 };
		ret = poll(&p, 1, (int)(o->hold * 1000));
		printf(ret == 0 ? "held\n" : "closed\n");
		return ret == 0 ? 0 : 3;
	}
	if (o->trickle) {	/* a valid header, then one byte every 200 ms */
		ret = send_all(fd, head, sizeof(head));
		for (uint64_t i = 0; !ret && i < o->trickle * 5; i++) {
			struct pollfd p = { fd, POLLIN, 0 };
			if (poll(&p, 1, 200) == 1)
				break;	/* closed (or data): see wait_closed */
			ret = send_all(fd, (const uint8_t *)"x", 1);
		}
		ret = 0;
	} else if (o->random) {
		junk = malloc(o->random);
		if (!junk)
			return 1;
		randombytes_buf(junk, o->random);
		junk[0] = 1;	/* a plausible version, so the header is read further */
		ret = send_all(fd, junk, o->random);
		free(junk);
	} else if (o->truncated) {
		uint8_t part[10] = { 0 };
		ret = send_all(fd, head, sizeof(head)) || send_all(fd, part, sizeof(part));
		shutdown(fd, SHUT_WR);
	} else if (o->oversized) {
		head[4] = 0xff, head[5] = 0xff, head[6] = 0xff, head[7] = 0xf0;
		ret = send_all(fd, head, sizeof(head));
	} else if (o->bad_version) {
		head[0] = 9;
		ret = send_all(fd, head, sizeof(head));
	}
	if (wait_closed(fd) != 0)
		return die("the collector did not close the connection");
	printf("closed\n");
	return ret ? 1 : 0;
}

static int cmd_keygen(const char *prefix)
{
	char sk[4096], pk[4096];
	struct custos_keypair kp;

	snprintf(sk, sizeof(sk), "%s.key", prefix);
	snprintf(pk, sizeof(pk), "%s.pub", prefix);
	keys_generate(&kp);
	return keys_save_secret(sk, &kp) || keys_save_public(pk, &kp.pub) ? die("keygen") : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "connect", 1, NULL, 'c' }, { "host", 1, NULL, 'H' }, { "collector", 1, NULL, 'C' },
		{ "state", 1, NULL, 's' }, { "out", 1, NULL, 'o' }, { "count", 1, NULL, 'n' },
		{ "interval-ms", 1, NULL, 'i' }, { "gap", 1, NULL, 'g' }, { "records", 1, NULL, 'r' },
		{ "random", 1, NULL, 'R' }, { "hold", 1, NULL, 'h' }, { "resend", 0, NULL, 'S' },
		{ "replay", 0, NULL, 'P' }, { "forge", 0, NULL, 'F' }, { "truncated", 0, NULL, 'T' },
		{ "oversized", 0, NULL, 'O' }, { "bad-version", 0, NULL, 'V' }, { "framed", 0, NULL, 'f' },
		{ "trickle", 1, NULL, 't' }, { "path", 1, NULL, 'p' }, { "acks", 1, NULL, 'a' },
		{ "auth", 1, NULL, 'A' }, { 0, 0, 0, 0 } };
	struct opts o = { .count = 1, .records = 8 };
	int c;

	if (argc < 2 || custos_init() != 0)
		return die("usage: see the comment at the top of collector_peer.c");
	if (strcmp(argv[1], "keygen") == 0)
		return argc == 3 ? cmd_keygen(argv[2]) : die("keygen OUT_PREFIX");
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o.connect = optarg; break;
		case 'H': o.host = optarg; break;
		case 'C': o.collector = optarg; break;
		case 's': o.state = optarg; break;
		case 'o': o.out = optarg; break;
		case 'n': o.count = strtoull(optarg, NULL, 10); break;
		case 'i': o.interval_ms = strtoull(optarg, NULL, 10); break;
		case 'g': o.gap = strtoull(optarg, NULL, 10); break;
		case 'r': o.records = strtoull(optarg, NULL, 10); break;
		case 'R': o.random = strtoull(optarg, NULL, 10); break;
		case 'h': o.hold = strtoull(optarg, NULL, 10); break;
		case 'S': o.resend = 1; break;
		case 'P': o.replay = 1; break;
		case 'F': o.forge = 1; break;
		case 'T': o.truncated = 1; break;
		case 'O': o.oversized = 1; break;
		case 'V': o.bad_version = 1; break;
		case 'f': o.framed = 1; break;
		case 't': o.trickle = strtoull(optarg, NULL, 10); break;
		case 'p': open_path = optarg; break;
		case 'a': ack_dir = optarg; break;
		case 'A': auth_text = optarg; break;
		default: return die("bad option");
		}
	}
	if (strcmp(argv[1], "offline") == 0)
		return cmd_offline(&o);
	if (!o.connect)
		return die("--connect is required");
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(&o);
	if (strcmp(argv[1], "raw") == 0)
		return cmd_raw(&o);
	return die("unknown command");
}
