/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export: what export.c (selection of the evidence, custody material)
 * and export_files.c (the files around it: keys, manifest, README, tar)
 * share. docs/export.md is the bundle layout.
 */
#ifndef CUSTOS_COLL_EXPORT_H
#define CUSTOS_COLL_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "keystore.h"

#define EXPORT_HOSTS_MAX 64

struct export_req {
	const char *dir, *out, *case_id, *reason, *legal_basis, *requester, *tlp;
	const char *hosts[EXPORT_HOSTS_MAX];
	uint8_t host_ids[EXPORT_HOSTS_MAX][KEYS_SIGN_PK_LEN];
	size_t nhosts;
	int64_t from_ns, to_ns;
	uint64_t created_ns;
	/* Issue 7, second part (export_obs.h, export_extra.c). */
	int csirt, no_pseudonymise;	/* --profile csirt, --no-pseudonymise */
	const char *pseudo_key;		/* --pseudonym-key FILE, or NULL: one per export */
	const char *receipts;		/* --receipts DIR, or NULL */
};

/* custody/receipts/: the agent's acknowledgements (--receipts DIR) that
 * verify with the collector key and name an exported batch (leaf, host,
 * seq, hash); files: the evidence files (export_obs.h). OUT: *kept.
 * Returns 0, -CUSTOS_ERR_IO, -CUSTOS_ERR_NOMEM. */
int export_receipts(const struct export_req *r, const uint8_t collector_pk[32], json_t *files,
		    size_t *kept);

/* Write len bytes to OUT/rel (created 0644, O_EXCL), fsynced. Returns 0 or
 * -CUSTOS_ERR_IO / -CUSTOS_ERR_INVAL / -CUSTOS_ERR_EXISTS. */
int export_write(const char *out, const char *rel, const void *p, size_t len);

/* alerts.json and incidents.json: triage's findings for the requested
 * hosts and range, from the index (export_findings.c). Returns 0,
 * -CUSTOS_ERR_IO, -CUSTOS_ERR_NOMEM or the errors of export_write. */
int export_findings(const struct export_req *r, const struct keystore *ks);

/* keys/: collector.pub and each requested host's public key file.
 * Returns 0 or the errors of keys_save_public. */
int export_keys(const struct export_req *r, const struct keystore *ks);

/* README.txt. Returns 0 or the errors of export_write. */
int export_readme(const struct export_req *r);

/* manifest.json (every file under out with size and SHA-256, the case,
 * covered, the tool version) and manifest.sig. covered is borrowed.
 * Returns 0, -CUSTOS_ERR_IO, -CUSTOS_ERR_NOMEM. */
int export_manifest(const struct export_req *r, const struct keystore *ks, json_t *covered);

/* OUT.tar beside OUT, by /usr/bin/tar (sorted names, numeric owner 0,
 * mtime the export time). Returns 0 or -CUSTOS_ERR_IO. */
int export_tar(const struct export_req *r);

#endif
