/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What custos-collector's modules share: the subcommands (one function per
 * entry of main.c's table), the collector's state directory layout, the
 * command-line helpers and the log. Each subcommand takes its own argv
 * (argv[0] is its name) and returns the exit status: 0 success, 1 failure,
 * 2 misuse (usage printed on stderr).
 *
 * The state directory (docs/collector.md):
 *   collector.key  collector.pub  name      keys (0600 secret) and log name
 *   lock                                    flock: one writer at a time
 *   custody/events.jsonl                    enrolments, revocations (keystore.c)
 *   custody/leaves                          the Merkle log's leaves (custody.c)
 *   custody/checkpoint(s)                   signed tree heads (custody.c)
 *   archive/seg-NNNNNNNN                    the signed batches (archive.c)
 *   index.sqlite                            the rebuildable index (store_sqlite.c)
 */
#ifndef CUSTOS_COLLECTOR_H
#define CUSTOS_COLLECTOR_H

#include <stdint.h>
#include <stdio.h>

#define COLL_EXIT_OK 0
#define COLL_EXIT_FAIL 1
#define COLL_EXIT_USAGE 2

#define COLL_PATH_MAX 4096

int cmd_init(int argc, char **argv);		/* keystore.c */
int cmd_enroll(int argc, char **argv);		/* keystore.c */
int cmd_revoke(int argc, char **argv);		/* keystore.c */
int cmd_serve(int argc, char **argv);		/* server.c */
int cmd_import(int argc, char **argv);		/* import.c */
int cmd_reindex(int argc, char **argv);		/* indexer.c */
int cmd_hosts(int argc, char **argv);		/* hosts.c */
int cmd_timeline(int argc, char **argv);	/* timeline.c */
int cmd_triage(int argc, char **argv);		/* triage.c */
int cmd_alerts(int argc, char **argv);		/* triage.c */
int cmd_incidents(int argc, char **argv);	/* incident_cli.c */
int cmd_incident(int argc, char **argv);	/* incident_cli.c */
int cmd_checkpoint(int argc, char **argv);	/* proof.c */
int cmd_log(int argc, char **argv);		/* proof.c */
int cmd_proof(int argc, char **argv);		/* proof.c */
int cmd_export(int argc, char **argv);		/* export.c */


/* Build DIR/rel into out (COLL_PATH_MAX). Returns 0 or -CUSTOS_ERR_INVAL
 * when it does not fit. OUT: out. */
int coll_path(char out[COLL_PATH_MAX], const char *dir, const char *rel);

/* The default state directory: $CUSTOS_COLLECTOR_DIR, else
 * /var/lib/custos/collector. Never NULL. */
const char *coll_default_dir(void);

/* Options of a subcommand whose only option is --dir DIR. OUT: *dir
 * (coll_default_dir() when not given). Returns 0, or COLL_EXIT_USAGE after
 * printing "Usage: custos-collector NAME [--dir DIR]" on stderr. */
int coll_dir_only_options(int argc, char **argv, const char *name, const char **dir);

/* Log one line on stderr: "custos-collector: <what>", with the UTC time
 * in front when serving. printf-style. */
void coll_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Turn on the time prefix of coll_log (the server does). */
void coll_log_timestamps(int on);

/* The wall clock, ns since the Unix epoch. */
uint64_t coll_now_ns(void);

/* Write a UTC (or local, when local is set) ISO 8601 time with
 * nanoseconds, e.g. 2025-11-22T00:00:00.000000000Z, into out (at least
 * 40 bytes). Returns out. */
char *coll_fmt_time(int64_t unix_ns, int local, char *out, size_t n);

/* Parse an ISO 8601 time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
 * or, without a zone, UTC unless local is set; a bare number is Unix
 * seconds. OUT: *unix_ns. Returns 0 or -CUSTOS_ERR_INVAL. */
int coll_parse_time(const char *s, int local, int64_t *unix_ns);

/* Take the directory's writer lock (DIR/lock, flock LOCK_EX|LOCK_NB).
 * Returns the fd to keep open, or a negative -CUSTOS_ERR_* (IO, or
 * EXISTS when another process holds it: a collector is running). */
int coll_lock_dir(const char *dir);

#endif
