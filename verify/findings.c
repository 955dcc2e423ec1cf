/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify, the findings: alerts.json and incidents.json (when the
 * bundle has them) are triage's output, not evidence, so they cannot be
 * recomputed without the rules; what is checked is that they point at
 * the evidence: every alert's evidence reference (leaf, batch_hash,
 * record) names a batch of the bundle with that header hash and a record
 * index below its record count, and every alert's incident is in
 * incidents.json. A bundle whose manifest lists neither file (written
 * before they existed) is not asked for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "batch.h"
#include "error.h"
#include "verify.h"

/* The batch of the bundle at leaf: OUT: its header hash (hex) and record
 * count. Returns 0, or -1 when the bundle has no such batch. */
static int batch_at(struct vr *v, const struct bundle_proofs *p, uint64_t leaf,
		    char hex[2 * CUSTOS_HASH_LEN + 1], uint64_t *records)
{
	struct batch_view bv;
	uint8_t *data;
	size_t n, i;
	int ret;

	for (i = 0; i < p->n && p->b[i].leaf != leaf; i++)
		;
	if (i == p->n || vr_read(v, p->b[i].file, CUSTOS_SIGNED_MAX, &data, &n))
		return -1;
	ret = batch_parse(data, n, &bv);
	free(data);
	if (ret)
		return -1;
	sodium_bin2hex(hex, 2 * CUSTOS_HASH_LEN + 1, bv.hash, CUSTOS_HASH_LEN);
	*records = bv.hdr.record_count;
	return 0;
}

static int listed(const struct vr *v, const char *rel)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(v->manifest, "files"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "path")) ?: "", rel) == 0)
			return 1;
	return 0;
}

static json_t *load(struct vr *v, const char *rel, const char *key)
{
	uint8_t *t;
	size_t n;
	json_t *doc, *arr;

	if (vr_read(v, rel, BUNDLE_JSON_MAX, &t, &n)) {
		vr_fail(v, rel, NULL, "findings", "missing or unreadable");
		return NULL;
	}
	doc = json_loadb((const char *)t, n, JSON_REJECT_DUPLICATES, NULL);
	free(t);
	arr = json_object_get(doc, key);
	if (!json_is_array(arr)) {
		vr_fail(v, rel, NULL, "findings", "not a JSON object with an array \"%s\"", key);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int has_incident(json_t *incidents, const char *id)
{
	size_t i;
	json_t *o;

	json_array_foreach(incidents, i, o)
		if (strcmp(json_string_value(json_object_get(o, "id")) ?: "", id) == 0)
			return 1;
	return 0;
}

/* One alert's evidence reference and incident. Returns 0 or -1 (failed). */
static int one_alert(struct vr *v, const struct bundle_proofs *p, json_t *a, size_t k,
		     json_t *incidents)
{
	json_t *ev = json_object_get(a, "evidence");
	const char *hash = json_string_value(json_object_get(ev, "batch_hash"));
	const char *inc = json_string_value(json_object_get(a, "incident"));
	json_int_t leaf = json_integer_value(json_object_get(ev, "leaf"));
	json_int_t rec = json_integer_value(json_object_get(ev, "record"));
	char hex[2 * CUSTOS_HASH_LEN + 1];
	uint64_t records;

	if (!hash || !json_is_integer(json_object_get(ev, "leaf")) ||
	    !json_is_integer(json_object_get(ev, "record")) || leaf < 0 || rec < 0 || !inc) {
		vr_fail(v, "alerts.json", NULL, "findings", "alert %zu: no evidence reference "
			"(leaf, batch_hash, record) or incident", k);
		return -1;
	}
	if (batch_at(v, p, (uint64_t)leaf, hex, &records) || strcmp(hex, hash) != 0 ||
	    (uint64_t)rec >= records) {
		vr_fail(v, "alerts.json", NULL, "findings", "alert %zu: its evidence (leaf %lld, "
			"record %lld) is not a record of a batch of this bundle with that hash",
			k, (long long)leaf, (long long)rec);
		return -1;
	}
	if (inc[0] && !has_incident(incidents, inc)) {
		vr_fail(v, "alerts.json", NULL, "findings", "alert %zu: incident %s is not in "
			"incidents.json", k, inc);
		return -1;
	}
	return 0;
}

void vr_findings(struct vr *v, const struct bundle_proofs *p)
{
	json_t *al, *in, *a;
	size_t k, bad = 0, refs = 0;

	if (!listed(v, "alerts.json") && !listed(v, "incidents.json"))
		return;		/* a bundle of an earlier version */
	al = load(v, "alerts.json", "alerts");
	in = al ? load(v, "incidents.json", "incidents") : NULL;
	if (!al || !in) {
		json_decref(al);
		return;
	}
	json_array_foreach(json_object_get(al, "alerts"), k, a) {
		if (v->stop)
			break;
		bad += one_alert(v, p, a, k, json_object_get(in, "incidents")) != 0;
	}
	json_array_foreach(json_object_get(in, "incidents"), k, a)
		refs += json_array_size(json_object_get(a, "alert_refs"));
	if (!bad && !v->stop)
		vr_ok(v, "alerts.json: %zu alert(s), each pointing at a record of a batch of this "
		      "bundle; incidents.json: %zu incident(s) grouping %zu alert(s)",
		      json_array_size(json_object_get(al, "alerts")),
		      json_array_size(json_object_get(in, "incidents")), refs);
	json_decref(al);
	json_decref(in);
}
