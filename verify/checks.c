/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify, first checks: the report lines, reading bundle files
 * with bounds, the manifest (its signature by the collector key given on
 * the command line, every file's size and SHA-256, no file unlisted), the
 * chain-of-custody event log (bundle_events_verify) and the host keys
 * against their enrolment entries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "error.h"
#include "verify.h"

void vr_ok(struct vr *v, const char *fmt, ...)
{
	va_list ap;

	v->checks++;
	printf("  ok    ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void vr_fail(struct vr *v, const char *file, const char *batch, const char *check,
	     const char *fmt, ...)
{
	va_list ap;

	v->checks++;
	v->failures++;
	printf("  FAIL  %s%s%s: %s: ", file, batch ? " " : "", batch ? batch : "", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!v->all)
		v->stop = 1;
}

int vr_read(const struct vr *v, const char *rel, size_t max, uint8_t **p, size_t *n)
{
	char path[VR_PATH_MAX];
	struct stat st;
	int fd, ret = -CUSTOS_ERR_IO;

	*p = NULL;
	*n = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", v->dir, rel) >= sizeof(path))
		return -CUSTOS_ERR_INVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	ret = -CUSTOS_ERR_OVERSIZED;
	if ((uint64_t)st.st_size > max)
		goto out;
	ret = -CUSTOS_ERR_NOMEM;
	*p = malloc((size_t)st.st_size + 1);
	if (!*p)
		goto out;
	ret = -CUSTOS_ERR_IO;
	if (read(fd, *p, (size_t)st.st_size) != (ssize_t)st.st_size) {
		free(*p);
		*p = NULL;
		goto out;
	}
	(*p)[st.st_size] = 0;
	*n = (size_t)st.st_size;
	ret = 0;
out:
	close(fd);
	return ret;
}

int vr_sha256(const struct vr *v, const char *rel, uint8_t h[32], uint64_t *n)
{
	char path[VR_PATH_MAX];
	crypto_hash_sha256_state st;
	uint8_t buf[1 << 16];
	struct stat sb;
	ssize_t k = 0;
	int fd;

	*n = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", v->dir, rel) >= sizeof(path))
		return -CUSTOS_ERR_INVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -CUSTOS_ERR_IO;
	}
	crypto_hash_sha256_init(&st);
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&st, buf, (size_t)k);
		*n += (uint64_t)k;
	}
	close(fd);
	crypto_hash_sha256_final(&st, h);
	return k < 0 ? -CUSTOS_ERR_IO : 0;
}

/* A manifest path: relative, [A-Za-z0-9._/-], no empty, "." or ".." part. */
static int path_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 200 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-", s[i]))
			return 0;
	return !strstr(s, "..") && strncmp(s, "./", 2) != 0;
}

static void check_file(struct vr *v, json_t *f)
{
	const char *rel = json_string_value(json_object_get(f, "path"));
	const char *want = json_string_value(json_object_get(f, "sha256"));
	json_t *js = json_object_get(f, "size");
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[65];
	uint64_t n;

	if (!path_ok(rel) || !want || !json_is_integer(js)) {
		vr_fail(v, "manifest.json", NULL, "file list", "an entry is not {path, size, sha256}");
		return;
	}
	if (vr_sha256(v, rel, h, &n)) {
		vr_fail(v, rel, NULL, "manifest", "listed in the manifest but missing or unreadable");
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if ((json_int_t)n != json_integer_value(js))
		vr_fail(v, rel, NULL, "manifest size", "%llu bytes, the manifest says %lld",
			(unsigned long long)n,
			(long long)json_integer_value(js));
	else if (strcmp(hex, want) != 0)
		vr_fail(v, rel, NULL, "manifest SHA-256", "the file's SHA-256 is %s, the manifest "
			"says %s: the file was changed after export", hex, want);
}

static int listed(json_t *files, const char *rel)
{
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f)
		if (strcmp(json_string_value(json_object_get(f, "path")) ?: "", rel) == 0)
			return 1;
	return 0;
}

