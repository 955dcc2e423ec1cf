/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Threshold and sequence rules (collector/corr*.c): the loader takes good
 * rules and refuses bad ones with the reason and line (and leaves Sigma
 * rules to the Sigma loader); the evaluator counts per group in sliding
 * windows of record time, counts distinct values, fires once per window,
 * forgets evicted groups, keeps windows per host; sequences fire within T
 * in the same process tree (or on the same file) and not after T or in
 * another tree; alerts carry every record's reference (store_alert.refs).
 * Our rule pack fires on the activity it describes. The process table
 * shared with triage undoes an aborted batch, image pairs included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigma_testutil.h"
#include "corr.h"
#include "store.h"
#include "triage.h"

#define SEC 1000000000ll

static char dir[] = "/tmp/custos-test-corr-XXXXXX";
static struct custos_record *rec;
static struct batch_header hdr;
static uint8_t bhash[CUSTOS_HASH_LEN];
static uint32_t next_idx;

/* --- records ------------------------------------------------------------------- */

static void conn(uint64_t pid, const char *dip, uint64_t port, int64_t result, int64_t ts)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = CUSTOS_REC_CONNECT;
	rec->ts_ns = (uint64_t)ts;
	tu_subject(&rec->subj, pid);
	rec->u.net.result = result;
	rec->u.net.family = AF_INET;
	rec->u.net.local_addr_len = 4;
	inet_pton(AF_INET, "127.0.0.1", rec->u.net.local_addr);
	rec->u.net.local_port = 40000;
	rec->u.net.remote_addr_len = 4;
	inet_pton(AF_INET, dip, rec->u.net.remote_addr);
	rec->u.net.remote_port = port;
}

static void accept_from(uint64_t pid, const char *sip, uint64_t port, int64_t ts)
{
	conn(pid, sip, 50000, 5, ts);
	rec->kind = CUSTOS_REC_ACCEPT;
	rec->u.net.local_port = port;
}

static void exec_of(uint64_t pid, uint64_t ppid, const char *exe, int64_t ts)
{
	tu_exec(rec, pid, (uint64_t)ts);
	rec->subj.ppid = ppid;
	record_set_bytes(rec->u.exec.exe, &rec->u.exec.exe_len, CUSTOS_PATH_MAX, exe);
	record_set_bytes(rec->u.exec.argv, &rec->u.exec.argv_len, CUSTOS_ARGS_MAX, exe);
}

static void fork_of(uint64_t parent, uint64_t ppid, uint64_t child, int64_t ts)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = CUSTOS_REC_FORK;
	rec->ts_ns = (uint64_t)ts;
	tu_subject(&rec->subj, parent);
	rec->subj.ppid = ppid;
	rec->u.fork.child_pid = child;
}

static void open_of(uint64_t pid, uint64_t ppid, const char *path, uint64_t flags, int64_t ts)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = CUSTOS_REC_OPEN;
	rec->ts_ns = (uint64_t)ts;
	tu_subject(&rec->subj, pid);
	rec->subj.ppid = ppid;
	record_set_bytes(rec->u.file.path, &rec->u.file.path_len, CUSTOS_PATH_MAX, path);
	rec->u.file.flags = flags;
	rec->u.file.result = 3;
}

/* --- rules and alerts ------------------------------------------------------------- */

static void write_rule(const char *sub, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define HEAD(id) "title: test " id "\nid: " id "\nlevel: high\ncustos_taxonomy: x/y\n"

struct seen {
	int n;
	char ids[8][48], group[8][STORE_GROUP_MAX];
	size_t n_refs[8];
	uint64_t total[8];
	struct store_ref refs[8][STORE_ALERT_REFS_MAX];
	uint32_t idx[8];
};

static int collect(void *ctx, const struct store_alert *a)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", a->rule_id);
		snprintf(s->group[s->n], sizeof(s->group[0]), "%s", a->group ? a->group : "");
		s->n_refs[s->n] = a->n_refs;
		s->total[s->n] = a->ref_total;
		memcpy(s->refs[s->n], a->refs, a->n_refs * sizeof(a->refs[0]));
		s->idx[s->n] = a->rec_index;
	}
	s->n++;
	return 0;
}

static struct seen alerts_of(struct store *s)
{
	struct seen seen;

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alerts(s, NULL, collect, &seen), 0);
	return seen;
}

static struct store *fresh_store(const char *name)
{
	char path[256];
	struct store *s = NULL;

	snprintf(path, sizeof(path), "%s/%s.sqlite", dir, name);
	assert_int_equal(store_open(path, 0, &s), 0);
	return s;
}

static int in_tx;	/* 1: the caller holds a transaction */

