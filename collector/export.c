/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export: `custos-collector export`, the court bundle of one case
 * (docs/export.md): the archived signed batches of the requested hosts
 * whose records overlap the requested time range (whole batches, bit for
 * bit), an inclusion proof of each against a checkpoint signed now, a
 * consistency proof from the oldest earlier checkpoint that already held
 * them, the chain-of-custody event log with this export recorded in it,
 * the timeline and gaps they decode to (common/bundle_timeline.c), then
 * keys, README, manifest and tar (export_files.c).
 *
 * When no collector runs it takes the directory's writer lock and signs
 * a tree head now. Beside a running collector (the lock is held) it
 * proves against the latest tree head the collector signed
 * (custody/checkpoint) and reads only the leaves that head covers, which
 * the log's append-only invariant keeps unchanged (custody.h invariants 1,
 * 2); the export event is appended under the event log's own flock.
 * The output directory must not exist;
 * on failure it is left as it is, incomplete and without manifest.sig,
 * so it can never pass for a bundle.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "bundle.h"
#include "checkpoint.h"
#include "collector.h"
#include "custody.h"
#include "error.h"
#include "export.h"
#include "export_obs.h"

struct exp {
	struct export_req *r;
	struct keystore *ks;
	struct custody *c;
	struct checkpoint cp;
	json_t *batches, *covered;
	uint64_t max_leaf;
	struct bundle_derive d;
	struct export_obs obs;	/* case.jsonld, CSIRT profile (export_obs.h) */
	int live;		/* a collector is running: read-only on custody */
};

static int wanted(const struct exp *e, const struct batch_view *v)
{
	int64_t first = (int64_t)v->hdr.first_ts_ns + v->hdr.clock_offset_ns;
	int64_t last = (int64_t)v->hdr.last_ts_ns + v->hdr.clock_offset_ns;

	if (last < e->r->from_ns || first > e->r->to_ns)
		return -1;
	for (size_t i = 0; i < e->r->nhosts; i++)
		if (memcmp(v->hdr.host_id, e->r->host_ids[i], KEYS_SIGN_PK_LEN) == 0)
			return (int)i;
	return -1;
}

static json_t *hexs(const uint8_t *p, size_t n)
{
	char h[2 * MERKLE_HASH_LEN + 1];

	return json_string(sodium_bin2hex(h, sizeof(h), p, n));
}

/* The per-host covered range: first/last seq and wall time. */
static void cover(struct exp *e, const char *host, const struct batch_view *v)
{
	json_t *h = json_object_get(e->covered, host);
	char t0[48], t1[48];

	bundle_fmt_time((int64_t)v->hdr.first_ts_ns + v->hdr.clock_offset_ns, t0, sizeof(t0));
	bundle_fmt_time((int64_t)v->hdr.last_ts_ns + v->hdr.clock_offset_ns, t1, sizeof(t1));
	if (!h) {
		h = json_pack("{s:I,s:s,s:I}", "first_seq", (json_int_t)v->hdr.seq, "first_time",
			      t0, "batches", (json_int_t)0);
		json_object_set_new(e->covered, host, h);
	}
	json_object_set_new(h, "last_seq", json_integer((json_int_t)v->hdr.seq));
	json_object_set_new(h, "last_time", json_string(t1));
	json_object_set_new(h, "batches", json_integer(json_integer_value(
		json_object_get(h, "batches")) + 1));
}

