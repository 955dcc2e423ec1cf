/* SPDX-License-Identifier: Apache-2.0 */
/* record_decode into a struct that holds an earlier record (or garbage):
 * every byte record.h says a reader may read (envelope, subject, the
 * kind's union member but the large arrays past length + 1) is what a
 * decode into a zeroed struct gives, and so is the record's JSON line,
 * for every kind after every kind. The large arrays are listed here from
 * record.h's contract, not taken from record.c. */
#include "testutil.h"
#include "cbor_io.h"
#include "record_json.h"
#include "schema.h"

typedef struct custos_record R;

/* An array valid only up to its length (+ its NUL), record.h. */
struct large {
	size_t off, cap, len_off;
};

#define LARGE(f) { offsetof(R, f), sizeof(((R *)0)->f), offsetof(R, f##_len) }
#define END { 0, 0, 0 }

static const struct large exec_l[] = {
	LARGE(u.exec.filename), LARGE(u.exec.exe), LARGE(u.exec.argv), LARGE(u.exec.cwd), END,
};
static const struct large sys_l[] = { LARGE(u.sys.name), END };
static const struct large file_l[] = {
	LARGE(u.file.path), LARGE(u.file.path_raw), LARGE(u.file.path2), LARGE(u.file.path2_raw),
	END,
};
static const struct large auth_l[] = { LARGE(u.auth.text), END };
static const struct large agent_l[] = { LARGE(u.agent.text), END };
static const struct large none_l[] = { END };

/* The union member of kind (record.h): its size and large arrays. */
static size_t member_of(uint64_t kind, const struct large **l)
{
	const R *r = NULL;

	if (kind == CUSTOS_REC_EXEC || kind == CUSTOS_REC_SNAPSHOT)
		return *l = exec_l, sizeof(r->u.exec);
	if (kind == CUSTOS_REC_FORK)
		return *l = none_l, sizeof(r->u.fork);
	if (kind == CUSTOS_REC_EXIT)
		return *l = none_l, sizeof(r->u.exit);
	if (kind >= CUSTOS_REC_CRED && kind <= CUSTOS_REC_CLOCK_SET)
		return *l = sys_l, sizeof(r->u.sys);
	if (kind == CUSTOS_REC_AUTH)
		return *l = auth_l, sizeof(r->u.auth);
	if (kind >= CUSTOS_REC_OPEN && kind <= CUSTOS_REC_REMOVEXATTR)
		return *l = file_l, sizeof(r->u.file);
	if (kind >= CUSTOS_REC_CONNECT && kind <= CUSTOS_REC_SOCKET)
		return *l = none_l, sizeof(r->u.net);
	assert_true(kind >= CUSTOS_REC_AGENT_START && kind <= CUSTOS_REC_GAP);
	return *l = agent_l, sizeof(r->u.agent);
}

/* Fill every field kind's schema names, from seed; byte fields get blen
 * bytes (at most their capacity) of a letter that depends on seed, argv
 * blen / 8 elements. */
static void fill(R *r, uint64_t kind, uint64_t seed, size_t blen)
{
	const struct schema *parts[3];
	size_t n = record_schema(kind, parts);
	uint8_t *base = (uint8_t *)r;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < parts[i]->count; j++) {
			const struct schema_field *f = &parts[i]->fields[j];
			size_t len = blen < f->cap ? blen : f->cap, cnt = 0;

			if (f->type == SF_U64)
				*(uint64_t *)(base + f->off) = seed * 1000003u + f->key;
			else if (f->type == SF_I64)
				*(int64_t *)(base + f->off) = -(int64_t)(seed + f->key);
			else if (f->type == SF_FIXED)
				memset(base + f->off, (int)(seed + f->key) | 1, f->cap);
			else if (f->type == SF_BYTES)
				memset(base + f->off, 'a' + (int)((seed + f->key) % 26), len);
			if (f->type == SF_BYTES)
				*(uint32_t *)(base + f->len_off) = (uint32_t)len;
			if (f->type != SF_STRV)
				continue;
			len -= len % 8;		/* "xxxxxxx\0" elements */
			memset(base + f->off, 'x', len);
			for (size_t k = 7; k < len; k += 8, cnt++)
				base[f->off + k] = 0;
			*(uint32_t *)(base + f->len_off) = (uint32_t)len;
			*(uint64_t *)(base + f->cnt_off) = cnt;
		}
	}
	r->kind = kind;
}