/* Files in the bundle that the manifest does not list. */
static void unlisted(struct vr *v, json_t *files, const char *sub)
{
	char dir[VR_PATH_MAX], rel[VR_PATH_MAX];
	struct dirent **e;
	int n;

	snprintf(dir, sizeof(dir), "%s%s%s", v->dir, sub[0] ? "/" : "", sub);
	n = scandir(dir, &e, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] ? "/" : "", e[i]->d_name);
		if (!sub[0] && e[i]->d_type == DT_DIR && strcmp(rel, ".") && strcmp(rel, "..") &&
		    strcmp(rel, "custody") && strcmp(rel, "evidence") && strcmp(rel, "keys"))
			vr_fail(v, rel, NULL, "manifest", "a directory the bundle layout does not have");
		else if (sub[0] && e[i]->d_type == DT_DIR && e[i]->d_name[0] != '.' &&
			 strcmp(rel, "custody/receipts") != 0)
			vr_fail(v, rel, NULL, "manifest", "a directory the bundle layout does not have");
		else if (e[i]->d_name[0] != '.' && e[i]->d_type != DT_DIR &&
		    strcmp(rel, "manifest.json") && strcmp(rel, "manifest.sig") && !listed(files, rel))
			vr_fail(v, rel, NULL, "manifest", "present in the bundle but not listed in "
				"the signed manifest");
		free(e[i]);
	}
	if (n >= 0)
		free(e);
}

static int manifest_sig(struct vr *v, const uint8_t *m, size_t n)
{
	uint8_t *s, sig[CUSTOS_SIG_LEN];
	size_t sn, got;
	int ok;

	if (vr_read(v, "manifest.sig", 1024, &s, &sn)) {
		vr_fail(v, "manifest.sig", NULL, "manifest signature", "missing or unreadable");
		return -1;
	}
	ok = sn == 2 * CUSTOS_SIG_LEN + 1 && s[sn - 1] == '\n' &&
	     sodium_hex2bin(sig, sizeof(sig), (const char *)s, sn - 1, NULL, &got, NULL) == 0 &&
	     got == sizeof(sig);
	free(s);
	if (!ok) {
		vr_fail(v, "manifest.sig", NULL, "manifest signature",
			"not 128 hex digits and a newline");
		return -1;
	}
	if (bundle_manifest_verify(m, n, sig, v->cpk) != 0) {
		vr_fail(v, "manifest.sig", NULL, "manifest signature", "manifest.json is not signed "
			"by the collector key given (changed, or signed by another key)");
		return -1;
	}
	vr_ok(v, "manifest.json is signed by the collector key given");
	return 0;
}

int vr_manifest(struct vr *v)
{
	static const char *const subs[] = { "", "custody", "custody/receipts", "evidence", "keys" };
	const char *fmt, *name;
	uint8_t *m;
	size_t n, i;
	json_t *files, *f;
	unsigned before = v->failures;

	if (vr_read(v, "manifest.json", BUNDLE_JSON_MAX, &m, &n)) {
		vr_fail(v, "manifest.json", NULL, "manifest", "missing or unreadable");
		return -1;
	}
	if (manifest_sig(v, m, n) && !v->all) {	/* --all: read on, untrusted */
		free(m);
		return -1;
	}
	v->manifest = json_loadb((const char *)m, n, JSON_REJECT_DUPLICATES, NULL);
	free(m);
	fmt = json_string_value(json_object_get(v->manifest, "format"));
	name = json_string_value(json_object_get(json_object_get(v->manifest, "collector"),
						 "log_name"));
	files = json_object_get(v->manifest, "files");
	if (!fmt || strcmp(fmt, BUNDLE_FORMAT) != 0 || !name ||
	    strlen(name) > CHECKPOINT_NAME_MAX || !json_is_array(files)) {
		vr_fail(v, "manifest.json", NULL, "manifest format", "not a %s manifest",
			BUNDLE_FORMAT);
		return -1;
	}
	snprintf(v->logname, sizeof(v->logname), "%s", name);
	json_array_foreach(files, i, f) {
		if (v->stop)
			return -1;
		check_file(v, f);
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]) && !v->stop; i++)
		unlisted(v, files, subs[i]);
	if (v->failures == before)
		vr_ok(v, "all %zu files listed in the manifest have their size and SHA-256; "
		      "no other file is present", json_array_size(files));
	return v->stop ? -1 : 0;
}

static json_t *enrolment(struct vr *v, const char *host)
{
	size_t i;
	json_t *e, *found = NULL;

	json_array_foreach(v->events, i, e) {
		const char *a = json_string_value(json_object_get(e, "action"));
		const char *nm = json_string_value(json_object_get(e, "name"));

		if (a && nm && strcmp(a, "enroll") == 0 && strcmp(nm, host) == 0)
			found = e;
	}
	return found;
}

/* keys/<host>.pub for every host the manifest names, against its
 * enrolment entry. */
