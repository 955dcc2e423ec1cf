/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_csirt: what export_stix.c and export_misp.c share while they
 * write the CSIRT profile of one export (docs/export.md "CSIRT profile").
 */
#ifndef CUSTOS_COLL_EXPORT_CSIRT_H
#define CUSTOS_COLL_EXPORT_CSIRT_H

#include <jansson.h>

#include "export_obs.h"
#include "pseudo.h"

#define CSIRT_ALERTS_MAX 500

struct csirt {
	const struct export_req *r;
	const struct export_obs *o;
	const struct export_tlp_level *tlp;
	const char *log_name;
	struct pseudo ps;
	char created[32];	/* export time, millisecond precision */
	char producer[96];	/* the collector's identity id */
	char dir[4096];		/* OUT-csirt */
	json_t *objects;	/* the bundle's objects, in order */
	json_t *ids;		/* id -> object (borrowed from objects) */
	json_t *alerts;		/* the index's alerts in range: host, time, rule... */
	size_t alerts_omitted;
};

/* "<type>--<uuid>", stable within this export for (type, label). OUT: out. */
void csirt_id(const struct csirt *c, const char *type, const char *label, char out[96]);

/* An account name (an auth attempt's acct) for sharing: "root" and, with
 * pseudonymisation off, every name as it is; else "u-" and the first 16
 * hex digits of the name's "home" pseudonym, as its /home directory
 * becomes (pseudo.h). OUT: out (at most AUDIT_TEXT_VALUE_MAX bytes). */
void csirt_account(const struct csirt *c, const char *acct, char *out, size_t n);

/* Write text to c->dir/name (export_write). */
int csirt_write(struct csirt *c, const char *name, const char *text);

/* misp-event.json in c->dir (export_misp.c). Returns 0, -CUSTOS_ERR_IO or
 * -CUSTOS_ERR_NOMEM. */
int csirt_misp(struct csirt *c);

#endif
