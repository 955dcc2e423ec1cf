/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the fuzz_decode seeds: one valid ring-buffer record each of exec
 * (a successful one, and one whose argv and exe were cut), file (one path,
 * two paths, an open of a resolved object), network and syscall body, an
 * auth record (a user audit message), so
 * the fuzzer starts past the size and length checks. Exec and file records
 * carry their strings packed after their struct (bpf/events.h), as the
 * kernel writes them. The fork and exit seeds were captured from the
 * kernel. Not built by the Makefile. From the top:
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

/* The record being written: the struct, then its strings. */
static union {
	uint8_t b[CUSTOS_EV_RECORD_MAX];
	uint64_t align;
	struct custos_ev_exec exec;
	struct custos_ev_file file;
	struct custos_ev_net net;
	struct custos_ev_sys sys;
	struct custos_ev_auth auth;
} u;
static size_t used;

static void hdr(struct custos_ev_hdr *h, uint32_t kind)
{
	h->kind = kind;
	h->pid = h->tid = 4242;
	h->ppid = 1;
	h->ts_ns = 5000000000ull;
	h->loginuid = h->sessionid = 4294967295u;
	memcpy(h->comm, "seed", 4);
}

/* Append n bytes of s to the record; returns n for its length field.
 * Strings are appended in events.h's order. */
static uint16_t str(const char *s, size_t n)
{
	memcpy(u.b + used, s, n);
	used += n;
	return (uint16_t)n;
}

static int write_seed(const char *dir, const char *name)
{
	char fn[512];
	FILE *f;

	snprintf(fn, sizeof(fn), "%s/%s", dir, name);
	f = fopen(fn, "wb");
	if (!f || fwrite(&u, 1, used, f) != used || fclose(f) != 0) {
		perror(fn);
		return 1;
	}
	return 0;
}

static void start(size_t fixed)
{
	memset(&u, 0, sizeof(u));
	used = fixed;
}

static int exec_seeds(const char *dir)
{
	static const char argv[] = "/bin/sh\0-c\0echo hi";
	int bad = 0;

	start(sizeof(u.exec));
	hdr(&u.exec.hdr, CUSTOS_EV_EXEC);
	u.exec.start_ns = 4999999000ull;
	u.exec.exe_dev = (8u << 20) | 1;
	u.exec.exe_ino = 131075;
	u.exec.exe_mode = 0100755;
	u.exec.argc = 3;
	u.exec.filename_len = str("/bin/sh", 7);
	u.exec.exe_len = str("/usr/bin/dash", 13);
	u.exec.cwd_len = str("/root", 5);
	u.exec.argv_len = str(argv, sizeof(argv));
	bad |= write_seed(dir, "exec");

	/* A failed exec whose argv was cut: no exe, argc above the count. */
	start(sizeof(u.exec));
	hdr(&u.exec.hdr, CUSTOS_EV_EXEC);
	u.exec.result = -2;
	u.exec.argc = 9;
	u.exec.argv_truncated = 1;
	u.exec.cwd_truncated = 1;
	u.exec.filename_len = str("./missing", 9);
	u.exec.cwd_len = str("/d9/d10/t", 9);
	u.exec.argv_len = str("./missing\0aaaa", 14);
	bad |= write_seed(dir, "exec-truncated");
	return bad;
}

static int file_seeds(const char *dir)
{
	int bad = 0;

	start(sizeof(u.file));
	hdr(&u.file.hdr, CUSTOS_EV_UNLINK);
	u.file.path_how = CUSTOS_EV_PATH_BASE;
	u.file.raw_len = str("./b/f", 5);
	u.file.path_len = str("/tmp/x", 6);
	bad |= write_seed(dir, "unlink-base");

	start(sizeof(u.file));
	hdr(&u.file.hdr, CUSTOS_EV_RENAME);
	u.file.path_how = CUSTOS_EV_PATH_BASE;
	u.file.path2_how = CUSTOS_EV_PATH_BASE;
	u.file.raw_len = str("./b/f", 5);
	u.file.path_len = str("/tmp/x", 6);
	u.file.raw2_len = str("/etc", 4);
	u.file.path2_len = str("/", 1);
	bad |= write_seed(dir, "rename");

	start(sizeof(u.file));
	hdr(&u.file.hdr, CUSTOS_EV_OPEN);
	u.file.result = 3;
	u.file.flags = 0101;	/* O_WRONLY | O_CREAT */
	u.file.mode = 0600;
	u.file.path_how = CUSTOS_EV_PATH_OBJECT;
	u.file.raw_len = str("hostname", 8);
	u.file.path_len = str("/etc/hostname", 13);
	bad |= write_seed(dir, "open-object");

	start(sizeof(u.file));
	hdr(&u.file.hdr, CUSTOS_EV_SETXATTR);
	u.file.path_how = CUSTOS_EV_PATH_BASE;
	u.file.size = 4;
	u.file.raw_len = str("/tmp/f", 6);
	u.file.path_len = str("/", 1);
	u.file.name_len = str("user.custos", 11);
	bad |= write_seed(dir, "setxattr");
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	bad |= exec_seeds(argv[1]);
	bad |= file_seeds(argv[1]);

	start(sizeof(u.net));
	hdr(&u.net.hdr, CUSTOS_EV_CONNECT);
	u.net.family = 10;
	u.net.sock_type = 1;
	u.net.remote_len = 16;
	u.net.remote[15] = 1;
	u.net.remote_port = 9;
	u.net.result = -111;
	bad |= write_seed(argv[1], "connect6");

	start(sizeof(u.net));
	hdr(&u.net.hdr, CUSTOS_EV_SOCKET);
	u.net.family = 17;	/* AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), refused */
	u.net.sock_type = 3;
	u.net.protocol = 768;
	u.net.backlog = 0x80000;	/* SOCK_CLOEXEC */
	u.net.result = -1;
	bad |= write_seed(argv[1], "socket");

	start(sizeof(u.sys));
	hdr(&u.sys.hdr, CUSTOS_EV_CRED);
	u.sys.op = 105;
	u.sys.arg0 = 65534;
	u.sys.name_len = 3;
	memcpy(u.sys.name, "abc", 3);
	bad |= write_seed(argv[1], "cred");

	start(sizeof(u.auth));	/* libpam's failed authentication, NUL-padded */
	hdr(&u.auth.hdr, CUSTOS_EV_AUTH);
	u.auth.result = 120;
	u.auth.nr = 44;
	u.auth.msg_type = 1100;
	u.auth.text_len = 104;
	memcpy(u.auth.text, "op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/bin/su\" "
	       "hostname=? addr=? terminal=? res=failed", 102);
	bad |= write_seed(argv[1], "auth");
	return bad;
}
