/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_files: the files of an export bundle around the evidence
 * (docs/export.md): keys/, README.txt, manifest.json with every file's
 * size and SHA-256 and its signature manifest.sig, and the tar archive of
 * the bundle, made by /usr/bin/tar (no archive format written by hand).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>

#include "bundle.h"
#include "collector.h"
#include "error.h"
#include "export.h"

int export_write(const char *out, const char *rel, const void *p, size_t len)
{
	char path[COLL_PATH_MAX];
	const uint8_t *b = p;
	int fd, ok = 1;

	if (coll_path(path, out, rel))
		return -CUSTOS_ERR_INVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		coll_log("export: cannot create %s: %s", path, strerror(errno));
		return errno == EEXIST ? -CUSTOS_ERR_EXISTS : -CUSTOS_ERR_IO;
	}
	while (ok && len) {
		ssize_t w = write(fd, b, len);
		ok = w > 0;
		if (ok) {
			b += w;
			len -= (size_t)w;
		}
	}
	ok = ok && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -CUSTOS_ERR_IO;
}

int export_keys(const struct export_req *r, const struct keystore *ks)
{
	char path[COLL_PATH_MAX], rel[96];
	int ret;

	ret = coll_path(path, r->out, "keys/collector.pub");
	if (!ret)
		ret = keys_save_public(path, &ks->kp.pub);
	for (size_t i = 0; !ret && i < r->nhosts; i++) {
		const struct ks_host *h = keystore_host(ks, r->host_ids[i]);

		snprintf(rel, sizeof(rel), "keys/%s.pub", r->hosts[i]);
		ret = coll_path(path, r->out, rel);
		if (!ret)
			ret = h ? keys_save_public(path, &h->pk) : -CUSTOS_ERR_INVAL;
	}
	return ret;
}

int export_readme(const struct export_req *r)
{
	char text[4096];
	int n = snprintf(text, sizeof(text),
		"Custos evidence export, case %s\n"
		"==========================================\n\n"
		"This directory is a court bundle written by custos-collector export. Nothing in it\n"
		"needs to be taken on trust: every file can be checked with the collector's public\n"
		"key, obtained separately from the collector's operator (compare its fingerprint on\n"
		"the phone or in writing), and the program custos-verify:\n\n"
		"    custos-verify THIS_DIRECTORY --collector-key collector.pub [--all]\n\n"
		"custos-verify runs offline as an ordinary user. It checks, and says in plain words:\n"
		" 1. manifest.sig: the collector signed manifest.json, which lists every file of the\n"
		"    bundle with its size and SHA-256; every file is checked against it, and files\n"
		"    that are not listed are reported.\n"
		" 2. custody/events.jsonl: the collector's chain-of-custody log (enrolments of the\n"
		"    hosts, this export with its reason and legal basis) is complete and unaltered:\n"
		"    every entry is signed and linked to the one before it.\n"
		" 3. keys/: each host's key is the one its enrolment entry names.\n"
		" 4. evidence/: every batch carries a valid signature of its host, and the batches of\n"
		"    each host link to one another by sequence number and hash; missing ones are\n"
		"    reported as gaps.\n"
		" 5. custody/: every batch is in the collector's append-only log (an RFC 9162\n"
		"    inclusion proof against the signed tree head custody/checkpoint), and that log\n"
		"    only grew since the oldest signed tree head holding them (consistency proof).\n"
		" 6. timeline.jsonl, timeline.csv and gaps.json are exactly what the batches contain.\n"
		" 7. alerts.json and incidents.json (what the collector's rules found, with their\n"
		"    classification) point at records of the batches in evidence/.\n\n"
		"Request: hosts and time range as in manifest.json (\"request\"); whole batches are\n"
		"exported, so the evidence may reach beyond the range: manifest.json (\"covered\")\n"
		"states what it covers. The layout is documented in docs/export.md of Custos.\n",
		r->case_id);

	if (n < 0 || (size_t)n >= sizeof(text))
		return -CUSTOS_ERR_INVAL;
	return export_write(r->out, "README.txt", text, (size_t)n);
}

static int hash_file(const char *path, uint64_t *size, char hex[65])
{
	uint8_t buf[65536], h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -CUSTOS_ERR_IO;
	crypto_hash_sha256_init(&st);
	*size = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		crypto_hash_sha256_update(&st, buf, n);
		*size += n;
	}
	crypto_hash_sha256_final(&st, h);
	n = ferror(f);
	fclose(f);
	sodium_bin2hex(hex, 65, h, sizeof(h));
	return n ? -CUSTOS_ERR_IO : 0;
}

