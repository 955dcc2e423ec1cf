/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_stix: the CSIRT profile's STIX 2.1 bundle (docs/export.md "CSIRT
 * profile"): the TLP 2.0 marking definition of the export's level (its
 * official id, from the OASIS TLP 2.0 extension), the collector's identity
 * and one per host, the exported observables as cyber-observable objects
 * (process, file, directory, ipv4-addr/ipv6-addr, network-traffic,
 * user-account) grouped by host in observed-data, a note per
 * authentication attempt saying what was tried on which account and with
 * what result (STIX has no object for a login attempt), and for the triage
 * alerts in range an indicator per rule and a sighting per alert. Every
 * object but the marking definition carries the TLP marking. User ids,
 * home directories and internal addresses go through pseudo.c. Then
 * export_misp.c writes the MISP event from the same material.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "collector.h"
#include "error.h"
#include "export_csirt.h"
#include "store.h"

static const struct export_tlp_level tlp_levels[] = {
	{ "clear", "TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" },
	{ "green", "TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" },
	{ "amber", "TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" },
	{ "amber+strict", "TLP:AMBER+STRICT",
	  "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" },
	{ "red", "TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" },
};
#define TLP_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

const struct export_tlp_level *export_tlp(const char *text)
{
	if (!text)
		return &tlp_levels[2];	/* amber when --tlp is not given */
	if (strncasecmp(text, "TLP:", 4) == 0)
		text += 4;
	for (size_t i = 0; i < sizeof(tlp_levels) / sizeof(tlp_levels[0]); i++)
		if (strcasecmp(text, tlp_levels[i].level) == 0)
			return &tlp_levels[i];
	return NULL;
}

/* "<type>--<uuid>" for label, stable within this export. */
void csirt_id(const struct csirt *c, const char *type, const char *label, char out[96])
{
	char l[512], uuid[37];

	snprintf(l, sizeof(l), "stix/%s/%s", type, label);
	export_uuid(c->r, l, uuid);
	snprintf(out, 96, "%s--%s", type, uuid);
}

/* A new object of type with the common properties; SDOs and SROs also get
 * created, modified and created_by_ref. Added to the bundle; borrowed. */
static json_t *obj(struct csirt *c, const char *type, const char *label, int sdo)
{
	char id[96];
	json_t *o;

	csirt_id(c, type, label, id);
	if (json_object_get(c->ids, id))
		return json_object_get(c->ids, id);
	o = json_pack("{s:s,s:s,s:s,s:[s]}", "type", type, "spec_version", "2.1", "id", id,
		      "object_marking_refs", c->tlp->stix_id);
	if (o && sdo) {
		json_object_set_new(o, "created", json_string(c->created));
		json_object_set_new(o, "modified", json_string(c->created));
		if (c->producer[0])
			json_object_set_new(o, "created_by_ref", json_string(c->producer));
	}
	if (!o || json_array_append_new(c->objects, o) || json_object_set(c->ids, id, o))
		return NULL;
	return o;
}

static const char *sid(json_t *o)
{
	return json_string_value(json_object_get(o, "id"));
}

static json_t *user(struct csirt *c, json_int_t uid)
{
	char u[40];
	json_t *o;

	pseudo_uid(&c->ps, (uint64_t)uid, u);
	o = obj(c, "user-account", u, 0);
	if (o)
		json_object_set_new(o, "user_id", json_string(u));
	return o;
}

static json_t *addr(struct csirt *c, const char *a)
{
	char p[64];
	int v6 = strchr(a, ':') != NULL;
	json_t *o;

	pseudo_addr(&c->ps, a, p);
	o = obj(c, v6 ? "ipv6-addr" : "ipv4-addr", p, 0);
	if (o)
		json_object_set_new(o, "value", json_string(p));
	return o;
}

/* file (and its directory) for a path, pseudonymised. */
static json_t *file(struct csirt *c, const char *path)
{
	char p[CUSTOS_PATH_MAX + 64], dir[CUSTOS_PATH_MAX + 64];
	const char *slash;
	json_t *f, *d;

	pseudo_text(&c->ps, path, p, sizeof(p));
	slash = strrchr(p, '/');
	f = obj(c, "file", p, 0);
	if (!f || !slash || json_object_get(f, "name"))
		return f;
	json_object_set_new(f, "name", json_string(slash[1] ? slash + 1 : "/"));
	snprintf(dir, sizeof(dir), "%.*s", slash == p ? 1 : (int)(slash - p), p);
	d = obj(c, "directory", dir, 0);
	if (!d)
		return NULL;
	json_object_set_new(d, "path", json_string(dir));
	json_object_set_new(f, "parent_directory_ref", json_string(sid(d)));
	return f;
}

