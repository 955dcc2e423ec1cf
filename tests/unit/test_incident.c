/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of incident grouping (collector/incident.c over
 * collector/store_incidents.c): alerts of one process tree within the
 * window share an incident; another tree, another host, a gap longer than
 * the window or a boundary program (sshd) between two processes open new
 * ones; the incident keeps the highest severity and the sets of classes,
 * articles and techniques; streaming and regrouping give the same
 * incidents, and regrouping is deterministic whatever order the alerts
 * were added in; streaming holds back an alert whose tree is not known yet.
 */
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "incident.h"
#include "store.h"

#define T0 1763769600000000000ll
#define SEC 1000000000ll

static char path[64];
static const uint8_t host_a[KEYS_SIGN_PK_LEN] = { 0xaa };
static const uint8_t host_b[KEYS_SIGN_PK_LEN] = { 0xbb };
static uint32_t next_rec;

/* An exec row of pid (parent ppid) running exe at time ts, leaf 0. */
static void proc(struct store *s, const uint8_t *host, uint64_t pid, uint64_t ppid,
		 const char *exe, int64_t ts)
{
	struct store_row r;

	memset(&r, 0, sizeof(r));
	memcpy(r.host_id, host, KEYS_SIGN_PK_LEN);
	r.ts_wall_ns = ts;
	r.kind = CUSTOS_REC_EXEC;
	r.pid = pid;
	r.ppid = ppid;
	snprintf(r.proc_id, sizeof(r.proc_id), "b00t-%llu-%llu", (unsigned long long)ts,
		 (unsigned long long)pid);
	r.comm = "x";
	r.exe = exe;
	r.path = "";
	r.rec_index = next_rec++;
	assert_int_equal(store_add_record(s, &r), 0);
}

static void alert(struct store *s, const uint8_t *host, uint64_t pid, int64_t ts,
		  const char *rule, int severity, const char *taxonomy, const char *article,
		  uint32_t rec)
{
	struct store_alert a = { .ts_wall_ns = ts, .rule_id = rule, .title = rule,
		.severity = severity, .category = "process_creation", .taxonomy = taxonomy,
		.article = article, .technique = "", .pid = pid, .image = "", .leaf = 1,
		.rec_index = rec };

	memcpy(a.host_id, host, KEYS_SIGN_PK_LEN);
	assert_int_equal(store_add_alert(s, &a), 0);
}

static struct store *open_store(void)
{
	struct store *s;

	snprintf(path, sizeof(path), "/tmp/custos-test-incident-%d.sqlite", getpid());
	unlink(path);
	assert_int_equal(store_open(path, 0, &s), 0);
	next_rec = 1000;
	return s;
}

