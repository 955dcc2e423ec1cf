/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's keys, and enrolment and revocation as entries of the
 * chain-of-custody event log (invariants and crash behaviour in
 * keystore.h). The init, enroll and revoke subcommands are in
 * keystore_cli.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>

#include "collector.h"
#include "batch.h"
#include "custody.h"
#include "error.h"
#include "keystore.h"

#define EVENT_SIG_DOMAIN "CUSTOS-CUSTODY-EVENT-V1"	/* signed: domain, NUL, body */
#define EVENT_LINE_MAX 8192
#define EVENT_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KS_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("._-", s[i]))
			return 0;
	return 1;
}

static const char *hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
	return sodium_bin2hex(out, cap, p, n);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	if (!s || strlen(s) != 2 * n)
		return -CUSTOS_ERR_MALFORMED;
	if (sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) != 0 || got != n)
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

/* The signed bytes of an entry: domain, NUL, its canonical JSON without
 * "sig". OUT: *msg (malloc'd), *len. */
static int event_message(json_t *entry, uint8_t **msg, size_t *len)
{
	json_t *copy = json_copy(entry);
	char *body;
	size_t dl = sizeof(EVENT_SIG_DOMAIN);

	if (!copy)
		return -CUSTOS_ERR_NOMEM;
	json_object_del(copy, "sig");
	body = json_dumps(copy, EVENT_FLAGS);
	json_decref(copy);
	if (!body)
		return -CUSTOS_ERR_NOMEM;
	*len = dl + strlen(body);
	*msg = malloc(*len);
	if (!*msg) {
		free(body);
		return -CUSTOS_ERR_NOMEM;
	}
	memcpy(*msg, EVENT_SIG_DOMAIN, dl);
	memcpy(*msg + dl, body, *len - dl);
	free(body);
	return 0;
}

static int host_add(struct keystore *ks, const char *name, const struct custos_pubkey *pk,
		    uint64_t when)
{
	if (ks->count == ks->cap) {
		size_t cap = ks->cap ? 2 * ks->cap : 16;
		struct ks_host *h = realloc(ks->hosts, cap * sizeof(*h));
		if (!h)
			return -CUSTOS_ERR_NOMEM;
		ks->hosts = h;
		ks->cap = cap;
	}
	memset(&ks->hosts[ks->count], 0, sizeof(ks->hosts[0]));
	snprintf(ks->hosts[ks->count].name, sizeof(ks->hosts[0].name), "%s", name);
	ks->hosts[ks->count].pk = *pk;
	ks->hosts[ks->count].enrolled_ns = when;
	ks->count++;
	return 0;
}

static struct ks_host *host_by_name(struct keystore *ks, const char *name)
{
	for (size_t i = 0; i < ks->count; i++)
		if (strcmp(ks->hosts[i].name, name) == 0)
			return &ks->hosts[i];
	return NULL;
}

const struct ks_host *keystore_host(const struct keystore *ks,
				    const uint8_t host_id[KEYS_SIGN_PK_LEN])
{
	for (size_t i = 0; i < ks->count; i++)
		if (memcmp(ks->hosts[i].pk.sign_pk, host_id, KEYS_SIGN_PK_LEN) == 0)
			return &ks->hosts[i];
	return NULL;
}

int keystore_lookup(void *ctx, const uint8_t host_id[KEYS_SIGN_PK_LEN])
{
	const struct ks_host *h = keystore_host(ctx, host_id);

	return h && !h->revoked ? 0 : -CUSTOS_ERR_UNKNOWN_HOST;
}

int keystore_known(void *ctx, const uint8_t host_id[KEYS_SIGN_PK_LEN])
{
	return keystore_host(ctx, host_id) ? 0 : -CUSTOS_ERR_UNKNOWN_HOST;
}

const char *keystore_name(const struct keystore *ks, const uint8_t host_id[KEYS_SIGN_PK_LEN])
{
	const struct ks_host *h = keystore_host(ks, host_id);

	return h ? h->name : "?";
}

