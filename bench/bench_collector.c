/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_collector: issue 5's benchmark (and issue 6's triage cost). It
 * makes synthetic sealed batches with libcustos (a real host key, real
 * signatures, sealed to a real collector key), then measures on one
 * thread, in one run:
 *
 *   1. verify only: open the seal, check the signature and the payload,
 *      decode every record (what ingest must do before it stores
 *      anything): the baseline;
 *   2. ingest with triage off: ingest_envelope, i.e. verify + archive and
 *      custody leaf (fsynced) + acknowledgement + index, on a state
 *      directory made by the real init and enroll;
 *   3. the same with triage on (the rule pack given by --rules);
 *   4. a store of --query-records records (one host, one hour), built by
 *      the same ingest, then the first page (100 rows) of a timeline of a
 *      ten-minute window, of one process tree in that window, and of one
 *      pid in it.
 *
 *   bench_collector [--batches N] [--records R] [--query-records M]
 *                   [--group G] [--rules DIR] [--dir DIR] [--skip-query]
 *                   [--sides one,off,on]
 *
 * Ingest commits every G batches (default 32: serve commits once per
 * epoll wakeup, i.e. the batches of the agents that sent in it), and once
 * more with one batch per commit, for comparison. A commit syncs the
 * archive and the custody log; the index commits on its own, every
 * INGEST_INDEX_BATCHES batches (ingest.h invariant 6: what serve does
 * while input keeps coming), and once at the end of the run (serve's
 * commit when it goes idle). Phases 1-3 run
 * interleaved, G batches of each in turn, each into its own state
 * directory, so that other work on a shared machine slows them alike and
 * their ratios hold. --sides runs only the named ingest sides (one: one
 * batch per commit, off: G per commit, on: G per commit with triage);
 * each prints its CPU time too, and its rate over each fourth of the
 * batches (ingest slows as the store grows).
 *
 * Run it pinned to one core (taskset -c 0). It prints rates and the
 * ratios between the phases of the same run; the state directories go
 * under --dir (default: a new directory in $TMPDIR or /tmp, removed at
 * the end), which should be on the disk the collector would use, since
 * the archive's fsyncs are part of what is measured.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "bench_mix.h"
#include "collector.h"
#include "error.h"
#include "indexer.h"
#include "ingest.h"
#include "keys.h"
#include "record.h"
#include "seal.h"
#include "store.h"
#include "triage.h"

#define HOUR_NS 3600000000000ull
#define OFFSET_NS 1763769600000000000ll	/* 2025-11-22T00:00:00Z - boot */
#define PAGE 100

