/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a signed batch to index rows (indexer.h), and the reindex
 * subcommand, which rebuilds the index from the archive alone.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit_text.h"
#include "batch.h"
#include "chain.h"
#include "collector.h"
#include "error.h"
#include "indexer.h"
#include "incident.h"
#include "procid.h"
#include "triage.h"


static void fmt_addr(char *out, size_t cap, uint64_t family, const uint8_t *a, uint32_t n)
{
	char tmp[CUSTOS_ADDR_MAX + 1];

	out[0] = '\0';
	if (family == AF_INET && n == 4)
		inet_ntop(AF_INET, a, out, (socklen_t)cap);
	else if (family == AF_INET6 && n == 16)
		inet_ntop(AF_INET6, a, out, (socklen_t)cap);
	else if (family == AF_UNIX)
		snprintf(out, cap, "%s", record_cstr(tmp, sizeof(tmp), a, n));
}

static int is_subject_kind(uint64_t k)
{
	return k >= 1 && k <= 95;
}

/* A snapshot's start time is read from /proc in whole clock ticks (USER_HZ,
 * 100 on Linux: 10 ms); the kernel's exact one, in a later exec or exit,
 * is at most one tick above it. */
#define SNAPSHOT_TICK_NS 10000000ull

/* Whether the kernel start time *start_ns of pid names the process a
 * snapshot started (its procs row has a start in whole ticks, at most
 * one tick below): then *start_ns becomes the snapshot's, so the process
 * keeps the one stable id it was first given (as agent/proctab.c,
 * invariant 3). Returns 1 (replaced), 0 (not), or an error. */
static int snapshot_start(struct store *s, const struct batch_header *h, uint64_t pid,
			  uint64_t ts, uint64_t *start_ns)
{
	uint64_t known = 0;
	int ret = store_find_proc(s, h->host_id, h->boot_id, pid, ts, &known);

	if (ret)
		return ret < 0 ? ret : 0;
	if (!*start_ns || known == *start_ns || known % SNAPSHOT_TICK_NS || *start_ns < known ||
	    *start_ns - known >= SNAPSHOT_TICK_NS)
		return 0;
	*start_ns = known;
	return 1;
}

/* An auth record's row (docs/format.md kind 11), so that a timeline says
 * what it was: result the send's; exe the text's exe; addr its addr when
 * it is an IP address (written as inet_ntop writes it, like the network
 * rows'); path "<type> acct=<acct> res=<res>" (type: audit_type_label),
 * "?" for what the text does not say or says unreadably (AUDIT_TEXT_AS_IS). */
static void auth_fields(const struct custos_auth *a, struct store_row *row,
			struct indexer_scratch *x)
{
	char acct[AUDIT_TEXT_VALUE_MAX], res[AUDIT_TEXT_VALUE_MAX], addr[AUDIT_TEXT_VALUE_MAX];
	char type[32];
	uint8_t bin[16];
	const enum audit_text_show as_is = AUDIT_TEXT_AS_IS;

	row->result = a->result;
	if (strcmp(audit_text_value(a, "exe", as_is, x->exe, sizeof(x->exe)), "?") != 0)
		row->exe = x->exe;
	audit_text_value(a, "addr", as_is, addr, sizeof(addr));
	if (inet_pton(AF_INET, addr, bin) == 1)
		inet_ntop(AF_INET, bin, row->addr, sizeof(row->addr));
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		inet_ntop(AF_INET6, bin, row->addr, sizeof(row->addr));
	snprintf(x->path, sizeof(x->path), "%s acct=%s res=%s",
		 audit_type_label(a->audit_type, type, sizeof(type)),
		 audit_text_value(a, "acct", as_is, acct, sizeof(acct)),
		 audit_text_value(a, "res", as_is, res, sizeof(res)));
	row->path = x->path;
}

/* Fill the kind-specific fields of a row; note process starts. */
static int body_fields(struct store *s, const struct batch_header *h, const struct custos_record *rec,
		       struct store_row *row, struct indexer_scratch *x, uint64_t *start_ns)
{
	const struct custos_net *nt = &rec->u.net;
	int remote = rec->kind == CUSTOS_REC_CONNECT || rec->kind == CUSTOS_REC_ACCEPT ||
		     rec->kind == CUSTOS_REC_SEND;
	int ret;

