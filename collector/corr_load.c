/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading Custos correlation rules (corr.h): one YAML document with the
 * Sigma-style metadata at the top level and one `custos_threshold:` or
 * `custos_sequence:` block, whose stages hold a Sigma detection compiled
 * by sigma_stage_load. Every key is known or the rule is refused with the
 * key and its line; numbers and durations are parsed with strtoull and
 * range-checked. Each file of a directory is read and parsed once
 * (sigma_doc_read) and its document handed to the loader its kind needs:
 * corr_rules_load_dir loads both kinds in one walk.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "corr.h"
#include "error.h"
#include "sigma_impl.h"

struct cl {
	yaml_document_t doc;
	struct corr_rule *r;
	char *reason;
};

static const char *const cat_names[CORR_CAT_COUNT] = {
	"process_creation", "file_event", "network_connection", "file_open", "network_attempt",
	"process_fork", "authentication" };
/* The Sigma category a stage's selection is compiled for. */
static const enum sigma_category cat_sigma[CORR_CAT_COUNT] = {
	SIGMA_CAT_PROCESS_CREATION, SIGMA_CAT_FILE_EVENT, SIGMA_CAT_NETWORK_CONNECTION,
	SIGMA_CAT_FILE_EVENT, SIGMA_CAT_NETWORK_CONNECTION, SIGMA_CAT_PROCESS_CREATION,
	SIGMA_CAT_PROCESS_CREATION };

const char *corr_kind_name(enum corr_kind k)
{
	return k == CORR_THRESHOLD ? "threshold" : k == CORR_SEQUENCE ? "sequence" : "?";
}

static int refuse(struct cl *l, yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct cl *l, yaml_node_t *at, const char *fmt, ...)
{
	char what[SIGMA_REASON_MAX - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (at)
		snprintf(l->reason, SIGMA_REASON_MAX, "line %zu: %s", at->start_mark.line + 1, what);
	else
		snprintf(l->reason, SIGMA_REASON_MAX, "%s", what);
	return 1;
}


/* The value of key in mapping node m of l's document, or NULL. */
static yaml_node_t *get(struct cl *l, yaml_node_t *m, const char *key)
{
	return sigma_yaml_get(&l->doc, m, key);
}

/* Refuse any key of map m not in known (NULL-terminated). */
static int only_keys(struct cl *l, yaml_node_t *m, const char *where, const char *const *known)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return refuse(l, m, "%s is not a map", where);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
		const char *k = sigma_yaml_scalar(kn);
		size_t i = 0;

		while (k && known[i] && strcmp(k, known[i]))
			i++;
		if (!k || !known[i])
			return refuse(l, kn, "unknown key '%.64s' in %s", k ? k : "?", where);
	}
	return 0;
}

/* A positive integer in [1, max]: digits only. */
static int number(struct cl *l, yaml_node_t *n, const char *what, uint64_t max, uint64_t *out)
{
	const char *s = sigma_yaml_scalar(n);
	char *end;

	if (!s)
		return refuse(l, n, "%s is missing or not a number", what);
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || *out < 1 || *out > max)
		return refuse(l, n, "%s '%.32s' is not a number from 1 to %llu", what, s,
			      (unsigned long long)max);
	return 0;
}

/* A duration: digits then ms, s, m or h; 1 ms to 24 h. */
static int duration(struct cl *l, yaml_node_t *n, const char *what, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ms", 1000000ull }, { "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull } };
	const char *s = sigma_yaml_scalar(n);
	char *end;
	uint64_t v;

	if (!s)
		return refuse(l, n, "%s is missing (a duration such as 10s, 5m)", what);
	errno = 0;
	v = strtoull(s, &end, 10);
	for (size_t i = 0; s[0] >= '0' && s[0] <= '9' && !errno && i < 4; i++)
		if (strcmp(end, units[i].unit) == 0 && v <= CORR_WINDOW_MAX_NS / units[i].ns) {
			*ns = v * units[i].ns;
			if (*ns >= 1000000ull && *ns <= CORR_WINDOW_MAX_NS)
				return 0;
		}
	return refuse(l, n, "%s '%.32s' is not a duration from 1ms to 24h (ms, s, m, h)", what, s);
}

