/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_obs: what an export shares with its derived documents
 * (case.jsonld, the CSIRT profile's STIX bundle and MISP event): the
 * exported evidence files with their SHA-256, and a bounded set of
 * process, file and network-connection observables taken from the records
 * in the requested range (docs/export.md "case.jsonld"). Bounds: the first
 * EXPORT_OBS_MAX distinct observables of each kind in timeline order are
 * kept; the records of that kind after the bound was reached are only
 * counted (timeline.jsonl holds every record).
 * Values are kept raw here; pseudonymisation is the writers' job
 * (pseudo.c).
 */
#ifndef CUSTOS_COLL_EXPORT_OBS_H
#define CUSTOS_COLL_EXPORT_OBS_H

#include <stdint.h>
#include <jansson.h>

#include "batch.h"
#include "buf.h"
#include "export.h"

#define EXPORT_OBS_MAX 500

enum { OBS_PROC, OBS_FILE, OBS_CONN, OBS_AUTH, OBS_KINDS };

/* The auth records that are authentication attempts (OBS_AUTH): the audit
 * types that report a verdict on who may log in (linux/audit.h). The other
 * auth records (sessions, credentials, password changes...) are only
 * counted (auth_other). */
#define OBS_AUTH_USER_AUTH 1100
#define OBS_AUTH_USER_ACCT 1101
#define OBS_AUTH_USER_LOGIN 1112

struct export_obs {
	int64_t from_ns, to_ns;
	json_t *files;			/* evidence files: {file, leaf, host, seq, size, sha256,
					   first, last} in leaf order */
	json_t *list[OBS_KINDS];	/* kept observables, in timeline order */
	json_t *seen[OBS_KINDS];	/* dedupe keys -> index in list */
	uint64_t records[OBS_KINDS];	/* records of each kind in range */
	uint64_t omitted[OBS_KINDS];	/* records once the bound was reached */
	uint64_t failed_exec;		/* exec records of failed attempts (result < 0) in
					   range: timeline only, no observable */
	uint64_t auth_other;		/* auth records in range that are no attempt */
	json_t *agent_version;		/* host -> agent version (agent_start records) */
};

/* Start. OUT: *o. Returns 0 or -CUSTOS_ERR_NOMEM. */
int export_obs_init(struct export_obs *o, int64_t from_ns, int64_t to_ns);

/* Add one exported, verified batch: signed its bytes (for the evidence
 * file's SHA-256), v its view, raw its records. Returns 0,
 * -CUSTOS_ERR_CORRUPT_PAYLOAD, -CUSTOS_ERR_NOMEM. */
int export_obs_batch(struct export_obs *o, const char *host, uint64_t leaf,
		     const struct buf *signed_batch, const struct batch_view *v,
		     const struct buf *raw);

void export_obs_free(struct export_obs *o);	/* accepts NULL */

/* A UUID (version 4 layout, RFC 9562) derived from the export and a label,
 * so that every id of one export is distinct and stable within it.
 * OUT: out (37 bytes: 36 characters and NUL). */
void export_uuid(const struct export_req *r, const char *label, char out[37]);

/* case.jsonld (export_case.c). Returns 0 or the errors of export_write. */
int export_case(const struct export_req *r, const char *log_name, const char *fingerprint,
		const struct export_obs *o);

/* The CSIRT profile (export_stix.c, export_misp.c): OUT-csirt/stix-bundle.json
 * and OUT-csirt/misp-event.json (the alerts of the index in range become
 * indicators and sightings), pseudonymised unless r->no_pseudonymise, the
 * key written to OUT-csirt.key (0600) when not given. Returns 0 or
 * -CUSTOS_ERR_IO / -CUSTOS_ERR_NOMEM / -CUSTOS_ERR_INVAL. */
int export_csirt(const struct export_req *r, const char *log_name,
		 const struct export_obs *o);

/* A TLP 2.0 level ("clear", "green", "amber", "amber+strict", "red", any
 * case, "TLP:" prefix allowed) as its STIX marking-definition id, or NULL. */
struct export_tlp_level {
	const char *level, *name, *stix_id;
};
const struct export_tlp_level *export_tlp(const char *text);

/* export_extra.c. Misuse of the issue-7 options: returns 0 or -1. */
int export_check_options(const struct export_req *r);

/* On a terminal (stderr), at most 5 times a second and at the end:
 * "export: DONE of TOTAL batches in the log read, TAKEN exported". */
void export_progress(uint64_t done, uint64_t total, size_t taken);

/* case.jsonld, then custody/receipts/ when --receipts was given.
 * Returns 0 or the errors of export_case and export_receipts. */
int export_more(const struct export_req *r, const struct keystore *ks,
		const struct export_obs *o);

#endif
