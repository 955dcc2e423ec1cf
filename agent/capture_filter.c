/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capture's filters (capture_filter.h): noise by executable prefix or
 * cgroup, and the sensitive-read list.
 *
 * The sensitive list reaches the kernel as (device, inode[, name]) keys,
 * which a BPF program can check on an opened file without building its
 * path: a directory matches everything below it; a file matches by its
 * name in its directory, so a file replaced by rename (passwd rewrites
 * /etc/shadow that way) still matches. Patterns are expanded with glob(3)
 * once, at start: a file created later matches only if its directory or
 * its exact name is on the list.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "capture_filter.h"
#include "decode.h"
#include "events.h"

const char *const capture_default_sensitive[] = {
	"/etc/shadow*", "/etc/gshadow*", "/etc/sudoers*", "/etc/ssh/ssh_host_*key",
	"/root", "/home/*/.ssh", NULL,
};

struct capture_filter {
	char **ignore_exe;
	size_t n_ignore_exe;
	char **sensitive;
	size_t n_sensitive;
	int tgids_fd;
	int cgroups_fd, sensitive_fd;	/* for capture_filter_reload */
	int bloom_fd;			/* the sensitive map's Bloom filter */
	int on_fd;			/* filter_on (common.bpf.h custos_skip) */
	struct custos_record rec;	/* scratch: refused reads, exec paths */
};

/* Keys a reload keeps in a map (the others are deleted). */
struct keyset {
	void *keys;
	size_t n, cap, size;
};

static int keyset_add(struct keyset *ks, const void *key)
{
	if (!ks)
		return 0;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 64;
		void *k = realloc(ks->keys, cap * ks->size);

		if (!k)
			return -ENOMEM;
		ks->keys = k;
		ks->cap = cap;
	}
	memcpy((uint8_t *)ks->keys + ks->n++ * ks->size, key, ks->size);
	return 0;
}

static char **copy_strings(const char *const *v, size_t n)
{
	char **out = calloc(n ? n : 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			while (i--)
				free(out[i]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static bool exe_ignored(const struct capture_filter *f, const char *exe, size_t len)
{
	for (size_t i = 0; i < f->n_ignore_exe; i++) {
		size_t n = strlen(f->ignore_exe[i]);

		if (n <= len && memcmp(exe, f->ignore_exe[i], n) == 0)
			return true;
	}
	return false;
}

static void mark(const struct capture_filter *f, uint32_t tgid, bool ignored)
{
	uint8_t one = 1;

	if (ignored)
		bpf_map_update_elem(f->tgids_fd, &tgid, &one, BPF_ANY);
	else
		bpf_map_delete_elem(f->tgids_fd, &tgid);
}

/* Mark the processes already running whose executable is ignored. */
static void mark_running(const struct capture_filter *f)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d) {
		fprintf(stderr, "custos-agent: reading /proc for --ignore-exe: %s\n",
			strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char link[64], exe[PATH_MAX];
		unsigned long pid;
		char *end;
		ssize_t n;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || pid > UINT32_MAX)
			continue;
		snprintf(link, sizeof(link), "/proc/%lu/exe", pid);
		n = readlink(link, exe, sizeof(exe));
		if (n > 0 && exe_ignored(f, exe, (size_t)n))
			mark(f, (uint32_t)pid, true);
	}
	closedir(d);
}

/* Set k's two bits in the filter bl (events.h). */
static void bloom_add(struct custos_ev_sens_filter *bl, const struct custos_ev_sens_key *k)
{
	uint64_t h = custos_sens_hash(k);
	uint32_t a = CUSTOS_SENS_BIT1(h), b = CUSTOS_SENS_BIT2(h);

	bl->w[a >> 6] |= 1ull << (a & 63);
	bl->w[b >> 6] |= 1ull << (b & 63);
}

/* Write filter bl to the kernel, ORed with the one there when widen is
 * set. Returns 0 or a negative errno. */
static int bloom_write(int fd, const struct custos_ev_sens_filter *bl, bool widen)
{
	static const uint32_t zero = 0;
	struct custos_ev_sens_filter cur;

	if (widen) {
		if (bpf_map_lookup_elem(fd, &zero, &cur) != 0)
			return -errno;
		for (size_t i = 0; i < sizeof(cur.w) / sizeof(cur.w[0]); i++)
			cur.w[i] |= bl->w[i];
		bl = &cur;
	}
	return bpf_map_update_elem(fd, &zero, bl, BPF_ANY) != 0 ? -errno : 0;
}

/* One key for path: a directory, or a name in its directory; also into
 * keep (may be NULL) and filter bl. */
static int add_sensitive(int fd, const char *path, struct keyset *keep,
			 struct custos_ev_sens_filter *bl)
{
	struct custos_ev_sens_key k;
	char dir[PATH_MAX], base[PATH_MAX];
	const char *name;
	struct stat st;
	uint8_t one = 1;

	memset(&k, 0, sizeof(k));
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		k.dev = ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);
		k.ino = st.st_ino;
	} else {
		if (strlen(path) >= sizeof(dir))
			return -ENAMETOOLONG;
		strcpy(dir, path);
		strcpy(base, path);
		if (stat(dirname(dir), &st) != 0)
			return 0;	/* no directory: nothing to watch */
		k.dev = ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);
		k.ino = st.st_ino;
		/* The kernel reads the name as a string into k.name: at most
		 * SENS_NAME - 1 bytes, then NUL. */
		name = basename(base);
		memcpy(k.name, name, strnlen(name, sizeof(k.name) - 1));
	}
	if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) != 0)
		return -errno;
	bloom_add(bl, &k);
	return keyset_add(keep, &k);
}