static void close_store(struct store *s)
{
	char p[80];

	store_close(s);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* The processes: host a: 100 (bash under pid 1) -> 101 (python) -> 102;
 * 200 (another tree under pid 1); sshd 300 (under 1) -> 301 and 302 (two
 * logins); host b: 100 under 1. */
static void processes(struct store *s)
{
	proc(s, host_a, 100, 1, "/usr/bin/bash", T0);
	proc(s, host_a, 101, 100, "/usr/bin/python3", T0 + 1);
	proc(s, host_a, 102, 101, "/usr/bin/sh", T0 + 2);
	proc(s, host_a, 200, 1, "/usr/bin/bash", T0 + 3);
	proc(s, host_a, 300, 1, "/usr/sbin/sshd", T0 + 4);
	proc(s, host_a, 301, 300, "/usr/bin/bash", T0 + 5);
	proc(s, host_a, 302, 300, "/usr/bin/bash", T0 + 6);
	proc(s, host_b, 100, 1, "/usr/bin/bash", T0 + 7);
}

/* The alerts, in time order (rec: their record index). */
static void alerts(struct store *s, int reversed)
{
	static const struct {
		const uint8_t *host;
		uint64_t pid;
		int64_t dt;
		const char *rule;
		int sev;
		const char *tax, *art;
	} al[] = {
		{ host_a, 101, 10, "r-download", 3, "malicious-code/infected-system", "2" },
		{ host_a, 102, 20, "r-shell", 4, "intrusions/unprivileged-account-compromise", "2" },
		{ host_a, 102, 21, "r-shadow", 3, "information-content-security/"
		  "unauthorised-information-access", "2" },
		{ host_a, 200, 22, "r-sniff", 2, "information-gathering/sniffing", "3" },
		{ host_a, 301, 23, "r-cron", 2, "intrusions/privileged-account-compromise", "4" },
		{ host_a, 302, 24, "r-cron", 2, "intrusions/privileged-account-compromise", "4" },
		{ host_b, 100, 25, "r-shell", 4, "intrusions/unprivileged-account-compromise", "2" },
		{ host_a, 101, 3600, "r-download", 3, "malicious-code/infected-system", "2" },
	};
	size_t n = sizeof(al) / sizeof(al[0]);

	for (size_t k = 0; k < n; k++) {
		size_t i = reversed ? n - 1 - k : k;
		alert(s, al[i].host, al[i].pid, T0 + al[i].dt * SEC, al[i].rule, al[i].sev,
		      al[i].tax, al[i].art, (uint32_t)i);
		if (reversed)	/* streaming, newest first: grouped as they come */
			assert_int_equal(incident_update(s, NULL), 0);
	}
}

struct seen {
	char text[16][512];
	size_t n;
};

static int collect(void *ctx, const struct store_incident *inc)
{
	struct seen *v = ctx;

	assert_true(v->n < 16);
	snprintf(v->text[v->n++], sizeof(v->text[0]), "%s %02x %llu %lld..%lld sev=%d n=%llu "
		 "[%s] [%s] %s", inc->id, inc->host_id[0], (unsigned long long)inc->root_pid,
		 (long long)((inc->first_ns - T0) / SEC), (long long)((inc->last_ns - T0) / SEC),
		 inc->severity, (unsigned long long)inc->alerts, inc->classes, inc->articles,
		 inc->tree);
	return 0;
}

static int has(const struct seen *v, const char *part)
{
	for (size_t i = 0; i < v->n; i++)
		if (strstr(v->text[i], part))
			return 1;
	return 0;
}

static void grouped(struct store *s, struct seen *v)
{
	memset(v, 0, sizeof(*v));
	assert_int_equal(store_incidents(s, NULL, NULL, collect, v), 0);
}

static void test_grouping_rule(void **state)
{
	struct store *s = open_store();
	struct seen v;
	uint64_t opened;

	(void)state;
	assert_int_equal(store_begin(s), 0);
	processes(s);
	alerts(s, 0);
	assert_int_equal(incident_update(s, &opened), 0);
	assert_int_equal(store_commit(s), 0);
	grouped(s, &v);
	for (size_t i = 0; i < v.n; i++)
		print_message("%s\n", v.text[i]);
	assert_int_equal(opened, 6);
	assert_int_equal(v.n, 6);
	/* 101 and 102 are one tree (root 100, under pid 1), 10 s apart: one
	 * incident, critical, two classes, one article. */
	assert_string_equal(v.text[0], "inc-1-0 aa 100 10..21 sev=4 n=3 [information-content-"
			    "security/unauthorised-information-access, intrusions/unprivileged-"
			    "account-compromise, malicious-code/infected-system] [2] b00t-"
			    "1763769600000000000-100");
	assert_string_equal(v.text[1], "inc-1-3 aa 200 22..22 sev=2 n=1 [information-gathering/"
			    "sniffing] [3] b00t-1763769600000000003-200");
	/* two logins under sshd: two trees */
	assert_non_null(strstr(v.text[2], "inc-1-4 aa 301 23..23"));
	assert_non_null(strstr(v.text[3], "inc-1-5 aa 302 24..24"));
	/* same pid, other host */
	assert_non_null(strstr(v.text[4], "inc-1-6 bb 100 25..25"));
	/* the first tree again, more than the window after its last alert */
	assert_non_null(strstr(v.text[5], "inc-1-7 aa 100 3600..3600 sev=3 n=1"));
	close_store(s);
}

static void test_regroup_deterministic(void **state)
{
	struct store *s = open_store();
	struct seen streamed, again, reversed;
	uint64_t opened;

	(void)state;
	assert_int_equal(store_begin(s), 0);
	processes(s);
	alerts(s, 0);
	assert_int_equal(incident_update(s, NULL), 0);
	assert_int_equal(store_commit(s), 0);
	grouped(s, &streamed);
	assert_int_equal(incident_regroup(s, &opened), 0);
	assert_int_equal(opened, 6);
	grouped(s, &again);
	assert_memory_equal(&streamed, &again, sizeof(again));
	close_store(s);

	/* the same alerts arriving newest first, grouped after each (not what
	 * time order gives): regroup gives what time order gave */
	s = open_store();
	assert_int_equal(store_begin(s), 0);
	processes(s);
	alerts(s, 1);
	assert_int_equal(incident_update(s, NULL), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(incident_regroup(s, NULL), 0);
	grouped(s, &reversed);
	assert_memory_equal(&streamed, &reversed, sizeof(reversed));
	close_store(s);
}

static int count_alerts(void *ctx, const struct store_alert *a)
{
	(void)a;
	(*(int *)ctx)++;
	return 0;
}

static void test_alerts_and_filters(void **state)
{
	struct store *s = open_store();
	struct seen v;
	int n = 0;

	(void)state;
	assert_int_equal(store_begin(s), 0);
	processes(s);
	alerts(s, 0);
	assert_int_equal(incident_update(s, NULL), 0);
	/* nothing left ungrouped: a second pass opens nothing */
	assert_int_equal(incident_update(s, NULL), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_incident_alerts(s, "inc-1-0", count_alerts, &n), 0);
	assert_int_equal(n, 3);
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_incidents(s, host_b, NULL, collect, &v), 0);
	assert_int_equal(v.n, 1);
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_incidents(s, NULL, "inc-1-3", collect, &v), 0);
	assert_int_equal(v.n, 1);
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_incidents(s, NULL, "inc-9-9", collect, &v), 0);
	assert_int_equal(v.n, 0);
	close_store(s);
}