static void encode(struct buf *b, uint64_t kind, uint64_t seed, size_t blen)
{
	R *r = malloc(sizeof(*r));

	assert_non_null(r);
	fill(r, kind, seed, blen);
	buf_reset(b);
	assert_int_equal(record_encode(b, r), 0);
	free(r);
}

static void decode(const struct buf *b, R *r)
{
	struct cbr c;

	cbr_init(&c, b->data, b->len);
	assert_int_equal(record_decode(&c, r), 0);
	assert_true(cbr_done(&c));
}

/* Whether byte at of a record of kind is one a reader may read (fresh:
 * the zeroed decode, for the lengths). */
static int visible(const R *fresh, const struct large *l, size_t msize, size_t at)
{
	size_t u = offsetof(R, u);

	if (at < u)
		return 1;
	if (at >= u + msize)
		return 0;
	for (; l->cap; l++) {
		uint32_t len = *(const uint32_t *)((const uint8_t *)fresh + l->len_off);

		if (at >= l->off && at < l->off + l->cap)
			return at - l->off < len || (at - l->off == len && len < l->cap);
	}
	return 1;
}

/* reused holds what fresh holds, for every reader. */
static void check_same(const R *fresh, const R *reused, const char *what)
{
	const struct large *l;
	size_t msize = member_of(fresh->kind, &l);
	const uint8_t *a = (const uint8_t *)fresh, *b = (const uint8_t *)reused;
	struct buf ja, jb;

	for (size_t at = 0; at < sizeof(R); at++) {
		if (!visible(fresh, l, msize, at) || a[at] == b[at])
			continue;
		fail_msg("%s: %s: byte %zu (union offset %zd) is %#x, a zeroed decode gives %#x",
			 what, record_kind_name(fresh->kind), at, (ssize_t)at - (ssize_t)offsetof(R, u),
			 b[at], a[at]);
	}
	buf_init(&ja, 1 << 20);
	buf_init(&jb, 1 << 20);
	assert_int_equal(record_json_line(fresh, &ja), 0);
	assert_int_equal(record_json_line(reused, &jb), 0);
	assert_int_equal(ja.len, jb.len);
	assert_memory_equal(ja.data, jb.data, ja.len);
	buf_free(&ja);
	buf_free(&jb);
}

/* Each length a short record gets: none, one byte, a few, and one below
 * the 108-byte addresses' capacity. */
static const size_t shorts[] = { 0, 1, 9, 107 };
#define NSHORTS (sizeof(shorts) / sizeof(shorts[0]))

/* A record of every kind at full length, then a short one of every kind,
 * into the same struct. */
static void test_short_after_long(void **state)
{
	R *fresh = malloc(sizeof(*fresh)), *reused = malloc(sizeof(*reused));
	struct buf big, small;

	(void)state;
	assert_non_null(fresh);
	assert_non_null(reused);
	buf_init(&big, 1 << 20);
	buf_init(&small, 1 << 20);
	for (size_t s = 0; s < NSHORTS; s++) {
		for (size_t k = 0; k < TU_NKINDS; k++) {
			encode(&small, tu_all_kinds[k], 3 + k, shorts[s]);
			memset(fresh, 0, sizeof(*fresh));
			decode(&small, fresh);
			for (size_t p = 0; p < TU_NKINDS; p++) {
				encode(&big, tu_all_kinds[p], 100 + p, CUSTOS_CONFIG_MAX);
				decode(&big, reused);
				decode(&small, reused);
				check_same(fresh, reused, record_kind_name(tu_all_kinds[p]));
			}
		}
	}
	buf_free(&big);
	buf_free(&small);
	free(fresh);
	free(reused);
}

