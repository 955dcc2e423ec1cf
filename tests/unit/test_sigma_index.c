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
#include "sigma_testutil.h"

#define HEAD "title: t\nid: x\nlogsource: {product: linux, category: process_creation}\n"

static const char *const small[] = {
	/* 0: keyed by /wget and /curl, the filter does not matter */
	HEAD "detection:\n  sel:\n    Image|endswith: ['/wget', '/curl']\n"
	"  filter:\n    CommandLine|contains: ' -q'\n  condition: sel and not filter\n",
	/* 1: no Image: keyed by a CommandLine substring */
	HEAD "detection:\n  sel:\n    CommandLine|contains: 'nc -e'\n  condition: sel\n",
	/* 2: a negation: always tried */
	HEAD "detection:\n  sel:\n    Image|endswith: '/bash'\n  condition: not sel\n",
	/* 3: an or: keyed by both sides, an Image suffix and a CommandLine substring */
	HEAD "detection:\n  a:\n    Image|endswith: '/nc'\n  b:\n    CommandLine: 'x'\n"
	"  condition: a or b\n",
	/* 4: all of, a list of maps each with Image (equals), keyed */
	HEAD "detection:\n  sel_a:\n    - Image: '/usr/bin/Python3'\n    - Image|endswith: '/perl'\n"
	"  sel_b:\n    CommandLine|contains: 'socket'\n  condition: all of sel_*\n",
	/* 5: Image with a wildcard inside: keyed by its longest run, "/py" */
	HEAD "detection:\n  sel:\n    Image|endswith: '/py*on'\n  condition: sel\n",
	/* 6: file_event, keyed by /cp (another category) */
	"title: t\nid: y\nlogsource: {product: linux, category: file_event}\n"
	"detection:\n  sel:\n    Image|endswith: '/cp'\n  condition: sel\n",
	/* 7: a regex on one side of an or: always tried */
	HEAD "detection:\n  a:\n    CommandLine|contains: 'curl'\n  b:\n    CommandLine|re: 'w.et'\n"
	"  condition: a or b\n",
	/* 8: contains|all: keyed by its longest value, "--output" */
	HEAD "detection:\n  sel:\n    CommandLine|contains|all: [' -o', '--output']\n"
	"  condition: sel\n",
	/* 9: a map keyed by its most selective item (ParentImage "/nginx", not
	 *    CommandLine "sh"), the other map by User */
	HEAD "detection:\n  sel:\n    - ParentImage|endswith: '/nginx'\n      CommandLine|contains: 'sh'\n"
	"    - User: 'www-Data'\n  condition: sel\n",
	/* 10: a null value in the only item: always tried */
	HEAD "detection:\n  sel:\n    CommandLine: null\n  condition: sel\n",
};

/* The candidates for an event with these fields, as a string of rule
 * numbers ("2 5 "). */
static const char *cands(struct sigma_index *ix, enum sigma_category cat, const char *image,
			 const char *cmdline, const char *parent, const char *user)
{
	static char out[256];
	struct sigma_event ev = { .cat = cat };
	const size_t *c;
	size_t n, len = 0;

	ev.f[SIGMA_F_IMAGE] = image;
	ev.f[SIGMA_F_COMMANDLINE] = cmdline;
	ev.f[SIGMA_F_PARENTIMAGE] = parent;
	ev.f[SIGMA_F_USER] = user;
	n = sigma_index_candidates(ix, &ev, &c);
	out[0] = '\0';
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%zu ", c[k]);
	return out;
}