/* Feed rec to t (in a transaction of its own unless in_tx). */
static void feed(struct triage *t, struct store *s)
{
	uint64_t n = 0;

	if (!in_tx)
		assert_int_equal(store_begin(s), 0);
	assert_int_equal(triage_record(t, s, &hdr, bhash, 1, next_idx++, rec, &n), 0);
	if (!in_tx)
		assert_int_equal(store_commit(s), 0);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	rec = malloc(sizeof(*rec));
	assert_non_null(rec);
	memset(&hdr, 0, sizeof(hdr));
	memset(hdr.host_id, 0x11, sizeof(hdr.host_id));
	memset(hdr.boot_id, 0x22, sizeof(hdr.boot_id));
	hdr.clock_offset_ns = 1700000000 * SEC;
	memset(bhash, 0x33, sizeof(bhash));
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	free(rec);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* --- the loader --------------------------------------------------------------------- */

static const char scan_rule[] = HEAD("scan")
	"custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
	"      Initiated: 'true'\n    condition: sel\n  group_by: process\n"
	"  distinct: DestinationPort\n  count: 5\n  window: 10s\n";

static const char *const bad_rules[][2] = {
	{ HEAD("b1") "custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
	  "      Initiated: 'true'\n    condition: sel\n  group_by: process\n  count: 5\n"
	  "  window: 10s\n  colour: red\n", "line 14: unknown key 'colour' in custos_threshold" },
	{ HEAD("b2") "custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
	  "      Initiated: 'true'\n    condition: sel\n  group_by: process\n  count: 0\n"
	  "  window: 10s\n", "count '0' is not a number from 1 to 1000000" },
	{ HEAD("b3") "custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
	  "      Initiated: 'true'\n    condition: sel\n  group_by: process\n  count: 65\n"
	  "  distinct: DestinationPort\n  window: 10s\n", "count '65' is not a number from 1 to 64" },
	{ HEAD("b4") "custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
	  "      Initiated: 'true'\n    condition: sel\n  group_by: process\n  count: 5\n"
	  "  window: 10 s\n", "window '10 s' is not a duration" },
	{ HEAD("b5") "custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
	  "      Initiated: 'true'\n    condition: sel\n  group_by: Colour\n  count: 5\n"
	  "  window: 10s\n", "group_by 'Colour' is not a Sigma field we map" },
	{ HEAD("b6") "custos_threshold:\n  category: dns\n  detection:\n    sel:\n"
	  "      Initiated: 'true'\n    condition: sel\n  group_by: process\n  count: 5\n"
	  "  window: 10s\n", "category 'dns' is not one of" },
	{ HEAD("b7") "custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
	  "      Initiated|gt: 1\n    condition: sel\n  group_by: process\n  count: 5\n"
	  "  window: 10s\n", "custos_threshold: " },
	{ HEAD("b8") "custos_sequence:\n  scope: sideways\n  within: 1m\n",
	  "scope 'sideways' is not process_tree or same_file" },
	{ HEAD("b9") "custos_sequence:\n  scope: same_file\n  within: 1m\n  first:\n"
	  "    category: process_creation\n    detection:\n      s:\n        Image: /x\n"
	  "      condition: s\n  then:\n    category: process_creation\n    detection:\n"
	  "      s:\n        Image: /x\n      condition: s\n", "scope same_file needs a file stage" },
	{ HEAD("b10") "custos_sequence:\n  scope: process_tree\n  within: 1m\n  first:\n"
	  "    category: process_creation\n    detection:\n      s:\n        Image: /x\n"
	  "      condition: s\n", "then is not a map" },
	{ "title: t\nlevel: high\ncustos_sequence:\n  scope: process_tree\n", "id is missing" },
	{ HEAD("b12") "logsource:\n  product: linux\ncustos_sequence:\n  scope: process_tree\n",
	  "line 5: unknown key 'logsource'" },
	{ "title: t\nid: b13\nlevel: severe\ncustos_sequence:\n  scope: process_tree\n",
	  "level 'severe' is not informational" },
	{ HEAD("b14") "custos_threshold: {}\ncustos_sequence: {}\n",
	  "custos_threshold and custos_sequence in one rule" },
	{ HEAD("b15") "custos_threshold:\n  category: network_attempt\n  process_connected: true\n",
	  "window is missing" },
};

static void report(void *ctx, const char *path, const char *reason)
{
	char *out = ctx;
	size_t n = strlen(out);

	snprintf(out + n, 8192 - n, "%s: %s\n", path, reason);
}

static void test_load(void **state)
{
	char path[256], *msgs = calloc(1, 8192);
	struct corr_set cs;
	struct sigma_set ss;

	(void)state;
	assert_non_null(msgs);
	write_rule("load", "a_good.yml", scan_rule);
	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "bad%02zu.yml", i);
		write_rule("load", name, bad_rules[i][0]);
	}
	snprintf(path, sizeof(path), "%s/load", dir);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(corr_set_load_dir(&cs, path, report, msgs), 0);
	assert_int_equal(cs.loaded[CORR_THRESHOLD], 1);
	assert_int_equal(cs.refused[CORR_THRESHOLD] + cs.refused[CORR_SEQUENCE],
			 sizeof(bad_rules) / sizeof(bad_rules[0]));
	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		char want[300];

		snprintf(want, sizeof(want), "bad%02zu.yml: ", i);
		assert_non_null(strstr(msgs, want));
		if (!strstr(strstr(msgs, want), bad_rules[i][1]))
			fail_msg("bad%02zu: want '%s' in:\n%s", i, bad_rules[i][1], msgs);
	}
	corr_set_free(&cs);
	/* The Sigma loader leaves correlation rules alone (neither loaded nor refused). */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(sigma_set_load_dir(&ss, path, NULL, NULL), 0);
	assert_int_equal(ss.n, 0);
	for (int c = 0; c <= SIGMA_CAT_OTHER; c++)
		assert_int_equal(ss.refused[c], 0);
	sigma_set_free(&ss);
	/* Not YAML: refused and counted once, by the Sigma loader (with the line). */
	write_rule("load", "not_yaml.yml", HEAD("b16") "custos_threshold: [\n");
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(corr_set_load_dir(&cs, path, NULL, NULL), 0);
	assert_int_equal(cs.refused[CORR_THRESHOLD] + cs.refused[CORR_SEQUENCE],
			 sizeof(bad_rules) / sizeof(bad_rules[0]));
	corr_set_free(&cs);
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(sigma_set_load_dir(&ss, path, NULL, NULL), 0);
	assert_int_equal(ss.refused[SIGMA_CAT_OTHER], 1);
	sigma_set_free(&ss);
	/* Our pack: every rule loads, none refused. */
	memset(&cs, 0, sizeof(cs));
	msgs[0] = '\0';
	assert_int_equal(corr_set_load_dir(&cs, "collector/rules", report, msgs), 0);
	assert_string_equal(msgs, "");
	assert_int_equal(cs.loaded[CORR_THRESHOLD], 7);
	assert_int_equal(cs.loaded[CORR_SEQUENCE], 3);
	corr_set_free(&cs);
	free(msgs);
}