/* Expand the patterns into the kernel's map. A pattern that matches
 * nothing still names a file to watch for when it has no wildcard. */
static int fill_sensitive(const struct capture_filter *f, int fd, struct keyset *keep,
			  struct custos_ev_sens_filter *bl)
{
	int ret = 0;

	for (size_t i = 0; i < f->n_sensitive && !ret; i++) {
		const char *p = f->sensitive[i];
		glob_t g;

		if (p[0] != '/') {
			fprintf(stderr, "custos-agent: --sensitive '%s': not an absolute path\n", p);
			return -EINVAL;
		}
		if (glob(p, GLOB_NOSORT, NULL, &g) != 0) {
			if (!strpbrk(p, "*?["))
				ret = add_sensitive(fd, p, keep, bl);
			continue;
		}
		for (size_t j = 0; j < g.gl_pathc && !ret; j++)
			ret = add_sensitive(fd, g.gl_pathv[j], keep, bl);
		globfree(&g);
		if (ret)
			fprintf(stderr, "custos-agent: sensitive path '%s': %s\n", p, strerror(-ret));
	}
	return ret;
}

static int fill_cgroups(const struct capture_opts *opts, int fd, struct keyset *keep)
{
	uint8_t one = 1;

	for (size_t i = 0; i < opts->n_ignore_cgroups; i++) {
		if (bpf_map_update_elem(fd, &opts->ignore_cgroups[i], &one, BPF_ANY) != 0) {
			int err = errno;

			fprintf(stderr, "custos-agent: ignoring cgroup %llu: %s\n",
				(unsigned long long)opts->ignore_cgroups[i], strerror(err));
			return -err;
		}
		if (keyset_add(keep, &opts->ignore_cgroups[i]))
			return -ENOMEM;
	}
	return 0;
}

/* The programs look the ignore maps up only once filter_on is set: set
 * it before the first ignored cgroup or executable is in force, and never
 * clear it (a mark made under an earlier configuration may still be in
 * the map). */
static int filter_switch_on(const struct capture_filter *f, const struct capture_opts *opts)
{
	uint32_t zero = 0, on = 1;

	if (!opts->n_ignore_exe && !opts->n_ignore_cgroups)
		return 0;
	if (bpf_map_update_elem(f->on_fd, &zero, &on, BPF_ANY) != 0) {
		int err = errno;

		fprintf(stderr, "custos-agent: turning the ignore filters on: %s\n", strerror(err));
		return -err;
	}
	return 0;
}

