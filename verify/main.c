/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify: checks an export bundle offline, as an ordinary user,
 * with nothing but the bundle and the collector's public key
 * (docs/export.md). Prints a report a lawyer can follow; exits 0 when
 * every check passed, 1 naming the file, batch and check of the first
 * failure (of every failure with --all), 2 on misuse.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "verify.h"

static int usage(void)
{
	fprintf(stderr, "Usage: custos-verify BUNDLE_DIR|BUNDLE.tar --collector-key COLLECTOR.pub "
		"[--all]\n       custos-verify BUNDLE_DIR|BUNDLE.tar COLLECTOR.pub [--all]\n"
		"Checks a bundle written by custos-collector export (docs/export.md); the key\n"
		"must come from the collector's operator, not from the bundle. --all reports\n"
		"every failure instead of stopping at the first.\n");
	return 2;
}

static void header(const struct vr *v)
{
	json_t *c = json_object_get(v->manifest, "case");
	json_t *r = json_object_get(v->manifest, "request");
	char *hosts;

	if (!c)
		return;
	hosts = json_dumps(json_object_get(r, "hosts"), JSON_COMPACT | JSON_ENCODE_ANY);
	printf("Case %s, requested by %s\n  reason: %s\n  legal basis: %s\n  hosts %s from %s "
	       "to %s, exported %s by %s\n\n",
	       json_string_value(json_object_get(c, "id")) ?: "?",
	       json_string_value(json_object_get(c, "requester")) ?: "?",
	       json_string_value(json_object_get(c, "reason")) ?: "?",
	       json_string_value(json_object_get(c, "legal_basis")) ?: "?",
	       hosts ? hosts : "?",
	       json_string_value(json_object_get(r, "from")) ?: "?",
	       json_string_value(json_object_get(r, "to")) ?: "?",
	       json_string_value(json_object_get(v->manifest, "created")) ?: "?",
	       json_string_value(json_object_get(v->manifest, "tool")) ?: "?");
	free(hosts);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collector-key", required_argument, NULL, 'k' }, { "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	struct vr v = { 0 };
	struct custos_pubkey pk;
	const char *key = NULL, *bundle;
	char tmp[VR_PATH_MAX] = "", dir[VR_PATH_MAX], why[VR_PATH_MAX + 512];
	struct stat st;
	int c, line, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			key = optarg;
		else if (c == 'a')
			v.all = 1;
		else
			return usage();
	}
	if (!key && optind == argc - 2)
		key = argv[argc - 1];	/* custos-verify BUNDLE KEY */
	else if (!key || optind != argc - 1)
		return usage();
	v.dir = bundle = argv[optind];
	if (custos_init() != 0 || stat(v.dir, &st) != 0 || (!S_ISDIR(st.st_mode) &&
							     !S_ISREG(st.st_mode))) {
		fprintf(stderr, "custos-verify: %s: not a bundle directory or tar archive\n", v.dir);
		return 1;
	}
	if (S_ISREG(st.st_mode)) {
		if (vr_tar_unpack(bundle, tmp, sizeof(tmp), dir, sizeof(dir), why, sizeof(why))) {
			fprintf(stderr, "custos-verify: %s: archive refused: %s\n", bundle, why);
			vr_tar_cleanup(tmp);
			return 1;
		}
		v.dir = dir;
	}
	if (keys_load_public(key, &pk, &line) != 0) {
		fprintf(stderr, "custos-verify: %s: not a public key file (line %d)\n", key, line);
		vr_tar_cleanup(tmp);
		return 1;
	}
	memcpy(v.cpk, pk.sign_pk, sizeof(v.cpk));
	printf("custos-verify: bundle %s%s\n\n", bundle, tmp[0] ? " (tar archive, read and "
	       "checked member by member, unpacked into a private directory)" : "");
	if (vr_manifest(&v) == 0 || v.manifest)
		header(&v);
	if (!v.stop && v.manifest) {
		vr_events_keys(&v);
		if (!v.stop)
			vr_evidence(&v);
		if (!v.stop)
			vr_receipts(&v);
	}
	printf("\n");
	if (v.failures == 0 && !v.stop)
		printf("RESULT: VERIFIED. %u checks passed. The evidence in this bundle is what the "
		       "collector received and logged, signed by the enrolled hosts, complete as "
		       "stated.\n", v.checks);
	else
		printf("RESULT: NOT VERIFIED. %u check%s failed (see FAIL above)%s.\n", v.failures,
		       v.failures == 1 ? "" : "s", v.all ? "" : "; --all reports every failure");
	json_decref(v.manifest);
	json_decref(v.events);
	rc = v.failures ? 1 : 0;
	vr_tar_cleanup(tmp);
	return rc;
}
