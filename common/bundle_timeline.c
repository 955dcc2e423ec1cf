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

/* A row: the record's members (record_json_members) and ours. */
#define ROW_MEMBERS 96
#define ROW_KINDS 128		/* kinds below this have their key order cached */

/* The sorted key order of one kind's rows: indexes into its members, the
 * duplicates dropped (the later member of a name wins, as with
 * json_object_set). The names of a kind's members never change. */
struct bundle_order {
	uint8_t n;		/* 0: not computed yet */
	uint8_t idx[ROW_MEMBERS];
	uint8_t col[N_COLS];	/* the member of each CSV column, NO_MEMBER if none */
};
#define NO_MEMBER 0xff

struct bundle_host {
	char name[BUNDLE_NAME_MAX + 1];
	struct chain_state chain;
	int has_hb;
	int64_t last_hb_ns;
};

/* v in exactly w decimal digits, zero-padded (v < 10^w). */
static void digits(char *out, int w, uint64_t v)
{
	for (int i = w - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
}

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
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999 || n < 31) {
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)ns);
		return;
	}
	/* The same bytes without printf: one row each, a million rows. */
	digits(out, 4, (uint64_t)tm.tm_year + 1900);
	out[4] = '-';
	digits(out + 5, 2, (uint64_t)tm.tm_mon + 1);
	out[7] = '-';
	digits(out + 8, 2, (uint64_t)tm.tm_mday);
	out[10] = 'T';
	digits(out + 11, 2, (uint64_t)tm.tm_hour);
	out[13] = ':';
	digits(out + 14, 2, (uint64_t)tm.tm_min);
	out[16] = ':';
	digits(out + 17, 2, (uint64_t)tm.tm_sec);
	out[19] = '.';
	digits(out + 20, 9, (uint64_t)ns);
	memcpy(out + 29, "Z", 2);
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
	else if (r->kind == CUSTOS_REC_AUTH)	/* the audit message: op=... res=failed */
		safe(r->u.auth.text, r->u.auth.text_len, what, sizeof(what));
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
	buf_init(&d->row, 1u << 24);
	d->gaps = json_array();
	d->order = calloc(ROW_KINDS, sizeof(*d->order));
	if (!d->gaps || !d->order)
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

static size_t row_order(const struct record_json_member *m, size_t n, uint8_t *idx)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = k;
		int c = 1;

		while (j > 0 && (c = strcmp(m[idx[j - 1]].name, m[i].name)) > 0)
			j--;
		if (j > 0 && c == 0) {	/* same name: the later one replaces it */
			idx[j - 1] = (uint8_t)i;
			continue;
		}
		memmove(idx + j + 1, idx + j, k - j);
		idx[j] = (uint8_t)i;
		k++;
	}
	return k;
}

static void order_make(struct bundle_order *o, const struct record_json_member *m, size_t n)
{
	o->n = (uint8_t)row_order(m, n, o->idx);
	for (size_t c = 0; c < N_COLS; c++) {
		o->col[c] = NO_MEMBER;
		for (size_t i = 0; i < o->n; i++)
			if (strcmp(m[o->idx[i]].name, csv_cols[c]) == 0)
				o->col[c] = o->idx[i];
	}
}

static const struct bundle_order *order_of(struct bundle_derive *d, uint64_t kind,
					   const struct record_json_member *m, size_t n,
					   struct bundle_order *tmp)
{
	struct bundle_order *o;

	if (kind >= ROW_KINDS || !d->order) {
		order_make(tmp, m, n);
		return tmp;
	}
	o = &d->order[kind];
	if (!o->n)
		order_make(o, m, n);
	return o;
}

/* RFC 4180 field: quoted when it holds a comma, quote or line break. */
static int csv_field(struct buf *b, const char *s, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n && s[i] != ',' && s[i] != '"' && s[i] != '\n' && s[i] != '\r'; i++)
		;
	if (i == n)
		return buf_put(b, s, n);
	ret = buf_put(b, "\"", 1);
	for (i = 0; !ret && i < n; i++)
		ret = s[i] == '"' ? buf_put(b, "\"\"", 2) : buf_put(b, s + i, 1);
	return ret ? ret : buf_put(b, "\"", 1);
}

/* The CSV line: a column's string value unescaped, a number as written,
 * anything else (hex objects, arrays, absent) empty. */