static const char *str(json_t *x, const char *k)
{
	return json_string_value(json_object_get(x, k)) ?: "";
}

static json_t *process(struct csirt *c, json_t *x)
{
	char label[CUSTOS_PATH_MAX + 96], cmd[4096] = "", p[4096];
	json_t *o, *img = file(c, str(x, "exe")), *u = user(c, json_integer_value(
							     json_object_get(x, "uid"))), *a;
	size_t i;

	snprintf(label, sizeof(label), "%s|%lld|%s|%s", str(x, "host"),
		 (long long)json_integer_value(json_object_get(x, "pid")), str(x, "datetime"),
		 str(x, "exe"));
	o = obj(c, "process", label, 0);
	if (!o || !img || !u)
		return NULL;
	json_array_foreach(json_object_get(x, "args"), i, a)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "",
			 json_string_value(a));
	pseudo_text(&c->ps, cmd, p, sizeof(p));
	json_object_set(o, "pid", json_object_get(x, "pid"));
	json_object_set_new(o, "command_line", json_string(p));
	pseudo_text(&c->ps, str(x, "cwd"), p, sizeof(p));
	json_object_set_new(o, "cwd", json_string(p));
	json_object_set_new(o, "image_ref", json_string(sid(img)));
	json_object_set_new(o, "creator_user_ref", json_string(sid(u)));
	if (json_object_get(x, "sha256") && !json_object_get(img, "hashes"))
		json_object_set_new(img, "hashes", json_pack("{s:O}", "SHA-256",
							     json_object_get(x, "sha256")));
	return o;
}

static json_t *traffic(struct csirt *c, json_t *x)
{
	const char *fam = str(x, "family");
	char label[512];
	json_t *o, *src, *dst;

	if (strcmp(fam, "ipv4") && strcmp(fam, "ipv6"))
		return NULL;	/* unix sockets: nothing to share */
	src = addr(c, str(x, "local"));
	dst = addr(c, str(x, "remote"));
	snprintf(label, sizeof(label), "%s|%s|%s|%s|%lld", str(x, "host"), str(x, "op"),
		 sid(src), sid(dst), (long long)json_integer_value(json_object_get(x, "remote_port")));
	o = obj(c, "network-traffic", label, 0);
	if (!o || !src || !dst)
		return NULL;
	json_object_set_new(o, "src_ref", json_string(sid(src)));
	json_object_set_new(o, "dst_ref", json_string(sid(dst)));
	json_object_set(o, "src_port", json_object_get(x, "local_port"));
	json_object_set(o, "dst_port", json_object_get(x, "remote_port"));
	json_object_set_new(o, "protocols", json_pack("[s,s]", fam, str(x, "protocol")));
	return o;
}

void csirt_account(const struct csirt *c, const char *acct, char *out, size_t n)
{
	char t[33];

	if (!c->ps.on || strcmp(acct, "root") == 0) {
		snprintf(out, n, "%s", acct);
		return;
	}
	pseudo_token(&c->ps, "home", acct, t);
	snprintf(out, n, "u-%.16s", t);
}

/* id and, recursively, every *_ref it holds, into set. */
static void refs_of(struct csirt *c, const char *id, json_t *set)
{
	json_t *o = json_object_get(c->ids, id), *v;
	const char *k;
	size_t n;

	if (!o || json_object_get(set, id))
		return;
	json_object_set_new(set, id, json_true());
	json_object_foreach(o, k, v) {
		n = strlen(k);
		if (n > 4 && strcmp(k + n - 4, "_ref") == 0 && strcmp(k, "created_by_ref") != 0)
			refs_of(c, json_string_value(v), set);
	}
}

/* An authentication attempt: the target account as a user-account (one
 * per host and name), the source address when the text names one, and a
 * note (an SDO: the attempt is not an observable of its own in STIX 2.1)
 * stating the attempt, its result and its evidence record. Returns the
 * account (or the address when no account is named), NULL when neither;
 * the address goes into set (the host's observed-data). */
