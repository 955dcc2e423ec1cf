/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle_timeline.c: what an export's timeline.jsonl, timeline.csv and
 * gaps.json are, as a function of the exported batches alone (bundle.h,
 * docs/export.md). The exporter writes them with these functions and
 * custos-verify recomputes them from the batches and compares bytes, so
 * the rules live in one place: rows are the records whose wall time
 * (ts_ns + the batch's clock_offset_ns) lies in the request's range, in
 * leaf order and record order; gaps come from whole batches.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "bundle.h"
#include "chain.h"
#include "error.h"
#include "record_json.h"

/* Heartbeats further apart than this are reported as missing ones. */
#define HEARTBEAT_SILENCE_NS (300ll * 1000000000ll)

static const char *const csv_cols[] = { "datetime", "timestamp_desc", "host", "kind", "pid",
	"comm", "message", "evidence_leaf", "evidence_seq", "evidence_record" };
#define N_COLS (sizeof(csv_cols) / sizeof(csv_cols[0]))

struct bundle_host {
	char name[BUNDLE_NAME_MAX + 1];
	struct chain_state chain;
	int has_hb;
	int64_t last_hb_ns;
};

void bundle_fmt_time(int64_t unix_ns, char *out, size_t n)
{
	int64_t s = unix_ns / 1000000000ll, ns = unix_ns % 1000000000ll;
	time_t t;
	struct tm tm;

	if (ns < 0) {
		ns += 1000000000ll;
		s--;
	}
	t = (time_t)s;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, n, "?");
		return;
	}
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)ns);
}

/* Printable ASCII copy of bytes (others become '?'). */
static void safe(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[i] = 0;
}

static void message(const struct custos_record *r, char *out, size_t n)
{
	const char *kind = record_kind_name(r->kind);
	char comm[CUSTOS_COMM_MAX + 1], what[CUSTOS_PATH_MAX + 1] = "", addr[64] = "?";
	unsigned long long pid = (unsigned long long)r->subj.pid;

	kind = kind ? kind : "?";
	safe(r->subj.comm, r->subj.comm_len, comm, sizeof(comm));
	if (r->kind >= CUSTOS_REC_AGENT_START) {
		snprintf(out, n, "agent %s%s%.0llu", kind, r->u.agent.lost ? " lost=" : "",
			 (unsigned long long)r->u.agent.lost);
		return;
	}
	if (r->kind >= CUSTOS_REC_CONNECT) {
		if (r->u.net.remote_addr_len == 4 || r->u.net.remote_addr_len == 16)
			inet_ntop(r->u.net.remote_addr_len == 4 ? AF_INET : AF_INET6,
				  r->u.net.remote_addr, addr, sizeof(addr));
		snprintf(out, n, "%s %s port %llu by %s (pid %llu)", kind, addr,
			 (unsigned long long)r->u.net.remote_port, comm, pid);
		return;
	}
	if (r->kind == CUSTOS_REC_EXEC || r->kind == CUSTOS_REC_SNAPSHOT)
		safe(r->u.exec.exe, r->u.exec.exe_len, what, sizeof(what));
	else if (r->kind >= CUSTOS_REC_OPEN)
		safe(r->u.file.path, r->u.file.path_len, what, sizeof(what));
	snprintf(out, n, "%s%s%s by %s (pid %llu)", kind, what[0] ? " " : "", what, comm, pid);
}

int bundle_derive_init(struct bundle_derive *d, int64_t from_ns, int64_t to_ns, FILE *jsonl,
		       FILE *csv)
{
	memset(d, 0, sizeof(*d));
	d->from_ns = from_ns;
	d->to_ns = to_ns;
	d->jsonl = jsonl;
	d->csv = csv;
	d->gaps = json_array();
	if (!d->gaps)
		return -CUSTOS_ERR_NOMEM;
	/* One thread writes these streams: no stdio locking per call (a third
	 * of custos-verify's time on a million rows went there). */
	if (jsonl)
		__fsetlocking(jsonl, FSETLOCKING_BYCALLER);
	if (csv)
		__fsetlocking(csv, FSETLOCKING_BYCALLER);
	for (size_t i = 0; csv && i < N_COLS; i++)
		fprintf(csv, "%s%c", csv_cols[i], i + 1 < N_COLS ? ',' : '\n');
	return 0;
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int write_csv(FILE *f, json_t *row)
{
	char num[32];

	for (size_t i = 0; i < N_COLS; i++) {
		json_t *v = json_object_get(row, csv_cols[i]);
		const char *s = "";

		if (json_is_string(v))
			s = json_string_value(v);
		else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			s = num;
		}
		csv_field(f, s);
		fputc(i + 1 < N_COLS ? ',' : '\n', f);
	}
	return ferror(f) ? -CUSTOS_ERR_IO : 0;
}