/* --- threshold rules ------------------------------------------------------------------ */

static void count_sigma(void *ctx, const char *path, enum sigma_category cat, const char *reason)
{
	(void)path;
	(void)cat;
	(void)reason;
	(*(unsigned *)ctx)++;
}

static void count_corr(void *ctx, const char *path, const char *reason)
{
	(void)path;
	(void)reason;
	(*((unsigned *)ctx + 1))++;
}

/* The same sets, refusals and counts, from each loader alone and from
 * corr_rules_load_dir, which reads and parses each file once. */
static void same_sets(const char *path)
{
	struct sigma_set ss1, ss2;
	struct corr_set cs1, cs2;
	unsigned one[2] = { 0, 0 }, both[2] = { 0, 0 };

	memset(&ss1, 0, sizeof(ss1));
	memset(&ss2, 0, sizeof(ss2));
	memset(&cs1, 0, sizeof(cs1));
	memset(&cs2, 0, sizeof(cs2));
	assert_int_equal(sigma_set_load_dir(&ss1, path, count_sigma, one), 0);
	assert_int_equal(corr_set_load_dir(&cs1, path, count_corr, one), 0);
	assert_int_equal(corr_rules_load_dir(path, &ss2, count_sigma, &cs2, count_corr, both), 0);
	assert_int_equal(one[0], both[0]);
	assert_int_equal(one[1], both[1]);
	assert_int_equal(ss1.n, ss2.n);
	assert_int_equal(cs1.n, cs2.n);
	assert_memory_equal(ss1.loaded, ss2.loaded, sizeof(ss1.loaded));
	assert_memory_equal(ss1.refused, ss2.refused, sizeof(ss1.refused));
	assert_memory_equal(cs1.loaded, cs2.loaded, sizeof(cs1.loaded));
	assert_memory_equal(cs1.refused, cs2.refused, sizeof(cs1.refused));
	for (size_t i = 0; i < ss1.n; i++)
		assert_string_equal(sigma_rule_id(ss1.rules[i]), sigma_rule_id(ss2.rules[i]));
	for (size_t i = 0; i < cs1.n; i++)
		assert_string_equal(cs1.rules[i]->id, cs2.rules[i]->id);
	print_message("%s: %zu Sigma and %zu correlation rules, %u and %u refused\n", path, ss2.n,
		      cs2.n, both[0], both[1]);
	sigma_set_free(&ss1);
	sigma_set_free(&ss2);
	corr_set_free(&cs1);
	corr_set_free(&cs2);
}