/* Apply one verified entry to the host table. */
static int event_apply(struct keystore *ks, json_t *e)
{
	const char *action = json_string_value(json_object_get(e, "action"));
	const char *name = json_string_value(json_object_get(e, "name"));
	uint64_t when = (uint64_t)json_integer_value(json_object_get(e, "unix_ns"));
	struct custos_pubkey pk;
	struct ks_host *h;

	if (!action)
		return -CUSTOS_ERR_MALFORMED;
	if (strcmp(action, "init") == 0 || strcmp(action, "export") == 0)
		return 0;	/* export: recorded by export.c, changes no host */
	if (!name || !name_ok(name))
		return -CUSTOS_ERR_MALFORMED;
	if (strcmp(action, "enroll") == 0) {
		if (unhex(json_string_value(json_object_get(e, "sign_pk")), pk.sign_pk, 32) ||
		    unhex(json_string_value(json_object_get(e, "box_pk")), pk.box_pk, 32) ||
		    host_by_name(ks, name) || keystore_host(ks, pk.sign_pk))
			return -CUSTOS_ERR_MALFORMED;
		return host_add(ks, name, &pk, when);
	}
	if (strcmp(action, "revoke") == 0) {
		h = host_by_name(ks, name);
		if (!h || h->revoked)
			return -CUSTOS_ERR_MALFORMED;
		h->revoked = 1;
		h->revoked_ns = when;
		return 0;
	}
	return -CUSTOS_ERR_MALFORMED;
}

/* Check one line (invariant 1) and apply it. */
static int event_line(struct keystore *ks, const char *line, size_t len)
{
	json_t *e = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	uint8_t prev[CUSTOS_HASH_LEN], sig[CUSTOS_SIG_LEN], *msg = NULL;
	size_t mlen;
	char *canon = NULL;
	int ret = -CUSTOS_ERR_MALFORMED;

	if (!e || !json_is_object(e))
		goto out;
	canon = json_dumps(e, EVENT_FLAGS);
	if (!canon || strlen(canon) != len || memcmp(canon, line, len) != 0)
		goto out;
	if (json_integer_value(json_object_get(e, "seq")) != (json_int_t)ks->events ||
	    unhex(json_string_value(json_object_get(e, "prev")), prev, sizeof(prev)) ||
	    sodium_memcmp(prev, ks->last_hash, sizeof(prev)) != 0 ||
	    unhex(json_string_value(json_object_get(e, "sig")), sig, sizeof(sig)))
		goto out;
	ret = event_message(e, &msg, &mlen);
	if (ret)
		goto out;
	ret = -CUSTOS_ERR_BAD_SIGNATURE;
	if (crypto_sign_verify_detached(sig, msg, mlen, ks->kp.pub.sign_pk) != 0)
		goto out;
	ret = event_apply(ks, e);
	if (!ret) {
		crypto_generichash(ks->last_hash, CUSTOS_HASH_LEN, (const uint8_t *)line, len,
				   NULL, 0);
		ks->events++;
	}
out:
	free(msg);
	free(canon);
	json_decref(e);
	return ret;
}

static int events_path(const struct keystore *ks, char path[COLL_PATH_MAX])
{
	return coll_path(path, ks->dir, "custody/events.jsonl");
}

int keystore_reload(struct keystore *ks)
{
	char path[COLL_PATH_MAX], *text = NULL;
	struct stat st;
	size_t pos, n;
	int fd = -1, ret = -CUSTOS_ERR_IO;

	if (events_path(ks, path))
		return -CUSTOS_ERR_INVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && ks->events_read == 0) {
		ret = 0;	/* before init's first entry */
		goto out;
	}
	if (fd < 0 || fstat(fd, &st) != 0)
		goto out;
	if (st.st_size <= ks->events_read) {
		ret = 0;
		goto out;
	}
	n = (size_t)(st.st_size - ks->events_read);
	text = malloc(n);
	if (!text || pread(fd, text, n, ks->events_read) != (ssize_t)n)
		goto out;
	ret = 0;
	for (pos = 0; pos < n && !ret;) {
		char *nl = memchr(text + pos, '\n', n - pos);
		if (!nl)
			break;	/* a torn last line: never reported done */
		if ((size_t)(nl - (text + pos)) > EVENT_LINE_MAX)
			ret = -CUSTOS_ERR_OVERSIZED;
		else
			ret = event_line(ks, text + pos, (size_t)(nl - (text + pos)));
		if (!ret) {
			ks->events_read += nl + 1 - (text + pos);
			pos = (size_t)(nl + 1 - text);
		}
	}
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return ret;
}

