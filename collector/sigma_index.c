/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rule index (sigma.h, "sigma_index.c"): which rules of a loaded set
 * are worth trying on an event. Rules are listed per category. A rule
 * whose condition implies "one of these literals is in the event" (found
 * with sigma_cond_need over the selections each of whose maps has a
 * keyable item) is keyed by the literals of those selections' maps, one
 * item per map: an Image item of plain or endswith literals gives suffix
 * keys (Image must end with one), else the item of plain, contains,
 * startswith or endswith values on any field whose shortest literal is
 * longest gives substring keys (the longest run of each value's pattern
 * without wildcards must occur in that field). Suffix keys live in an
 * open-addressing hash table of (length, lower-cased text), hashed from
 * the last byte backwards: an event's Image is walked once from its end,
 * the hash extended byte by byte, and looked up at each length some key
 * has. Substring keys live in one sigma_substr table per category, which
 * scans each keyed field of the event once. Each keyed map is a clause of
 * one or two parts: the item chosen as above, and a second item of the
 * same map that gives substring keys whose shortest literal has at least
 * SECOND_MIN bytes (the best such other item), when there is one; a part
 * is met when one of its literals is. A keyed rule is a candidate when
 * every part of one of its clauses is met. The parts a field's text meets
 * depend only on the category, the field and the text, so the last
 * MEMO_SLOTS texts scanned (up to MEMO_LEN bytes, up to MEMO_HITS parts
 * met) are kept with their parts, by hash: a text seen again (the same
 * command line, program or path, compared byte for byte) is not scanned
 * again.
 *
 * Invariants:
 *   1. A rule that is not a candidate for an event does not match it:
 *      keys are necessary conditions (a map matches only when its chosen
 *      item does; a glob matches only strings holding each of its literal
 *      runs; an item with "all" needs its chosen value; other items need
 *      one of theirs; a map matches only when each of its items does,
 *      so a clause's two parts are both necessary), and comparison is
 *      case-insensitive (sigma_lower, as sigma_glob) on both sides. Values
 *      that are not globs (re, cidr, null) never key an item.
 *   2. Candidates come in the set's order, so alerts come in the order
 *      trying every rule gives.
 *   3. Built once; a lookup touches only the table, the scratch marks
 *      (per part and per rule, with a generation counter, and the list of
 *      the parts met) and the memo, never allocates.
 *   4. The memo changes no answer: an entry is used only for the same
 *      category, field and bytes as the scan that made it, and holds every
 *      part that scan met (a scan that met more than MEMO_HITS is not
 *      kept); a substring part's literals are all of one field, so a
 *      field's scan lists exactly the parts it meets.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sigma_impl.h"

struct key {
	uint64_t hash;		/* 0: slot free */
	size_t len, part;
	char *text;		/* lower-cased, len bytes */
};

/* A keyed map: met when the parts [part, part + n_parts) all are. */
struct clause {
	uint32_t part, n_parts;
};

#define SECOND_MIN 4	/* a second part's shortest literal, in bytes */

#define MEMO_SLOTS 512	/* texts whose scan is kept (invariant 4) */
#define MEMO_LEN 240
#define MEMO_HITS 6

_Static_assert(MEMO_LEN <= UINT16_MAX && SIGMA_F_COUNT <= UINT8_MAX && MEMO_HITS <= UINT8_MAX &&
	       (MEMO_SLOTS & (MEMO_SLOTS - 1)) == 0, "struct memo's fields hold them");

struct memo {
	uint64_t hash;		/* 0: free */
	uint16_t len;
	uint8_t cat, field, n_hit;
	uint32_t hit[MEMO_HITS];
	char text[MEMO_LEN];
};

struct sigma_index {
	const struct sigma_set *set;
	size_t *cat[SIGMA_CAT_COUNT], n_cat[SIGMA_CAT_COUNT];
	unsigned char *keyed;	/* per rule: 1 when it has keys */
	struct key *slots;
	size_t cap, n_keys, n_keyed;	/* cap: a power of two */
	unsigned char lens[SIGMA_INDEX_KEY_MAX + 1];
	struct sigma_substr *sub[SIGMA_CAT_COUNT];	/* substring keys */
	struct clause *clauses;	/* per keyed rule, its clauses in a row */
	size_t *first_clause;	/* per rule: [first_clause[r], first_clause[r + 1]) */
	size_t n_clauses, n_parts, max_parts;
	uint32_t *rule_of;	/* per part: its rule */
	struct sigma_marks m;	/* per part; its rules' marks in rmark */
	uint32_t *rmark;	/* per rule: m.gen when one of its parts is met */
	size_t *cand;
	struct memo *memo;	/* MEMO_SLOTS */
};

#define FNV_BASIS 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t step(uint64_t h, unsigned char c)
{
	return (h ^ sigma_lower(c)) * FNV_PRIME;
}

/* The literal a glob pattern requires Image to end with: "*lit" or "lit"
 * with no other wildcard. OUT: out (lower-cased, its last
 * SIGMA_INDEX_KEY_MAX bytes), *len. Returns 1, or 0 when it has none. */
static int literal(const struct sigma_value *v, char *out, size_t *len)
{
	char lit[CUSTOS_PATH_MAX + SIGMA_TEXT_MAX];
	const char *p = v->pat;
	size_t n = 0;

	if (v->kind != SIGMA_V_GLOB)
		return 0;
	if (*p == '*')
		p++;
	for (; *p; p++) {
		if (*p == '*' || *p == '?' || n + 1 >= sizeof(lit))
			return 0;
		if (*p == '\\' && p[1])
			p++;
		lit[n++] = (char)sigma_lower((unsigned char)*p);
	}
	if (n == 0)
		return 0;
	*len = n > SIGMA_INDEX_KEY_MAX ? SIGMA_INDEX_KEY_MAX : n;
	memcpy(out, lit + n - *len, *len);
	return 1;
}

/* The Image item of a map whose values all give literals (with "all", its
 * first value is enough), else NULL. */
static const struct sigma_item *image_item(const struct sigma_map *m)
{
	char lit[SIGMA_INDEX_KEY_MAX];
	size_t len;

	for (size_t k = 0; k < m->n; k++) {
		const struct sigma_item *it = &m->items[k];
		size_t v = 0;

		if (it->field != SIGMA_F_IMAGE)
			continue;
		while (v < (it->all ? 1 : it->n) && literal(&it->v[v], lit, &len))
			v++;
		if (v == (it->all ? 1 : it->n))
			return it;
	}
	return NULL;
}

/* The longest run of a glob pattern without wildcards, lower-cased: a
 * string the pattern matches holds it. OUT: out (its first
 * SIGMA_INDEX_KEY_MAX bytes). Returns its length (0: none, or not a glob). */
static size_t longest_run(const struct sigma_value *v, char out[SIGMA_INDEX_KEY_MAX])
{
	char cur[SIGMA_INDEX_KEY_MAX];
	size_t best = 0, n = 0;

	if (v->kind != SIGMA_V_GLOB)
		return 0;
	for (const char *p = v->pat;; p++) {
		if (*p == '*' || *p == '?' || !*p) {
			if (n > best)
				memcpy(out, cur, best = n);
			if (!*p)
				return best;
			n = 0;
			continue;
		}
		if (*p == '\\' && p[1])
			p++;
		if (n < SIGMA_INDEX_KEY_MAX)	/* a longer run is keyed by its head */
			cur[n++] = (char)sigma_lower((unsigned char)*p);
	}
}

/* An item's substring keys: its values' runs (with "all", its longest
 * value's alone). OUT: *score, the shortest run's length. Returns how
 * many values give keys (the first that many, or with "all" *pick), or 0
 * when one value gives none. */
static size_t sub_values(const struct sigma_item *it, size_t *score, size_t *pick)
{
	char lit[SIGMA_INDEX_KEY_MAX];
	size_t len;

	*score = it->all ? 0 : (size_t)-1;
	*pick = 0;
	for (size_t v = 0; v < it->n; v++) {
		len = longest_run(&it->v[v], lit);
		if (!it->all && len == 0)
			return 0;
		if (it->all && len > *score) {
			*score = len;
			*pick = v;
		} else if (!it->all && len < *score) {
			*score = len;
		}
	}
	return *score ? (it->all ? 1 : it->n) : 0;
}

/* The item of a map other than skip whose values give the best
 * substring keys, their shortest literal at least min bytes, or NULL. */
static const struct sigma_item *sub_item_but(const struct sigma_map *m,
					     const struct sigma_item *skip, size_t min)
{
	const struct sigma_item *best = NULL;
	size_t best_score = min ? min - 1 : 0, score, pick;

	for (size_t k = 0; k < m->n; k++)
		if (&m->items[k] != skip && sub_values(&m->items[k], &score, &pick) &&
		    score > best_score) {
			best = &m->items[k];
			best_score = score;
		}
	return best;
}

/* The item of a map whose values give the best substring keys, or NULL. */
static const struct sigma_item *sub_item(const struct sigma_map *m)
{
	return sub_item_but(m, NULL, 0);
}

static int sel_usable(const void *ctx, size_t i)
{
	const struct sigma_sel *s = &((const struct sigma_rule *)ctx)->sels[i];

	for (size_t m = 0; m < s->n; m++)
		if (!image_item(&s->maps[m]) && !sub_item(&s->maps[m]))
			return 0;
	return s->n > 0;
}

static int add_key(struct sigma_index *ix, size_t part, const char *text, size_t len)
{
	uint64_t h = FNV_BASIS;
	size_t i;

	for (i = len; i > 0; i--)
		h = step(h, (unsigned char)text[i - 1]);
	h |= !h;
	for (i = h & (ix->cap - 1); ix->slots[i].hash; i = (i + 1) & (ix->cap - 1))
		if (ix->slots[i].hash == h && ix->slots[i].len == len &&
		    ix->slots[i].part == part && !memcmp(ix->slots[i].text, text, len))
			return 0;	/* already there */
	ix->slots[i].text = malloc(len);
	if (!ix->slots[i].text)
		return -CUSTOS_ERR_NOMEM;
	memcpy(ix->slots[i].text, text, len);
	ix->slots[i].hash = h;
	ix->slots[i].len = len;
	ix->slots[i].part = part;
	ix->lens[len] = 1;
	ix->n_keys++;
	return 0;
}

/* File the substring keys of item it (of a rule of category cat) as
 * part. */
static int key_sub(struct sigma_index *ix, enum sigma_category cat, const struct sigma_item *it,
		   size_t part)
{
	char lit[SIGMA_INDEX_KEY_MAX];
	size_t len, n, score, pick;
	int ret = 0;

	n = sub_values(it, &score, &pick);
	for (size_t v = 0; !ret && v < n; v++) {
		len = longest_run(&it->v[it->all ? pick : v], lit);
		ret = sigma_substr_add(ix->sub[cat], it->field, lit, len, part);
	}
	return ret;
}

/* Key rule r by one map's literals, as the next clause: Image suffixes
 * when it can, else substrings of its best item; then, as a second part,
 * the substrings of its best other item when they are long enough. */
static int key_map(struct sigma_index *ix, size_t r, const struct sigma_map *m)
{
	enum sigma_category cat = ix->set->rules[r]->cat;
	const struct sigma_item *it = image_item(m), *second;
	struct clause *c = &ix->clauses[ix->n_clauses++];
	char lit[SIGMA_INDEX_KEY_MAX];
	size_t len;
	int ret = 0;

	c->part = (uint32_t)ix->n_parts;
	c->n_parts = 1;
	ix->rule_of[ix->n_parts++] = (uint32_t)r;
	if (it) {
		for (size_t v = 0; !ret && v < (it->all ? 1 : it->n); v++)
			if (literal(&it->v[v], lit, &len))
				ret = add_key(ix, c->part, lit, len);
	} else {
		it = sub_item(m);
		ret = key_sub(ix, cat, it, c->part);
	}
	second = sub_item_but(m, it, SECOND_MIN);
	if (!ret && second) {
		c->n_parts = 2;
		ix->rule_of[ix->n_parts] = (uint32_t)r;
		ret = key_sub(ix, cat, second, ix->n_parts++);
	}
	return ret;
}

/* Key rule r by the literals of the selections its condition needs. */
static int key_rule(struct sigma_index *ix, size_t r)
{
	const struct sigma_rule *rule = ix->set->rules[r];
	unsigned char *need = calloc(rule->n_sels ? rule->n_sels : 1, 1);
	int ret;

	if (!need)
		return -CUSTOS_ERR_NOMEM;
	ret = rule->cat < SIGMA_CAT_COUNT ?
	      sigma_cond_need(rule->cond, rule->n_sels, sel_usable, rule, need) : 0;
	ix->first_clause[r] = ix->n_clauses;
	if (ret == 1) {
		ret = 0;
		ix->keyed[r] = 1;
		ix->n_keyed++;
		for (size_t s = 0; !ret && s < rule->n_sels; s++)
			for (size_t m = 0; need[s] && !ret && m < rule->sels[s].n; m++)
				ret = key_map(ix, r, &rule->sels[s].maps[m]);
	}
	ix->first_clause[r + 1] = ix->n_clauses;
	free(need);
	return ret;
}

/* How many values the rules of category cat have (all categories when
 * cat is SIGMA_CAT_COUNT): at most that many literals are keyed. */
static size_t count_values(const struct sigma_set *s, int cat)
{
	size_t n = 0;

	for (size_t r = 0; r < s->n; r++)
		for (size_t k = 0; (cat == SIGMA_CAT_COUNT || (int)s->rules[r]->cat == cat) &&
				   k < s->rules[r]->n_sels; k++)
			for (size_t m = 0; m < s->rules[r]->sels[k].n; m++)
				for (size_t i = 0; i < s->rules[r]->sels[k].maps[m].n; i++)
					n += s->rules[r]->sels[k].maps[m].items[i].n;
	return n;
}

/* How many maps the rules have: at most that many clauses, each of at
 * most two parts. */
static size_t count_maps(const struct sigma_set *s)
{
	size_t n = 0;

	for (size_t r = 0; r < s->n; r++)
		for (size_t k = 0; k < s->rules[r]->n_sels; k++)
			n += s->rules[r]->sels[k].n;
	return n;
}

/* Table size: a power of two at least twice the number of literals. */
static size_t table_cap(const struct sigma_set *s)
{
	size_t n = count_values(s, SIGMA_CAT_COUNT), cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

int sigma_index_build(const struct sigma_set *s, struct sigma_index **out)
{
	struct sigma_index *ix = calloc(1, sizeof(*ix));
	size_t n = s->n ? s->n : 1;
	int ret = -CUSTOS_ERR_NOMEM;

	*out = NULL;
	if (!ix)
		return ret;
	ix->set = s;
	ix->cap = table_cap(s);
	ix->slots = calloc(ix->cap, sizeof(*ix->slots));
	ix->keyed = calloc(n, 1);
	ix->max_parts = 2 * count_maps(s) + 1;
	ix->clauses = calloc(ix->max_parts, sizeof(*ix->clauses));
	ix->first_clause = calloc(n + 1, sizeof(*ix->first_clause));
	ix->rule_of = calloc(ix->max_parts, sizeof(*ix->rule_of));
	ix->m.mark = calloc(ix->max_parts, sizeof(*ix->m.mark));
	ix->m.hit = calloc(ix->max_parts, sizeof(*ix->m.hit));
	ix->rmark = calloc(n, sizeof(*ix->rmark));
	ix->cand = calloc(n, sizeof(*ix->cand));
	ix->memo = calloc(MEMO_SLOTS, sizeof(*ix->memo));
	if (!ix->slots || !ix->keyed || !ix->clauses || !ix->first_clause || !ix->rule_of ||
	    !ix->m.mark || !ix->m.hit || !ix->rmark || !ix->cand || !ix->memo)
		goto fail;
	for (int c = 0; c < SIGMA_CAT_COUNT; c++) {
		ix->cat[c] = calloc(n, sizeof(*ix->cat[c]));
		if (!ix->cat[c] || sigma_substr_new(count_values(s, c), &ix->sub[c]))
			goto fail;
	}
	ret = 0;
	for (size_t r = 0; !ret && r < s->n; r++) {
		enum sigma_category c = sigma_rule_category(s->rules[r]);

		if (c < SIGMA_CAT_COUNT)
			ix->cat[c][ix->n_cat[c]++] = r;
		ret = key_rule(ix, r);
	}
	if (ret)
		goto fail;
	*out = ix;
	return 0;
fail:
	sigma_index_free(ix);
	return ret;
}

void sigma_index_free(struct sigma_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; ix->slots && i < ix->cap; i++)
		free(ix->slots[i].text);
	for (int c = 0; c < SIGMA_CAT_COUNT; c++) {
		free(ix->cat[c]);
		sigma_substr_free(ix->sub[c]);
	}
	free(ix->slots);
	free(ix->keyed);
	free(ix->clauses);
	free(ix->first_clause);
	free(ix->rule_of);
	free(ix->m.mark);
	free(ix->m.hit);
	free(ix->rmark);
	free(ix->memo);
	free(ix->cand);
	free(ix);
}

static int tail_equal(const char *text, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] != (char)sigma_lower((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Mark every part one of whose keys ends image. */
static void mark_image(struct sigma_index *ix, const char *image)
{
	size_t n = strlen(image), max = n < SIGMA_INDEX_KEY_MAX ? n : SIGMA_INDEX_KEY_MAX;
	uint64_t h = FNV_BASIS;

	for (size_t len = 1; len <= max; len++) {
		uint64_t k;

		h = step(h, (unsigned char)image[n - len]);
		if (!ix->lens[len])
			continue;
		k = h | !h;
		for (size_t i = k & (ix->cap - 1); ix->slots[i].hash; i = (i + 1) & (ix->cap - 1))
			if (ix->slots[i].hash == k && ix->slots[i].len == len &&
			    ix->m.mark[ix->slots[i].part] != ix->m.gen &&
			    tail_equal(ix->slots[i].text, image + n - len, len)) {
				ix->m.mark[ix->slots[i].part] = ix->m.gen;
				ix->m.hit[ix->m.n_hit++] = (uint32_t)ix->slots[i].part;
			}
	}
}

/* A text's memo hash (FNV-1a by words, then its length, category and
 * field), never 0. */
static uint64_t memo_hash(const char *s, size_t len, int cat, int field)
{
	uint64_t h = FNV_BASIS, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * FNV_PRIME;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	h = (h ^ ((uint64_t)len << 16 | (uint64_t)cat << 8 | (uint64_t)field)) * FNV_PRIME;
	h ^= h >> 29;
	return h | !h;
}

/* Mark the parts field's text s meets (invariant 4): from the memo when
 * it holds s, else by a scan, whose parts the memo then keeps. */
static void scan(struct sigma_index *ix, enum sigma_category cat, int field, const char *s)
{
	size_t len = strnlen(s, MEMO_LEN + 1), first = ix->m.n_hit;
	uint64_t h;
	struct memo *e;

	if (len > MEMO_LEN) {
		sigma_substr_scan(ix->sub[cat], field, s, &ix->m);
		return;
	}
	h = memo_hash(s, len, cat, field);
	e = &ix->memo[h & (MEMO_SLOTS - 1)];
	if (e->hash == h && e->len == len && e->cat == cat && e->field == field &&
	    !memcmp(e->text, s, len)) {
		for (uint8_t i = 0; i < e->n_hit; i++)	/* no other field marks them */
			if (ix->m.mark[e->hit[i]] != ix->m.gen) {
				ix->m.mark[e->hit[i]] = ix->m.gen;
				ix->m.hit[ix->m.n_hit++] = e->hit[i];
			}
		return;
	}
	sigma_substr_scan(ix->sub[cat], field, s, &ix->m);
	if (ix->m.n_hit - first > MEMO_HITS)
		return;
	e->hash = h;
	e->len = (uint16_t)len;
	e->cat = (uint8_t)cat;
	e->field = (uint8_t)field;
	e->n_hit = (uint8_t)(ix->m.n_hit - first);
	memcpy(e->hit, ix->m.hit + first, e->n_hit * sizeof(e->hit[0]));
	memcpy(e->text, s, len);
}

/* Whether every part of one of keyed rule r's clauses is met. */
static int met(const struct sigma_index *ix, size_t r)
{
	for (size_t c = ix->first_clause[r]; c < ix->first_clause[r + 1]; c++) {
		const struct clause *cl = &ix->clauses[c];
		uint32_t p = 0;

		while (p < cl->n_parts && ix->m.mark[cl->part + p] == ix->m.gen)
			p++;
		if (p == cl->n_parts)
			return 1;
	}
	return 0;
}

size_t sigma_index_candidates(struct sigma_index *ix, const struct sigma_event *ev,
			      const size_t **rules)
{
	size_t n = 0;

	*rules = ix->cand;
	if (ev->cat >= SIGMA_CAT_COUNT)
		return 0;
	if (++ix->m.gen == 0) {	/* wrapped: old marks could look current */
		memset(ix->m.mark, 0, ix->max_parts * sizeof(*ix->m.mark));
		memset(ix->rmark, 0, (ix->set->n ? ix->set->n : 1) * sizeof(*ix->rmark));
		ix->m.gen = 1;
	}
	ix->m.n_hit = 0;
	if (ev->f[SIGMA_F_IMAGE] && ix->n_keys)
		mark_image(ix, ev->f[SIGMA_F_IMAGE]);
	for (int f = 0; f < SIGMA_F_COUNT; f++)
		if (ev->f[f] && sigma_substr_fields(ix->sub[ev->cat], f))
			scan(ix, ev->cat, f, ev->f[f]);
	for (size_t i = 0; i < ix->m.n_hit; i++)
		ix->rmark[ix->rule_of[ix->m.hit[i]]] = ix->m.gen;
	for (size_t k = 0; k < ix->n_cat[ev->cat]; k++) {
		size_t r = ix->cat[ev->cat][k];

		if (!ix->keyed[r] || (ix->rmark[r] == ix->m.gen && met(ix, r)))
			ix->cand[n++] = r;
	}
	return n;
}

size_t sigma_index_keyed(const struct sigma_index *ix)
{
	return ix->n_keyed;
}
