/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the rule index (collector/sigma_index.c): which rules are
 * keyed by Image literals and which are always tried, case-insensitive
 * lookups, and that SigmaHQ's linux rules with our pack give the same
 * matches, in the same order, with the index as trying every rule, over
 * events built from the rules' own values and over synthetic records.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sigma_impl.h"
#include "testutil.h"

static struct sigma_rule *load(const char *yaml)
{
	struct sigma_rule *r = NULL;
	enum sigma_category cat;
	char reason[SIGMA_REASON_MAX];

	assert_int_equal(sigma_rule_load(yaml, strlen(yaml), "t.yml", &r, &cat, reason), 0);
	return r;
}

#define HEAD "title: t\nid: x\nlogsource: {product: linux, category: process_creation}\n"

static const char *const small[] = {
	/* 0: keyed by /wget and /curl, the filter does not matter */
	HEAD "detection:\n  sel:\n    Image|endswith: ['/wget', '/curl']\n"
	"  filter:\n    CommandLine|contains: ' -q'\n  condition: sel and not filter\n",
	/* 1: no Image: always tried */
	HEAD "detection:\n  sel:\n    CommandLine|contains: 'nc -e'\n  condition: sel\n",
	/* 2: a negated Image: always tried */
	HEAD "detection:\n  sel:\n    Image|endswith: '/bash'\n  condition: not sel\n",
	/* 3: one side of an or has no Image: always tried */
	HEAD "detection:\n  a:\n    Image|endswith: '/nc'\n  b:\n    CommandLine: 'x'\n"
	"  condition: a or b\n",
	/* 4: all of, a list of maps each with Image (equals), keyed */
	HEAD "detection:\n  sel_a:\n    - Image: '/usr/bin/Python3'\n    - Image|endswith: '/perl'\n"
	"  sel_b:\n    CommandLine|contains: 'socket'\n  condition: all of sel_*\n",
	/* 5: Image with a wildcard inside: always tried */
	HEAD "detection:\n  sel:\n    Image|endswith: '/py*on'\n  condition: sel\n",
	/* 6: file_event, keyed by /cp (another category) */
	"title: t\nid: y\nlogsource: {product: linux, category: file_event}\n"
	"detection:\n  sel:\n    Image|endswith: '/cp'\n  condition: sel\n",
};

static size_t cands(struct sigma_index *ix, const char *image, enum sigma_category cat,
		    size_t *out)
{
	struct sigma_event ev = { .cat = cat };
	const size_t *c;
	size_t n;

	ev.f[SIGMA_F_IMAGE] = image;
	n = sigma_index_candidates(ix, &ev, &c);
	memcpy(out, c, n * sizeof(*c));
	return n;
}

static void test_index_keys(void **state)
{
	struct sigma_set s = { 0 };
	struct sigma_index *ix = NULL;
	size_t c[16], n;

	(void)state;
	s.n = sizeof(small) / sizeof(small[0]);
	s.rules = calloc(s.n, sizeof(*s.rules));
	assert_non_null(s.rules);
	for (size_t i = 0; i < s.n; i++)
		s.rules[i] = load(small[i]);
	assert_int_equal(sigma_index_build(&s, &ix), 0);
	assert_int_equal(sigma_index_keyed(ix), 3);	/* rules 0, 4, 6 */

	n = cands(ix, "/usr/bin/ls", SIGMA_CAT_PROCESS_CREATION, c);
	assert_int_equal(n, 4);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 2);
	assert_int_equal(c[2], 3);
	assert_int_equal(c[3], 5);
	n = cands(ix, "/usr/bin/WGET", SIGMA_CAT_PROCESS_CREATION, c);	/* case-insensitive */
	assert_int_equal(n, 5);
	assert_int_equal(c[0], 0);	/* in the set's order */
	n = cands(ix, "/USR/BIN/python3", SIGMA_CAT_PROCESS_CREATION, c);
	assert_int_equal(n, 5);
	assert_int_equal(c[4], 5);
	assert_int_equal(c[3], 4);
	n = cands(ix, "/opt/usr/bin/python3", SIGMA_CAT_PROCESS_CREATION, c);	/* keys are tails */
	assert_int_equal(n, 5);
	n = cands(ix, "wget", SIGMA_CAT_PROCESS_CREATION, c);	/* shorter than the key */
	assert_int_equal(n, 4);
	n = cands(ix, NULL, SIGMA_CAT_PROCESS_CREATION, c);	/* unknown Image */
	assert_int_equal(n, 4);
	n = cands(ix, "/bin/cp", SIGMA_CAT_FILE_EVENT, c);
	assert_int_equal(n, 1);
	assert_int_equal(c[0], 6);
	assert_int_equal(cands(ix, "/bin/mv", SIGMA_CAT_FILE_EVENT, c), 0);
	assert_int_equal(cands(ix, "/bin/cp", SIGMA_CAT_NETWORK_CONNECTION, c), 0);
	assert_int_equal(cands(ix, "/bin/cp", SIGMA_CAT_OTHER, c), 0);
	sigma_index_free(ix);
	sigma_set_free(&s);
}

