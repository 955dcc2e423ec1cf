/* SPDX-License-Identifier: Apache-2.0 */
/* The timeline row writer (bundle_derive_row, record_json_members) gives
 * byte for byte what the jansson path gave: record_json()'s object plus
 * the row's keys, dumped with JSON_COMPACT | JSON_SORT_KEYS, and the CSV
 * line taken from that object. Random records of every kind with awkward
 * strings (quotes, backslashes, control characters, invalid UTF-8 shown
 * as hex, long argv, unsigned values past 2^63-1, negative numbers). The
 * print line (record_json_line) is checked against jansson the same way. */
#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>
#include "testutil.h"
#include "bundle.h"
#include "record_json.h"
#include "schema.h"

static const uint64_t all_kinds[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
	64, 65, 66, 67, 68,
	96, 97, 98, 99, 100, 101, 102,
};
#define N_KINDS (sizeof(all_kinds) / sizeof(all_kinds[0]))
#define ROUNDS 60	/* records per kind */

static const char *const awkward[] = {
	"", "plain", "with \"quotes\"", "back\\slash\\", "a,b,\"c\"", "caf\xc3\xa9 \xf0\x9f\x94\x92",
	"/home/alice/.ssh/id_rsa", "tab\there", "new\nline", "cr\rhere", "nul", "\x01\x1f\x7f",
	"\xff\xfe invalid", "\xc3\x28", "\xed\xa0\x80", "\xc2\x85 C1", "{\"json\":1}", "\\u0041",
	"  spaces  ", "'single'", "end\\",
};
#define N_AWKWARD (sizeof(awkward) / sizeof(awkward[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Up to cap bytes: an awkward string, random bytes, or a long run. */
static uint32_t fill_bytes(uint8_t *p, uint32_t cap)
{
	uint32_t n;

	switch (next() % 4) {
	case 0:
	case 1: {
		const char *s = awkward[next() % N_AWKWARD];

		n = (uint32_t)strlen(s);
		n = n > cap ? cap : n;
		memcpy(p, s, n);
		return n;
	}
	case 2:
		n = (uint32_t)(next() % (cap < 64 ? cap + 1 : 64));
		for (uint32_t i = 0; i < n; i++)
			p[i] = (uint8_t)next();
		return n;
	default:
		n = cap < 300 ? cap : (uint32_t)(next() % cap);
		for (uint32_t i = 0; i < n; i++)
			p[i] = (uint8_t)"ab\"\\/ ,x"[next() % 8];
		return n;
	}
}

/* argv: NUL-terminated elements, many of them sometimes. */
static void fill_strv(uint8_t *p, uint32_t cap, uint32_t *len, uint64_t *count)
{
	uint64_t want = next() % 3 == 0 ? 200 : next() % 6;

	*len = 0;
	*count = 0;
	while (*count < want) {
		uint8_t tmp[64];
		uint32_t n = fill_bytes(tmp, sizeof(tmp) - 1);

		if (memchr(tmp, 0, n))
			n = (uint32_t)((uint8_t *)memchr(tmp, 0, n) - tmp);
		if (*len + n + 1 > cap)
			break;
		memcpy(p + *len, tmp, n);
		p[*len + n] = 0;
		*len += n + 1;
		(*count)++;
	}
}

static uint64_t random_u64(void)
{
	switch (next() % 4) {
	case 0: return next();			/* often past INT64_MAX */
	case 1: return UINT64_MAX;
	default: return next() % 100000;
	}
}

static void fill_field(struct custos_record *r, const struct schema_field *f)
{
	uint8_t *base = (uint8_t *)r;

	switch (f->type) {
	case SF_U64:
		*(uint64_t *)(base + f->off) = random_u64();
		break;
	case SF_I64:
		*(int64_t *)(base + f->off) = next() % 3 == 0 ? INT64_MIN : (int64_t)next() % 1000;
		break;
	case SF_FIXED:
		for (uint32_t i = 0; i < f->cap; i++)
			base[f->off + i] = (uint8_t)next();
		break;
	case SF_BYTES:
		*(uint32_t *)(base + f->len_off) = fill_bytes(base + f->off, f->cap);
		break;
	case SF_STRV:
		fill_strv(base + f->off, f->cap, (uint32_t *)(base + f->len_off),
			  (uint64_t *)(base + f->cnt_off));
		break;
	}
}