static void test_load_both(void **state)
{
	char path[256], sigma[TU_SIGMA_DIR_MAX];
	struct sigma_set ss;
	struct corr_set cs;
	unsigned n[2] = { 0, 0 };

	(void)state;
	/* bad rules, a Sigma rule, a file that is not YAML, two documents of each kind */
	write_rule("both", "a_good.yml", scan_rule);
	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "bad%02zu.yml", i);
		write_rule("both", name, bad_rules[i][0]);
	}
	write_rule("both", "sigma.yml", "title: s\nid: s1\nlogsource: {product: linux, "
		   "category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '/nc'\n"
		   "  condition: sel\n");
	write_rule("both", "not_yaml.yml", "title: [\n");
	write_rule("both", "two_sigma.yml", "title: s\nid: s2\n---\ntitle: u\n");
	write_rule("both", "two_corr.yml", HEAD("c2") "custos_sequence: {}\n---\ntitle: u\n");
	snprintf(path, sizeof(path), "%s/both", dir);
	same_sets(path);
	memset(&ss, 0, sizeof(ss));
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(corr_rules_load_dir(path, &ss, count_sigma, &cs, count_corr, n), 0);
	assert_int_equal(ss.n, 1);
	assert_int_equal(ss.refused[SIGMA_CAT_OTHER], 2);	/* not YAML, two documents */
	assert_int_equal(cs.loaded[CORR_THRESHOLD], 1);
	assert_int_equal(cs.refused[CORR_SEQUENCE] + cs.refused[CORR_THRESHOLD],
			 sizeof(bad_rules) / sizeof(bad_rules[0]) + 1);
	assert_int_equal(n[0], 2);
	assert_int_equal(n[1], sizeof(bad_rules) / sizeof(bad_rules[0]) + 1);
	sigma_set_free(&ss);
	corr_set_free(&cs);
	assert_int_equal(corr_rules_load_dir("/nonexistent-custos", &ss, NULL, &cs, NULL, NULL),
			 -CUSTOS_ERR_IO);
	same_sets("collector/rules");
	if (tu_have_sigma(sigma))
		same_sets(sigma);
}

static void test_threshold(void **state)
{
	static const char by_src[] = HEAD("auth")
		"custos_threshold:\n  category: network_connection\n  detection:\n    sel:\n"
		"      Initiated: 'false'\n      DestinationPort: 22\n    condition: sel\n"
		"  group_by: SourceIp\n  count: 4\n  window: 60s\n";
	struct triage *t = NULL;
	struct store *s = fresh_store("threshold");
	struct seen seen;
	char path[256];
	int64_t t0 = 1000 * SEC;

	(void)state;
	write_rule("th", "scan.yml", scan_rule);
	write_rule("th", "auth.yml", by_src);
	snprintf(path, sizeof(path), "%s/th", dir);
	assert_int_equal(triage_open(path, &t), 0);
	/* distinct: 4 ports and a repeat: nothing; the 5th distinct port fires */
	next_idx = 0;
	for (int i = 0; i < 4; i++) {
		conn(100, "127.0.0.1", 1000 + (uint64_t)i, -ECONNREFUSED, t0 + i * SEC);
		feed(t, s);
	}
	conn(100, "127.0.0.1", 1000, -ECONNREFUSED, t0 + 4 * SEC);
	feed(t, s);
	conn(200, "127.0.0.1", 2000, 0, t0 + 4 * SEC);	/* another process: its own group */
	feed(t, s);
	assert_int_equal(alerts_of(s).n, 0);
	conn(100, "127.0.0.1", 1004, -ECONNREFUSED, t0 + 5 * SEC);
	feed(t, s);
	seen = alerts_of(s);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.ids[0], "scan");
	assert_string_equal(seen.group[0], "pid 100");
	assert_int_equal(seen.total[0], 5);
	assert_int_equal(seen.n_refs[0], 5);	/* the repeat (index 4) and pid 200 are not */
	assert_int_equal(seen.refs[0][0].rec_index, 0);
	assert_int_equal(seen.refs[0][3].rec_index, 3);
	assert_int_equal(seen.refs[0][4].rec_index, 6);
	assert_int_equal(seen.idx[0], 6);
	assert_int_equal(seen.refs[0][0].leaf, 1);
	assert_memory_equal(seen.refs[0][0].batch_hash, bhash, CUSTOS_HASH_LEN);
	/* once per window: 5 more ports right after do not fire again */
	for (int i = 0; i < 5; i++) {
		conn(100, "127.0.0.1", 3000 + (uint64_t)i, -ECONNREFUSED, t0 + 6 * SEC);
		feed(t, s);
	}
	assert_int_equal(alerts_of(s).n, 1);
	/* sliding window: 4 ports, then the 5th 11 s after the first: the first has expired */
	for (int i = 0; i < 4; i++) {
		conn(100, "127.0.0.1", 4000 + (uint64_t)i, -ECONNREFUSED, t0 + (20 + i) * SEC);
		feed(t, s);
	}
	conn(100, "127.0.0.1", 4010, -ECONNREFUSED, t0 + 30500 * SEC / 1000);	/* 21..23, 30.5 */
	feed(t, s);
	assert_int_equal(alerts_of(s).n, 1);
	conn(100, "127.0.0.1", 4011, -ECONNREFUSED, t0 + 30600 * SEC / 1000);	/* 5 */
	feed(t, s);
	assert_int_equal(alerts_of(s).n, 2);

	/* grouped by a field: accepts from one address; per host */
	for (int i = 0; i < 3; i++) {
		accept_from(300 + (uint64_t)i, "10.0.0.9", 22, t0 + i * SEC);
		feed(t, s);
	}
	memset(hdr.host_id, 0x12, sizeof(hdr.host_id));	/* another host, same address */
	accept_from(300, "10.0.0.9", 22, t0 + 3 * SEC);
	feed(t, s);
	accept_from(300, "10.0.0.8", 22, t0 + 3 * SEC);
	feed(t, s);
	memset(hdr.host_id, 0x11, sizeof(hdr.host_id));
	assert_int_equal(alerts_of(s).n, 2);
	accept_from(301, "10.0.0.9", 22, t0 + 4 * SEC);
	feed(t, s);
	seen = alerts_of(s);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.ids[0], "auth");	/* oldest first: t0 + 4 s */
	assert_string_equal(seen.group[0], "10.0.0.9");
	assert_int_equal(seen.total[0], 4);
	triage_close(t);
	store_close(s);
}

