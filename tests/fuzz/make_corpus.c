/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the seed corpus of the fuzz targets: valid inputs that take each
 * target past its first checks, so fuzzing starts from deep inside.
 *
 *   corpus/fuzz_batch/    signed batches (one record, every kind of a
 *                         family, every kind, many records, edge values),
 *                         signed by the host key of fuzzkeys.h, and sealed
 *                         envelopes of some, sealed to its collector key
 *   corpus/fuzz_records/  the same records as bare CBOR record sequences
 *   corpus/fuzz_checkpoint/  checkpoint notes signed by the collector key
 *                         of fuzzkeys.h (empty tree, one leaf, the largest
 *                         size, with a witness's cosignature and a line of
 *                         the log's name under another key)
 *   corpus/fuzz_wire/     a frame stream (a BATCH frame holding the sealed
 *                         one-record batch, then an ACK frame for it), two
 *                         ACK frames and the start of a third, and bare
 *                         signed acks, signed by the collector key
 *
 * Not built by the Makefile. From the top of the tree:
 *
 *   make build/libcustos.a
 *   gcc -std=gnu11 -Wall -Wextra -Icommon tests/fuzz/make_corpus.c build/libcustos.a \
 *       -lsodium -lcbor -lz -o build/make_corpus
 *   build/make_corpus tests/fuzz/corpus
 *
 * The output is deterministic (libsodium's random source is replaced by a
 * fixed stream, for the ephemeral keys of the sealed boxes), so running it
 * again rewrites the same bytes and the kept corpus only changes when the
 * format does. It overwrites its own files and leaves other files alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>

#include "ack.h"
#include "batch.h"
#include "checkpoint.h"
#include "error.h"
#include "frame.h"
#include "keys.h"
#include "merkle.h"
#include "record.h"
#include "seal.h"
#include "fuzzkeys.h"

/* --- a deterministic random source ------------------------------------- */

static uint64_t rng_calls;

static void rng_buf(void *p, size_t n)
{
	uint8_t seed[randombytes_SEEDBYTES] = "custos make_corpus fixed seed";

	memcpy(seed + randombytes_SEEDBYTES - sizeof(rng_calls), &rng_calls, sizeof(rng_calls));
	rng_calls++;
	randombytes_buf_deterministic(p, n, seed);
}

static uint32_t rng_random(void)
{
	uint32_t v;

	rng_buf(&v, sizeof(v));
	return v;
}

static const char *rng_name(void)
{
	return "make_corpus";
}

static struct randombytes_implementation fixed_rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

/* --- records ------------------------------------------------------------ */

static void set(uint8_t *dst, uint32_t *len, size_t cap, const char *s)
{
	record_set_bytes(dst, len, cap, s);
}

static void fill_subject(struct custos_subject *s, uint64_t pid)
{
	s->pid = pid;
	s->tid = pid + 1;
	s->ppid = 1;
	s->uid = 1000;
	s->gid = 1000;
	s->euid = pid % 2 ? 0 : 1000;
	s->loginuid = 4294967295u;
	s->sessionid = 3;
	set(s->comm, &s->comm_len, CUSTOS_COMM_MAX, "bash");
	s->cgroup_id = 0x2f1a;
	s->pidns = 4026531836ull;
	s->mntns = 4026531841ull;
}

static void fill_exec(struct custos_exec *e, uint64_t kind)
{
	static const char argv[] = "/usr/bin/curl\0-s\0http://203.0.113.9/x.sh\0";

	set(e->filename, &e->filename_len, CUSTOS_PATH_MAX, "curl");
	set(e->exe, &e->exe_len, CUSTOS_PATH_MAX, "/usr/bin/curl");
	e->argc = 3;
	memcpy(e->argv, argv, sizeof(argv) - 1);
	e->argv_len = sizeof(argv) - 1;
	e->argv_count = 3;
	set(e->cwd, &e->cwd_len, CUSTOS_PATH_MAX, "/tmp");
	e->exe_dev = 0x801;
	e->exe_ino = 393219;
	e->exe_mode = 0104755;
	e->start_ns = 5000;
	if (kind == CUSTOS_REC_SNAPSHOT) {
		memset(e->sha256, 0x5a, sizeof(e->sha256));
		memset(e->build_id, 0xb1, 20);
		e->build_id_len = 20;
		e->hash_status = CUSTOS_HASH_OK;
	} else {
		e->result = -2;
		e->hash_status = CUSTOS_HASH_PENDING;
	}
}

static void fill_file(struct custos_file *f, uint64_t kind)
{
	f->result = kind == CUSTOS_REC_UNLINK ? -13 : 0;
	set(f->path, &f->path_len, CUSTOS_PATH_MAX, "/etc/ld.so.preload");
	set(f->path_raw, &f->path_raw_len, CUSTOS_PATH_MAX, "../etc/ld.so.preload");
	set(f->path2, &f->path2_len, CUSTOS_PATH_MAX, "/etc/ld.so.preload.bak");
	set(f->path2_raw, &f->path2_raw_len, CUSTOS_PATH_MAX, "ld.so.preload.bak");
	f->flags = 01101;
	f->mode = 0644;
	f->owner_uid = 0;
	f->owner_gid = 0;
	f->size = 4096;
	set(f->name, &f->name_len, CUSTOS_NAME_MAX,
	    kind == CUSTOS_REC_MOUNT ? "overlay" : "security.capability");
}

static void fill_net(struct custos_net *n, uint64_t kind)
{
	static const uint8_t v4[] = { 203, 0, 113, 9 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	n->result = kind == CUSTOS_REC_CONNECT ? -115 : 0;	/* EINPROGRESS */
	n->family = kind == CUSTOS_REC_BIND ? 10 : 2;
	n->sock_type = kind == CUSTOS_REC_SEND ? 2 : 1;
	n->protocol = kind == CUSTOS_REC_SEND ? 17 : 6;
	if (n->family == 10) {
		memcpy(n->local_addr, v6, sizeof(v6));
		n->local_addr_len = sizeof(v6);
	} else {
		memset(n->local_addr, 0, 4);
		n->local_addr_len = 4;
	}
	n->local_port = 40000;
	memcpy(n->remote_addr, v4, sizeof(v4));
	n->remote_addr_len = sizeof(v4);
	n->remote_port = 443;
	n->backlog = 128;
	n->op = 1;
}

static void fill_agent(struct custos_agent *a, uint64_t kind)
{
	set(a->version, &a->version_len, CUSTOS_VERSION_MAX, "0.1.0");
	memset(a->config_hash, 0xc0, sizeof(a->config_hash));
	set(a->text, &a->text_len, CUSTOS_CONFIG_MAX,
	    kind == CUSTOS_REC_CONFIG ? "spool_max_mb 512\nheartbeat_s 60\n" : "SIGTERM");
	a->agent_pid = 812;
	a->signal = 15;
	a->source = CUSTOS_LOSS_RINGBUF;
	a->lost_kind = CUSTOS_REC_OPEN;
	a->events = 123456;
	a->losses = 7;
	a->lost = 7;
	a->batches_lost = 1;
	a->spool_batches = 3;
	a->spool_bytes = 65536;
	a->from_ns = 1000;
	a->to_ns = 2000;
	a->offset_old_ns = 1700000000000000000ll;
	a->offset_new_ns = -5;
	a->ntp_synced = 1;
	a->ntp_maxerror_us = 16000;
	a->ntp_esterror_us = 500;
}

/* A record of kind with typical values, deterministic in (kind, i). */
static void fill(struct custos_record *r, uint64_t kind, uint64_t i)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->ts_ns = 1000000 + 1000 * i + kind;
	fill_subject(&r->subj, 400 + i);
	if (kind == CUSTOS_REC_EXEC || kind == CUSTOS_REC_SNAPSHOT) {
		fill_exec(&r->u.exec, kind);
	} else if (kind == CUSTOS_REC_FORK) {
		r->u.fork.child_pid = 500 + i;
		r->u.fork.child_tid = 500 + i;
		r->u.fork.clone_flags = 0x1200011;
		r->u.fork.child_start_ns = r->ts_ns;
	} else if (kind == CUSTOS_REC_EXIT) {
		r->u.exit.code = 0;
		r->u.exit.signal = 9;
		r->u.exit.core_dumped = 1;
		r->u.exit.start_ns = 5000;
	} else if (kind < 32) {
		r->u.sys.result = kind == CUSTOS_REC_PTRACE ? -1 : 3;
		r->u.sys.op = kind;
		r->u.sys.arg0 = 0;
		r->u.sys.arg1 = 0x7fffffffffffffffull;
		r->u.sys.arg2 = 16;
		set(r->u.sys.name, &r->u.sys.name_len, CUSTOS_PATH_MAX, "rootkit.ko");
	} else if (kind < 64) {
		fill_file(&r->u.file, kind);
	} else if (kind < 96) {
		fill_net(&r->u.net, kind);
	} else {
		fill_agent(&r->u.agent, kind);
	}
}

/* A record at the limits: full-size fields, extreme integers, an argv of
 * the most (empty) elements that fit. */
static void fill_edge(struct custos_record *r, uint64_t kind)
{
	fill(r, kind, 0);
	r->ts_ns = UINT64_MAX;
	r->subj.pid = UINT32_MAX;
	r->subj.cgroup_id = UINT64_MAX;
	r->subj.comm_len = CUSTOS_COMM_MAX;
	memset(r->subj.comm, 'c', CUSTOS_COMM_MAX);
	if (kind == CUSTOS_REC_EXEC) {
		r->u.exec.result = INT64_MIN;
		memset(r->u.exec.filename, '/', CUSTOS_PATH_MAX);
		r->u.exec.filename_len = CUSTOS_PATH_MAX;
		memset(r->u.exec.argv, 0, CUSTOS_ARGS_MAX);
		r->u.exec.argv_len = CUSTOS_ARGS_MAX;
		r->u.exec.argv_count = CUSTOS_ARGS_MAX;
		r->u.exec.argc = UINT64_MAX;
		r->u.exec.build_id_len = CUSTOS_BUILD_ID_MAX;
	} else if (kind == CUSTOS_REC_CONFIG) {
		memset(r->u.agent.text, '#', CUSTOS_CONFIG_MAX);
		r->u.agent.text_len = CUSTOS_CONFIG_MAX;
		r->u.agent.text_truncated = 1;
	} else if (kind == CUSTOS_REC_CLOCK_STEP) {
		r->u.agent.offset_old_ns = INT64_MIN;
		r->u.agent.offset_new_ns = INT64_MAX;
	} else if (kind == CUSTOS_REC_CONNECT) {
		memset(r->u.net.remote_addr, 'u', CUSTOS_ADDR_MAX);
		r->u.net.remote_addr_len = CUSTOS_ADDR_MAX;
		r->u.net.family = 1;
	}
}

/* --- output -------------------------------------------------------------- */

static const char *dir;
static int nfiles;

/* The first sealed envelope written, with its batch's hash and sequence
 * number: the BATCH frame of corpus/fuzz_wire and the ack for it. */
static struct buf wire_sealed;
static uint8_t wire_hash[CUSTOS_HASH_LEN];
static uint64_t wire_seq;

static void die(const char *what, int err)
{
	fprintf(stderr, "make_corpus: %s: %s\n", what, custos_strerror(err));
	exit(1);
}

static void write_file(const char *sub, const char *name, const struct buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
		fprintf(stderr, "make_corpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	printf("%6zu %s\n", b->len, path);
	nfiles++;
}

/* A set of records, given as a list of kinds (0-terminated) or a count of
 * records cycling through every kind. */
struct seed_set {
	const char *name;
	const uint64_t *kinds;
	int count;
	int edge;
	int sealed;	/* also write a sealed envelope of the batch */
	int bare;	/* also write the records alone, for fuzz_records */
};

static const uint64_t one_exec[] = { CUSTOS_REC_EXEC, 0 };
static const uint64_t process[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0 };
static const uint64_t file[] = { 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 0 };
static const uint64_t net[] = { 64, 65, 66, 67, 68, 0 };
static const uint64_t agent[] = { 96, 97, 98, 99, 100, 101, 102, 0 };
static const uint64_t edge[] = { CUSTOS_REC_EXEC, CUSTOS_REC_CONFIG, CUSTOS_REC_CLOCK_STEP,
				 CUSTOS_REC_CONNECT, 0 };
static const uint64_t edge_small[] = { CUSTOS_REC_CLOCK_STEP, CUSTOS_REC_CONNECT, 0 };

static const struct seed_set sets[] = {
	{ "exec-1", one_exec, 0, 0, 1, 1 },
	{ "process", process, 0, 0, 0, 1 },
	{ "file", file, 0, 0, 0, 1 },
	{ "net", net, 0, 0, 0, 1 },
	{ "agent", agent, 0, 0, 0, 1 },
	{ "all", NULL, 36, 0, 1, 1 },
	{ "many", NULL, 300, 0, 0, 0 },	/* 30 KB bare: batch only */
	{ "edge", edge, 0, 1, 0, 1 },
};

/* The next kind cycling through every known kind. */
static uint64_t next_kind(uint64_t k)
{
	do
		k = k % 127 + 1;
	while (!record_kind_name(k));
	return k;
}

static void make_set(const struct seed_set *s, const struct custos_keypair *host,
		     const struct custos_pubkey *coll, uint64_t seq, uint8_t prev[CUSTOS_HASH_LEN])
{
	struct custos_record *r = calloc(1, sizeof(*r));
	struct batch_builder b;
	struct batch_header h;
	struct buf signed_batch, sealed, recs;
	char name[128];
	uint64_t kind = 0;
	int ret;

	if (!r)
		die("calloc", -CUSTOS_ERR_NOMEM);
	batch_builder_init(&b);
	buf_init(&signed_batch, CUSTOS_SIGNED_MAX);
	buf_init(&sealed, CUSTOS_SEALED_MAX);
	buf_init(&recs, CUSTOS_RAW_MAX);
	for (int i = 0; s->kinds ? s->kinds[i] != 0 : i < s->count; i++) {
		kind = s->kinds ? s->kinds[i] : next_kind(kind);
		if (s->edge)
			fill_edge(r, kind);
		else
			fill(r, kind, (uint64_t)i);
		ret = batch_builder_add(&b, r);
		if (ret)
			die(s->name, ret);
	}

	memset(&h, 0, sizeof(h));
	memset(h.boot_id, 0xb0, sizeof(h.boot_id));
	h.seq = seq;
	memcpy(h.prev_hash, prev, CUSTOS_HASH_LEN);
	h.clock_offset_ns = 1700000000000000000ll;
	h.sealed_boot_ns = 2000000 + seq;
	h.ntp_synced = 1;
	h.ntp_maxerror_us = 16000;
	h.ntp_esterror_us = 500;
	h.ntp_status = 0x2001;
	if (buf_put(&recs, b.raw.data, b.raw.len) != 0)
		die(s->name, -CUSTOS_ERR_NOMEM);
	ret = batch_sign(&b, &h, host, &signed_batch, prev);	/* chains the next set */
	if (ret)
		die(s->name, ret);
	snprintf(name, sizeof(name), "batch-%s", s->name);
	write_file("fuzz_batch", name, &signed_batch);
	if (s->sealed) {
		ret = seal_batch(signed_batch.data, signed_batch.len, coll, &sealed);
		if (ret)
			die(s->name, ret);
		snprintf(name, sizeof(name), "sealed-%s", s->name);
		write_file("fuzz_batch", name, &sealed);
		if (wire_sealed.len == 0) {
			if (buf_put(&wire_sealed, sealed.data, sealed.len) != 0)
				die(s->name, -CUSTOS_ERR_NOMEM);
			memcpy(wire_hash, prev, CUSTOS_HASH_LEN);
			wire_seq = seq;
		}
	}
	/* Bare records: the full-size edge records only in small company. */
	if (s->edge) {
		buf_reset(&recs);
		for (int i = 0; edge_small[i]; i++) {
			fill_edge(r, edge_small[i]);
			if (record_encode(&recs, r) != 0)
				die(s->name, -CUSTOS_ERR_INVAL);
		}
		fill_edge(r, CUSTOS_REC_EXEC);
		r->u.exec.filename_len = 64;	/* keep the file small */
		if (record_encode(&recs, r) != 0)
			die(s->name, -CUSTOS_ERR_INVAL);
	}
	if (s->bare) {
		snprintf(name, sizeof(name), "records-%s", s->name);
		write_file("fuzz_records", name, &recs);
	}

	buf_free(&recs);
	buf_free(&sealed);
	buf_free(&signed_batch);
	batch_builder_free(&b);
	free(r);
}

/* One file of a single record per kind that the sets above only show
 * inside a batch, so fuzz_records starts from each body schema alone. */
static void make_singles(void)
{
	static const uint64_t kinds[] = { CUSTOS_REC_SNAPSHOT, CUSTOS_REC_MOUNT,
					  CUSTOS_REC_SYMLINK, CUSTOS_REC_SEND, CUSTOS_REC_SOCKET,
					  CUSTOS_REC_LOSS, CUSTOS_REC_GAP, 0 };
	struct custos_record *r = calloc(1, sizeof(*r));
	struct buf b;
	char name[128];

	if (!r)
		die("calloc", -CUSTOS_ERR_NOMEM);
	buf_init(&b, CUSTOS_RAW_MAX);
	for (int i = 0; kinds[i]; i++) {
		buf_reset(&b);
		fill(r, kinds[i], 0);
		if (record_encode(&b, r) != 0)
			die("singles", -CUSTOS_ERR_INVAL);
		snprintf(name, sizeof(name), "record-%s", record_kind_name(kinds[i]));
		write_file("fuzz_records", name, &b);
	}
	buf_free(&b);
	free(r);
}

/* --- checkpoints ---------------------------------------------------------- */

#define LOG_NAME "custos.example/collector"	/* FUZZ_LOG_NAME of fuzz_checkpoint.c */
#define WITNESS_NAME "witness.example/w1"

/* The signature line ("— name base64\n") of kp under name over text. */
static void sig_line(const uint8_t *text, size_t len, const char *name,
		     const struct custos_keypair *kp, struct buf *line)
{
	struct buf note;
	int ret;

	buf_init(&note, CHECKPOINT_MAX);
	ret = checkpoint_note_sign(text, len, name, kp, &note);
	if (!ret)
		ret = buf_put(line, note.data + len + 1, note.len - len - 1);
	if (ret)
		die(name, ret);
	buf_free(&note);
}

/* A checkpoint of (size, root) signed by coll under LOG_NAME; with a
 * second signature line of (other_name, other) before or after it. */
static void make_checkpoint(const char *fname, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
			    const struct custos_keypair *coll, const char *other_name,
			    const struct custos_keypair *other, int other_first)
{
	struct checkpoint cp = { .size = size };
	struct buf note, out;
	size_t text_len;
	int ret;

	memcpy(cp.root, root, MERKLE_HASH_LEN);
	buf_init(&note, CHECKPOINT_MAX);
	buf_init(&out, CHECKPOINT_MAX);
	ret = checkpoint_sign(&cp, LOG_NAME, coll, &note);
	if (!ret)
		ret = checkpoint_note_open(note.data, note.len, LOG_NAME, coll->pub.sign_pk,
					   &text_len);
	if (ret)
		die(fname, ret);
	if (!other) {
		write_file("fuzz_checkpoint", fname, &note);
	} else {
		if (buf_put(&out, note.data, text_len + 1) != 0)	/* text, blank line */
			die(fname, -CUSTOS_ERR_NOMEM);
		if (other_first)
			sig_line(note.data, text_len, other_name, other, &out);
		if (buf_put(&out, note.data + text_len + 1, note.len - text_len - 1) != 0)
			die(fname, -CUSTOS_ERR_NOMEM);
		if (!other_first)
			sig_line(note.data, text_len, other_name, other, &out);
		write_file("fuzz_checkpoint", fname, &out);
	}
	buf_free(&out);
	buf_free(&note);
}

static void make_checkpoints(const struct custos_keypair *coll, const struct custos_keypair *host)
{
	uint8_t (*leaves)[MERKLE_HASH_LEN] = calloc(300, MERKLE_HASH_LEN);
	struct merkle_leaves ml = { .count = 300 };
	uint8_t root[MERKLE_HASH_LEN];
	int ret;

	if (!leaves)
		die("calloc", -CUSTOS_ERR_NOMEM);
	for (uint64_t i = 0; i < 300; i++)
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
	ml.hash = (const uint8_t (*)[MERKLE_HASH_LEN])leaves;

	ret = merkle_root(merkle_leaves_get, &ml, 0, root);
	if (!ret)
		make_checkpoint("checkpoint-empty", 0, root, coll, NULL, NULL, 0);
	if (!ret)
		ret = merkle_root(merkle_leaves_get, &ml, 1, root);
	if (!ret)
		make_checkpoint("checkpoint-1", 1, root, coll, NULL, NULL, 0);
	if (!ret)
		ret = merkle_root(merkle_leaves_get, &ml, 300, root);
	/* A witness's cosignature after ours (the host key stands in for
	 * the witness's), and a line of our name under another key first:
	 * both well formed, both ignored. */
	if (!ret) {
		make_checkpoint("checkpoint-cosigned", 300, root, coll, WITNESS_NAME, host, 0);
		make_checkpoint("checkpoint-otherkey", 7, root, coll, LOG_NAME, host, 1);
		memset(root, 0xfb, sizeof(root));	/* base64 "+/v7...": both odd characters */
		make_checkpoint("checkpoint-max", UINT64_MAX, root, coll, NULL, NULL, 0);
	}
	if (ret)
		die("merkle_root", ret);
	free(leaves);
}

/* --- frames and acks ------------------------------------------------------ */

static void make_wire(const struct custos_keypair *coll, const struct custos_keypair *host)
{
	struct ack a = { .seq = wire_seq, .leaf_index = wire_seq,
			 .received_unix_ns = 1700000000123456789ull };
	struct ack a_max = { .seq = UINT64_MAX, .leaf_index = UINT64_MAX,
			    .received_unix_ns = UINT64_MAX };
	struct buf ack1, ack2, stream;
	int ret;

	if (wire_sealed.len == 0)
		die("make_wire: no sealed batch", -CUSTOS_ERR_INVAL);
	memcpy(a.host_id, host->pub.sign_pk, sizeof(a.host_id));
	memcpy(a.batch_hash, wire_hash, sizeof(a.batch_hash));
	memset(a_max.host_id, 0xff, sizeof(a_max.host_id));
	memset(a_max.batch_hash, 0xff, sizeof(a_max.batch_hash));
	buf_init(&ack1, ACK_MAX);
	buf_init(&ack2, ACK_MAX);
	buf_init(&stream, FRAME_HEADER_LEN * 3 + CUSTOS_SEALED_MAX);

	ret = ack_sign(&a, coll, &ack1);
	if (!ret)
		ret = ack_sign(&a_max, coll, &ack2);
	if (ret)
		die("ack_sign", ret);
	write_file("fuzz_wire", "ack-exec-1", &ack1);
	write_file("fuzz_wire", "ack-edge", &ack2);

	/* The agent's BATCH, then the collector's ACK for it. */
	ret = frame_write(&stream, FRAME_BATCH, wire_sealed.data, wire_sealed.len);
	if (!ret)
		ret = frame_write(&stream, FRAME_ACK, ack1.data, ack1.len);
	if (ret)
		die("frame_write", ret);
	write_file("fuzz_wire", "wire-batch-ack", &stream);

	/* Two ACKs and the first 5 header bytes of a third. */
	buf_reset(&stream);
	ret = frame_write(&stream, FRAME_ACK, ack1.data, ack1.len);
	if (!ret)
		ret = frame_write(&stream, FRAME_ACK, ack2.data, ack2.len);
	if (!ret)
		ret = frame_write(&stream, FRAME_ACK, ack1.data, ack1.len);
	if (ret)
		die("frame_write", ret);
	stream.len -= ack1.len + FRAME_HEADER_LEN - 5;
	write_file("fuzz_wire", "wire-acks-partial", &stream);

	buf_free(&stream);
	buf_free(&ack2);
	buf_free(&ack1);
}

int main(int argc, char **argv)
{
	static const char *const subdirs[] = { "fuzz_batch", "fuzz_records", "fuzz_checkpoint",
					       "fuzz_wire" };
	struct custos_keypair host, coll;
	uint8_t prev[CUSTOS_HASH_LEN] = { 0 };
	char path[4096];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus CORPUS_DIR\n");
		return 2;
	}
	dir = argv[1];
	if (randombytes_set_implementation(&fixed_rng) != 0)
		die("randombytes_set_implementation", -CUSTOS_ERR_CRYPTO_INIT);
	ret = custos_init();
	if (!ret)
		ret = fuzz_keys(&host, FUZZ_HOST_SEED);
	if (!ret)
		ret = fuzz_keys(&coll, FUZZ_COLLECTOR_SEED);
	if (ret)
		die("keys", ret);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die(dir, -CUSTOS_ERR_IO);
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			die(path, -CUSTOS_ERR_IO);
	}
	buf_init(&wire_sealed, CUSTOS_SEALED_MAX);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		make_set(&sets[i], &host, &coll.pub, i, prev);
	make_singles();
	make_checkpoints(&coll, &host);
	make_wire(&coll, &host);
	buf_free(&wire_sealed);
	printf("%d files\n", nfiles);
	keys_wipe(&host);
	keys_wipe(&coll);
	return 0;
}