static int take(struct exp *e, uint64_t i, const struct buf *b, const struct batch_view *v,
		const char *host)
{
	struct merkle_leaves lv = { (const uint8_t (*)[MERKLE_HASH_LEN])e->c->hash, e->c->size };
	uint8_t path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	char file[96];
	json_t *o, *p = json_array();
	size_t len;
	int ret;

	ret = merkle_inclusion_proof(merkle_leaves_get, &lv, i, e->cp.size, path, &len);
	bundle_batch_file(i, file);
	if (!ret)
		ret = export_write(e->r->out, file, b->data, b->len);
	for (size_t k = 0; !ret && k < len; k++)
		json_array_append_new(p, hexs(path[k], MERKLE_HASH_LEN));
	o = json_pack("{s:s,s:s,s:I,s:I,s:o,s:o,s:o}", "file", file, "host", host, "leaf",
		      (json_int_t)i, "seq", (json_int_t)v->hdr.seq, "leaf_hash",
		      hexs(e->c->hash[i], MERKLE_HASH_LEN), "batch_hash",
		      hexs(v->hash, CUSTOS_HASH_LEN), "inclusion_path", p);
	if (!ret && (!o || json_array_append_new(e->batches, o)))
		ret = -CUSTOS_ERR_NOMEM;
	if (!ret) {
		cover(e, host, v);
		e->max_leaf = i;
	}
	return ret;
}

/* Every leaf of the signed tree: keep the requested hosts' batches that
 * overlap the range, verified as at ingest. */
static int select_batches(struct exp *e)
{
	struct buf b, raw;
	struct batch_view v;
	uint64_t recv;
	int ret = 0, h;

	buf_init(&b, CUSTOS_SIGNED_MAX);
	buf_init(&raw, CUSTOS_RAW_MAX);
	for (uint64_t i = 0; !ret && i < e->cp.size; i++) {
		ret = custody_read(e->c, i, &b, &recv);
		if (ret) {
			coll_log("export: leaf %llu: %s", (unsigned long long)i, custos_strerror(ret));
			break;
		}
		if (batch_parse(b.data, b.len, &v) != 0 || (h = wanted(e, &v)) < 0)
			continue;
		ret = batch_verify(b.data, b.len, keystore_known, e->ks, &v, &raw);
		if (ret)
			coll_log("export: leaf %llu: the archived batch does not verify: %s",
				 (unsigned long long)i, custos_strerror(ret));
		if (!ret)
			ret = take(e, i, &b, &v, e->r->hosts[h]);
		if (!ret)
			ret = bundle_derive_batch(&e->d, e->r->hosts[h], i, &v, &raw);
		if (!ret)
			ret = export_obs_batch(&e->obs, e->r->hosts[h], i, &b, &v, &raw);
		export_progress(i + 1, e->cp.size, json_array_size(e->batches));
	}
	buf_free(&b);
	buf_free(&raw);
	return ret;
}

/* The oldest checkpoint in custody/checkpoints whose tree holds every
 * exported leaf. OUT: first (its note). Returns 1 found, 0 none, or <0. */
static int oldest_covering(struct exp *e, struct buf *first, struct checkpoint *fc)
{
	char path[COLL_PATH_MAX];
	static const char sigline[] = "\xe2\x80\x94 ";
	FILE *f;
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	int state = 0, found = 0;	/* state: body lines seen (0-3), 4 blank, 5 sigs */

	if (coll_path(path, e->r->dir, "custody/checkpoints") || !(f = fopen(path, "r")))
		return 0;
	buf_reset(first);
	while (!found && (n = getline(&text, &cap, f)) > 0) {
		int is_sig = strncmp(text, sigline, strlen(sigline)) == 0;

		if (state == 5 && !is_sig) {
			if (checkpoint_verify(first->data, first->len, e->ks->logname,
					      e->ks->kp.pub.sign_pk, fc) == 0 &&
			    fc->size > e->max_leaf)
				found = 1;
			else
				buf_reset(first);
			state = 0;
		}
		if (found)
			break;
		state = state < 4 ? state + 1 : (state == 4 || is_sig) ? 5 : state;
		if (buf_put(first, text, (size_t)n))
			break;
	}
	if (!found && state == 5 &&
	    checkpoint_verify(first->data, first->len, e->ks->logname, e->ks->kp.pub.sign_pk,
			      fc) == 0 && fc->size > e->max_leaf)
		found = 1;
	free(text);
	fclose(f);
	return found;
}