static void test_tree_and_boundaries(void **state)
{
	struct store *s = open_store();
	char tree[STORE_TREE_MAX];
	uint64_t root;

	(void)state;
	assert_true(incident_boundary("/usr/sbin/sshd", "sshd"));
	assert_true(incident_boundary("", "cron"));
	assert_true(incident_boundary("/lib/systemd/systemd", "systemd"));
	assert_false(incident_boundary("/usr/bin/bash", "bash"));
	assert_false(incident_boundary("/usr/bin/sudo", "sudo"));
	assert_int_equal(store_begin(s), 0);
	processes(s);
	assert_int_equal(incident_tree(s, host_a, 102, T0 + 100, &root, tree, NULL), 0);
	assert_int_equal(root, 100);
	assert_string_equal(tree, "b00t-1763769600000000000-100");
	assert_int_equal(incident_tree(s, host_a, 301, T0 + 100, &root, tree, NULL), 0);
	assert_int_equal(root, 301);
	/* before its exec the index does not know 102: it is its own root */
	assert_int_equal(incident_tree(s, host_a, 102, T0 + 1, &root, tree, NULL), 0);
	assert_int_equal(root, 102);
	assert_string_equal(tree, "pid-102");
	assert_int_equal(incident_tree(s, host_a, 0, T0 + 100, &root, tree, NULL), 0);
	assert_string_equal(tree, "pid-0");
	store_rollback(s);
	close_store(s);
}

/* Streaming holds an alert back while its parent is unknown to the index
 * (its exec record may come in a later batch), with the later alerts of
 * its host, until the parent is known or the host's records are
 * INCIDENT_SETTLE_NS past it; incident_flush holds nothing back. */
static void test_held_until_known(void **state)
{
	struct store *s = open_store();
	struct seen v;
	int known;
	char tree[STORE_TREE_MAX];
	uint64_t root;

	(void)state;
	assert_int_equal(store_begin(s), 0);
	processes(s);
	proc(s, host_a, 501, 500, "/usr/bin/bash", T0 + 10 * SEC);
	assert_int_equal(incident_tree(s, host_a, 501, T0 + 10 * SEC, &root, tree, &known), 0);
	assert_int_equal(known, 0);
	alert(s, host_a, 501, T0 + 10 * SEC, "r-shell", 4, "intrusions/x", "2", 1);
	alert(s, host_a, 102, T0 + 11 * SEC, "r-shadow", 3, "information-content-security/x",
	      "2", 2);
	alert(s, host_b, 100, T0 + 12 * SEC, "r-shell", 4, "intrusions/x", "2", 3);
	assert_int_equal(incident_update(s, NULL), 0);
	grouped(s, &v);
	assert_int_equal(v.n, 1);	/* host b's only: host a's wait for 501's parent */
	assert_true(has(&v, " bb 100 12..12 "));

	/* the parent's exec arrives (held by the agent for hashing) */
	proc(s, host_a, 500, 1, "/usr/bin/python3", T0 + 9 * SEC);
	assert_int_equal(incident_update(s, NULL), 0);
	grouped(s, &v);
	assert_int_equal(v.n, 3);
	assert_true(has(&v, " aa 500 10..10 "));
	assert_true(has(&v, " aa 100 11..11 "));

	/* a parent never recorded: held until the host's records are 5 s on */
	proc(s, host_a, 601, 600, "/usr/bin/bash", T0 + 20 * SEC);
	alert(s, host_a, 601, T0 + 20 * SEC, "r-shell", 4, "intrusions/x", "2", 4);
	proc(s, host_a, 700, 1, "/usr/bin/true", T0 + 24 * SEC);
	assert_int_equal(incident_update(s, NULL), 0);
	grouped(s, &v);
	assert_int_equal(v.n, 3);
	proc(s, host_a, 701, 1, "/usr/bin/true", T0 + 25 * SEC);
	assert_int_equal(incident_update(s, NULL), 0);
	grouped(s, &v);
	assert_int_equal(v.n, 4);
	assert_true(has(&v, " aa 601 20..20 "));

	/* serve's stop: nothing held back */
	proc(s, host_a, 801, 800, "/usr/bin/bash", T0 + 30 * SEC);
	alert(s, host_a, 801, T0 + 30 * SEC, "r-shell", 4, "intrusions/x", "2", 5);
	assert_int_equal(incident_update(s, NULL), 0);
	assert_int_equal(store_commit(s), 0);
	grouped(s, &v);
	assert_int_equal(v.n, 4);
	assert_int_equal(incident_flush(s, NULL), 0);
	grouped(s, &v);
	assert_int_equal(v.n, 5);
	assert_true(has(&v, " aa 801 30..30 "));
	close_store(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping_rule),
		cmocka_unit_test(test_regroup_deterministic),
		cmocka_unit_test(test_alerts_and_filters),
		cmocka_unit_test(test_tree_and_boundaries),
		cmocka_unit_test(test_held_until_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
