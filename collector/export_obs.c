/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export_obs: the exported evidence files with their SHA-256 and a bounded
 * set of process, file and network-connection observables drawn from the
 * exported records in the requested range (export_obs.h), for case.jsonld
 * and the CSIRT profile. Each observable is a JSON object with the raw
 * values and the record it was first seen in (host, evidence_leaf,
 * evidence_record); a repeat of the same process, path or connection only
 * counts. Failed exec attempts (result -errno, no executable) are only
 * counted: no process ran.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "audit_text.h"
#include "bundle.h"
#include "error.h"
#include "export_obs.h"
#include "record.h"

int export_obs_init(struct export_obs *o, int64_t from_ns, int64_t to_ns)
{
	memset(o, 0, sizeof(*o));
	o->from_ns = from_ns;
	o->to_ns = to_ns;
	o->files = json_array();
	o->agent_version = json_object();
	for (int k = 0; k < OBS_KINDS; k++) {
		o->list[k] = json_array();
		o->seen[k] = json_object();
		if (!o->list[k] || !o->seen[k])
			return -CUSTOS_ERR_NOMEM;
	}
	return o->files && o->agent_version ? 0 : -CUSTOS_ERR_NOMEM;
}

void export_obs_free(struct export_obs *o)
{
	if (!o)
		return;
	json_decref(o->files);
	json_decref(o->agent_version);
	for (int k = 0; k < OBS_KINDS; k++) {
		json_decref(o->list[k]);
		json_decref(o->seen[k]);
	}
	memset(o, 0, sizeof(*o));
}

void export_uuid(const struct export_req *r, const char *label, char out[37])
{
	uint8_t h[16];
	crypto_generichash_state st;
	uint64_t t = r->created_ns;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)"custos-export-id", 17);
	crypto_generichash_update(&st, (const uint8_t *)&t, sizeof(t));
	crypto_generichash_update(&st, (const uint8_t *)r->case_id, strlen(r->case_id) + 1);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_final(&st, h, sizeof(h));
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x40);
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
		 h[13], h[14], h[15]);
}

