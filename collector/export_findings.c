/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_findings: alerts.json and incidents.json of an export bundle
 * (docs/export.md): what triage found for the requested hosts in the
 * requested time range, read from the index (index.sqlite; derived from
 * the archive and the rules, so these files are findings, not evidence),
 * each alert with its classification and the references of its records
 * (leaf, batch hash, record index), each incident with its alerts.
 * custos-verify checks that every alert's evidence reference names a
 * batch of the bundle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "error.h"
#include "export.h"
#include "incident.h"

struct findings {
	const struct export_req *r;
	const struct keystore *ks;
	struct store *s;
	json_t *alerts, *incidents, *member;	/* member: "leaf:rec:rule" -> incident id */
	const char *incident;			/* the incident whose alerts are read */
	json_t *refs;
};

static void alert_key(char *out, size_t n, const struct store_alert *a)
{
	snprintf(out, n, "%llu:%u:%s", (unsigned long long)a->leaf, a->rec_index, a->rule_id);
}

static int member_of(void *ctx, const struct store_alert *a)
{
	struct findings *f = ctx;
	char key[512];

	alert_key(key, sizeof(key), a);
	if (json_object_set_new(f->member, key, json_string(f->incident)) ||
	    json_array_append_new(f->refs, json_pack("{s:s,s:I,s:I}", "rule_id", a->rule_id,
						     "leaf", (json_int_t)a->leaf, "record",
						     (json_int_t)a->rec_index)))
		return -CUSTOS_ERR_NOMEM;
	return 0;
}

static int one_incident(void *ctx, const struct store_incident *inc)
{
	struct findings *f = ctx;
	json_t *o;
	int ret;

	if (inc->first_ns > f->r->to_ns || inc->last_ns < f->r->from_ns)
		return 0;
	o = incident_json(inc, keystore_name(f->ks, inc->host_id));
	f->refs = json_array();
	f->incident = inc->id;
	if (!o || !f->refs) {
		json_decref(o);
		json_decref(f->refs);
		return -CUSTOS_ERR_NOMEM;
	}
	ret = store_incident_alerts(f->s, inc->id, member_of, f);
	json_object_set_new(o, "alert_refs", f->refs);
	if (!ret && json_array_append_new(f->incidents, o))
		ret = -CUSTOS_ERR_NOMEM;
	return ret;
}

static int one_alert(void *ctx, const struct store_alert *a)
{
	struct findings *f = ctx;
	char key[512];
	json_t *o;

	if (a->ts_wall_ns < f->r->from_ns || a->ts_wall_ns > f->r->to_ns)
		return 0;
	alert_key(key, sizeof(key), a);
	o = incident_alert_json(a, keystore_name(f->ks, a->host_id),
				json_string_value(json_object_get(f->member, key)));
	return o && json_array_append_new(f->alerts, o) == 0 ? 0 : -CUSTOS_ERR_NOMEM;
}

static int write_doc(const struct export_req *r, const char *rel, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	int ret = text ? export_write(r->out, rel, text, strlen(text)) : -CUSTOS_ERR_NOMEM;

	free(text);
	json_decref(doc);
	return ret;
}

static int read_index(struct findings *f)
{
	char path[COLL_PATH_MAX];
	int ret = coll_path(path, f->r->dir, "index.sqlite");

	if (!ret && access(path, R_OK) != 0)
		return 0;	/* no index: nothing triaged, the files say so */
	if (!ret)
		ret = store_open(path, 0, &f->s);	/* creates missing tables of an old index */
	for (size_t i = 0; !ret && i < f->r->nhosts; i++)
		ret = store_incidents(f->s, f->r->host_ids[i], NULL, one_incident, f);
	for (size_t i = 0; !ret && i < f->r->nhosts; i++)
		ret = store_alerts(f->s, f->r->host_ids[i], one_alert, f);
	store_close(f->s);
	return ret;
}

int export_findings(const struct export_req *r, const struct keystore *ks)
{
	struct findings f = { .r = r, .ks = ks, .alerts = json_array(),
			      .incidents = json_array(), .member = json_object() };
	int ret = f.alerts && f.incidents && f.member ? read_index(&f) : -CUSTOS_ERR_NOMEM;

	if (ret)
		coll_log("export: alerts and incidents from the index: %s", custos_strerror(ret));
	if (!ret)
		ret = write_doc(r, "alerts.json", json_pack("{s:O,s:s}", "alerts", f.alerts, "note",
			"Findings of triage (docs/triage.md), read from the collector's index: "
			"the alerts of the requested hosts whose record time is in the requested "
			"range. Each names the records it rests on (evidence: leaf, batch_hash, "
			"record of the files in evidence/). Not evidence themselves: rerunning "
			"the rules over evidence/ is how to check them."));
	if (!ret)
		ret = write_doc(r, "incidents.json", json_pack("{s:O,s:s}", "incidents",
			f.incidents, "rule",
			"Alerts group into incidents by host, process tree and time: an alert "
			"joins the incident of the same host and process tree (the root below "
			"pid 1 or a session-starting program such as sshd or cron) whose last "
			"alert is at most 30 minutes earlier, else it opens one (docs/triage.md)."));
	json_decref(f.alerts);
	json_decref(f.incidents);
	json_decref(f.member);
	return ret;
}
