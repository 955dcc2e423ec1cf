/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading one Sigma rule (sigma.h) from YAML with libyaml's document API:
 * metadata, logsource (product linux; categories process_creation,
 * file_event, network_connection), the detection's selections compiled by
 * sigma_match.c, and the condition parsed by sigma_cond.c. Every refusal
 * names its reason; the caller prefixes the rule's file name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "error.h"
#include "sigma_impl.h"


static const char *const cat_names[] = { "process_creation", "file_event", "network_connection",
					 "custos_socket", "other" };
static const char *const level_names[] = { "informational", "low", "medium", "high",
					   "critical" };

const char *sigma_category_name(enum sigma_category c)
{
	return c <= SIGMA_CAT_OTHER ? cat_names[c] : "other";
}

const char *sigma_level_name(enum sigma_level l)
{
	return l <= SIGMA_LEVEL_CRITICAL ? level_names[l] : "?";
}

/* Load state: the document and where refusals go. */
struct ld {
	yaml_document_t doc;
	struct sigma_rule *r;
	char *reason;
};

static int refuse(struct ld *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct ld *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->reason, SIGMA_REASON_MAX, fmt, ap);
	va_end(ap);
	return 1;
}

const char *sigma_yaml_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *sigma_yaml_get(yaml_document_t *doc, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = sigma_yaml_scalar(yaml_document_get_node(doc, p->key));
		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}


static int is_null(yaml_node_t *n)
{
	const char *s = sigma_yaml_scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcasecmp(s, "null"));
}

/* The value of key in mapping node m of l's document, or NULL. */
static yaml_node_t *get(struct ld *l, yaml_node_t *m, const char *key)
{
	return sigma_yaml_get(&l->doc, m, key);
}

/* One "field|mods: value(s)" pair of a selection map. */
static int load_item(struct ld *l, struct sigma_item *it, const char *key, yaml_node_t *v)
{
	const char *vals[256];
	size_t n = 0;

	if (v->type == YAML_SCALAR_NODE) {
		vals[n++] = is_null(v) ? NULL : sigma_yaml_scalar(v);
	} else if (v->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
		     i++) {
			yaml_node_t *e = yaml_document_get_node(&l->doc, *i);
			if (!e || e->type != YAML_SCALAR_NODE)
				return refuse(l, "'%.64s' has a value that is not a scalar", key);
			if (n == sizeof(vals) / sizeof(vals[0]))
				return refuse(l, "'%.64s' has more than 256 values", key);
			vals[n++] = is_null(e) ? NULL : sigma_yaml_scalar(e);
		}
	} else {
		return refuse(l, "'%.64s' has a map as its value", key);
	}
	return sigma_item_compile(it, key, vals, n, l->reason);
}

static int load_map(struct ld *l, struct sigma_map *m, yaml_node_t *node)
{
	size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
	int ret = 0;

	m->items = calloc(n ? n : 1, sizeof(*m->items));
	if (!m->items)
		return -CUSTOS_ERR_NOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		yaml_node_pair_t *p = &node->data.mapping.pairs.start[i];
		const char *k = sigma_yaml_scalar(yaml_document_get_node(&l->doc, p->key));
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);

		if (!k || !v)
			return refuse(l, "%s", "a selection key is not a scalar");
		ret = load_item(l, &m->items[i], k, v);
		if (!ret)
			m->n++;
	}
	return ret;
}

static int load_sel(struct ld *l, struct sigma_sel *s, const char *name, yaml_node_t *v)
{
	size_t n;
	int ret = 0;

	s->name = strdup(name);
	if (!s->name)
		return -CUSTOS_ERR_NOMEM;
	if (v->type == YAML_MAPPING_NODE) {
		s->maps = calloc(1, sizeof(*s->maps));
		if (!s->maps)
			return -CUSTOS_ERR_NOMEM;
		s->n = 1;
		return load_map(l, &s->maps[0], v);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return refuse(l, "selection '%.64s' is a keyword search (not supported)", name);
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	s->maps = calloc(n ? n : 1, sizeof(*s->maps));
	if (!s->maps)
		return -CUSTOS_ERR_NOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		yaml_node_t *e = yaml_document_get_node(&l->doc, v->data.sequence.items.start[i]);
		if (!e || e->type != YAML_MAPPING_NODE)
			return refuse(l, "selection '%.64s' is a keyword search (not supported)", name);
		s->n++;
		ret = load_map(l, &s->maps[i], e);
	}
	return ret ? ret : (n ? 0 : refuse(l, "selection '%.64s' is empty", name));
}

