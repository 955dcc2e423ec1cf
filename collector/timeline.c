/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timeline: what happened on one host between two times, from the index,
 * streamed row by row as the store returns them (no answer is held in
 * memory). Times are read and written in UTC ISO 8601 (local time with
 * --local), each with the clock quality flag of the batch it came from;
 * the collector's chain gaps for the host appear in their place. Each row
 * names its evidence: batch hash (and leaf index) and record index.
 * Formats: table (people), jsonl (Timesketch-ready: message, datetime,
 * timestamp_desc), csv.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "collector.h"
#include "error.h"
#include "keystore.h"
#include "record.h"
#include "store.h"
#include "number.h"

enum fmt { FMT_TABLE, FMT_JSONL, FMT_CSV };

struct tl {
	enum fmt fmt;
	int local, tree;
	const char *host;
	struct store_gap *gaps;
	size_t ngaps, next_gap;
	uint64_t rows;
};

static const char *clock_flag(int c)
{
	return c == STORE_CLOCK_SYNCED ? "synced" : c == STORE_CLOCK_COARSE ? "coarse" : "unsynced";
}

static void csv_field(const char *s, int last)
{
	if (strpbrk(s, ",\"\n\r")) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static void message(const struct store_row *r, const char *kind, char *out, size_t n)
{
	const char *what = r->exe[0] ? r->exe : r->path[0] ? r->path : r->addr;

	if (r->kind >= 96)
		snprintf(out, n, "%s%s%.0llu", kind, r->lost ? " lost=" : "",
			 (unsigned long long)r->lost);
	else if (r->addr[0])
		snprintf(out, n, "%s %s port %llu by %s (pid %llu) result %lld", kind, r->addr,
			 (unsigned long long)r->port, r->comm, (unsigned long long)r->pid,
			 (long long)r->result);
	else
		snprintf(out, n, "%s %s by %s (pid %llu)", kind, what, r->comm,
			 (unsigned long long)r->pid);
}

static int emit_json(const struct tl *t, json_t *o)
{
	int ret = json_dumpf(o, stdout, JSON_COMPACT) == 0 ? 0 : -CUSTOS_ERR_IO;

	json_decref(o);
	putchar('\n');
	(void)t;
	return ret;
}

static int print_gap(struct tl *t, const struct store_gap *g)
{
	char when[48], what[160];

	coll_fmt_time(g->ts_wall_ns, t->local, when, sizeof(when));
	snprintf(what, sizeof(what), "collector: %s: expected seq %llu, got %llu (leaf %llu)",
		 custos_strerror(g->err), (unsigned long long)g->expected_seq,
		 (unsigned long long)g->got_seq, (unsigned long long)g->leaf);
	t->rows++;
	if (t->fmt == FMT_TABLE) {
		printf("%-30s %-8s %-14s %s\n", when, "-", "chain_gap", what);
		return 0;
	}
	if (t->fmt == FMT_CSV) {
		const char *f[] = { when, "", t->host, "chain_gap", "", "", "", "", "", "", "", "",
				    what };
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			csv_field(f[i], 0);
		printf("%llu,\n", (unsigned long long)g->leaf);
		return 0;
	}
	return emit_json(t, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "datetime", when,
				      "timestamp_desc", "batch first record time (host clock)",
				      "message", what, "host", t->host, "kind", "chain_gap",
				      "leaf", (json_int_t)g->leaf, "expected_seq",
				      (json_int_t)g->expected_seq, "got_seq", (json_int_t)g->got_seq));
}

static int print_row(void *ctx, const struct store_row *r)
{
	struct tl *t = ctx;
	const char *kind = record_kind_name(r->kind);
	char when[48], msg[4400], hash[65], num[3][24];
	int ret = 0;

	while (t->next_gap < t->ngaps && t->gaps[t->next_gap].ts_wall_ns <= r->ts_wall_ns)
		ret = print_gap(t, &t->gaps[t->next_gap++]);
	kind = kind ? kind : "?";
	coll_fmt_time(r->ts_wall_ns, t->local, when, sizeof(when));
	sodium_bin2hex(hash, sizeof(hash), r->batch_hash, sizeof(r->batch_hash));
	message(r, kind, msg, sizeof(msg));
	t->rows++;
	if (t->fmt == FMT_TABLE) {
		printf("%-30s %-8s %*s%-*s %7llu %7llu %-24s %s  [%.12s#%u]\n", when,
		       clock_flag(r->clock), (int)(2 * r->depth), "", 14 - (int)(2 * r->depth) > 0 ?
		       14 - (int)(2 * r->depth) : 1, kind, (unsigned long long)r->pid,
		       (unsigned long long)r->ppid, r->proc_id[0] ? r->proc_id : "-", msg, hash,
		       r->rec_index);
	} else if (t->fmt == FMT_CSV) {
		snprintf(num[0], sizeof(num[0]), "%llu", (unsigned long long)r->pid);
		snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)r->ppid);
		snprintf(num[2], sizeof(num[2]), "%llu", (unsigned long long)r->uid);
		const char *f[] = { when, clock_flag(r->clock), t->host, kind, num[0], num[1],
				    r->proc_id, num[2], r->comm, r->exe, r->path, r->addr, msg, hash };
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			csv_field(f[i], 0);
		printf("%u\n", r->rec_index);
	} else {
		ret = emit_json(t, json_pack(
			"{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:I,"
			"s:I,s:I,s:I}",
			"datetime", when, "timestamp_desc", "event time (host clock)", "message", msg,
			"clock", clock_flag(r->clock), "host", t->host, "kind", kind,
			"pid", (json_int_t)r->pid, "ppid", (json_int_t)r->ppid, "uid", (json_int_t)r->uid,
			"proc_id", r->proc_id, "comm", r->comm, "exe", r->exe, "path", r->path,
			"addr", r->addr, "port", (json_int_t)r->port, "result", (json_int_t)r->result,
			"lost", (json_int_t)r->lost, "batch_hash", hash, "leaf", (json_int_t)r->leaf,
			"record_index", (json_int_t)r->rec_index, "ts_boot_ns", (json_int_t)r->ts_boot_ns,
			"depth", (json_int_t)r->depth));
	}
	if (t->rows % 256 == 0)
		fflush(stdout);
	return ret;
}

