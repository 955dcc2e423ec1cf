/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_case: case.jsonld, the bundle described in CASE 1.x / UCO 1.x
 * (caseontology.org) JSON-LD, written with jansson: the investigation
 * (case id, reason, the legal basis as its authorization, the requester),
 * the investigative actions (collection by the agent of each host,
 * custody by the collector, this export) with their instruments (tool and
 * version) and performers, a provenance record with an exhibit number per
 * evidence file (its SHA-256), and the bounded process, file,
 * network-connection and authentication-attempt observables of
 * export_obs.c (an attempt: a uco-action:Action on a UNIXAccount with its
 * actionStatus). Class and property names
 * are those of the CASE examples and the UCO 1.x ontology
 * (docs/export.md "case.jsonld" lists every one used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "error.h"
#include "export_obs.h"
#include "record.h"

#define COLL_EXHIBIT_MAX 160

struct cg {
	const struct export_req *r;
	json_t *graph, *all;		/* all: refs for the investigation's uco-core:object */
	json_t *addrs;			/* address value -> node id */
	json_t *accounts;		/* "host|account name" -> node id */
	unsigned n;			/* ids made */
};

static json_t *ref(const char *id)
{
	return json_pack("{s:s}", "@id", id);
}

static json_t *dt(const char *when)
{
	return json_pack("{s:s,s:s}", "@type", "xsd:dateTime", "@value", when);
}

/* A new node "kb:<kind>-<uuid>" of type; added to the graph (and to the
 * investigation's objects when top). Returns it (borrowed) or NULL. */
static json_t *node(struct cg *g, const char *kind, const char *type, int top)
{
	char label[64], uuid[37], id[128];
	json_t *o;

	snprintf(label, sizeof(label), "case/%s/%u", kind, g->n++);
	export_uuid(g->r, label, uuid);
	snprintf(id, sizeof(id), "kb:%s-%s", kind, uuid);
	o = json_pack("{s:s,s:s}", "@id", id, "@type", type);
	if (!o || json_array_append_new(g->graph, o))
		return NULL;
	if (top)
		json_array_append_new(g->all, ref(id));
	return o;
}

/* A facet (a node of its own, nested) appended to o's uco-core:hasFacet. */
static json_t *facet(struct cg *g, json_t *o, const char *type)
{
	char label[64], uuid[37], id[128];
	json_t *fs = json_object_get(o, "uco-core:hasFacet"), *f;

	if (!fs) {
		fs = json_array();
		json_object_set_new(o, "uco-core:hasFacet", fs);
	}
	snprintf(label, sizeof(label), "case/facet/%u", g->n++);
	export_uuid(g->r, label, uuid);
	snprintf(id, sizeof(id), "kb:facet-%s", uuid);
	f = json_pack("{s:s,s:s}", "@id", id, "@type", type);
	json_array_append_new(fs, f);
	return f;
}

static const char *id_of(json_t *o)
{
	return json_string_value(json_object_get(o, "@id"));
}

static void set_s(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v ? v : ""));
}

static json_t *sha256_hash(struct cg *g, const char *hex)
{
	char label[64], uuid[37], id[128];

	snprintf(label, sizeof(label), "case/hash/%u", g->n++);
	export_uuid(g->r, label, uuid);
	snprintf(id, sizeof(id), "kb:hash-%s", uuid);
	return json_pack("[{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s}}]", "@id", id, "@type",
			 "uco-types:Hash", "uco-types:hashMethod", "@type",
			 "uco-vocabulary:HashNameVocab", "@value", "SHA256",
			 "uco-types:hashValue", "@type", "xsd:hexBinary", "@value", hex);
}

/* A uco-observable:File with its path (and SHA-256 when known). */
static json_t *file_node(struct cg *g, const char *path, const char *sha256, json_int_t size)
{
	json_t *f = node(g, "file", "uco-observable:File", 0), *ff, *cd;
	const char *base = strrchr(path, '/');

	if (!f)
		return NULL;
	ff = facet(g, f, "uco-observable:FileFacet");
	set_s(ff, "uco-observable:filePath", path);
	set_s(ff, "uco-observable:fileName", base ? base + 1 : path);
	if (size >= 0)
		json_object_set_new(ff, "uco-observable:sizeInBytes", json_integer(size));
	if (sha256) {
		cd = facet(g, f, "uco-observable:ContentDataFacet");
		json_object_set_new(cd, "uco-observable:hash", sha256_hash(g, sha256));
		if (size >= 0)
			json_object_set_new(cd, "uco-observable:sizeInBytes", json_integer(size));
	}
	return f;
}