/* The condition: a scalar, or a list of scalars (any one). */
static int load_cond(struct ld *l, yaml_node_t *c)
{
	const char *names[SIGMA_NODES_MAX];
	char text[4096];
	size_t len = 0;
	int ret;

	if (!c)
		return refuse(l, "%s", "the detection has no condition");
	if (l->r->n_sels > SIGMA_NODES_MAX)
		return refuse(l, "%s", "more than 256 selections");
	for (size_t i = 0; i < l->r->n_sels; i++)
		names[i] = l->r->sels[i].name;
	text[0] = '\0';
	if (c->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = c->data.sequence.items.start; i < c->data.sequence.items.top;
		     i++) {
			const char *s = sigma_yaml_scalar(yaml_document_get_node(&l->doc, *i));
			int w = snprintf(text + len, sizeof(text) - len, "%s(%s)", len ? " or " : "",
					 s ? s : "");
			if (!s || w < 0 || (size_t)w >= sizeof(text) - len)
				return refuse(l, "%s", "a condition list that is not short scalars");
			len += (size_t)w;
		}
	} else if (!sigma_yaml_scalar(c) || strlen(sigma_yaml_scalar(c)) >= sizeof(text)) {
		return refuse(l, "%s", "the condition is not a short scalar");
	} else {
		strcpy(text, sigma_yaml_scalar(c));
	}
	ret = sigma_cond_parse(text, names, l->r->n_sels, &l->r->cond, l->reason);
	return ret;
}

static int load_detection(struct ld *l, yaml_node_t *d)
{
	yaml_node_t *cond = NULL;
	size_t n;
	int ret = 0;

	if (!d || d->type != YAML_MAPPING_NODE)
		return refuse(l, "%s", "no detection map");
	n = (size_t)(d->data.mapping.pairs.top - d->data.mapping.pairs.start);
	l->r->sels = calloc(n ? n : 1, sizeof(*l->r->sels));
	if (!l->r->sels)
		return -CUSTOS_ERR_NOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		yaml_node_pair_t *p = &d->data.mapping.pairs.start[i];
		const char *k = sigma_yaml_scalar(yaml_document_get_node(&l->doc, p->key));
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);

		if (!k || !v)
			return refuse(l, "%s", "a detection key is not a scalar");
		if (strcmp(k, "condition") == 0) {
			cond = v;
		} else if (strcmp(k, "timeframe") == 0) {
			return refuse(l, "%s", "timeframe (correlation) is not supported");
		} else {
			l->r->n_sels++;
			ret = load_sel(l, &l->r->sels[l->r->n_sels - 1], k, v);
		}
	}
	return ret ? ret : load_cond(l, cond);
}

