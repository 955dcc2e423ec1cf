/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Triage (triage.h): the per-host process table that gives Sigma events
 * their Image and parent fields, running the rules on each record, the
 * `triage` subcommand (rules over the archive on demand) and `alerts`.
 * The process table is corr's (corr.h "corr_proc.c"): one entry per
 * process holds its image and command line (an immutable,
 * reference-counted pair a fork shares with its parent) beside what the
 * threshold and sequence rules keep, so a record looks its process up
 * once; its slots are prefetched before the rules run, and it is
 * journaled with corr's tables (triage_begin/commit/abort are corr's).
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "corr.h"
#include "custody.h"
#include "error.h"
#include "incident.h"
#include "keystore.h"
#include "sigma.h"
#include "triage.h"

struct triage {
	struct sigma_set rules;
	struct sigma_index *index;	/* which rules to try on an event (sigma.h) */
	struct corr_set corr_rules;	/* threshold and sequence rules (corr.h) */
	struct corr *corr;
	struct corr_procs *procs;	/* corr's process table, shared */
	const struct custos_record *prefetched;	/* by triage_prefetch, not yet triaged */
	struct sigma_event_buf buf;
};

static void refused(void *ctx, const char *path, enum sigma_category cat, const char *reason)
{
	(void)ctx;
	coll_log("rules: %s (%s): refused: %s", path, sigma_category_name(cat), reason);
}

static void corr_refused(void *ctx, const char *path, const char *reason)
{
	(void)ctx;
	coll_log("rules: %s (correlation): refused: %s", path, reason);
}

int triage_open(const char *rules_dir, struct triage **out)
{
	struct triage *t = calloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	if (!t)
		return -CUSTOS_ERR_NOMEM;
	ret = corr_rules_load_dir(rules_dir, &t->rules, refused, &t->corr_rules, corr_refused, NULL);
	if (ret) {
		coll_log("rules: %s: %s", rules_dir, custos_strerror(ret));
		triage_close(t);
		return ret;
	}
	for (int c = 0; c <= SIGMA_CAT_OTHER; c++)
		if (t->rules.loaded[c] || t->rules.refused[c])
			coll_log("rules: %s: %u loaded, %u refused", sigma_category_name(c),
				 t->rules.loaded[c], t->rules.refused[c]);
	for (int k = 0; k < CORR_KINDS; k++)
		if (t->corr_rules.loaded[k] || t->corr_rules.refused[k])
			coll_log("rules: %s: %u loaded, %u refused", corr_kind_name(k),
				 t->corr_rules.loaded[k], t->corr_rules.refused[k]);
	ret = corr_open(&t->corr_rules, &t->corr);
	if (!ret)
		t->procs = corr_procs_of(t->corr);
	if (!ret && !(ret = sigma_index_build(&t->rules, &t->index)) && t->rules.n)
		coll_log("rules: %zu of %zu Sigma rule(s) keyed by literals (docs/triage.md)",
			 sigma_index_keyed(t->index), t->rules.n);
	if (ret) {
		triage_close(t);
		return ret;
	}
	*out = t;
	return 0;
}

void triage_close(struct triage *t)
{
	if (!t)
		return;
	corr_close(t->corr);
	corr_set_free(&t->corr_rules);
	sigma_index_free(t->index);
	sigma_set_free(&t->rules);
	free(t);
}

void triage_begin(struct triage *t)
{
	corr_begin(t->corr);
}

void triage_commit(struct triage *t)
{
	corr_commit(t->corr);
}

void triage_abort(struct triage *t)
{
	corr_abort(t->corr);
}

/* What track found for one record: the parent's strings (exec), held
 * until the record is done, and the acting process's image for corr. */
struct tracked {
	struct corr_pstr *held;	/* a reference, NULL when none */
	const char *image;	/* the acting process's image (kinds 32-95, auth), or NULL */
	const char *corr_image;	/* a fork's parent's image, or NULL */
	int exec;		/* an exec: its image and command line, from its event, to note */
};

/* Keep the process table current; OUT: parent (exec), *k. */
static int track(struct triage *t, const struct batch_header *h, const struct custos_record *rec,
		 struct sigma_parent *parent, struct tracked *k)
{
	const struct custos_exec *x = &rec->u.exec;
	struct corr_pstr *str;
	struct corr_proc *p;

