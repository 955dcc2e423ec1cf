/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A set of Sigma rules loaded from a directory tree (sigma.h): every
 * *.yml / *.yaml file is read (bounded size) and parsed once
 * (sigma_doc_read, which corr_load.c's loader of both kinds shares), then
 * loaded or refused with its reason passed to the caller, and counted per
 * category.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "sigma_impl.h"

typedef void (*report_fn)(void *ctx, const char *path, enum sigma_category cat,
			  const char *reason);

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	int ret = -CUSTOS_ERR_IO;

	if (!f)
		return ret;
	buf = malloc(SIGMA_FILE_MAX + 1);
	if (!buf) {
		ret = -CUSTOS_ERR_NOMEM;
		goto out;
	}
	n = fread(buf, 1, SIGMA_FILE_MAX + 1, f);
	if (ferror(f) || n > SIGMA_FILE_MAX)
		goto out;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

static int has_ext(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

int sigma_doc_read(const char *path, yaml_document_t *doc, enum sigma_doc_kind *kind,
		   char reason[SIGMA_REASON_MAX])
{
	char *text = NULL;
	size_t len = 0;
	int ret = read_file(path, &text, &len);

	*kind = SIGMA_DOC_NONE;
	if (ret == -CUSTOS_ERR_IO) {
		snprintf(reason, SIGMA_REASON_MAX, "unreadable or larger than %u bytes",
			 SIGMA_FILE_MAX);
		return 1;
	}
	if (!ret)
		ret = sigma_doc_parse(text, len, doc, kind, reason);
	free(text);
	return ret;
}

int sigma_set_take(struct sigma_set *s, const char *path, int ret, yaml_document_t *doc,
		   const char *reason, report_fn report, void *ctx)
{
	struct sigma_rule *r = NULL, **nr;
	enum sigma_category cat = SIGMA_CAT_OTHER;
	char why[SIGMA_REASON_MAX];

	snprintf(why, sizeof(why), "%s", reason);
	if (ret == 0)
		ret = sigma_rule_from_doc(doc, &r, &cat, why);
	if (ret == 1) {
		s->refused[cat]++;
		if (report)
			report(ctx, path, cat, why);
		return 0;
	}
	if (ret)
		return ret;
	nr = realloc(s->rules, (s->n + 1) * sizeof(*nr));
	if (!nr) {
		sigma_rule_free(r);
		return -CUSTOS_ERR_NOMEM;
	}
	s->rules = nr;
	s->rules[s->n++] = r;
	s->loaded[cat]++;
	return 0;
}

/* One file for the Sigma loader alone (correlation rules left alone). */
static int load_one(struct sigma_set *s, const char *path, report_fn report, void *ctx)
{
	char reason[SIGMA_REASON_MAX];
	enum sigma_doc_kind kind;
	yaml_document_t doc;
	int ret = sigma_doc_read(path, &doc, &kind, reason), parsed = ret == 0;

	if (ret < 0)
		return ret;
	ret = kind == SIGMA_DOC_NONE || kind == SIGMA_DOC_SIGMA ?
	      sigma_set_take(s, path, ret, &doc, reason, report, ctx) : 0;
	if (parsed)
		yaml_document_delete(&doc);
	return ret;
}

static int walk(const char *dir, int depth, int (*fn)(void *ctx, const char *path), void *ctx)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), ret = 0;

	if (n < 0)
		return -CUSTOS_ERR_IO;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		const char *name = ents[i]->d_name;

		if (!ret && name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) &&
		    stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < SIGMA_DIR_DEPTH_MAX)
				ret = walk(path, depth + 1, fn, ctx);
			else if (S_ISREG(st.st_mode) && has_ext(name))
				ret = fn(ctx, path);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int sigma_rule_files(const char *dir, int (*fn)(void *ctx, const char *path), void *ctx)
{
	return walk(dir, 0, fn, ctx);
}

struct load_ctx {
	struct sigma_set *s;
	report_fn report;
	void *ctx;
};

static int load_path(void *ctx, const char *path)
{
	struct load_ctx *l = ctx;

	return load_one(l->s, path, l->report, l->ctx);
}

int sigma_set_load_dir(struct sigma_set *s, const char *dir, report_fn report, void *ctx)
{
	struct load_ctx l = { s, report, ctx };

	return sigma_rule_files(dir, load_path, &l);
}

void sigma_set_free(struct sigma_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		sigma_rule_free(s->rules[i]);
	free(s->rules);
	memset(s, 0, sizeof(*s));
}