static json_t *attempt(struct csirt *c, json_t *x, json_t *set)
{
	char acct[256], label[600], text[2048], src[64] = "";
	uint8_t bin[16];
	json_t *u = NULL, *a = NULL, *n, *refs;
	const char *addr_text = str(x, "addr");

	if (str(x, "acct")[0]) {
		csirt_account(c, str(x, "acct"), acct, sizeof(acct));
		snprintf(label, sizeof(label), "%s|%s", str(x, "host"), acct);
		u = obj(c, "user-account", label, 0);
		if (!u)
			return NULL;
		json_object_set_new(u, "account_login", json_string(acct));
		json_object_set_new(u, "account_type", json_string("unix"));
	}
	if (inet_pton(AF_INET, addr_text, bin) == 1 || inet_pton(AF_INET6, addr_text, bin) == 1) {
		a = addr(c, addr_text);
		if (!a)
			return NULL;
		snprintf(src, sizeof(src), "%s", str(a, "value"));
		refs_of(c, sid(a), set);
	}
	if (!u && !a)
		return NULL;
	if (!src[0] && (inet_pton(AF_INET, str(x, "hostname"), bin) == 1 ||
			inet_pton(AF_INET6, str(x, "hostname"), bin) == 1))
		pseudo_addr(&c->ps, str(x, "hostname"), src);	/* an address as host name */
	else if (!src[0])
		snprintf(src, sizeof(src), "%.63s", str(x, "hostname")[0] ? str(x, "hostname") :
			 "this host");
	pseudo_text(&c->ps, str(x, "exe"), label, sizeof(label));
	snprintf(text, sizeof(text), "%s %s %s for account %s by %s from %s on host %s at %s: "
		 "result %s (evidence leaf %lld, record %lld)", str(x, "type"),
		 str(x, "auth_op")[0] ? str(x, "auth_op") : "?", "attempt", u ? acct : "?",
		 label[0] ? label : "?", src, str(x, "host"), str(x, "datetime"),
		 str(x, "res")[0] ? str(x, "res") : "not stated",
		 (long long)json_integer_value(json_object_get(x, "evidence_leaf")),
		 (long long)json_integer_value(json_object_get(x, "evidence_record")));
	snprintf(label, sizeof(label), "%s|%lld|%lld", str(x, "host"),
		 (long long)json_integer_value(json_object_get(x, "evidence_leaf")),
		 (long long)json_integer_value(json_object_get(x, "evidence_record")));
	n = obj(c, "note", label, 1);
	refs = json_array();
	if (!n || !refs) {
		json_decref(refs);
		return NULL;
	}
	if (u)
		json_array_append_new(refs, json_string(sid(u)));
	if (a)
		json_array_append_new(refs, json_string(sid(a)));
	json_object_set_new(n, "abstract", json_pack("s++", "authentication attempt: ",
						     str(x, "res")[0] ? str(x, "res") : "?", ""));
	json_object_set_new(n, "content", json_string(text));
	json_object_set_new(n, "object_refs", refs);
	return u ? u : a;
}

/* The host's identity and observed-data with its observables. OUT: *od
 * (NULL when the host has none). Returns 0 or -CUSTOS_ERR_NOMEM. */
static int host_objects(struct csirt *c, const char *host, json_t **ident, json_t **od)
{
	json_t *set = json_object(), *x, *sco, *refs;
	const char *first = NULL, *last = NULL, *k;
	json_int_t n = 0;
	size_t i;
	int ret = 0;

	*od = NULL;
	*ident = obj(c, "identity", host, 1);
	if (!*ident || !set)
		return -CUSTOS_ERR_NOMEM;
	json_object_set_new(*ident, "name", json_string(host));
	json_object_set_new(*ident, "identity_class", json_string("system"));
	for (int kind = 0; kind < OBS_KINDS; kind++)
		json_array_foreach(c->o->list[kind], i, x) {
			const char *when = str(x, "datetime");

			if (strcmp(str(x, "host"), host) != 0)
				continue;
			sco = kind == OBS_PROC ? process(c, x) : kind == OBS_FILE ?
			      file(c, str(x, "path")) : kind == OBS_AUTH ? attempt(c, x, set) :
			      traffic(c, x);
			if (!sco)
				continue;	/* a unix socket, an attempt naming neither
						   account nor address, or out of memory */
			refs_of(c, sid(sco), set);
			first = !first || strcmp(when, first) < 0 ? when : first;
			last = !last || strcmp(when, last) > 0 ? when : last;
			n++;
		}
	if (n) {
		*od = obj(c, "observed-data", host, 1);
		refs = json_array();
		json_object_foreach(set, k, x)
			json_array_append_new(refs, json_string(k));
		if (!*od || !refs)
			ret = -CUSTOS_ERR_NOMEM;
		else {
			json_object_set_new(*od, "first_observed", json_string(first));
			json_object_set_new(*od, "last_observed", json_string(last));
			json_object_set_new(*od, "number_observed", json_integer(n));
			json_object_set_new(*od, "object_refs", refs);
		}
	}
	json_decref(set);
	return ret;
}