static int field(struct cl *l, yaml_node_t *n, const char *what, int *f)
{
	const char *s = sigma_yaml_scalar(n);

	*f = s ? sigma_field_by_name(s) : -1;
	if (*f < 0)
		return refuse(l, n, "%s '%.64s' is not a Sigma field we map", what, s ? s : "");
	return 0;
}

/* Append node n of doc to out[*len..cap) as canonical text: a scalar as
 * its style, length and bytes, a sequence and a map as their items in
 * order. Returns 0, or -1 when it does not fit or is deeper than
 * SIGMA_DEPTH_MAX (no canonical text: the stage is not shared). */
static int canon(yaml_document_t *doc, yaml_node_t *n, char *out, size_t cap, size_t *len,
		 int depth)
{
	int w;

	if (!n || depth > SIGMA_DEPTH_MAX)
		return -1;
	if (n->type == YAML_SCALAR_NODE) {
		w = snprintf(out + *len, cap - *len, "s%d:%zu:", (int)n->data.scalar.style,
			     n->data.scalar.length);
		if (w < 0 || (size_t)w + n->data.scalar.length >= cap - *len)
			return -1;
		memcpy(out + *len + w, n->data.scalar.value, n->data.scalar.length);
		*len += (size_t)w + n->data.scalar.length;
		return 0;
	}
	if (cap - *len < 2)
		return -1;
	if (n->type == YAML_SEQUENCE_NODE) {
		out[(*len)++] = '[';
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++)
			if (canon(doc, yaml_document_get_node(doc, *i), out, cap, len, depth + 1))
				return -1;
	} else if (n->type == YAML_MAPPING_NODE) {
		out[(*len)++] = '{';
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++)
			if (canon(doc, yaml_document_get_node(doc, p->key), out, cap, len, depth + 1) ||
			    canon(doc, yaml_document_get_node(doc, p->value), out, cap, len, depth + 1))
				return -1;
	} else {
		return -1;
	}
	if (cap - *len < 2)
		return -1;
	out[(*len)++] = n->type == YAML_SEQUENCE_NODE ? ']' : '}';
	out[*len] = '\0';
	return 0;
}

/* The stage's canonical text (corr.h struct corr_stage): category,
 * process_connected and detection. Returns 0 or -CUSTOS_ERR_NOMEM; a
 * detection too large for it leaves st->canon NULL. */
static int stage_canon(struct cl *l, yaml_node_t *detection, struct corr_stage *st)
{
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof(text), "%d:%d:", (int)st->cat, st->connected);

	st->canon = NULL;
	if (canon(&l->doc, detection, text, sizeof(text), &len, 0))
		return 0;
	st->canon = strdup(text);
	return st->canon ? 0 : -CUSTOS_ERR_NOMEM;
}

/* A stage: category, detection, process_connected (keys checked by the
 * caller when check is 0: a threshold's stage shares its block). */
static int load_stage(struct cl *l, yaml_node_t *n, const char *where, int check,
		      struct corr_stage *st)
{
	static const char *const keys[] = { "category", "detection", "process_connected", NULL };
	char reason[SIGMA_REASON_MAX];
	const char *cat, *conn;
	int ret = check ? only_keys(l, n, where, keys) : 0;

