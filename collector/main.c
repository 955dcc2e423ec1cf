/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-collector's entry point: the table of subcommands, the usage text
 * built from it, and dispatch. `custos-collector NAME ...` and
 * `custos-collector --NAME ...` run the same subcommand. Misuse prints the
 * usage on stderr and exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "error.h"
#include "keys.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "init", cmd_init, "create the collector's keys and state directory" },
	{ "enroll", cmd_enroll, "enrol a host's public key under a name, or a list of them" },
	{ "revoke", cmd_revoke, "revoke an enrolled host: its batches are refused from now on" },
	{ "serve", cmd_serve, "accept sealed batches from agents over TCP" },
	{ "import", cmd_import, "ingest an agent's offline file of sealed batches" },
	{ "reindex", cmd_reindex, "rebuild the index from the archive alone" },
	{ "checkpoint", cmd_checkpoint, "sign a tree head of the custody log now and print it" },
	{ "log", cmd_log, "list the custody log from the archive: leaf, host, seq, batch hash" },
	{ "proof", cmd_proof, "RFC 9162 inclusion or consistency proof from the custody log" },
	{ "hosts", cmd_hosts, "each host: last heartbeat, last batch, gaps, losses, clock" },
	{ "timeline", cmd_timeline, "what happened on a host between two times" },
	{ "export", cmd_export, "write a case's court bundle (evidence, proofs, timeline) and its tar" },
	{ "triage", cmd_triage, "run Sigma rules over the archive; alerts go to the index" },
	{ "alerts", cmd_alerts, "list the alerts triage raised, with their evidence references" },
	{ "incidents", cmd_incidents, "list incidents: alerts grouped by host, process tree and time" },
	{ "incident", cmd_incident, "incident show ID: the process tree, its events, alerts in place" },
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: custos-collector <command> [options]\n\nCommands:\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\n'custos-collector <command> --help' describes a command's options.\n"
		   "The state directory is --dir DIR, else $CUSTOS_COLLECTOR_DIR, else %s.\n",
		coll_default_dir());
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return COLL_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return COLL_EXIT_OK;
	}
	if (custos_init() != 0) {
		fprintf(stderr, "custos-collector: libsodium could not initialise\n");
		return COLL_EXIT_FAIL;
	}
	if (strncmp(name, "--", 2) == 0)
		name += 2;
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (strcmp(name, subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "custos-collector: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return COLL_EXIT_USAGE;
}
