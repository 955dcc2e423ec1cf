/* SPDX-License-Identifier: Apache-2.0 */
/* pseudo (collector/pseudo.c): the documented test vector (docs/export.md
 * "Pseudonymisation", key 00 01 .. 1f), home paths anywhere in a path or
 * command line, uids, internal IPv4 and IPv6 addresses replaced by
 * addresses of the same kind, external ones untouched, the off switch,
 * and key files: loaded, refused when malformed, made at random 0600. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "pseudo.h"

static char dir[] = "/tmp/test_pseudo.XXXXXX";
static char keyfile[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char hex[80] = "";

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", i);
	strcat(hex, "\n");
	snprintf(keyfile, sizeof(keyfile), "%s/vec.key", dir);
	write_file(keyfile, hex);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void vec(struct pseudo *p)
{
	assert_int_equal(pseudo_init(p, keyfile, NULL), 0);
	assert_int_equal(p->on, 1);
}

static void test_vector(void **state)
{
	struct pseudo p;
	char t[33];

	(void)state;
	vec(&p);
	pseudo_token(&p, "home", "alice", t);
	assert_string_equal(t, "714ee77f76e0f3e573caba470ecbcac8");
	pseudo_token(&p, "user", "1000", t);
	assert_string_equal(t, "1fa7f8c9d350cb85e25c714b8ee33bc3");
	pseudo_token(&p, "ipv4", "10.0.0.1", t);
	assert_string_equal(t, "d2d542efddb408bc19995dfd70e0b6be");
	/* The class separates: the same value in another class differs. */
	pseudo_token(&p, "user", "alice", t);
	assert_string_not_equal(t, "714ee77f76e0f3e573caba470ecbcac8");
	pseudo_wipe(&p);
	assert_int_equal(p.on, 0);
}

static void test_user_and_home(void **state)
{
	struct pseudo p;
	char out[256], u[40];

	(void)state;
	vec(&p);
	pseudo_uid(&p, 1000, u);
	assert_string_equal(u, "user-1fa7f8c9d350cb85e25c714b8ee33bc3");
	pseudo_text(&p, "/home/alice/.ssh", out, sizeof(out));
	assert_string_equal(out, "/home/u-714ee77f76e0f3e5/.ssh");
	pseudo_text(&p, "/home/alice", out, sizeof(out));
	assert_string_equal(out, "/home/u-714ee77f76e0f3e5");
	/* Anywhere in a command line, every occurrence. */
	pseudo_text(&p, "scp /home/alice/a.txt /home/alice/b", out, sizeof(out));
	assert_string_equal(out, "scp /home/u-714ee77f76e0f3e5/a.txt /home/u-714ee77f76e0f3e5/b");
	/* Other paths are kept; "/homework" is not a home directory. */
	pseudo_text(&p, "/etc/passwd /homework/x /root/.bashrc", out, sizeof(out));
	assert_string_equal(out, "/etc/passwd /homework/x /root/.bashrc");
	/* Another user, another pseudonym; truncated output stays a string. */
	pseudo_text(&p, "/home/bob/x", out, sizeof(out));
	assert_true(strncmp(out, "/home/u-", 8) == 0 && strstr(out, "bob") == NULL);
	assert_string_not_equal(out, "/home/u-714ee77f76e0f3e5/x");
	pseudo_text(&p, "/home/alice/.ssh", out, 12);
	assert_int_equal(strlen(out), 11);
	pseudo_wipe(&p);
}

static void check_addr(const struct pseudo *p, const char *in, const char *want)
{
	char out[64];

	pseudo_addr(p, in, out);
	assert_string_equal(out, want);
}

static void test_addresses(void **state)
{
	static const char *const internal4[] = { "10.0.0.1", "10.255.1.2", "172.16.0.1",
		"172.31.255.255", "192.168.1.10", "127.0.0.1" };
	static const char *const internal6[] = { "::1", "fd12:3456::1", "fc00::7" };
	static const char *const external[] = { "8.8.8.8", "172.15.0.1", "172.32.0.1",
		"192.169.1.1", "11.0.0.1", "2001:db8::1", "fe80::1", "not an address" };
	struct pseudo p, off = { 0 };
	char out[64], again[64];
	uint8_t a[16];

	(void)state;
	vec(&p);
	check_addr(&p, "10.0.0.1", "10.210.213.66");		/* the test vector */
	for (size_t i = 0; i < sizeof(internal4) / sizeof(internal4[0]); i++) {
		assert_int_equal(pseudo_internal(internal4[i]), 1);
		pseudo_addr(&p, internal4[i], out);
		assert_string_not_equal(out, internal4[i]);
		assert_int_equal(inet_pton(AF_INET, out, a), 1);
		assert_int_equal(a[0], 10);
		pseudo_addr(&p, internal4[i], again);
		assert_string_equal(out, again);		/* stable */
		check_addr(&off, internal4[i], internal4[i]);	/* off: unchanged */
	}
	for (size_t i = 0; i < sizeof(internal6) / sizeof(internal6[0]); i++) {
		assert_int_equal(pseudo_internal(internal6[i]), 1);
		pseudo_addr(&p, internal6[i], out);
		assert_string_not_equal(out, internal6[i]);
		assert_int_equal(inet_pton(AF_INET6, out, a), 1);
		assert_int_equal(a[0], 0xfd);
	}
	for (size_t i = 0; i < sizeof(external) / sizeof(external[0]); i++) {
		assert_int_equal(pseudo_internal(external[i]), 0);
		check_addr(&p, external[i], external[i]);
	}
	pseudo_wipe(&p);
}

static void test_key_files(void **state)
{
	struct pseudo p, q;
	char path[96], t1[33], t2[33];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.key", dir);
	write_file(path, "not a key\n");
	assert_int_equal(pseudo_init(&p, path, NULL), -CUSTOS_ERR_MALFORMED);
	write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	assert_int_equal(pseudo_init(&p, path, NULL), -CUSTOS_ERR_MALFORMED);	/* no newline */
	write_file(path, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	assert_int_equal(pseudo_init(&p, path, NULL), -CUSTOS_ERR_MALFORMED);
	snprintf(path, sizeof(path), "%s/missing.key", dir);
	assert_int_equal(pseudo_init(&p, path, NULL), -CUSTOS_ERR_IO);
	/* A random key, written 0600, reloads to the same pseudonyms. */
	snprintf(path, sizeof(path), "%s/new.key", dir);
	assert_int_equal(pseudo_init(&p, NULL, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(pseudo_init(&q, path, NULL), 0);
	pseudo_token(&p, "home", "alice", t1);
	pseudo_token(&q, "home", "alice", t2);
	assert_string_equal(t1, t2);
	assert_string_not_equal(t1, "714ee77f76e0f3e573caba470ecbcac8");
	assert_int_equal(pseudo_init(&q, NULL, path), -CUSTOS_ERR_EXISTS);
	pseudo_wipe(&p);
	pseudo_wipe(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_user_and_home),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_key_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