int keystore_open(struct keystore *ks, const char *dir, int secret)
{
	char path[COLL_PATH_MAX];
	FILE *f;
	int line, ret;

	memset(ks, 0, sizeof(*ks));
	if (snprintf(ks->dir, sizeof(ks->dir), "%s", dir) >= (int)sizeof(ks->dir) ||
	    coll_path(path, dir, secret ? "collector.key" : "collector.pub"))
		return -CUSTOS_ERR_INVAL;
	ret = secret ? keys_load_secret(path, &ks->kp, &line)
		     : keys_load_public(path, &ks->kp.pub, &line);
	if (ret) {
		coll_log("%s%s%.0d: %s", path, line ? ": line " : "", line, custos_strerror(ret));
		return ret;
	}
	if (coll_path(path, dir, "name"))
		return -CUSTOS_ERR_INVAL;
	f = fopen(path, "re");
	if (!f || !fgets(ks->logname, sizeof(ks->logname), f)) {
		if (f)
			fclose(f);
		coll_log("%s: cannot read the log name", path);
		return -CUSTOS_ERR_IO;
	}
	fclose(f);
	ks->logname[strcspn(ks->logname, "\n")] = '\0';
	ret = keystore_reload(ks);
	if (ret)
		coll_log("%s/custody/events.jsonl: entry %llu: %s: the chain-of-custody log does "
			 "not verify", dir, (unsigned long long)ks->events, custos_strerror(ret));
	return ret;
}

void keystore_close(struct keystore *ks)
{
	if (!ks)
		return;
	keys_wipe(&ks->kp);
	free(ks->hosts);
	ks->hosts = NULL;
	ks->count = ks->cap = 0;
}

/* Who runs this: the user name and uid, and the sudo user if any. */
static void actor(char *out, size_t n)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *sudo = getenv("SUDO_USER");

	snprintf(out, n, "%s (uid %u)%s%s", pw ? pw->pw_name : "?", (unsigned)geteuid(),
		 sudo ? " via sudo by " : "", sudo ? sudo : "");
}

/* Open the log and take its exclusive lock, catch up with entries others
 * appended (verified, invariant 1) and refuse a torn last line.
 * OUT: *fd, -1 until the log is open (the caller closes it, which
 * releases the lock). */
static int event_lock(struct keystore *ks, int *fd)
{
	char path[COLL_PATH_MAX];
	uint8_t last = '\n';
	off_t end;
	int ret;

	*fd = -1;
	if (events_path(ks, path))
		return -CUSTOS_ERR_INVAL;
	ret = keystore_reload(ks);
	if (ret)
		return ret;
	*fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0 || flock(*fd, LOCK_EX) != 0)
		return -CUSTOS_ERR_IO;
	ret = keystore_reload(ks);
	if (ret)
		return ret;
	end = lseek(*fd, 0, SEEK_END);
	if (end > 0 && (pread(*fd, &last, 1, end - 1) != 1 || last != '\n')) {
		coll_log("%s: the last line is incomplete (a crash while writing it?); "
			 "refusing to append after it", path);
		return -CUSTOS_ERR_MALFORMED;
	}
	return 0;
}

/* Complete, sign and append one entry under the lock of fd (invariant
 * 2): one write(), then fsync, then it is read back and verified like any
 * other entry. e is consumed. */
static int event_append_locked(struct keystore *ks, int fd, json_t *e)
{
	char who[256], h[2 * CUSTOS_SIG_LEN + 1], *line = NULL;
	uint8_t sig[CUSTOS_SIG_LEN], *msg = NULL;
	size_t mlen, len;
	int ret;

	actor(who, sizeof(who));
	json_object_set_new(e, "seq", json_integer((json_int_t)ks->events));
	json_object_set_new(e, "prev", json_string(hex(ks->last_hash, CUSTOS_HASH_LEN, h, sizeof(h))));
	json_object_set_new(e, "unix_ns", json_integer((json_int_t)coll_now_ns()));
	json_object_set_new(e, "actor", json_string(who));
	json_object_set_new(e, "log_size", json_integer((json_int_t)custody_size_on_disk(ks->dir)));
	ret = event_message(e, &msg, &mlen);
	if (ret)
		goto out;
	crypto_sign_detached(sig, NULL, msg, mlen, ks->kp.sign_sk);
	json_object_set_new(e, "sig", json_string(hex(sig, sizeof(sig), h, sizeof(h))));
	line = json_dumps(e, EVENT_FLAGS);
	ret = -CUSTOS_ERR_NOMEM;
	if (!line)
		goto out;
	len = strlen(line);
	line[len] = '\n';	/* json_dumps leaves room: its NUL becomes the newline */
	ret = -CUSTOS_ERR_IO;
	if (write(fd, line, len + 1) != (ssize_t)(len + 1) || fsync(fd) != 0)
		goto out;
	ret = keystore_reload(ks);
out:
	free(line);
	free(msg);
	json_decref(e);
	return ret;
}

