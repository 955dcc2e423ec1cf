/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rule index's substring keys (sigma_impl.h, "sigma_substr"): which
 * of many literals, each required in some field and filed under an id
 * (the index's clause part), occur in an event's field. Each literal is filed under one of its grams (up to 4
 * bytes, lower-cased, packed in a uint32_t) with the gram's offset in the
 * literal; a field is walked once, a rolling window of its last 4 bytes
 * looked up at each gram length some key of that field has: a 64 Kbit
 * filter first, then the open-addressing table, and a hit is confirmed by
 * comparing the whole literal where the gram puts it. Of a literal's
 * grams the one fewest keys already share is chosen, so that one common
 * gram does not collect many literals to compare.
 *
 * Invariants:
 *   1. A scan marks an id (and lists it, once) exactly when one of its
 *      literals for that field occurs in the text, compared in ASCII lower
 *      case on both sides (sigma_lower, as sigma_glob matches).
 *   2. Built once (sigma_substr_add before any scan); a scan only reads
 *      the table and writes the caller's marks, never allocates.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sigma_impl.h"

#define GRAM 4
#define FILTER_BITS 16

struct skey {
	char *text;		/* NULL: slot free; else the literal, lower-cased */
	size_t len, id;
	uint32_t gram;
	uint16_t off;		/* of the gram in the literal */
	uint8_t field, glen;
};

struct sigma_substr {
	struct skey *slots;
	size_t cap, n;		/* cap: a power of two */
	unsigned bits;		/* log2(cap) */
	uint8_t lens[SIGMA_F_COUNT];	/* per field: bit L when some gram has length L */
	uint64_t filter[(1u << FILTER_BITS) / 64];
};

static uint64_t mix(int field, unsigned glen, uint32_t gram)
{
	return ((uint64_t)gram | (uint64_t)field << 32 | (uint64_t)glen << 40) *
	       0x9e3779b97f4a7c15ull;
}

int sigma_substr_new(size_t max_keys, struct sigma_substr **out)
{
	struct sigma_substr *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -CUSTOS_ERR_NOMEM;
	t->bits = 4;
	while ((1ull << t->bits) < 2 * (uint64_t)max_keys)
		t->bits++;
	t->cap = (size_t)1 << t->bits;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return -CUSTOS_ERR_NOMEM;
	}
	*out = t;
	return 0;
}

void sigma_substr_free(struct sigma_substr *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].text);
	free(t->slots);
	free(t);
}

static uint32_t pack(const char *s, size_t n)
{
	uint32_t g = 0;

	for (size_t i = 0; i < n; i++)
		g = g << 8 | (unsigned char)s[i];
	return g;
}

/* How many keys share (field, glen, gram). */
static size_t sharing(const struct sigma_substr *t, int field, unsigned glen, uint32_t gram)
{
	size_t k = 0, mask = t->cap - 1;

	for (size_t i = mix(field, glen, gram) >> (64 - t->bits); t->slots[i].text;
	     i = (i + 1) & mask)
		k += t->slots[i].gram == gram && t->slots[i].field == field &&
		     t->slots[i].glen == glen;
	return k;
}

int sigma_substr_add(struct sigma_substr *t, int field, const char *lit, size_t len, size_t id)
{
	unsigned glen = len < GRAM ? (unsigned)len : GRAM;
	size_t off = 0, best = (size_t)-1, mask = t->cap - 1, i;
	uint64_t h;

	if (len == 0 || len > UINT16_MAX || field < 0 || field >= SIGMA_F_COUNT ||
	    2 * (t->n + 1) > t->cap)
		return -CUSTOS_ERR_INVAL;
	for (size_t o = 0; o + glen <= len; o++) {
		size_t k = sharing(t, field, glen, pack(lit + o, glen));

		if (k < best) {
			best = k;
			off = o;
		}
	}
	h = mix(field, glen, pack(lit + off, glen));
	for (i = h >> (64 - t->bits); t->slots[i].text; i = (i + 1) & mask)
		;
	t->slots[i].text = malloc(len);
	if (!t->slots[i].text)
		return -CUSTOS_ERR_NOMEM;
	for (size_t k = 0; k < len; k++)
		t->slots[i].text[k] = (char)sigma_lower((unsigned char)lit[k]);
	t->slots[i].len = len;
	t->slots[i].id = id;
	t->slots[i].gram = pack(t->slots[i].text + off, glen);
	t->slots[i].off = (uint16_t)off;
	t->slots[i].field = (uint8_t)field;
	t->slots[i].glen = (uint8_t)glen;
	t->lens[field] |= (uint8_t)(1u << glen);
	h = mix(field, glen, t->slots[i].gram);
	t->filter[(h >> (64 - FILTER_BITS)) / 64] |= 1ull << ((h >> (64 - FILTER_BITS)) % 64);
	t->n++;
	return 0;
}

unsigned sigma_substr_fields(const struct sigma_substr *t, int field)
{
	return t && field >= 0 && field < SIGMA_F_COUNT ? t->lens[field] : 0;
}

/* The literal k at s + start? s is NUL-terminated and k's text has no
 * NUL, so a short s fails the comparison at its end. */
static int at(const struct skey *k, const char *s, size_t start)
{
	for (size_t j = 0; j < k->len; j++)
		if (k->text[j] != (char)sigma_lower((unsigned char)s[start + j]))
			return 0;
	return 1;
}

/* Keys of gram g (length glen) ending at s[end - 1]. */
static void probe(const struct sigma_substr *t, int field, unsigned glen, uint32_t g,
		  const char *s, size_t end, struct sigma_marks *m)
{
	uint64_t h = mix(field, glen, g);
	size_t f = h >> (64 - FILTER_BITS), mask = t->cap - 1;

	if (!(t->filter[f / 64] & (1ull << (f % 64))))
		return;
	for (size_t i = h >> (64 - t->bits); t->slots[i].text; i = (i + 1) & mask) {
		const struct skey *k = &t->slots[i];

		if (k->gram == g && k->glen == glen && k->field == field &&
		    m->mark[k->id] != m->gen && end >= glen + (size_t)k->off &&
		    at(k, s, end - glen - k->off)) {
			m->mark[k->id] = m->gen;
			m->hit[m->n_hit++] = (uint32_t)k->id;
		}
	}
}

void sigma_substr_scan(const struct sigma_substr *t, int field, const char *s,
		       struct sigma_marks *m)
{
	unsigned lens = sigma_substr_fields(t, field);
	uint32_t w = 0;

	if (!lens || !s)
		return;
	for (size_t i = 0; s[i]; i++) {
		w = w << 8 | sigma_lower((unsigned char)s[i]);
		for (unsigned glen = 1; glen <= GRAM && glen <= i + 1; glen++)
			if (lens & (1u << glen))
				probe(t, field, glen, glen == GRAM ? w : w & ((1u << (8 * glen)) - 1),
				      s, i + 1, m);
	}
}
