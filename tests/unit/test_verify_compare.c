/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of custos-verify's streaming comparison (verify/compare.c):
 * a text written to the stream in pieces of any size is found equal to a
 * file holding it, and every kind of difference (a changed byte, a file
 * cut short or extended, missing, a directory) is named with the line of
 * the first difference, as the report says it. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "verify.h"

static char dir[64];

/* About 300 KB of lines of varied lengths: more than the stream's buffer
 * and the comparison's read buffer (64 KiB each). */
static char *text(size_t *n)
{
	size_t cap = 400000, len = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	for (int i = 1; i <= 3000; i++)
		len += (size_t)snprintf(t + len, cap - len, "{\"row\":%d,\"pad\":\"%.*s\"}\n", i,
					i % 131, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
					"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
					"xxxxxxxxxxx");
	*n = len;
	return t;
}

static void put_file(const char *rel, const char *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Write p to a comparison of rel in pieces of `piece` bytes, close it and
 * return what it reported (stdout), malloc'd. OUT: *failures. */
static char *compare(const char *rel, const char *p, size_t n, size_t piece, unsigned *failures)
{
	struct vr v = { .dir = dir, .all = 1 };
	char out[128], *got;
	struct vr_cmp *c;
	int saved, fd;
	FILE *f;
	long len;

	f = vr_cmp_open(&v, rel, &c);
	assert_non_null(f);
	for (size_t i = 0; i < n; i += piece)
		assert_int_equal(fwrite(p + i, 1, n - i < piece ? n - i : piece, f),
				 n - i < piece ? n - i : piece);
	snprintf(out, sizeof(out), "%s/report", dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	vr_cmp_close(&v, f, c);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	f = fopen(out, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	got = calloc(1, (size_t)len + 1);
	assert_non_null(got);
	assert_int_equal(fread(got, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*failures = v.failures;
	return got;
}

static void expect(const char *rel, const char *p, size_t n, const char *want, unsigned fails)
{
	static const size_t pieces[] = { 1, 7, 4096, 65536, 100000, 1u << 20 };

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		unsigned failures;
		char *got;

		if (pieces[i] == 1 && n > 20000)
			continue;	/* byte by byte only on small texts */
		got = compare(rel, p, n, pieces[i], &failures);
		if (!strstr(got, want))
			fail_msg("pieces of %zu: wanted \"%s\", got \"%s\"", pieces[i], want, got);
		assert_int_equal(failures, fails);
		free(got);
	}
}

static void test_equal(void **state)
{
	size_t n;
	char *t = text(&n);

	(void)state;
	put_file("timeline.jsonl", t, n);
	expect("timeline.jsonl", t, n, "ok    timeline.jsonl is exactly what the batches decode to",
	       0);
	put_file("small", t, 5000);
	expect("small", t, 5000, "ok    small is exactly", 0);
	put_file("empty", "", 0);
	expect("empty", "", 0, "ok    empty is exactly", 0);
	free(t);
}

static void test_changed(void **state)
{
	size_t n, at;
	char *t = text(&n), *u, want[64];
	int line = 1;

	(void)state;
	u = malloc(n);
	assert_non_null(u);
	memcpy(u, t, n);
	at = n / 2 + 3;		/* a byte well past the first 64 KiB */
	for (size_t i = 0; i < at; i++)
		line += t[i] == '\n';
	u[at] ^= 1;
	put_file("timeline.jsonl", u, n);
	snprintf(want, sizeof(want), "line %d differs", line);
	expect("timeline.jsonl", t, n, want, 1);
	u[at] ^= 1;
	u[0] = '[';		/* the first byte */
	put_file("timeline.jsonl", u, n);
	expect("timeline.jsonl", t, n, "timeline.jsonl: derived from the batches: line 1 differs",
	       1);
	u[0] = '{';
	u[n - 1] = ' ';		/* the last newline */
	put_file("timeline.jsonl", u, n);
	expect("timeline.jsonl", t, n, "line 3000 differs", 1);
	free(u);
	free(t);
}

static void test_length(void **state)
{
	size_t n;
	char *t = text(&n), *u;

	(void)state;
	put_file("timeline.csv", t, n - 1);		/* its last newline cut off */
	expect("timeline.csv", t, n, "line 3000 differs", 1);
	put_file("timeline.csv", t, 0);
	expect("timeline.csv", t, n, "line 1 differs", 1);
	u = malloc(n + 1);
	assert_non_null(u);
	memcpy(u, t, n);
	u[n] = 'x';				/* one byte more */
	put_file("timeline.csv", u, n + 1);
	expect("timeline.csv", t, n, "line 3001 differs", 1);
	put_file("empty", "", 0);
	expect("empty", t, 10, "line 1 differs", 1);	/* nothing where a row is due */
	put_file("small", t, 10);
	expect("small", "", 0, "line 1 differs", 1);	/* a row where none is due */
	free(u);
	free(t);
}

static void test_missing(void **state)
{
	char path[128];

	(void)state;
	expect("nothing-here", "a\n", 2, "FAIL  nothing-here: derived from the batches: missing or "
	       "unreadable", 1);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("small", path), 0);	/* a symlink is not followed */
	expect("link", "a\n", 2, "link: derived from the batches: missing or unreadable", 1);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);		/* a directory reads as nothing */
	expect("sub", "a\n", 2, "sub: derived from the batches: line 1 differs", 1);
}

/* Discarded comparisons report nothing and leak nothing (ASan). */
static void test_discard(void **state)
{
	struct vr v = { .dir = dir };
	struct vr_cmp *c;
	FILE *f;

	(void)state;
	f = vr_cmp_open(&v, "small", &c);
	assert_non_null(f);
	fputs("some rows\n", f);
	vr_cmp_discard(f, c);
	f = vr_cmp_open(&v, "nothing-here", &c);
	assert_non_null(f);
	vr_cmp_discard(f, c);
	vr_cmp_discard(NULL, NULL);
	vr_cmp_close(&v, NULL, NULL);
	assert_int_equal(v.failures, 0);
	assert_int_equal(v.checks, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),   cmocka_unit_test(test_changed),
		cmocka_unit_test(test_length),  cmocka_unit_test(test_missing),
		cmocka_unit_test(test_discard),
	};
	static const char *const made[] = { "timeline.jsonl", "timeline.csv", "small", "empty",
					    "report", "link" };
	char path[128];
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/custos-test-cmp.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
	return ret;
}