	*start_ns = 0;
	switch (rec->kind) {
	case CUSTOS_REC_EXEC:
	case CUSTOS_REC_SNAPSHOT:
		row->exe = record_cstr(x->exe, sizeof(x->exe), rec->u.exec.exe, rec->u.exec.exe_len);
		row->result = rec->u.exec.result;
		*start_ns = rec->u.exec.start_ns;
		if (rec->kind == CUSTOS_REC_EXEC &&
		    (ret = snapshot_start(s, h, rec->subj.pid, rec->ts_ns, start_ns)) != 0)
			return ret < 0 ? ret : 0;	/* the snapshot's process: its row stays */
		return store_add_proc(s, h->host_id, h->boot_id, rec->subj.pid, *start_ns, rec->ts_ns);
	case CUSTOS_REC_FORK:
		return store_add_proc(s, h->host_id, h->boot_id, rec->u.fork.child_pid,
				      rec->u.fork.child_start_ns, rec->ts_ns);
	case CUSTOS_REC_EXIT:
		row->result = rec->u.exit.code;
		*start_ns = rec->u.exit.start_ns;
		ret = snapshot_start(s, h, rec->subj.pid, rec->ts_ns, start_ns);
		return ret < 0 ? ret : 0;
	case CUSTOS_REC_CRED: case CUSTOS_REC_PTRACE: case CUSTOS_REC_MODULE:
	case CUSTOS_REC_MEMFD: case CUSTOS_REC_BPF: case CUSTOS_REC_CLOCK_SET:
		row->result = rec->u.sys.result;
		row->path = record_cstr(x->path, sizeof(x->path), rec->u.sys.name, rec->u.sys.name_len);
		return 0;
	case CUSTOS_REC_AUTH:
		auth_fields(&rec->u.auth, row, x);
		return 0;
	case CUSTOS_REC_LOSS: case CUSTOS_REC_GAP:
		row->lost = rec->u.agent.lost;
		return 0;
	default:
		break;
	}
	if (rec->kind >= 32 && rec->kind <= 63) {
		const struct custos_file *f = &rec->u.file;
		row->result = f->result;
		row->path = f->path_len ? record_cstr(x->path, sizeof(x->path), f->path, f->path_len)
					: record_cstr(x->path, sizeof(x->path), f->path_raw, f->path_raw_len);
	} else if (rec->kind >= 64 && rec->kind <= 95) {
		row->result = nt->result;
		fmt_addr(row->addr, sizeof(row->addr), nt->family,
			 remote ? nt->remote_addr : nt->local_addr,
			 remote ? nt->remote_addr_len : nt->local_addr_len);
		row->port = remote ? nt->remote_port : nt->local_port;
	}
	return 0;
}

static int clock_quality(const struct batch_header *h)
{
	if (!h->ntp_synced)
		return STORE_CLOCK_UNSYNCED;
	return h->ntp_maxerror_us <= 1000000 ? STORE_CLOCK_SYNCED : STORE_CLOCK_COARSE;
}

static int record_row(struct store *s, const struct batch_view *v, uint64_t leaf, uint32_t idx,
		      const struct custos_record *rec, struct indexer_scratch *x)
{
	const struct batch_header *h = &v->hdr;
	struct store_row row;
	uint64_t start = 0;
	int ret;

	memset(&row, 0, sizeof(row));
	memcpy(row.host_id, h->host_id, sizeof(row.host_id));
	row.ts_boot_ns = rec->ts_ns;
	row.ts_wall_ns = (int64_t)rec->ts_ns + h->clock_offset_ns;
	row.clock = clock_quality(h);
	row.kind = (uint32_t)rec->kind;
	row.comm = row.exe = row.path = "";
	row.leaf = leaf;
	memcpy(row.batch_hash, v->hash, CUSTOS_HASH_LEN);
	row.rec_index = idx;
	if (is_subject_kind(rec->kind)) {
		row.pid = rec->subj.pid;
		row.ppid = rec->subj.ppid;
		row.uid = rec->subj.uid;
		row.comm = record_cstr(x->comm, sizeof(x->comm), rec->subj.comm, rec->subj.comm_len);
	}
	ret = body_fields(s, h, rec, &row, x, &start);
	if (!ret && is_subject_kind(rec->kind) && !start &&
	    (ret = store_find_proc(s, h->host_id, h->boot_id, rec->subj.pid, rec->ts_ns, &start)) > 0)
		ret = 0;
	if (ret < 0)
		return ret;
	if (start)	/* the stable process id, docs/format.md 2.5 */
		procid_format(row.proc_id, sizeof(row.proc_id), h->boot_id, start, rec->subj.pid);
	return store_add_record(s, &row);
}

