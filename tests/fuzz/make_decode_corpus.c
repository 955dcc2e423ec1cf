/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the fuzz_decode seeds for the syscall families (file, two-path
 * file, network, syscall body): one valid ring-buffer record each, so the
 * fuzzer starts past the size check. The exec, fork and exit seeds were
 * captured from the kernel. Not built by the Makefile. From the top:
 *
 *   gcc -std=gnu11 -Wall -Wextra -Icommon -Ibpf tests/fuzz/make_decode_corpus.c \
 *       -o build/make_decode_corpus && build/make_decode_corpus tests/fuzz/corpus/fuzz_decode
 *
 * Deterministic: running it again rewrites the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

static union {
	struct custos_ev_file2 file2;
	struct custos_ev_net net;
	struct custos_ev_sys sys;
} u;

static void hdr(struct custos_ev_hdr *h, uint32_t kind)
{
	h->kind = kind;
	h->pid = h->tid = 4242;
	h->ppid = 1;
	h->ts_ns = 5000000000ull;
	h->loginuid = h->sessionid = 4294967295u;
	memcpy(h->comm, "seed", 4);
}

static void path(struct custos_ev_path *p, const char *s)
{
	p->len = (uint16_t)strlen(s);
	p->off = (uint16_t)(CUSTOS_EV_PATH_MAX - p->len);
	memcpy(p->buf + p->off, s, p->len);
}

static int write_seed(const char *dir, const char *name, size_t size)
{
	char fn[512];
	FILE *f;

	snprintf(fn, sizeof(fn), "%s/%s", dir, name);
	f = fopen(fn, "wb");
	if (!f || fwrite(&u, 1, size, f) != size || fclose(f) != 0) {
		perror(fn);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	memset(&u, 0, sizeof(u));
	hdr(&u.file2.f.hdr, CUSTOS_EV_UNLINK);
	u.file2.f.path_how = CUSTOS_EV_PATH_BASE;
	path(&u.file2.f.path, "/tmp/x");
	u.file2.f.raw_len = 5;
	memcpy(u.file2.f.raw, "./b/f", 5);
	bad |= write_seed(argv[1], "unlink-base", sizeof(struct custos_ev_file));

	u.file2.f.hdr.kind = CUSTOS_EV_RENAME;
	u.file2.f.path2_how = CUSTOS_EV_PATH_BASE;
	path(&u.file2.path2, "/");
	u.file2.f.raw2_len = 4;
	memcpy(u.file2.raw2, "/etc", 4);
	bad |= write_seed(argv[1], "rename", sizeof(struct custos_ev_file2));

	memset(&u, 0, sizeof(u));
	hdr(&u.net.hdr, CUSTOS_EV_CONNECT);
	u.net.family = 10;
	u.net.sock_type = 1;
	u.net.remote_len = 16;
	u.net.remote[15] = 1;
	u.net.remote_port = 9;
	u.net.result = -111;
	bad |= write_seed(argv[1], "connect6", sizeof(struct custos_ev_net));

	memset(&u, 0, sizeof(u));
	hdr(&u.net.hdr, CUSTOS_EV_SOCKET);
	u.net.family = 17;	/* AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), refused */
	u.net.sock_type = 3;
	u.net.protocol = 768;
	u.net.backlog = 0x80000;	/* SOCK_CLOEXEC */
	u.net.result = -1;
	bad |= write_seed(argv[1], "socket", sizeof(struct custos_ev_net));

	memset(&u, 0, sizeof(u));
	hdr(&u.sys.hdr, CUSTOS_EV_CRED);
	u.sys.op = 105;
	u.sys.arg0 = 65534;
	u.sys.name_len = 3;
	memcpy(u.sys.name, "abc", 3);
	bad |= write_seed(argv[1], "cred", sizeof(struct custos_ev_sys));
	return bad;
}
