/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `enroll --list FILE`: reads and checks a list of hosts (the format and
 * the all-or-nothing rule in enroll_list.h), then has the keystore append
 * them all under one lock of the event log, which is verified once.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "enroll_list.h"
#include "error.h"
#include "keys.h"

#define FIELD_SEP " \t\r\n"

void enroll_list_free(struct enroll_list *l)
{
	if (!l)
		return;
	free(l->hosts);
	free(l->lines);
	memset(l, 0, sizeof(*l));
}

static int list_push(struct enroll_list *l, const char *name, const struct custos_pubkey *pk,
		     unsigned line)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct ks_enrolment *h = realloc(l->hosts, cap * sizeof(*h));
		unsigned *ln;

		if (!h)
			return -CUSTOS_ERR_NOMEM;
		l->hosts = h;
		ln = realloc(l->lines, cap * sizeof(*ln));
		if (!ln)
			return -CUSTOS_ERR_NOMEM;
		l->lines = ln;
		l->cap = cap;
	}
	memset(&l->hosts[l->count], 0, sizeof(l->hosts[0]));
	snprintf(l->hosts[l->count].name, sizeof(l->hosts[0].name), "%s", name);
	l->hosts[l->count].pk = *pk;
	l->lines[l->count++] = line;
	return 0;
}

/* Split s into fields; a field starting with '#' ends the line.
 * OUT: f[0], f[1]. Returns the number of fields (at most 3: "too many"). */
static int split(char *s, char *f[2])
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(s, FIELD_SEP, &save); t && t[0] != '#' && n < 3;
	     t = strtok_r(NULL, FIELD_SEP, &save)) {
		if (n < 2)
			f[n] = t;
		n++;
	}
	return n;
}

/* Check one line and add its host. Returns 0, 1 (the line is wrong,
 * logged) or -CUSTOS_ERR_NOMEM. */
static int list_line(struct enroll_list *l, const char *path, const char *base, char *s,
		     unsigned ln)
{
	char *f[2], keypath[COLL_PATH_MAX];
	struct custos_pubkey pk;
	int n = split(s, f), kl = 0, ret;

	if (n == 0)
		return 0;
	if (n != 2) {
		coll_log("%s: line %u: expected NAME KEYFILE (%s)", path, ln,
			 n < 2 ? "one field" : "more than two fields");
		return 1;
	}
	if (!keystore_name_ok(f[0])) {
		coll_log("%s: line %u: '%s' is not a host name (1-64 of A-Z a-z 0-9 . _ -)",
			 path, ln, f[0]);
		return 1;
	}
	if (f[1][0] == '/' ? snprintf(keypath, sizeof(keypath), "%s", f[1]) >= (int)sizeof(keypath)
			   : coll_path(keypath, base, f[1]) != 0) {
		coll_log("%s: line %u: key file path too long", path, ln);
		return 1;
	}
	ret = keys_load_public(keypath, &pk, &kl);
	if (ret) {
		coll_log("%s: line %u: key file %s%s%.0d: %s", path, ln, keypath, kl ? ": line " : "", kl,
			 custos_strerror(ret));
		return 1;
	}
	return list_push(l, f[0], &pk, ln);
}

/* Read every line of f. OUT: *bad, the number of wrong lines. */
static int list_lines(struct enroll_list *l, const char *path, const char *base, FILE *f,
		      unsigned *bad)
{
	char *s = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned ln = 0;
	int ret = 0;

	while (ret >= 0 && (len = getline(&s, &cap, f)) >= 0) {
		ln++;
		if (len > ENROLL_LIST_LINE || strlen(s) != (size_t)len) {
			coll_log("%s: line %u: %s", path, ln, len > ENROLL_LIST_LINE
				 ? "longer than 4096 bytes" : "holds a NUL byte");
			ret = 1;
		} else if (l->count >= ENROLL_LIST_MAX) {
			coll_log("%s: line %u: more than %d hosts", path, ln, ENROLL_LIST_MAX);
			ret = -CUSTOS_ERR_INVAL;
			(*bad)++;
			break;
		} else {
			ret = list_line(l, path, base, s, ln);
		}
		if (ret > 0)
			(*bad)++;
	}
	if (ret >= 0 && ferror(f)) {
		coll_log("%s: read error after line %u", path, ln);
		ret = -CUSTOS_ERR_IO;
	}
	free(s);
	return ret < 0 ? ret : 0;
}

static int by_name(const void *a, const void *b, void *ctx)
{
	const struct enroll_list *l = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(l->hosts[i].name, l->hosts[j].name);

	return c ? c : (i > j) - (i < j);
}

