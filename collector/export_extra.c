/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_extra: the parts of an export added after its core (issue 7,
 * second part): checking the new options, the progress line on a
 * terminal, case.jsonld, and custody/receipts/ (the agent's signed
 * acknowledgements given with --receipts DIR that verify with the
 * collector key and name an exported batch: leaf, host, seq and hash).
 * A receipt read from DIR is untrusted input: regular files only, at most
 * ACK_MAX bytes, checked by ack_verify before anything of it is used.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "ack.h"
#include "collector.h"
#include "error.h"
#include "export_obs.h"
#include "keystore.h"

int export_check_options(const struct export_req *r)
{
	if (!r->csirt && (r->pseudo_key || r->no_pseudonymise))
		return -1;	/* pseudonymisation is a CSIRT profile option */
	if (r->pseudo_key && r->no_pseudonymise)
		return -1;
	if (r->csirt && r->tlp && !export_tlp(r->tlp))
		return -1;
	return 0;
}

void export_progress(uint64_t done, uint64_t total, size_t taken)
{
	static struct timespec last;
	struct timespec now;

	if (!isatty(STDERR_FILENO))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done < total && now.tv_sec * 1000000000ll + now.tv_nsec <
			    last.tv_sec * 1000000000ll + last.tv_nsec + 200000000ll)
		return;
	last = now;
	fprintf(stderr, "\rexport: %llu of %llu batches in the log read, %zu exported%s",
		(unsigned long long)done, (unsigned long long)total, taken,
		done == total ? "\n" : "");
}

/* Read one receipt file (regular, at most ACK_MAX bytes). OUT: p, *n.
 * Returns 0 or -1. */
static int read_ack(const char *path, uint8_t p[ACK_MAX], size_t *n)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t got;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ACK_MAX) {
		close(fd);
		return -1;
	}
	got = read(fd, p, ACK_MAX);
	close(fd);
	*n = got > 0 ? (size_t)got : 0;
	return got == st.st_size ? 0 : -1;
}

/* The exported batch this ack names, or NULL. */
static json_t *matching(const struct export_req *r, json_t *files, const struct ack *a)
{
	char bh[65];
	json_t *f;
	size_t i;

	sodium_bin2hex(bh, sizeof(bh), a->batch_hash, CUSTOS_HASH_LEN);
	json_array_foreach(files, i, f) {
		const char *host = json_string_value(json_object_get(f, "host"));
		size_t h;

		if ((uint64_t)json_integer_value(json_object_get(f, "leaf")) != a->leaf_index)
			continue;
		for (h = 0; h < r->nhosts && strcmp(r->hosts[h], host) != 0; h++)
			;
		if (h < r->nhosts && memcmp(r->host_ids[h], a->host_id, KEYS_SIGN_PK_LEN) == 0 &&
		    (uint64_t)json_integer_value(json_object_get(f, "seq")) == a->seq &&
		    strcmp(json_string_value(json_object_get(f, "batch_hash")), bh) == 0)
			return f;
		return NULL;
	}
	return NULL;
}

int export_receipts(const struct export_req *r, const uint8_t collector_pk[32], json_t *files,
		    size_t *kept)
{
	char path[COLL_PATH_MAX], rel[64];
	uint8_t p[ACK_MAX];
	struct dirent **ents;
	struct ack a;
	size_t n, skipped = 0;
	int cnt, ret = 0, made = 0;

	*kept = 0;
	cnt = scandir(r->receipts, &ents, NULL, alphasort);
	if (cnt < 0) {
		coll_log("export: --receipts %s: %s", r->receipts, strerror(errno));
		return -CUSTOS_ERR_IO;
	}
	for (int i = 0; i < cnt; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);

		if (!ret && name[0] != '.' && len > 4 && strcmp(name + len - 4, ".ack") == 0 &&
		    coll_path(path, r->receipts, name) == 0) {
			if (read_ack(path, p, &n) || ack_verify(p, n, collector_pk, &a) ||
			    !matching(r, files, &a)) {
				skipped++;
			} else {
				if (!made && coll_path(path, r->out, "custody/receipts") == 0)
					made = mkdir(path, 0755) == 0 ? 1 : -1;
				snprintf(rel, sizeof(rel), "custody/receipts/leaf-%08llu.ack",
					 (unsigned long long)a.leaf_index);
				ret = made < 0 ? -CUSTOS_ERR_IO : export_write(r->out, rel, p, n);
				if (ret == -CUSTOS_ERR_EXISTS)
					ret = 0, skipped++;	/* the same batch acked twice */
				else if (!ret)
					(*kept)++;
			}
		}
		free(ents[i]);
	}
	free(ents);
	if (!ret)
		printf("export: %zu receipts of exported batches kept in custody/receipts/, %zu "
		       "other files in %s skipped (not a receipt of this collector for a batch of "
		       "this export)\n", *kept, skipped, r->receipts);
	return ret;
}

int export_more(const struct export_req *r, const struct keystore *ks,
		const struct export_obs *o)
{
	char fpr[KEYS_FPR_STRLEN];
	size_t kept;
	int ret;

	keys_fingerprint(&ks->kp.pub, fpr);
	ret = export_case(r, ks->logname, fpr, o);
	if (!ret && r->receipts)
		ret = export_receipts(r, ks->kp.pub.sign_pk, o->files, &kept);
	return ret;
}