/* docs/format.md 3.5 step 8, against the host's last indexed batch. */
static int chain_row(struct store *s, const struct batch_view *v, uint64_t leaf)
{
	struct chain_state c;
	struct store_gap g;
	uint64_t seq, last_leaf;
	int ret;

	chain_init(&c);
	ret = store_host_last(s, v->hdr.host_id, &seq, c.last_hash, &last_leaf);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		c.started = true;
		c.next_seq = seq + 1;
	}
	ret = chain_check(&c, &v->hdr);
	if (!ret)
		return 0;
	memset(&g, 0, sizeof(g));
	memcpy(g.host_id, v->hdr.host_id, sizeof(g.host_id));
	g.leaf = leaf;
	g.err = -ret;
	g.expected_seq = c.started ? c.next_seq : 0;
	g.got_seq = v->hdr.seq;
	g.ts_wall_ns = (int64_t)v->hdr.first_ts_ns + v->hdr.clock_offset_ns;
	return store_add_gap(s, &g);
}

int indexer_begin(struct indexer_pass *p, struct store *s, struct triage *t,
		  const struct batch_view *v, uint64_t leaf, uint64_t received_ns)
{
	struct store_batch b = { .leaf = leaf, .seq = v->hdr.seq, .received_ns = received_ns,
		.record_count = v->hdr.record_count, .first_ts_ns = v->hdr.first_ts_ns,
		.last_ts_ns = v->hdr.last_ts_ns, .clock_offset_ns = v->hdr.clock_offset_ns,
		.ntp_synced = v->hdr.ntp_synced, .ntp_maxerror_us = v->hdr.ntp_maxerror_us };
	uint64_t next;
	int ret = store_indexed(s, &next);

	p->s = s;
	p->t = t;
	p->v = v;
	p->leaf = leaf;
	p->alerts = 0;
	if (ret || next != leaf)
		return ret ? ret : 1;
	memcpy(b.host_id, v->hdr.host_id, sizeof(b.host_id));
	memcpy(b.boot_id, v->hdr.boot_id, sizeof(b.boot_id));
	memcpy(b.hash, v->hash, sizeof(b.hash));
	ret = store_begin(s);
	if (ret)
		return ret;
	ret = chain_row(s, v, leaf);
	if (!ret)
		ret = store_add_batch(s, &b);
	if (ret)
		store_rollback(s);
	else if (t)
		triage_begin(t);	/* triage.h invariant 4 */
	return ret;
}

int indexer_record(struct indexer_pass *p, uint32_t idx, const struct custos_record *rec)
{
	int ret;

	/* Triage's table lines load while SQLite writes the rows. */
	if (p->t)
		triage_prefetch(p->t, &p->v->hdr, rec);
	ret = record_row(p->s, p->v, p->leaf, idx, rec, &p->x);
	if (!ret && p->t)	/* issue 6: streaming triage (triage.h) */
		ret = triage_record(p->t, p->s, &p->v->hdr, p->v->hash, p->leaf, idx, rec,
				    &p->alerts);
	return ret;
}

int indexer_end(struct indexer_pass *p, int commit)
{
	int ret = 0;

	if (commit && p->t)	/* issue 6: the new alerts into incidents */
		ret = incident_update(p->s, NULL);
	if (commit && !ret)
		ret = store_set_indexed(p->s, p->leaf + 1);
	if (commit && !ret)
		ret = store_commit(p->s);
	if (!commit || ret)
		store_rollback(p->s);
	if (p->t && (!commit || ret))
		triage_abort(p->t);
	else if (p->t)
		triage_commit(p->t);
	return ret;
}