/* --- the whole SigmaHQ set ------------------------------------------------ */

static char sigma_dir[4096];

static int have_sigma(void)
{
	char cwd[3500];
	struct stat st;
	char *slash;

	if (!getcwd(cwd, sizeof(cwd)))
		return 0;
	slash = strrchr(cwd, '/');
	if (slash)
		*slash = '\0';
	snprintf(sigma_dir, sizeof(sigma_dir), "%s/shared/sigma", cwd);
	if (stat(sigma_dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 1;
	if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
		fail_msg("%s is missing in CI", sigma_dir);
	print_message("skipped: %s does not exist (the SigmaHQ test rules)\n", sigma_dir);
	return 0;
}

struct tally {
	size_t events, matches, tried, fired[1024];
};

/* Every rule tried against the index's candidates: the same matches. */
static void compare(const struct sigma_set *s, struct sigma_index *ix,
		    const struct sigma_event *ev, struct tally *t)
{
	size_t all[1024], n_all = 0, n_ix = 0, n_c;
	const size_t *c;

	for (size_t i = 0; i < s->n; i++)
		if (sigma_rule_match(s->rules[i], ev))
			all[n_all++] = i;
	n_c = sigma_index_candidates(ix, ev, &c);
	for (size_t k = 0; k < n_c; k++)
		if (sigma_rule_match(s->rules[c[k]], ev)) {
			assert_true(n_ix < n_all);
			assert_int_equal(c[k], all[n_ix]);
			n_ix++;
		}
	assert_int_equal(n_ix, n_all);
	for (size_t k = 0; k < n_all; k++)
		t->fired[all[k]]++;
	t->events++;
	t->matches += n_all;
	t->tried += n_c;
}

/* A string a glob pattern matches (variant v: '*' as nothing or "x/",
 * '?' as 'a'), letter case flipped when v is odd. */
static void from_glob(const char *pat, int v, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = pat; *p && n + 3 < cap; p++) {
		char ch = *p;

		if (ch == '*') {
			if (v & 2) {
				out[n++] = 'x';
				out[n++] = '/';
			}
			continue;
		}
		if (ch == '?')
			ch = 'a';
		else if (ch == '\\' && p[1])
			ch = *++p;
		if ((v & 1) && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if ((v & 1) && ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		out[n++] = ch;
	}
	out[n] = '\0';
}

/* Events made of each map's own values: most rules fire on some. */
static void events_from_rules(const struct sigma_set *s, struct sigma_index *ix, struct tally *t)
{
	static char text[SIGMA_F_COUNT][1024];
	static const char *const images[] = { NULL, "/usr/bin/bash", "/tmp/x" };

	for (size_t r = 0; r < s->n; r++)
		for (size_t k = 0; k < s->rules[r]->n_sels; k++)
			for (size_t m = 0; m < s->rules[r]->sels[k].n; m++)
				for (int v = 0; v < 8; v++) {
					const struct sigma_map *mp = &s->rules[r]->sels[k].maps[m];
					struct sigma_event ev = { .cat = s->rules[r]->cat };

					ev.f[SIGMA_F_IMAGE] = images[v % 3];
					for (size_t i = 0; i < mp->n; i++) {
						const struct sigma_item *it = &mp->items[i];
						const struct sigma_value *val = &it->v[(size_t)v % it->n];

						if (val->kind != SIGMA_V_GLOB)
							continue;
						from_glob(val->pat, v, text[it->field], sizeof(text[0]));
						ev.f[it->field] = text[it->field];
					}
					compare(s, ix, &ev, t);
				}
}

static const char *const rec_images[] = {
	"/usr/bin/wget", "/usr/bin/CURL", "/bin/bash", "/usr/bin/python3", "/usr/sbin/nginx",
	"/usr/bin/nc.openbsd", "/usr/bin/base64", "/usr/bin/crontab", "/usr/bin/chattr",
	"/usr/sbin/useradd", "/usr/bin/tar", "/tmp/payload", "/usr/bin/ls", "/usr/bin/perl" };
static const char *const rec_args[] = {
	"-O\0/tmp/p\0http://203.0.113.9/p\0", "-i\0", "-e\0/bin/sh\0", "-d\0", "-c\0import pty\0",
	"+i\0/etc/passwd\0", "-czf\0/tmp/b.tgz\0/home\0", "-l\0" };
static const char *const rec_paths[] = {
	"/etc/cron.d/job", "/tmp/x.sh", "/etc/sudoers.d/u", "/home/u/.bashrc", "/var/log/syslog",
	"/etc/ld.so.preload", "/root/.ssh/authorized_keys", "/usr/lib/x.so" };

static void synthetic_record(struct custos_record *r, unsigned i)
{
	const char *img = rec_images[i % 14], *args = rec_args[(i / 14) % 8];
	size_t alen = 0;

	memset(r, 0, sizeof(*r));
	tu_subject(&r->subj, 1000 + i);
	r->subj.uid = i % 3 ? 0 : 1000;
	while (args[alen] || args[alen + 1])
		alen++;
	switch (i % 4) {
	case 0: case 1:
		r->kind = CUSTOS_REC_EXEC;
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, img);
		record_set_bytes(r->u.exec.cwd, &r->u.exec.cwd_len, CUSTOS_PATH_MAX, "/tmp");
		snprintf((char *)r->u.exec.argv, sizeof(r->u.exec.argv), "%s", img);
		memcpy(r->u.exec.argv + strlen(img) + 1, args, alen + 2);
		r->u.exec.argv_len = (uint32_t)(strlen(img) + alen + 2);
		break;
	case 2:
		r->kind = CUSTOS_REC_OPEN;
		record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX,
				 rec_paths[(i / 4) % 8]);
		r->u.file.flags = O_WRONLY | O_CREAT;
		break;
	default:
		r->kind = CUSTOS_REC_CONNECT;
		r->u.net.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, i % 8 == 3 ? "127.0.0.1" : "203.0.113.9",
					   r->u.net.remote_addr), 1);
		r->u.net.remote_addr_len = 4;
		assert_int_equal(inet_pton(AF_INET, "192.0.2.5", r->u.net.local_addr), 1);
		r->u.net.local_addr_len = 4;
		r->u.net.remote_port = (i / 4) % 2 ? 4444 : 443;
		break;
	}
}