static int write_proofs(struct exp *e)
{
	struct merkle_leaves lv = { (const uint8_t (*)[MERKLE_HASH_LEN])e->c->hash, e->c->size };
	uint8_t path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct checkpoint fc;
	struct buf first;
	json_t *doc, *cons = json_null(), *pa;
	char *text;
	size_t len;
	int ret = 0;

	buf_init(&first, CHECKPOINT_MAX);
	if (json_array_size(e->batches) && oldest_covering(e, &first, &fc) == 1) {
		ret = merkle_consistency_proof(merkle_leaves_get, &lv, fc.size, e->cp.size, path,
					       &len);
		pa = json_array();
		for (size_t k = 0; !ret && k < len; k++)
			json_array_append_new(pa, hexs(path[k], MERKLE_HASH_LEN));
		cons = json_pack("{s:I,s:o}", "first_size", (json_int_t)fc.size, "path", pa);
		if (!ret)
			ret = export_write(e->r->out, "custody/checkpoint-first", first.data,
					   first.len);
	}
	doc = json_pack("{s:I,s:O,s:o}", "tree_size", (json_int_t)e->cp.size, "batches",
			e->batches, "consistency", cons);
	text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	if (!ret)
		ret = text ? export_write(e->r->out, "custody/proofs.json", text, strlen(text))
			   : -CUSTOS_ERR_NOMEM;
	free(text);
	json_decref(doc);
	buf_free(&first);
	return ret;
}

/* Record the export in the event log, then copy the whole log (its hash
 * chain needs every entry). */
static int record_export(struct exp *e)
{
	char path[COLL_PATH_MAX], from[48], to[48];
	json_t *ev, *hosts = json_array();
	FILE *f;
	char *text = NULL;
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < e->r->nhosts; i++)
		json_array_append_new(hosts, json_string(e->r->hosts[i]));
	bundle_fmt_time(e->r->from_ns, from, sizeof(from));
	bundle_fmt_time(e->r->to_ns, to, sizeof(to));
	ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:I,s:I}", "action", "export", "case",
		       e->r->case_id, "reason", e->r->reason, "legal_basis", e->r->legal_basis,
		       "requester", e->r->requester, "hosts", hosts, "from", from, "to", to,
		       "batches", (json_int_t)json_array_size(e->batches), "tree_size",
		       (json_int_t)e->cp.size);
	if (!ev)
		return -CUSTOS_ERR_NOMEM;
	ret = keystore_event_append(e->ks, ev);
	if (ret || coll_path(path, e->r->dir, "custody/events.jsonl"))
		return ret ? ret : -CUSTOS_ERR_INVAL;
	f = fopen(path, "r");
	if (!f)
		return -CUSTOS_ERR_IO;
	ret = -CUSTOS_ERR_IO;
	text = malloc((size_t)e->ks->events_read + 1);
	if (text && fread(text, 1, (size_t)e->ks->events_read, f) == (size_t)e->ks->events_read) {
		n = (size_t)e->ks->events_read;
		ret = export_write(e->r->out, "custody/events.jsonl", text, n);
	}
	free(text);
	fclose(f);
	return ret;
}

static int derived_files(struct exp *e)
{
	char *gaps = NULL;
	int ret = bundle_derive_gaps(&e->d, &gaps);

	if (!ret)
		ret = export_write(e->r->out, "gaps.json", gaps, strlen(gaps));
	free(gaps);
	return ret;
}

/* The latest signed tree head, read as the running collector wrote it. */
static int latest_head(struct exp *e, struct buf *note)
{
	char path[COLL_PATH_MAX];
	FILE *f;
	size_t n;

	if (buf_reserve(note, CHECKPOINT_MAX))
		return -CUSTOS_ERR_NOMEM;
	if (coll_path(path, e->r->dir, "custody/checkpoint") || !(f = fopen(path, "rb")))
		return -CUSTOS_ERR_IO;
	n = fread(note->data, 1, CHECKPOINT_MAX, f);
	fclose(f);
	note->len = n;
	return 0;
}

