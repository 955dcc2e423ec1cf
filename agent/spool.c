/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool: sealed batches on disk until the collector acknowledges them, and
 * the host's chain position.
 *
 * Layout of the spool directory D:
 *   D/lock                           flock()ed by the one agent using D
 *   D/state                          "custos spool state v1" text: next_seq,
 *                                    last_hash, lost, pending gap (spool_io.c)
 *   D/batches/<seq:%020>-<hash hex>.sealed   one sealed envelope each
 *   D/acks/<seq:%020>-<hash hex>.ack         the collector's signed receipt
 *   *.tmp                            a write in progress (removed at open)
 * The hash in a name is the batch hash (docs/format.md 3.3): the agent
 * cannot open its own sealed batches, so names carry what an ack must match.
 *
 * Invariants:
 *   1. A batch file exists under its final name only after its bytes were
 *      fsynced (temp file, fsync, rename, fsync of batches/).
 *   2. The chain position advances to (seq, hash) only after batch seq is
 *      durable under its final name; so every sequence number the chain
 *      has passed names a batch that is, or was, durably spooled.
 *   3. The forwarder sees a batch only after spool_put() returned, that is
 *      after invariant 1: nothing leaves the host that a crash could undo.
 *   4. A batch file is deleted only after its receipt is durable in acks/.
 *   5. next_seq = max(state next_seq, largest spooled seq + 1, largest
 *      receipt seq + 1); last_hash is the hash of that largest sequence.
 *   6. The batch files' total size stays within max_bytes.
 *
 * States of one batch: absent -> TMP (a .tmp file) -> SPOOLED (final name,
 * chain advanced) -> RECEIPTED (ack durable, batch still there) ->
 * DELIVERED (batch gone, receipt kept).
 *
 * Crash guarantees (kill -9 or power loss at any instant), by recovery at
 * spool_open():
 *   - TMP: the temp file is removed; the batch never existed outside this
 *     process (invariant 3), so its sequence number is free and is used by
 *     the next batch: no number is ever used twice by batches anyone saw.
 *   - SPOOLED but the state not yet updated: invariant 5 takes the chain
 *     position from the batch file's name: no repeat, no broken link.
 *   - RECEIPTED: the batch file is deleted (the receipt proves delivery).
 *   - Power loss before a directory fsync may undo a rename: then the step
 *     before it holds, and the cases above apply. The state file is a hint
 *     for when receipts have been removed by an operator: the files are
 *     the truth.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "error.h"
#include "spool.h"
#include "spool_io.h"

void (*spool_fault_hook)(int step);

#define NAME_LEN (20 + 1 + 2 * CUSTOS_HASH_LEN)	/* seq-hash, without suffix */
#define PATH_LEN 4096
#define ENT_LEN (PATH_LEN + 128)	/* a sub-directory plus an entry's name */
#define DIR_MAX 3072		/* the spool directory's name, with room for the rest */

struct spool {
	pthread_mutex_t mu;
	char dir[DIR_MAX];
	int lock_fd;
	uint64_t max_bytes;
	uint64_t next_seq;
	uint8_t last_hash[CUSTOS_HASH_LEN];
	struct spool_entry *ents;	/* sorted by seq */
	size_t n, cap;
	uint64_t bytes;
	uint64_t lost;			/* as last written to the state file */
	struct spool_gap gap;
	int have_ack;			/* the newest receipt, if any */
	uint64_t ack_seq;
	uint8_t ack_hash[CUSTOS_HASH_LEN];
};

static void fault(int step)
{
	if (spool_fault_hook)
		spool_fault_hook(step);
}

static int save_state(const struct spool *sp)
{
	struct spool_statefile st = { .next_seq = sp->next_seq, .lost = sp->lost, .gap = sp->gap };

	memcpy(st.last_hash, sp->last_hash, CUSTOS_HASH_LEN);
	return spool_io_write_state(sp->dir, &st);
}

/* ---- names and small file helpers ----------------------------------- */

static void entry_name(char *out, size_t len, const char *sub, uint64_t seq,
		       const uint8_t hash[CUSTOS_HASH_LEN], const char *suffix)
{
	char hex[2 * CUSTOS_HASH_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), hash, CUSTOS_HASH_LEN);
	snprintf(out, len, "%s/%020" PRIu64 "-%s%s", sub, seq, hex, suffix);
}

