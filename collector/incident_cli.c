/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The incident subcommands: `incidents` lists them (table or JSON lines),
 * `incident show ID` tells one: the process tree involved (the root's
 * parent chain, then every process below the root), its exec, file,
 * network, system and authentication events in time order from the
 * index, and each alert in place after the record it rests on. The index
 * keeps no text of an auth record (kind 11), so its line is made from the
 * record itself, read back from the archive (custody log, read-only,
 * beside a running serve too) and verified as at ingest. Also the JSON
 * form of an incident and of an alert, shared with export (alerts.json,
 * incidents.json).
 */
#define _GNU_SOURCE	/* asprintf */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_text.h"
#include "batch.h"
#include "collector.h"
#include "custody.h"
#include "error.h"
#include "incident.h"
#include "keystore.h"
#include "sigma.h"

#define SHOW_PROCS_MAX 512
#define SHOW_EVENTS_MAX 2000
#define SHOW_BEFORE_NS (300ll * 1000000000ll)	/* context before the first alert */
#define SHOW_AFTER_NS (60ll * 1000000000ll)	/* and after the last */

static const char *dash(const char *s)
{
	return s && s[0] ? s : "-";
}

/* "a, b" into a JSON array ["a", "b"]. */
static json_t *set_json(const char *joined)
{
	json_t *a = json_array();
	const char *p = joined;

	while (a && p && *p) {
		const char *e = strstr(p, ", ");
		size_t n = e ? (size_t)(e - p) : strlen(p);

		json_array_append_new(a, json_stringn(p, n));
		p = e ? e + 2 : NULL;
	}
	return a;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char h[2 * CUSTOS_HASH_LEN + 1];

	return json_string(sodium_bin2hex(h, sizeof(h), p, n < CUSTOS_HASH_LEN ? n : CUSTOS_HASH_LEN));
}

json_t *incident_json(const struct store_incident *inc, const char *host)
{
	char first[48], last[48];

	return json_pack("{s:s,s:s,s:o,s:s,s:s,s:I,s:I,s:s,s:I,s:I,s:s,s:o,s:o,s:o}",
			 "id", inc->id, "host", host ? host : "?", "host_id",
			 hex_json(inc->host_id, KEYS_SIGN_PK_LEN),
			 "first", coll_fmt_time(inc->first_ns, 0, first, sizeof(first)),
			 "last", coll_fmt_time(inc->last_ns, 0, last, sizeof(last)),
			 "first_unix_ns", (json_int_t)inc->first_ns,
			 "last_unix_ns", (json_int_t)inc->last_ns,
			 "severity", sigma_level_name((enum sigma_level)inc->severity),
			 "alerts", (json_int_t)inc->alerts, "root_pid", (json_int_t)inc->root_pid,
			 "process_tree", inc->tree, "classes", set_json(inc->classes),
			 "articles", set_json(inc->articles), "techniques", set_json(inc->techniques));
}

static json_t *ref_json(uint64_t leaf, const uint8_t hash[CUSTOS_HASH_LEN], uint32_t idx)
{
	return json_pack("{s:I,s:o,s:I}", "leaf", (json_int_t)leaf, "batch_hash",
			 hex_json(hash, CUSTOS_HASH_LEN), "record", (json_int_t)idx);
}

json_t *incident_alert_json(const struct store_alert *a, const char *host, const char *incident)
{
	char when[48];
	json_t *refs = json_array(), *o;

	if (!a->n_refs)
		json_array_append_new(refs, ref_json(a->leaf, a->batch_hash, a->rec_index));
	for (size_t i = 0; i < a->n_refs; i++)
		json_array_append_new(refs, ref_json(a->refs[i].leaf, a->refs[i].batch_hash,
						     a->refs[i].rec_index));
	o = json_pack("{s:s,s:s,s:o,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:I}",
		      "datetime", coll_fmt_time(a->ts_wall_ns, 0, when, sizeof(when)),
		      "host", host ? host : "?", "host_id", hex_json(a->host_id, KEYS_SIGN_PK_LEN),
		      "incident", incident ? incident : "", "unix_ns", (json_int_t)a->ts_wall_ns,
		      "rule_id", a->rule_id, "title", a->title,
		      "severity", sigma_level_name((enum sigma_level)a->severity),
		      "category", a->category, "taxonomy", a->taxonomy, "budapest_article",
		      a->article, "attack_technique", a->technique, "pid", (json_int_t)a->pid,
		      "image", a->image, "evidence", ref_json(a->leaf, a->batch_hash, a->rec_index),
		      "records", refs, "records_total",
		      (json_int_t)(a->n_refs ? a->ref_total : 1));
	return o;
}