static int by_key(const void *a, const void *b, void *ctx)
{
	const struct enroll_list *l = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = memcmp(l->hosts[i].pk.sign_pk, l->hosts[j].pk.sign_pk, KEYS_SIGN_PK_LEN);

	return c ? c : (i > j) - (i < j);
}

/* Names and keys that appear twice in the list: each later line is
 * reported against the first. Returns the number of lines reported. */
static unsigned list_dups(const struct enroll_list *l, const char *path, size_t *ix)
{
	unsigned bad = 0;

	for (int pass = 0; pass < 2; pass++) {
		size_t first = 0;

		for (size_t i = 0; i < l->count; i++)
			ix[i] = i;
		qsort_r(ix, l->count, sizeof(*ix), pass ? by_key : by_name, (void *)l);
		for (size_t i = 1; i < l->count; i++) {
			const struct ks_enrolment *a = &l->hosts[ix[first]], *b = &l->hosts[ix[i]];

			if (pass ? memcmp(a->pk.sign_pk, b->pk.sign_pk, KEYS_SIGN_PK_LEN) != 0
				 : strcmp(a->name, b->name) != 0) {
				first = i;
				continue;
			}
			coll_log("%s: line %u: %s also on line %u (%s)", path, l->lines[ix[i]],
				 pass ? "this key is" : "this host name is", l->lines[ix[first]],
				 l->hosts[ix[first]].name);
			bad++;
		}
	}
	return bad;
}

/* Hosts whose name or key the keystore already holds. */
static unsigned list_enrolled(const struct enroll_list *l, const char *path,
			      const struct keystore *ks)
{
	unsigned bad = 0;

	for (size_t i = 0; i < l->count; i++) {
		const struct ks_host *h = keystore_host_named(ks, l->hosts[i].name);

		if (h) {
			coll_log("%s: line %u: a host named '%s' is already enrolled%s", path,
				 l->lines[i], h->name, h->revoked ? " (and revoked)" : "");
			bad++;
		} else if ((h = keystore_host(ks, l->hosts[i].pk.sign_pk)) != NULL) {
			coll_log("%s: line %u: this key is already enrolled as '%s'", path,
				 l->lines[i], h->name);
			bad++;
		}
	}
	return bad;
}

int enroll_list_read(const char *path, const struct keystore *ks, struct enroll_list *l)
{
	char *copy = strdup(path);
	size_t *ix = NULL;
	unsigned bad = 0;
	FILE *f = NULL;
	int ret = -CUSTOS_ERR_NOMEM;

	memset(l, 0, sizeof(*l));
	if (!copy)
		goto out;
	f = fopen(path, "re");
	ret = -CUSTOS_ERR_IO;
	if (!f) {
		coll_log("%s: cannot open the list: %m", path);
		goto out;
	}
	ret = list_lines(l, path, dirname(copy), f, &bad);
	if (ret)
		goto out;
	ret = -CUSTOS_ERR_NOMEM;
	ix = malloc((l->count ? l->count : 1) * sizeof(*ix));
	if (!ix)
		goto out;
	bad += list_dups(l, path, ix) + list_enrolled(l, path, ks);
	ret = 0;
	if (bad)
		coll_log("%s: %u problem%s: nothing enrolled", path, bad, bad == 1 ? "" : "s");
	else if (l->count == 0)
		coll_log("%s: no host in the list: nothing enrolled", path);
	if (bad || l->count == 0)
		ret = -CUSTOS_ERR_INVAL;
out:
	if (ret)
		enroll_list_free(l);
	if (f)
		fclose(f);
	free(ix);
	free(copy);
	return ret;
}

int enroll_list_run(const char *dir, const char *path)
{
	struct enroll_list l;
	struct keystore ks;
	size_t bad;
	int ret = keystore_open(&ks, dir, 1);

	if (ret)
		return ret;
	ret = enroll_list_read(path, &ks, &l);
	if (ret)
		goto out;
	ret = keystore_enroll_many(&ks, l.hosts, l.count, &bad);
	if (ret == -CUSTOS_ERR_EXISTS)
		coll_log("%s: line %u: '%s' or its key was enrolled meanwhile by another command: "
			 "nothing enrolled", path, l.lines[bad], l.hosts[bad].name);
	else if (ret && bad < l.count)
		coll_log("%s: line %u: enrolling %s: %s; the %zu host%s printed before it %s "
			 "enrolled, those after it are not; see the event log for this one", path,
			 l.lines[bad], l.hosts[bad].name, custos_strerror(ret), bad,
			 bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
	else if (ret)
		coll_log("%s: %s: nothing enrolled", path, custos_strerror(ret));
	enroll_list_free(&l);
out:
	keystore_close(&ks);
	return ret;
}