/* Parse "<20 digits>-<64 hex><suffix>". Returns 0 or -1. */
static int parse_name(const char *name, const char *suffix, uint64_t *seq,
		      uint8_t hash[CUSTOS_HASH_LEN])
{
	size_t bin_len = 0;
	char digits[21];
	char *end;

	if (strlen(name) != NAME_LEN + strlen(suffix) || strcmp(name + NAME_LEN, suffix) != 0 ||
	    name[20] != '-')
		return -1;
	memcpy(digits, name, 20);
	digits[20] = '\0';
	for (int i = 0; i < 20; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return -1;
	errno = 0;
	*seq = strtoull(digits, &end, 10);
	if (errno || *end)
		return -1;
	if (sodium_hex2bin(hash, CUSTOS_HASH_LEN, name + 21, 2 * CUSTOS_HASH_LEN, NULL, &bin_len,
			   NULL) || bin_len != CUSTOS_HASH_LEN)
		return -1;
	return 0;
}





/* ---- the in-memory index -------------------------------------------- */

static int index_add(struct spool *sp, const struct spool_entry *e)
{
	size_t i;

	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 64;
		struct spool_entry *ne = realloc(sp->ents, cap * sizeof(*ne));

		if (!ne)
			return -CUSTOS_ERR_NOMEM;
		sp->ents = ne;
		sp->cap = cap;
	}
	for (i = sp->n; i > 0 && sp->ents[i - 1].seq > e->seq; i--)
		sp->ents[i] = sp->ents[i - 1];
	sp->ents[i] = *e;
	sp->n++;
	sp->bytes += e->size;
	return 0;
}

/* Index of the first entry with seq >= from (sp->n when none). */
static size_t index_find(const struct spool *sp, uint64_t from)
{
	size_t lo = 0, hi = sp->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->ents[mid].seq < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- recovery --------------------------------------------------------- */

/* Advance the chain position to (seq, hash) if seq is past it. */
static void take_max(struct spool *sp, uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN])
{
	if (seq + 1 > sp->next_seq) {
		sp->next_seq = seq + 1;
		memcpy(sp->last_hash, hash, CUSTOS_HASH_LEN);
	}
}

static void note_ack(struct spool *sp, uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN])
{
	if (!sp->have_ack || seq >= sp->ack_seq) {
		sp->have_ack = 1;
		sp->ack_seq = seq;
		memcpy(sp->ack_hash, hash, CUSTOS_HASH_LEN);
	}
}

static int has_receipt(const struct spool *sp, uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN])
{
	char path[ENT_LEN], sub[PATH_LEN];

	snprintf(sub, sizeof(sub), "%s/acks", sp->dir);
	entry_name(path, sizeof(path), sub, seq, hash, ".ack");
	return access(path, F_OK) == 0;
}

/* Scan sub ("acks" or "batches"): remove temp files, feed take_max, and
 * for batches, delete receipted ones and index the rest. */
static int scan(struct spool *sp, const char *sub, int batches)
{
	char path[PATH_LEN];
	struct dirent *d;
	DIR *dh;
	int ret = 0, removed = 0;

	snprintf(path, sizeof(path), "%s/%s", sp->dir, sub);
	dh = opendir(path);
	if (!dh)
		return -CUSTOS_ERR_IO;
	while (ret == 0 && (d = readdir(dh)) != NULL) {
		struct spool_entry e = { 0 };
		char file[PATH_LEN + 512];
		struct stat st;
		size_t len = strlen(d->d_name);

		snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
		if (len > 4 && strcmp(d->d_name + len - 4, ".tmp") == 0) {
			unlink(file);
			removed = 1;
			continue;
		}
		if (parse_name(d->d_name, batches ? ".sealed" : ".ack", &e.seq, e.hash))
			continue;	/* not ours: left alone */
		take_max(sp, e.seq, e.hash);
		if (!batches) {
			note_ack(sp, e.seq, e.hash);
			continue;
		}
		if (has_receipt(sp, e.seq, e.hash)) {
			unlink(file);	/* RECEIPTED: delivery already proven */
			removed = 1;
			continue;
		}
		if (stat(file, &st))
			ret = -CUSTOS_ERR_IO;
		else {
			e.size = (uint64_t)st.st_size;
			ret = index_add(sp, &e);
		}
	}
	closedir(dh);
	if (ret == 0 && removed)
		ret = spool_io_fsync_dir(path);
	return ret;
}