static int sign_now(struct exp *e, struct buf *note)
{
	int ret = e->live ? latest_head(e, note)
			  : custody_checkpoint(e->c, e->ks->logname, &e->ks->kp, 1, note);

	if (ret < 0)
		return ret;
	ret = checkpoint_verify(note->data, note->len, e->ks->logname, e->ks->kp.pub.sign_pk,
				&e->cp);
	if (!ret && e->live)
		ret = custody_open_readonly(e->c, e->r->dir, e->cp.size);
	return ret ? ret : export_write(e->r->out, "custody/checkpoint", note->data, note->len);
}

static int open_out(const char *out, FILE **jl, FILE **csv)
{
	static const char *const sub[] = { "", "/evidence", "/keys", "/custody" };
	char p[COLL_PATH_MAX];

	for (size_t i = 0; i < 4; i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s%s", out, sub[i]) >= sizeof(p) ||
		    mkdir(p, 0755) != 0) {
			coll_log("export: cannot create %s: %s", p, strerror(errno));
			return -CUSTOS_ERR_IO;
		}
	}
	snprintf(p, sizeof(p), "%s/timeline.jsonl", out);
	*jl = fopen(p, "wx");
	snprintf(p, sizeof(p), "%s/timeline.csv", out);
	*csv = fopen(p, "wx");
	return *jl && *csv ? 0 : -CUSTOS_ERR_IO;
}

static int run(struct exp *e)
{
	FILE *jl = NULL, *csv = NULL;
	struct buf note;
	int ret;

	buf_init(&note, CHECKPOINT_MAX);
	ret = open_out(e->r->out, &jl, &csv);
	if (!ret)
		ret = bundle_derive_init(&e->d, e->r->from_ns, e->r->to_ns, jl, csv);
	if (!ret)
		ret = export_obs_init(&e->obs, e->r->from_ns, e->r->to_ns);
	if (!ret)
		ret = sign_now(e, &note);
	if (!ret)
		ret = select_batches(e);
	if (jl && fclose(jl) != 0)
		ret = ret ? ret : -CUSTOS_ERR_IO;
	if (csv && fclose(csv) != 0)
		ret = ret ? ret : -CUSTOS_ERR_IO;
	if (!ret)
		ret = derived_files(e);
	if (!ret)	/* alerts.json, incidents.json (export_findings.c) */
		ret = export_findings(e->r, e->ks);
	if (!ret)
		ret = export_more(e->r, e->ks, &e->obs);
	/* The CSIRT profile before anything is recorded or signed: when it
	 * fails there is no custody entry, no manifest.sig and no tar, and
	 * the exit status says the export failed (docs/export.md). */
	if (!ret && e->r->csirt)
		ret = export_csirt(e->r, e->ks->logname, &e->obs);
	if (!ret)
		ret = write_proofs(e);
	if (!ret)
		ret = export_keys(e->r, e->ks);
	if (!ret)
		ret = record_export(e);
	if (!ret)
		ret = export_readme(e->r);
	if (!ret)
		ret = export_manifest(e->r, e->ks, e->covered);
	if (!ret)
		ret = export_tar(e->r);
	buf_free(&note);
	return ret;
}

static int resolve(struct export_req *r, const struct keystore *ks)
{
	for (size_t i = 0; i < r->nhosts; i++) {
		size_t k;

		for (k = 0; k < ks->count && strcmp(ks->hosts[k].name, r->hosts[i]) != 0; k++)
			;
		if (k == ks->count) {
			coll_log("export: no host named '%s' was ever enrolled", r->hosts[i]);
			return -CUSTOS_ERR_INVAL;
		}
		memcpy(r->host_ids[i], ks->hosts[k].pk.sign_pk, KEYS_SIGN_PK_LEN);
	}
	return 0;
}