	if (rec->kind == CUSTOS_REC_FORK) {
		/* A get (corr's track makes it anyway) moves the parent's stamp,
		 * so the child's entry does not evict it. */
		p = corr_proc_get(t->procs, h, rec->subj.pid);
		if (!p->str)
			return 0;
		k->held = corr_pstr_get(p->str);
		k->corr_image = k->held->s;
		corr_proc_set_str(t->procs, corr_proc_get(t->procs, h, rec->u.fork.child_pid),
				  corr_pstr_get(k->held));
		return 0;
	}
	if ((rec->kind == CUSTOS_REC_EXEC && x->result == 0) || rec->kind == CUSTOS_REC_SNAPSHOT) {
		p = corr_proc_find(t->procs, h, rec->subj.ppid);
		if (p && p->str) {
			k->held = corr_pstr_get(p->str);	/* the note may replace it */
			parent->image = k->held->s;
			parent->cmdline = corr_pstr_cmdline(k->held);
		}
		k->exec = rec->kind == CUSTOS_REC_EXEC;
		if (k->exec)	/* triage_record notes what the event holds */
			return 0;
		sigma_cmdline(t->buf.cmdline, sizeof(t->buf.cmdline), x->argv, x->argv_len);
		record_cstr(t->buf.image, sizeof(t->buf.image), x->exe_len ? x->exe : x->filename,
		     x->exe_len ? x->exe_len : x->filename_len);
		str = corr_pstr_new(t->buf.image, t->buf.cmdline);
		if (!str)
			return -CUSTOS_ERR_NOMEM;
		corr_proc_set_str(t->procs, corr_proc_get(t->procs, h, rec->subj.pid), str);
		return 0;
	}
	if ((rec->kind >= 32 && rec->kind <= 95) || rec->kind == CUSTOS_REC_AUTH) {
		p = corr_proc_find(t->procs, h, rec->subj.pid);
		k->image = p && p->str ? p->str->s : NULL;
	}
	return 0;
}

void triage_prefetch(struct triage *t, const struct batch_header *h,
		     const struct custos_record *rec)
{
	corr_prefetch(t->corr, h, rec);
	t->prefetched = rec;
}

static int add_alert(struct store *s, const struct sigma_rule *r, const struct batch_header *h,
		     const uint8_t hash[CUSTOS_HASH_LEN], uint64_t leaf, uint32_t idx,
		     const struct custos_record *rec, const struct sigma_event *ev)
{
	struct store_alert a = {
		.ts_wall_ns = (int64_t)rec->ts_ns + h->clock_offset_ns,
		.rule_id = sigma_rule_id(r), .title = sigma_rule_title(r),
		.severity = (int)sigma_rule_level(r),
		.category = sigma_category_name(sigma_rule_category(r)),
		.taxonomy = sigma_rule_custom(r, "custos_taxonomy"),
		.article = sigma_rule_custom(r, "custos_budapest_article"),
		.technique = sigma_rule_custom(r, "custos_attack_technique"),
		.pid = rec->subj.pid,
		.image = ev->f[SIGMA_F_IMAGE] ? ev->f[SIGMA_F_IMAGE] : "",
		.leaf = leaf, .rec_index = idx,
	};

	memcpy(a.host_id, h->host_id, sizeof(a.host_id));
	memcpy(a.batch_hash, hash, sizeof(a.batch_hash));
	return store_add_alert(s, &a);
}

int triage_record(struct triage *t, struct store *s, const struct batch_header *h,
		  const uint8_t hash[CUSTOS_HASH_LEN], uint64_t leaf, uint32_t idx,
		  const struct custos_record *rec, uint64_t *alerts)
{
	struct sigma_parent parent = { NULL, NULL };
	struct corr_at at = { h, hash, leaf, idx };
	struct tracked k = { NULL, NULL, NULL, 0 };
	struct sigma_event ev;
	const size_t *cand;
	size_t n_cand = 0;
	int ret, mapped;

	if (t->prefetched != rec)	/* the slots it will look up */
		corr_prefetch(t->corr, h, rec);
	t->prefetched = NULL;
	ret = track(t, h, rec, &parent, &k);
	if (ret)
		goto out;
	mapped = sigma_event_from_record(rec, parent.image ? &parent : NULL, k.image, &ev, &t->buf);
	if (k.exec && mapped) {	/* the exec's strings, made once for the event and the table */
		struct corr_pstr *str = corr_pstr_new(ev.f[SIGMA_F_IMAGE],
						      ev.f[SIGMA_F_COMMANDLINE]);

		if (!str) {
			ret = -CUSTOS_ERR_NOMEM;
			goto out;
		}
		corr_proc_set_str(t->procs, corr_proc_get(t->procs, h, rec->subj.pid), str);
	}
	if (mapped)
		n_cand = sigma_index_candidates(t->index, &ev, &cand);
	for (size_t i = 0; !ret && i < n_cand; i++)
		if (sigma_rule_match(t->rules.rules[cand[i]], &ev)) {
			ret = add_alert(s, t->rules.rules[cand[i]], h, hash, leaf, idx, rec, &ev);
			if (!ret)
				(*alerts)++;
		}
	if (!ret && t->corr_rules.n)	/* threshold and sequence rules: every record */
		ret = corr_record(t->corr, s, &at, rec, mapped ? &ev : NULL,
				  rec->kind == CUSTOS_REC_FORK ? k.corr_image
				  : rec->kind == CUSTOS_REC_EXEC ? ev.f[SIGMA_F_IMAGE] : k.image,
				  alerts);
out:
	corr_pstr_put(k.held);
	return ret;
}

