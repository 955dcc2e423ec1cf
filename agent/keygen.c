/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-agent keygen: create this host's key pair, host.key (0600) and
 * host.pub, in a directory (default /var/lib/custos/agent), and print the
 * fingerprint the operator reads to whoever enrols the host at the
 * collector. It never replaces an existing key: a host's identity changes
 * only by an explicit, visible act.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "commands.h"
#include "error.h"
#include "keys.h"

#define KEYGEN_DEFAULT_DIR "/var/lib/custos/agent"

static const char keygen_usage_text[] =
	"Usage: custos-agent keygen [--dir DIR]\n"
	"Create this host's key pair: DIR/host.key (secret, mode 0600) and DIR/host.pub,\n"
	"and print the fingerprint to compare at enrolment. Refuses to overwrite.\n"
	"  --dir DIR   where to write the keys (default " KEYGEN_DEFAULT_DIR ")\n";

static int make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
	}
	fprintf(stderr, "custos-agent: keygen: creating directory %s: %s\n", dir, strerror(errno));
	return -1;
}

static int generate(const char *dir)
{
	char key[4096], pub[4096], fpr[KEYS_FPR_STRLEN];
	const char *failed;
	struct custos_keypair kp;
	int ret;

	if ((size_t)snprintf(key, sizeof(key), "%s/host.key", dir) >= sizeof(key) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s/host.pub", dir) >= sizeof(pub)) {
		fprintf(stderr, "custos-agent: keygen: directory name too long\n");
		return AGENT_EXIT_USAGE;
	}
	if (access(key, F_OK) == 0 || access(pub, F_OK) == 0) {
		fprintf(stderr, "custos-agent: keygen: %s or %s already exists; refusing to "
			"overwrite a host key\n", key, pub);
		return AGENT_EXIT_FAIL;
	}
	if (make_dir(dir))
		return AGENT_EXIT_FAIL;
	keys_generate(&kp);
	failed = key;
	ret = keys_save_secret(key, &kp);
	if (ret == 0) {
		failed = pub;
		ret = keys_save_public(pub, &kp.pub);
		if (ret)
			unlink(key);	/* never leave half a key pair */
	}
	if (ret) {
		fprintf(stderr, "custos-agent: keygen: writing %s: %s%s%s\n",
			failed, custos_strerror(ret), ret == -CUSTOS_ERR_IO ? ": " : "",
			ret == -CUSTOS_ERR_IO ? strerror(errno) : "");
		keys_wipe(&kp);
		return AGENT_EXIT_FAIL;
	}
	keys_fingerprint(&kp.pub, fpr);
	keys_wipe(&kp);
	printf("host key: %s\npublic key: %s\nfingerprint: %s\n", key, pub, fpr);
	return AGENT_EXIT_OK;
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = KEYGEN_DEFAULT_DIR;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			fputs(keygen_usage_text, stdout);
			return AGENT_EXIT_OK;
		default:
			fputs(keygen_usage_text, stderr);
			return AGENT_EXIT_USAGE;
		}
	}
	if (optind != argc || !dir[0]) {
		fputs(keygen_usage_text, stderr);
		return AGENT_EXIT_USAGE;
	}
	if (custos_init()) {
		fprintf(stderr, "custos-agent: keygen: libsodium failed to initialise\n");
		return AGENT_EXIT_FAIL;
	}
	return generate(dir);
}