/* A struct full of garbage (what malloc may give): the same. */
static void test_into_garbage(void **state)
{
	R *fresh = malloc(sizeof(*fresh)), *reused = malloc(sizeof(*reused));
	static const int junk[] = { 0xa5, 0xff, 0x01 };
	struct buf b;

	(void)state;
	assert_non_null(fresh);
	assert_non_null(reused);
	buf_init(&b, 1 << 20);
	for (size_t s = 0; s < NSHORTS; s++) {
		for (size_t k = 0; k < TU_NKINDS; k++) {
			encode(&b, tu_all_kinds[k], 7 + k, shorts[s]);
			memset(fresh, 0, sizeof(*fresh));
			decode(&b, fresh);
			for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
				memset(reused, junk[j], sizeof(*reused));
				decode(&b, reused);
				check_same(fresh, reused, "garbage");
			}
		}
	}
	buf_free(&b);
	free(fresh);
	free(reused);
}

/* What readers rely on, spelled out for the common kinds: an open after a
 * rename and after a config text carries no path2 (length 0, a NUL at its
 * start) and its path ends with a NUL; an exec's argv after a longer one
 * ends where its length says. */
static void test_what_readers_see(void **state)
{
	R *r = malloc(sizeof(*r));
	struct buf b;

	(void)state;
	assert_non_null(r);
	buf_init(&b, 1 << 20);
	encode(&b, CUSTOS_REC_RENAME, 1, CUSTOS_PATH_MAX);
	decode(&b, r);
	assert_int_equal(r->u.file.path2_len, CUSTOS_PATH_MAX);
	encode(&b, CUSTOS_REC_OPEN, 2, 5);
	decode(&b, r);
	assert_int_equal(r->u.file.path_len, 5);
	assert_int_equal(strlen((const char *)r->u.file.path), 5);	/* its NUL */
	assert_int_equal(r->u.file.path2_len, 0);
	assert_int_equal(r->u.file.path2_raw_len, 0);
	assert_int_equal(r->u.file.path2[0], 0);
	assert_int_equal(r->u.file.path2_truncated, 0);
	assert_true(r->u.file.name_len == 0 && r->u.file.size == 0 && r->u.file.owner_uid == 0);

	encode(&b, CUSTOS_REC_CONFIG, 3, CUSTOS_CONFIG_MAX);
	decode(&b, r);
	encode(&b, CUSTOS_REC_SYMLINK, 4, 3);
	decode(&b, r);
	assert_int_equal(r->u.file.path2_len, 0);
	assert_int_equal(r->u.file.path2[0], 0);
	assert_int_equal(r->u.file.path2_raw_len, 3);
	assert_int_equal(strlen((const char *)r->u.file.path2_raw), 3);
	assert_int_equal(r->u.file.flags, 0);

	encode(&b, CUSTOS_REC_EXEC, 5, CUSTOS_ARGS_MAX);
	decode(&b, r);
	encode(&b, CUSTOS_REC_EXEC, 6, 16);
	decode(&b, r);
	assert_int_equal(r->u.exec.argv_len, 16);
	assert_int_equal(r->u.exec.argv_count, 2);
	assert_int_equal(r->u.exec.argv[16], 0);
	assert_int_equal(r->u.exec.build_id_len, 16);
	for (size_t i = 16; i < CUSTOS_BUILD_ID_MAX; i++)
		assert_int_equal(r->u.exec.build_id[i], 0);

	encode(&b, CUSTOS_REC_AGENT_START, 7, CUSTOS_CONFIG_MAX);
	decode(&b, r);
	encode(&b, CUSTOS_REC_HEARTBEAT, 8, 0);
	decode(&b, r);
	assert_int_equal(r->subj.pid, 0);
	assert_int_equal(r->subj.comm_len, 0);
	assert_int_equal(r->u.agent.text_len, 0);
	assert_int_equal(r->u.agent.text[0], 0);
	assert_int_equal(r->u.agent.version_len, 0);
	assert_int_equal(r->u.agent.lost, 0);
	assert_int_equal(r->u.agent.agent_pid, 0);
	buf_free(&b);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_after_long),
		cmocka_unit_test(test_into_garbage),
		cmocka_unit_test(test_what_readers_see),
	};
	return cmocka_run_group_tests_name("record_reuse", tests, NULL, NULL);
}