static void random_record(struct custos_record *r, uint64_t kind)
{
	const struct schema *parts[3];
	size_t nparts;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	nparts = record_schema(kind, parts);
	assert_true(nparts > 0);
	for (size_t i = 0; i < nparts; i++)
		for (size_t j = 0; j < parts[i]->count; j++)
			if (!(i == 0 && parts[i]->fields[j].key == 0))
				fill_field(r, &parts[i]->fields[j]);
	if (kind >= CUSTOS_REC_CONNECT && kind <= CUSTOS_REC_SEND && next() % 4) {
		int v6 = next() % 2;

		r->u.net.family = v6 ? AF_INET6 : AF_INET;
		r->u.net.local_addr_len = r->u.net.remote_addr_len = v6 ? 16 : 4;
	}
	r->ts_ns = next() % 4000000000000000000ull;
}

/* What the old writer's CSV gave for the jansson object. */
static void csv_ref(FILE *f, json_t *row)
{
	static const char *const cols[] = { "datetime", "timestamp_desc", "host", "kind", "pid",
		"comm", "message", "evidence_leaf", "evidence_seq", "evidence_record" };

	for (size_t i = 0; i < 10; i++) {
		json_t *v = json_object_get(row, cols[i]);
		char num[32];
		const char *s = "";

		if (json_is_string(v))
			s = json_string_value(v);
		else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			s = num;
		}
		if (strpbrk(s, ",\"\n\r")) {
			fputc('"', f);
			for (; *s; s++) {
				if (*s == '"')
					fputc('"', f);
				fputc(*s, f);
			}
			fputc('"', f);
		} else {
			fputs(s, f);
		}
		fputc(i + 1 < 10 ? ',' : '\n', f);
	}
}

/* The jansson path for r: record_json's object, our keys (taken from the
 * direct line, their values checked), dumped compact and sorted. */
static void reference(const struct custos_record *r, const char *line, uint64_t leaf,
		      uint64_t seq, uint64_t idx, int64_t wall, char **jl, char **csv)
{
	static const char *const ours[] = { "datetime", "timestamp_desc", "message", "host",
		"evidence_leaf", "evidence_seq", "evidence_record" };
	json_error_t err;
	json_t *direct = json_loadb(line, (size_t)(strchr(line, '\n') - line), 0, &err), *o = NULL;
	char when[48];
	size_t n;
	FILE *f;

	if (!direct)
		fprintf(stderr, "%s at %d: %.300s\n", err.text, err.position, line);
	assert_non_null(direct);
	assert_int_equal(record_json(r, &o), 0);
	bundle_fmt_time(wall, when, sizeof(when));
	assert_string_equal(json_string_value(json_object_get(direct, "datetime")), when);
	assert_string_equal(json_string_value(json_object_get(direct, "host")), "web-01");
	assert_string_equal(json_string_value(json_object_get(direct, "timestamp_desc")),
			    "event time (host clock)");
	assert_true(json_is_string(json_object_get(direct, "message")));
	assert_int_equal(json_integer_value(json_object_get(direct, "evidence_leaf")), leaf);
	assert_int_equal(json_integer_value(json_object_get(direct, "evidence_seq")), seq);
	assert_int_equal(json_integer_value(json_object_get(direct, "evidence_record")), idx);
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		json_object_set(o, ours[i], json_object_get(direct, ours[i]));
	n = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
	*jl = malloc(n + 2);
	assert_int_equal(json_dumpb(o, *jl, n, JSON_COMPACT | JSON_SORT_KEYS), n);
	(*jl)[n] = '\n';
	(*jl)[n + 1] = 0;
	f = open_memstream(csv, &n);
	csv_ref(f, o);
	fclose(f);
	json_decref(o);
	json_decref(direct);
}

