/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agentrec: constructors of the agent's own records (agentrec.h); the
 * fields each kind carries are those of docs/format.md 2.3.
 */
#include <string.h>

#include "agentrec.h"

static void init(struct custos_record *r, uint64_t kind, uint64_t now)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->ts_ns = now;
}

static void set_text(struct custos_record *r, const char *text, size_t len)
{
	struct custos_agent *a = &r->u.agent;

	a->text_truncated = len > CUSTOS_CONFIG_MAX;
	a->text_len = (uint32_t)(len > CUSTOS_CONFIG_MAX ? CUSTOS_CONFIG_MAX : len);
	memcpy(a->text, text, a->text_len);
}

void agentrec_start(struct custos_record *r, uint64_t now, const uint8_t config_hash[CUSTOS_HASH_LEN],
		    const char *programs, uint64_t pid)
{
	init(r, CUSTOS_REC_AGENT_START, now);
	record_set_bytes(r->u.agent.version, &r->u.agent.version_len, CUSTOS_VERSION_MAX,
			 AGENT_VERSION);
	memcpy(r->u.agent.config_hash, config_hash, CUSTOS_HASH_LEN);
	set_text(r, programs, strlen(programs));
	r->u.agent.agent_pid = pid;
}

void agentrec_stop(struct custos_record *r, uint64_t now, const char *reason, uint64_t sig)
{
	init(r, CUSTOS_REC_AGENT_STOP, now);
	set_text(r, reason, strlen(reason));
	r->u.agent.signal = sig;
}

void agentrec_heartbeat(struct custos_record *r, uint64_t now, uint64_t events, uint64_t losses,
			uint64_t spool_batches, uint64_t spool_bytes)
{
	init(r, CUSTOS_REC_HEARTBEAT, now);
	r->u.agent.events = events;
	r->u.agent.losses = losses;
	r->u.agent.spool_batches = spool_batches;
	r->u.agent.spool_bytes = spool_bytes;
}

void agentrec_loss(struct custos_record *r, uint64_t now, uint64_t source, uint64_t kind,
		   uint64_t lost, uint64_t from, uint64_t to)
{
	init(r, CUSTOS_REC_LOSS, now);
	r->u.agent.source = source;
	r->u.agent.lost_kind = kind;
	r->u.agent.lost = lost;
	r->u.agent.from_ns = from;
	r->u.agent.to_ns = to;
}

void agentrec_config(struct custos_record *r, uint64_t now, const uint8_t hash[CUSTOS_HASH_LEN],
		     const char *text, size_t len)
{
	init(r, CUSTOS_REC_CONFIG, now);
	memcpy(r->u.agent.config_hash, hash, CUSTOS_HASH_LEN);
	set_text(r, text ? text : "", text ? len : 0);
}
