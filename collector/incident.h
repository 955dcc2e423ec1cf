/* SPDX-License-Identifier: Apache-2.0 */
/*
 * incident: alerts grouped into incidents by host, process tree and time
 * (docs/triage.md "Incidents"). The rule, applied to the alerts in the
 * order (host, wall time, leaf, record index, rule id):
 *
 *   An alert's process tree is found in the index: from the alert's pid,
 *   follow each process's parent (its latest record at or before the
 *   alert's time) upwards; the tree's root is the last process reached
 *   before a parent that is pid 0, 1 or 2, unknown to the index, or a
 *   boundary program (incident_boundary: init, sshd, cron... whose
 *   children are independent sessions). The tree's key is the root's
 *   stable process id (store_row.proc_id), else "pid-N".
 *   The alert joins the incident of the same host and tree whose last
 *   alert is the latest, when it is at most INCIDENT_WINDOW_NS before the
 *   alert; else it opens a new incident, whose id is "inc-LEAF-RECORD"
 *   of this first alert.
 *
 * Invariants:
 *   1. Every alert is in exactly one incident after incident_update.
 *   2. incident_regroup gives the same incidents from the same alerts and
 *      records, whatever order they were added in (determinism).
 *   3. Streaming (incident_update after each batch) gives what regroup
 *      gives as long as each host's alerts arrive in time order: an alert
 *      whose parent chain reaches a process the index does not know yet
 *      (the agent holds an exec record until its executable is hashed, up
 *      to 2 s, so its process may be known only from a later batch) is
 *      left pending, with every later alert of its host, until the host's
 *      records reach INCIDENT_SETTLE_NS past it (or incident_flush, at
 *      serve's stop). `triage` regroups from scratch, so its result never
 *      depends on arrival.
 * Crash: grouping writes inside the caller's transaction.
 */
#ifndef CUSTOS_COLL_INCIDENT_H
#define CUSTOS_COLL_INCIDENT_H

#include <stdint.h>
#include <jansson.h>

#include "store.h"

#define INCIDENT_WINDOW_NS (1800ull * 1000000000ull)	/* 30 minutes */
#define INCIDENT_DEPTH_MAX 64			/* parents followed at most */
#define INCIDENT_SETTLE_NS (5ull * 1000000000ull)	/* invariant 3 */

/* Whether a program (exe path, else comm) starts independent process
 * trees: its children are roots. Returns 1 or 0. */
int incident_boundary(const char *exe, const char *comm);

/* The root of the process tree of pid on host at wall time ts. OUT:
 * *root_pid, tree (STORE_TREE_MAX: the key), *known: 0 when the walk
 * stopped at a process the index does not know, else 1 (may be NULL).
 * Returns 0 or -CUSTOS_ERR_IO. */
int incident_tree(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], uint64_t pid,
		  int64_t ts, uint64_t *root_pid, char tree[STORE_TREE_MAX], int *known);

/* Put the ungrouped alerts into incidents (the rule above), leaving those
 * invariant 3 holds back. Call it inside a transaction. OUT: *opened (new
 * incidents), may be NULL. Returns 0 or -CUSTOS_ERR_IO. */
int incident_update(struct store *s, uint64_t *opened);

/* The same, holding nothing back, in a transaction of its own (serve's
 * stop: no later batch will settle what is pending). Returns 0 or
 * -CUSTOS_ERR_IO. */
int incident_flush(struct store *s, uint64_t *opened);

/* Forget all incidents and group every alert again from scratch
 * (invariant 2), in a transaction of its own. OUT: *opened, may be NULL.
 * Returns 0 or -CUSTOS_ERR_IO. */
int incident_regroup(struct store *s, uint64_t *opened);

/* The JSON object of an incident (`incidents --format jsonl`, export's
 * incidents.json; docs/triage.md) and of an alert with its evidence
 * references (export's alerts.json), host being the host's name. Return a
 * new reference, NULL when out of memory. (incident_cli.c) */
json_t *incident_json(const struct store_incident *inc, const char *host);
json_t *incident_alert_json(const struct store_alert *a, const char *host, const char *incident);

#endif