/* --- listing ---------------------------------------------------------------- */

struct listing {
	const struct keystore *ks;
	int jsonl;
	uint64_t n;
};

static int print_incident(void *ctx, const struct store_incident *inc)
{
	struct listing *l = ctx;
	const char *name = keystore_name(l->ks, inc->host_id);
	char first[48], last[48];
	json_t *o;
	int ret = 0;

	l->n++;
	if (l->jsonl) {
		o = incident_json(inc, name);
		ret = o && json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS) == 0 ? 0
										     : -CUSTOS_ERR_NOMEM;
		json_decref(o);
		putchar('\n');
		return ret;
	}
	printf("%s %s %s..%s %s alerts=%llu root_pid=%llu tree=%s classes=%s articles=%s "
	       "techniques=%s\n", inc->id, name ? name : "?",
	       coll_fmt_time(inc->first_ns, 0, first, sizeof(first)),
	       coll_fmt_time(inc->last_ns, 0, last, sizeof(last)),
	       sigma_level_name((enum sigma_level)inc->severity), (unsigned long long)inc->alerts,
	       (unsigned long long)inc->root_pid, inc->tree, dash(inc->classes),
	       dash(inc->articles), dash(inc->techniques));
	return 0;
}

/* Open the keystore and the index of dir; resolve host (a name or a
 * 64-digit host id) when given. OUT: ks, *s, id. */
static int open_dir(const char *dir, const char *host, struct keystore *ks, struct store **s,
		    uint8_t id[KEYS_SIGN_PK_LEN])
{
	char path[COLL_PATH_MAX];
	size_t got;
	int ret = keystore_open(ks, dir, 0), found = 0;

	*s = NULL;
	if (ret) {
		coll_log("%s: %s", dir, custos_strerror(ret));
		return ret;
	}
	for (size_t i = 0; host && i < ks->count; i++)
		if (strcmp(ks->hosts[i].name, host) == 0) {
			memcpy(id, ks->hosts[i].pk.sign_pk, KEYS_SIGN_PK_LEN);
			found = 1;
		}
	if (host && !found && !(strlen(host) == 64 && sodium_hex2bin(id, KEYS_SIGN_PK_LEN, host,
		   64, NULL, &got, NULL) == 0 && got == KEYS_SIGN_PK_LEN)) {
		coll_log("no host named '%s'", host);
		ret = -CUSTOS_ERR_INVAL;
	}
	if (!ret)
		ret = coll_path(path, dir, "index.sqlite");
	if (!ret)
		ret = store_open(path, 0, s);
	if (ret)
		keystore_close(ks);
	return ret;
}

int cmd_incidents(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "host", required_argument, NULL, 'H' },
		{ "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	const char *dir = coll_default_dir(), *host = NULL;
	struct listing l = { 0 };
	uint8_t id[KEYS_SIGN_PK_LEN];
	struct keystore ks;
	struct store *s;
	int c, bad = 0, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'H')
			host = optarg;
		else if (c == 'f' && (!strcmp(optarg, "table") || !strcmp(optarg, "jsonl")))
			l.jsonl = optarg[0] == 'j';
		else
			bad = 1;
	}
	if (bad || optind != argc) {
		fprintf(stderr, "Usage: custos-collector incidents [--dir DIR] [--host NAME] "
			"[--format table|jsonl]\n");
		return COLL_EXIT_USAGE;
	}
	if (open_dir(dir, host, &ks, &s, id))
		return COLL_EXIT_FAIL;
	l.ks = &ks;
	ret = store_incidents(s, host ? id : NULL, NULL, print_incident, &l);
	fflush(stdout);
	store_close(s);
	keystore_close(&ks);
	return ret ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}

/* --- incident show ---------------------------------------------------------- */

struct shown_alert {
	uint64_t leaf;
	uint32_t rec;
	int printed;
	char *line;
	char rule_id[64];
	struct store_ref refs[STORE_ALERT_REFS_MAX];	/* the records it names */
	size_t n_refs;
};