static void test_rows_equal_jansson(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct bundle_derive d;
	size_t checked = 0, hex_seen = 0;

	(void)state;
	for (size_t round = 0; round < ROUNDS; round++) {
		for (size_t k = 0; k < N_KINDS; k++) {
			char *jl = NULL, *csv = NULL, *rj, *rc;
			size_t jn = 0, cn = 0;
			FILE *fj = open_memstream(&jl, &jn), *fc = open_memstream(&csv, &cn);
			uint64_t leaf = next() % 100000, seq = next() % 100000, idx = next() % 1000;
			int64_t wall;

			random_record(r, all_kinds[k]);
			wall = (int64_t)r->ts_ns - 1000;
			assert_int_equal(bundle_derive_init(&d, 0, INT64_MAX, fj, fc), 0);
			assert_int_equal(bundle_derive_row(&d, "web-01", leaf, seq, r, idx, wall), 0);
			/* Twice: the second row uses the cached key order. */
			assert_int_equal(bundle_derive_row(&d, "web-01", leaf, seq, r, idx, wall), 0);
			fclose(fj);
			fclose(fc);
			hex_seen += strstr(jl, "{\"hex\":") != NULL;
			reference(r, jl, leaf, seq, idx, wall, &rj, &rc);
			assert_int_equal(strlen(jl), 2 * strlen(rj));
			assert_memory_equal(jl, rj, strlen(rj));
			assert_memory_equal(jl + strlen(rj), rj, strlen(rj));
			/* The CSV: the header line, then the row twice. */
			assert_int_equal(strlen(strchr(csv, '\n') + 1), 2 * strlen(rc));
			assert_memory_equal(strchr(csv, '\n') + 1, rc, strlen(rc));
			assert_memory_equal(strchr(csv, '\n') + 1 + strlen(rc), rc, strlen(rc));
			free(rj);
			free(rc);
			free(jl);
			free(csv);
			bundle_derive_free(&d);
			checked++;
		}
	}
	assert_int_equal(checked, ROUNDS * N_KINDS);
	assert_true(hex_seen > 0);
	free(r);
}

/* The print line (record_json_line, record_json_write) is json_dumps of
 * record_json()'s object, JSON_COMPACT, keys in insertion order, '\n';
 * a second line appended to the same buffer leaves the first as it was. */
static void test_line_equals_jansson(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct buf b;

	(void)state;
	buf_init(&b, RECORD_JSON_LINE_MAX);
	for (size_t round = 0; round < ROUNDS; round++) {
		for (size_t k = 0; k < N_KINDS; k++) {
			json_t *o;
			char *ref;
			size_t n;

			random_record(r, all_kinds[k]);
			assert_int_equal(record_json(r, &o), 0);
			ref = json_dumps(o, JSON_COMPACT);
			assert_non_null(ref);
			n = strlen(ref);
			buf_reset(&b);
			assert_int_equal(record_json_line(r, &b), 0);
			assert_int_equal(record_json_line(r, &b), 0);
			assert_int_equal(b.len, 2 * (n + 1));
			assert_memory_equal(b.data, ref, n);
			assert_int_equal(b.data[n], '\n');
			assert_memory_equal(b.data + n + 1, ref, n);
			free(ref);
			json_decref(o);
		}
	}
	r->kind = 12;		/* reserved: refused, the buffer as it was */
	buf_reset(&b);
	assert_int_equal(record_json_line(r, &b), -CUSTOS_ERR_INVAL);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	free(r);
}

/* Every ASCII byte and some UTF-8: the escaping is jansson's. */
static void test_string_escaping(void **state)
{
	static const char *const utf8[] = { "\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x94\x92",
					    "\xef\xbf\xbf" };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	for (int c = 1; c < 0x80 + 4; c++) {
		char in[8];
		size_t n;
		json_t *s;
		char *ref;

		if (c < 0x80) {
			in[0] = (char)c;
			in[1] = 'x';
			n = 2;
		} else {
			n = strlen(utf8[c - 0x80]);
			memcpy(in, utf8[c - 0x80], n);
		}
		s = json_stringn(in, n);
		assert_non_null(s);
		ref = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT);
		buf_reset(&b);
		assert_int_equal(record_json_put_string(&b, in, n), 0);
		assert_int_equal(b.len, strlen(ref));
		assert_memory_equal(b.data, ref, b.len);
		free(ref);
		json_decref(s);
	}
	buf_free(&b);
}

/* bundle_fmt_time writes what the printf format did. */
static void test_time_format(void **state)
{
	static const int64_t fixed[] = { 0, -1, 1, 999999999, -1000000000, INT64_MAX, INT64_MIN,
					 1763776800123456789ll };

	(void)state;
	for (size_t i = 0; i < 2000; i++) {
		int64_t t = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i] : (int64_t)next();
		int64_t s = t / 1000000000ll, ns = t % 1000000000ll;
		char got[48], want[48];
		time_t tt;
		struct tm tm;

		if (ns < 0) {
			ns += 1000000000ll;
			s--;
		}
		tt = (time_t)s;
		bundle_fmt_time(t, got, sizeof(got));
		if (!gmtime_r(&tt, &tm)) {
			assert_string_equal(got, "?");
			continue;
		}
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (long long)ns);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_equal_jansson),
		cmocka_unit_test(test_line_equals_jansson),
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_time_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