int indexer_batch(struct store *s, struct triage *t, uint64_t leaf, const uint8_t *p, size_t n,
		  uint64_t received_ns)
{
	struct indexer_pass *ix = malloc(sizeof(*ix));
	struct custos_record *rec = malloc(sizeof(*rec));
	struct record_iter it;
	struct batch_view v;
	struct buf raw;
	uint32_t idx = 0;
	int ret = -CUSTOS_ERR_NOMEM;

	buf_init(&raw, CUSTOS_RAW_MAX);
	if (!ix || !rec)
		goto out;
	ret = batch_parse(p, n, &v);
	if (!ret)
		ret = batch_check_payload(&v, &raw);
	if (!ret)
		ret = indexer_begin(ix, s, t, &v, leaf, received_ns);
	if (ret)
		goto out;
	record_iter_init(&it, &raw, &v.hdr);
	while ((ret = record_iter_next(&it, rec)) == 1 && (ret = indexer_record(ix, idx, rec)) == 0)
		idx++;
	if (ret)
		indexer_end(ix, 0);
	else
		ret = indexer_end(ix, 1);
out:
	if (ret == 1)	/* not the next leaf */
		ret = -CUSTOS_ERR_INVAL;
	buf_free(&raw);
	free(rec);
	free(ix);
	return ret;
}

/* Catch-up and reindex commit this many batches at a time, when no group
 * is open already (store_group_begin: a crash loses at most the group,
 * which the next catch-up redoes). */
#define INDEXER_GROUP 64

int indexer_catch_up(struct store *s, const struct custody *c, struct triage *t,
		     uint64_t *done)
{
	struct buf b;
	uint64_t next, recv;
	int own = !store_group_open(s), ret, gret;

	*done = 0;
	buf_init(&b, CUSTOS_SIGNED_MAX);
	ret = store_indexed(s, &next);
	for (; !ret && next < c->size; next++) {
		if (own && !store_group_open(s))
			ret = store_group_begin(s);
		if (!ret)
			ret = custody_read(c, next, &b, &recv);
		if (!ret)
			ret = indexer_batch(s, t, next, b.data, b.len, recv);
		if (ret)
			coll_log("index: leaf %llu: %s", (unsigned long long)next, custos_strerror(ret));
		else
			(*done)++;
		if (own && store_group_open(s) && (ret || (*done) % INDEXER_GROUP == 0 ||
						  next + 1 == c->size) &&
		    (gret = store_group_end(s)) != 0 && !ret)
			ret = gret;	/* keeps the batches before an error */
	}
	buf_free(&b);
	return ret;
}

static int reindex(const char *dir)
{
	static const char *const files[] = { "index.sqlite", "index.sqlite-wal", "index.sqlite-shm" };
	char path[COLL_PATH_MAX];
	struct custody c;
	struct store *s = NULL;
	uint64_t done = 0;
	int lock, ret;

	lock = coll_lock_dir(dir);
	if (lock < 0) {
		coll_log("%s: %s", dir, lock == -CUSTOS_ERR_EXISTS ?
			 "another custos-collector holds the directory (stop serve first)" :
			 custos_strerror(lock));
		return lock;
	}
	ret = custody_open(&c, dir);
	for (size_t i = 0; !ret && i < sizeof(files) / sizeof(files[0]); i++) {
		ret = coll_path(path, dir, files[i]);
		if (!ret && unlink(path) != 0 && access(path, F_OK) == 0)
			ret = -CUSTOS_ERR_IO;
	}
	if (!ret)
		ret = coll_path(path, dir, "index.sqlite");
	if (!ret)
		ret = store_open(path, 0, &s);
	if (!ret)
		ret = indexer_catch_up(s, &c, NULL, &done);
	if (!ret)
		printf("reindexed %llu batch(es) from the archive\n", (unsigned long long)done);
	store_close(s);
	custody_close(&c);
	close(lock);
	return ret;
}

int cmd_reindex(int argc, char **argv)
{
	const char *dir;
	int ret = coll_dir_only_options(argc, argv, "reindex", &dir);

	if (ret)
		return ret;
	return reindex(dir) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
