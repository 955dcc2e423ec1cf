/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: the agent's configuration file (YAML, default
 * /etc/custos/agent.conf). One flat mapping of known keys; every option,
 * its type and default is documented in docs/agent.md. Unknown keys, wrong
 * types and out-of-range numbers are errors that name the file and line.
 * The file's exact text and its BLAKE2b-256 hash are kept: the agent
 * records them (start and config records) so that an examiner sees which
 * configuration produced the evidence.
 */
#ifndef CUSTOS_AGENT_CONFIG_H
#define CUSTOS_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define CONFIG_DEFAULT_PATH "/etc/custos/agent.conf"
#define CONFIG_STR_MAX 1024		/* a path or an address */
#define CONFIG_LIST_MAX 64		/* sensitive paths, noise entries */

struct agent_config {
	char collector[CONFIG_STR_MAX];		/* host:port, "" = none (offline) */
	char collector_key[CONFIG_STR_MAX];	/* collector public key file */
	char host_key[CONFIG_STR_MAX];		/* host secret key file */
	char spool_dir[CONFIG_STR_MAX];
	uint64_t spool_max_bytes;
	uint64_t batch_max_bytes;		/* raw (uncompressed) records per batch */
	uint64_t batch_max_delay_ms;
	uint64_t heartbeat_s;
	uint64_t max_inflight;			/* batches sent and not yet acknowledged */
	uint64_t clock_step_ms;			/* offset change reported as a clock step */
	char *sensitive_paths[CONFIG_LIST_MAX];
	size_t n_sensitive;
	char *noise_comms[CONFIG_LIST_MAX];	/* records of these comms are dropped */
	size_t n_noise_comms;
	char *ignore_exe[CONFIG_LIST_MAX];	/* exe prefixes filtered in the kernel */
	size_t n_ignore_exe;
	bool all_opens;				/* record every open (capture.h) */
	char *text;				/* the file's text, NUL-terminated */
	size_t text_len;
	uint8_t hash[CUSTOS_HASH_LEN];		/* BLAKE2b-256 of text */
};

/* Fill *c with the defaults (docs/agent.md) and no file text. */
void config_defaults(struct agent_config *c);

/* Read and parse path over the defaults. OUT: *c (freed with config_free
 * also on failure); err, a message naming path and line on failure.
 * Returns 0, -CUSTOS_ERR_IO (cannot read), -CUSTOS_ERR_OVERSIZED (longer
 * than CUSTOS_CONFIG_MAX), -CUSTOS_ERR_MALFORMED (YAML syntax, unknown key,
 * wrong type, out-of-range value), -CUSTOS_ERR_NOMEM. */
int config_load(const char *path, struct agent_config *c, char *err, size_t errlen);

/* Parse text (len bytes) as a configuration named name in messages. Same
 * contract as config_load. */
int config_parse(const char *name, const char *text, size_t len, struct agent_config *c,
		 char *err, size_t errlen);

/* Free the lists and text. Accepts NULL. */
void config_free(struct agent_config *c);

/* Split "host:port" (or "[v6]:port"). OUT: host (NUL-terminated), *port.
 * Returns 0 or -CUSTOS_ERR_INVAL. */
int config_split_addr(const char *addr, char *host, size_t hostlen, uint16_t *port);

#endif
