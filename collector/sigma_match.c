/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sigma values and modifiers (sigma_impl.h): compiling "field|mods:
 * values" into patterns, and matching them against an event's fields.
 * Plain values are case-insensitive globs ('*', '?', '\' escapes, as in
 * the Sigma specification); contains/startswith/endswith add stars;
 * base64 and base64offset encode the value first (libsodium), windash
 * adds the variants with '/' and the Unicode dashes for a leading '-';
 * re is a POSIX ERE (regex.h) after translating the Perl classes \s \d \w
 * (anything else POSIX cannot express is refused); cidr compares
 * addresses.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "error.h"
#include "sigma_impl.h"

#define SIGMA_RE_MAX 1024	/* bounds regcomp's work on untrusted rules */

enum {
	M_CONTAINS = 1, M_STARTS = 2, M_ENDS = 4, M_ALL = 8, M_RE = 16, M_CIDR = 32,
	M_B64 = 64, M_B64OFF = 128, M_WINDASH = 256, M_RE_I = 512,
};

static const struct { const char *name; unsigned bit; } mods[] = {
	{ "contains", M_CONTAINS }, { "startswith", M_STARTS }, { "endswith", M_ENDS },
	{ "all", M_ALL }, { "re", M_RE }, { "cidr", M_CIDR }, { "base64", M_B64 },
	{ "base64offset", M_B64OFF }, { "windash", M_WINDASH }, { "i", M_RE_I },
};

int sigma_glob(const char *p, const char *s)
{
	const char *star = NULL, *back = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			back = s;
			continue;
		}
		if (*p == '?' ||
		    (*p && *p != '\\' && sigma_lower((unsigned char)*p) == sigma_lower((unsigned char)*s)) ||
		    (*p == '\\' && p[1] && sigma_lower((unsigned char)p[1]) == sigma_lower((unsigned char)*s))) {
			p += *p == '\\' ? 2 : 1;
			s++;
			continue;
		}
		if (!star)
			return 0;
		p = star;
		s = ++back;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int sigma_glob_compile(struct sigma_value *v)
{
	const char *p = v->pat;
	int lead = 0, trail = 0;
	size_t n = 0;

	v->shape = SIGMA_G_GENERAL;
	v->lit = NULL;
	v->lit_len = 0;
	for (; *p == '*'; p++)
		lead = 1;
	for (const char *q = p; *q && *q != '*'; q += *q == '\\' ? 2 : 1, n++)
		if (*q == '?' || (*q == '\\' && !q[1]))
			return 0;	/* a wildcard, or a lone '\' sigma_glob never matches */
	if (!(v->lit = malloc(n + 1)))
		return -CUSTOS_ERR_NOMEM;
	for (n = 0; *p && *p != '*'; p += *p == '\\' ? 2 : 1)
		v->lit[n++] = (char)sigma_lower((unsigned char)(*p == '\\' ? p[1] : *p));
	v->lit[n] = '\0';
	v->lit_len = n;
	for (; *p == '*'; p++)
		trail = 1;
	if (*p) {		/* a star inside the pattern */
		free(v->lit);
		v->lit = NULL;
		v->lit_len = 0;
		return 0;
	}
	v->shape = lead ? (trail ? SIGMA_G_CONTAINS : SIGMA_G_SUFFIX)
			: (trail ? SIGMA_G_PREFIX : SIGMA_G_EXACT);
	return 0;
}

/* s[0..n) equals lit[0..n) (lower case) ignoring ASCII case. */
static int ci_equal(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sigma_lower((unsigned char)s[i]) != (unsigned char)lit[i])
			return 0;
	return 1;
}

int sigma_value_glob(const struct sigma_value *v, const char *s, size_t *slen)
{
	size_t n = v->lit_len;

	if (v->shape == SIGMA_G_GENERAL)
		return sigma_glob(v->pat, s);
	if (v->shape == SIGMA_G_PREFIX)
		return ci_equal(s, v->lit, n);	/* stops at s's end: lit has no NUL */
	if (*slen == SIZE_MAX)
		*slen = strlen(s);
	if (v->shape == SIGMA_G_EXACT)
		return *slen == n && ci_equal(s, v->lit, n);
	if (*slen < n)
		return 0;
	if (v->shape == SIGMA_G_SUFFIX || n == 0)
		return ci_equal(s + *slen - n, v->lit, n);
	for (size_t i = 0; i + n <= *slen; i++)
		if (sigma_lower((unsigned char)s[i]) == (unsigned char)v->lit[0] &&
		    ci_equal(s + i + 1, v->lit + 1, n - 1))
			return 1;
	return 0;
}