/* o as one compact, sorted line: serialised into memory first, then one
 * fwrite (json_dumpf writes each token with its own call). */
static int put_line(FILE *f, const json_t *o)
{
	char stack[8192], *p = stack;
	size_t n = json_dumpb(o, stack, sizeof(stack) - 1, JSON_COMPACT | JSON_SORT_KEYS);
	int ret = 0;

	if (n == 0)
		return -CUSTOS_ERR_NOMEM;
	if (n > sizeof(stack) - 1) {
		p = malloc(n + 1);
		if (!p || json_dumpb(o, p, n, JSON_COMPACT | JSON_SORT_KEYS) != n) {
			free(p);
			return -CUSTOS_ERR_NOMEM;
		}
	}
	p[n++] = '\n';
	if (fwrite(p, 1, n, f) != n)
		ret = -CUSTOS_ERR_IO;
	if (p != stack)
		free(p);
	return ret;
}

static int emit_row(struct bundle_derive *d, const char *host, uint64_t leaf,
		    const struct batch_view *v, const struct custos_record *r, uint64_t idx,
		    int64_t wall)
{
	char when[48], msg[4400];
	json_t *o;
	int ret = record_json(r, &o);

	if (ret)
		return ret;
	bundle_fmt_time(wall, when, sizeof(when));
	message(r, msg, sizeof(msg));
	if (json_object_set_new(o, "datetime", json_string(when)) ||
	    json_object_set_new(o, "timestamp_desc", json_string("event time (host clock)")) ||
	    json_object_set_new(o, "message", json_string(msg)) ||
	    json_object_set_new(o, "host", json_string(host)) ||
	    json_object_set_new(o, "evidence_leaf", json_integer((json_int_t)leaf)) ||
	    json_object_set_new(o, "evidence_seq", json_integer((json_int_t)v->hdr.seq)) ||
	    json_object_set_new(o, "evidence_record", json_integer((json_int_t)idx))) {
		json_decref(o);
		return -CUSTOS_ERR_NOMEM;
	}
	if (d->jsonl)
		ret = put_line(d->jsonl, o);
	if (!ret && d->csv)
		ret = write_csv(d->csv, o);
	d->rows++;
	json_decref(o);
	return ret;
}

static int add_gap(struct bundle_derive *d, json_t *g, const char *type, const char *host,
		   uint64_t leaf)
{
	if (!g)
		return -CUSTOS_ERR_NOMEM;
	json_object_set_new(g, "type", json_string(type));
	json_object_set_new(g, "host", json_string(host));
	json_object_set_new(g, "evidence_leaf", json_integer((json_int_t)leaf));
	return json_array_append_new(d->gaps, g) ? -CUSTOS_ERR_NOMEM : 0;
}

static json_t *at(int64_t wall, uint64_t idx)
{
	char when[48];

	bundle_fmt_time(wall, when, sizeof(when));
	return json_pack("{s:s,s:I}", "datetime", when, "evidence_record", (json_int_t)idx);
}