static json_t *action(struct cg *g, const char *name, const char *desc, const char *perf,
		      const char *instr, const char *start, const char *end)
{
	json_t *a = node(g, "action", "case-investigation:InvestigativeAction", 1);

	if (!a)
		return NULL;
	set_s(a, "uco-core:name", name);
	set_s(a, "uco-core:description", desc);
	json_object_set_new(a, "uco-action:performer", ref(perf));
	json_object_set_new(a, "uco-action:instrument", ref(instr));
	json_object_set_new(a, "uco-action:startTime", dt(start));
	json_object_set_new(a, "uco-action:endTime", dt(end));
	json_object_set_new(a, "uco-action:object", json_array());
	json_object_set_new(a, "uco-action:result", json_array());
	return a;
}

static json_t *tool(struct cg *g, const char *name, const char *version, const char *type)
{
	json_t *t = node(g, "tool", "uco-tool:Tool", 1);

	if (t) {
		set_s(t, "uco-core:name", name);
		set_s(t, "uco-tool:version", version);
		set_s(t, "uco-tool:toolType", type);
	}
	return t;
}

static json_t *named(struct cg *g, const char *kind, const char *type, const char *name)
{
	json_t *o = node(g, kind, type, 1);

	if (o)
		set_s(o, "uco-core:name", name);
	return o;
}

static void push(json_t *a, const char *prop, const char *id)
{
	json_array_append_new(json_object_get(a, prop), ref(id));
}

/* Collection by each host's agent and custody by the collector, with a
 * provenance record and exhibit number per evidence file. */
static int case_hosts(struct cg *g, const struct export_obs *o, json_t *coll, json_t *ctool,
		      json_t *exp)
{
	unsigned ex = 1;

	for (size_t h = 0; h < g->r->nhosts; h++) {
		const char *host = g->r->hosts[h];
		const char *ver = json_string_value(json_object_get(o->agent_version, host));
		json_t *dev = named(g, "device", "uco-observable:Device", host), *at, *col, *cus, *f;
		const char *first = NULL, *last = NULL;
		char desc[512], ebuf[COLL_EXHIBIT_MAX];
		size_t i;

		at = tool(g, "custos-agent", ver ? ver : "unknown (no agent_start record exported)",
			  "endpoint recorder (eBPF): signs and seals batches of records");
		if (!dev || !at)
			return -CUSTOS_ERR_NOMEM;
		json_array_foreach(o->files, i, f)
			if (strcmp(json_string_value(json_object_get(f, "host")), host) == 0) {
				first = first ? first : json_string_value(json_object_get(f, "first"));
				last = json_string_value(json_object_get(f, "last"));
			}
		if (!first)
			continue;
		snprintf(desc, sizeof(desc), "activity of host %s recorded, signed and sealed by "
			 "its custos-agent", host);
		col = action(g, "collected", desc, id_of(dev), id_of(at), first, last);
		snprintf(desc, sizeof(desc), "batches of host %s verified, archived bit for bit and "
			 "logged in the RFC 9162 custody log by the collector", host);
		cus = action(g, "preserved", desc, id_of(coll), id_of(ctool), first, last);
		if (!col || !cus)
			return -CUSTOS_ERR_NOMEM;
		json_array_foreach(o->files, i, f) {
			const char *file = json_string_value(json_object_get(f, "file"));
			json_t *pr, *fn;

			if (strcmp(json_string_value(json_object_get(f, "host")), host) != 0)
				continue;
			pr = node(g, "provenance-record", "case-investigation:ProvenanceRecord", 1);
			fn = file_node(g, file, json_string_value(json_object_get(f, "sha256")),
				       json_integer_value(json_object_get(f, "size")));
			if (!pr || !fn)
				return -CUSTOS_ERR_NOMEM;
			snprintf(ebuf, sizeof(ebuf), "%s-E%04u", g->r->case_id, ex++);
			set_s(pr, "case-investigation:exhibitNumber", ebuf);
			snprintf(desc, sizeof(desc), "%s: signed batch seq %lld of host %s, records "
				 "from %s to %s (custody log leaf %lld)", file,
				 (long long)json_integer_value(json_object_get(f, "seq")), host,
				 json_string_value(json_object_get(f, "first")),
				 json_string_value(json_object_get(f, "last")),
				 (long long)json_integer_value(json_object_get(f, "leaf")));
			set_s(pr, "uco-core:description", desc);
			json_object_set_new(pr, "uco-core:object", json_pack("[o]", ref(id_of(fn))));
			push(col, "uco-action:result", id_of(pr));
			push(cus, "uco-action:object", id_of(pr));
			push(exp, "uco-action:object", id_of(pr));
		}
	}
	return 0;
}

