/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_export: issue 7's benchmark. Builds a collector state holding
 * RECORDS synthetic records of one host (1000 records a batch: exec,
 * open, connect, heartbeat in turn, like the e2e peer's) through the
 * collector's own import path (init, enroll, import of sealed batches),
 * then times, on one thread:
 *   - the baseline: reading every exported batch file's bytes;
 *   - custos-collector export of all of them (the whole court bundle and
 *     its tar; the CSIRT profile is not included);
 *   - custos-verify on the bundle directory (a child process).
 * and prints seconds and the ratio to the 10 s goal of each.
 *
 *   bench_export [RECORDS [WORK_DIR]]   (default 1000000, a temp dir)
 *
 * The temp dir is removed at the end; a WORK_DIR given is kept.
 * custos-verify is found beside the build (BUILD/custos-verify, from this
 * program's path) or in $CUSTOS_VERIFY. Results: docs/performance.md.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "collector.h"
#include "error.h"
#include "keys.h"
#include "record.h"
#include "seal.h"

#define PER_BATCH 1000
#define GOAL_S 10.0

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process and its waited-for
 * children: on a shared machine wall time also counts the others. */
static double cpu(void)
{
	struct rusage a, b;

	getrusage(RUSAGE_SELF, &a);
	getrusage(RUSAGE_CHILDREN, &b);
	return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec +
			b.ru_stime.tv_sec) + (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec +
			b.ru_utime.tv_usec + b.ru_stime.tv_usec) / 1e6;
}

static void make_record(struct custos_record *r, uint64_t i)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = 1000000000ull + i * 1000000ull;	/* 1 ms apart */
	r->subj.pid = 1000 + i / 4 % 30000;
	r->subj.tid = r->subj.pid;
	r->subj.ppid = 1;
	r->subj.uid = 1000;
	r->subj.loginuid = 1000;
	record_set_bytes(r->subj.comm, &r->subj.comm_len, CUSTOS_COMM_MAX, "bash");
	switch (i % 4) {
	case 0:
		r->kind = CUSTOS_REC_EXEC;
		record_set_bytes(r->u.exec.exe, &r->u.exec.exe_len, CUSTOS_PATH_MAX, "/usr/bin/cat");
		record_set_bytes(r->u.exec.filename, &r->u.exec.filename_len, CUSTOS_PATH_MAX, "cat");
		memcpy(r->u.exec.argv, "cat\0/etc/hosts", 15);
		r->u.exec.argv_len = 15;
		r->u.exec.argc = r->u.exec.argv_count = 2;
		record_set_bytes(r->u.exec.cwd, &r->u.exec.cwd_len, CUSTOS_PATH_MAX, "/home/user");
		r->u.exec.start_ns = r->ts_ns;
		r->u.exec.hash_status = CUSTOS_HASH_PENDING;
		break;
	case 1:
		r->kind = CUSTOS_REC_OPEN;
		record_set_bytes(r->u.file.path, &r->u.file.path_len, CUSTOS_PATH_MAX, "/etc/hosts");
		break;
	case 2:
		r->kind = CUSTOS_REC_CONNECT;
		r->u.net.family = 2;
		r->u.net.sock_type = 1;
		memcpy(r->u.net.remote_addr, "\xc0\x00\x02\x07", 4);
		r->u.net.remote_addr_len = 4;
		r->u.net.remote_port = 443;
		break;
	default:
		memset(&r->subj, 0, sizeof(r->subj));
		r->kind = CUSTOS_REC_HEARTBEAT;
	}
}

/* RECORDS records in sealed, length-prefixed envelopes (the offline
 * format `import` reads) in file. Returns 0 or -1. */
