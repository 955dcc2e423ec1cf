/* SPDX-License-Identifier: Apache-2.0 */
/* export_obs (collector/export_obs.c): a successful exec becomes a process
 * observable with its executable; a failed execve attempt (result -errno,
 * empty exe: docs/capture.md) is not described as a process that ran nor
 * as a file, only counted; repeats of one process only count. */
#include "testutil.h"
#include "export_obs.h"

static void add(struct batch_builder *b, struct custos_record *r)
{
	assert_int_equal(batch_builder_add(b, r), 0);
}

static void test_failed_exec_is_no_process(void **state)
{
	struct custos_record *r = calloc(1, sizeof(*r));
	struct batch_builder b;
	struct batch_view v;
	struct export_obs o;
	struct buf signed_batch;
	json_t *p;

	(void)state;
	assert_non_null(r);
	batch_builder_init(&b);
	tu_exec(r, 100, 1000);			/* ran /usr/bin/cat */
	add(&b, r);
	tu_exec(r, 100, 1001);			/* the same process again: counted */
	r->u.exec.start_ns = 0;			/* (as the first one's) */
	add(&b, r);
	tu_exec(r, 101, 1002);			/* execve("/tmp/nope") failed: ENOENT */
	r->u.exec.result = -2;
	r->u.exec.exe_len = 0;
	r->u.exec.exe_dev = r->u.exec.exe_ino = r->u.exec.exe_mode = 0;
	record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX,
			 "/tmp/nope");
	add(&b, r);
	tu_exec(r, 102, 1003);			/* E2BIG on a real program: still failed */
	r->u.exec.result = -7;
	r->u.exec.exe_len = 0;
	add(&b, r);

	memset(&v, 0, sizeof(v));
	v.hdr.record_count = b.count;
	v.hdr.first_ts_ns = b.first_ts_ns;
	v.hdr.last_ts_ns = b.last_ts_ns;
	buf_init(&signed_batch, 16);
	assert_int_equal(buf_put(&signed_batch, "batch", 5), 0);
	assert_int_equal(export_obs_init(&o, 0, 1000000), 0);
	assert_int_equal(export_obs_batch(&o, "laptop", 7, &signed_batch, &v, &b.raw), 0);

	assert_int_equal(json_array_size(o.list[OBS_PROC]), 1);
	p = json_array_get(o.list[OBS_PROC], 0);
	assert_string_equal(json_string_value(json_object_get(p, "exe")), "/usr/bin/cat");
	assert_int_equal(json_integer_value(json_object_get(p, "pid")), 100);
	assert_int_equal(o.records[OBS_PROC], 2);
	assert_int_equal(o.failed_exec, 2);
	assert_int_equal(json_array_size(o.list[OBS_FILE]), 0);
	assert_int_equal(o.records[OBS_FILE], 0);
	assert_int_equal(json_array_size(o.files), 1);	/* the evidence file itself */

	export_obs_free(&o);
	buf_free(&signed_batch);
	batch_builder_free(&b);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_exec_is_no_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
