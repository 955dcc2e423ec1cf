/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/exehash.c: the SHA-256 of a copied executable equals
 * one computed here, its build-id is the GNU note's descriptor found in
 * the file's bytes, a second exec is a cache hit, a changed file is hashed
 * again, and every status: deleted, replaced (another inode at the path),
 * memfd, too large, not ELF (hash, no build-id). */
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "exehash.h"

static char dir[64], path[128];
static uint8_t *bytes;
static size_t nbytes;

static void copy_true(void)
{
	int in = open("/bin/true", O_RDONLY), out;
	struct stat st;

	assert_true(in >= 0);
	assert_int_equal(fstat(in, &st), 0);
	nbytes = (size_t)st.st_size;
	bytes = realloc(bytes, nbytes + 1);
	assert_non_null(bytes);
	assert_int_equal(read(in, bytes, nbytes), (ssize_t)nbytes);
	close(in);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(out >= 0);
	assert_int_equal(write(out, bytes, nbytes), (ssize_t)nbytes);
	close(out);
}

static void exec_record(struct custos_record *r, const char *p)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->kind = CUSTOS_REC_EXEC;
	record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, p);
	if (stat(p, &st) == 0) {
		r->u.exec.exe_dev = st.st_dev;
		r->u.exec.exe_ino = st.st_ino;
	}
	r->u.exec.hash_status = CUSTOS_HASH_PENDING;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/custos-test-exehash.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/prog", dir);
	copy_true();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(bytes);
	bytes = NULL;
	return 0;
}

static void test_hash_build_id_cache(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	uint8_t want[CUSTOS_HASH_LEN];
	struct exehash_stats st;
	struct exehash *h;
	int found = 0;
	FILE *f;

	(void)state;
	assert_non_null(r);
	assert_int_equal(exehash_open(EXEHASH_MAX_BYTES_DEFAULT, 2000, &h), 0);
	exec_record(r, path);
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_OK);
	crypto_hash_sha256(want, bytes, nbytes);
	assert_memory_equal(r->u.exec.sha256, want, CUSTOS_HASH_LEN);
	/* Debian builds carry a build-id: "GNU\0" then the descriptor. */
	assert_true(r->u.exec.build_id_len >= 16);
	for (size_t i = 0; i + 4 + r->u.exec.build_id_len <= nbytes && !found; i++)
		found = memcmp(bytes + i, "GNU\0", 4) == 0 &&
			memcmp(bytes + i + 4, r->u.exec.build_id, r->u.exec.build_id_len) == 0;
	assert_true(found);
	exehash_fill(h, r);
	exehash_get_stats(h, &st);
	assert_int_equal(st.hashed, 1);
	assert_int_equal(st.cache_hits, 1);
	/* Changed in place: size, mtime and ctime differ: hashed again. */
	f = fopen(path, "ab");
	assert_non_null(f);
	fputc(0, f);
	fclose(f);
	exec_record(r, path);
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_OK);
	assert_memory_not_equal(r->u.exec.sha256, want, CUSTOS_HASH_LEN);
	exehash_get_stats(h, &st);
	assert_int_equal(st.hashed, 2);
	exehash_close(h);
	free(r);
}

static void test_statuses(void **state)
{
	struct custos_record *r = malloc(sizeof(*r));
	uint8_t zero[CUSTOS_HASH_LEN] = { 0 };
	char script[160];
	struct exehash *h;
	FILE *f;

	(void)state;
	assert_non_null(r);
	assert_int_equal(exehash_open(4096, 2000, &h), 0);	/* 4 KiB: true is larger */
	exec_record(r, path);
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_TOO_LARGE);
	assert_memory_equal(r->u.exec.sha256, zero, CUSTOS_HASH_LEN);
	r->u.exec.exe_ino++;				/* another file at that path */
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_DELETED);
	exec_record(r, path);
	assert_int_equal(unlink(path), 0);		/* gone */
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_DELETED);
	exec_record(r, "/memfd:payload (deleted)");
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_MEMFD);
	exec_record(r, dir);				/* a directory */
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_ERROR);
	exec_record(r, "");				/* a failed exec: not tried */
	r->u.exec.result = -2;
	r->u.exec.exe_dev = r->u.exec.exe_ino = 0;
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_EXEC_FAILED);
	assert_memory_equal(r->u.exec.sha256, zero, CUSTOS_HASH_LEN);
	snprintf(script, sizeof(script), "%s/script.sh", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho hi\n", f);
	fclose(f);
	exec_record(r, script);
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, CUSTOS_HASH_OK);
	assert_int_equal(r->u.exec.build_id_len, 0);
	r->kind = CUSTOS_REC_FORK;			/* other kinds: untouched */
	r->u.exec.hash_status = 77;
	exehash_fill(h, r);
	assert_int_equal(r->u.exec.hash_status, 77);
	exehash_close(h);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hash_build_id_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
	};

	assert_int_equal(custos_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