/* A STIX pattern string literal: quotes and backslashes escaped. */
static void quote(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o + 3 < n; s++) {
		if (*s == '\'' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = 0;
}

/* An indicator per rule, a sighting per alert of host. */
static int host_alerts(struct csirt *c, const char *host, json_t *ident, json_t *od)
{
	json_t *a, *ind, *s;
	size_t i;

	json_array_foreach(c->alerts, i, a) {
		const char *img = str(a, "image"), *base = strrchr(img, '/');
		char pat[600], q[512], label[600];

		if (strcmp(str(a, "host"), host) != 0)
			continue;
		ind = obj(c, "indicator", str(a, "rule_id"), 1);
		if (!ind)
			return -CUSTOS_ERR_NOMEM;
		if (!json_object_get(ind, "pattern")) {
			quote(base ? base + 1 : img, q, sizeof(q));
			snprintf(pat, sizeof(pat), "[process:image_ref.name = '%s']", q);
			json_object_set_new(ind, "name", json_string(str(a, "title")));
			json_object_set_new(ind, "description", json_pack(
				"s++", "Custos triage rule ", str(a, "rule_id"), ""));
			json_object_set_new(ind, "indicator_types",
					    json_pack("[s]", "malicious-activity"));
			json_object_set_new(ind, "pattern", json_string(pat));
			json_object_set_new(ind, "pattern_type", json_string("stix"));
			json_object_set_new(ind, "valid_from", json_string(str(a, "datetime")));
			if (str(a, "technique")[0])
				json_object_set_new(ind, "external_references", json_pack(
					"[{s:s,s:s}]", "source_name", "mitre-attack", "external_id",
					str(a, "technique")));
		}
		snprintf(label, sizeof(label), "%s|%lld|%lld|%s", host,
			 (long long)json_integer_value(json_object_get(a, "evidence_leaf")),
			 (long long)json_integer_value(json_object_get(a, "evidence_record")),
			 str(a, "rule_id"));
		s = obj(c, "sighting", label, 1);
		if (!s)
			return -CUSTOS_ERR_NOMEM;
		json_object_set_new(s, "sighting_of_ref", json_string(sid(ind)));
		json_object_set_new(s, "where_sighted_refs", json_pack("[s]", sid(ident)));
		if (od)
			json_object_set_new(s, "observed_data_refs", json_pack("[s]", sid(od)));
		json_object_set_new(s, "first_seen", json_string(str(a, "datetime")));
		json_object_set_new(s, "last_seen", json_string(str(a, "datetime")));
		json_object_set_new(s, "count", json_integer(1));
		json_object_set_new(s, "description", json_pack("s+++++", "taxonomy: ",
			str(a, "taxonomy"), "; Budapest Convention: ", str(a, "article"),
			"; severity: ", str(a, "severity")));
	}
	return 0;
}

struct alert_ctx {
	struct csirt *c;
	const char *host;
};

static int one_alert(void *ctx, const struct store_alert *a)
{
	struct alert_ctx *x = ctx;
	static const char *const sev[] = { "informational", "low", "medium", "high", "critical" };
	char when[48];
	json_t *o;

	if (a->ts_wall_ns < x->c->r->from_ns || a->ts_wall_ns > x->c->r->to_ns)
		return 0;
	if (json_array_size(x->c->alerts) >= CSIRT_ALERTS_MAX) {
		x->c->alerts_omitted++;
		return 0;
	}
	bundle_fmt_time(a->ts_wall_ns, when, sizeof(when));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "host", x->host,
		      "datetime", when, "rule_id", a->rule_id, "title", a->title, "severity",
		      a->severity >= 0 && a->severity <= 4 ? sev[a->severity] : "?", "taxonomy",
		      a->taxonomy ?: "", "article", a->article ?: "", "technique",
		      a->technique ?: "", "pid", (json_int_t)a->pid, "evidence_leaf",
		      (json_int_t)a->leaf, "evidence_record", (json_int_t)a->rec_index);
	if (o)
		json_object_set_new(o, "image", json_string(a->image ?: ""));
	return !o || json_array_append_new(x->c->alerts, o) ? -CUSTOS_ERR_NOMEM : 0;
}

/* The index's alerts of the requested hosts in range (none when there is
 * no index: triage never ran). */