static void test_index_keys(void **state)
{
	const enum sigma_category pc = SIGMA_CAT_PROCESS_CREATION;
	struct sigma_set s = { 0 };
	struct sigma_index *ix = NULL;

	(void)state;
	s.n = sizeof(small) / sizeof(small[0]);
	s.rules = calloc(s.n, sizeof(*s.rules));
	assert_non_null(s.rules);
	for (size_t i = 0; i < s.n; i++)
		s.rules[i] = tu_sigma_rule(small[i]);
	assert_int_equal(sigma_index_build(&s, &ix), 0);
	assert_int_equal(sigma_index_keyed(ix), 8);	/* all but 2, 7, 10 */

	assert_string_equal(cands(ix, pc, "/usr/bin/ls", NULL, NULL, NULL), "2 7 10 ");
	assert_string_equal(cands(ix, pc, "/usr/bin/WGET", NULL, NULL, NULL), "0 2 7 10 ");
	assert_string_equal(cands(ix, pc, "/USR/BIN/python3", NULL, NULL, NULL), "2 4 5 7 10 ");
	/* suffix keys are tails, substring keys anywhere */
	assert_string_equal(cands(ix, pc, "/opt/usr/bin/python3", NULL, NULL, NULL),
			    "2 4 5 7 10 ");
	assert_string_equal(cands(ix, pc, "wget", NULL, NULL, NULL), "2 7 10 ");
	assert_string_equal(cands(ix, pc, NULL, NULL, NULL, NULL), "2 7 10 ");
	/* substrings, case-insensitive, at the start, the end, overlapping */
	assert_string_equal(cands(ix, pc, "/usr/bin/ls", "NC -E /bin/sh", NULL, NULL), "1 2 7 10 ");
	assert_string_equal(cands(ix, pc, "/usr/bin/ls", "a nc nc -e", NULL, NULL), "1 2 7 10 ");
	assert_string_equal(cands(ix, pc, "/usr/bin/ls", "nc -", NULL, NULL), "2 7 10 ");
	assert_string_equal(cands(ix, pc, "/usr/bin/ls", "nc - e", NULL, NULL), "2 7 10 ");
	assert_string_equal(cands(ix, pc, "/usr/bin/ls", "tar xzf", NULL, NULL), "2 3 7 10 ");
	assert_string_equal(cands(ix, pc, "/bin/nc", "-l", NULL, NULL), "2 3 7 10 ");
	assert_string_equal(cands(ix, pc, "/bin/c", "curl --OUTPUT f", NULL, NULL), "2 7 8 10 ");
	assert_string_equal(cands(ix, pc, "/bin/c", "curl -o f", NULL, NULL), "2 7 10 ");
	assert_string_equal(cands(ix, pc, "/bin/sh", "sh", "/usr/sbin/nginx", NULL), "2 7 9 10 ");
	assert_string_equal(cands(ix, pc, "/bin/sh", "sh", "/usr/sbin/apache", NULL), "2 7 10 ");
	assert_string_equal(cands(ix, pc, "/bin/sh", "sh", NULL, "WWW-DATA"), "2 7 9 10 ");
	assert_string_equal(cands(ix, pc, "/bin/sh", "sh", NULL, "www-dat"), "2 7 10 ");
	/* other categories */
	assert_string_equal(cands(ix, SIGMA_CAT_FILE_EVENT, "/bin/cp", "x", NULL, NULL), "6 ");
	assert_string_equal(cands(ix, SIGMA_CAT_FILE_EVENT, "/bin/mv", NULL, NULL, NULL), "");
	assert_string_equal(cands(ix, SIGMA_CAT_NETWORK_CONNECTION, "/bin/cp", NULL, NULL, NULL),
			    "");
	assert_string_equal(cands(ix, SIGMA_CAT_OTHER, "/bin/cp", NULL, NULL, NULL), "");
	sigma_index_free(ix);
	sigma_set_free(&s);
}

/* --- the whole SigmaHQ set ------------------------------------------------ */

static char sigma_dir[TU_SIGMA_DIR_MAX];

struct tally {
	size_t events, matches, tried, fired[1024];
};