/* --- triage on demand ------------------------------------------------------ */

struct run {
	const char *dir, *rules;
	int64_t from, to;
	uint64_t batches, records, alerts, incidents;
};

static int triage_leaf(struct triage *t, struct store *s, struct run *r, uint64_t leaf,
		       const struct buf *signed_batch, struct custos_record *rec)
{
	struct batch_view v;
	struct record_iter it;
	struct buf raw;
	uint32_t idx = 0;
	int ret;

	buf_init(&raw, CUSTOS_RAW_MAX);
	ret = batch_parse(signed_batch->data, signed_batch->len, &v);
	if (!ret)
		ret = batch_check_payload(&v, &raw);
	if (!ret)
		ret = store_begin(s);
	if (ret)
		goto out;
	triage_begin(t);	/* invariant 4 */
	r->batches++;
	record_iter_init(&it, &raw, &v.hdr);
	while (!ret && (ret = record_iter_next(&it, rec)) == 1) {
		int64_t wall = (int64_t)rec->ts_ns + v.hdr.clock_offset_ns;

		ret = 0;
		if (wall >= r->from && wall < r->to) {
			r->records++;
			ret = triage_record(t, s, &v.hdr, v.hash, leaf, idx, rec, &r->alerts);
		}
		idx++;
	}
	ret = ret ? ret : store_commit(s);
	if (ret) {
		store_rollback(s);
		triage_abort(t);
	} else {
		triage_commit(t);
	}
out:
	buf_free(&raw);
	return ret;
}

/* The custody log: opened (and recovered) under the directory's lock, or
 * read-only beside the serve that holds it (invariant 3). OUT: *c, *lock
 * (-1 when live). */
static int open_log(struct custody *c, const char *dir, int *lock)
{
	*lock = coll_lock_dir(dir);
	if (*lock >= 0)
		return custody_open(c, dir);
	if (*lock != -CUSTOS_ERR_EXISTS) {
		coll_log("%s: %s", dir, custos_strerror(*lock));
		return *lock;
	}
	coll_log("triage: a collector is running: reading the archive beside it, "
		 "alerts in transactions of their own");
	return custody_open_readonly(c, dir, CUSTODY_COMPLETE);
}

static int run_triage(struct run *r)
{
	char path[COLL_PATH_MAX];
	struct custody c;
	struct store *s = NULL;
	struct triage *t = NULL;
	struct custos_record *rec = malloc(sizeof(*rec));
	struct buf b;
	uint64_t recv;
	int lock = -1, ret;

	buf_init(&b, CUSTOS_SIGNED_MAX);
	memset(&c, 0, sizeof(c));
	c.fd = c.ar.fd = -1;
	ret = rec ? triage_open(r->rules, &t) : -CUSTOS_ERR_NOMEM;
	if (!ret)
		ret = open_log(&c, r->dir, &lock);
	if (!ret)
		ret = coll_path(path, r->dir, "index.sqlite");
	if (!ret)
		ret = store_open(path, 0, &s);
	for (uint64_t leaf = 0; !ret && leaf < c.size; leaf++) {
		ret = custody_read(&c, leaf, &b, &recv);
		if (!ret)
			ret = triage_leaf(t, s, r, leaf, &b, rec);
		if (ret)
			coll_log("triage: leaf %llu: %s", (unsigned long long)leaf,
				 custos_strerror(ret));
	}
	if (!ret)
		printf("triage: %llu batch(es), %llu record(s) in range, %llu alert(s)\n",
		       (unsigned long long)r->batches, (unsigned long long)r->records,
		       (unsigned long long)r->alerts);
	if (!ret && !(ret = incident_regroup(s, &r->incidents)))	/* incident.h */
		printf("triage: %llu incident(s), regrouped from every alert\n",
		       (unsigned long long)r->incidents);
	store_close(s);
	custody_close(&c);
	triage_close(t);
	buf_free(&b);
	free(rec);
	if (lock >= 0)
		close(lock);
	return ret;
}