struct proc_seen {
	uint64_t pid, ppid;
	unsigned depth;
	char proc_id[STORE_PROC_ID_MAX];
	char what[256];
};

/* The archive, opened on the first auth record shown, and the last batch
 * read from it (auth records of one incident mostly share batches). */
struct story_archive {
	const char *dir;
	const struct keystore *ks;
	struct custody c;
	int state;			/* 0 not opened yet, 1 open, -1 could not open */
	int have;			/* raw holds the records of leaf */
	uint64_t leaf;
	struct batch_view v;
	struct buf b, raw;
	struct custos_record *rec;
};

struct story {
	struct story_archive ar;
	struct store_incident inc;
	int found;
	struct shown_alert *alerts;
	size_t nalerts;
	struct proc_seen *procs;
	size_t nprocs;
	uint64_t events, skipped;
};

static int got_incident(void *ctx, const struct store_incident *inc)
{
	struct story *st = ctx;

	st->inc = *inc;
	st->inc.classes = strdup(inc->classes);
	st->inc.articles = strdup(inc->articles);
	st->inc.techniques = strdup(inc->techniques);
	st->found = 1;
	return st->inc.classes && st->inc.articles && st->inc.techniques ? 0 : -CUSTOS_ERR_NOMEM;
}

static int got_alert(void *ctx, const struct store_alert *a)
{
	struct story *st = ctx;
	struct shown_alert *n = realloc(st->alerts, (st->nalerts + 1) * sizeof(*n));
	char hash[2 * CUSTOS_HASH_LEN + 1];
	int len;

	if (!n)
		return -CUSTOS_ERR_NOMEM;
	st->alerts = n;
	n = &st->alerts[st->nalerts];
	sodium_bin2hex(hash, sizeof(hash), a->batch_hash, sizeof(a->batch_hash));
	len = asprintf(&n->line, "    >>> ALERT %s \"%s\" rule=%s class=%s article=%s "
		       "technique=%s pid=%llu image=%s evidence=%llu:%s:%u",
		       sigma_level_name((enum sigma_level)a->severity), a->title, a->rule_id,
		       dash(a->taxonomy), dash(a->article), dash(a->technique),
		       (unsigned long long)a->pid, dash(a->image), (unsigned long long)a->leaf,
		       hash, a->rec_index);
	if (len < 0)
		return -CUSTOS_ERR_NOMEM;
	n->leaf = a->leaf;
	n->rec = a->rec_index;
	n->printed = 0;
	n->n_refs = 0;
	snprintf(n->rule_id, sizeof(n->rule_id), "%s", a->rule_id);
	st->nalerts++;
	return 0;
}

/* The records a multi-record alert of the story names (store_alerts reads
 * them; the incident's alerts come without). */
static int got_refs(void *ctx, const struct store_alert *a)
{
	struct story *st = ctx;

	for (size_t i = 0; a->n_refs && i < st->nalerts; i++) {
		struct shown_alert *n = &st->alerts[i];

		if (n->leaf != a->leaf || n->rec != a->rec_index || strcmp(n->rule_id, a->rule_id))
			continue;
		n->n_refs = a->n_refs < STORE_ALERT_REFS_MAX ? a->n_refs : STORE_ALERT_REFS_MAX;
		memcpy(n->refs, a->refs, n->n_refs * sizeof(n->refs[0]));
	}
	return 0;
}

static int shown_kind(uint32_t k)
{
	return k == CUSTOS_REC_EXEC || (k >= 4 && k <= 9) || k == CUSTOS_REC_AUTH ||
	       (k >= 32 && k <= 95);
}

static int got_proc(void *ctx, const struct store_row *r)
{
	struct story *st = ctx;
	struct proc_seen *p;
	size_t i;

	for (i = 0; i < st->nprocs && st->procs[i].pid != r->pid; i++)
		;
	if (i == st->nprocs) {
		if (st->nprocs == SHOW_PROCS_MAX)
			return 0;
		p = &st->procs[st->nprocs++];
		memset(p, 0, sizeof(*p));
		p->pid = r->pid;
		p->ppid = r->ppid;
		p->depth = r->depth;
		snprintf(p->what, sizeof(p->what), "%s", r->comm);
	}
	p = &st->procs[i];
	if (!p->proc_id[0] && r->proc_id[0])
		snprintf(p->proc_id, sizeof(p->proc_id), "%s", r->proc_id);
	if (r->kind == CUSTOS_REC_EXEC && r->result == 0 && r->exe[0])
		snprintf(p->what, sizeof(p->what), "%s", r->exe);	/* the last exec */
	return 0;
}