/* A plain count (network_attempt), and eviction from a full table. */
static void test_count_evict(void **state)
{
	static const char flood[] = HEAD("flood")
		"custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
		"      Initiated: 'true'\n    condition: sel\n  group_by: process\n  count: 50\n"
		"  window: 1s\n";
	struct corr_set cs;
	struct corr *c = NULL;
	struct store *s = fresh_store("count");
	struct corr_at at = { &hdr, bhash, 2, 0 };
	uint64_t n = 0, supp, evicted;
	char path[256];
	int64_t t0 = 5000 * SEC;

	(void)state;
	write_rule("count", "flood.yml", flood);
	snprintf(path, sizeof(path), "%s/count", dir);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(corr_set_load_dir(&cs, path, NULL, NULL), 0);
	assert_int_equal(corr_open(&cs, &c), 0);
	assert_int_equal(store_begin(s), 0);
	/* 49 in 0.49 s: nothing; 49 more a second later: the first have expired */
	for (int i = 0; i < 49; i++) {
		conn(7, "127.0.0.1", 80, -ECONNREFUSED, t0 + i * 10000000ll);
		assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	}
	for (int i = 0; i < 49; i++) {
		conn(7, "127.0.0.1", 80, -ECONNREFUSED, t0 + 1500000000ll + i * 1000000ll);
		assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	}
	assert_int_equal(n, 0);
	conn(7, "127.0.0.1", 80, 0, t0 + 1600000000ll);
	at.idx = 1;
	assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	at.idx = 2;
	assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);	/* suppressed */
	corr_stats(c, &supp, &evicted);
	assert_int_equal(supp, 1);
	assert_int_equal(evicted, 0);
	/* pid 8 counts 49, then 20000 other processes push it out of the table:
	 * its next connect starts a new count (no alert) */
	for (int i = 0; i < 49; i++) {
		conn(8, "127.0.0.1", 80, 0, t0 + 3 * SEC);
		assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	}
	for (uint64_t p = 100; p < 20100; p++) {
		conn(p, "127.0.0.1", 80, 0, t0 + 3 * SEC);
		assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	}
	corr_stats(c, &supp, &evicted);
	assert_true(evicted > 0);
	conn(8, "127.0.0.1", 80, 0, t0 + 3 * SEC);
	assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_commit(s), 0);
	corr_close(c);
	corr_set_free(&cs);
	store_close(s);
}

/* corr.h invariant 5: an aborted batch leaves the tables as they were,
 * evictions and counts included; a committed one keeps what it did. */
