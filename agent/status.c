/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-agent status: what an operator asks first: how many batches wait
 * in the spool and since which sequence number, when the collector last
 * acknowledged one, how many records were lost, and the collector's last
 * refusal (NACK) if no batch was acknowledged since. Read from the spool's
 * files and state (spool_inspect), so it needs no connection to a running
 * agent and works when none runs.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "agent.h"
#include "commands.h"
#include "config.h"
#include "error.h"
#include "spool.h"

static const char status_usage_text[] =
	"Usage: custos-agent status [--config FILE | --spool DIR]\n"
	"Show the spool's depth, the last acknowledged batch and the records lost.\n"
	"  --config FILE  configuration naming the spool (default " CONFIG_DEFAULT_PATH ")\n"
	"  --spool DIR    read this spool directory instead (e.g. FILE.spool offline)\n";

static void print_status(const char *dir, const struct spool_status *st)
{
	char when[64] = "never";
	struct tm tm;
	time_t t = (time_t)st->last_ack_mtime;

	if (st->acks && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("spool: %s\n", dir);
	printf("next sequence number: %" PRIu64 "\n", st->next_seq);
	printf("batches waiting: %" PRIu64 " (%" PRIu64 " bytes)", st->batches, st->bytes);
	if (st->batches)
		printf(", oldest sequence number %" PRIu64, st->oldest_seq);
	printf("\nreceipts kept: %" PRIu64 "\n", st->acks);
	if (st->acks)
		printf("last acknowledged: sequence number %" PRIu64 " at %s\n", st->last_ack_seq,
		       when);
	else
		printf("last acknowledged: never\n");
	printf("records lost: %" PRIu64 "\n", st->lost);
	if (st->refusal[0])
		printf("last refusal by the collector: %s\n", st->refusal);
	if (st->gap.batches)
		printf("pending gap (spool was full; its gap record is not yet written): %" PRIu64
		       " records in %" PRIu64 " batches\n", st->gap.lost, st->gap.batches);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "spool", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = CONFIG_DEFAULT_PATH, *dir = NULL;
	struct agent_config cfg;
	struct spool_status st;
	char err[512];
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			dir = optarg;
			break;
		case 'h':
			fputs(status_usage_text, stdout);
			return AGENT_EXIT_OK;
		default:
			fputs(status_usage_text, stderr);
			return AGENT_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(status_usage_text, stderr);
		return AGENT_EXIT_USAGE;
	}
	config_defaults(&cfg);
	if (!dir) {
		if (config_load(config, &cfg, err, sizeof(err))) {
			fprintf(stderr, "custos-agent: status: %s\n", err);
			config_free(&cfg);
			return AGENT_EXIT_FAIL;
		}
		dir = cfg.spool_dir;
	}
	ret = spool_inspect(dir, &st);
	if (ret)
		fprintf(stderr, "custos-agent: status: %s: %s\n", dir, ret == -CUSTOS_ERR_IO ?
			"no spool there (has the agent run?)" : custos_strerror(ret));
	else
		print_status(dir, &st);
	config_free(&cfg);
	return ret ? AGENT_EXIT_FAIL : AGENT_EXIT_OK;
}
