/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos_peer: the stand-in collector of the agent's end-to-end tests,
 * built only with libcustos (frame.h, seal.h, batch.h, chain.h, ack.h).
 * It is not the collector (collector/): it checks, answers and prints.
 *
 *   custos_peer check FILE COLLECTOR_KEY HOST_PUB
 *       read an offline file (docs/agent.md "Offline file"): every frame a
 *       BATCH, every batch opened, verified and chained from sequence 0;
 *       print each record as a JSON line; exit 0, or 1 at the first error.
 *   custos_peer serve PORT COLLECTOR_KEY HOST_PUB [STATE]
 *       listen on 127.0.0.1:PORT, one agent at a time: open, verify and
 *       chain-check each batch, print its records as JSON lines and
 *       "accepted seq N" on stderr (a re-sent batch is acknowledged again
 *       but not printed), answer a signed ACK. Chain errors go to stderr
 *       as "CHAIN ERROR ...". The chain position is kept in STATE, so a
 *       restarted peer goes on checking the chain. Stops at SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ack.h"
#include "batch.h"
#include "chain.h"
#include "error.h"
#include "frame.h"
#include "keys.h"
#include "record_json.h"
#include "seal.h"

static struct custos_keypair coll;
static struct custos_pubkey host;
static struct chain_state chain;
static struct custos_record rec;
static uint64_t leaf;
static const char *state_path;

static void save_state(void)
{
	FILE *f;

	if (!state_path || !(f = fopen(state_path, "wb")))
		return;
	fwrite(&chain, sizeof(chain), 1, f);
	fwrite(&leaf, sizeof(leaf), 1, f);
	fclose(f);
}

static void load_state(void)
{
	FILE *f;

	if (!state_path || !(f = fopen(state_path, "rb")))
		return;
	if (fread(&chain, sizeof(chain), 1, f) != 1 || fread(&leaf, sizeof(leaf), 1, f) != 1)
		chain_init(&chain);
	fclose(f);
}

static int lookup(void *ctx, const uint8_t id[KEYS_SIGN_PK_LEN])
{
	(void)ctx;
	return memcmp(id, host.sign_pk, KEYS_SIGN_PK_LEN) ? -CUSTOS_ERR_UNKNOWN_HOST : 0;
}

/* Open and verify one envelope; print its records unless it is a replay.
 * OUT: *v_out header and hash. Returns 0, 1 (replay) or an error. */
static int take(const uint8_t *p, size_t n, struct batch_view *v, struct buf *sb, struct buf *raw,
		int strict)
{
	struct record_iter it;
	int ret;

	buf_reset(sb);
	if ((ret = seal_open(p, n, &coll, sb)) ||
	    (ret = batch_verify(sb->data, sb->len, lookup, NULL, v, raw)))
		return ret;
	ret = chain_check(&chain, &v->hdr);
	if (ret == -CUSTOS_ERR_REPLAY && !strict)
		return 1;
	if (ret) {
		fprintf(stderr, "CHAIN ERROR at seq %llu: %s\n", (unsigned long long)v->hdr.seq,
			custos_strerror(ret));
		if (strict)
			return ret;
	}
	chain_advance(&chain, &v->hdr, v->hash);
	if (!strict) {
		fprintf(stderr, "accepted seq %llu\n", (unsigned long long)v->hdr.seq);
		save_state();
	}
	record_iter_init(&it, raw, &v->hdr);
	while ((ret = record_iter_next(&it, &rec)) == 1)
		if (record_json_write(stdout, &rec))
			return -CUSTOS_ERR_IO;
	fflush(stdout);
	return ret;
}

