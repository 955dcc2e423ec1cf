/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sigma conditions (sigma.h): a tokenizer and a bounded recursive-descent
 * parser into a flat AST, and its evaluation. Grammar (lowest binding
 * first):
 *   expr   := term ("or" term)*
 *   term   := factor ("and" factor)*
 *   factor := "not" factor | "(" expr ")" | quant | NAME
 *   quant  := ("1" | "all") "of" (PATTERN | "them")
 * A PATTERN is a selection name with "*" wildcards; "them" is every
 * selection whose name does not begin with "_". Quantifiers are expanded
 * at parse time into the list of selections they cover.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sigma.h"

enum node_op { OP_SEL, OP_AND, OP_OR, OP_NOT, OP_ONE_OF, OP_ALL_OF };

struct node {
	enum node_op op;
	int a, b;		/* children (node indices), -1 when none */
	size_t sel;		/* OP_SEL */
	size_t first, count;	/* OP_*_OF: range in sigma_cond.members */
};

struct sigma_cond {
	struct node nodes[SIGMA_NODES_MAX];
	size_t n;
	int root;
	size_t *members;
	size_t n_members;
};

#define TOK_MAX 128

struct parser {
	const char *s;
	size_t pos, len;
	char tok[TOK_MAX];
	int depth;
	const char *const *sel;
	size_t n_sel;
	struct sigma_cond *c;
	char *reason;
	int err;		/* 0, 1 refused, -CUSTOS_ERR_NOMEM */
};

static void refuse(struct parser *p, const char *what)
{
	if (!p->err) {
		snprintf(p->reason, SIGMA_REASON_MAX, "condition at offset %zu: %s", p->pos, what);
		p->err = 1;
	}
}

/* Read the next token into p->tok without consuming it. */
static void peek(struct parser *p, size_t *end)
{
	size_t i = p->pos, n = 0;

	while (i < p->len && isspace((unsigned char)p->s[i]))
		i++;
	if (i < p->len && (p->s[i] == '(' || p->s[i] == ')' || p->s[i] == '|')) {
		p->tok[n++] = p->s[i++];
	} else {
		while (i < p->len && !isspace((unsigned char)p->s[i]) && p->s[i] != '(' &&
		       p->s[i] != ')' && p->s[i] != '|') {
			if (n + 1 >= TOK_MAX) {
				refuse(p, "a name longer than 127 bytes");
				break;
			}
			p->tok[n++] = p->s[i++];
		}
	}
	p->tok[n] = '\0';
	*end = i;
}

static int accept(struct parser *p, const char *word)
{
	size_t end;

	peek(p, &end);
	if (strcasecmp(p->tok, word) != 0)
		return 0;
	p->pos = end;
	return 1;
}

static int new_node(struct parser *p, enum node_op op, int a, int b)
{
	struct node *nd;

	if (p->c->n >= SIGMA_NODES_MAX) {
		refuse(p, "more than 256 nodes");
		return -1;
	}
	nd = &p->c->nodes[p->c->n];
	memset(nd, 0, sizeof(*nd));
	nd->op = op;
	nd->a = a;
	nd->b = b;
	return (int)p->c->n++;
}

static int expr(struct parser *p);

static int quantifier(struct parser *p, enum node_op op)
{
	size_t end, first = p->c->n_members;
	size_t *m;
	int id, them;

	if (!accept(p, "of")) {
		refuse(p, "expected 'of' after a quantifier");
		return -1;
	}
	peek(p, &end);
	if (!p->tok[0] || strchr("()|", p->tok[0])) {
		refuse(p, "expected a selection pattern or 'them' after 'of'");
		return -1;
	}
	p->pos = end;
	them = strcmp(p->tok, "them") == 0;
	m = realloc(p->c->members, (p->c->n_members + p->n_sel + 1) * sizeof(*m));
	if (!m) {
		p->err = -CUSTOS_ERR_NOMEM;
		return -1;
	}
	p->c->members = m;
	for (size_t i = 0; i < p->n_sel; i++)
		if (them ? p->sel[i][0] != '_' : fnmatch(p->tok, p->sel[i], 0) == 0)
			m[p->c->n_members++] = i;
	if (p->c->n_members == first) {
		refuse(p, "a quantifier pattern matching no selection");
		return -1;
	}
	id = new_node(p, op, -1, -1);
	if (id >= 0) {
		p->c->nodes[id].first = first;
		p->c->nodes[id].count = p->c->n_members - first;
	}
	return id;
}

static int factor(struct parser *p)
{
	size_t end;
	int a;

	if (++p->depth > SIGMA_DEPTH_MAX) {
		refuse(p, "nested deeper than 32");
		return -1;
	}
	if (accept(p, "not")) {
		a = factor(p);
		a = a < 0 ? -1 : new_node(p, OP_NOT, a, -1);
	} else if (accept(p, "(")) {
		a = expr(p);
		if (a >= 0 && !accept(p, ")")) {
			refuse(p, "expected ')'");
			a = -1;
		}
	} else if (accept(p, "1")) {
		a = quantifier(p, OP_ONE_OF);
	} else if (accept(p, "all")) {
		a = quantifier(p, OP_ALL_OF);
	} else {
		peek(p, &end);
		a = -1;
		if (!p->tok[0] || strchr("()|", p->tok[0])) {
			refuse(p, p->tok[0] == '|' ? "aggregations ('|') are not supported" :
				  "expected a selection name");
			p->depth--;
			return -1;
		}
		for (size_t i = 0; i < p->n_sel; i++)
			if (strcmp(p->tok, p->sel[i]) == 0) {
				a = new_node(p, OP_SEL, -1, -1);
				if (a >= 0)
					p->c->nodes[a].sel = i;
				break;
			}
		if (a < 0 && !p->err)
			refuse(p, "a name that is no selection of the rule");
		p->pos = end;
	}
	p->depth--;
	return a;
}