static void print_below(const struct story *st, uint64_t pid, unsigned depth)
{
	for (size_t i = 0; i < st->nprocs && depth < INCIDENT_DEPTH_MAX; i++) {
		const struct proc_seen *p = &st->procs[i];

		if (p->ppid != pid || p->pid == pid || p->depth != depth)
			continue;
		printf("  %*spid %llu %s (id %s)\n", (int)(2 * depth), "",
		       (unsigned long long)p->pid, p->what, dash(p->proc_id));
		print_below(st, p->pid, depth + 1);
	}
}

static int print_tree(struct story *st, struct store *s)
{
	struct store_proc_info chain[16];
	uint64_t pid = st->inc.root_pid;
	int n = 0, ret = 0;

	printf("Process tree (root pid %llu, tree %s):\n", (unsigned long long)pid, st->inc.tree);
	while (n < 16 && pid > 0 && (ret = store_proc_at(s, st->inc.host_id, pid, st->inc.first_ns,
							 &chain[n])) == 0) {
		pid = chain[n].ppid;
		n++;
	}
	if (ret < 0)
		return ret;
	for (int i = n - 1; i >= 1; i--)
		printf("  pid %llu %s (id %s)  [parent chain]\n", (unsigned long long)chain[i - 1].ppid,
		       dash(chain[i].exe[0] ? chain[i].exe : chain[i].comm), dash(chain[i].proc_id));
	if (n)
		printf("  pid %llu %s (id %s)  [root]\n", (unsigned long long)st->inc.root_pid,
		       dash(chain[0].exe[0] ? chain[0].exe : chain[0].comm), dash(chain[0].proc_id));
	else
		printf("  pid %llu (no record in the index)  [root]\n",
		       (unsigned long long)st->inc.root_pid);
	print_below(st, st->inc.root_pid, 1);
	return 0;
}

/* The record the row names, from the archive. Returns 0 (a->rec holds
 * it), or the error met (no archive, a batch that does not verify or is
 * not the row's, no such record). */
static int archived_record(struct story_archive *a, const struct store_row *r)
{
	struct record_iter it;
	uint64_t recv;
	int ret = 0;

	if (a->state == 0) {
		buf_init(&a->b, CUSTOS_SIGNED_MAX);
		buf_init(&a->raw, CUSTOS_RAW_MAX);
		a->rec = malloc(sizeof(*a->rec));
		ret = a->rec ? custody_open_readonly(&a->c, a->dir, CUSTODY_COMPLETE)
			     : -CUSTOS_ERR_NOMEM;
		a->state = ret ? -1 : 1;
		if (ret)
			coll_log("incident show: %s: the archive cannot be read (%s): auth records "
				 "are shown without their text", a->dir, custos_strerror(ret));
	}
	if (a->state < 0)
		return -CUSTOS_ERR_IO;
	if (!a->have || a->leaf != r->leaf) {
		a->have = 0;
		ret = custody_read(&a->c, r->leaf, &a->b, &recv);
		if (!ret)
			ret = batch_verify(a->b.data, a->b.len, keystore_known, (void *)a->ks, &a->v,
					   &a->raw);
		if (ret)
			return ret;
		a->have = 1;
		a->leaf = r->leaf;
	}
	if (memcmp(a->v.hash, r->batch_hash, CUSTOS_HASH_LEN) != 0)
		return -CUSTOS_ERR_MALFORMED;	/* the index and the log disagree */
	record_iter_init(&it, &a->raw, &a->v.hdr);
	for (uint32_t i = 0; (ret = record_iter_next(&it, a->rec)) == 1; i++)
		if (i == r->rec_index)
			return a->rec->kind == r->kind ? 0 : -CUSTOS_ERR_MALFORMED;
	return ret < 0 ? ret : -CUSTOS_ERR_INVAL;
}

