/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inside of a compiled Sigma rule, shared by sigma_load.c (which
 * builds it), sigma_match.c (which compiles values and matches them) and
 * sigma_index.c (which indexes rules by category and literals, with
 * sigma_substr.c).
 * Not for other modules: they use sigma.h (corr_load.c, which compiles
 * the stages of correlation rules, uses sigma_stage_load).
 */
#ifndef CUSTOS_COLL_SIGMA_IMPL_H
#define CUSTOS_COLL_SIGMA_IMPL_H

#include <regex.h>
#include <yaml.h>

#include "sigma.h"

/* How a value matches. */
enum sigma_vkind {
	SIGMA_V_GLOB,		/* case-insensitive, '*' and '?' wildcards */
	SIGMA_V_RE,		/* POSIX ERE */
	SIGMA_V_CIDR,
	SIGMA_V_NULL,		/* the field is absent */
};

/* The shape of a GLOB pattern, compiled at load (sigma_glob_compile):
 * a literal alone, or after or before stars, matched by comparing bytes;
 * any other pattern ('?', a star inside) by sigma_glob. */
enum sigma_gshape {
	SIGMA_G_GENERAL, SIGMA_G_EXACT, SIGMA_G_PREFIX, SIGMA_G_SUFFIX, SIGMA_G_CONTAINS,
};

struct sigma_value {
	enum sigma_vkind kind;
	char *pat;		/* GLOB: the pattern, escapes resolved to "\x" pairs */
	enum sigma_gshape shape;	/* GLOB */
	char *lit;		/* GLOB, not GENERAL: the literal, lower case (owned) */
	size_t lit_len;
	regex_t re;		/* RE */
	int family;		/* CIDR: AF_INET, AF_INET6 */
	uint8_t net[16];
	unsigned prefix;
};

/* field|modifiers: values. Matches when any value matches, or all with
 * the "all" modifier. */
struct sigma_item {
	int field;
	int all;
	size_t n;
	struct sigma_value *v;
};

/* One map: all its items must match. */
struct sigma_map {
	size_t n;
	struct sigma_item *items;
};

/* A selection: a map, or a list of maps (any one matches). */
struct sigma_sel {
	char *name;
	size_t n;
	struct sigma_map *maps;
};

#define SIGMA_CUSTOM_MAX 32

/* A compiled rule (sigma_load.c builds it; sigma_index.c reads its
 * selections to index it). */
struct sigma_rule {
	char *id, *title;
	enum sigma_category cat;
	enum sigma_level level;
	struct sigma_sel *sels;
	size_t n_sels;
	struct sigma_cond *cond;
	char *ckey[SIGMA_CUSTOM_MAX], *cval[SIGMA_CUSTOM_MAX];
	size_t n_custom;
};

/* Compile the values of one "field|mods" key. vals: the YAML scalars (NULL
 * for a null). OUT: *it. Returns 0, 1 refused (reason), -CUSTOS_ERR_NOMEM. */
int sigma_item_compile(struct sigma_item *it, const char *key, const char *const *vals,
		       size_t n, char reason[SIGMA_REASON_MAX]);
void sigma_item_free(struct sigma_item *it);
int sigma_item_match(const struct sigma_item *it, const struct sigma_event *ev);

/* --- one parse of a rule file for both loaders ------------------------- */
/* What a rule file's document is: not a YAML map (or not YAML), a Sigma
 * rule, or a correlation rule (a top-level custos_threshold or
 * custos_sequence: corr.h). */
enum sigma_doc_kind {
	SIGMA_DOC_NONE, SIGMA_DOC_SIGMA, SIGMA_DOC_THRESHOLD, SIGMA_DOC_SEQUENCE,
};

/* A scalar node's text; NULL for NULL or any other node. (sigma_load.c) */
const char *sigma_yaml_scalar(yaml_node_t *n);
/* The value of key (a scalar) in mapping node m of doc; NULL when m is
 * NULL or not a mapping, or has no such key. (sigma_load.c) */
yaml_node_t *sigma_yaml_get(yaml_document_t *doc, yaml_node_t *m, const char *key);

/* Parse text, which must hold one YAML document whose root is a map.
 * OUT: *doc (the caller deletes it with yaml_document_delete) when 0 is
 * returned; *kind in every case (SIGMA_DOC_NONE when it is not YAML or
 * not a map). Returns 0, 1 refused (reason: the YAML error and its line,
 * not a map, several documents), or -CUSTOS_ERR_NOMEM. (sigma_load.c) */
