/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record mix the collector benchmarks send (bench_collector,
 * bench_serve): per 20 records 5 fork, 5 exit, 5 exec of grep, 4
 * write-opens, 1 connect.
 */
#include <stdio.h>
#include <string.h>

#include "bench_mix.h"

void bench_mix_body(struct custos_record *r, unsigned k, uint64_t seq, uint64_t ts)
{
	static const char argv[] = "/usr/bin/grep\0-r\0needle\0/var/log\0";
	char path[64];

	if (k < 5) {
		r->kind = CUSTOS_REC_FORK;
		r->u.fork.child_pid = r->u.fork.child_tid = r->subj.pid + 100000;
		r->u.fork.child_start_ns = ts;
	} else if (k < 10) {
		r->kind = CUSTOS_REC_EXIT;
		r->u.exit.start_ns = ts > 1000000 ? ts - 1000000 : 1;
	} else if (k < 15) {
		r->kind = CUSTOS_REC_EXEC;
		record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX, "grep");
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, "/usr/bin/grep");
		memcpy(r->u.exec.argv, argv, sizeof(argv) - 1);
		r->u.exec.argv_len = sizeof(argv) - 1;
		r->u.exec.argc = r->u.exec.argv_count = 4;
		record_set_bytes(r->u.exec.cwd, &r->u.exec.cwd_len, CUSTOS_PATH_MAX, "/home/alice");
		r->u.exec.start_ns = ts - 500;
		r->u.exec.hash_status = CUSTOS_HASH_OK;
		memset(r->u.exec.sha256, 0x5a, CUSTOS_HASH_LEN);
	} else if (k < 19) {
		r->kind = CUSTOS_REC_OPEN;
		snprintf(path, sizeof(path), "/var/log/app/%llu.log", (unsigned long long)(seq % 97));
		record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, path);
		r->u.file.flags = 0101;
		r->u.file.result = 3;
	} else {
		r->kind = CUSTOS_REC_CONNECT;
		r->u.net.family = 2;
		r->u.net.sock_type = 1;
		r->u.net.protocol = 6;
		r->u.net.remote_addr_len = 4;
		memcpy(r->u.net.remote_addr, "\x0a\x00\x00\x07", 4);
		r->u.net.remote_port = 443;
	}
}
