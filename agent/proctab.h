/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proctab: the agent's table of live processes, fed by the records in
 * the order the agent takes them (snapshot at start, then fork, exec and
 * exit from the kernel): for each process its parent, its executable and
 * its start time, which with the boot id make its stable process id
 * (common/procid.h). The agent uses it to give exec and snapshot records
 * the parent's start time (parent_start_ns, docs/format.md 2.3), so the
 * parent's stable id is in the evidence, and to mark the processes of an
 * ignored executable again when the configuration is reloaded. Bounded:
 * a fixed number of entries, the least recently seen evicted first.
 */
#ifndef CUSTOS_AGENT_PROCTAB_H
#define CUSTOS_AGENT_PROCTAB_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define PROCTAB_MAX_DEFAULT 32768
#define PROCTAB_EXE_MAX 1024		/* longer paths are kept cut (exe_truncated) */

struct proctab_entry {
	uint64_t pid, ppid;
	uint64_t start_ns;		/* boot ns; tick precision when from /proc */
	int start_exact;		/* 1: from the kernel (exec, fork, exit) */
	char exe[PROCTAB_EXE_MAX + 1];	/* NUL-terminated; "" unknown */
	uint32_t exe_len;
	int exe_truncated;
	/* private */
	int32_t hnext, prev, next;
	int used;
};

struct proctab_stats {
	uint64_t entries;	/* now */
	uint64_t added, removed;	/* by exit */
	uint64_t evicted;	/* the table was full: least recently seen dropped */
	uint64_t reused;	/* a pid seen again with another start time */
};

struct proctab;

/* A table of at most max entries (at least 2). OUT: *out. Returns 0,
 * -CUSTOS_ERR_INVAL, -CUSTOS_ERR_NOMEM. */
int proctab_open(size_t max, struct proctab **out);

/* Free. Accepts NULL. */
void proctab_close(struct proctab *t);

/* Take one record: snapshot and exec set the process's parent, exe and
 * start (a failed exec changes nothing); fork adds the child (a new
 * thread is not a process) with its parent's exe; exit removes the
 * process; any other record with a subject marks it as seen. */
void proctab_update(struct proctab *t, const struct custos_record *rec);

/* The live process pid, or NULL. Valid until the next update. */
const struct proctab_entry *proctab_get(const struct proctab *t, uint64_t pid);

/* For an exec or snapshot record: set parent_start_ns from the parent's
 * entry (0 when the parent is unknown). Call before proctab_update. */
void proctab_enrich(const struct proctab *t, struct custos_record *rec);

/* Call fn for every live process. */
void proctab_each(const struct proctab *t, void (*fn)(void *ctx, const struct proctab_entry *e),
		  void *ctx);

/* Counters. OUT: *st. */
void proctab_get_stats(const struct proctab *t, struct proctab_stats *st);

#endif
