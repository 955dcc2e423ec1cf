/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot: running processes from /proc into snapshot records
 * (snapshot.h). Sources, per process:
 *   stat     ppid, start time (clock ticks since boot: 10 ms precision,
 *            coarser than the kernel's start_ns in later records)
 *   status   Uid/Gid (real, effective), Tgid
 *   comm, loginuid, sessionid, cmdline (argv, cut at an element)
 *   exe, cwd readlink(2); stat(2) of exe for dev, inode, mode
 *   ns/pid, ns/mnt inode numbers
 * The cgroup id is not read here (0). Executables are not hashed yet
 * (hash_status 1, pending). Kernel threads (no exe, no cmdline) are
 * skipped. Reading other users' exe and cwd links needs CAP_SYS_PTRACE:
 * the agent takes the snapshot before it drops its capabilities.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "snapshot.h"

#define SMALL 4096

/* Read up to cap-1 bytes of dir/name into buf, NUL-terminated. Returns the
 * length or -1. */
static ssize_t read_small(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[512];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)len < cap - 1 && (n = read(fd, buf + len, cap - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

static uint64_t parse_dec(const char *s, int *ok)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!isdigit((unsigned char)*s)) {
		*ok = 0;
		return 0;
	}
	v = strtoull(s, &end, 10);
	if (errno || (*end && !isspace((unsigned char)*end)))
		*ok = 0;
	return v;
}

/* stat: "pid (comm) state ppid ... starttime(22) ...". The comm may hold
 * spaces and parentheses: fields are counted after the last ')'. */
static int read_stat(const char *dir, struct custos_record *r)
{
	char buf[SMALL], *p, *save = NULL;
	long tick = sysconf(_SC_CLK_TCK);
	int field = 3, ok = 1;

	if (read_small(dir, "stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) || tick <= 0)
		return -1;
	for (char *t = strtok_r(p + 1, " ", &save); t; t = strtok_r(NULL, " ", &save), field++) {
		if (field == 4)
			r->subj.ppid = parse_dec(t, &ok);
		if (field == 22) {
			uint64_t ticks = parse_dec(t, &ok);

			r->u.exec.start_ns = ticks / (uint64_t)tick * 1000000000ull +
					     ticks % (uint64_t)tick * (1000000000ull / (uint64_t)tick);
			return ok ? 0 : -1;
		}
	}
	return -1;
}

static int read_status(const char *dir, struct custos_record *r)
{
	char buf[SMALL], *save = NULL;
	int ok = 1, seen = 0;

	if (read_small(dir, "status", buf, sizeof(buf)) <= 0)
		return -1;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long real, eff;

		if (sscanf(l, "Uid: %llu %llu", &real, &eff) == 2) {
			r->subj.uid = real;
			r->subj.euid = eff;
			seen |= 1;
		} else if (sscanf(l, "Gid: %llu", &real) == 1) {
			r->subj.gid = real;
			seen |= 2;
		}
	}
	return ok && seen == 3 ? 0 : -1;
}

static void read_ids(const char *dir, struct custos_record *r)
{
	char buf[64], path[512];
	struct stat st;
	int ok = 1;
	ssize_t n;

	r->subj.loginuid = 4294967295ull;
	if (read_small(dir, "loginuid", buf, sizeof(buf)) > 0)
		r->subj.loginuid = parse_dec(buf, &ok);
	if (read_small(dir, "sessionid", buf, sizeof(buf)) > 0)
		r->subj.sessionid = parse_dec(buf, &ok);
	n = read_small(dir, "comm", buf, sizeof(buf));
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0)
		record_set_bytes(r->subj.comm, &r->subj.comm_len, CUSTOS_COMM_MAX, buf);
	snprintf(path, sizeof(path), "%s/ns/pid", dir);
	if (stat(path, &st) == 0)
		r->subj.pidns = st.st_ino;
	snprintf(path, sizeof(path), "%s/ns/mnt", dir);
	if (stat(path, &st) == 0)
		r->subj.mntns = st.st_ino;
}

/* readlink dir/name into dst; sets *trunc when it did not fit. */
static void read_link(const char *dir, const char *name, uint8_t *dst, uint32_t *len,
		      uint64_t *trunc)
{
	char path[512], *buf = malloc(CUSTOS_PATH_MAX + 1);
	ssize_t n;

	if (!buf)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, buf, CUSTOS_PATH_MAX + 1);
	if (n > 0) {
		*trunc = n > CUSTOS_PATH_MAX;
		*len = (uint32_t)(n > CUSTOS_PATH_MAX ? CUSTOS_PATH_MAX : n);
		memcpy(dst, buf, *len);
	}
	free(buf);
}