static int load_alerts(struct csirt *c)
{
	char path[COLL_PATH_MAX];
	struct store *s = NULL;
	int ret = 0;

	if (coll_path(path, c->r->dir, "index.sqlite") || access(path, R_OK) != 0)
		return 0;
	if (store_open(path, 1, &s) != 0)
		return -CUSTOS_ERR_IO;
	for (size_t h = 0; !ret && h < c->r->nhosts; h++) {
		struct alert_ctx x = { c, c->r->hosts[h] };

		ret = store_alerts(s, c->r->host_ids[h], one_alert, &x);
	}
	store_close(s);
	return ret;
}

static int stix_bundle(struct csirt *c)
{
	char id[96], *text;
	json_t *m, *me, *doc;
	int ret = 0;

	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:{s:s,s:s}}}", "type", "marking-definition",
		      "spec_version", "2.1", "id", c->tlp->stix_id, "created",
		      "2022-10-01T00:00:00.000Z", "name", c->tlp->name, "extensions", TLP_EXT,
		      "extension_type", "property-extension", "tlp_2_0", c->tlp->level);
	if (!m || json_array_append_new(c->objects, m))
		return -CUSTOS_ERR_NOMEM;
	me = obj(c, "identity", "producer", 1);
	if (!me)
		return -CUSTOS_ERR_NOMEM;
	json_object_del(me, "created_by_ref");
	json_object_set_new(me, "name", json_pack("s+", "Custos collector ", c->log_name));
	json_object_set_new(me, "identity_class", json_string("system"));
	snprintf(c->producer, sizeof(c->producer), "%s", sid(me));
	for (size_t h = 0; !ret && h < c->r->nhosts; h++) {
		json_t *ident, *od;

		ret = host_objects(c, c->r->hosts[h], &ident, &od);
		if (!ret)
			ret = host_alerts(c, c->r->hosts[h], ident, od);
	}
	csirt_id(c, "bundle", "bundle", id);
	doc = json_pack("{s:s,s:s,s:O}", "type", "bundle", "id", id, "objects", c->objects);
	text = doc && !ret ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	if (!ret)
		ret = text ? csirt_write(c, "stix-bundle.json", text) : -CUSTOS_ERR_NOMEM;
	free(text);
	json_decref(doc);
	return ret;
}

int csirt_write(struct csirt *c, const char *name, const char *text)
{
	return export_write(c->dir, name, text, strlen(text));
}

static int csirt_run(struct csirt *c, const char *keyfile)
{
	int ret;

	if (mkdir(c->dir, 0755) != 0) {
		coll_log("export: cannot create %s: %s", c->dir, strerror(errno));
		return -CUSTOS_ERR_IO;
	}
	if (c->r->no_pseudonymise)
		ret = 0;
	else
		ret = pseudo_init(&c->ps, c->r->pseudo_key, keyfile);
	if (ret) {
		coll_log("export: pseudonym key %s: %s", c->r->pseudo_key ? c->r->pseudo_key :
			 keyfile, custos_strerror(ret));
		return ret;
	}
	ret = load_alerts(c);
	if (!ret)
		ret = stix_bundle(c);
	if (!ret)
		ret = csirt_misp(c);
	return ret;
}

int export_csirt(const struct export_req *r, const char *log_name, const struct export_obs *o)
{
	struct csirt c = { .r = r, .o = o, .tlp = export_tlp(r->tlp), .log_name = log_name,
			   .objects = json_array(), .ids = json_object(), .alerts = json_array() };
	char keyfile[COLL_PATH_MAX + 16], full[48];
	int ret;

	bundle_fmt_time((int64_t)r->created_ns, full, sizeof(full));
	snprintf(c.created, sizeof(c.created), "%.23sZ", full);	/* milliseconds */
	snprintf(keyfile, sizeof(keyfile), "%s-csirt.key", r->out);
	ret = (size_t)snprintf(c.dir, sizeof(c.dir), "%s-csirt", r->out) >= sizeof(c.dir) ||
	      !c.tlp ? -CUSTOS_ERR_INVAL : 0;
	if (!ret)
		ret = c.objects && c.ids && c.alerts ? csirt_run(&c, keyfile) : -CUSTOS_ERR_NOMEM;
	if (!ret)
		printf("export: CSIRT profile (%s%s%s) written to %s/: stix-bundle.json, "
		       "misp-event.json; %zu alerts%s\n", c.tlp->name,
		       r->no_pseudonymise ? ", not pseudonymised" : ", pseudonymised with the key ",
		       r->no_pseudonymise ? "" : r->pseudo_key ? r->pseudo_key : keyfile, c.dir,
		       json_array_size(c.alerts), c.alerts_omitted ? " (more not shared)" : "");
	pseudo_wipe(&c.ps);
	json_decref(c.objects);
	json_decref(c.ids);
	json_decref(c.alerts);
	return ret;
}