static const char *addr_node(struct cg *g, json_t *c, const char *which)
{
	const char *v = json_string_value(json_object_get(c, which));
	const char *fam = json_string_value(json_object_get(c, "family"));
	int v6 = strcmp(fam, "ipv6") == 0;
	json_t *a, *f;

	if (!v || !v[0] || (!v6 && strcmp(fam, "ipv4") != 0))
		return NULL;
	if (json_object_get(g->addrs, v))
		return json_string_value(json_object_get(g->addrs, v));
	a = node(g, "address", v6 ? "uco-observable:IPv6Address" : "uco-observable:IPv4Address", 0);
	if (!a)
		return NULL;
	f = facet(g, a, v6 ? "uco-observable:IPv6AddressFacet" : "uco-observable:IPv4AddressFacet");
	set_s(f, "uco-observable:addressValue", v);
	json_object_set_new(g->addrs, v, json_string(id_of(a)));
	return id_of(a);
}

static void where(json_t *x, json_t *o, const char *what)
{
	char d[CUSTOS_PATH_MAX + 256];

	snprintf(d, sizeof(d), "%s %s on host %s by pid %lld at %s (evidence leaf %lld, record "
		 "%lld)", json_string_value(json_object_get(x, "op")), what,
		 json_string_value(json_object_get(x, "host")),
		 (long long)json_integer_value(json_object_get(x, "pid")),
		 json_string_value(json_object_get(x, "datetime")),
		 (long long)json_integer_value(json_object_get(x, "evidence_leaf")),
		 (long long)json_integer_value(json_object_get(x, "evidence_record")));
	set_s(o, "uco-core:description", d);
}

static json_t *obs_proc(struct cg *g, json_t *x)
{
	json_t *p = node(g, "process", "uco-observable:Process", 0), *pf, *bin;

	bin = file_node(g, json_string_value(json_object_get(x, "exe")),
			json_string_value(json_object_get(x, "sha256")), -1);
	if (!p || !bin)
		return NULL;
	where(x, p, json_string_value(json_object_get(x, "exe")));
	pf = facet(g, p, "uco-observable:ProcessFacet");
	json_object_set(pf, "uco-observable:pid", json_object_get(x, "pid"));
	json_object_set(pf, "uco-observable:arguments", json_object_get(x, "args"));
	json_object_set_new(pf, "uco-observable:observableCreatedTime",
			    dt(json_string_value(json_object_get(x, "datetime"))));
	json_object_set_new(pf, "uco-observable:binary", ref(id_of(bin)));
	set_s(pf, "uco-observable:currentWorkingDirectory",
	      json_string_value(json_object_get(x, "cwd")));
	return p;
}

static json_t *obs_conn(struct cg *g, json_t *x)
{
	json_t *c = node(g, "network-connection", "uco-observable:NetworkConnection", 0), *nf;
	const char *src = addr_node(g, x, "local"), *dst = addr_node(g, x, "remote");
	char what[256];

	if (!c)
		return NULL;
	snprintf(what, sizeof(what), "%s %s port %lld",
		 json_string_value(json_object_get(x, "protocol")),
		 json_string_value(json_object_get(x, "remote")),
		 (long long)json_integer_value(json_object_get(x, "remote_port")));
	where(x, c, what);
	nf = facet(g, c, "uco-observable:NetworkConnectionFacet");
	json_object_set_new(nf, "uco-observable:startTime",
			    dt(json_string_value(json_object_get(x, "datetime"))));
	if (src)
		json_object_set_new(nf, "uco-observable:src", json_pack("[o]", ref(src)));
	if (dst)
		json_object_set_new(nf, "uco-observable:dst", json_pack("[o]", ref(dst)));
	json_object_set(nf, "uco-observable:sourcePort", json_object_get(x, "local_port"));
	json_object_set(nf, "uco-observable:destinationPort", json_object_get(x, "remote_port"));
	return c;
}