static int check(const char *path)
{
	struct buf in, sb, raw;
	struct batch_view v;
	struct frame fr;
	size_t off = 0, used;
	uint64_t batches = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY), ret = 0;

	buf_init(&in, 1u << 30);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	if (fd < 0)
		return 1;
	do {
		if (buf_reserve(&in, 1 << 16))
			return 1;
		r = read(fd, in.data + in.len, 1 << 16);
		if (r > 0)
			in.len += (size_t)r;
	} while (r > 0);
	close(fd);
	while (ret == 0 && off < in.len) {
		ret = frame_parse(in.data + off, in.len - off, &fr, &used);
		if (ret == 0 && fr.type != FRAME_BATCH)
			ret = -CUSTOS_ERR_MALFORMED;
		if (ret == 0)
			ret = take(fr.payload, fr.len, &v, &sb, &raw, 1);
		off += used;
		batches++;
	}
	if (ret) {
		fprintf(stderr, "custos_peer: %s: batch %llu (offset %zu): %s\n", path,
			(unsigned long long)batches, off, custos_strerror(ret));
		return 1;
	}
	fprintf(stderr, "custos_peer: %s: %llu batches verified, chain unbroken from 0 to %llu\n",
		path, (unsigned long long)batches, (unsigned long long)chain.next_seq - 1);
	return 0;
}

static int answer(int fd, const struct batch_view *v)
{
	struct ack a = { 0 };
	struct buf out, fr;
	struct timespec t;
	int ret;

	clock_gettime(CLOCK_REALTIME, &t);
	memcpy(a.host_id, v->hdr.host_id, KEYS_SIGN_PK_LEN);
	a.seq = v->hdr.seq;
	memcpy(a.batch_hash, v->hash, CUSTOS_HASH_LEN);
	a.leaf_index = leaf++;
	a.received_unix_ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	buf_init(&out, ACK_MAX);
	buf_init(&fr, ACK_MAX + FRAME_HEADER_LEN);
	ret = ack_sign(&a, &coll, &out);
	if (ret == 0)
		ret = frame_write(&fr, FRAME_ACK, out.data, out.len);
	if (ret == 0 && send(fd, fr.data, fr.len, MSG_NOSIGNAL) != (ssize_t)fr.len)
		ret = -CUSTOS_ERR_IO;
	buf_free(&out);
	buf_free(&fr);
	return ret;
}

static void serve_conn(int fd, struct buf *in, struct buf *sb, struct buf *raw)
{
	struct batch_view v;
	struct frame fr;
	size_t used;
	ssize_t r;

	buf_reset(in);
	for (;;) {
		if (buf_reserve(in, 1 << 16))
			return;
		r = recv(fd, in->data + in->len, 1 << 16, 0);
		if (r <= 0)
			return;
		in->len += (size_t)r;
		while (frame_parse(in->data, in->len, &fr, &used) == 0) {
			int ret = fr.type == FRAME_BATCH ? take(fr.payload, fr.len, &v, sb, raw, 0)
							 : -CUSTOS_ERR_MALFORMED;

			if (ret < 0) {
				fprintf(stderr, "custos_peer: refused a batch: %s\n",
					custos_strerror(ret));
				return;
			}
			if (answer(fd, &v))
				return;
			memmove(in->data, in->data + used, in->len - used);
			in->len -= used;
		}
	}
}

static int serve(const char *port_s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct buf in, sb, raw;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_port = htons((uint16_t)atoi(port_s));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4)) {
		fprintf(stderr, "custos_peer: listening on 127.0.0.1:%s: %s\n", port_s,
			strerror(errno));
		return 1;
	}
	fprintf(stderr, "custos_peer: listening on 127.0.0.1:%s\n", port_s);
	buf_init(&in, CUSTOS_SEALED_MAX + (1 << 17));
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		serve_conn(fd, &in, &sb, &raw);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	int line;

	if (argc < 5 || argc > 6 || custos_init()) {
		fprintf(stderr, "usage: custos_peer check FILE COLLECTOR_KEY HOST_PUB\n"
			"       custos_peer serve PORT COLLECTOR_KEY HOST_PUB [STATE]\n");
		return 2;
	}
	if (keys_load_secret(argv[3], &coll, &line) || keys_load_public(argv[4], &host, &line)) {
		fprintf(stderr, "custos_peer: cannot load %s or %s\n", argv[3], argv[4]);
		return 2;
	}
	chain_init(&chain);
	state_path = argc == 6 ? argv[5] : NULL;
	load_state();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "check") == 0)
		return check(argv[2]);
	if (strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	return 2;
}