static int make_batches(const char *file, uint64_t records, const struct custos_keypair *host,
			const struct custos_pubkey *col)
{
	struct custos_record *r = malloc(sizeof(*r));
	uint8_t prev[CUSTOS_HASH_LEN] = { 0 }, len4[4];
	struct buf sb, env;
	FILE *f = fopen(file, "wb");
	int ret = r && f ? 0 : -1;

	buf_init(&sb, CUSTOS_SIGNED_MAX);
	buf_init(&env, CUSTOS_SEALED_MAX);
	for (uint64_t seq = 0, i = 0; !ret && i < records; seq++) {
		struct batch_builder b;
		struct batch_header h = { .seq = seq };

		batch_builder_init(&b);
		for (int k = 0; k < PER_BATCH && i < records && !ret; k++, i++) {
			make_record(r, i);
			ret = batch_builder_add(&b, r);
		}
		memset(h.boot_id, 0xb0, sizeof(h.boot_id));
		memcpy(h.prev_hash, prev, sizeof(prev));
		h.clock_offset_ns = 1763769600000000000ll;
		h.sealed_boot_ns = r->ts_ns + 1;
		h.ntp_synced = 1;
		buf_reset(&sb);
		buf_reset(&env);
		if (!ret)
			ret = batch_sign(&b, &h, host, &sb, prev);
		batch_builder_free(&b);
		if (!ret)
			ret = seal_batch(sb.data, sb.len, col, &env);
		len4[0] = (uint8_t)(env.len >> 24);
		len4[1] = (uint8_t)(env.len >> 16);
		len4[2] = (uint8_t)(env.len >> 8);
		len4[3] = (uint8_t)env.len;
		if (!ret && (fwrite(len4, 4, 1, f) != 1 || fwrite(env.data, 1, env.len, f) != env.len))
			ret = -1;
	}
	if (f && fclose(f) != 0)
		ret = -1;
	buf_free(&sb);
	buf_free(&env);
	free(r);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Run a collector subcommand in this process, its report on stdout sent
 * to /dev/null (its errors stay on stderr). */
static int run(int (*cmd)(int, char **), char **argv)
{
	int argc = 0, saved, null, ret;

	while (argv[argc])
		argc++;
	fflush(stdout);
	saved = dup(1);
	null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, 1);
	ret = cmd(argc, argv);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, 1);
		close(saved);
	}
	if (null >= 0)
		close(null);
	return ret;
}

/* The baseline: read every evidence file. OUT: *bytes. */
static double read_all(const char *dir, uint64_t *bytes)
{
	char path[COLL_PATH_MAX + 300], buf[1 << 16];
	struct dirent **e;
	double t0 = now();
	int n = scandir(dir, &e, NULL, alphasort);

	*bytes = 0;
	for (int i = 0; i < n; i++) {
		int fd;
		ssize_t k;

		snprintf(path, sizeof(path), "%s/%s", dir, e[i]->d_name);
		fd = e[i]->d_name[0] != '.' ? open(path, O_RDONLY) : -1;
		while (fd >= 0 && (k = read(fd, buf, sizeof(buf))) > 0)
			*bytes += (uint64_t)k;
		if (fd >= 0)
			close(fd);
		free(e[i]);
	}
	if (n >= 0)
		free(e);
	return now() - t0;
}

static int the_host(void *ctx, const uint8_t id[KEYS_SIGN_PK_LEN])
{
	return memcmp(ctx, id, KEYS_SIGN_PK_LEN) ? -CUSTOS_ERR_UNKNOWN_HOST : 0;
}

/* The second baseline: what any export or verification must do at least,
 * verify each batch's signature, inflate it and decode every record. */