static int binary(struct parser *p, const char *word, enum node_op op,
		  int (*sub)(struct parser *))
{
	int a = sub(p), b;

	while (a >= 0 && accept(p, word)) {
		b = sub(p);
		a = b < 0 ? -1 : new_node(p, op, a, b);
	}
	return a;
}

static int term(struct parser *p)
{
	return binary(p, "and", OP_AND, factor);
}

static int expr(struct parser *p)
{
	return binary(p, "or", OP_OR, term);
}

int sigma_cond_parse(const char *text, const char *const *sel, size_t n, struct sigma_cond **c,
		     char reason[SIGMA_REASON_MAX])
{
	struct parser p = { .s = text, .len = strlen(text), .sel = sel, .n_sel = n,
			    .reason = reason };
	size_t end;
	int root;

	*c = NULL;
	p.c = calloc(1, sizeof(*p.c));
	if (!p.c)
		return -CUSTOS_ERR_NOMEM;
	root = expr(&p);
	if (root >= 0) {
		peek(&p, &end);
		if (p.tok[0])
			refuse(&p, p.tok[0] == '|' ? "aggregations ('|') are not supported" :
				   "unexpected text after the expression");
	}
	if (p.err || root < 0) {
		if (!p.err)
			refuse(&p, "empty condition");
		sigma_cond_free(p.c);
		return p.err;
	}
	p.c->root = root;
	*c = p.c;
	return 0;
}

void sigma_cond_free(struct sigma_cond *c)
{
	if (!c)
		return;
	free(c->members);
	free(c);
}

/* Children always have smaller indices than their parent (they are built
 * first), so recursion depth is bounded by the parser's depth bound. */
static int eval(const struct sigma_cond *c, int i, int (*v)(const void *, size_t), const void *ctx)
{
	const struct node *nd = &c->nodes[i];

	switch (nd->op) {
	case OP_SEL:
		return v(ctx, nd->sel);
	case OP_AND:
		return eval(c, nd->a, v, ctx) && eval(c, nd->b, v, ctx);
	case OP_OR:
		return eval(c, nd->a, v, ctx) || eval(c, nd->b, v, ctx);
	case OP_NOT:
		return !eval(c, nd->a, v, ctx);
	case OP_ONE_OF:
		for (size_t k = 0; k < nd->count; k++)
			if (v(ctx, c->members[nd->first + k]))
				return 1;
		return 0;
	case OP_ALL_OF:
		for (size_t k = 0; k < nd->count; k++)
			if (!v(ctx, c->members[nd->first + k]))
				return 0;
		return 1;
	}
	return 0;
}

int sigma_cond_eval(const struct sigma_cond *c, int (*sel_value)(const void *ctx, size_t i),
		    const void *ctx)
{
	return eval(c, c->root, sel_value, ctx);
}

/* --- a necessary condition, for the rule index (sigma_index.c) ----------- */

struct need_ctx {
	const struct sigma_cond *c;
	size_t n_sel;
	int (*usable)(const void *, size_t);
	const void *ctx;
};

static size_t count_set(const unsigned char *in, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += in[i] != 0;
	return k;
}

/* Mark in out[] a set S of usable selections, some of which is true
 * whenever node i is: 1, 0 when there is none, -CUSTOS_ERR_NOMEM. */
static int need(const struct need_ctx *x, int i, unsigned char *out)
{
	const struct node *nd = &x->c->nodes[i];
	unsigned char *ta = NULL, *tb = NULL;
	int ra, rb, ret = 0;

	switch (nd->op) {
	case OP_SEL:
		return x->usable(x->ctx, nd->sel) ? (out[nd->sel] = 1) : 0;
	case OP_NOT:
		return 0;
	case OP_OR:	/* either side may be the true one: both, united */
		ra = need(x, nd->a, out);
		return ra == 1 ? need(x, nd->b, out) : ra;
	case OP_ONE_OF:
		for (size_t k = 0; k < nd->count; k++)
			if (!x->usable(x->ctx, x->c->members[nd->first + k]))
				return 0;
		for (size_t k = 0; k < nd->count; k++)
			out[x->c->members[nd->first + k]] = 1;
		return 1;
	case OP_ALL_OF:	/* every member is true: any usable one will do */
		for (size_t k = 0; k < nd->count; k++)
			if (x->usable(x->ctx, x->c->members[nd->first + k]))
				return (out[x->c->members[nd->first + k]] = 1);
		return 0;
	case OP_AND:	/* both are true: the smaller set of the two */
		break;
	}
	ta = calloc(x->n_sel, 1);
	tb = calloc(x->n_sel, 1);
	if (!ta || !tb) {
		ret = -CUSTOS_ERR_NOMEM;
		goto out;
	}
	ra = need(x, nd->a, ta);
	rb = need(x, nd->b, tb);
	if (ra < 0 || rb < 0) {
		ret = ra < 0 ? ra : rb;
		goto out;
	}
	if (ra == 1 && (rb != 1 || count_set(ta, x->n_sel) <= count_set(tb, x->n_sel)))
		ret = 1, rb = 0;
	else if (rb == 1)
		ret = 1, ra = 0;
	for (size_t k = 0; ret == 1 && k < x->n_sel; k++)
		out[k] |= ra == 1 ? ta[k] : tb[k];
out:
	free(ta);
	free(tb);
	return ret;
}

int sigma_cond_need(const struct sigma_cond *c, size_t n_sel,
		    int (*usable)(const void *ctx, size_t i), const void *ctx, unsigned char *in)
{
	struct need_ctx x = { c, n_sel, usable, ctx };

	memset(in, 0, n_sel);
	return need(&x, c->root, in);
}