/* Build, sign and append one entry (invariant 2). e gets the common
 * fields; it is consumed. */
static int event_append(struct keystore *ks, json_t *e)
{
	int fd, ret = event_lock(ks, &fd);

	if (!ret) {
		ret = event_append_locked(ks, fd, e);
		e = NULL;
	}
	if (fd >= 0)
		close(fd);
	json_decref(e);
	return ret;
}

int keystore_event_append(struct keystore *ks, json_t *e)
{
	return event_append(ks, e);
}

int keystore_name_ok(const char *name)
{
	return name_ok(name);
}

const struct ks_host *keystore_host_named(const struct keystore *ks, const char *name)
{
	return host_by_name((struct keystore *)ks, name);
}

/* The entry `enroll` appends for one host. OUT: hexid (its host id). */
static json_t *enroll_event(const char *name, const struct custos_pubkey *pk,
			    char hexid[65], char fpr[KEYS_FPR_STRLEN])
{
	char h2[65];
	json_t *e = json_object();

	keys_fingerprint(pk, fpr);
	json_object_set_new(e, "action", json_string("enroll"));
	json_object_set_new(e, "name", json_string(name));
	json_object_set_new(e, "sign_pk", json_string(hex(pk->sign_pk, 32, hexid, 65)));
	json_object_set_new(e, "box_pk", json_string(hex(pk->box_pk, 32, h2, sizeof(h2))));
	json_object_set_new(e, "fingerprint", json_string(fpr));
	return e;
}

static void enrolled_print(const char *name, const char *hexid, const char *fpr)
{
	printf("enrolled %s\nhost id %s\nfingerprint %s\n", name, hexid, fpr);
	fflush(stdout);
}

/* The first of hosts whose name or key the keystore already holds. */
static int enroll_conflict(const struct keystore *ks, const struct ks_enrolment *hosts,
			   size_t n, size_t *bad)
{
	for (size_t i = 0; i < n; i++)
		if (keystore_host_named(ks, hosts[i].name) || keystore_host(ks, hosts[i].pk.sign_pk)) {
			*bad = i;
			return -CUSTOS_ERR_EXISTS;
		}
	return 0;
}

int keystore_enroll_many(struct keystore *ks, const struct ks_enrolment *hosts, size_t n,
			 size_t *bad)
{
	char hexid[65], fpr[KEYS_FPR_STRLEN];
	int fd, ret = event_lock(ks, &fd);

	*bad = n;
	if (!ret)
		ret = enroll_conflict(ks, hosts, n, bad);
	for (size_t i = 0; i < n && !ret; i++) {
		ret = event_append_locked(ks, fd, enroll_event(hosts[i].name, &hosts[i].pk, hexid, fpr));
		if (ret)
			*bad = i;
		else
			enrolled_print(hosts[i].name, hexid, fpr);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

int keystore_revoke(struct keystore *ks, const char *name, const char *reason)
{
	const struct ks_host *hst;
	int fd, ret = event_lock(ks, &fd);
	json_t *e;

	if (!ret) {
		/* Checked under the lock: two revokes at once cannot both append
		 * (the second entry would make the log fail to replay). */
		hst = host_by_name(ks, name);
		if (!hst || hst->revoked) {
			coll_log("revoke: no enrolled host named '%s'%s", name,
				 hst ? " (already revoked)" : "");
			ret = -CUSTOS_ERR_INVAL;
		} else {
			e = json_object();
			json_object_set_new(e, "action", json_string("revoke"));
			json_object_set_new(e, "name", json_string(name));
			json_object_set_new(e, "reason", json_string(reason ? reason : ""));
			ret = event_append_locked(ks, fd, e);
		}
	}
	if (fd >= 0)
		close(fd);
	return ret;
}