/* Every regular file of out/sub, sorted by name, into files. */
static int list_dir(const char *out, const char *sub, json_t *files)
{
	char dir[COLL_PATH_MAX], rel[COLL_PATH_MAX], path[COLL_PATH_MAX], hex[65];
	struct dirent **ents;
	struct stat st;
	uint64_t size;
	int n, ret = 0;

	snprintf(dir, sizeof(dir), "%s%s%s", out, sub[0] ? "/" : "", sub);
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT && strchr(sub, '/') ? 0 : -CUSTOS_ERR_IO;	/* receipts */
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] ? "/" : "", name);
		if (!ret && coll_path(path, out, rel) == 0 && lstat(path, &st) == 0 &&
		    S_ISREG(st.st_mode) && strcmp(rel, "manifest.json") != 0 &&
		    strcmp(rel, "manifest.sig") != 0) {
			ret = hash_file(path, &size, hex);
			if (!ret && json_array_append_new(files, json_pack(
				"{s:s,s:I,s:s}", "path", rel, "size", (json_int_t)size, "sha256", hex)))
				ret = -CUSTOS_ERR_NOMEM;
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

static json_t *manifest_doc(const struct export_req *r, const struct keystore *ks,
			    json_t *covered, json_t *files)
{
	char created[48], from[48], to[48], fpr[KEYS_FPR_STRLEN], pk[65];
	json_t *hosts = json_array(), *cs;

	for (size_t i = 0; i < r->nhosts; i++)
		json_array_append_new(hosts, json_string(r->hosts[i]));
	bundle_fmt_time((int64_t)r->created_ns, created, sizeof(created));
	bundle_fmt_time(r->from_ns, from, sizeof(from));
	bundle_fmt_time(r->to_ns, to, sizeof(to));
	keys_fingerprint(&ks->kp.pub, fpr);
	sodium_bin2hex(pk, sizeof(pk), ks->kp.pub.sign_pk, KEYS_SIGN_PK_LEN);
	cs = json_pack("{s:s,s:s,s:s,s:s}", "id", r->case_id, "reason", r->reason, "legal_basis",
		       r->legal_basis, "requester", r->requester);
	if (cs && r->tlp)
		json_object_set_new(cs, "tlp", json_string(r->tlp));
	return json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:o,s:{s:o,s:s,s:s,s:I,s:I},s:O,s:O,s:s}",
			 "format", BUNDLE_FORMAT, "tool", BUNDLE_TOOL_VERSION, "created", created,
			 "collector", "log_name", ks->logname, "fingerprint", fpr, "sign_pk", pk,
			 "case", cs, "request", "hosts", hosts, "from", from, "to", to,
			 "from_unix_ns", (json_int_t)r->from_ns, "to_unix_ns", (json_int_t)r->to_ns,
			 "covered", covered, "files", files, "not_included",
			 "STIX 2.1 and MISP: --profile csirt, beside the bundle");
}

int export_manifest(const struct export_req *r, const struct keystore *ks, json_t *covered)
{
	static const char *const subs[] = { "", "custody", "custody/receipts", "evidence",
					     "keys" };
	uint8_t sig[CUSTOS_SIG_LEN];
	char hex[2 * CUSTOS_SIG_LEN + 2], *text = NULL;
	json_t *files = json_array(), *doc = NULL;
	int ret = files ? 0 : -CUSTOS_ERR_NOMEM;

	for (size_t i = 0; !ret && i < sizeof(subs) / sizeof(subs[0]); i++)
		ret = list_dir(r->out, subs[i], files);
	if (!ret)
		doc = manifest_doc(r, ks, covered, files);
	if (!ret)
		text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (!ret && !text)
		ret = -CUSTOS_ERR_NOMEM;
	if (!ret) {
		bundle_manifest_sign((const uint8_t *)text, strlen(text), &ks->kp, sig);
		sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
		strcat(hex, "\n");
		ret = export_write(r->out, "manifest.json", text, strlen(text));
	}
	if (!ret)
		ret = export_write(r->out, "manifest.sig", hex, strlen(hex));
	free(text);
	json_decref(doc);
	json_decref(files);
	return ret;
}

int export_tar(const struct export_req *r)
{
	char a[COLL_PATH_MAX], b[COLL_PATH_MAX], tarfile[COLL_PATH_MAX + 8], mtime[40];
	int status;
	pid_t pid;

	snprintf(a, sizeof(a), "%s", r->out);
	snprintf(b, sizeof(b), "%s", r->out);
	snprintf(tarfile, sizeof(tarfile), "%s.tar", r->out);
	snprintf(mtime, sizeof(mtime), "--mtime=@%llu",
		 (unsigned long long)(r->created_ns / 1000000000ull));
	pid = fork();
	if (pid < 0)
		return -CUSTOS_ERR_IO;
	if (pid == 0) {
		char *const argv[] = { "tar", "--sort=name", "--owner=0", "--group=0",
				       "--numeric-owner", mtime, "-C", dirname(a), "-cf", tarfile,
				       basename(b), NULL };
		execv("/usr/bin/tar", argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		coll_log("export: /usr/bin/tar could not write %s", tarfile);
		return -CUSTOS_ERR_IO;
	}
	return 0;
}