static int make_dirs(const char *dir)
{
	static const char *const subs[] = { "", "/batches", "/acks" };
	char path[PATH_LEN];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", dir, subs[i]);
		if (mkdir(path, 0700) && errno != EEXIST)
			return -CUSTOS_ERR_IO;
	}
	return 0;
}

static int recover(struct spool *sp, char *err, size_t errlen)
{
	struct spool_statefile st;
	uint64_t before;
	char tmp[PATH_LEN];
	int ret = spool_io_read_state(sp->dir, &st);
	int fresh = ret == 1;

	if (ret < 0) {
		snprintf(err, errlen, "%s/state: %s", sp->dir, custos_strerror(ret));
		return ret;
	}
	snprintf(tmp, sizeof(tmp), "%s/state.tmp", sp->dir);
	unlink(tmp);
	sp->next_seq = st.next_seq;
	memcpy(sp->last_hash, st.last_hash, CUSTOS_HASH_LEN);
	sp->lost = st.lost;
	sp->gap = st.gap;
	before = sp->next_seq;
	if ((ret = scan(sp, "acks", 0)) || (ret = scan(sp, "batches", 1))) {
		snprintf(err, errlen, "%s: scanning the spool: %s", sp->dir, custos_strerror(ret));
		return ret;
	}
	if (fresh || sp->next_seq != before)
		ret = save_state(sp);
	if (ret)
		snprintf(err, errlen, "%s/state: writing: %s", sp->dir, strerror(errno));
	return ret;
}

int spool_open(const char *dir, uint64_t max_bytes, struct spool **out, char *err, size_t errlen)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	char path[PATH_LEN];
	int ret = -CUSTOS_ERR_IO;

	*out = NULL;
	err[0] = '\0';
	if (!sp)
		return -CUSTOS_ERR_NOMEM;
	pthread_mutex_init(&sp->mu, NULL);
	sp->lock_fd = -1;
	sp->max_bytes = max_bytes;
	if (strlen(dir) >= DIR_MAX) {
		snprintf(err, errlen, "spool directory name too long");
		ret = -CUSTOS_ERR_INVAL;
		goto out;
	}
	snprintf(sp->dir, sizeof(sp->dir), "%s", dir);
	if (make_dirs(dir)) {
		snprintf(err, errlen, "%s: creating the spool: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/lock", dir);
	sp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lock_fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "%s: the spool is in use by another agent", dir);
		ret = -CUSTOS_ERR_EXISTS;
		goto out;
	}
	ret = recover(sp, err, errlen);
out:
	if (ret)
		spool_close(sp);
	else
		*out = sp;
	return ret;
}

void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	pthread_mutex_destroy(&sp->mu);
	free(sp->ents);
	free(sp);
}

void spool_chain(struct spool *sp, uint64_t *next_seq, uint8_t last_hash[CUSTOS_HASH_LEN])
{
	pthread_mutex_lock(&sp->mu);
	*next_seq = sp->next_seq;
	memcpy(last_hash, sp->last_hash, CUSTOS_HASH_LEN);
	pthread_mutex_unlock(&sp->mu);
}

int spool_has_room(struct spool *sp, size_t n)
{
	int room;

	pthread_mutex_lock(&sp->mu);
	room = sp->bytes + n <= sp->max_bytes;
	pthread_mutex_unlock(&sp->mu);
	return room;
}

int spool_has_room_low(struct spool *sp, size_t n)
{
	int room;

	pthread_mutex_lock(&sp->mu);
	room = sp->n == 0 || sp->bytes + n <= sp->max_bytes / 2;
	pthread_mutex_unlock(&sp->mu);
	return room;
}