struct opts {
	uint64_t batches, records, query_records, group;
	const char *rules, *dir;
	int skip_query;
	unsigned sides;		/* bit k: run side k of phases() (one, off, on) */
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* This thread's CPU time: on a shared machine it moves less than the wall
 * clock (the archive's fsyncs wait off the CPU, and are not in it). */
static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_collector: %s: %s\n", what, custos_strerror(err));
	exit(1);
}

/* Record i of a stream spread over span_ns: per 20 records, 5 fork, 5
 * exit, 5 exec, 4 open, 1 connect. Process trees: 50 roots (pids
 * 900-949), each the parent of the pids 1000 + j with j % 50 its index,
 * and those the parents of pid + 100000 (two generations). */
static void make_record(struct custos_record *r, uint64_t i, uint64_t n, uint64_t span_ns)
{
	uint64_t ts = 1000000000ull + (n ? i * (span_ns / n) : i);
	uint64_t j = i % 5000;
	unsigned k = (unsigned)(i % 20);

	memset(r, 0, sizeof(*r));
	r->ts_ns = ts;
	r->subj.pid = (i / 5000) % 2 ? 100000 + 1000 + j : 1000 + j;
	r->subj.ppid = (i / 5000) % 2 ? 1000 + j : 900 + j % 50;
	r->subj.tid = r->subj.pid;
	r->subj.uid = 1000;
	r->subj.loginuid = 1000;
	record_set_bytes(r->subj.comm, &r->subj.comm_len, CUSTOS_COMM_MAX, "bash");
	bench_mix_body(r, k, i, ts);
}

/* The sealed batches of one host: records [first, first + count) of a
 * stream of total records over span_ns. */
struct gen {
	struct custos_keypair host;
	struct custos_pubkey coll;
	struct batch_builder bb;
	struct custos_record *r;
	uint8_t prev[CUSTOS_HASH_LEN];
	uint64_t seq;
};

static void gen_batch(struct gen *g, uint64_t first, uint64_t count, uint64_t total,
		      uint64_t span_ns, struct buf *env)
{
	struct batch_header h;
	struct buf sb;
	int ret;

	buf_init(&sb, CUSTOS_SIGNED_MAX);
	for (uint64_t i = first; i < first + count; i++) {
		make_record(g->r, i, total, span_ns);
		ret = batch_builder_add(&g->bb, g->r);
		if (ret)
			die("batch_builder_add", ret);
	}
	memset(&h, 0, sizeof(h));
	memset(h.boot_id, 0xb0, sizeof(h.boot_id));
	h.seq = g->seq;
	memcpy(h.prev_hash, g->prev, CUSTOS_HASH_LEN);
	h.clock_offset_ns = OFFSET_NS;
	h.sealed_boot_ns = g->bb.last_ts_ns + 1;
	h.ntp_synced = 1;
	h.ntp_maxerror_us = 16000;
	ret = batch_sign(&g->bb, &h, &g->host, &sb, g->prev);
	if (!ret)
		ret = seal_batch(sb.data, sb.len, &g->coll, env);
	if (ret)
		die("sign and seal", ret);
	g->seq++;
	buf_free(&sb);
}

/* A state directory made by the real init and enroll (their output,
 * which names keys and fingerprints, is not the benchmark's). */
static void make_state(const char *dir, const struct custos_keypair *host, const char *work)
{
	char pub[4200];
	char *init[] = { "init", "--dir", (char *)dir, "--name", "bench/log", NULL };
	char *enroll[] = { "enroll", "--dir", (char *)dir, "--name", "web1", "--key", pub, NULL };
	int saved = dup(1), null = open("/dev/null", O_WRONLY | O_CLOEXEC), ret;

	snprintf(pub, sizeof(pub), "%s.host.pub", dir);
	(void)work;
	fflush(stdout);
	if (saved < 0 || null < 0 || dup2(null, 1) < 0)
		die("stdout", -CUSTOS_ERR_IO);
	ret = keys_save_public(pub, &host->pub) || cmd_init(5, init) || cmd_enroll(7, enroll);
	fflush(stdout);
	if (dup2(saved, 1) < 0 || ret)
		die(dir, -CUSTOS_ERR_IO);
	close(saved);
	close(null);
}

static int lookup(void *ctx, const uint8_t host_id[KEYS_SIGN_PK_LEN])
{
	const struct custos_keypair *host = ctx;

	return memcmp(host_id, host->pub.sign_pk, KEYS_SIGN_PK_LEN) ? -CUSTOS_ERR_UNKNOWN_HOST : 0;
}

/* Phase 1: what ingest checks before storing anything. */
static double verify_only(struct buf *envs, uint64_t n, const struct custos_keypair *coll,
			  const struct custos_keypair *host)
{
	struct buf sb, raw;
	struct batch_view v;
	struct record_iter it;
	struct custos_record *r = malloc(sizeof(*r));
	double t0 = now_s();
	int ret = 0;

	buf_init(&sb, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	for (uint64_t i = 0; r && i < n && !ret; i++) {
		buf_reset(&sb);
		ret = seal_open(envs[i].data, envs[i].len, coll, &sb);
		if (!ret)
			ret = batch_verify(sb.data, sb.len, lookup, (void *)host, &v, &raw);
		if (!ret) {
			record_iter_init(&it, &raw, &v.hdr);
			while ((ret = record_iter_next(&it, r)) == 1)
				;
		}
	}
	if (!r || ret)
		die("verify", r ? ret : -CUSTOS_ERR_NOMEM);
	t0 = now_s() - t0;
	buf_free(&sb);
	buf_free(&raw);
	free(r);
	return t0;
}

/* Ingest envs[0..n) into g, committing every `group` batches (what serve
 * does once per epoll wakeup), and when last is set committing the index
 * too (what serve does when it goes idle, or at shutdown); returns the
 * seconds it took. */
static double ingest_all(struct ingest *g, struct buf *envs, uint64_t n, uint64_t group,
			 int last)
{
	char why[512];
	struct buf ack;
	double t0 = now_s();
	int ret;

	buf_init(&ack, 512);
	for (uint64_t i = 0; i < n; i++) {
		buf_reset(&ack);
		ret = ingest_stage(g, envs[i].data, envs[i].len, &ack, why, sizeof(why));
		if (ret == 0 && ((i + 1) % group == 0 || i + 1 == n))
			ret = ingest_commit(g);
		if (ret != 0) {
			fprintf(stderr, "bench_collector: batch %llu: %s\n", (unsigned long long)i,
				why[0] ? why : custos_strerror(ret));
			exit(1);
		}
	}
	if (last && ingest_flush(g) != 0)
		die("index commit", -CUSTOS_ERR_IO);
	buf_free(&ack);
	return now_s() - t0;
}

/* One side of the comparison: a state directory, the batches sealed to
 * its key, how it commits, whether it triages, the time it took. */
struct side {
	const char *name;
	struct ingest g;
	struct buf *envs;
	uint64_t group;
	struct triage *tri;
	double t, cpu;
	double quarter[4], qcpu[4], qrec[4];	/* wall, CPU, records: each fourth of the batches */
};

/* Copies of envs[0..n) (sealed to coll) sealed to the key of g. */
static struct buf *reseal(const struct buf *envs, uint64_t n, const struct custos_keypair *coll,
			  const struct ingest *g)
{
	struct buf *out = calloc(n, sizeof(*out)), sb;

	if (!out)
		die("memory", -CUSTOS_ERR_NOMEM);
	buf_init(&sb, CUSTOS_SIGNED_MAX);
	for (uint64_t i = 0; i < n; i++) {
		buf_reset(&sb);
		buf_init(&out[i], CUSTOS_SEALED_MAX);
		if (seal_open(envs[i].data, envs[i].len, coll, &sb) ||
		    seal_batch(sb.data, sb.len, &g->ks.kp.pub, &out[i]))
			die("reseal", -CUSTOS_ERR_SEAL);
	}
	buf_free(&sb);
	return out;
}

/* Phases 1-3, interleaved round by round (G batches each) so that a
 * machine shared with other work slows them alike: verify only, ingest
 * one batch per commit, ingest G per commit, the same with triage (each
 * side only when o->sides has its bit). */
static void phases(const char *work, struct buf *envs, const struct custos_keypair *coll,
		   const struct custos_keypair *host, struct triage *tri, const struct opts *o)
{
	struct side sd[3] = { { "one", .group = 1 }, { "off", .group = o->group },
			      { "on", .group = o->group, .tri = tri } };
	double tv = 0, recs = (double)(o->batches * o->records), nb = (double)o->batches, w, c;
	char d[4200];

	for (int k = 0; k < 3; k++) {
		if (k != 1 && !(o->sides & 1u << k))
			continue;
		snprintf(d, sizeof(d), "%s/%s", work, sd[k].name);
		if (k != 1)	/* "off" exists: its key sealed the batches */
			make_state(d, host, work);
		if (ingest_open(&sd[k].g, d, sd[k].tri))
			die(d, -CUSTOS_ERR_IO);
		sd[k].envs = k == 1 ? envs : reseal(envs, o->batches, coll, &sd[k].g);
	}
	for (uint64_t i = 0; i < o->batches; i += o->group) {
		uint64_t n = o->batches - i < o->group ? o->batches - i : o->group;
		tv += verify_only(envs + i, n, coll, host);
		for (int k = 0; k < 3; k++) {
			if (!(o->sides & 1u << k))
				continue;
			c = cpu_s();
			w = ingest_all(&sd[k].g, sd[k].envs + i, n, sd[k].group,
				       i + n == o->batches);
			c = cpu_s() - c;
			sd[k].cpu += c;
			sd[k].qcpu[i * 4 / o->batches] += c;
			sd[k].t += w;
			sd[k].quarter[i * 4 / o->batches] += w;
			sd[k].qrec[i * 4 / o->batches] += (double)(n * o->records);
		}
	}
	printf("verify only (baseline):                   %6.0f batches/s %9.0f records/s\n",
	       nb / tv, recs / tv);
	for (int k = 0; k < 3; k++) {
		if (!(o->sides & 1u << k)) {
			if (k == 1)
				ingest_close(&sd[k].g);
			continue;
		}
		printf("ingest, triage %-3s %4llu batch(es) per commit: %6.0f batches/s %9.0f records/s"
		       "  (%.2f x the baseline's time)\n", sd[k].tri ? "on," : "off,",
		       (unsigned long long)sd[k].group, nb / sd[k].t, recs / sd[k].t, sd[k].t / tv);
		printf("    CPU time %.2f s (%.0f records per CPU second); by fourth of the batches: "
		       "records/s", sd[k].cpu, recs / sd[k].cpu);
		for (int f = 0; f < 4; f++)
			if (sd[k].qrec[f] > 0)
				printf(" %.0f", sd[k].qrec[f] / sd[k].quarter[f]);
		printf(", records per CPU second");
		for (int f = 0; f < 4; f++)
			if (sd[k].qrec[f] > 0)
				printf(" %.0f", sd[k].qrec[f] / sd[k].qcpu[f]);
		printf("\n");
		ingest_close(&sd[k].g);
		if (k != 1) {
			for (uint64_t i = 0; i < o->batches; i++)
				buf_free(&sd[k].envs[i]);
			free(sd[k].envs);
		}
	}
	if ((o->sides & 3u) == 3u)
		printf("group commit: %.2f x the throughput of one batch per commit\n",
		       sd[0].t / sd[1].t);
	if ((o->sides & 6u) == 6u)
		printf("triage on / off throughput: %.2f (triage costs %.0f %% of ingest throughput; "
		       "issue 6's goal: under 20 %%)\n", sd[1].t / sd[2].t,
		       100.0 * (1.0 - sd[1].t / sd[2].t));
}

struct page {
	unsigned rows;
};

static int count_row(void *ctx, const struct store_row *r)
{
	struct page *p = ctx;

	(void)r;
	return ++p->rows >= PAGE;
}

/* Median of k timings of the first page of q. */
static double first_page(struct store *s, const struct store_query *q, unsigned *rows)
{
	double t[7], tmp;
	struct page p;

	for (int i = 0; i < 7; i++) {
		p.rows = 0;
		t[i] = now_s();
		if (store_timeline(s, q, count_row, &p) < 0)
			die("timeline", -CUSTOS_ERR_IO);
		t[i] = now_s() - t[i];
		*rows = p.rows;
	}
	for (int i = 0; i < 7; i++)
		for (int j = i + 1; j < 7; j++)
			if (t[j] < t[i])
				tmp = t[i], t[i] = t[j], t[j] = tmp;
	return t[3];
}

static void query_phase(const char *work, struct gen *gen, const struct opts *o)
{
	char dir[4200], path[4300];
	struct ingest g;
	struct store *s;
	struct store_query q;
	struct buf *env = calloc(o->group, sizeof(*env));
	uint64_t total = o->query_records, per = o->records, done = 0;
	double t0 = now_s(), ting = 0, tq;
	unsigned rows;
	int ret;

	if (!env)
		die("memory", -CUSTOS_ERR_NOMEM);
	snprintf(dir, sizeof(dir), "%s/query", work);
	make_state(dir, &gen->host, work);
	ret = ingest_open(&g, dir, NULL);
	if (ret)
		die(dir, ret);
	gen->coll = g.ks.kp.pub;
	gen->seq = 0;
	memset(gen->prev, 0, sizeof(gen->prev));
	for (uint64_t k = 0; k < o->group; k++)
		buf_init(&env[k], CUSTOS_SEALED_MAX);
	while (done < total) {
		uint64_t k = 0;
		for (; k < o->group && done < total; k++) {
			uint64_t c = total - done < per ? total - done : per;
			buf_reset(&env[k]);
			gen_batch(gen, done, c, total, HOUR_NS, &env[k]);
			done += c;
		}
		ting -= now_s();
		ingest_all(&g, env, k, o->group, done == total);
		ting += now_s();
	}
	for (uint64_t k = 0; k < o->group; k++)
		buf_free(&env[k]);
	free(env);
	ingest_close(&g);
	printf("query store: %llu records (one host, one hour) built in %.1f s (ingest %.1f s, "
	       "%.0f records/s; the rest making the batches)\n", (unsigned long long)total,
	       now_s() - t0, ting, (double)total / ting);
	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	if ((ret = store_open(path, 1, &s)))
		die(path, ret);
	memset(&q, 0, sizeof(q));
	memcpy(q.host_id, gen->host.pub.sign_pk, KEYS_SIGN_PK_LEN);
	q.from_ns = OFFSET_NS + 1000000000ll + (int64_t)(HOUR_NS / 2);
	q.to_ns = q.from_ns + 600000000000ll;
	tq = first_page(s, &q, &rows);
	printf("timeline, ten-minute window: first page (%u rows) in %.2f ms (median of 7)\n", rows,
	       tq * 1e3);
	q.has_pid = q.tree = 1;
	q.pid = 907;
	tq = first_page(s, &q, &rows);
	printf("timeline, process tree of pid %llu in that window: first page (%u rows) in %.2f ms "
	       "(median of 7)\n", (unsigned long long)q.pid, rows, tq * 1e3);
	q.tree = 0;
	q.pid = 1007;
	tq = first_page(s, &q, &rows);
	printf("timeline, pid %llu in that window: first page (%u rows) in %.2f ms (median of 7)\n",
	       (unsigned long long)q.pid, rows, tq * 1e3);
	store_close(s);
}

static void usage(void)
{
	fprintf(stderr, "Usage: bench_collector [--batches N] [--records R] [--query-records M] "
		"[--group G] [--rules DIR] [--dir DIR] [--skip-query] [--sides one,off,on]\n");
	exit(2);
}

/* --sides: a comma-separated list of one, off, on (phases()). */
static unsigned parse_sides(const char *arg)
{
	static const char *const names[] = { "one", "off", "on" };
	unsigned bits = 0;
	size_t len;
	int k;

	while (*arg) {
		len = strcspn(arg, ",");
		for (k = 0; k < 3 && (strlen(names[k]) != len || strncmp(arg, names[k], len)); k++)
			;
		if (k == 3)
			usage();
		bits |= 1u << k;
		arg += len + (arg[len] == ',');
	}
	if (!bits)
		usage();
	return bits;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "batches", required_argument, NULL, 'b' }, { "records", required_argument, NULL, 'r' },
		{ "query-records", required_argument, NULL, 'q' },
		{ "rules", required_argument, NULL, 'R' }, { "dir", required_argument, NULL, 'd' },
		{ "skip-query", no_argument, NULL, 's' }, { "group", required_argument, NULL, 'g' },
		{ "sides", required_argument, NULL, 'S' }, { 0, 0, 0, 0 } };
	uint64_t *v;
	char *end;
	int c;