static void test_abort(void **state)
{
	static const char flood[] = HEAD("flood2")
		"custos_threshold:\n  category: network_attempt\n  detection:\n    sel:\n"
		"      Initiated: 'true'\n    condition: sel\n  group_by: process\n  count: 50\n"
		"  window: 10s\n";
	struct corr_set cs;
	struct corr *c = NULL;
	struct store *s = fresh_store("abort");
	struct corr_at at = { &hdr, bhash, 3, 0 };
	uint64_t n = 0, supp, evicted;
	char path[256];
	int64_t t0 = 7000 * SEC;

	(void)state;
	write_rule("abort", "flood.yml", flood);
	snprintf(path, sizeof(path), "%s/abort", dir);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(corr_set_load_dir(&cs, path, NULL, NULL), 0);
	assert_int_equal(corr_open(&cs, &c), 0);
	assert_int_equal(store_begin(s), 0);
	corr_begin(c);		/* committed: pid 8 counts 49 */
	for (int i = 0; i < 49; i++) {
		conn(8, "127.0.0.1", 80, 0, t0 + i * 1000000ll);
		assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	}
	corr_commit(c);
	corr_begin(c);		/* aborted: pid 9 counts 49, 20000 processes evict pid 8 */
	for (int i = 0; i < 49; i++) {
		conn(9, "127.0.0.1", 80, 0, t0 + SEC + i * 1000000ll);
		assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	}
	for (uint64_t p = 100; p < 20100; p++) {
		conn(p, "127.0.0.1", 80, 0, t0 + 2 * SEC);
		assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	}
	corr_stats(c, &supp, &evicted);
	assert_true(evicted > 0);
	corr_abort(c);
	corr_stats(c, &supp, &evicted);
	assert_int_equal(evicted, 0);
	assert_int_equal(n, 0);
	corr_begin(c);		/* pid 9's count is gone, pid 8's is back: the 50th fires */
	conn(9, "127.0.0.1", 80, 0, t0 + 3 * SEC);
	assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	assert_int_equal(n, 0);
	conn(8, "127.0.0.1", 80, 0, t0 + 3 * SEC);
	assert_int_equal(corr_record(c, s, &at, rec, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	corr_commit(c);
	assert_int_equal(store_commit(s), 0);
	corr_close(c);
	corr_set_free(&cs);
	store_close(s);
}

/* --- sequence rules ---------------------------------------------------------------------- */

static const char web_db[] = HEAD("webdb")
	"custos_sequence:\n  scope: process_tree\n  within: 60s\n  first:\n"
	"    category: process_creation\n    detection:\n      s:\n"
	"        ParentImage|endswith: /nginx\n        Image|endswith: /sh\n"
	"      condition: s\n  then:\n    category: file_open\n    detection:\n      s:\n"
	"        TargetFilename|endswith: .db\n      condition: s\n";
static const char dl_exec[] = HEAD("dlexec")
	"custos_sequence:\n  scope: same_file\n  within: 60s\n  first:\n"
	"    category: file_event\n    process_connected: true\n    detection:\n      s:\n"
	"        TargetFilename|startswith: /\n      condition: s\n  then:\n"
	"    category: process_creation\n    detection:\n      s:\n"
	"        Image|startswith: /\n      condition: s\n";

static void test_sequence(void **state)
{
	struct triage *t = NULL;
	struct store *s = fresh_store("sequence");
	struct seen seen;
	char path[256];
	int64_t t0 = 9000 * SEC;

	(void)state;
	write_rule("seq", "webdb.yml", web_db);
	write_rule("seq", "dlexec.yml", dl_exec);
	snprintf(path, sizeof(path), "%s/seq", dir);
	assert_int_equal(triage_open(path, &t), 0);
	next_idx = 0;
	exec_of(100, 1, "/usr/sbin/nginx", t0);			/* 0 */
	feed(t, s);
	fork_of(100, 1, 200, t0 + SEC);				/* 1 */
	feed(t, s);
	exec_of(200, 100, "/bin/sh", t0 + SEC);			/* 2: first stage */
	feed(t, s);
	fork_of(200, 100, 300, t0 + 2 * SEC);			/* 3 */
	feed(t, s);
	open_of(400, 1, "/srv/app.db", O_RDONLY, t0 + 3 * SEC);	/* 4: another tree: no */
	feed(t, s);
	assert_int_equal(alerts_of(s).n, 0);
	open_of(300, 200, "/srv/app.db", O_RDONLY, t0 + 4 * SEC);	/* 5: a descendant: fires */
	feed(t, s);
	seen = alerts_of(s);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.ids[0], "webdb");
	assert_int_equal(seen.n_refs[0], 2);
	assert_int_equal(seen.refs[0][0].rec_index, 2);
	assert_int_equal(seen.refs[0][1].rec_index, 5);
	open_of(300, 200, "/srv/app.db", O_RDONLY, t0 + 5 * SEC);	/* once per first stage */
	feed(t, s);
	assert_int_equal(alerts_of(s).n, 1);
	/* after T: a new shell at +10 s, the read at +71 s */
	exec_of(500, 100, "/bin/sh", t0 + 10 * SEC);
	feed(t, s);
	open_of(500, 100, "/srv/app.db", O_RDWR, t0 + 71 * SEC);
	feed(t, s);
	assert_int_equal(alerts_of(s).n, 1);

	/* download then execute: curl (pid 600) connects, writes /tmp/x; 700 runs it */
	exec_of(600, 1, "/usr/bin/curl", t0 + 100 * SEC);
	feed(t, s);
	open_of(600, 1, "/tmp/y", O_WRONLY | O_CREAT, t0 + 101 * SEC);	/* before connecting */
	feed(t, s);
	conn(600, "192.0.2.1", 80, -EINPROGRESS, t0 + 101 * SEC);
	feed(t, s);
	open_of(600, 1, "/tmp/x", O_WRONLY | O_CREAT, t0 + 102 * SEC);
	feed(t, s);
	exec_of(700, 1, "/tmp/y", t0 + 103 * SEC);			/* not by a connected writer */
	feed(t, s);
	assert_int_equal(alerts_of(s).n, 1);
	exec_of(700, 1, "/tmp/x", t0 + 104 * SEC);
	feed(t, s);
	seen = alerts_of(s);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.ids[1], "dlexec");
	assert_string_equal(seen.group[1], "file /tmp/x");
	assert_int_equal(seen.refs[1][0].rec_index, next_idx - 3);
	assert_int_equal(seen.refs[1][1].rec_index, next_idx - 1);
	triage_close(t);
	store_close(s);
}