/* cmdline is argv as NUL-terminated strings, the format of the argv field;
 * keep whole elements that fit. */
static void read_argv(const char *dir, struct custos_exec *e)
{
	char *buf = malloc(CUSTOS_ARGS_MAX + 2);
	ssize_t n;
	size_t keep = 0, count = 0, total = 0;

	if (!buf || (n = read_small(dir, "cmdline", buf, CUSTOS_ARGS_MAX + 2)) <= 0) {
		free(buf);
		return;
	}
	if (buf[n - 1] != '\0')
		buf[n++] = '\0';	/* cut inside the last element */
	for (size_t i = 0; i < (size_t)n; i++) {
		if (buf[i] != '\0')
			continue;
		total++;
		if (i + 1 <= CUSTOS_ARGS_MAX) {
			keep = i + 1;
			count = total;
		}
	}
	memcpy(e->argv, buf, keep);
	e->argv_len = (uint32_t)keep;
	e->argv_count = count;
	e->argc = total;
	e->argv_truncated = n > CUSTOS_ARGS_MAX || count < total;
	free(buf);
}

int snapshot_process(const char *proc_root, uint64_t pid, uint64_t ts_ns, struct custos_record *r)
{
	char dir[256], exe[300];
	struct stat st;

	memset(r, 0, sizeof(*r));
	snprintf(dir, sizeof(dir), "%s/%llu", proc_root, (unsigned long long)pid);
	r->kind = CUSTOS_REC_SNAPSHOT;
	r->ts_ns = ts_ns;
	r->subj.pid = r->subj.tid = pid;
	if (read_stat(dir, r) || read_status(dir, r))
		return -CUSTOS_ERR_IO;
	read_ids(dir, r);
	read_link(dir, "exe", r->u.exec.exe, &r->u.exec.exe_len, &r->u.exec.exe_truncated);
	read_link(dir, "cwd", r->u.exec.cwd, &r->u.exec.cwd_len, &r->u.exec.cwd_truncated);
	read_argv(dir, &r->u.exec);
	snprintf(exe, sizeof(exe), "%s/exe", dir);
	if (stat(exe, &st) == 0) {
		r->u.exec.exe_dev = st.st_dev;
		r->u.exec.exe_ino = st.st_ino;
		r->u.exec.exe_mode = st.st_mode;
	}
	r->u.exec.hash_status = CUSTOS_HASH_PENDING;
	if (r->u.exec.start_ns > ts_ns)
		r->u.exec.start_ns = ts_ns;	/* tick rounding */
	return 0;
}

int snapshot_walk(const char *proc_root, uint64_t ts_ns, snapshot_fn fn, void *ctx,
		  uint64_t *count)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct dirent *d;
	DIR *dh = opendir(proc_root);
	int ret = 0;

	*count = 0;
	if (!r || !dh) {
		free(r);
		if (dh)
			closedir(dh);
		return r ? -CUSTOS_ERR_IO : -CUSTOS_ERR_NOMEM;
	}
	while (ret >= 0 && (d = readdir(dh)) != NULL) {
		int ok = 1;
		uint64_t pid = parse_dec(d->d_name, &ok);

		if (!ok || pid == 0 || snapshot_process(proc_root, pid, ts_ns, r))
			continue;	/* not a process, or it is gone */
		if (r->u.exec.exe_len == 0 && r->u.exec.argv_len == 0)
			continue;	/* a kernel thread (or a zombie): no program */
		ret = fn(ctx, r);
		if (ret >= 0)
			(*count)++;
	}
	closedir(dh);
	free(r);
	return ret < 0 ? ret : 0;
}