static int load_meta(struct ld *l, yaml_node_t *root, enum sigma_category *cat)
{
	static const char *const known[] = { "title", "id", "level", "logsource", "detection" };
	yaml_node_t *ls = get(l, root, "logsource");
	const char *product = sigma_yaml_scalar(get(l, ls, "product"));
	const char *category = sigma_yaml_scalar(get(l, ls, "category"));
	const char *level = sigma_yaml_scalar(get(l, root, "level"));
	const char *title = sigma_yaml_scalar(get(l, root, "title"));
	const char *id = sigma_yaml_scalar(get(l, root, "id"));
	struct sigma_rule *r = l->r;

	r->title = strdup(title ? title : "");
	r->id = strdup(id ? id : "");
	if (!r->title || !r->id)
		return -CUSTOS_ERR_NOMEM;
	r->cat = SIGMA_CAT_OTHER;
	for (int c = 0; category && c < SIGMA_CAT_COUNT; c++)
		if (strcmp(category, cat_names[c]) == 0)
			r->cat = (enum sigma_category)c;
	*cat = r->cat;
	if (!product || strcmp(product, "linux") != 0)
		return refuse(l, "logsource product '%.64s' is not linux", product ? product : "");
	if (r->cat == SIGMA_CAT_OTHER)
		return refuse(l, "logsource category '%.64s' is not supported",
			      category ? category : (sigma_yaml_scalar(get(l, ls, "service")) ?
						     sigma_yaml_scalar(get(l, ls, "service")) : ""));
	if (get(l, ls, "service"))
		return refuse(l, "logsource service '%.64s' is not supported",
			      sigma_yaml_scalar(get(l, ls, "service")) ? sigma_yaml_scalar(get(l, ls, "service")) : "");
	r->level = SIGMA_LEVEL_MEDIUM;
	for (int v = 0; level && v <= SIGMA_LEVEL_CRITICAL; v++)
		if (strcmp(level, level_names[v]) == 0)
			r->level = (enum sigma_level)v;
	/* Other top-level scalars: custom fields (our pack's taxonomy). */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top && r->n_custom < SIGMA_CUSTOM_MAX; p++) {
		const char *k = sigma_yaml_scalar(yaml_document_get_node(&l->doc, p->key));
		const char *v = sigma_yaml_scalar(yaml_document_get_node(&l->doc, p->value));
		size_t i = 0;

		while (k && i < sizeof(known) / sizeof(known[0]) && strcmp(k, known[i]))
			i++;
		if (!k || !v || i < sizeof(known) / sizeof(known[0]))
			continue;
		r->ckey[r->n_custom] = strdup(k);
		r->cval[r->n_custom] = strdup(v);
		if (!r->ckey[r->n_custom++] || !r->cval[r->n_custom - 1])
			return -CUSTOS_ERR_NOMEM;
	}
	return 0;
}

int sigma_doc_parse(const char *text, size_t len, yaml_document_t *doc, enum sigma_doc_kind *kind,
		    char reason[SIGMA_REASON_MAX])
{
	struct ld l = { .reason = reason };
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	int ret = 1;

	*kind = SIGMA_DOC_NONE;
	reason[0] = '\0';
	if (!yaml_parser_initialize(&parser))
		return -CUSTOS_ERR_NOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		snprintf(reason, SIGMA_REASON_MAX, "YAML error at line %zu: %s",
			 parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		return 1;
	}
	root = yaml_document_get_root_node(&l.doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		snprintf(reason, SIGMA_REASON_MAX, "not a YAML map");
		goto out;
	}
	*kind = get(&l, root, "custos_threshold") ? SIGMA_DOC_THRESHOLD :
		get(&l, root, "custos_sequence") ? SIGMA_DOC_SEQUENCE : SIGMA_DOC_SIGMA;
	ret = 0;
	if (yaml_parser_load(&parser, &extra)) {
		int more = yaml_document_get_root_node(&extra) != NULL;

		yaml_document_delete(&extra);
		if (more) {
			snprintf(reason, SIGMA_REASON_MAX, "multi-document rule files are not supported");
			ret = 1;
		}
	}
out:
	if (ret)
		yaml_document_delete(&l.doc);
	else
		*doc = l.doc;
	yaml_parser_delete(&parser);
	return ret;
}

int sigma_rule_from_doc(yaml_document_t *doc, struct sigma_rule **rule, enum sigma_category *cat,
			char reason[SIGMA_REASON_MAX])
{
	struct ld l = { .doc = *doc, .reason = reason };	/* read only: never deleted here */
	int ret;

	*rule = NULL;
	*cat = SIGMA_CAT_OTHER;
	reason[0] = '\0';
	l.r = calloc(1, sizeof(*l.r));
	if (!l.r)
		return -CUSTOS_ERR_NOMEM;
	ret = load_meta(&l, yaml_document_get_root_node(doc), cat);
	if (!ret)
		ret = load_detection(&l, get(&l, yaml_document_get_root_node(doc), "detection"));
	if (ret)
		sigma_rule_free(l.r);
	else
		*rule = l.r;
	return ret;
}