/* Our pack on its activity: port scan, password guessing, mass mailing,
 * fork flood, download then execute, web shell then database. */
static void test_pack(void **state)
{
	struct triage *t = NULL;
	struct store *s = fresh_store("pack");
	struct seen seen;
	int64_t t0 = 20000 * SEC;

	(void)state;
	assert_int_equal(triage_open("collector/rules", &t), 0);
	next_idx = 0;
	assert_int_equal(store_begin(s), 0);
	in_tx = 1;
	exec_of(10, 1, "/usr/bin/python3", t0);
	feed(t, s);
	for (int i = 0; i < 25; i++) {				/* scan */
		conn(10, "127.0.0.1", 1 + (uint64_t)i, -ECONNREFUSED, t0 + i * 1000000ll);
		feed(t, s);
	}
	for (int i = 0; i < 12; i++) {				/* guessing */
		accept_from(11, "198.51.100.4", 22, t0 + i * 1000000ll);
		feed(t, s);
	}
	exec_of(12, 1, "/usr/bin/python3", t0);
	feed(t, s);
	for (int i = 0; i < 20; i++) {				/* mailing */
		conn(12, "192.0.2.25", 25, 0, t0 + i * 1000000ll);
		feed(t, s);
	}
	for (uint64_t i = 0; i < 2000; i++) {			/* fork bomb under pid 13 */
		fork_of(13 + i, i ? 12 + i : 1, 14 + i, t0 + (int64_t)i * 1000000ll);
		feed(t, s);
	}
	assert_int_equal(store_commit(s), 0);
	in_tx = 0;
	seen = alerts_of(s);
	assert_int_equal(seen.n, 4);	/* in time order: the 10th accept came first */
	assert_string_equal(seen.ids[0], "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a000a");
	assert_string_equal(seen.ids[1], "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0008");
	assert_string_equal(seen.ids[2], "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a000b");
	assert_string_equal(seen.ids[3], "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a000c");
	assert_string_equal(seen.group[3], "tree of pid 13, session 7");
	assert_int_equal(seen.n_refs[3], CORR_REFS);
	assert_int_equal(seen.total[3], 2000);
	triage_close(t);
	store_close(s);
}

/* Stages of the same text are evaluated once per record and shared
 * (corr_stage.canon): each rule still counts and fires on its own; a stage
 * that differs only in a scalar's quoting is its own, and one that
 * differs in a value matches what it says. */