static void events_from_records(const struct sigma_set *s, struct sigma_index *ix,
				struct tally *t)
{
	struct custos_record *rec = malloc(sizeof(*rec));
	struct sigma_event_buf *b = malloc(sizeof(*b));
	struct sigma_parent par = { "/usr/sbin/nginx", "nginx: worker process" };
	struct sigma_event ev;

	assert_non_null(rec);
	assert_non_null(b);
	for (unsigned i = 0; i < 14 * 8 * 4; i++) {
		synthetic_record(rec, i);
		assert_int_equal(sigma_event_from_record(rec, i % 5 ? &par : NULL,
							 i % 7 ? rec_images[(i / 3) % 14] : NULL,
							 &ev, b), 1);
		compare(s, ix, &ev, t);
	}
	free(rec);
	free(b);
}

static void test_index_sigmahq(void **state)
{
	struct sigma_set s = { 0 };
	struct sigma_index *ix = NULL;
	struct tally *rules = calloc(1, sizeof(*rules)), *recs = calloc(1, sizeof(*recs));
	size_t fired = 0;

	(void)state;
	assert_non_null(rules);
	assert_non_null(recs);
	if (!have_sigma())
		goto out;
	assert_int_equal(sigma_set_load_dir(&s, sigma_dir, NULL, NULL), 0);
	assert_int_equal(sigma_set_load_dir(&s, "collector/rules", NULL, NULL), 0);
	assert_true(s.n >= 90 && s.n < 1024);
	assert_int_equal(sigma_index_build(&s, &ix), 0);
	events_from_rules(&s, ix, rules);
	events_from_records(&s, ix, recs);
	for (size_t r = 0; r < s.n; r++)
		fired += rules->fired[r] + recs->fired[r] > 0;
	print_message("index: %zu of %zu rules keyed; rule values: %zu events, %zu matches, "
		      "%zu rules fired; records: %zu events, %zu matches, %.1f of %zu rules "
		      "tried per event\n", sigma_index_keyed(ix), s.n, rules->events,
		      rules->matches, fired, recs->events, recs->matches,
		      (double)recs->tried / (double)recs->events, s.n);
	assert_true(sigma_index_keyed(ix) >= 40);	/* the index does prune */
	assert_true(fired >= 50);			/* half the rules fired at least once */
	assert_true(recs->matches >= 20);		/* records fired rules too */
	assert_true(recs->tried * 4 < recs->events * s.n);
	sigma_index_free(ix);
	sigma_set_free(&s);
out:
	free(rules);
	free(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_keys),
		cmocka_unit_test(test_index_sigmahq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