/* The account an attempt names, one node per host and name. */
static const char *account_node(struct cg *g, json_t *x)
{
	const char *name = json_string_value(json_object_get(x, "acct"));
	char key[512];
	json_t *a, *f;

	if (!name)
		return NULL;
	snprintf(key, sizeof(key), "%s|%s", json_string_value(json_object_get(x, "host")), name);
	if (json_object_get(g->accounts, key))
		return json_string_value(json_object_get(g->accounts, key));
	a = node(g, "account", "uco-observable:UNIXAccount", 0);
	if (!a)
		return NULL;
	f = facet(g, a, "uco-observable:AccountFacet");
	set_s(f, "uco-observable:accountType", "unix");
	f = facet(g, a, "uco-observable:DigitalAccountFacet");
	set_s(f, "uco-observable:accountLogin", name);
	json_object_set_new(g->accounts, key, json_string(id_of(a)));
	return id_of(a);
}

/* An authentication attempt (export_obs.c): an Action on the account
 * (uco-action:object) by the program that asked (instrument, a File), its
 * result as actionStatus (ActionStatusTypeVocab: Success, Fail, Unknown). */
static json_t *obs_auth(struct cg *g, json_t *x)
{
	json_t *a = node(g, "authentication", "uco-action:Action", 0), *exe = NULL;
	const char *res = json_string_value(json_object_get(x, "res")) ?: "";
	const char *acct = account_node(g, x), *path = json_string_value(json_object_get(x, "exe"));
	char what[1024];

	if (path)
		exe = file_node(g, path, NULL, -1);
	if (!a || (path && !exe) || (json_object_get(x, "acct") && !acct))
		return NULL;
	snprintf(what, sizeof(what), "%s %s attempt for account %s by %s from %s: result %s",
		 json_string_value(json_object_get(x, "type")),
		 json_string_value(json_object_get(x, "auth_op")) ?: "?",
		 json_string_value(json_object_get(x, "acct")) ?: "?", path ? path : "?",
		 json_string_value(json_object_get(x, "source")) ?: "?", res[0] ? res : "not stated");
	where(x, a, what);
	set_s(a, "uco-core:name", "authentication attempt");
	json_object_set_new(a, "uco-action:actionStatus", json_pack(
		"{s:s,s:s}", "@type", "uco-vocabulary:ActionStatusTypeVocab", "@value",
		strcmp(res, "success") == 0 ? "Success" : strcmp(res, "failed") == 0 ? "Fail" :
		"Unknown"));
	json_object_set_new(a, "uco-action:startTime",
			    dt(json_string_value(json_object_get(x, "datetime"))));
	if (acct)
		json_object_set_new(a, "uco-action:object", json_pack("[o]", ref(acct)));
	if (exe)
		json_object_set_new(a, "uco-action:instrument", json_pack("[o]", ref(id_of(exe))));
	return a;
}

/* The bounded observables, under one provenance record the export made. */
static int case_observables(struct cg *g, const struct export_obs *o, json_t *exp)
{
	json_t *pr = node(g, "provenance-record", "case-investigation:ProvenanceRecord", 1), *x;
	char desc[1024], ebuf[COLL_EXHIBIT_MAX];
	size_t i;

	if (!pr)
		return -CUSTOS_ERR_NOMEM;
	snprintf(ebuf, sizeof(ebuf), "%s-OBS", g->r->case_id);
	set_s(pr, "case-investigation:exhibitNumber", ebuf);
	snprintf(desc, sizeof(desc), "process, file, network-connection and "
		 "authentication-attempt observables of the exported records in the requested "
		 "range: %llu, %llu, %llu and %llu records; the first %d distinct of each kind are "
		 "described here (%llu, %llu, %llu and %llu records came after that bound and are "
		 "only counted); %llu failed exec attempts (no program ran) and %llu other auth "
		 "records (sessions, credentials...) are not observables; timeline.jsonl holds "
		 "every record",
		 (unsigned long long)o->records[OBS_PROC], (unsigned long long)o->records[OBS_FILE],
		 (unsigned long long)o->records[OBS_CONN], (unsigned long long)o->records[OBS_AUTH],
		 EXPORT_OBS_MAX, (unsigned long long)o->omitted[OBS_PROC],
		 (unsigned long long)o->omitted[OBS_FILE], (unsigned long long)o->omitted[OBS_CONN],
		 (unsigned long long)o->omitted[OBS_AUTH], (unsigned long long)o->failed_exec,
		 (unsigned long long)o->auth_other);
	set_s(pr, "uco-core:description", desc);
	json_object_set_new(pr, "uco-core:object", json_array());
	push(exp, "uco-action:result", id_of(pr));
	for (int k = 0; k < OBS_KINDS; k++)
		json_array_foreach(o->list[k], i, x) {
			json_t *n;

			if (k == OBS_PROC) {
				n = obs_proc(g, x);
			} else if (k == OBS_CONN) {
				n = obs_conn(g, x);
			} else if (k == OBS_AUTH) {
				n = obs_auth(g, x);
			} else {
				n = file_node(g, json_string_value(json_object_get(x, "path")), NULL, -1);
				if (n)
					where(x, n, json_string_value(json_object_get(x, "path")));
			}
			if (!n)
				return -CUSTOS_ERR_NOMEM;
			push(pr, "uco-core:object", id_of(n));
		}
	return 0;
}

