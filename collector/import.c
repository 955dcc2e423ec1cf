/* SPDX-License-Identifier: Apache-2.0 */
/*
 * import: ingest an agent's offline file (the agent's stand-alone mode
 * for responders, docs/agent.md "offline file"): a sequence of sealed
 * envelopes, each prefixed by its length as 4 bytes, big-endian. Every
 * envelope goes through exactly the checks and the archive of a batch
 * received over TCP (ingest.c); the acknowledgements are not sent
 * anywhere, the leaf indices are printed instead. Importing the same file
 * twice stores nothing twice (resends are recognised, ingest.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "collector.h"
#include "error.h"
#include "ingest.h"
#include "seal.h"

/* Read exactly n bytes. Returns n, fewer at the end of the file, -1 on an
 * error. */
static ssize_t read_full(FILE *f, uint8_t *p, size_t n)
{
	size_t got = fread(p, 1, n, f);

	return ferror(f) ? -1 : (ssize_t)got;
}

static int import_file(struct ingest *g, const char *file, FILE *f)
{
	uint8_t len4[4];
	struct buf env, ack;
	uint64_t n = 0, ok = 0, again = 0, bad = 0, pos = 0;
	char why[512];
	ssize_t r;
	int ret = 0;

	buf_init(&env, CUSTOS_SEALED_MAX);
	buf_init(&ack, ACK_MAX);
	while ((r = read_full(f, len4, 4)) == 4) {
		uint32_t len = load_be32(len4);
		n++;
		if (len == 0 || len > CUSTOS_SEALED_MAX) {
			coll_log("%s: envelope %llu at offset %llu: length %u is %s; cannot go on",
				 file, (unsigned long long)n, (unsigned long long)pos, len,
				 len ? "over the limit" : "zero");
			ret = -CUSTOS_ERR_MALFORMED;
			break;
		}
		buf_reset(&env);
		if (buf_reserve(&env, len) != 0 || read_full(f, env.data, len) != (ssize_t)len) {
			coll_log("%s: envelope %llu at offset %llu: the file ends inside it", file,
				 (unsigned long long)n, (unsigned long long)pos);
			ret = -CUSTOS_ERR_TRUNCATED;
			break;
		}
		env.len = len;
		buf_reset(&ack);
		int res = ingest_envelope(g, env.data, env.len, &ack, why, sizeof(why));
		struct ack a;
		if (res >= 0 && ack_verify(ack.data, ack.len, g->ks.kp.pub.sign_pk, &a) == 0)
			printf("%s envelope %llu: host %s seq %llu: leaf %llu\n",
			       res ? "already held" : "imported", (unsigned long long)n,
			       keystore_name(&g->ks, a.host_id), (unsigned long long)a.seq,
			       (unsigned long long)a.leaf_index);
		if (res == 0)
			ok++;
		else if (res == 1)
			again++;
		else {
			bad++;
			coll_log("%s: envelope %llu at offset %llu: %s", file, (unsigned long long)n,
				 (unsigned long long)pos, why);
		}
		pos += 4 + (uint64_t)len;
	}
	if (!ret && r != 0 && r != 4) {
		coll_log("%s: %s at offset %llu", file, r < 0 ? strerror(errno) :
			 "the file ends inside a length prefix", (unsigned long long)pos);
		ret = r < 0 ? -CUSTOS_ERR_IO : -CUSTOS_ERR_TRUNCATED;
	}
	printf("%s: %llu imported, %llu already held, %llu refused\n", file,
	       (unsigned long long)ok, (unsigned long long)again, (unsigned long long)bad);
	buf_free(&env);
	buf_free(&ack);
	return ret ? ret : bad ? -CUSTOS_ERR_MALFORMED : 0;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	const char *dir = coll_default_dir(), *u = "[--dir DIR] FILE";
	struct ingest g;
	FILE *f;
	int c, lock, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd') {
			fprintf(stderr, "Usage: custos-collector import %s\n", u);
			return COLL_EXIT_USAGE;
		}
		dir = optarg;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "Usage: custos-collector import %s\n", u);
		return COLL_EXIT_USAGE;
	}
	f = fopen(argv[optind], "rbe");
	if (!f) {
		coll_log("%s: %s", argv[optind], strerror(errno));
		return COLL_EXIT_FAIL;
	}
	lock = coll_lock_dir(dir);
	if (lock < 0) {
		coll_log("%s: %s", dir, lock == -CUSTOS_ERR_EXISTS ?
			 "a running custos-collector holds the directory (stop serve first)" :
			 custos_strerror(lock));
		fclose(f);
		return COLL_EXIT_FAIL;
	}
	ret = ingest_open(&g, dir);
	if (!ret)
		ret = import_file(&g, argv[optind], f);
	if (g.log.fd >= 0 && ingest_checkpoint(&g, 0) < 0)
		coll_log("checkpoint not signed");
	ingest_close(&g);
	close(lock);
	fclose(f);
	return ret ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