static int put_csv(struct buf *b, const struct record_json_member *m,
		   const struct bundle_order *o)
{
	char num[32];
	int ret = 0;

	for (size_t i = 0; !ret && i < N_COLS; i++) {
		const struct record_json_member *c = o->col[i] == NO_MEMBER ? NULL : &m[o->col[i]];

		if (c && c->type == RECORD_JSON_STRING)
			ret = csv_field(b, c->raw, c->raw_len);
		else if (c && c->type == RECORD_JSON_NUMBER && c->len < sizeof(num)) {
			memcpy(num, b->data + c->off, c->len);	/* b may move */
			ret = csv_field(b, num, c->len);
		}
		if (!ret)
			ret = buf_put(b, i + 1 < N_COLS ? "," : "\n", 1);
	}
	return ret;
}

/* The JSON line: compact, keys sorted, '\n'. */
static int put_json(struct buf *b, const struct record_json_member *m,
		    const struct bundle_order *o)
{
	int ret = buf_put(b, "{", 1);

	for (size_t i = 0; !ret && i < o->n; i++) {
		const struct record_json_member *c = &m[o->idx[i]];

		if (i)
			ret = buf_put(b, ",", 1);
		if (!ret)
			ret = record_json_put_string(b, c->name, strlen(c->name));
		if (!ret)
			ret = buf_put(b, ":", 1);
		if (!ret)
			ret = buf_reserve(b, c->len);
		if (!ret) {
			memcpy(b->data + b->len, b->data + c->off, c->len);
			b->len += c->len;
		}
	}
	return ret ? ret : buf_put(b, "}\n", 2);
}

/* One of our members: a string (static or in m->text) or a number. */
static int add_str(struct buf *b, struct record_json_member *m, const char *name,
		   const char *s)
{
	int ret;

	m->name = name;
	m->off = (uint32_t)b->len;
	m->type = RECORD_JSON_STRING;
	m->raw = s;
	m->raw_len = strlen(s);
	ret = record_json_put_string(b, s, m->raw_len);

	m->len = (uint32_t)(b->len - m->off);
	return ret;
}

static int add_int(struct buf *b, struct record_json_member *m, const char *name, uint64_t v)
{
	int ret;

	m->name = name;
	m->off = (uint32_t)b->len;
	m->type = RECORD_JSON_NUMBER;
	m->raw = NULL;
	m->raw_len = 0;
	ret = record_json_put_int(b, (int64_t)v);

	m->len = (uint32_t)(b->len - m->off);
	return ret;
}

static int flush(FILE *f, const struct buf *b, size_t from)
{
	return fwrite(b->data + from, 1, b->len - from, f) == b->len - from ? 0 : -CUSTOS_ERR_IO;
}

int bundle_derive_row(struct bundle_derive *d, const char *host, uint64_t leaf, uint64_t seq,
		      const struct custos_record *r, uint64_t idx, int64_t wall)
{
	struct record_json_member m[ROW_MEMBERS];
	char when[48], msg[4400];
	struct bundle_order tmp;
	const struct bundle_order *order;
	size_t n = 0, at;
	struct buf *b = &d->row;
	int ret;

	buf_reset(b);
	ret = record_json_members(r, b, m, ROW_MEMBERS - 7, &n);
	if (ret)
		return ret;
	bundle_fmt_time(wall, when, sizeof(when));
	message(r, msg, sizeof(msg));
	ret = add_str(b, &m[n++], "datetime", when);
	ret = ret ? ret : add_str(b, &m[n++], "timestamp_desc", "event time (host clock)");
	ret = ret ? ret : add_str(b, &m[n++], "message", msg);
	ret = ret ? ret : add_str(b, &m[n++], "host", host);
	ret = ret ? ret : add_int(b, &m[n++], "evidence_leaf", leaf);
	ret = ret ? ret : add_int(b, &m[n++], "evidence_seq", seq);
	ret = ret ? ret : add_int(b, &m[n++], "evidence_record", idx);
	if (ret)
		return ret;
	order = order_of(d, r->kind, m, n, &tmp);
	at = b->len;
	if (d->jsonl && !(ret = put_json(b, m, order)))
		ret = flush(d->jsonl, b, at);
	at = b->len;
	if (!ret && d->csv && !(ret = put_csv(b, m, order)))
		ret = flush(d->csv, b, at);
	d->rows++;
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
			ret = bundle_derive_row(d, host, leaf, v->hdr.seq, r, idx, wall);
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
	free(d->order);
	buf_free(&d->row);
	d->order = NULL;
	d->gaps = NULL;
	d->hosts = NULL;
	d->nhosts = 0;
}
