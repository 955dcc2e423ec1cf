/* SPDX-License-Identifier: Apache-2.0 */
/*
 * import: ingest an agent's offline file (the agent's stand-alone mode
 * for responders). Two layouts are read, told apart by their first bytes:
 *   - frames: a concatenation of BATCH frames (docs/format.md 5), which
 *     is what custos-agent's offline mode writes (agent/outfile.h,
 *     docs/agent.md "Offline file");
 *   - length-prefixed: each sealed envelope preceded by its length as 4
 *     bytes, big-endian.
 * A length-prefixed file has the envelope magic "CSTS" at offset 4; a
 * frame file cannot (its bytes 4-7 are a length, and "CSTS" read as one
 * is past the frame limit). Every envelope goes through exactly the
 * checks and the archive of a batch received over TCP (ingest.c); the
 * acknowledgements are not sent anywhere, the leaf indices are printed
 * instead, once the group of up to IMPORT_GROUP batches they belong to
 * is committed (one fsync of the archive and one of the custody leaves
 * for the group, ingest.h). Importing the same file twice stores nothing
 * twice (resends are recognised, ingest.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "collector.h"
#include "error.h"
#include "frame.h"
#include "ingest.h"
#include "seal.h"

/* Read exactly n bytes. Returns n, fewer at the end of the file, -1 on an
 * error. */
static ssize_t read_full(FILE *f, uint8_t *p, size_t n)
{
	size_t got = fread(p, 1, n, f);

	return ferror(f) ? -1 : (ssize_t)got;
}

/* Read the next item's prefix and return the envelope's length in *len.
 * Returns 1 with an item, 0 at a clean end of file, or -CUSTOS_ERR_*. */
static int next_item(FILE *f, int framed, uint32_t *len)
{
	uint8_t head[FRAME_HEADER_LEN];
	size_t want = framed ? FRAME_HEADER_LEN : 4, consumed;
	ssize_t r = read_full(f, head, want);
	struct frame fr;
	int ret;

	if (r == 0)
		return 0;
	if (r < 0)
		return -CUSTOS_ERR_IO;
	if ((size_t)r < want)
		return -CUSTOS_ERR_TRUNCATED;
	if (!framed) {
		*len = load_be32(head);
		return *len == 0 ? -CUSTOS_ERR_MALFORMED
		       : *len > CUSTOS_SEALED_MAX ? -CUSTOS_ERR_OVERSIZED : 1;
	}
	ret = frame_parse(head, sizeof(head), &fr, &consumed);
	if (ret == 0 || ret == -CUSTOS_ERR_AGAIN) {
		*len = load_be32(head + 4);
		return head[1] == FRAME_BATCH ? 1 : -CUSTOS_ERR_MALFORMED;
	}
	return ret;
}

/* Which layout: peek at the first 8 bytes (see the top of this file). */
static int is_framed(FILE *f)
{
	uint8_t head[8];
	size_t r = fread(head, 1, sizeof(head), f);

	rewind(f);
	return !(r == sizeof(head) && memcmp(head + 4, SEAL_MAGIC, SEAL_MAGIC_LEN) == 0);
}

/* Envelopes staged and not yet committed (group commit, ingest.h): their
 * acks are printed only once the group is on stable storage. */
#define IMPORT_GROUP 64

struct pending {
	struct buf ack[IMPORT_GROUP];
	int res[IMPORT_GROUP];
	uint64_t n[IMPORT_GROUP];
	size_t count;
};

/* Commit the group, then say what became of each of its envelopes. */
static void flush_group(struct ingest *g, const char *file, struct pending *pd,
			uint64_t counts[3])
{
	int ret = pd->count ? ingest_commit(g) : 0;
	struct ack a;

	for (size_t i = 0; i < pd->count; i++) {
		if (ret) {
			coll_log("%s: envelope %llu: batch not stored: archive or custody log write "
				 "failed", file, (unsigned long long)pd->n[i]);
			counts[2]++;
		} else {
			if (ack_verify(pd->ack[i].data, pd->ack[i].len, g->ks.kp.pub.sign_pk, &a) == 0)
				printf("%s envelope %llu: host %s seq %llu: leaf %llu\n",
				       pd->res[i] ? "already held" : "imported",
				       (unsigned long long)pd->n[i], keystore_name(&g->ks, a.host_id),
				       (unsigned long long)a.seq, (unsigned long long)a.leaf_index);
			counts[pd->res[i] == 0 ? 0 : 1]++;
		}
		buf_reset(&pd->ack[i]);
	}
	pd->count = 0;
}

static void one(struct ingest *g, const char *file, const struct buf *env, uint64_t n,
		uint64_t pos, uint64_t counts[3], struct pending *pd)
{
	char why[512];
	int res;

	res = ingest_stage(g, env->data, env->len, &pd->ack[pd->count], why, sizeof(why));
	if (res < 0) {
		coll_log("%s: envelope %llu at offset %llu: %s", file, (unsigned long long)n,
			 (unsigned long long)pos, why);
		counts[2]++;
		buf_reset(&pd->ack[pd->count]);
		return;
	}
	pd->res[pd->count] = res;
	pd->n[pd->count++] = n;
	if (pd->count == IMPORT_GROUP)
		flush_group(g, file, pd, counts);
}

static int import_file(struct ingest *g, const char *file, FILE *f)
{
	int framed = is_framed(f), ret;
	uint64_t n = 0, pos = 0, counts[3] = { 0, 0, 0 };
	struct buf env;
	uint32_t len = 0;

	struct pending *pd = calloc(1, sizeof(*pd));

	if (!pd)
		return -CUSTOS_ERR_NOMEM;
	for (size_t i = 0; i < IMPORT_GROUP; i++)
		buf_init(&pd->ack[i], ACK_MAX);
	buf_init(&env, CUSTOS_SEALED_MAX);
	while ((ret = next_item(f, framed, &len)) == 1) {
		n++;
		buf_reset(&env);
		if (buf_reserve(&env, len) != 0 || read_full(f, env.data, len) != (ssize_t)len) {
			ret = -CUSTOS_ERR_TRUNCATED;
			break;
		}
		env.len = len;
		one(g, file, &env, n, pos, counts, pd);
		pos += (framed ? FRAME_HEADER_LEN : 4) + (uint64_t)len;
	}
	flush_group(g, file, pd, counts);
	for (size_t i = 0; i < IMPORT_GROUP; i++)
		buf_free(&pd->ack[i]);
	free(pd);
	if (ret < 0)
		coll_log("%s: item %llu at offset %llu: %s; cannot go on", file,
			 (unsigned long long)n + (ret == -CUSTOS_ERR_TRUNCATED ? 0 : 1),
			 (unsigned long long)pos, ret == -CUSTOS_ERR_TRUNCATED ?
			 "the file ends inside it" : custos_strerror(ret));
	printf("%s (%s): %llu imported, %llu already held, %llu refused\n", file,
	       framed ? "BATCH frames" : "length-prefixed envelopes",
	       (unsigned long long)counts[0], (unsigned long long)counts[1],
	       (unsigned long long)counts[2]);
	buf_free(&env);
	return ret < 0 ? ret : counts[2] ? -CUSTOS_ERR_MALFORMED : 0;
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
	ret = ingest_open(&g, dir, NULL);
	if (!ret)
		ret = import_file(&g, argv[optind], f);
	if (g.log.fd >= 0 && ingest_checkpoint(&g, 0) < 0)
		coll_log("checkpoint not signed");
	ingest_close(&g);
	close(lock);
	fclose(f);
	return ret ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