static double decode_all(const char *dir, const uint8_t host_pk[KEYS_SIGN_PK_LEN],
			 uint64_t *records)
{
	char path[COLL_PATH_MAX + 300];
	struct custos_record *r = malloc(sizeof(*r));
	struct buf b, raw;
	struct dirent **e;
	struct batch_view v;
	struct record_iter it;
	double t0 = now();
	int n = scandir(dir, &e, NULL, alphasort);

	*records = 0;
	buf_init(&b, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	for (int i = 0; i < n; i++) {
		FILE *f;
		size_t k;

		snprintf(path, sizeof(path), "%s/%s", dir, e[i]->d_name);
		f = e[i]->d_name[0] != '.' && r ? fopen(path, "rb") : NULL;
		buf_reset(&b);
		if (f && buf_reserve(&b, CUSTOS_SIGNED_MAX) == 0) {
			k = fread(b.data, 1, CUSTOS_SIGNED_MAX, f);
			b.len = k;
			if (batch_verify(b.data, b.len, the_host, (void *)host_pk, &v, &raw) == 0) {
				record_iter_init(&it, &raw, &v.hdr);
				while (record_iter_next(&it, r) == 1)
					(*records)++;
			}
		}
		if (f)
			fclose(f);
		free(e[i]);
	}
	if (n >= 0)
		free(e);
	buf_free(&b);
	buf_free(&raw);
	free(r);
	return now() - t0;
}

static double verify(const char *self, const char *bundle, const char *key)
{
	char path[COLL_PATH_MAX], copy[COLL_PATH_MAX];
	const char *env = getenv("CUSTOS_VERIFY");
	double t0 = now();
	int status;
	pid_t pid;

	snprintf(copy, sizeof(copy), "%s", self);
	snprintf(path, sizeof(path), "%s/../custos-verify", dirname(copy));
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execl(env ? env : path, "custos-verify", bundle, "--collector-key", key, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_export: custos-verify failed on %s\n", bundle);
		return -1;
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	uint64_t records = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char work[COLL_PATH_MAX] = "/tmp/custos-bench-export.XXXXXX", d[COLL_PATH_MAX + 8],
	     hpub[COLL_PATH_MAX + 16], in[COLL_PATH_MAX + 16], out[COLL_PATH_MAX + 16],
	     cpub[COLL_PATH_MAX + 24], ev[COLL_PATH_MAX + 32];
	struct custos_keypair host;
	struct custos_pubkey col;
	uint64_t bytes, decoded;
	double t0, c0, t_imp, t_read, t_dec, t_exp, t_ver, c_exp, c_ver;
	int line;

	if (custos_init() != 0 || !records || (argc > 2 ? !strcpy(work, argv[2]) : !mkdtemp(work)))
		return 1;
	snprintf(d, sizeof(d), "%s/coll", work);
	snprintf(hpub, sizeof(hpub), "%s/host.pub", work);
	snprintf(in, sizeof(in), "%s/batches.bin", work);
	snprintf(out, sizeof(out), "%s/bundle", work);
	snprintf(cpub, sizeof(cpub), "%s/collector.pub", d);
	snprintf(ev, sizeof(ev), "%s/evidence", out);
	t0 = now();
	if (run(cmd_init, (char *[]){ "init", "--dir", d, NULL }) || keys_generate(&host) ||
	    keys_save_public(hpub, &host.pub) ||
	    run(cmd_enroll, (char *[]){ "enroll", "--dir", d, "--name", "bench", "--key", hpub,
					NULL }) ||
	    keys_load_public(cpub, &col, &line) || make_batches(in, records, &host, &col) ||
	    run(cmd_import, (char *[]){ "import", "--dir", d, in, NULL })) {
		fprintf(stderr, "bench_export: could not build the collector state in %s\n", work);
		return 1;
	}
	t_imp = now() - t0;
	t0 = now();
	c0 = cpu();
	if (run(cmd_export, (char *[]){ "export", "--dir", d, "--case", "BENCH", "--host", "bench",
					"--from", "0", "--to", "4000000000", "--reason", "benchmark",
					"--legal-basis", "none", "--requester", "bench", "--out",
					out, NULL }))
		return 1;
	t_exp = now() - t0;
	c_exp = cpu() - c0;
	t_read = read_all(ev, &bytes);
	t_dec = decode_all(ev, host.pub.sign_pk, &decoded);
	c0 = cpu();
	t_ver = verify(argv[0], out, cpub);
	c_ver = cpu() - c0;
	if (t_ver < 0)
		return 1;
	printf("bench_export: %llu records in %llu batches of %d (state built in %.1f s in %s)\n",
	       (unsigned long long)records, (unsigned long long)((records + PER_BATCH - 1) /
								 PER_BATCH), PER_BATCH, t_imp, work);
	printf("  baseline: read the %.1f MB of exported batches wall %7.2f s\n",
	       (double)bytes / 1e6, t_read);
	printf("  baseline: verify, inflate, decode the %llu records wall %7.2f s\n",
	       (unsigned long long)decoded, t_dec);
	printf("  export (bundle + tar)                 wall %7.2f s  cpu %6.2f s  %.2fx the "
	       "10 s goal (cpu)\n", t_exp, c_exp, c_exp / GOAL_S);
	printf("  custos-verify (directory)             wall %7.2f s  cpu %6.2f s  %.2fx the "
	       "10 s goal (cpu)\n", t_ver, c_ver, c_ver / GOAL_S);
	if (argc <= 2)
		nftw(work, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
