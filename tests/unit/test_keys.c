/* SPDX-License-Identifier: Apache-2.0 */
/* Key files: 0600 secrets that are never overwritten, refused when others
 * can read them, clear errors for damaged files, stable fingerprints. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(custos_init(), 0);
	strcpy(dir, "/tmp/custos-test-keys-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_save_load_roundtrip(void **state)
{
	struct custos_keypair kp, back;
	struct custos_pubkey pub;
	char sk[128], pk[128];
	struct stat st;
	int line;
	(void)state;

	path_of(sk, sizeof(sk), "host.key");
	path_of(pk, sizeof(pk), "host.pub");
	assert_int_equal(keys_generate(&kp), 0);
	umask(0);	/* a careless umask must not widen the secret */
	assert_int_equal(keys_save_secret(sk, &kp), 0);
	umask(022);
	assert_int_equal(keys_save_public(pk, &kp.pub), 0);
	assert_int_equal(stat(sk, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pk, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(keys_load_secret(sk, &back, &line), 0);
	assert_memory_equal(&kp, &back, sizeof(kp));
	assert_int_equal(keys_load_public(pk, &pub, &line), 0);
	assert_memory_equal(&pub, &kp.pub, sizeof(pub));
	/* never overwritten */
	assert_int_equal(keys_save_secret(sk, &kp), -CUSTOS_ERR_EXISTS);
	assert_int_equal(keys_save_public(pk, &kp.pub), -CUSTOS_ERR_EXISTS);
	keys_wipe(&kp);
	keys_wipe(&back);
	keys_wipe(NULL);
}

static void test_refuses_readable_secret(void **state)
{
	struct custos_keypair kp, back;
	char sk[128];
	int line;
	(void)state;

	path_of(sk, sizeof(sk), "loose.key");
	tu_keys(&kp, 0x55);
	assert_int_equal(keys_save_secret(sk, &kp), 0);
	assert_int_equal(chmod(sk, 0640), 0);
	assert_int_equal(keys_load_secret(sk, &back, &line), -CUSTOS_ERR_KEY_PERMS);
	assert_int_equal(chmod(sk, 0604), 0);
	assert_int_equal(keys_load_secret(sk, &back, &line), -CUSTOS_ERR_KEY_PERMS);
	assert_int_equal(chmod(sk, 0400), 0);
	assert_int_equal(keys_load_secret(sk, &back, &line), 0);
}

static void expect_format_error(const char *text, int want_line, int is_secret)
{
	struct custos_keypair kp;
	struct custos_pubkey pub;
	char p[128];
	int line = -1;

	path_of(p, sizeof(p), "bad.key");
	unlink(p);
	write_text(p, text, 0600);
	if (is_secret)
		assert_int_equal(keys_load_secret(p, &kp, &line), -CUSTOS_ERR_KEY_FORMAT);
	else
		assert_int_equal(keys_load_public(p, &pub, &line), -CUSTOS_ERR_KEY_FORMAT);
	assert_int_equal(line, want_line);
}

static void test_damaged_files(void **state)
{
	static const char zeros64[] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	char text[512];
	(void)state;

	expect_format_error("hello\n", 1, 1);
	expect_format_error("custos public key v1\nsign-public 00\n", 2, 0);
	snprintf(text, sizeof(text), "custos public key v1\nsign-public %s\nbox-public %s\nextra 1\n",
		 zeros64, zeros64);
	expect_format_error(text, 4, 0);
	snprintf(text, sizeof(text), "custos public key v1\nbox-public %s\n", zeros64);
	expect_format_error(text, 2, 0);
	snprintf(text, sizeof(text), "custos public key v1\nsign-public %s\n", zeros64);
	expect_format_error(text, 3, 0);	/* ends where box-public should be */
	/* blank lines and comments count as lines */
	snprintf(text, sizeof(text), "custos public key v1\n\n# note\n\nsign-public zz\n");
	expect_format_error(text, 5, 0);
	expect_format_error("\ncustos public key v1\n", 1, 0);	/* magic must come first */
	expect_format_error("", 1, 0);
	/* a secret whose public half does not match its seed */
	snprintf(text, sizeof(text), "custos secret key v1\nsign-secret %s%s\nbox-secret %s\n",
		 zeros64, zeros64, zeros64);
	expect_format_error(text, 0, 1);
	{
		struct custos_keypair kp;
		int line;

		assert_int_equal(keys_load_secret("/nonexistent/custos.key", &kp, &line),
				 -CUSTOS_ERR_IO);
	}
}

static void test_fingerprint(void **state)
{
	struct custos_keypair a, b;
	char fa[KEYS_FPR_STRLEN], fb[KEYS_FPR_STRLEN], again[KEYS_FPR_STRLEN];
	(void)state;

	tu_keys(&a, 1);
	tu_keys(&b, 2);
	keys_fingerprint(&a.pub, fa);
	keys_fingerprint(&a.pub, again);
	keys_fingerprint(&b.pub, fb);
	assert_string_equal(fa, again);
	assert_string_not_equal(fa, fb);
	assert_int_equal(strlen(fa), KEYS_FPR_STRLEN - 1);
	for (int i = 0; i < KEYS_FPR_STRLEN - 1; i++)
		assert_true(i % 6 == 5 ? fa[i] == ' ' : (fa[i] >= '0' && fa[i] <= '9'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_load_roundtrip),
		cmocka_unit_test(test_refuses_readable_secret),
		cmocka_unit_test(test_damaged_files),
		cmocka_unit_test(test_fingerprint),
	};
	return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}