	if (ret)
		return ret;
	cat = sigma_yaml_scalar(get(l, n, "category"));
	st->cat = CORR_CAT_COUNT;
	for (int c = 0; cat && c < CORR_CAT_COUNT; c++)
		if (strcmp(cat, cat_names[c]) == 0)
			st->cat = (enum corr_cat)c;
	if (st->cat == CORR_CAT_COUNT)
		return refuse(l, n, "%s: category '%.64s' is not one of process_creation, file_event, "
			      "network_connection, file_open, network_attempt, process_fork, authentication", where,
			      cat ? cat : "");
	conn = sigma_yaml_scalar(get(l, n, "process_connected"));
	if (conn && strcmp(conn, "true") && strcmp(conn, "false"))
		return refuse(l, get(l, n, "process_connected"), "process_connected is not true/false");
	st->connected = conn && strcmp(conn, "true") == 0;
	if (st->connected && st->cat != CORR_CAT_FILE_EVENT && st->cat != CORR_CAT_FILE_OPEN)
		return refuse(l, n, "%s: process_connected applies to file stages only", where);
	ret = sigma_stage_load(&l->doc, get(l, n, "detection"), cat_sigma[st->cat], &st->sel, reason);
	if (ret == 1)
		return refuse(l, n, "%s: %s", where, reason);
	return ret ? ret : stage_canon(l, get(l, n, "detection"), st);
}

static int load_threshold(struct cl *l, yaml_node_t *n)
{
	static const char *const keys[] = { "category", "detection", "group_by", "count", "window",
					    "distinct", "process_connected", NULL };
	struct corr_rule *r = l->r;
	yaml_node_t *g = get(l, n, "group_by"), *d = get(l, n, "distinct");
	const char *gs = sigma_yaml_scalar(g);
	int ret = only_keys(l, n, "custos_threshold", keys);

	if (!ret)
		ret = duration(l, get(l, n, "window"), "window", &r->window_ns);
	r->distinct = -1;
	if (!ret && d)
		ret = field(l, d, "distinct", &r->distinct);
	if (!ret)
		ret = number(l, get(l, n, "count"), "count",
			     d ? CORR_DISTINCT_MAX : CORR_COUNT_MAX, &r->count);
	if (!ret && !gs)
		ret = refuse(l, n, "%s", "group_by is missing (process, process_tree or a field)");
	if (!ret && strcmp(gs, "process") == 0)
		r->group = CORR_BY_PROCESS;
	else if (!ret && strcmp(gs, "process_tree") == 0)
		r->group = CORR_BY_TREE;
	else if (!ret) {
		r->group = CORR_BY_FIELD;
		ret = field(l, g, "group_by", &r->group_field);
	}
	/* The stage keys sit beside the threshold's own (one stage). */
	return ret ? ret : load_stage(l, n, "custos_threshold", 0, &r->stage[0]);
}

static int load_sequence(struct cl *l, yaml_node_t *n)
{
	static const char *const keys[] = { "scope", "within", "first", "then", NULL };
	struct corr_rule *r = l->r;
	const char *scope = sigma_yaml_scalar(get(l, n, "scope"));
	int ret = only_keys(l, n, "custos_sequence", keys);

	if (!ret)
		ret = duration(l, get(l, n, "within"), "within", &r->window_ns);
	if (!ret && scope && strcmp(scope, "process_tree") == 0)
		r->scope = CORR_SCOPE_TREE;
	else if (!ret && scope && strcmp(scope, "same_file") == 0)
		r->scope = CORR_SCOPE_FILE;
	else if (!ret)
		ret = refuse(l, n, "scope '%.32s' is not process_tree or same_file",
			     scope ? scope : "");
	if (!ret)
		ret = load_stage(l, get(l, n, "first"), "first", 1, &r->stage[0]);
	if (!ret)
		ret = load_stage(l, get(l, n, "then"), "then", 1, &r->stage[1]);
	if (!ret && r->scope == CORR_SCOPE_FILE &&
	    ((r->stage[0].cat != CORR_CAT_FILE_EVENT && r->stage[0].cat != CORR_CAT_FILE_OPEN) ||
	     r->stage[1].cat != CORR_CAT_PROCESS_CREATION))
		ret = refuse(l, n, "%s", "scope same_file needs a file stage first and "
			     "process_creation then");
	return ret;
}

