/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_misp: the CSIRT profile's MISP event (misp-event.json, the MISP
 * core format's {"Event": {...}}): the TLP tag of the export, one
 * attribute per distinct executable, SHA-256, file path, remote address
 * and port, account targeted by an authentication attempt (target-user)
 * and the attempt's source address (ip-src), and alert of the exported
 * material, each value pseudonymised like the STIX bundle's (pseudo.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "error.h"
#include "export_csirt.h"
#include "record.h"

struct misp {
	struct csirt *c;
	json_t *attrs, *seen;
	char ts[24];
};

static const char *str(json_t *x, const char *k)
{
	return json_string_value(json_object_get(x, k)) ?: "";
}

static int attr(struct misp *m, const char *type, const char *cat, const char *value,
		const char *comment)
{
	char key[CUSTOS_PATH_MAX + 96], label[CUSTOS_PATH_MAX + 128], uuid[37];
	json_t *a;

	snprintf(key, sizeof(key), "%s|%s", type, value);
	if (json_object_get(m->seen, key))
		return 0;
	snprintf(label, sizeof(label), "misp/%s", key);
	export_uuid(m->c->r, label, uuid);
	a = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s}", "uuid", uuid, "type", type,
		      "category", cat, "value", value, "to_ids", 0, "distribution", "5",
		      "comment", comment, "timestamp", m->ts);
	if (!a || json_array_append_new(m->attrs, a) ||
	    json_object_set_new(m->seen, key, json_true()))
		return -CUSTOS_ERR_NOMEM;
	return 0;
}

/* Authentication attempts: the account tried (target-user) and, when the
 * text names an address, where the attempt came from (ip-src). */
static int attempts(struct misp *m)
{
	struct csirt *c = m->c;
	char acct[256], a[64], cm[512];
	uint8_t bin[16];
	json_t *x;
	size_t i;
	int ret = 0;

	json_array_foreach(c->o->list[OBS_AUTH], i, x) {
		snprintf(cm, sizeof(cm), "%s authentication attempt on host %s: result %s",
			 str(x, "type"), str(x, "host"), str(x, "res")[0] ? str(x, "res") : "?");
		if (str(x, "acct")[0]) {
			csirt_account(c, str(x, "acct"), acct, sizeof(acct));
			ret = ret ? ret : attr(m, "target-user", "Targeting data", acct, cm);
		}
		if (inet_pton(AF_INET, str(x, "addr"), bin) == 1 ||
		    inet_pton(AF_INET6, str(x, "addr"), bin) == 1) {
			pseudo_addr(&c->ps, str(x, "addr"), a);
			ret = ret ? ret : attr(m, "ip-src", "Network activity", a, cm);
		}
	}
	return ret;
}

static int observables(struct misp *m)
{
	struct csirt *c = m->c;
	char p[CUSTOS_PATH_MAX + 64], a[64], v[128], cm[256];
	json_t *x;
	size_t i;
	int ret = 0;

	json_array_foreach(c->o->list[OBS_PROC], i, x) {
		snprintf(cm, sizeof(cm), "executed on host %s", str(x, "host"));
		pseudo_text(&c->ps, str(x, "exe"), p, sizeof(p));
		ret = ret ? ret : attr(m, "filename", "Artifacts dropped", p, cm);
		if (json_object_get(x, "sha256") && !ret)
			ret = attr(m, "sha256", "Payload delivery", str(x, "sha256"), cm);
	}
	json_array_foreach(c->o->list[OBS_FILE], i, x) {
		snprintf(cm, sizeof(cm), "%s on host %s", str(x, "op"), str(x, "host"));
		pseudo_text(&c->ps, str(x, "path"), p, sizeof(p));
		ret = ret ? ret : attr(m, "filename", "Artifacts dropped", p, cm);
	}
	json_array_foreach(c->o->list[OBS_CONN], i, x) {
		int in = strcmp(str(x, "op"), "accept") == 0;

		if (strcmp(str(x, "family"), "ipv4") && strcmp(str(x, "family"), "ipv6"))
			continue;
		pseudo_addr(&c->ps, str(x, "remote"), a);
		snprintf(v, sizeof(v), "%s|%lld", a,
			 (long long)json_integer_value(json_object_get(x, "remote_port")));
		snprintf(cm, sizeof(cm), "%s %s on host %s", str(x, "protocol"), str(x, "op"),
			 str(x, "host"));
		ret = ret ? ret : attr(m, in ? "ip-src|port" : "ip-dst|port", "Network activity",
				       v, cm);
	}
	return ret ? ret : attempts(m);
}

static int alerts(struct misp *m)
{
	char v[CUSTOS_PATH_MAX + 1200], img[CUSTOS_PATH_MAX + 64];
	json_t *x;
	size_t i;
	int ret = 0;

	json_array_foreach(m->c->alerts, i, x) {
		pseudo_text(&m->c->ps, str(x, "image"), img, sizeof(img));
		snprintf(v, sizeof(v), "alert '%s' (rule %s; %s; %s; ATT&CK %s; severity %s) on "
			 "host %s at %s, process %s", str(x, "title"), str(x, "rule_id"),
			 str(x, "taxonomy"), str(x, "article"), str(x, "technique"),
			 str(x, "severity"), str(x, "host"), str(x, "datetime"), img);
		ret = ret ? ret : attr(m, "text", "Other", v, "Custos triage alert");
	}
	return ret;
}

int csirt_misp(struct csirt *c)
{
	struct misp m = { .c = c, .attrs = json_array(), .seen = json_object() };
	char uuid[37], info[512], tag[48], *text = NULL;
	json_t *doc = NULL;
	int ret = m.attrs && m.seen ? 0 : -CUSTOS_ERR_NOMEM;

	snprintf(m.ts, sizeof(m.ts), "%llu", (unsigned long long)(c->r->created_ns / 1000000000ull));
	snprintf(tag, sizeof(tag), "tlp:%s", c->tlp->level);
	snprintf(info, sizeof(info), "Custos evidence of case %s (%zu hosts), shared under %s",
		 c->r->case_id, c->r->nhosts, c->tlp->name);
	export_uuid(c->r, "misp/event", uuid);
	if (!ret)
		ret = observables(&m);
	if (!ret)
		ret = alerts(&m);
	if (!ret) {
		doc = json_pack("{s:{s:s,s:s,s:s%,s:s,s:b,s:s,s:s,s:s,s:[{s:s}],s:O}}", "Event",
				"uuid", uuid, "info", info, "date", c->created, (size_t)10,
				"timestamp", m.ts, "published", 0, "analysis", "2",
				"threat_level_id", "2", "distribution", "0", "Tag", "name", tag,
				"Attribute", m.attrs);
		text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
		ret = text ? csirt_write(c, "misp-event.json", text) : -CUSTOS_ERR_NOMEM;
	}
	free(text);
	json_decref(doc);
	json_decref(m.attrs);
	json_decref(m.seen);
	return ret;
}
