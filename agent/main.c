/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-agent's entry point: a table of subcommands, the usage text built
 * from it, and dispatch. `custos-agent NAME ...` and `custos-agent --NAME
 * ...` run the same subcommand. Misuse prints the usage on stderr and
 * exits 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "commands.h"
#include "error.h"
#include "number.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "print", cmd_print, "capture process events and print them as JSON lines" },
	{ "keygen", cmd_keygen, "create this host's key pair and print its fingerprint" },
	{ "run", cmd_run, "capture, seal, spool and deliver evidence (or --output FILE)" },
	{ "status", cmd_status, "spool depth, last acknowledgement and losses" },
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: custos-agent <command> [options]\n\nCommands:\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\n'custos-agent <command> --help' describes a command's options.\n");
}

int cli_parse_ringbuf_kb(const char *s, uint64_t *kb)
{
	if (custos_parse_u64(s, CLI_RINGBUF_KB_MIN, CLI_RINGBUF_KB_MAX, kb) || (*kb & (*kb - 1)))
		return -CUSTOS_ERR_INVAL;
	return 0;
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return AGENT_EXIT_OK;
	}
	if (strncmp(name, "--", 2) == 0)
		name += 2;	/* --print is print */
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (strcmp(name, subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "custos-agent: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return AGENT_EXIT_USAGE;
}