static int add_value(struct sigma_item *it, struct sigma_value *v)
{
	struct sigma_value *nv = realloc(it->v, (it->n + 1) * sizeof(*nv));

	if (!nv)
		return -CUSTOS_ERR_NOMEM;
	it->v = nv;
	it->v[it->n++] = *v;
	return 0;
}

/* Append s[0..n) to b, escaping every byte (literal) or resolving Sigma's
 * escapes (wild): "\*" "\?" "\\" literal, other '\' literal. */
static int put_text(struct buf *b, const char *s, size_t n, int wild)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		char pair[2] = { '\\', c };
		int ret;

		if (wild && (c == '*' || c == '?')) {
			ret = buf_put(b, &c, 1);
		} else if (wild && c == '\\' && i + 1 < n && strchr("*?\\", s[i + 1])) {
			pair[1] = s[++i];
			ret = buf_put(b, pair, 2);
		} else {
			ret = buf_put(b, pair, 2);
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int glob_value(struct sigma_item *it, unsigned m, const char *s, size_t n, int wild)
{
	struct sigma_value v = { .kind = SIGMA_V_GLOB };
	struct buf b;
	int ret;

	buf_init(&b, 3 * (size_t)n + 16);
	ret = (m & (M_CONTAINS | M_ENDS)) ? buf_put(&b, "*", 1) : 0;
	if (!ret)
		ret = put_text(&b, s, n, wild);
	if (!ret && (m & (M_CONTAINS | M_STARTS)))
		ret = buf_put(&b, "*", 1);
	if (!ret)
		ret = buf_put(&b, "", 1);
	if (!ret) {
		v.pat = (char *)b.data;	/* ownership moves to the value */
		ret = sigma_glob_compile(&v);
		if (!ret)
			ret = add_value(it, &v);
		if (!ret)
			return 0;
		free(v.lit);
	}
	buf_free(&b);
	return ret;
}

/* base64 (offset 0) or the three base64offset variants of s. */
static int b64_values(struct sigma_item *it, unsigned m, const char *s)
{
	static const size_t start[3] = { 0, 2, 3 }, cut[3] = { 0, 3, 2 };
	size_t n = strlen(s), variants = (m & M_B64OFF) ? 3 : 1;
	int ret = 0;

	for (size_t i = 0; !ret && i < variants; i++) {
		size_t rn = n + i, cap = sodium_base64_ENCODED_LEN(rn, sodium_base64_VARIANT_ORIGINAL);
		unsigned char *raw = calloc(1, rn + 1);
		char *enc = malloc(cap);
		size_t el, from = (m & M_B64OFF) ? start[i] : 0;
		size_t to;

		if (!raw || !enc) {
			free(raw);
			free(enc);
			return -CUSTOS_ERR_NOMEM;
		}
		memcpy(raw + i, s, n);
		sodium_bin2base64(enc, cap, raw, rn, sodium_base64_VARIANT_ORIGINAL);
		el = strlen(enc);
		to = (m & M_B64OFF) ? el - cut[(n + i) % 3] : el;
		ret = to > from ? glob_value(it, m, enc + from, to - from, 0) : 0;
		free(raw);
		free(enc);
	}
	return ret;
}

/* windash: a leading '-' (or '/') of a word may be any dash or a slash. */
static int windash_values(struct sigma_item *it, unsigned m, const char *s)
{
	static const char *const dashes[] = { "-", "/", "\xe2\x80\x93", "\xe2\x80\x94",
					      "\xe2\x80\x95" };
	int ret = 0;

	for (size_t d = 0; !ret && d < 5; d++) {
		struct buf b;

		buf_init(&b, 4 * strlen(s) + 8);
		for (size_t i = 0; !ret && s[i]; i++) {
			int lead = (s[i] == '-' || s[i] == '/') && (i == 0 || s[i - 1] == ' ');
			ret = lead ? buf_put(&b, dashes[d], strlen(dashes[d]))
				   : buf_put(&b, &s[i], 1);
		}
		if (!ret)
			ret = glob_value(it, m, (const char *)b.data, b.len, 1);
		buf_free(&b);
	}
	return ret;
}

/* Translate a Perl-style pattern to POSIX ERE. Returns 0, 1 refused. */
static int re_translate(const char *s, struct buf *b, char reason[SIGMA_REASON_MAX])
{
	int in_br = 0, ret = 0;

	for (size_t i = 0; !ret && s[i]; i++) {
		const char *out = NULL;
		char c = s[i], n = s[i + 1], one[2] = { c, 0 };

		if (c == '(' && n == '?')
			goto refuse_group;
		if (!in_br && strchr("*+?}", c) && (n == '?' || n == '+'))
			goto refuse_lazy;
		if (c == '[' && !in_br) {
			in_br = 1;
			out = "[";
			if (n == '^')
				out = "[^", i++;
			if (s[i + 1] == ']')
				out = out[1] ? "[^]" : "[]", i++;
		} else if (c == ']' && in_br) {
			in_br = 0;
			out = "]";
		} else if (c == '\\') {
			i++;
			switch (n) {
			case 's': out = in_br ? "[:space:]" : "[[:space:]]"; break;
			case 'd': out = in_br ? "0-9" : "[0-9]"; break;
			case 'w': out = in_br ? "[:alnum:]_" : "[[:alnum:]_]"; break;
			case 'S': out = in_br ? NULL : "[^[:space:]]"; break;
			case 'D': out = in_br ? NULL : "[^0-9]"; break;
			case 'W': out = in_br ? NULL : "[^[:alnum:]_]"; break;
			default:
				if (n && ispunct((unsigned char)n) && !(in_br && strchr("]^-", n))) {
					char esc[3] = { '\\', n, 0 };
					ret = in_br ? buf_put(b, &esc[1], 1) : buf_put(b, esc, 2);
					continue;
				}
				break;
			}
			if (!out) {
				snprintf(reason, SIGMA_REASON_MAX,
					 "regex escape '\\%c' has no POSIX ERE equivalent", n ? n : ' ');
				return 1;
			}
		} else {
			out = one;
		}
		ret = buf_put(b, out, strlen(out));
	}
	if (!ret)
		ret = buf_put(b, "", 1);
	return ret;
refuse_group:
	snprintf(reason, SIGMA_REASON_MAX, "regex groups '(?...)' (lookaround, flags) are not POSIX");
	return 1;
refuse_lazy:
	snprintf(reason, SIGMA_REASON_MAX, "lazy or possessive regex quantifiers are not POSIX");
	return 1;
}

static int re_value(struct sigma_item *it, unsigned m, const char *s, char reason[SIGMA_REASON_MAX])
{
	struct sigma_value v = { .kind = SIGMA_V_RE };
	struct buf b;
	int ret;

	if (strlen(s) > SIGMA_RE_MAX) {
		snprintf(reason, SIGMA_REASON_MAX, "a regex longer than %d bytes", SIGMA_RE_MAX);
		return 1;
	}
	buf_init(&b, 12 * strlen(s) + 16);
	ret = re_translate(s, &b, reason);
	if (!ret && regcomp(&v.re, (const char *)b.data,
			    REG_EXTENDED | REG_NOSUB | ((m & M_RE_I) ? REG_ICASE : 0)) != 0) {
		snprintf(reason, SIGMA_REASON_MAX, "regex '%.64s' does not compile as POSIX ERE", s);
		ret = 1;
	}
	buf_free(&b);
	if (ret)
		return ret;
	ret = add_value(it, &v);
	if (ret)
		regfree(&v.re);
	return ret;
}

static int cidr_value(struct sigma_item *it, const char *s, char reason[SIGMA_REASON_MAX])
{
	struct sigma_value v = { .kind = SIGMA_V_CIDR };
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	unsigned long pfx;

	if (n >= sizeof(addr))
		goto bad;
	memcpy(addr, s, n);
	addr[n] = '\0';
	v.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(v.family, addr, v.net) != 1)
		goto bad;
	pfx = v.family == AF_INET ? 32 : 128;
	if (slash) {
		pfx = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || pfx > (v.family == AF_INET ? 32u : 128u))
			goto bad;
	}
	v.prefix = (unsigned)pfx;
	return add_value(it, &v);