static int meta(struct cl *l, yaml_node_t *root, const char *key, int required, char **out)
{
	yaml_node_t *n = get(l, root, key);
	const char *s = sigma_yaml_scalar(n);

	if (n && !s)
		return refuse(l, n, "%s is not a scalar", key);
	if (!s && required)
		return refuse(l, NULL, "%s is missing", key);
	*out = strdup(s ? s : "");
	return *out ? 0 : -CUSTOS_ERR_NOMEM;
}

static int load_root(struct cl *l, yaml_node_t *root)
{
	static const char *const keys[] = {
		"title", "id", "level", "status", "description", "author", "date", "modified",
		"references", "tags", "falsepositives", "custos_taxonomy", "custos_budapest_article",
		"custos_attack_technique", "custos_threshold", "custos_sequence", NULL };
	static const char *const levels[] = { "informational", "low", "medium", "high",
					      "critical" };
	struct corr_rule *r = l->r;
	yaml_node_t *th = get(l, root, "custos_threshold"), *sq = get(l, root, "custos_sequence");
	const char *level = sigma_yaml_scalar(get(l, root, "level"));
	int lv = -1, ret = only_keys(l, root, "the rule (logsource and detection belong in a stage)", keys);

	if (!ret && th && sq)
		ret = refuse(l, sq, "%s", "custos_threshold and custos_sequence in one rule");
	r->kind = th ? CORR_THRESHOLD : CORR_SEQUENCE;
	if (!ret)
		ret = meta(l, root, "id", 1, &r->id);
	if (!ret)
		ret = meta(l, root, "title", 1, &r->title);
	if (!ret)
		ret = meta(l, root, "custos_taxonomy", 0, &r->taxonomy);
	if (!ret)
		ret = meta(l, root, "custos_budapest_article", 0, &r->article);
	if (!ret)
		ret = meta(l, root, "custos_attack_technique", 0, &r->technique);
	for (int v = 0; level && v <= SIGMA_LEVEL_CRITICAL; v++)
		if (strcmp(level, levels[v]) == 0)
			lv = v;
	r->level = lv < 0 ? SIGMA_LEVEL_MEDIUM : (enum sigma_level)lv;
	if (!ret && lv < 0)
		ret = refuse(l, get(l, root, "level"), "level '%.32s' is not informational, low, "
			     "medium, high or critical", level ? level : "");
	if (!ret)
		ret = th ? load_threshold(l, th) : load_sequence(l, sq);
	return ret;
}

/* The rule of doc, a correlation document (SIGMA_DOC_THRESHOLD or
 * SIGMA_DOC_SEQUENCE), only read. Returns 0, 1 refused, -CUSTOS_ERR_NOMEM. */
static int rule_from_doc(yaml_document_t *doc, struct corr_rule **rule,
			 char reason[SIGMA_REASON_MAX])
{
	struct cl l = { .doc = *doc, .reason = reason };	/* read only: never deleted here */
	int ret;

	*rule = NULL;
	l.r = calloc(1, sizeof(*l.r));
	ret = l.r ? load_root(&l, yaml_document_get_root_node(doc)) : -CUSTOS_ERR_NOMEM;
	if (ret)
		corr_rule_free(l.r);
	else
		*rule = l.r;
	return ret;
}

int corr_rule_load(const char *text, size_t len, struct corr_rule **rule, enum corr_kind *kind,
		   char reason[SIGMA_REASON_MAX])
{
	enum sigma_doc_kind dk;
	yaml_document_t doc;
	int ret = sigma_doc_parse(text, len, &doc, &dk, reason);

	*rule = NULL;
	*kind = dk == SIGMA_DOC_SEQUENCE ? CORR_SEQUENCE : CORR_THRESHOLD;
	if (ret < 0)
		return ret;
	if (dk != SIGMA_DOC_THRESHOLD && dk != SIGMA_DOC_SEQUENCE) {
		if (!ret)
			yaml_document_delete(&doc);
		return 2;	/* a Sigma rule, or not YAML: sigma_set refuses it, with the line */
	}
	if (ret)
		return ret;	/* several documents */
	ret = rule_from_doc(&doc, rule, reason);
	yaml_document_delete(&doc);
	return ret;
}