static int export_with(struct export_req *r, int live)
{
	struct keystore ks;
	struct custody c = { .fd = -1, .ar.fd = -1 };
	struct exp e = { .r = r, .ks = &ks, .c = &c, .live = live };
	int ret = keystore_open(&ks, r->dir, 1);

	if (ret) {
		coll_log("export: %s: %s", r->dir, custos_strerror(ret));
		return ret;
	}
	ret = resolve(r, &ks);
	if (!ret && !live)
		ret = custody_open(&c, r->dir);
	if (!ret) {
		e.batches = json_array();
		e.covered = json_object();
		ret = run(&e);
	}
	custody_close(&c);
	if (!ret)
		printf("export: case %s: %zu batches, written %s and %s.tar\n", r->case_id,
		       json_array_size(e.batches), r->out, r->out);
	else
		coll_log("export: failed: %s (%s left incomplete, without manifest.sig)",
			 custos_strerror(ret), r->out);
	json_decref(e.batches);
	json_decref(e.covered);
	bundle_derive_free(&e.d);
	export_obs_free(&e.obs);
	keystore_close(&ks);
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "Usage: custos-collector export [--dir DIR] --case ID --host NAME "
		"[--host NAME ...] --from TIME --to TIME --reason TEXT --legal-basis TEXT "
		"--requester NAME [--tlp LEVEL] [--receipts DIR] [--profile csirt "
		"[--pseudonym-key FILE | --no-pseudonymise]] --out OUTDIR\n"
		"Writes OUTDIR (which must not exist) and OUTDIR.tar; docs/export.md.\n"
		"--profile csirt also writes OUTDIR-csirt/ (STIX 2.1, MISP) for sharing.\n"
		"TIME: ISO 8601 (2025-11-22T02:00:00Z) or Unix seconds.\n");
	return COLL_EXIT_USAGE;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "case", required_argument, NULL, 'c' },
		{ "host", required_argument, NULL, 'H' }, { "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' }, { "reason", required_argument, NULL, 'r' },
		{ "legal-basis", required_argument, NULL, 'l' },
		{ "requester", required_argument, NULL, 'q' }, { "tlp", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ "profile", required_argument, NULL, 'P' },
		{ "pseudonym-key", required_argument, NULL, 'K' },
		{ "no-pseudonymise", no_argument, NULL, 'N' },
		{ "receipts", required_argument, NULL, 'R' },
		{ 0, 0, 0, 0 } };
	struct export_req r = { .dir = coll_default_dir() };
	const char *from = NULL, *to = NULL;
	int c, bad = 0, lock, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': r.dir = optarg; break;
		case 'c': r.case_id = optarg; break;
		case 'H':
			if (r.nhosts == EXPORT_HOSTS_MAX)
				bad = 1;
			else
				r.hosts[r.nhosts++] = optarg;
			break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'r': r.reason = optarg; break;
		case 'l': r.legal_basis = optarg; break;
		case 'q': r.requester = optarg; break;
		case 'T': r.tlp = optarg; break;
		case 'o': r.out = optarg; break;
		case 'P': r.csirt = strcmp(optarg, "csirt") == 0; bad |= !r.csirt; break;
		case 'K': r.pseudo_key = optarg; break;
		case 'N': r.no_pseudonymise = 1; break;
		case 'R': r.receipts = optarg; break;
		default: bad = 1;
		}
	}
	if (bad || optind != argc || !r.case_id || !r.nhosts || !from || !to || !r.reason ||
	    !r.legal_basis || !r.requester || !r.out || coll_parse_time(from, 0, &r.from_ns) ||
	    coll_parse_time(to, 0, &r.to_ns) || r.from_ns > r.to_ns || !r.case_id[0] ||
	    export_check_options(&r))
		return usage();
	r.created_ns = coll_now_ns();
	lock = coll_lock_dir(r.dir);
	if (lock < 0 && lock != -CUSTOS_ERR_EXISTS) {
		coll_log("export: %s: %s", r.dir, custos_strerror(lock));
		return COLL_EXIT_FAIL;
	}
	if (lock < 0)
		coll_log("export: a collector is running: proving against its latest signed tree "
			 "head (custody/checkpoint)");
	ret = export_with(&r, lock < 0);
	if (lock >= 0)
		close(lock);
	return ret ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