bad:
	snprintf(reason, SIGMA_REASON_MAX, "'%.64s' is not a CIDR network", s);
	return 1;
}

static int parse_mods(const char *key, int *field, unsigned *m, char reason[SIGMA_REASON_MAX])
{
	char name[64];
	const char *bar = strchr(key, '|');
	size_t n = bar ? (size_t)(bar - key) : strlen(key);

	*m = 0;
	if (n >= sizeof(name) || (memcpy(name, key, n), name[n] = '\0',
				  (*field = sigma_field_by_name(name)) < 0)) {
		snprintf(reason, SIGMA_REASON_MAX, "field '%.*s' is not mapped (docs/triage.md)%s",
			 (int)(n > 64 ? 64 : n), key,
			 strncmp(key, "DestinationHostname", n) == 0 && n == 19 ?
			 ": records carry addresses, not the names a resolver gave" : "");
		return 1;
	}
	while (bar) {
		const char *mod = bar + 1;
		size_t k, ml;

		bar = strchr(mod, '|');
		ml = bar ? (size_t)(bar - mod) : strlen(mod);
		for (k = 0; k < sizeof(mods) / sizeof(mods[0]); k++)
			if (strlen(mods[k].name) == ml && strncmp(mods[k].name, mod, ml) == 0)
				break;
		if (k == sizeof(mods) / sizeof(mods[0]) || (mods[k].bit == M_RE_I && !(*m & M_RE))) {
			snprintf(reason, SIGMA_REASON_MAX, "modifier '%.*s' is not supported",
				 (int)(ml > 32 ? 32 : ml), mod);
			return 1;
		}
		*m |= mods[k].bit;
	}
	if (((*m & M_RE) && (*m & ~(M_RE | M_RE_I | M_ALL))) ||
	    ((*m & M_CIDR) && (*m & ~M_CIDR)) || ((*m & M_B64) && (*m & M_B64OFF)) ||
	    __builtin_popcount(*m & (M_CONTAINS | M_STARTS | M_ENDS)) > 1) {
		snprintf(reason, SIGMA_REASON_MAX, "modifiers of '%.64s' do not combine", key);
		return 1;
	}
	return 0;
}