void corr_rule_free(struct corr_rule *r)
{
	if (!r)
		return;
	sigma_rule_free(r->stage[0].sel);
	sigma_rule_free(r->stage[1].sel);
	free(r->stage[0].canon);
	free(r->stage[1].canon);
	free(r->id);
	free(r->title);
	free(r->taxonomy);
	free(r->article);
	free(r->technique);
	free(r);
}

/* --- a directory of rules ------------------------------------------------ */

typedef void (*report_fn)(void *ctx, const char *path, const char *reason);

/* Add to s what sigma_doc_read gave for path (ret, doc, kind, reason; a
 * correlation document). Returns 0 or -CUSTOS_ERR_NOMEM. */
static int take(struct corr_set *s, const char *path, int ret, yaml_document_t *doc,
		enum sigma_doc_kind dk, const char *reason, report_fn report, void *ctx)
{
	enum corr_kind kind = dk == SIGMA_DOC_SEQUENCE ? CORR_SEQUENCE : CORR_THRESHOLD;
	struct corr_rule *r = NULL, **nr;
	char why[SIGMA_REASON_MAX];

	snprintf(why, sizeof(why), "%s", reason);
	if (ret == 0)
		ret = rule_from_doc(doc, &r, why);
	if (ret == 1) {
		s->refused[kind]++;
		if (report)
			report(ctx, path, why);
		return 0;
	}
	if (ret)
		return ret;
	nr = realloc(s->rules, (s->n + 1) * sizeof(*nr));
	if (!nr) {
		corr_rule_free(r);
		return -CUSTOS_ERR_NOMEM;
	}
	s->rules = nr;
	s->rules[s->n++] = r;
	s->loaded[kind]++;
	return 0;
}

struct load_ctx {
	struct sigma_set *ss;	/* NULL: Sigma rules left alone */
	struct corr_set *cs;	/* NULL: correlation rules left alone */
	void (*sigma_report)(void *ctx, const char *path, enum sigma_category cat,
			     const char *reason);
	report_fn report;
	void *ctx;
};

/* One file, read and parsed once, to the loader its kind needs. */
static int load_path(void *ctx, const char *path)
{
	struct load_ctx *l = ctx;
	char reason[SIGMA_REASON_MAX];
	enum sigma_doc_kind kind;
	yaml_document_t doc;
	int ret = sigma_doc_read(path, &doc, &kind, reason), parsed = ret == 0;

	if (ret < 0)
		return ret;
	if (kind == SIGMA_DOC_NONE || kind == SIGMA_DOC_SIGMA)
		ret = l->ss ? sigma_set_take(l->ss, path, ret, &doc, reason, l->sigma_report,
					     l->ctx) : 0;
	else
		ret = l->cs ? take(l->cs, path, ret, &doc, kind, reason, l->report, l->ctx) : 0;
	if (parsed)
		yaml_document_delete(&doc);
	return ret;
}

int corr_set_load_dir(struct corr_set *s, const char *dir, report_fn report, void *ctx)
{
	struct load_ctx l = { NULL, s, NULL, report, ctx };

	return sigma_rule_files(dir, load_path, &l);
}

int corr_rules_load_dir(const char *dir, struct sigma_set *ss,
			void (*sigma_report)(void *ctx, const char *path, enum sigma_category cat,
					     const char *reason),
			struct corr_set *cs, report_fn report, void *ctx)
{
	struct load_ctx l = { ss, cs, sigma_report, report, ctx };

	return sigma_rule_files(dir, load_path, &l);
}

void corr_set_free(struct corr_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		corr_rule_free(s->rules[i]);
	free(s->rules);
	memset(s, 0, sizeof(*s));
}