static void story_archive_close(struct story_archive *a)
{
	if (a->state == 1)
		custody_close(&a->c);
	if (a->state != 0) {
		buf_free(&a->b);
		buf_free(&a->raw);
		free(a->rec);
	}
}

/* What an auth record says, for its line: "USER_AUTH acct=root
 * exe=/usr/bin/su res=failed from local" (from ADDR, from HOSTNAME, or
 * local with its terminal when known). OUT: out; *result, the send's. */
static void auth_what(struct story *st, const struct store_row *r, char *out, size_t cap,
		      int64_t *result)
{
	char acct[AUDIT_TEXT_VALUE_MAX], exe[AUDIT_TEXT_VALUE_MAX], res[AUDIT_TEXT_VALUE_MAX];
	char from[AUDIT_TEXT_VALUE_MAX + 16], v[AUDIT_TEXT_VALUE_MAX], type[32];
	const enum audit_text_show line = AUDIT_TEXT_ONE_LINE;
	const struct custos_auth *a;
	int ret = archived_record(&st->ar, r);

	if (ret) {
		snprintf(out, cap, "(its text is in the archive: not read, %s)",
			 custos_strerror(ret));
		return;
	}
	a = &st->ar.rec->u.auth;
	*result = a->result;
	if (strcmp(audit_text_value(a, "addr", line, v, sizeof(v)), "?") != 0 ||
	    strcmp(audit_text_value(a, "hostname", line, v, sizeof(v)), "?") != 0)
		snprintf(from, sizeof(from), "%s", v);
	else if (strcmp(audit_text_value(a, "terminal", line, v, sizeof(v)), "?") != 0)
		snprintf(from, sizeof(from), "local terminal=%s", v);
	else
		snprintf(from, sizeof(from), "local");
	snprintf(out, cap, "%s acct=%s exe=%s res=%s from %s%s",
		 audit_type_label(a->audit_type, type, sizeof(type)),
		 audit_text_value(a, "acct", line, acct, sizeof(acct)),
		 audit_text_value(a, "exe", line, exe, sizeof(exe)),
		 audit_text_value(a, "res", line, res, sizeof(res)),
		 from, a->text_truncated ? " (text truncated)" : "");
}

/* Whether an alert of the story rests on the row or names it among its
 * records (a threshold alert names the records it counted). */
static int referenced(const struct story *st, const struct store_row *r)
{
	for (size_t i = 0; i < st->nalerts; i++) {
		const struct shown_alert *a = &st->alerts[i];

		if (a->leaf == r->leaf && a->rec == r->rec_index)
			return 1;
		for (size_t j = 0; j < a->n_refs; j++)
			if (a->refs[j].leaf == r->leaf && a->refs[j].rec_index == r->rec_index)
				return 1;
	}
	return 0;
}

static int print_event(void *ctx, const struct store_row *r)
{
	struct story *st = ctx;
	const char *kind = record_kind_name(r->kind);
	const char *what = r->addr[0] ? r->addr : r->kind == CUSTOS_REC_EXEC ? r->exe : r->path;
	char when[48], hash[2 * CUSTOS_HASH_LEN + 1], auth[4 * AUDIT_TEXT_VALUE_MAX + 96];
	int64_t result = r->result;

	if (!shown_kind(r->kind))
		return 0;
	if (st->events++ >= SHOW_EVENTS_MAX && !referenced(st, r)) {
		st->skipped++;	/* past the bound: only what an alert names is shown */
		return 0;
	}
	if (r->kind == CUSTOS_REC_AUTH) {
		auth_what(st, r, auth, sizeof(auth), &result);
		what = auth;
	}
	sodium_bin2hex(hash, sizeof(hash), r->batch_hash, sizeof(r->batch_hash));
	printf("  %s %*spid %llu %s %s %s", coll_fmt_time(r->ts_wall_ns, 0, when, sizeof(when)),
	       (int)(2 * r->depth), "", (unsigned long long)r->pid, r->comm, kind ? kind : "?",
	       dash(what));
	if (r->addr[0] && r->kind != CUSTOS_REC_AUTH)
		printf(" port %llu", (unsigned long long)r->port);
	printf(" result %lld ref=%llu:%.16s:%u\n", (long long)result,
	       (unsigned long long)r->leaf, hash, r->rec_index);
	for (size_t i = 0; i < st->nalerts; i++)
		if (st->alerts[i].leaf == r->leaf && st->alerts[i].rec == r->rec_index) {
			puts(st->alerts[i].line);
			st->alerts[i].printed = 1;
		}
	return 0;
}

