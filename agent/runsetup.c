/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Set-up, reload and teardown of `custos-agent run` (run.h): the
 * configuration, the host and collector keys, the spool, the batcher, and
 * the forwarder (online) or the offline file writer (--output).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentrec.h"
#include "capture.h"
#include "capture_filter.h"
#include "error.h"
#include "run.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 60000
#define ACK_TIMEOUT_MS 30000

static int load_config(struct run_state *rs, const struct run_args *a)
{
	char err[512];
	int ret;

	config_defaults(&rs->cfg);
	rs->config_path = a->config;
	if (a->output && !a->config_given && access(a->config, F_OK) != 0) {
		fprintf(stderr, "custos-agent: no %s: offline mode with the default "
			"configuration\n", a->config);
		return config_parse("(defaults)", "", 0, &rs->cfg, err, sizeof(err));
	}
	ret = config_load(a->config, &rs->cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "custos-agent: configuration: %s\n", err);
	else if (!a->output && !rs->cfg.collector[0]) {
		fprintf(stderr, "custos-agent: %s: no 'collector' address, and no --output FILE "
			"for offline mode\n", a->config);
		ret = -CUSTOS_ERR_INVAL;
	}
	return ret;
}

static int load_keys(struct run_state *rs)
{
	int line = 0, ret = keys_load_secret(rs->cfg.host_key, &rs->host, &line);

	if (ret) {
		fprintf(stderr, "custos-agent: host key %s%s%.0d: %s (create it with "
			"'custos-agent keygen')\n", rs->cfg.host_key, line ? ":" : "", line,
			custos_strerror(ret));
		return ret;
	}
	ret = keys_load_public(rs->cfg.collector_key, &rs->coll, &line);
	if (ret)
		fprintf(stderr, "custos-agent: collector key %s%s%.0d: %s\n", rs->cfg.collector_key,
			line ? ":" : "", line, custos_strerror(ret));
	return ret;
}

static int open_spool(struct run_state *rs, const struct run_args *a)
{
	char dir[4096], err[512];
	struct batcher_opts o = { 0 };
	int ret;

	if (a->output)
		snprintf(dir, sizeof(dir), "%s.spool", a->output);
	else
		snprintf(dir, sizeof(dir), "%s", rs->cfg.spool_dir);
	ret = spool_open(dir, rs->cfg.spool_max_bytes, &rs->sp, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "custos-agent: spool: %s\n", err);
		return ret;
	}
	if (a->output && (ret = outfile_open(a->output, dir, rs->sp, &rs->of, err, sizeof(err)))) {
		fprintf(stderr, "custos-agent: offline file: %s\n", err);
		return ret;
	}
	o.max_bytes = rs->cfg.batch_max_bytes;
	o.max_delay_ns = rs->cfg.batch_max_delay_ms * 1000000ull;
	o.host = &rs->host;
	o.collector = &rs->coll;
	o.spool = rs->sp;
	memcpy(o.boot_id, rs->boot_id, CUSTOS_BOOT_ID_LEN);
	ret = batcher_init(&rs->b, &o);
	rs->batcher_ready = ret == 0;
	return ret;
}

static int start_forward(struct run_state *rs)
{
	struct forward_opts o = { 0 };
	int ret;

	if (config_split_addr(rs->cfg.collector, o.host, sizeof(o.host), &o.port)) {
		fprintf(stderr, "custos-agent: %s: collector '%s' is not host:port\n",
			rs->config_path, rs->cfg.collector);
		return -CUSTOS_ERR_INVAL;
	}
	memcpy(o.collector_sign_pk, rs->coll.sign_pk, KEYS_SIGN_PK_LEN);
	memcpy(o.host_id, rs->host.pub.sign_pk, KEYS_SIGN_PK_LEN);
	o.max_inflight = (unsigned)rs->cfg.max_inflight;
	o.backoff_min_ms = BACKOFF_MIN_MS;
	o.backoff_max_ms = BACKOFF_MAX_MS;
	o.ack_timeout_ms = ACK_TIMEOUT_MS;
	o.spool = rs->sp;
	ret = forward_start(&o, &rs->fw);
	if (ret)
		fprintf(stderr, "custos-agent: starting the forwarder: %s\n", custos_strerror(ret));
	return ret;
}

int run_setup(struct run_state *rs, const struct run_args *a)
{
	int ret;

	if ((ret = load_config(rs, a)) || (ret = load_keys(rs)))
		return ret;
	if ((ret = clock_boot_id(rs->boot_id)) || (ret = clock_sample(&rs->last_clock))) {
		fprintf(stderr, "custos-agent: reading the boot id and clocks: %s\n",
			custos_strerror(ret));
		return ret;
	}
	if ((ret = open_spool(rs, a)))
		return ret;
	ret = exehash_open(EXEHASH_MAX_BYTES_DEFAULT, EXEHASH_MAX_MS_DEFAULT, &rs->eh);
	if (ret) {
		fprintf(stderr, "custos-agent: executable hashing: %s\n", custos_strerror(ret));
		return ret;
	}
	rs->loss_checked_ns = clock_boot_ns();
	rs->next_heartbeat_ns = rs->loss_checked_ns + rs->cfg.heartbeat_s * 1000000000ull;
	rs->next_second_ns = rs->loss_checked_ns + 1000000000ull;
	return a->output ? 0 : start_forward(rs);
}