	*o = (struct opts){ 500, 1000, 10000000, 32, "collector/rules", NULL, 0, 7 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		v = c == 'b' ? &o->batches : c == 'r' ? &o->records : c == 'q' ? &o->query_records
			: c == 'g' ? &o->group : NULL;
		if (v) {
			if (optarg[0] < '0' || optarg[0] > '9')
				usage();
			*v = strtoull(optarg, &end, 10);
			if (*end || !*v || *v > 100000000000ull)
				usage();
		} else if (c == 'R') {
			o->rules = optarg;
		} else if (c == 'd') {
			o->dir = optarg;
		} else if (c == 's') {
			o->skip_query = 1;
		} else if (c == 'S') {
			o->sides = parse_sides(optarg);
		} else {
			usage();
		}
	}
	if (optind != argc || o->records > 100000 || o->batches < 2)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o;
	struct gen gen;
	struct custos_keypair coll;
	struct triage *tri = NULL;
	struct buf *envs;
	char work[4096], cmd[4200];
	double tgen;
	uint64_t recs;

	parse(argc, argv, &o);
	recs = o.batches * o.records;
	if (custos_init())
		return 1;
	snprintf(work, sizeof(work), "%s/custos-bench-coll.XXXXXX",
		 o.dir ? o.dir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(work))
		die(work, -CUSTOS_ERR_IO);
	memset(&gen, 0, sizeof(gen));
	gen.r = malloc(sizeof(*gen.r));
	envs = calloc(o.batches, sizeof(*envs));
	if (!gen.r || !envs)
		die("memory", -CUSTOS_ERR_NOMEM);
	batch_builder_init(&gen.bb);
	keys_generate(&gen.host);

