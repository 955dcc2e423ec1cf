/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: sign a tree head of the custody log now (when it grew since
 * the last one) and print the latest checkpoint note (docs/custody.md 4).
 * log: list the custody log from the archive itself, one line per leaf
 * (leaf index, host, seq, batch hash, receive time), each record checked
 * against its leaf hash on the way, and the root of all leaves.
 * proof: an RFC 9162 inclusion proof for a leaf (--leaf N) or a consistency
 * proof between two tree sizes (--from M), against the tree of --size
 * leaves (default: the whole log), in hex, one hash per line, with the
 * root they lead to: what an examiner checks against a signed checkpoint
 * of that size (docs/custody.md 2, 3).
 * All three take the directory's writer lock (opening the log may recover it
 * after a crash), so they run when serve does not; serve signs
 * checkpoints itself at intervals and on shutdown.
 */
#include <getopt.h>
#include <stdio.h>
#include <sodium.h>
#include <unistd.h>

#include "batch.h"
#include "collector.h"
#include "custody.h"
#include "error.h"
#include "keystore.h"
#include "number.h"

static int sign_now(const char *dir)
{
	struct keystore ks;
	struct custody c;
	struct buf note;
	int lock, ret;

	lock = coll_lock_dir(dir);
	if (lock < 0) {
		coll_log("%s: %s", dir, lock == -CUSTOS_ERR_EXISTS ?
			 "a running custos-collector holds the directory; it signs checkpoints "
			 "itself (custody/checkpoint)" : custos_strerror(lock));
		return lock;
	}
	buf_init(&note, CHECKPOINT_MAX);
	ret = keystore_open(&ks, dir, 1);
	if (!ret) {
		ret = custody_open(&c, dir);
		if (!ret)
			ret = custody_checkpoint(&c, ks.logname, &ks.kp, 1, &note);
		custody_close(&c);
	}
	if (ret >= 0) {
		fwrite(note.data, 1, note.len, stdout);
		ret = 0;
	} else {
		coll_log("checkpoint: %s", custos_strerror(ret));
	}
	keystore_close(&ks);
	buf_free(&note);
	close(lock);
	return ret;
}

int cmd_checkpoint(int argc, char **argv)
{
	const char *dir;
	int ret = coll_dir_only_options(argc, argv, "checkpoint", &dir);

	if (ret)
		return ret;
	return sign_now(dir) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}

static int list_log(const char *dir)
{
	struct merkle_leaves leaves;
	struct keystore ks;
	struct custody c;
	struct batch_view v;
	struct buf b;
	uint8_t root[MERKLE_HASH_LEN];
	char hash[65], when[48];
	uint64_t recv;
	int lock, ret;

	lock = coll_lock_dir(dir);
	if (lock < 0) {
		coll_log("%s: %s", dir, lock == -CUSTOS_ERR_EXISTS ?
			 "a running custos-collector holds the directory" : custos_strerror(lock));
		return lock;
	}
	buf_init(&b, CUSTOS_SIGNED_MAX);
	ret = keystore_open(&ks, dir, 0);
	if (!ret)
		ret = custody_open(&c, dir);
	for (uint64_t i = 0; !ret && i < c.size; i++) {
		ret = custody_read(&c, i, &b, &recv);
		if (!ret)
			ret = batch_parse(b.data, b.len, &v);
		if (ret) {
			coll_log("leaf %llu: %s", (unsigned long long)i, custos_strerror(ret));
			break;
		}
		sodium_bin2hex(hash, sizeof(hash), v.hash, sizeof(v.hash));
		printf("%llu %s %llu %s %s\n", (unsigned long long)i, keystore_name(&ks, v.hdr.host_id),
		       (unsigned long long)v.hdr.seq, hash,
		       coll_fmt_time((int64_t)recv, 0, when, sizeof(when)));
	}
	if (!ret) {
		leaves.hash = (const uint8_t (*)[MERKLE_HASH_LEN])c.hash;
		leaves.count = c.size;
		ret = merkle_root(merkle_leaves_get, &leaves, c.size, root);
		sodium_bin2hex(hash, sizeof(hash), root, sizeof(root));
		if (!ret)
			printf("size %llu root %s\n", (unsigned long long)c.size, hash);
		custody_close(&c);
	}
	keystore_close(&ks);
	buf_free(&b);
	close(lock);
	return ret;
}

int cmd_log(int argc, char **argv)
{
	const char *dir;
	int ret = coll_dir_only_options(argc, argv, "log", &dir);

	if (ret)
		return ret;
	return list_log(dir) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}

static void print_hashes(const char *what, const uint8_t (*h)[MERKLE_HASH_LEN], size_t n)
{
	char hex[65];

	for (size_t i = 0; i < n; i++) {
		sodium_bin2hex(hex, sizeof(hex), h[i], MERKLE_HASH_LEN);
		printf("%s %s\n", what, hex);
	}
}

static int make_proof(const char *dir, int inclusion, uint64_t a, uint64_t size)
{
	uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	struct merkle_leaves leaves;
	struct custody c;
	size_t n = 0;
	int lock, ret;

	lock = coll_lock_dir(dir);
	if (lock < 0) {
		coll_log("%s: %s", dir, lock == -CUSTOS_ERR_EXISTS ?
			 "a running custos-collector holds the directory" : custos_strerror(lock));
		return lock;
	}
	ret = custody_open(&c, dir);
	if (!ret) {
		if (size == 0)
			size = c.size;
		leaves.hash = (const uint8_t (*)[MERKLE_HASH_LEN])c.hash;
		leaves.count = c.size;
		ret = size > c.size ? -CUSTOS_ERR_INVAL
		      : inclusion ? merkle_inclusion_proof(merkle_leaves_get, &leaves, a, size, proof, &n)
				  : merkle_consistency_proof(merkle_leaves_get, &leaves, a, size, proof, &n);
		if (!ret)
			ret = merkle_root(merkle_leaves_get, &leaves, size, root);
		if (!ret) {
			printf("%s %llu size %llu\n", inclusion ? "inclusion leaf" : "consistency from",
			       (unsigned long long)a, (unsigned long long)size);
			if (inclusion)
				print_hashes("leaf-hash", (const uint8_t (*)[MERKLE_HASH_LEN])c.hash[a], 1);
			print_hashes("root", (const uint8_t (*)[MERKLE_HASH_LEN])root, 1);
			print_hashes("path", (const uint8_t (*)[MERKLE_HASH_LEN])proof, n);
		} else {
			coll_log("proof: %s (the log has %llu leaves)", custos_strerror(ret),
				 (unsigned long long)c.size);
		}
		custody_close(&c);
	}
	close(lock);
	return ret;
}

int cmd_proof(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "leaf", required_argument, NULL, 'l' },
		{ "from", required_argument, NULL, 'f' }, { "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = coll_default_dir();
	uint64_t a = 0, size = 0;
	int c, mode = 0, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'l' || c == 'f') {
			bad |= mode != 0 || custos_parse_u64(optarg, c == 'f', UINT64_MAX, &a);
			mode = c;
		} else if (c == 's')
			bad |= custos_parse_u64(optarg, 1, UINT64_MAX, &size);
		else
			bad = 1;
	}
	if (bad || !mode || optind != argc) {
		fprintf(stderr, "Usage: custos-collector proof [--dir DIR] (--leaf N | --from M) "
			"[--size N]\n");
		return COLL_EXIT_USAGE;
	}
	return make_proof(dir, mode == 'l', a, size) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
