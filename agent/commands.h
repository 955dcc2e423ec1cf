/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subcommands of issue 4 (the evidence pipeline), for main.c's table.
 * Each takes its own argv (argv[0] is its name) and returns the process
 * exit status: 0 success, 1 failure, 2 misuse (agent.h).
 */
#ifndef CUSTOS_AGENT_COMMANDS_H
#define CUSTOS_AGENT_COMMANDS_H

/* custos-agent keygen: create the host key pair (keygen.c). */
int cmd_keygen(int argc, char **argv);

/* custos-agent run: capture, seal, spool and forward or write (run.c). */
int cmd_run(int argc, char **argv);

/* custos-agent status: spool depth, last ack, losses (status.c). */
int cmd_status(int argc, char **argv);

#endif
