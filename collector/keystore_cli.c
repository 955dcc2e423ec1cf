/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's init, enroll and revoke subcommands: argument checks
 * and messages around the keystore (keystore.h), which holds the keys and
 * writes the chain-of-custody event log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>

#include "collector.h"
#include "enroll_list.h"
#include "error.h"
#include "keystore.h"

static int usage_of(const char *cmd, const char *opts)
{
	fprintf(stderr, "Usage: custos-collector %s %s\n", cmd, opts);
	return COLL_EXIT_USAGE;
}

static int mkdir_p(const char *dir, const char *sub)
{
	char path[COLL_PATH_MAX];

	if (sub ? coll_path(path, dir, sub) : snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -CUSTOS_ERR_INVAL;
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		coll_log("%s: cannot create: %s", path, strerror(errno));
		return -CUSTOS_ERR_IO;
	}
	return 0;
}

static int write_name(const char *dir, const char *name)
{
	char path[COLL_PATH_MAX];
	FILE *f;
	int ok;

	if (coll_path(path, dir, "name"))
		return -CUSTOS_ERR_INVAL;
	f = fopen(path, "wxe");
	if (!f)
		return errno == EEXIST ? -CUSTOS_ERR_EXISTS : -CUSTOS_ERR_IO;
	ok = fprintf(f, "%s\n", name) > 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
	return fclose(f) == 0 && ok ? 0 : -CUSTOS_ERR_IO;
}

static int logname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KS_LOGNAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '+')
			return 0;
	return 1;
}

static int init_dir(const char *dir, const char *name)
{
	char path[COLL_PATH_MAX], pubpath[COLL_PATH_MAX], fpr[KEYS_FPR_STRLEN], h[17];
	char defname[KS_LOGNAME_MAX + 1];
	struct custos_keypair kp;
	struct keystore ks;
	int ret;

	if (mkdir_p(dir, NULL) || mkdir_p(dir, "custody") || mkdir_p(dir, "archive"))
		return -CUSTOS_ERR_IO;
	if (coll_path(path, dir, "collector.key") || coll_path(pubpath, dir, "collector.pub"))
		return -CUSTOS_ERR_INVAL;
	keys_generate(&kp);
	ret = keys_save_secret(path, &kp);
	if (!ret)
		ret = keys_save_public(pubpath, &kp.pub);
	if (ret) {
		coll_log("%s: %s", path, custos_strerror(ret));
		keys_wipe(&kp);
		return ret;
	}
	if (!name) {
		snprintf(defname, sizeof(defname), "custos-collector/%s",
			 sodium_bin2hex(h, sizeof(h), kp.pub.sign_pk, 8));
		name = defname;
	}
	keys_fingerprint(&kp.pub, fpr);
	keys_wipe(&kp);
	ret = write_name(dir, name);
	if (!ret)
		ret = keystore_open(&ks, dir, 1);
	if (ret)
		return ret;
	json_t *e = json_object();
	json_object_set_new(e, "action", json_string("init"));
	json_object_set_new(e, "name", json_string(name));
	json_object_set_new(e, "fingerprint", json_string(fpr));
	ret = keystore_event_append(&ks, e);
	keystore_close(&ks);
	if (!ret)
		printf("collector keys in %s (secret key 0600)\nlog name %s\nfingerprint %s\n",
		       dir, name, fpr);
	return ret;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = coll_default_dir(), *name = NULL, *u = "[--dir DIR] [--name LOGNAME]";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'n')
			name = optarg;
		else
			return usage_of("init", u);
	}
	if (optind != argc || (name && !logname_ok(name)))
		return usage_of("init", u);
	umask(077);
	return init_dir(dir, name) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}

static int do_enroll(const char *dir, const char *name, const char *keyfile)
{
	struct ks_enrolment h;
	struct keystore ks;
	size_t bad;
	int line, ret;

	snprintf(h.name, sizeof(h.name), "%s", name);	/* name_ok: it fits */
	ret = keys_load_public(keyfile, &h.pk, &line);
	if (ret) {
		coll_log("%s: line %d: %s", keyfile, line, custos_strerror(ret));
		return ret;
	}
	ret = keystore_open(&ks, dir, 1);
	if (ret)
		return ret;
	/* keystore_enroll_many checks name and key again under the log's
	 * lock: an enroll of the same host running at the same moment cannot
	 * append a second entry (the log would then fail to replay). */
	ret = keystore_enroll_many(&ks, &h, 1, &bad);
	if (ret == -CUSTOS_ERR_EXISTS && keystore_host_named(&ks, name))
		coll_log("enroll: a host named '%s' is already enrolled (or was, and is revoked)", name);
	else if (ret == -CUSTOS_ERR_EXISTS)
		coll_log("enroll: this key is already enrolled as '%s'", keystore_name(&ks, h.pk.sign_pk));
	keystore_close(&ks);
	return ret;
}

static int do_revoke(const char *dir, const char *name, const char *reason)
{
	struct keystore ks;
	int ret = keystore_open(&ks, dir, 1);

	if (ret)
		return ret;
	ret = keystore_revoke(&ks, name, reason);
	if (!ret)
		printf("revoked %s\n", name);
	keystore_close(&ks);
	return ret;
}

int cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "name", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' }, { "list", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = coll_default_dir(), *name = NULL, *key = NULL, *list = NULL;
	const char *u = "[--dir DIR] --name NAME --key HOST.pub\n"
			"       custos-collector enroll [--dir DIR] --list FILE   "
			"(lines 'NAME KEYFILE'; # comments)";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'n')
			name = optarg;
		else if (c == 'k')
			key = optarg;
		else if (c == 'l')
			list = optarg;
		else
			return usage_of("enroll", u);
	}
	if (list && optind == argc && !name && !key)
		return enroll_list_run(dir, list) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
	if (optind != argc || list || !name || !key || !keystore_name_ok(name)) {
		if (name && !keystore_name_ok(name))
			fprintf(stderr, "custos-collector: a host name is 1-64 of A-Z a-z 0-9 . _ -\n");
		return usage_of("enroll", u);
	}
	return do_enroll(dir, name, key) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}

int cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "name", required_argument, NULL, 'n' },
		{ "reason", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	const char *dir = coll_default_dir(), *name = NULL, *reason = NULL;
	const char *u = "[--dir DIR] --name NAME [--reason TEXT]";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'n')
			name = optarg;
		else if (c == 'r')
			reason = optarg;
		else
			return usage_of("revoke", u);
	}
	if (optind != argc || !name || !keystore_name_ok(name))
		return usage_of("revoke", u);
	return do_revoke(dir, name, reason) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