int cmd_triage(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "rules", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	struct run r = { .dir = coll_default_dir(), .from = INT64_MIN, .to = INT64_MAX };
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			r.dir = optarg;
		else if (c == 'r')
			r.rules = optarg;
		else if (c == 'f')
			bad |= coll_parse_time(optarg, 0, &r.from) != 0;
		else if (c == 't')
			bad |= coll_parse_time(optarg, 0, &r.to) != 0;
		else
			bad = 1;
	}
	if (bad || optind != argc || !r.rules) {
		fprintf(stderr, "Usage: custos-collector triage [--dir DIR] --rules DIR "
			"[--from TIME] [--to TIME]\n");
		return COLL_EXIT_USAGE;
	}
	return run_triage(&r) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}

/* --- alerts ---------------------------------------------------------------- */

static int print_alert(void *ctx, const struct store_alert *a)
{
	const struct keystore *ks = ctx;
	const char *name = keystore_name(ks, a->host_id);
	char when[48], hash[2 * CUSTOS_HASH_LEN + 1];

	sodium_bin2hex(hash, sizeof(hash), a->batch_hash, sizeof(a->batch_hash));
	printf("%s %s %s \"%s\" rule=%s pid=%llu image=%s", coll_fmt_time(a->ts_wall_ns, 0, when,
	       sizeof(when)), name ? name : "?", sigma_level_name((enum sigma_level)a->severity),
	       a->title, a->rule_id, (unsigned long long)a->pid, a->image[0] ? a->image : "-");
	if (a->taxonomy[0] || a->article[0] || a->technique[0])
		printf(" taxonomy=%s article=%s technique=%s", a->taxonomy[0] ? a->taxonomy : "-",
		       a->article[0] ? a->article : "-", a->technique[0] ? a->technique : "-");
	printf(" ref=%llu:%s:%u", (unsigned long long)a->leaf, hash, a->rec_index);
	if (a->n_refs)	/* threshold and sequence rules: every record (corr.h) */
		printf(" group=\"%s\" records=%llu refs=", a->group ? a->group : "",
		       (unsigned long long)a->ref_total);
	for (size_t i = 0; i < a->n_refs; i++) {
		sodium_bin2hex(hash, sizeof(hash), a->refs[i].batch_hash, CUSTOS_HASH_LEN);
		printf("%s%llu:%s:%u", i ? "," : "", (unsigned long long)a->refs[i].leaf, hash,
		       a->refs[i].rec_index);
	}
	printf("\n");
	return 0;
}

static int list_alerts(const char *dir, const char *host)
{
	char path[COLL_PATH_MAX];
	uint8_t id[KEYS_SIGN_PK_LEN];
	struct keystore ks;
	struct store *s = NULL;
	size_t got;
	int ret = keystore_open(&ks, dir, 0), found = 0;

	if (ret)
		return ret;
	for (size_t i = 0; host && i < ks.count; i++)
		if (strcmp(ks.hosts[i].name, host) == 0) {
			memcpy(id, ks.hosts[i].pk.sign_pk, sizeof(id));
			found = 1;
		}
	if (host && !found && !(strlen(host) == 64 && sodium_hex2bin(id, sizeof(id), host, 64,
		   NULL, &got, NULL) == 0 && got == sizeof(id))) {
		coll_log("alerts: no host named '%s'", host);
		ret = -CUSTOS_ERR_INVAL;
	}
	if (!ret)
		ret = coll_path(path, dir, "index.sqlite");
	if (!ret)
		ret = store_open(path, 0, &s);
	if (!ret)
		ret = store_alerts(s, host ? id : NULL, print_alert, &ks);
	fflush(stdout);
	store_close(s);
	keystore_close(&ks);
	return ret;
}

int cmd_alerts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = coll_default_dir(), *host = NULL;
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'H')
			host = optarg;
		else
			bad = 1;
	}
	if (bad || optind != argc) {
		fprintf(stderr, "Usage: custos-collector alerts [--dir DIR] [--host NAME]\n");
		return COLL_EXIT_USAGE;
	}
	return list_alerts(dir, host) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