static void test_shared_stages(void **state)
{
#define SHARED(id, value, count) HEAD(id) "custos_threshold:\n  category: network_attempt\n" \
	"  detection:\n    sel:\n      Initiated: " value "\n    condition: sel\n" \
	"  group_by: process\n  count: " count "\n  window: 10s\n"
	static const char *const rules[][2] = {
		{ "sa.yml", SHARED("sa", "'true'", "3") }, { "sb.yml", SHARED("sb", "'true'", "2") },
		{ "sc.yml", SHARED("sc", "true", "3") }, { "sd.yml", SHARED("sd", "'false'", "1") },
	};
#undef SHARED
	struct triage *t = NULL;
	struct store *s = fresh_store("shared");
	struct seen seen;
	char path[256];
	int n[4] = { 0 };

	(void)state;
	for (size_t i = 0; i < 4; i++)
		write_rule("shared", rules[i][0], rules[i][1]);
	snprintf(path, sizeof(path), "%s/shared", dir);
	assert_int_equal(triage_open(path, &t), 0);
	next_idx = 0;
	for (int i = 0; i < 3; i++) {
		conn(300, "127.0.0.1", 80, i == 1 ? -ECONNREFUSED : 0, 1000 * SEC + i * SEC);
		feed(t, s);
		seen = alerts_of(s);
		assert_int_equal(seen.n, i == 0 ? 0 : i == 1 ? 1 : 3);
	}
	for (int i = 0; i < seen.n; i++)
		n[seen.ids[i][1] - 'a']++;
	assert_int_equal(n[0], 1);	/* sa: the third */
	assert_int_equal(n[1], 1);	/* sb: the second */
	assert_int_equal(n[2], 1);	/* sc: the third, unshared */
	assert_int_equal(n[3], 0);	/* sd: accepts only */
	accept_from(301, "10.0.0.9", 80, 1010 * SEC);
	feed(t, s);
	seen = alerts_of(s);
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.ids[3], "sd");
	triage_close(t);
	store_close(s);
}

/* The process table triage and corr share (corr_proc.c): an aborted batch
 * puts entries, image pairs, the clock and evictions back; a committed one
 * keeps them; every pair's references are balanced (ASan: no leak, no
 * double free), a pair replaced and then put back in one batch included. */
static void test_procs_journal(void **state)
{
	struct corr_procs *t = NULL;
	struct corr_pstr *a, *b, *held;
	struct corr_proc *p;

	(void)state;
	assert_int_equal(corr_procs_new(&t), 0);
	assert_null(corr_proc_find(t, &hdr, 10));
	a = corr_pstr_new("/bin/a", "a -x");
	assert_non_null(a);
	corr_proc_set_str(t, corr_proc_get(t, &hdr, 10), a);	/* outside a batch: for good */
	corr_proc_get(t, &hdr, 10)->ppid = 1;

	corr_procs_begin(t);	/* aborted: 10 gets b, 11 shares it, 30000 others evict */
	b = corr_pstr_new("/bin/b", "b");
	assert_non_null(b);
	p = corr_proc_get(t, &hdr, 10);
	p->ppid = 2;
	corr_proc_set_str(t, p, b);
	corr_proc_set_str(t, corr_proc_get(t, &hdr, 11), corr_pstr_get(b));
	assert_int_equal(b->refs, 2);
	for (uint64_t pid = 100; pid < 30100; pid++)
		corr_proc_set_str(t, corr_proc_get(t, &hdr, pid), corr_pstr_get(a));
	assert_true(corr_procs_evicted(t) > 0);
	corr_procs_abort(t);
	assert_int_equal(corr_procs_evicted(t), 0);
	p = corr_proc_find(t, &hdr, 10);
	assert_non_null(p);
	assert_ptr_equal(p->str, a);
	assert_int_equal(p->ppid, 1);
	assert_int_equal(a->refs, 1);
	assert_null(corr_proc_find(t, &hdr, 11));
	assert_null(corr_proc_find(t, &hdr, 100));
	memset(hdr.host_id, 0x12, sizeof(hdr.host_id));	/* another host, same pid */
	assert_null(corr_proc_find(t, &hdr, 10));
	memset(hdr.host_id, 0x11, sizeof(hdr.host_id));

	held = corr_pstr_get(a);	/* committed: a replaced by nothing, then put back */
	corr_procs_begin(t);
	corr_proc_set_str(t, corr_proc_get(t, &hdr, 10), NULL);
	corr_proc_set_str(t, corr_proc_get(t, &hdr, 10), corr_pstr_get(held));
	corr_proc_set_str(t, corr_proc_get(t, &hdr, 12), corr_pstr_new("/bin/c", "c"));
	corr_procs_commit(t);
	assert_int_equal(a->refs, 2);	/* the table's and held */
	corr_pstr_put(held);
	assert_string_equal(corr_proc_find(t, &hdr, 12)->str->s, "/bin/c");
	assert_string_equal(corr_pstr_cmdline(corr_proc_find(t, &hdr, 12)->str), "c");

	corr_procs_begin(t);	/* left open: freeing drops the journal's pairs too */
	corr_proc_set_str(t, corr_proc_get(t, &hdr, 10), NULL);
	corr_procs_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_both),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_shared_stages),
		cmocka_unit_test(test_count_evict),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_procs_journal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