void run_capture_opts(const struct agent_config *c, struct capture_opts *o)
{
	o->ignore_exe = (const char *const *)c->ignore_exe;
	o->n_ignore_exe = c->n_ignore_exe;
	o->sensitive = NULL;	/* none configured: capture's default list */
	o->n_sensitive = 0;
	o->all_opens = c->all_opens;
	if (c->n_sensitive) {
		o->sensitive = (const char *const *)c->sensitive_paths;
		o->n_sensitive = c->n_sensitive;
	}
}

static void mark_one(void *ctx, const struct proctab_entry *e)
{
	if (e->exe_len && e->pid <= UINT32_MAX)
		capture_filter_mark_exe(ctx, (uint32_t)e->pid, e->exe, e->exe_len);
}

/* The kernel filters of next, on the running capture, before the config
 * record that says so. Returns 0, -EINVAL (refused, nothing changed: the
 * running configuration stays), or an error that stops the agent. */
static int reload_filters(struct run_state *rs, const struct agent_config *next)
{
	struct capture_filter *f = capture_filter(rs->cap);
	struct capture_opts o = { 0 };
	int ret;

	if (!f)
		return 0;
	run_capture_opts(next, &o);
	ret = capture_filter_reload(f, &o);
	if (ret == -EINVAL) {
		fprintf(stderr, "custos-agent: SIGHUP: keeping the running configuration: its "
			"filters were refused\n");
		return ret;
	}
	if (ret == -ENOMEM)
		return -CUSTOS_ERR_NOMEM;
	if (ret)
		fprintf(stderr, "custos-agent: SIGHUP: the kernel filters were applied in part: "
			"%s\n", strerror(-ret));
	if (rs->pt)	/* what /proc no longer shows us (no CAP_SYS_PTRACE) */
		proctab_each(rs->pt, mark_one, f);
	return 0;
}

int run_reload(struct run_state *rs)
{
	struct agent_config next;
	char err[512];
	int ret;

	config_defaults(&next);
	ret = config_load(rs->config_path, &next, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "custos-agent: SIGHUP: keeping the running configuration: %s\n", err);
		config_free(&next);
		return 0;
	}
	if (strcmp(next.collector, rs->cfg.collector) || strcmp(next.spool_dir, rs->cfg.spool_dir) ||
	    strcmp(next.host_key, rs->cfg.host_key) || strcmp(next.collector_key, rs->cfg.collector_key) ||
	    next.all_opens != rs->cfg.all_opens)
		fprintf(stderr, "custos-agent: SIGHUP: collector, keys, spool and all_opens take "
			"effect at the next start\n");
	if ((ret = reload_filters(rs, &next))) {
		config_free(&next);
		return ret == -EINVAL ? 0 : ret;
	}
	/* Keep what the running pipeline is bound to. */
	memcpy(next.collector, rs->cfg.collector, sizeof(next.collector));
	memcpy(next.spool_dir, rs->cfg.spool_dir, sizeof(next.spool_dir));
	memcpy(next.host_key, rs->cfg.host_key, sizeof(next.host_key));
	memcpy(next.collector_key, rs->cfg.collector_key, sizeof(next.collector_key));
	next.spool_max_bytes = rs->cfg.spool_max_bytes;
	next.all_opens = rs->cfg.all_opens;	/* a load-time constant of the programs */
	config_free(&rs->cfg);
	rs->cfg = next;
	rs->b.o.max_bytes = rs->cfg.batch_max_bytes;
	rs->b.o.max_delay_ns = rs->cfg.batch_max_delay_ms * 1000000ull;
	fprintf(stderr, "custos-agent: SIGHUP: configuration %s reloaded\n", rs->config_path);
	agentrec_config(&rs->arec, clock_boot_ns(), rs->cfg.hash, rs->cfg.text, rs->cfg.text_len);
	ret = batcher_add(&rs->b, &rs->arec, clock_boot_ns());
	return ret == -CUSTOS_ERR_IO ? 0 : ret;
}

int run_is_noise(const struct agent_config *c, const struct custos_record *r)
{
	if (r->kind >= CUSTOS_REC_AGENT_START)
		return 0;
	for (size_t i = 0; i < c->n_noise_comms; i++) {
		size_t n = strlen(c->noise_comms[i]);

		if (n == r->subj.comm_len && memcmp(c->noise_comms[i], r->subj.comm, n) == 0)
			return 1;
	}
	return 0;
}

void run_teardown(struct run_state *rs, unsigned grace_ms)
{
	uint64_t moved, nb, bytes;

	capture_close(rs->cap);
	rs->cap = NULL;
	if (rs->of && outfile_drain(rs->of, &moved))
		fprintf(stderr, "custos-agent: writing the offline file: %s\n", strerror(errno));
	if (rs->fw) {
		if (grace_ms && forward_wait_drained(rs->fw, grace_ms)) {
			spool_depth(rs->sp, &nb, &bytes);
			fprintf(stderr, "custos-agent: %llu batch(es) stay in the spool for the next "
				"start\n", (unsigned long long)nb);
		}
		forward_stop(rs->fw);
	}
	outfile_close(rs->of);
	hashq_close(rs->hq);
	proctab_close(rs->pt);
	exehash_close(rs->eh);
	if (rs->batcher_ready)
		batcher_free(&rs->b);
	spool_close(rs->sp);
	keys_wipe(&rs->host);
	config_free(&rs->cfg);
}