int spool_put(struct spool *sp, uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN],
	      const uint8_t *sealed, size_t n, uint64_t lost_total)
{
	struct spool_entry e = { .seq = seq, .size = n };
	char dir[PATH_LEN], name[ENT_LEN];
	int ret;

	memcpy(e.hash, hash, CUSTOS_HASH_LEN);
	pthread_mutex_lock(&sp->mu);
	ret = -CUSTOS_ERR_INVAL;
	if (seq != sp->next_seq)
		goto out;
	ret = -CUSTOS_ERR_OVERSIZED;
	if (sp->bytes + n > sp->max_bytes)
		goto out;
	snprintf(dir, sizeof(dir), "%s/batches", sp->dir);
	entry_name(name, sizeof(name), ".", seq, hash, ".sealed");
	ret = spool_io_durable_write(dir, name + 2, sealed, n, SPOOL_STEP_BATCH_TMP);
	if (ret)
		goto out;
	/* Durable (invariant 1): the chain moves on (invariant 2). */
	ret = index_add(sp, &e);
	sp->next_seq = seq + 1;
	memcpy(sp->last_hash, hash, CUSTOS_HASH_LEN);
	sp->lost = lost_total;
	if (ret == 0 && save_state(sp))
		fprintf(stderr, "custos-agent: %s/state: writing: %s (the batch files remain "
			"the truth)\n", sp->dir, strerror(errno));
out:
	pthread_mutex_unlock(&sp->mu);
	return ret;
}

int spool_next(struct spool *sp, uint64_t from, struct spool_entry *e)
{
	size_t i;
	int found;

	pthread_mutex_lock(&sp->mu);
	i = index_find(sp, from);
	found = i < sp->n;
	if (found)
		*e = sp->ents[i];
	pthread_mutex_unlock(&sp->mu);
	return found;
}