static void host_keys(struct vr *v)
{
	json_t *hosts = json_object_get(json_object_get(v->manifest, "request"), "hosts"), *h;
	char rel[128], path[VR_PATH_MAX], hex[2][65];
	size_t i;
	int line;

	json_array_foreach(hosts, i, h) {
		const char *name = json_string_value(h);
		struct vr_key *k = &v->keys[v->nkeys];
		json_t *e;

		if (!name || strlen(name) > BUNDLE_NAME_MAX || v->nkeys == 64 || strchr(name, '/'))
			continue;
		snprintf(rel, sizeof(rel), "keys/%s.pub", name);
		snprintf(path, sizeof(path), "%s/%s", v->dir, rel);
		e = enrolment(v, name);
		if (keys_load_public(path, &k->pk, &line) != 0) {
			vr_fail(v, rel, NULL, "host key", "missing or not a key file");
			continue;
		}
		sodium_bin2hex(hex[0], 65, k->pk.sign_pk, 32);
		sodium_bin2hex(hex[1], 65, k->pk.box_pk, 32);
		if (!e) {
			vr_fail(v, rel, NULL, "host key", "no enrolment of host '%s' in "
				"custody/events.jsonl", name);
			continue;
		}
		if (strcmp(hex[0], json_string_value(json_object_get(e, "sign_pk")) ?: "") ||
		    strcmp(hex[1], json_string_value(json_object_get(e, "box_pk")) ?: "")) {
			vr_fail(v, rel, NULL, "host key", "not the key enrolled for '%s' (custody/"
				"events.jsonl entry %lld)", name,
				(long long)json_integer_value(json_object_get(e, "seq")));
			continue;
		}
		snprintf(k->host, sizeof(k->host), "%s", name);
		v->nkeys++;
		vr_ok(v, "%s is the key enrolled for host '%s' (event %lld)", rel, name,
		      (long long)json_integer_value(json_object_get(e, "seq")));
	}
}

/* The last export entry must be this export's case. */
static void export_entry(struct vr *v)
{
	const char *id = json_string_value(json_object_get(json_object_get(v->manifest, "case"),
							   "id"));
	json_t *last = NULL, *e;
	size_t i;

	json_array_foreach(v->events, i, e)
		if (strcmp(json_string_value(json_object_get(e, "action")) ?: "", "export") == 0)
			last = e;
	if (!last || !id || strcmp(json_string_value(json_object_get(last, "case")) ?: "", id))
		vr_fail(v, "custody/events.jsonl", NULL, "export recorded", "the log's last export "
			"entry is not case '%s'", id ? id : "?");
	else
		vr_ok(v, "the export of case '%s' is recorded in the custody log (entry %lld, by %s, "
		      "legal basis: %s)", id, (long long)json_integer_value(json_object_get(last, "seq")),
		      json_string_value(json_object_get(last, "actor")) ?: "?",
		      json_string_value(json_object_get(last, "legal_basis")) ?: "?");
}

int vr_events_keys(struct vr *v)
{
	struct custos_pubkey cpk;
	uint8_t *t;
	size_t n, line;
	char path[VR_PATH_MAX];
	int ret, kl;

	snprintf(path, sizeof(path), "%s/keys/collector.pub", v->dir);
	if (keys_load_public(path, &cpk, &kl) || memcmp(cpk.sign_pk, v->cpk, 32) != 0)
		vr_fail(v, "keys/collector.pub", NULL, "collector key",
			"missing or not the collector key given on the command line");
	if (vr_read(v, "custody/events.jsonl", BUNDLE_JSON_MAX, &t, &n)) {
		vr_fail(v, "custody/events.jsonl", NULL, "custody log", "missing or unreadable");
		return -1;
	}
	v->events = NULL;
	ret = bundle_events_verify((const char *)t, n, v->cpk, &v->events, &line);
	free(t);
	if (ret) {
		char where[32];

		snprintf(where, sizeof(where), "line %zu", line);
		vr_fail(v, "custody/events.jsonl", where, "custody log hash chain", "%s (an entry "
			"was changed, removed or inserted, or is not signed by the collector)",
			custos_strerror(ret));
		v->events = json_array();	/* --all: no enrolment can be trusted */
		host_keys(v);
		return -1;
	}
	vr_ok(v, "the chain-of-custody log has %zu entries, each signed by the collector and "
	      "linked to the one before", json_array_size(v->events));
	export_entry(v);
	host_keys(v);
	return v->stop ? -1 : 0;
}