static int collect_gap(void *ctx, const struct store_gap *g)
{
	struct tl *t = ctx;
	struct store_gap *n = realloc(t->gaps, (t->ngaps + 1) * sizeof(*n));

	if (!n)
		return -CUSTOS_ERR_NOMEM;
	t->gaps = n;
	t->gaps[t->ngaps++] = *g;
	return 0;
}

static void header(const struct tl *t)
{
	if (t->fmt == FMT_TABLE)
		printf("%-30s %-8s %-14s %7s %7s %-24s %s\n", "TIME", "CLOCK", "KIND", "PID", "PPID",
		       "PROCESS ID", "WHAT  [BATCH#RECORD]");
	else if (t->fmt == FMT_CSV)
		printf("datetime,clock,host,kind,pid,ppid,proc_id,uid,comm,exe,path,addr,message,"
		       "batch_hash,record_index\n");
}

/* Resolve --host: an enrolled (or revoked) name, or a 64-digit host id. */
static int resolve_host(const struct keystore *ks, const char *host, uint8_t id[32])
{
	for (size_t i = 0; i < ks->count; i++)
		if (strcmp(ks->hosts[i].name, host) == 0) {
			memcpy(id, ks->hosts[i].pk.sign_pk, 32);
			return 0;
		}
	size_t got;
	if (strlen(host) == 64 && sodium_hex2bin(id, 32, host, 64, NULL, &got, NULL) == 0 && got == 32)
		return 0;
	return -CUSTOS_ERR_INVAL;
}

static int timeline(const char *dir, struct store_query *q, struct tl *t)
{
	char path[COLL_PATH_MAX];
	struct keystore ks;
	struct store *s = NULL;
	int ret = keystore_open(&ks, dir, 0);

	if (ret)
		return ret;
	ret = resolve_host(&ks, t->host, q->host_id);
	if (ret)
		coll_log("timeline: no host named '%s'", t->host);
	if (!ret)
		ret = coll_path(path, dir, "index.sqlite");
	if (!ret)
		ret = store_open(path, 1, &s);
	if (!ret && !q->has_pid && !q->kind && !q->path_glob && !q->addr)
		ret = store_gaps(s, q->host_id, q->from_ns, q->to_ns, collect_gap, t);
	if (!ret) {
		header(t);
		ret = store_timeline(s, q, print_row, t);
	}
	while (!ret && t->next_gap < t->ngaps)
		ret = print_gap(t, &t->gaps[t->next_gap++]);
	fflush(stdout);
	free(t->gaps);
	store_close(s);
	keystore_close(&ks);
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "Usage: custos-collector timeline [--dir DIR] --host NAME [--from TIME] "
		"[--to TIME] [--pid P [--tree]] [--kind KIND] [--path GLOB] [--addr IP] "
		"[--format table|jsonl|csv] [--local]\n"
		"TIME: ISO 8601 (2025-11-22T02:00:00Z; UTC when no zone is given, local time "
		"with --local) or Unix seconds\n");
	return COLL_EXIT_USAGE;
}

int cmd_timeline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "host", required_argument, NULL, 'H' },
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, 'p' }, { "tree", no_argument, NULL, 'T' },
		{ "kind", required_argument, NULL, 'k' }, { "path", required_argument, NULL, 'P' },
		{ "addr", required_argument, NULL, 'a' }, { "format", required_argument, NULL, 'F' },
		{ "local", no_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	const char *dir = coll_default_dir(), *from = NULL, *to = NULL, *fmt = "table";
	struct store_query q = { .from_ns = INT64_MIN, .to_ns = INT64_MAX };
	struct tl t = { 0 };
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'H': t.host = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'p': q.has_pid = 1; bad |= custos_parse_u64(optarg, 0, UINT32_MAX, &q.pid); break;
		case 'T': q.tree = 1; break;
		case 'k': q.kind = (uint32_t)record_kind_by_name(optarg); bad |= !q.kind; break;
		case 'P': q.path_glob = optarg; break;
		case 'a': q.addr = optarg; break;
		case 'F': fmt = optarg; break;
		case 'l': t.local = 1; break;
		default: bad = 1;
		}
	}
	if (from)
		bad |= coll_parse_time(from, t.local, &q.from_ns);
	if (to)
		bad |= coll_parse_time(to, t.local, &q.to_ns);
	t.fmt = strcmp(fmt, "table") == 0 ? FMT_TABLE : strcmp(fmt, "jsonl") == 0 ? FMT_JSONL
		: strcmp(fmt, "csv") == 0 ? FMT_CSV : (bad = 1, FMT_TABLE);
	if (bad || optind != argc || !t.host || (q.tree && !q.has_pid))
		return usage();
	return timeline(dir, &q, &t) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