int sigma_item_compile(struct sigma_item *it, const char *key, const char *const *vals,
		       size_t n, char reason[SIGMA_REASON_MAX])
{
	unsigned m;
	int ret;

	memset(it, 0, sizeof(*it));
	ret = parse_mods(key, &it->field, &m, reason);
	it->all = (m & M_ALL) != 0;
	for (size_t i = 0; !ret && i < n; i++) {
		struct sigma_value nv = { .kind = SIGMA_V_NULL };

		if (!vals[i])
			ret = (m & ~M_ALL) ? (snprintf(reason, SIGMA_REASON_MAX,
					 "a null value with modifiers in '%.64s'", key), 1)
					   : add_value(it, &nv);
		else if (m & M_RE)
			ret = re_value(it, m, vals[i], reason);
		else if (m & M_CIDR)
			ret = cidr_value(it, vals[i], reason);
		else if (m & (M_B64 | M_B64OFF))
			ret = b64_values(it, m, vals[i]);
		else if (m & M_WINDASH)
			ret = windash_values(it, m, vals[i]);
		else
			ret = glob_value(it, m, vals[i], strlen(vals[i]), 1);
	}
	if (!ret && it->n == 0) {
		snprintf(reason, SIGMA_REASON_MAX, "'%.64s' has no values", key);
		ret = 1;
	}
	if (ret)
		sigma_item_free(it);
	return ret;
}

void sigma_item_free(struct sigma_item *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->v[i].pat);
		free(it->v[i].lit);
		if (it->v[i].kind == SIGMA_V_RE)
			regfree(&it->v[i].re);
	}
	free(it->v);
	it->v = NULL;
	it->n = 0;
}

static int cidr_match(const struct sigma_value *v, const char *s)
{
	uint8_t a[16];
	unsigned full, rest;

	if (inet_pton(v->family, s, a) != 1)
		return 0;
	full = v->prefix / 8;
	rest = v->prefix % 8;
	if (memcmp(a, v->net, full) != 0)
		return 0;
	return !rest || ((a[full] ^ v->net[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int value_match(const struct sigma_value *v, const char *s, size_t *slen)
{
	switch (v->kind) {
	case SIGMA_V_NULL:
		return s == NULL;
	case SIGMA_V_GLOB:
		return s && sigma_value_glob(v, s, slen);
	case SIGMA_V_RE:
		return s && regexec(&v->re, s, 0, NULL, 0) == 0;
	case SIGMA_V_CIDR:
		return s && cidr_match(v, s);
	}
	return 0;
}

int sigma_item_match(const struct sigma_item *it, const struct sigma_event *ev)
{
	const char *s = ev->f[it->field];
	size_t slen = SIZE_MAX;

	for (size_t i = 0; i < it->n; i++) {
		int ok = value_match(&it->v[i], s, &slen);

		if (ok && !it->all)
			return 1;
		if (!ok && it->all)
			return 0;
	}
	return it->all;
}