static int write_graph(struct cg *g)
{
	json_t *doc = json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s},s:O}", "@context",
		"kb", "urn:custos:",
		"case-investigation", "https://ontology.caseontology.org/case/investigation/",
		"uco-action", "https://ontology.unifiedcyberontology.org/uco/action/",
		"uco-core", "https://ontology.unifiedcyberontology.org/uco/core/",
		"uco-identity", "https://ontology.unifiedcyberontology.org/uco/identity/",
		"uco-observable", "https://ontology.unifiedcyberontology.org/uco/observable/",
		"uco-tool", "https://ontology.unifiedcyberontology.org/uco/tool/",
		"uco-types", "https://ontology.unifiedcyberontology.org/uco/types/",
		"uco-vocabulary", "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
		"xsd", "http://www.w3.org/2001/XMLSchema#", "@graph", g->graph);
	char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	int ret = text ? export_write(g->r->out, "case.jsonld", text, strlen(text))
		       : -CUSTOS_ERR_NOMEM;

	free(text);
	json_decref(doc);
	return ret;
}

int export_case(const struct export_req *r, const char *log_name, const char *fingerprint,
		const struct export_obs *o)
{
	struct cg g = { .r = r, .graph = json_array(), .all = json_array(),
			.addrs = json_object(), .accounts = json_object() };
	char created[48], text[512];
	json_t *inv, *auth, *req, *rel, *coll, *ctool, *exp;
	int ret = -CUSTOS_ERR_NOMEM;

	bundle_fmt_time((int64_t)r->created_ns, created, sizeof(created));
	inv = node(&g, "investigation", "case-investigation:Investigation", 0);
	auth = node(&g, "authorization", "case-investigation:Authorization", 1);
	req = named(&g, "identity", "uco-identity:Identity", r->requester);
	snprintf(text, sizeof(text), "Custos collector '%s' (key fingerprint %s)", log_name,
		 fingerprint);
	coll = named(&g, "identity", "uco-identity:Identity", text);
	ctool = tool(&g, "custos-collector", BUNDLE_TOOL_VERSION,
		     "evidence collector: verification, archive, custody log, export");
	rel = node(&g, "relationship", "uco-core:Relationship", 1);
	if (!inv || !auth || !req || !coll || !ctool || !rel || !g.all || !g.addrs || !g.accounts)
		goto out;
	set_s(inv, "uco-core:name", r->case_id);
	set_s(inv, "uco-core:description", r->reason);
	json_object_set_new(inv, "case-investigation:relevantAuthorization", ref(id_of(auth)));
	set_s(auth, "case-investigation:authorizationType", "legal basis");
	set_s(auth, "case-investigation:authorizationIdentifier", r->legal_basis);
	json_object_set_new(rel, "uco-core:source", ref(id_of(inv)));
	json_object_set_new(rel, "uco-core:target", ref(id_of(req)));
	set_s(rel, "uco-core:kindOfRelationship", "Requested_By");
	json_object_set_new(rel, "uco-core:isDirectional", json_true());
	exp = action(&g, "exported", "custos-collector export of this bundle", id_of(coll),
		     id_of(ctool), created, created);
	ret = exp ? case_hosts(&g, o, coll, ctool, exp) : -CUSTOS_ERR_NOMEM;
	if (!ret)
		ret = case_observables(&g, o, exp);
	if (!ret) {
		json_object_set(inv, "uco-core:object", g.all);
		ret = write_graph(&g);
	}
out:
	json_decref(g.graph);
	json_decref(g.all);
	json_decref(g.addrs);
	json_decref(g.accounts);
	return ret;
}