int sigma_doc_parse(const char *text, size_t len, yaml_document_t *doc, enum sigma_doc_kind *kind,
		    char reason[SIGMA_REASON_MAX]);
/* Read the file at path (at most SIGMA_FILE_MAX bytes) and parse it as
 * sigma_doc_parse does; an unreadable or larger file is refused (1, kind
 * SIGMA_DOC_NONE). (sigma_set.c) */
int sigma_doc_read(const char *path, yaml_document_t *doc, enum sigma_doc_kind *kind,
		   char reason[SIGMA_REASON_MAX]);
/* Compile the Sigma rule of doc (a SIGMA_DOC_SIGMA document, only read).
 * OUT: *rule on success; else reason and *cat as sigma_rule_load's.
 * Returns 0, 1 refused, -CUSTOS_ERR_NOMEM. (sigma_load.c) */
int sigma_rule_from_doc(yaml_document_t *doc, struct sigma_rule **rule, enum sigma_category *cat,
			char reason[SIGMA_REASON_MAX]);
/* Add to s what sigma_doc_read gave for path (ret, doc, reason; kind
 * SIGMA_DOC_NONE or SIGMA_DOC_SIGMA): the rule, or a refusal counted per
 * category and passed to report(ctx, ...). Returns 0 or
 * -CUSTOS_ERR_NOMEM. (sigma_set.c) */
int sigma_set_take(struct sigma_set *s, const char *path, int ret, yaml_document_t *doc,
		   const char *reason,
		   void (*report)(void *ctx, const char *path, enum sigma_category cat,
				  const char *reason), void *ctx);

/* Compile a Sigma detection map of a correlation rule's stage (corr.h),
 * node of doc, as a rule of category cat with no metadata. OUT: *rule.
 * Returns 0, 1 refused (reason), -CUSTOS_ERR_NOMEM. */
int sigma_stage_load(yaml_document_t *doc, yaml_node_t *detection, enum sigma_category cat,
		     struct sigma_rule **rule, char reason[SIGMA_REASON_MAX]);

/* ASCII lower case: what tolower gives in the C locale the collector
 * runs in, without a call per byte (sigma_glob and sigma_index.c). */
static inline unsigned char sigma_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Case-insensitive glob (sigma_value GLOB patterns). 1 on match. */
int sigma_glob(const char *pat, const char *s);
/* Set v->shape and v->lit from v->pat (GLOB). Returns 0 or
 * -CUSTOS_ERR_NOMEM. */
int sigma_glob_compile(struct sigma_value *v);
/* What sigma_glob(v->pat, s) gives, through v's shape; *slen: strlen(s),
 * or SIZE_MAX until known (computed at most once across calls). */
int sigma_value_glob(const struct sigma_value *v, const char *s, size_t *slen);

/* --- sigma_substr.c: the rule index's substring keys --------------------- */
/* A table of literals, each required in one field and filed under an id
 * (the index's clause parts), and a one-pass scan of a field for all of
 * them. */
struct sigma_substr;

/* OUT: *t, room for max_keys literals. Returns 0 or -CUSTOS_ERR_NOMEM. */
int sigma_substr_new(size_t max_keys, struct sigma_substr **t);
void sigma_substr_free(struct sigma_substr *t);	/* accepts NULL */
/* File lit[0..len) (compared case-insensitively) as required in field,
 * under id. Returns 0, -CUSTOS_ERR_INVAL (empty, longer than 65535 bytes, a
 * bad field, past max_keys), -CUSTOS_ERR_NOMEM. */
int sigma_substr_add(struct sigma_substr *t, int field, const char *lit, size_t len,
		     size_t id);
/* Non-zero when some literal is filed under field. */
unsigned sigma_substr_fields(const struct sigma_substr *t, int field);
/* Which ids a lookup met: mark[id] == gen, and each such id once in
 * hit[0..n_hit) (room for every id). */
struct sigma_marks {
	uint32_t *mark, gen;
	uint32_t *hit;
	size_t n_hit;
};
/* For every id one of whose literals for field occurs in s (NUL-terminated;
 * NULL: none) and not marked yet: set m->mark[id] = m->gen and list it in
 * m->hit. */
void sigma_substr_scan(const struct sigma_substr *t, int field, const char *s,
		       struct sigma_marks *m);

#endif