	/* One directory's collector key seals every batch: make it first. */
	{
		char d[4200];
		struct ingest g;
		snprintf(d, sizeof(d), "%s/off", work);
		make_state(d, &gen.host, work);
		if (ingest_open(&g, d, NULL))
			die(d, -CUSTOS_ERR_IO);
		coll = g.ks.kp;
		ingest_close(&g);
	}
	if (triage_open(o.rules, &tri))
		die(o.rules, -CUSTOS_ERR_IO);
	gen.coll = coll.pub;
	tgen = now_s();
	for (uint64_t i = 0; i < o.batches; i++) {
		buf_init(&envs[i], CUSTOS_SEALED_MAX);
		gen_batch(&gen, i * o.records, o.records, recs, HOUR_NS / 10, &envs[i]);
	}
	tgen = now_s() - tgen;
	printf("batches: %llu of %llu records, %.1f sealed bytes per record (made in %.1f s)\n",
	       (unsigned long long)o.batches, (unsigned long long)o.records,
	       (double)envs[0].len / (double)o.records, tgen);
	phases(work, envs, &coll, &gen.host, tri, &o);
	for (uint64_t i = 0; i < o.batches; i++)
		buf_free(&envs[i]);
	free(envs);
	if (!o.skip_query)
		query_phase(work, &gen, &o);
	triage_close(tri);
	batch_builder_free(&gen.bb);
	free(gen.r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_collector: could not remove %s\n", work);
	return 0;
}