int spool_read(struct spool *sp, const struct spool_entry *e, struct buf *out)
{
	char path[ENT_LEN], sub[PATH_LEN];
	struct stat st;
	int fd, ret = -CUSTOS_ERR_IO;

	buf_reset(out);
	snprintf(sub, sizeof(sub), "%s/batches", sp->dir);
	entry_name(path, sizeof(path), sub, e->seq, e->hash, ".sealed");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	if (fstat(fd, &st) || (uint64_t)st.st_size != e->size)
		goto out;
	ret = buf_reserve(out, e->size);
	if (ret)
		goto out;
	ret = -CUSTOS_ERR_IO;
	while (out->len < e->size) {
		ssize_t r = read(fd, out->data + out->len, e->size - out->len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		out->len += (size_t)r;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

int spool_ack(struct spool *sp, uint64_t seq, const uint8_t hash[CUSTOS_HASH_LEN],
	      const uint8_t *ack, size_t n)
{
	char dir[PATH_LEN], name[ENT_LEN], path[ENT_LEN];
	size_t i;
	int ret = -CUSTOS_ERR_INVAL;

	pthread_mutex_lock(&sp->mu);
	i = index_find(sp, seq);
	if (i >= sp->n || sp->ents[i].seq != seq ||
	    sodium_memcmp(sp->ents[i].hash, hash, CUSTOS_HASH_LEN) != 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/acks", sp->dir);
	entry_name(name, sizeof(name), ".", seq, hash, ".ack");
	ret = spool_io_durable_write(dir, name + 2, ack, n, SPOOL_STEP_ACK_TMP);
	if (ret)
		goto out;
	note_ack(sp, seq, hash);
	snprintf(dir, sizeof(dir), "%s/batches", sp->dir);
	entry_name(path, sizeof(path), dir, seq, hash, ".sealed");
	ret = -CUSTOS_ERR_IO;
	if (unlink(path))
		goto out;
	fault(SPOOL_STEP_UNLINKED);
	sp->bytes -= sp->ents[i].size;
	memmove(&sp->ents[i], &sp->ents[i + 1], (sp->n - i - 1) * sizeof(sp->ents[0]));
	sp->n--;
	if (spool_io_fsync_dir(dir))
		goto out;
	fault(SPOOL_STEP_UNLINK_DIRSYNC);
	ret = 0;
out:
	pthread_mutex_unlock(&sp->mu);
	return ret;
}

static int read_file(const char *path, struct buf *out)
{
	uint8_t chunk[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -CUSTOS_ERR_IO;
	while (ret == 0 && (r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		ret = r < 0 ? -CUSTOS_ERR_IO : buf_put(out, chunk, (size_t)r);
	}
	close(fd);
	return ret;
}

int spool_last_receipt(struct spool *sp, struct buf *out, uint64_t *seq)
{
	char path[ENT_LEN], sub[PATH_LEN];
	int ret = 0;

	buf_reset(out);
	pthread_mutex_lock(&sp->mu);
	if (sp->have_ack) {
		snprintf(sub, sizeof(sub), "%s/acks", sp->dir);
		entry_name(path, sizeof(path), sub, sp->ack_seq, sp->ack_hash, ".ack");
		*seq = sp->ack_seq;
		ret = read_file(path, out);
		if (ret == 0)
			ret = 1;
	}
	pthread_mutex_unlock(&sp->mu);
	return ret;
}

int spool_set_gap(struct spool *sp, const struct spool_gap *g, uint64_t lost_total)
{
	int ret;

	pthread_mutex_lock(&sp->mu);
	sp->gap = *g;
	sp->lost = lost_total;
	ret = save_state(sp);
	pthread_mutex_unlock(&sp->mu);
	return ret;
}

void spool_get_gap(struct spool *sp, struct spool_gap *g)
{
	pthread_mutex_lock(&sp->mu);
	*g = sp->gap;
	pthread_mutex_unlock(&sp->mu);
}

void spool_depth(struct spool *sp, uint64_t *batches, uint64_t *bytes)
{
	pthread_mutex_lock(&sp->mu);
	*batches = sp->n;
	*bytes = sp->bytes;
	pthread_mutex_unlock(&sp->mu);
}

/* ---- read-only inspection (status) ---------------------------------- */

static int inspect_dir(const char *dir, const char *sub, struct spool_status *st, int batches)
{
	char path[PATH_LEN];
	struct dirent *d;
	DIR *dh;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	dh = opendir(path);
	if (!dh)
		return -CUSTOS_ERR_IO;
	while ((d = readdir(dh)) != NULL) {
		uint8_t hash[CUSTOS_HASH_LEN];
		char file[PATH_LEN + 512];
		struct stat s;
		uint64_t seq;

		if (parse_name(d->d_name, batches ? ".sealed" : ".ack", &seq, hash))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
		if (stat(file, &s))
			continue;	/* acknowledged meanwhile */
		if (seq + 1 > st->next_seq)
			st->next_seq = seq + 1;
		if (batches) {
			if (st->batches == 0 || seq < st->oldest_seq)
				st->oldest_seq = seq;
			st->batches++;
			st->bytes += (uint64_t)s.st_size;
		} else {
			if (st->acks == 0 || seq > st->last_ack_seq) {
				st->last_ack_seq = seq;
				st->last_ack_mtime = s.st_mtime;
			}
			st->acks++;
		}
	}
	closedir(dh);
	return 0;
}

/* D/refusal's first line into out ("" when there is none). */
static void read_refusal(const char *dir, char *out, size_t n)
{
	char path[PATH_LEN];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/refusal", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, (int)n, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

int spool_inspect(const char *dir, struct spool_status *st)
{
	struct spool_statefile s;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = spool_io_read_state(dir, &s);
	if (ret < 0)
		return ret;
	st->next_seq = s.next_seq;
	st->lost = s.lost;
	st->gap = s.gap;
	if ((ret = inspect_dir(dir, "batches", st, 1)) || (ret = inspect_dir(dir, "acks", st, 0)))
		return ret;
	read_refusal(dir, st->refusal, sizeof(st->refusal));
	return 0;
}

int spool_note_refusal(struct spool *sp, const char *line)
{
	char path[PATH_LEN], tmp[PATH_LEN];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/refusal", sp->dir);
	snprintf(tmp, sizeof(tmp), "%s/refusal.tmp", sp->dir);
	if (!line)
		return unlink(path) == 0 || errno == ENOENT ? 0 : -CUSTOS_ERR_IO;
	f = fopen(tmp, "we");
	if (!f)
		return -CUSTOS_ERR_IO;
	ok = fprintf(f, "%s\n", line) > 0;
	ok = fclose(f) == 0 && ok;
	return ok && rename(tmp, path) == 0 ? 0 : -CUSTOS_ERR_IO;
}