static int tell(struct story *st, struct store *s, const char *host)
{
	struct store_query q = { .has_pid = 1, .tree = 1, .pid = st->inc.root_pid };
	char first[48], last[48];
	int ret, header = 0;

	memcpy(q.host_id, st->inc.host_id, sizeof(q.host_id));
	q.from_ns = st->inc.first_ns - SHOW_BEFORE_NS;
	q.to_ns = st->inc.last_ns + SHOW_AFTER_NS;
	printf("Incident %s on host %s: %s, %llu alert(s), %s .. %s\n", st->inc.id,
	       host ? host : "?", sigma_level_name((enum sigma_level)st->inc.severity),
	       (unsigned long long)st->inc.alerts,
	       coll_fmt_time(st->inc.first_ns, 0, first, sizeof(first)),
	       coll_fmt_time(st->inc.last_ns, 0, last, sizeof(last)));
	printf("  classes: %s\n  Budapest Convention articles: %s\n  ATT&CK techniques: %s\n\n",
	       dash(st->inc.classes), dash(st->inc.articles), dash(st->inc.techniques));
	ret = store_incident_alerts(s, st->inc.id, got_alert, st);
	if (!ret)
		ret = store_alerts(s, st->inc.host_id, got_refs, st);
	if (!ret)
		ret = store_timeline(s, &q, got_proc, st);
	if (!ret)
		ret = print_tree(st, s);
	if (ret)
		return ret;
	printf("\nEvents of the tree, %s before the first alert to %s after the last "
	       "(alerts in place):\n", "300 s", "60 s");
	ret = store_timeline(s, &q, print_event, st);
	if (st->skipped)
		printf("  ... %llu more event(s) not shown (past %d, only those an alert names "
		       "are): custos-collector timeline --host %s --pid %llu --tree\n", (unsigned long long)st->skipped, SHOW_EVENTS_MAX, host ? host : "?",
		       (unsigned long long)st->inc.root_pid);
	for (size_t i = 0; !ret && i < st->nalerts; i++)
		if (!st->alerts[i].printed) {
			if (!header++)
				printf("\nAlerts whose record is not among the events above:\n");
			puts(st->alerts[i].line);
		}
	return ret;
}

static int show(const char *dir, const char *id)
{
	struct story st;
	struct keystore ks;
	struct store *s;
	uint8_t hid[KEYS_SIGN_PK_LEN];
	int ret;

	memset(&st, 0, sizeof(st));
	if (open_dir(dir, NULL, &ks, &s, hid))
		return -CUSTOS_ERR_IO;
	st.ar.dir = dir;
	st.ar.ks = &ks;
	st.procs = calloc(SHOW_PROCS_MAX, sizeof(*st.procs));
	ret = st.procs ? store_incidents(s, NULL, id, got_incident, &st) : -CUSTOS_ERR_NOMEM;
	if (!ret && !st.found) {
		coll_log("incident show: no incident '%s' (custos-collector incidents lists them)",
			 id);
		ret = -CUSTOS_ERR_INVAL;
	}
	if (!ret)
		ret = tell(&st, s, keystore_name(&ks, st.inc.host_id));
	fflush(stdout);
	for (size_t i = 0; i < st.nalerts; i++)
		free(st.alerts[i].line);
	free(st.alerts);
	free(st.procs);
	story_archive_close(&st.ar);
	if (st.found) {
		free((char *)st.inc.classes);
		free((char *)st.inc.articles);
		free((char *)st.inc.techniques);
	}
	store_close(s);
	keystore_close(&ks);
	return ret;
}

int cmd_incident(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	const char *dir = coll_default_dir();
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else
			bad = 1;
	}
	if (bad || optind + 2 != argc || strcmp(argv[optind], "show") != 0 || !argv[optind + 1][0]) {
		fprintf(stderr, "Usage: custos-collector incident [--dir DIR] show ID\n");
		return COLL_EXIT_USAGE;
	}
	return show(dir, argv[optind + 1]) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
