/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Triage (collector/triage.c): rules written by this test run over
 * records in order; the process table gives file and network events
 * their Image and exec events their parent; each alert lands in the
 * index with its references (host, batch hash, record index) and the
 * rule's custom taxonomy fields; a rerun adds no duplicates.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "store.h"
#include "triage.h"

static char dir[] = "/tmp/custos-test-triage-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char shell_from_web[] =
	"title: Shell spawned by a web server\nid: t-1\nlevel: high\n"
	"custos_taxonomy: intrusions/application-compromise\ncustos_budapest_article: '2'\n"
	"custos_attack_technique: T1505.003\n"
	"logsource:\n  product: linux\n  category: process_creation\n"
	"detection:\n  sel:\n    ParentImage|endswith: /nginx\n    Image|endswith:\n"
	"      - /sh\n      - /bash\n  condition: sel\n";
static const char cron_write[] =
	"title: Cron file written\nid: t-2\nlevel: medium\n"
	"logsource:\n  product: linux\n  category: file_event\n"
	"detection:\n  sel:\n    TargetFilename|startswith: /etc/cron.d/\n"
	"    Image|endswith: /bash\n  condition: sel\n";
static const char refused_rule[] =
	"title: Windows only\nlogsource:\n  product: windows\n  category: process_creation\n"
	"detection:\n  sel:\n    Image: x\n  condition: sel\n";

struct seen {
	int n;
	struct store_alert a[4];
	char ids[4][16];
};

static int collect(void *ctx, const struct store_alert *a)
{
	struct seen *s = ctx;

	if (s->n < 4) {
		s->a[s->n] = *a;	/* strings stay valid only here: ids copied */
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", a->rule_id);
		if (strcmp(a->rule_id, "t-1") == 0) {
			assert_string_equal(a->taxonomy, "intrusions/application-compromise");
			assert_string_equal(a->article, "2");
			assert_string_equal(a->technique, "T1505.003");
			assert_string_equal(a->image, "/usr/bin/bash");
			assert_int_equal(a->severity, 3);
		}
	}
	s->n++;
	return 0;
}

static void exec_of(struct custos_record *r, uint64_t pid, uint64_t ppid, const char *exe)
{
	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_EXEC;
	r->ts_ns = 1000 + pid;
	tu_subject(&r->subj, pid);
	r->subj.ppid = ppid;
	record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, exe);
	record_set_bytes((uint8_t *)r->u.exec.argv, &r->u.exec.argv_len, CUSTOS_ARGS_MAX, exe);
}

static void run(struct triage *t, struct store *s, const struct batch_header *h,
		const uint8_t *hash, uint64_t *alerts)
{
	struct custos_record *r = malloc(sizeof(*r));

	assert_non_null(r);
	assert_int_equal(store_begin(s), 0);
	exec_of(r, 100, 1, "/usr/sbin/nginx");
	assert_int_equal(triage_record(t, s, h, hash, 7, 0, r, alerts), 0);
	exec_of(r, 200, 100, "/usr/bin/bash");		/* parent nginx: fires t-1 */
	assert_int_equal(triage_record(t, s, h, hash, 7, 1, r, alerts), 0);
	exec_of(r, 300, 1, "/usr/bin/bash");		/* parent unknown: nothing */
	assert_int_equal(triage_record(t, s, h, hash, 7, 2, r, alerts), 0);
	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_OPEN;			/* bash (pid 200) writes a cron file */
	tu_subject(&r->subj, 200);
	r->ts_ns = 1300;
	record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, "/etc/cron.d/x");
	r->u.file.flags = O_WRONLY | O_CREAT;
	assert_int_equal(triage_record(t, s, h, hash, 7, 3, r, alerts), 0);
	r->subj.pid = 999;				/* unknown process: no Image */
	assert_int_equal(triage_record(t, s, h, hash, 7, 4, r, alerts), 0);
	assert_int_equal(store_commit(s), 0);
	free(r);
}

static void test_triage_alerts(void **state)
{
	char path[256];
	struct batch_header h;
	uint8_t hash[CUSTOS_HASH_LEN];
	struct triage *t = NULL;
	struct store *s = NULL;
	struct seen seen;
	uint64_t alerts = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rules", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file("a.yml", shell_from_web);
	write_file("b.yaml", cron_write);
	write_file("c.yml", refused_rule);
	assert_int_equal(triage_open(path, &t), 0);
	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	assert_int_equal(store_open(path, 0, &s), 0);
	memset(&h, 0, sizeof(h));
	memset(h.host_id, 0x11, sizeof(h.host_id));
	memset(h.boot_id, 0x22, sizeof(h.boot_id));
	h.clock_offset_ns = 1700000000000000000ll;
	memset(hash, 0x33, sizeof(hash));

	run(t, s, &h, hash, &alerts);
	assert_int_equal(alerts, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alerts(s, h.host_id, collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.ids[0], "t-1");
	assert_int_equal(seen.a[0].rec_index, 1);
	assert_int_equal(seen.a[0].leaf, 7);
	assert_int_equal(seen.a[0].ts_wall_ns, 1700000000000000000ll + 1200);
	assert_memory_equal(seen.a[0].host_id, h.host_id, sizeof(h.host_id));
	assert_memory_equal(seen.a[0].batch_hash, hash, sizeof(hash));
	assert_string_equal(seen.ids[1], "t-2");
	assert_int_equal(seen.a[1].rec_index, 3);

	/* a rerun over the same evidence adds nothing new */
	run(t, s, &h, hash, &alerts);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alerts(s, NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	memset(h.host_id, 0x44, sizeof(h.host_id));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alerts(s, h.host_id, collect, &seen), 0);
	assert_int_equal(seen.n, 0);

	store_close(s);
	triage_close(t);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triage_alerts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
