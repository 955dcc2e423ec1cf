/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: sign a tree head of the custody log now (when it grew since
 * the last one) and print the latest checkpoint note (docs/custody.md 4).
 * Takes the directory's writer lock, so it runs when serve does not;
 * serve signs checkpoints itself at intervals and on shutdown.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "collector.h"
#include "custody.h"
#include "error.h"
#include "keystore.h"

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
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	const char *dir = coll_default_dir();
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd') {
			fprintf(stderr, "Usage: custos-collector checkpoint [--dir DIR]\n");
			return COLL_EXIT_USAGE;
		}
		dir = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "Usage: custos-collector checkpoint [--dir DIR]\n");
		return COLL_EXIT_USAGE;
	}
	return sign_now(dir) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