/* Every rule tried against the index's candidates: the same matches. */
static void compare(const struct sigma_set *s, struct sigma_index *ix,
		    const struct sigma_event *ev, struct tally *t)
{
	size_t all[1024], again[1024], n_all = 0, n_ix = 0, n_c, n_again;
	const size_t *c;

	for (size_t i = 0; i < s->n; i++)
		if (sigma_rule_match(s->rules[i], ev))
			all[n_all++] = i;
	n_again = sigma_index_candidates(ix, ev, &c);	/* the index's memo holds its texts now */
	memcpy(again, c, n_again * sizeof(c[0]));
	n_c = sigma_index_candidates(ix, ev, &c);
	assert_int_equal(n_c, n_again);		/* the memo gives what the scans gave */
	assert_memory_equal(c, again, n_c * sizeof(c[0]));
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

/* Events whose fields hold several rules' values at once (each map's
 * values of every selection of a rule, joined, so that "and" and
 * "all of" conditions fire), and random mixes of every rule's values:
 * concatenated pieces, cut, case flipped, between other bytes, so that a
 * substring key is met at the start, the end, overlapping another, or
 * only nearly. */
struct pool {
	const char *s[4096];
	int field[4096];
	size_t n;
};

static void pool_fill(const struct sigma_set *s, struct pool *p)
{
	static char text[4096][128];

	p->n = 0;
	for (size_t r = 0; r < s->n; r++)
		for (size_t k = 0; k < s->rules[r]->n_sels; k++)
			for (size_t m = 0; m < s->rules[r]->sels[k].n; m++)
				for (size_t i = 0; i < s->rules[r]->sels[k].maps[m].n; i++) {
					const struct sigma_item *it = &s->rules[r]->sels[k].maps[m].items[i];

					for (size_t v = 0; v < it->n && p->n < 4096; v++) {
						if (it->v[v].kind != SIGMA_V_GLOB)
							continue;
						from_glob(it->v[v].pat, (int)(p->n % 4), text[p->n],
							  sizeof(text[0]));
						p->s[p->n] = text[p->n];
						p->field[p->n++] = it->field;
					}
				}
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Append a piece of q (maybe cut at either end, maybe case flipped) to t. */
static void put_piece(char *t, size_t cap, const char *q, uint64_t *x)
{
	size_t n = strlen(t), len = strlen(q), from = 0, to = len;

	if (len > 1 && rnd(x) % 4 == 0)
		from = (size_t)(rnd(x) % 2);
	if (len > 1 && rnd(x) % 4 == 0)
		to = len - (size_t)(rnd(x) % 2);
	for (size_t i = from; i < to && n + 1 < cap; i++) {
		char c = q[i];

		if (rnd(x) % 8 == 0 && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		t[n++] = c;
	}
	t[n] = '\0';
}

static void events_mixed(const struct sigma_set *s, struct sigma_index *ix, struct tally *t)
{
	static char text[SIGMA_F_COUNT][1024];
	static const char *const glue[] = { "", " ", "/", "-", "x", "'", " -" };
	struct pool *p = malloc(sizeof(*p));
	uint64_t x = 0x9e3779b97f4a7c15ull;

	assert_non_null(p);
	pool_fill(s, p);
	assert_true(p->n > 100);
	for (int e = 0; e < 30000; e++) {
		struct sigma_event ev = { .cat = (enum sigma_category)(rnd(&x) % SIGMA_CAT_COUNT) };

		for (int f = 0; f < SIGMA_F_COUNT; f++) {
			int pieces = (int)(rnd(&x) % 4);

			text[f][0] = '\0';
			for (int k = 0; k < pieces; k++) {
				size_t q = (size_t)(rnd(&x) % p->n);

				if (rnd(&x) % 4)	/* mostly values of this field */
					for (size_t tries = 0; tries < 64 && p->field[q] != f; tries++)
						q = (size_t)(rnd(&x) % p->n);
				put_piece(text[f], sizeof(text[0]), glue[rnd(&x) % 7], &x);
				put_piece(text[f], sizeof(text[0]), p->s[q], &x);
			}
			ev.f[f] = pieces || rnd(&x) % 2 ? text[f] : NULL;
		}
		compare(s, ix, &ev, t);
	}
	free(p);
}

/* Every selection's map v (modulo its count) of rule r, joined by field. */
static void events_whole_rules(const struct sigma_set *s, struct sigma_index *ix,
			       struct tally *t)
{
	static char text[SIGMA_F_COUNT][2048];

	for (size_t r = 0; r < s->n; r++)
		for (int v = 0; v < 8; v++) {
			struct sigma_event ev = { .cat = s->rules[r]->cat };

			for (int f = 0; f < SIGMA_F_COUNT; f++)
				text[f][0] = '\0';
			for (size_t k = 0; k < s->rules[r]->n_sels; k++) {
				const struct sigma_sel *sel = &s->rules[r]->sels[k];
				const struct sigma_map *mp = &sel->maps[(size_t)v % sel->n];

				for (size_t i = 0; i < mp->n; i++) {
					const struct sigma_item *it = &mp->items[i];
					char one[1024];
					size_t n = strlen(text[it->field]);

					for (size_t j = 0; j < it->n; j++) {
						if (it->v[j].kind != SIGMA_V_GLOB ||
						    (!it->all && j != (size_t)v % it->n))
							continue;
						from_glob(it->v[j].pat, v, one, sizeof(one));
						n += (size_t)snprintf(text[it->field] + n,
								      sizeof(text[0]) - n, "%s%s",
								      n ? " " : "", one);
						if (n >= sizeof(text[0]))
							n = sizeof(text[0]) - 1;
					}
					ev.f[it->field] = text[it->field];
				}
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
	struct tally *mixed = calloc(1, sizeof(*mixed));
	size_t fired = 0;

	(void)state;
	assert_non_null(rules);
	assert_non_null(recs);
	assert_non_null(mixed);
	if (!tu_have_sigma(sigma_dir))
		goto out;
	assert_int_equal(sigma_set_load_dir(&s, sigma_dir, NULL, NULL), 0);
	assert_int_equal(sigma_set_load_dir(&s, "collector/rules", NULL, NULL), 0);
	assert_true(s.n >= 90 && s.n < 1024);
	assert_int_equal(sigma_index_build(&s, &ix), 0);
	events_from_rules(&s, ix, rules);
	events_whole_rules(&s, ix, rules);
	events_mixed(&s, ix, mixed);
	events_from_records(&s, ix, recs);
	for (size_t r = 0; r < s.n; r++)
		fired += rules->fired[r] + recs->fired[r] + mixed->fired[r] > 0;
	print_message("index: %zu of %zu rules keyed; rule values: %zu events, %zu matches; "
		      "mixed values: %zu events, %zu matches; %zu rules fired; records: %zu "
		      "events, %zu matches, %.2f of %zu rules tried per event\n",
		      sigma_index_keyed(ix), s.n, rules->events, rules->matches, mixed->events,
		      mixed->matches, fired, recs->events, recs->matches,
		      (double)recs->tried / (double)recs->events, s.n);
	assert_true(sigma_index_keyed(ix) >= 90);	/* the index does prune */
	assert_true(fired >= 70);			/* most rules fired at least once */
	assert_true(mixed->matches >= 1000);		/* the mixes fire rules too */
	assert_true(recs->matches >= 20);		/* records fired rules too */
	assert_true(recs->tried * 20 < recs->events * s.n);
	sigma_index_free(ix);
	sigma_set_free(&s);
out:
	free(rules);
	free(recs);
	free(mixed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_keys),
		cmocka_unit_test(test_index_sigmahq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
