/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of enroll_list.c (reading and checking `enroll --list`
 * files) and keystore_enroll_many: a good list with comments, blanks,
 * tabs and both kinds of key path; each kind of wrong line refused with
 * nothing kept; conflicts with the keystore refused; many hosts appended
 * under one lock give a log that verifies again from scratch.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "collector.h"
#include "enroll_list.h"
#include "error.h"
#include "keys.h"
#include "keystore.h"

#define NKEYS 4

struct fx {
	char dir[64], coll[96], list[96];
	struct custos_keypair kp[NKEYS];
	struct keystore ks;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	char path[160];
	char *argv[] = { "init", "--dir", x->coll, NULL };

	snprintf(x->dir, sizeof(x->dir), "/tmp/custos-enroll-list.XXXXXX");
	if (!mkdtemp(x->dir))
		return -1;
	snprintf(x->coll, sizeof(x->coll), "%s/coll", x->dir);
	snprintf(x->list, sizeof(x->list), "%s/hosts.list", x->dir);
	if (cmd_init(3, argv) != 0)
		return -1;
	for (int i = 0; i < NKEYS; i++) {
		tu_keys(&x->kp[i], (uint8_t)(0x40 + i));
		snprintf(path, sizeof(path), "%s/h%d.pub", x->dir, i);
		if (keys_save_public(path, &x->kp[i].pub) != 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/junk.pub", x->dir);
	write_file(path, "not a key\n");
	if (keystore_open(&x->ks, x->coll, 1) != 0)
		return -1;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	keystore_close(&x->ks);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
	if (system(cmd) != 0)
		return -1;
	free(x);
	return 0;
}

static void test_good_list(void **state)
{
	struct fx *x = *state;
	struct enroll_list l;
	char text[512];

	snprintf(text, sizeof(text), "# fleet\n\nweb1 h0.pub\n\tdb.1  \th1.pub   # rack 2\n"
		 "   \n#\nmail_2 %s/h2.pub\r\n", x->dir);
	write_file(x->list, text);
	assert_int_equal(enroll_list_read(x->list, &x->ks, &l), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.hosts[0].name, "web1");
	assert_string_equal(l.hosts[1].name, "db.1");
	assert_string_equal(l.hosts[2].name, "mail_2");
	assert_int_equal(l.lines[0], 3);
	assert_int_equal(l.lines[1], 4);
	assert_int_equal(l.lines[2], 7);
	for (int i = 0; i < 3; i++)
		assert_memory_equal(&l.hosts[i].pk, &x->kp[i].pub, sizeof(x->kp[i].pub));
	enroll_list_free(&l);
	assert_null(l.hosts);
}

static void refused(struct fx *x, const char *text)
{
	struct enroll_list l;

	write_file(x->list, text);
	assert_int_equal(enroll_list_read(x->list, &x->ks, &l), -CUSTOS_ERR_INVAL);
	assert_null(l.hosts);
	assert_int_equal(l.count, 0);
}

static void test_wrong_lines(void **state)
{
	struct fx *x = *state;
	char big[ENROLL_LIST_LINE + 64];

	refused(x, "a h0.pub\nb/c h1.pub\n");		/* bad name */
	refused(x, "a h0.pub\nb\n");			/* one field */
	refused(x, "a h0.pub extra\n");			/* three fields */
	refused(x, "a h0.pub\nb missing.pub\n");	/* unreadable key */
	refused(x, "a h0.pub\nb junk.pub\n");		/* not a key */
	refused(x, "a h0.pub\nb h1.pub\na h2.pub\n");	/* name twice */
	refused(x, "a h0.pub\nb h1.pub\nc h0.pub\n");	/* key twice */
	refused(x, "# nothing\n\n");			/* no host */
	refused(x, "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "a h0.pub\nb ", 11);
	refused(x, big);				/* line too long */
	memset(big, 'n', KS_NAME_MAX + 1);	/* a name one byte too long */
	strcpy(big + KS_NAME_MAX + 1, " h0.pub\n");
	refused(x, big);
}

static void test_nul_and_missing(void **state)
{
	struct fx *x = *state;
	struct enroll_list l;
	FILE *f = fopen(x->list, "w");

	assert_non_null(f);
	assert_int_equal(fwrite("a h0.pub\nb h1\0.pub\n", 1, 19, f), 19);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(enroll_list_read(x->list, &x->ks, &l), -CUSTOS_ERR_INVAL);
	unlink(x->list);
	assert_int_equal(enroll_list_read(x->list, &x->ks, &l), -CUSTOS_ERR_IO);
	assert_null(l.hosts);
}

static void test_enroll_many(void **state)
{
	struct fx *x = *state;
	struct enroll_list l;
	struct keystore again;
	size_t bad;
	uint64_t before = x->ks.events;

	write_file(x->list, "a h0.pub\nb h1.pub\nc h2.pub\n");
	assert_int_equal(enroll_list_read(x->list, &x->ks, &l), 0);
	assert_int_equal(keystore_enroll_many(&x->ks, l.hosts, l.count, &bad), 0);
	assert_int_equal(bad, 3);
	assert_int_equal(x->ks.events, before + 3);
	enroll_list_free(&l);
	/* The log verifies from scratch and holds the three hosts. */
	assert_int_equal(keystore_open(&again, x->coll, 0), 0);
	assert_int_equal(again.count, 3);
	assert_string_equal(keystore_name(&again, x->kp[1].pub.sign_pk), "b");
	assert_int_equal(keystore_lookup(&again, x->kp[2].pub.sign_pk), 0);
	keystore_close(&again);
	/* Against the keystore: a name or a key already enrolled. */
	refused(x, "d h3.pub\nb h0.pub\n");
	refused(x, "d h3.pub\ne h1.pub\n");
	/* keystore_enroll_many's own check under the lock (another command
	 * enrolled meanwhile): refused whole, nothing appended. */
	struct ks_enrolment two[2] = { { .name = "d" }, { .name = "c" } };
	two[0].pk = x->kp[3].pub;
	two[1].pk = x->kp[3].pub;
	assert_int_equal(keystore_enroll_many(&x->ks, two, 2, &bad), -CUSTOS_ERR_EXISTS);
	assert_int_equal(bad, 1);
	assert_int_equal(x->ks.events, before + 3);
	assert_null(keystore_host_named(&x->ks, "d"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enroll_many, setup, teardown),
	};

	if (custos_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