int capture_filter_open(const struct capture_opts *opts, int tgids_fd, int cgroups_fd,
			int sensitive_fd, int bloom_fd, int on_fd, struct capture_filter **out)
{
	struct custos_ev_sens_filter *bl = calloc(1, sizeof(*bl));
	const char *const *sens = opts->sensitive ? opts->sensitive : capture_default_sensitive;
	size_t n_sens = opts->sensitive ? opts->n_sensitive : 0;
	struct capture_filter *f = calloc(1, sizeof(*f));
	int ret = -ENOMEM;

	*out = NULL;
	if (!opts->sensitive)
		while (sens[n_sens])
			n_sens++;
	if (!f || !bl)
		goto out;
	f->tgids_fd = tgids_fd;
	f->bloom_fd = bloom_fd;
	f->ignore_exe = copy_strings(opts->ignore_exe, opts->n_ignore_exe);
	f->sensitive = copy_strings(sens, n_sens);
	if (!f->ignore_exe || !f->sensitive)
		goto out;
	f->n_ignore_exe = opts->n_ignore_exe;
	f->n_sensitive = n_sens;
	f->cgroups_fd = cgroups_fd;
	f->sensitive_fd = sensitive_fd;
	f->on_fd = on_fd;
	ret = filter_switch_on(f, opts);
	if (!ret)
		ret = fill_cgroups(opts, cgroups_fd, NULL);
	if (!ret)
		ret = fill_sensitive(f, sensitive_fd, NULL, bl);
	if (!ret)
		ret = bloom_write(bloom_fd, bl, false);
	if (ret)
		goto out;
	if (f->n_ignore_exe)
		mark_running(f);
	*out = f;
	f = NULL;
out:
	if (ret == -ENOMEM)
		fprintf(stderr, "custos-agent: capture filters: out of memory\n");
	free(bl);
	capture_filter_close(f);
	return ret;
}

/* A refused read is kept when its joined path matches a pattern, or lies
 * below a match. */
static bool sensitive_path(struct capture_filter *f, const void *data, size_t size)
{
	char path[CUSTOS_PATH_MAX + 1];
	uint32_t kind;

	if (decode_event(data, size, &f->rec, &kind) != 0)
		return true;	/* let the decoder refuse it visibly */
	memcpy(path, f->rec.u.file.path, f->rec.u.file.path_len);
	path[f->rec.u.file.path_len] = 0;
	for (size_t i = 0; i < f->n_sensitive; i++) {
		char below[PATH_MAX + 3];

		if (fnmatch(f->sensitive[i], path, 0) == 0)
			return true;
		snprintf(below, sizeof(below), "%s/*", f->sensitive[i]);
		if (fnmatch(below, path, 0) == 0)
			return true;
	}
	return false;
}

bool capture_filter_drop(struct capture_filter *f, const void *data, size_t size)
{
	const struct custos_ev_hdr *h = data;

	if (!f || size < sizeof(*h))
		return false;
	if (h->kind == CUSTOS_EV_EXEC) {
		const struct custos_exec *x = &f->rec.u.exec;
		uint32_t kind;

		/* A failed exec leaves the process running its program. A record
		 * that does not decode is left to the decoder to refuse. */
		if (f->n_ignore_exe && decode_event(data, size, &f->rec, &kind) == 0 &&
		    x->result == 0)
			mark(f, h->pid, exe_ignored(f, (const char *)x->exe, x->exe_len));
		return false;
	}
	if (h->kind == CUSTOS_EV_FORK || h->kind == CUSTOS_EV_EXIT)
		return false;
	if (f->n_ignore_exe) {
		uint8_t v;
		uint32_t pid = h->pid;

		if (bpf_map_lookup_elem(f->tgids_fd, &pid, &v) == 0)
			return true;	/* marked after its first calls were stashed */
	}
	if (h->kind == CUSTOS_EV_OPEN && size >= sizeof(struct custos_ev_file) &&
	    ((const struct custos_ev_file *)data)->user_check)
		return !sensitive_path(f, data, size);
	return false;
}

void capture_filter_close(struct capture_filter *f)
{
	if (!f)
		return;
	free_strings(f->ignore_exe, f->n_ignore_exe);
	free_strings(f->sensitive, f->n_sensitive);
	free(f);
}

/* --- Reload (SIGHUP in custos-agent run) ------------------------------ */

#define KEY_MAX 512

