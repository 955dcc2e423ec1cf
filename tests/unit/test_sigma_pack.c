/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Our built-in rule pack (collector/rules/, docs/taxonomy.md): every rule
 * loads, carries its taxonomy class/type, Budapest Convention article and
 * ATT&CK technique, fires on the activity it describes and stays quiet on
 * benign look-alikes (a package install, a compile, a backup with tar).
 */
#include "testutil.h"
#include "sigma.h"

static struct sigma_set pack;

static void fail_report(void *ctx, const char *path, enum sigma_category cat, const char *reason)
{
	(void)ctx;
	fail_msg("built-in rule %s (%s) refused: %s", path, sigma_category_name(cat), reason);
}

static int setup(void **state)
{
	(void)state;
	memset(&pack, 0, sizeof(pack));
	return sigma_set_load_dir(&pack, "collector/rules", fail_report, NULL);
}

static int teardown(void **state)
{
	(void)state;
	sigma_set_free(&pack);
	return 0;
}

/* The ids of the pack's rules that fire on ev, as a bit set (rule id's
 * last four hex digits: ...0001 .. ...0011). */
static unsigned firing(const struct sigma_event *ev)
{
	unsigned bits = 0;

	for (size_t i = 0; i < pack.n; i++)
		if (sigma_rule_match(pack.rules[i], ev)) {
			const char *id = sigma_rule_id(pack.rules[i]);
			bits |= 1u << (strtoul(id + strlen(id) - 4, NULL, 16) & 31);
		}
	return bits;
}

static struct sigma_event proc(const char *image, const char *cmd)
{
	struct sigma_event ev = { .cat = SIGMA_CAT_PROCESS_CREATION };

	ev.f[SIGMA_F_IMAGE] = image;
	ev.f[SIGMA_F_COMMANDLINE] = cmd;
	return ev;
}

static void test_pack_loads(void **state)
{
	(void)state;
	assert_int_equal(pack.n, 8);
	for (size_t i = 0; i < pack.n; i++) {
		const struct sigma_rule *r = pack.rules[i];
		const char *tax = sigma_rule_custom(r, "custos_taxonomy");

		assert_non_null(strchr(tax, '/'));	/* class/type */
		assert_true(strlen(sigma_rule_custom(r, "custos_budapest_article")) == 1);
		assert_true(sigma_rule_custom(r, "custos_attack_technique")[0] == 'T');
	}
}

static void test_pack_fires(void **state)
{
	struct sigma_event ev;

	(void)state;
	ev = proc("/tmp/.x/payload", "/tmp/.x/payload -d");
	assert_int_equal(firing(&ev), 1u << 1);
	memset(&ev, 0, sizeof(ev));
	ev.cat = SIGMA_CAT_NETWORK_CONNECTION;
	ev.f[SIGMA_F_IMAGE] = "/usr/bin/bash";
	ev.f[SIGMA_F_DESTINATIONIP] = "198.51.100.4";
	ev.f[SIGMA_F_INITIATED] = "true";
	assert_int_equal(firing(&ev), 1u << 2);
	ev.f[SIGMA_F_DESTINATIONIP] = "127.0.0.1";
	assert_int_equal(firing(&ev), 0);
	ev = proc("/usr/bin/cat", "cat /etc/shadow");
	assert_int_equal(firing(&ev), 1u << 3);
	memset(&ev, 0, sizeof(ev));
	ev.cat = SIGMA_CAT_FILE_EVENT;
	ev.f[SIGMA_F_IMAGE] = "/usr/bin/tee";
	ev.f[SIGMA_F_TARGETFILENAME] = "/etc/cron.d/update";
	assert_int_equal(firing(&ev), 1u << 4);
	ev.f[SIGMA_F_TARGETFILENAME] = "/etc/crontab";
	assert_int_equal(firing(&ev), 1u << 4);
	ev = proc("/usr/sbin/useradd", "useradd -m backdoor");
	assert_int_equal(firing(&ev), 1u << 5);
	ev = proc("/usr/bin/shred", "shred -u /var/log/auth.log");
	assert_int_equal(firing(&ev), 1u << 6);
	ev = proc("/usr/bin/journalctl", "journalctl --vacuum-time=1s");
	assert_int_equal(firing(&ev), 1u << 6);
	ev = proc("/usr/bin/tcpdump", "tcpdump -i any -w /tmp/c.pcap");
	assert_int_equal(firing(&ev), 1u << 7);
	memset(&ev, 0, sizeof(ev));
	ev.cat = SIGMA_CAT_CUSTOS_SOCKET;	/* any program's AF_PACKET socket */
	ev.f[SIGMA_F_IMAGE] = "/usr/bin/python3.11";
	ev.f[SIGMA_F_SOCKETFAMILY] = "AF_PACKET";
	ev.f[SIGMA_F_SOCKETTYPE] = "SOCK_DGRAM";
	ev.f[SIGMA_F_SOCKETPROTOCOL] = "2048";
	assert_int_equal(firing(&ev), 1u << 0x11);
}

static void test_pack_benign(void **state)
{
	static const char *const cmds[][2] = {
		{ "/usr/bin/dpkg", "dpkg -i /var/cache/apt/archives/hello_2.10_amd64.deb" },
		{ "/usr/bin/apt-get", "apt-get install -y hello" },
		{ "/usr/bin/gcc", "gcc -O2 -o /tmp/build/a.out main.c" },
		{ "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "cc1 main.c -o /tmp/ccAbc.s" },
		{ "/usr/bin/tar", "tar czf /backup/etc.tgz /etc" },
		{ "/usr/bin/rm", "rm -f /tmp/build/a.out" },
		{ "/usr/bin/passwd", "passwd /etc/shadow" },
	};
	struct sigma_event ev;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ev = proc(cmds[i][0], cmds[i][1]);
		if (firing(&ev))
			fail_msg("benign '%s' fired 0x%x", cmds[i][1], firing(&ev));
	}
	memset(&ev, 0, sizeof(ev));
	ev.cat = SIGMA_CAT_FILE_EVENT;
	ev.f[SIGMA_F_IMAGE] = "/usr/bin/dpkg";	/* a package installs its cron job */
	ev.f[SIGMA_F_TARGETFILENAME] = "/etc/cron.daily/hello";
	assert_int_equal(firing(&ev), 0);
	memset(&ev, 0, sizeof(ev));
	ev.cat = SIGMA_CAT_CUSTOS_SOCKET;	/* ping's raw ICMP socket, auditd's */
	ev.f[SIGMA_F_IMAGE] = "/usr/bin/ping";
	ev.f[SIGMA_F_SOCKETFAMILY] = "AF_INET";
	ev.f[SIGMA_F_SOCKETTYPE] = "SOCK_RAW";
	ev.f[SIGMA_F_SOCKETPROTOCOL] = "1";
	assert_int_equal(firing(&ev), 0);
	ev.f[SIGMA_F_IMAGE] = "/usr/sbin/auditd";
	ev.f[SIGMA_F_SOCKETFAMILY] = "AF_NETLINK";
	ev.f[SIGMA_F_SOCKETPROTOCOL] = "9";
	assert_int_equal(firing(&ev), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_loads),
		cmocka_unit_test(test_pack_fires),
		cmocka_unit_test(test_pack_benign),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
