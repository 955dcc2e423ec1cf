/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agentrec: the agent's records about itself (docs/format.md 2.3, kinds
 * 96-100): start, stop, heartbeat, loss and configuration. They make
 * every gap in the evidence visible: when the agent ran, with which
 * configuration, what it lost and why it stopped.
 */
#ifndef CUSTOS_AGENT_AGENTREC_H
#define CUSTOS_AGENT_AGENTREC_H

#include <stdint.h>

#include "record.h"

#define AGENT_VERSION "custos-agent 0.1.0"

/* Each fills *r (zeroed first) with ts_ns = now (CLOCK_BOOTTIME ns). */

/* start: version, configuration hash, the programs loaded, our pid. */
void agentrec_start(struct custos_record *r, uint64_t now, const uint8_t config_hash[CUSTOS_HASH_LEN],
		    const char *programs, uint64_t pid);

/* stop: the reason in words and the signal (0 if none). */
void agentrec_stop(struct custos_record *r, uint64_t now, const char *reason, uint64_t sig);

/* heartbeat: totals since start and the spool's depth. */
void agentrec_heartbeat(struct custos_record *r, uint64_t now, uint64_t events, uint64_t losses,
			uint64_t spool_batches, uint64_t spool_bytes);

/* loss: lost records of kind (0 unknown) from source, between from and to. */
void agentrec_loss(struct custos_record *r, uint64_t now, uint64_t source, uint64_t kind,
		   uint64_t lost, uint64_t from, uint64_t to);

/* config: the configuration text (truncated at CUSTOS_CONFIG_MAX, flagged)
 * and its hash. */
void agentrec_config(struct custos_record *r, uint64_t now, const uint8_t hash[CUSTOS_HASH_LEN],
		     const char *text, size_t len);

#endif