bool capture_filter_mark_exe(struct capture_filter *f, uint32_t tgid, const char *exe, size_t len)
{
	bool ignored = exe_ignored(f, exe, len);

	mark(f, tgid, ignored);
	return ignored;
}

static bool keyset_has(const struct keyset *ks, const void *key)
{
	for (size_t i = 0; i < ks->n; i++)
		if (memcmp((const uint8_t *)ks->keys + i * ks->size, key, ks->size) == 0)
			return true;
	return false;
}

/* Delete from the map every key that is not in keep. */
static int prune(int fd, const struct keyset *keep)
{
	struct keyset gone = { .size = keep->size };
	uint8_t key[KEY_MAX], next[KEY_MAX];
	void *prev = NULL;
	int ret = 0;

	if (keep->size > KEY_MAX)
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		if (!keyset_has(keep, next) && (ret = keyset_add(&gone, next)))
			break;
		memcpy(key, next, keep->size);
		prev = key;
	}
	for (size_t i = 0; i < gone.n; i++)
		bpf_map_delete_elem(fd, (uint8_t *)gone.keys + i * gone.size);
	free(gone.keys);
	return ret;
}

/* Unmark the processes that are gone or whose executable (as far as
 * /proc tells) is no longer ignored. One whose link cannot be read stays
 * marked: the caller decides with capture_filter_mark_exe. */
static void unmark_stale(const struct capture_filter *f)
{
	struct keyset gone = { .size = sizeof(uint32_t) };
	uint32_t key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(f->tgids_fd, prev, &next) == 0) {
		char link[64], exe[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%u/exe", next);
		n = readlink(link, exe, sizeof(exe));
		if ((n > 0 && !exe_ignored(f, exe, (size_t)n)) || (n < 0 && errno == ENOENT))
			if (keyset_add(&gone, &next))
				break;
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < gone.n; i++)
		bpf_map_delete_elem(f->tgids_fd, (uint32_t *)gone.keys + i);
	free(gone.keys);
}

int capture_filter_reload(struct capture_filter *f, const struct capture_opts *opts)
{
	const char *const *sens = opts->sensitive ? opts->sensitive : capture_default_sensitive;
	size_t n_sens = opts->sensitive ? opts->n_sensitive : 0;
	struct keyset ks = { .size = sizeof(struct custos_ev_sens_key) };
	struct keyset kc = { .size = sizeof(uint64_t) };
	struct custos_ev_sens_filter *bl;
	char **ig, **se;
	int ret;

	if (!opts->sensitive)
		while (sens[n_sens])
			n_sens++;
	for (size_t i = 0; i < n_sens; i++)
		if (sens[i][0] != '/') {
			fprintf(stderr, "custos-agent: sensitive path '%s': not an absolute path\n",
				sens[i]);
			return -EINVAL;
		}
	ig = copy_strings(opts->ignore_exe, opts->n_ignore_exe);
	se = copy_strings(sens, n_sens);
	bl = calloc(1, sizeof(*bl));
	if (!ig || !se || !bl) {
		free(bl);
		free_strings(ig, ig ? opts->n_ignore_exe : 0);
		free_strings(se, se ? n_sens : 0);
		return -ENOMEM;
	}
	free_strings(f->ignore_exe, f->n_ignore_exe);
	free_strings(f->sensitive, f->n_sensitive);
	f->ignore_exe = ig;
	f->n_ignore_exe = opts->n_ignore_exe;
	f->sensitive = se;
	f->n_sensitive = n_sens;
	/* New keys first, then the old ones go: what stays is never missing. */
	ret = filter_switch_on(f, opts);
	if (!ret)
		ret = fill_cgroups(opts, f->cgroups_fd, &kc);
	if (!ret)
		ret = prune(f->cgroups_fd, &kc);
	if (!ret)
		ret = fill_sensitive(f, f->sensitive_fd, &ks, bl);
	if (!ret)	/* the old keys' bits stay until the old keys are gone */
		ret = bloom_write(f->bloom_fd, bl, true);
	if (!ret)
		ret = prune(f->sensitive_fd, &ks);
	if (!ret)
		ret = bloom_write(f->bloom_fd, bl, false);
	if (!ret) {
		mark_running(f);
		unmark_stale(f);
	}
	free(ks.keys);
	free(kc.keys);
	free(bl);
	return ret;
}