/* Printable ASCII copy of bytes (others become '?'): valid JSON text. */
static json_t *str(const uint8_t *p, size_t n)
{
	char s[CUSTOS_PATH_MAX + 1];
	size_t i;

	while (n && p[n - 1] == 0)
		n--;
	for (i = 0; i < n && i < CUSTOS_PATH_MAX; i++)
		s[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	s[i] = 0;
	return json_string(s);
}

static json_t *args(const struct custos_exec *x)
{
	json_t *a = json_array();
	uint32_t start = 0;

	for (uint32_t i = 0; a && i <= x->argv_len && i <= CUSTOS_ARGS_MAX; i++)
		if (i == x->argv_len || x->argv[i] == 0) {
			if (i > start || i < x->argv_len)
				json_array_append_new(a, str(x->argv + start, i - start));
			start = i + 1;
		}
	return a;
}

static json_t *addr(const uint8_t *p, uint32_t n)
{
	char s[64];

	if (n == 4 || n == 16)
		return json_string(inet_ntop(n == 4 ? AF_INET : AF_INET6, p, s, sizeof(s)) ?: "?");
	return str(p, n);	/* a unix socket path, or nothing */
}

/* The dedupe key of an observable: BLAKE2b-128 over what makes it the
 * same process (host, pid, start, executable), file (host, path),
 * connection (host, kind, both ends) or attempt (host, pid, audit type,
 * text). OUT: out (hex). */
static void obs_key(int k, const char *host, const struct custos_record *r, char out[33])
{
	crypto_generichash_state st;
	uint8_t h[16];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)host, strlen(host) + 1);
	if (k == OBS_PROC) {
		crypto_generichash_update(&st, (const uint8_t *)&r->subj.pid, 8);
		crypto_generichash_update(&st, (const uint8_t *)&r->u.exec.start_ns, 8);
		crypto_generichash_update(&st, r->u.exec.exe, r->u.exec.exe_len);
	} else if (k == OBS_FILE) {
		crypto_generichash_update(&st, r->u.file.path, r->u.file.path_len);
	} else if (k == OBS_AUTH) {
		crypto_generichash_update(&st, (const uint8_t *)&r->subj.pid, 8);
		crypto_generichash_update(&st, (const uint8_t *)&r->u.auth.audit_type, 8);
		crypto_generichash_update(&st, r->u.auth.text, r->u.auth.text_len);
	} else {
		const struct custos_net *n = &r->u.net;

		crypto_generichash_update(&st, (const uint8_t *)&r->kind, 8);
		crypto_generichash_update(&st, (const uint8_t *)&n->local_port, 8);
		crypto_generichash_update(&st, (const uint8_t *)&n->remote_port, 8);
		crypto_generichash_update(&st, (const uint8_t *)&n->local_addr_len, 4);
		crypto_generichash_update(&st, n->local_addr, n->local_addr_len);
		crypto_generichash_update(&st, n->remote_addr, n->remote_addr_len);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

static json_t *base(const char *host, uint64_t leaf, uint64_t idx, int64_t wall,
		    const struct custos_record *r)
{
	char when[48];

	bundle_fmt_time(wall, when, sizeof(when));
	return json_pack("{s:s,s:I,s:I,s:s,s:I,s:I,s:I,s:s}", "host", host, "evidence_leaf",
			 (json_int_t)leaf, "evidence_record", (json_int_t)idx, "datetime", when,
			 "pid", (json_int_t)r->subj.pid, "uid", (json_int_t)r->subj.uid,
			 "loginuid", (json_int_t)r->subj.loginuid, "op",
			 record_kind_name(r->kind) ?: "?");
}

static void fill_proc(json_t *b, const struct custos_record *r)
{
	const struct custos_exec *x = &r->u.exec;
	char hex[65];

	json_object_set_new(b, "exe", str(x->exe, x->exe_len));
	json_object_set_new(b, "args", args(x));
	json_object_set_new(b, "cwd", str(x->cwd, x->cwd_len));
	json_object_set_new(b, "ppid", json_integer((json_int_t)r->subj.ppid));
	if (x->hash_status == CUSTOS_HASH_OK)
		json_object_set_new(b, "sha256", json_string(sodium_bin2hex(hex, sizeof(hex),
						    x->sha256, CUSTOS_HASH_LEN)));
}

static void fill_file(json_t *b, const struct custos_record *r)
{
	const struct custos_file *f = &r->u.file;

	json_object_set_new(b, "path", str(f->path, f->path_len));
	if (f->path2_len)
		json_object_set_new(b, "path2", str(f->path2, f->path2_len));
}

static void fill_conn(json_t *b, const struct custos_record *r)
{
	const struct custos_net *n = &r->u.net;

	json_object_set_new(b, "family", json_string(n->family == 2 ? "ipv4" : n->family == 10 ?
						     "ipv6" : n->family == 1 ? "unix" : "other"));
	json_object_set_new(b, "protocol", json_string(n->sock_type == 1 ? "tcp" :
						       n->sock_type == 2 ? "udp" : "other"));
	json_object_set_new(b, "local", addr(n->local_addr, n->local_addr_len));
	json_object_set_new(b, "local_port", json_integer((json_int_t)n->local_port));
	json_object_set_new(b, "remote", addr(n->remote_addr, n->remote_addr_len));
	json_object_set_new(b, "remote_port", json_integer((json_int_t)n->remote_port));
	json_object_set_new(b, "result", json_integer((json_int_t)n->result));
}

/* The field key of the attempt's text as jkey, when it has a known value
 * (absent, "?" or broken: left out). */
static void auth_field(json_t *b, const struct custos_auth *a, const char *key, const char *jkey)
{
	char v[AUDIT_TEXT_VALUE_MAX];

	if (audit_text_field(a->text, a->text_len, key, v, sizeof(v)) == 0)
		json_object_set_new(b, jkey, str((const uint8_t *)v, strlen(v)));
}

static void fill_auth(json_t *b, const struct custos_record *r)
{
	const struct custos_auth *a = &r->u.auth;
	const char *name = audit_type_name(a->audit_type);
	char src[AUDIT_TEXT_VALUE_MAX * 3 + 64];

	json_object_set_new(b, "audit_type", json_integer((json_int_t)a->audit_type));
	json_object_set_new(b, "type", json_string(name ? name : "?"));
	auth_field(b, a, "op", "auth_op");
	auth_field(b, a, "acct", "acct");
	auth_field(b, a, "exe", "exe");
	auth_field(b, a, "hostname", "hostname");
	auth_field(b, a, "addr", "addr");
	auth_field(b, a, "terminal", "terminal");
	auth_field(b, a, "res", "res");
	if (audit_text_source(a->text, a->text_len, src, sizeof(src)) == 0)
		json_object_set_new(b, "source", str((const uint8_t *)src, strlen(src)));
	json_object_set_new(b, "text_truncated", json_boolean(a->text_truncated != 0));
}

static int is_attempt(uint64_t type)
{
	return type == OBS_AUTH_USER_AUTH || type == OBS_AUTH_USER_ACCT ||
	       type == OBS_AUTH_USER_LOGIN;
}

static int add_record(struct export_obs *o, const char *host, uint64_t leaf, uint64_t idx,
		      int64_t wall, const struct custos_record *r)
{
	char key[33];
	json_t *b;
	int k;

	if (r->kind == CUSTOS_REC_AGENT_START && r->u.agent.version_len)
		return json_object_set_new(o->agent_version, host,
					   str(r->u.agent.version, r->u.agent.version_len)) ?
			-CUSTOS_ERR_NOMEM : 0;
	if (wall < o->from_ns || wall > o->to_ns)
		return 0;
	if (r->kind == CUSTOS_REC_EXEC && r->u.exec.result < 0) {
		/* A failed execve: no program ran (the caller keeps its own)
		 * and the path may not exist, so it is neither a process nor
		 * a file observable; timeline.jsonl has it (docs/export.md). */
		o->failed_exec++;
		return 0;
	}
	if (r->kind == CUSTOS_REC_EXEC || r->kind == CUSTOS_REC_SNAPSHOT)
		k = OBS_PROC;
	else if (r->kind >= CUSTOS_REC_OPEN && r->kind <= CUSTOS_REC_REMOVEXATTR)
		k = OBS_FILE;
	else if (r->kind >= CUSTOS_REC_CONNECT && r->kind <= CUSTOS_REC_SEND)
		k = OBS_CONN;
	else if (r->kind == CUSTOS_REC_AUTH && is_attempt(r->u.auth.audit_type))
		k = OBS_AUTH;
	else if (r->kind == CUSTOS_REC_AUTH) {
		o->auth_other++;	/* a session, credential... message: timeline only */
		return 0;
	} else
		return 0;
	o->records[k]++;
	if (json_array_size(o->list[k]) >= EXPORT_OBS_MAX) {
		o->omitted[k]++;	/* past the bound: only counted, the set stays small */
		return 0;
	}
	obs_key(k, host, r, key);
	if (json_object_get(o->seen[k], key))
		return 0;	/* seen: only counted */
	if (json_object_set_new(o->seen[k], key, json_true()))
		return -CUSTOS_ERR_NOMEM;
	b = base(host, leaf, idx, wall, r);
	if (!b)
		return -CUSTOS_ERR_NOMEM;
	if (k == OBS_PROC)
		fill_proc(b, r);
	else if (k == OBS_FILE)
		fill_file(b, r);
	else if (k == OBS_AUTH)
		fill_auth(b, r);
	else
		fill_conn(b, r);
	return json_array_append_new(o->list[k], b) ? -CUSTOS_ERR_NOMEM : 0;
}

static int add_file_entry(struct export_obs *o, const char *host, uint64_t leaf,
			  const struct buf *sb, const struct batch_view *v)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[65], bh[65], file[96], t0[48], t1[48];
	json_t *e;

	crypto_hash_sha256(h, sb->data, sb->len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	sodium_bin2hex(bh, sizeof(bh), v->hash, CUSTOS_HASH_LEN);
	bundle_batch_file(leaf, file);
	bundle_fmt_time((int64_t)v->hdr.first_ts_ns + v->hdr.clock_offset_ns, t0, sizeof(t0));
	bundle_fmt_time((int64_t)v->hdr.last_ts_ns + v->hdr.clock_offset_ns, t1, sizeof(t1));
	e = json_pack("{s:s,s:I,s:s,s:I,s:I,s:s,s:s,s:s,s:s}", "file", file, "leaf",
		      (json_int_t)leaf, "host", host, "seq", (json_int_t)v->hdr.seq, "size",
		      (json_int_t)sb->len, "sha256", hex, "batch_hash", bh, "first", t0, "last", t1);
	return !e || json_array_append_new(o->files, e) ? -CUSTOS_ERR_NOMEM : 0;
}

int export_obs_batch(struct export_obs *o, const char *host, uint64_t leaf,
		     const struct buf *signed_batch, const struct batch_view *v,
		     const struct buf *raw)
{
	struct custos_record *r = malloc(sizeof(*r));
	struct record_iter it;
	uint64_t idx = 0;
	int ret = r ? add_file_entry(o, host, leaf, signed_batch, v) : -CUSTOS_ERR_NOMEM;

	record_iter_init(&it, raw, &v->hdr);
	while (!ret && (ret = record_iter_next(&it, r)) == 1) {
		ret = add_record(o, host, leaf, idx++,
				 (int64_t)r->ts_ns + v->hdr.clock_offset_ns, r);
	}
	free(r);
	return ret;
}