/* A record that says evidence is missing or time is uncertain. */
static int record_gap(struct bundle_derive *d, struct bundle_host *h, uint64_t leaf,
		      const struct custos_record *r, uint64_t idx, int64_t wall)
{
	const struct custos_agent *a = &r->u.agent;
	char text[256];
	json_t *g;

	switch (r->kind) {
	case CUSTOS_REC_LOSS:
	case CUSTOS_REC_GAP:
		g = at(wall, idx);
		json_object_set_new(g, "lost", json_integer((json_int_t)a->lost));
		json_object_set_new(g, "batches_lost", json_integer((json_int_t)a->batches_lost));
		json_object_set_new(g, "source", json_integer((json_int_t)a->source));
		return add_gap(d, g, r->kind == CUSTOS_REC_LOSS ? "loss" : "agent_gap", h->name, leaf);
	case CUSTOS_REC_AGENT_STOP:
		safe(a->text, a->text_len, text, sizeof(text));
		g = at(wall, idx);
		json_object_set_new(g, "signal", json_integer((json_int_t)a->signal));
		json_object_set_new(g, "reason", json_string(text));
		return add_gap(d, g, "agent_stop", h->name, leaf);
	case CUSTOS_REC_CLOCK_STEP:
		g = at(wall, idx);
		json_object_set_new(g, "offset_old_ns", json_integer(a->offset_old_ns));
		json_object_set_new(g, "offset_new_ns", json_integer(a->offset_new_ns));
		return add_gap(d, g, "clock_step", h->name, leaf);
	case CUSTOS_REC_CLOCK_SET:
		return add_gap(d, at(wall, idx), "clock_set", h->name, leaf);
	case CUSTOS_REC_HEARTBEAT:
		if (h->has_hb && wall - h->last_hb_ns > HEARTBEAT_SILENCE_NS) {
			char from[48];

			bundle_fmt_time(h->last_hb_ns, from, sizeof(from));
			g = at(wall, idx);
			json_object_set_new(g, "silent_since", json_string(from));
			if (add_gap(d, g, "heartbeat_missing", h->name, leaf))
				return -CUSTOS_ERR_NOMEM;
		}
		h->has_hb = 1;
		h->last_hb_ns = wall;
		return 0;
	default:
		return 0;
	}
}

static struct bundle_host *host_of(struct bundle_derive *d, const char *host)
{
	struct bundle_host *n;

	for (size_t i = 0; i < d->nhosts; i++)
		if (strcmp(d->hosts[i].name, host) == 0)
			return &d->hosts[i];
	n = realloc(d->hosts, (d->nhosts + 1) * sizeof(*n));
	if (!n)
		return NULL;
	d->hosts = n;
	n = &d->hosts[d->nhosts++];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", host);
	chain_init(&n->chain);
	return n;
}

static int chain_gap(struct bundle_derive *d, struct bundle_host *h, uint64_t leaf,
		     const struct batch_view *v)
{
	int err = h->chain.started ? chain_check(&h->chain, &v->hdr) : 0;
	json_t *g;

	if (err == -CUSTOS_ERR_SEQ_GAP) {
		g = json_pack("{s:I,s:I}", "after_seq", (json_int_t)(h->chain.next_seq - 1),
			      "before_seq", (json_int_t)v->hdr.seq);
		if (add_gap(d, g, "sequence_gap", h->name, leaf))
			return -CUSTOS_ERR_NOMEM;
	} else if (err) {
		g = json_pack("{s:I,s:s}", "seq", (json_int_t)v->hdr.seq, "error",
			      custos_strerror(err));
		if (add_gap(d, g, "chain_break", h->name, leaf))
			return -CUSTOS_ERR_NOMEM;
	}
	chain_advance(&h->chain, &v->hdr, v->hash);
	return 0;
}

int bundle_derive_batch(struct bundle_derive *d, const char *host, uint64_t leaf,
			const struct batch_view *v, const struct buf *raw)
{
	struct bundle_host *h = host_of(d, host);
	struct custos_record *r = malloc(sizeof(*r));
	struct record_iter it;
	uint64_t idx = 0;
	int ret;

	ret = !h || !r ? -CUSTOS_ERR_NOMEM : chain_gap(d, h, leaf, v);
	record_iter_init(&it, raw, &v->hdr);
	while (!ret && (ret = record_iter_next(&it, r)) == 1) {
		int64_t wall = (int64_t)r->ts_ns + v->hdr.clock_offset_ns;

		ret = record_gap(d, h, leaf, r, idx, wall);
		if (!ret && wall >= d->from_ns && wall <= d->to_ns)
			ret = emit_row(d, host, leaf, v, r, idx, wall);
		idx++;
	}
	free(r);
	return ret;
}

int bundle_derive_gaps(struct bundle_derive *d, char **out)
{
	json_t *doc = json_pack("{s:O,s:s}", "gaps", d->gaps, "note",
				"gaps found in the exported batches: sequence gaps and chain "
				"breaks between them, and the agent's own loss, gap, stop, "
				"clock records and heartbeat silences over 300 s");

	*out = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	return *out ? 0 : -CUSTOS_ERR_NOMEM;
}

void bundle_derive_free(struct bundle_derive *d)
{
	if (!d)
		return;
	json_decref(d->gaps);
	free(d->hosts);
	d->gaps = NULL;
	d->hosts = NULL;
	d->nhosts = 0;
}
