/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's subcommands and the command-line helpers they share. Each
 * subcommand is a function taking its own argv (argv[0] is its name) and
 * returning the process exit status: 0 success, 1 failure, 2 misuse.
 */
#ifndef CUSTOS_AGENT_H
#define CUSTOS_AGENT_H

#include <stdint.h>

#define AGENT_EXIT_OK 0
#define AGENT_EXIT_FAIL 1
#define AGENT_EXIT_USAGE 2

/* custos-agent print: capture and print events as JSON lines (print.c). */
int cmd_print(int argc, char **argv);

/* Bounds of the options print and run share. */
#define CLI_RINGBUF_KB_MIN 64		/* several of the largest exec records (about 17 KiB) */
#define CLI_RINGBUF_KB_MAX (1024 * 1024)
#define CLI_DURATION_MAX (365 * 24 * 3600)

/* --ringbuf-kb: a power of two within the bounds above. OUT: *kb.
 * Returns 0 or -CUSTOS_ERR_INVAL. */
int cli_parse_ringbuf_kb(const char *s, uint64_t *kb);

#endif