int sigma_rule_load(const char *text, size_t len, const char *name, struct sigma_rule **rule,
		    enum sigma_category *cat, char reason[SIGMA_REASON_MAX])
{
	enum sigma_doc_kind kind;
	yaml_document_t doc;
	int corr, ret;

	(void)name;
	*rule = NULL;
	*cat = SIGMA_CAT_OTHER;
	ret = sigma_doc_parse(text, len, &doc, &kind, reason);
	corr = kind == SIGMA_DOC_THRESHOLD || kind == SIGMA_DOC_SEQUENCE;
	if (corr)
		reason[0] = '\0';
	if (ret)	/* a correlation rule's refusal is corr_load.c's to count */
		return ret < 0 ? ret : corr ? 2 : 1;
	ret = corr ? 2 : sigma_rule_from_doc(&doc, rule, cat, reason);
	yaml_document_delete(&doc);
	return ret;
}

int sigma_stage_load(yaml_document_t *doc, yaml_node_t *detection, enum sigma_category cat,
		     struct sigma_rule **rule, char reason[SIGMA_REASON_MAX])
{
	struct ld l = { .doc = *doc, .reason = reason };	/* read only: never deleted here */
	int ret;

	*rule = NULL;
	reason[0] = '\0';
	l.r = calloc(1, sizeof(*l.r));
	if (!l.r)
		return -CUSTOS_ERR_NOMEM;
	l.r->cat = cat;
	l.r->level = SIGMA_LEVEL_MEDIUM;
	l.r->id = strdup("");
	l.r->title = strdup("");
	ret = l.r->id && l.r->title ? load_detection(&l, detection) : -CUSTOS_ERR_NOMEM;
	if (ret)
		sigma_rule_free(l.r);
	else
		*rule = l.r;
	return ret;
}

void sigma_rule_free(struct sigma_rule *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_sels; i++) {
		for (size_t m = 0; m < r->sels[i].n; m++) {
			for (size_t k = 0; k < r->sels[i].maps[m].n; k++)
				sigma_item_free(&r->sels[i].maps[m].items[k]);
			free(r->sels[i].maps[m].items);
		}
		free(r->sels[i].maps);
		free(r->sels[i].name);
	}
	for (size_t i = 0; i < r->n_custom; i++) {
		free(r->ckey[i]);
		free(r->cval[i]);
	}
	free(r->sels);
	sigma_cond_free(r->cond);
	free(r->id);
	free(r->title);
	free(r);
}

const char *sigma_rule_id(const struct sigma_rule *r) { return r->id; }
const char *sigma_rule_title(const struct sigma_rule *r) { return r->title; }
enum sigma_category sigma_rule_category(const struct sigma_rule *r) { return r->cat; }
enum sigma_level sigma_rule_level(const struct sigma_rule *r) { return r->level; }

const char *sigma_rule_custom(const struct sigma_rule *r, const char *key)
{
	for (size_t i = 0; i < r->n_custom; i++)
		if (strcmp(r->ckey[i], key) == 0)
			return r->cval[i];
	return "";
}

static int sel_match(const struct sigma_sel *s, const struct sigma_event *ev)
{
	for (size_t m = 0; m < s->n; m++) {
		size_t k = 0;

		while (k < s->maps[m].n && sigma_item_match(&s->maps[m].items[k], ev))
			k++;
		if (k == s->maps[m].n)
			return 1;
	}
	return 0;
}

struct match_ctx {
	const struct sigma_rule *r;
	const struct sigma_event *ev;
};

static int sel_value(const void *ctx, size_t i)
{
	const struct match_ctx *c = ctx;

	return sel_match(&c->r->sels[i], c->ev);
}

int sigma_rule_match(const struct sigma_rule *r, const struct sigma_event *ev)
{
	struct match_ctx c = { r, ev };

	if (ev->cat != r->cat)
		return 0;
	return sigma_cond_eval(r->cond, sel_value, &c);
}
