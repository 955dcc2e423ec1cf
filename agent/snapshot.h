/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot: the processes already running when the agent starts, read
 * from /proc, as snapshot records (docs/format.md 2.3, kind 10: the exec
 * body, result 0, filename empty), so that they appear in the timeline
 * with their executable, arguments, working directory and credentials.
 */
#ifndef CUSTOS_AGENT_SNAPSHOT_H
#define CUSTOS_AGENT_SNAPSHOT_H

#include <stdint.h>

#include "record.h"

/* Called for each process; a negative return stops the walk. */
typedef int (*snapshot_fn)(void *ctx, const struct custos_record *rec);

/* Walk proc_root ("/proc") and call fn for every process that could be
 * read (a process that exits during the walk, a kernel thread and a zombie
 * are skipped). ts_ns is the
 * records' time (CLOCK_BOOTTIME ns). OUT: *count, records delivered.
 * Returns 0, -CUSTOS_ERR_IO (proc_root unreadable), -CUSTOS_ERR_NOMEM, or
 * fn's negative value. */
int snapshot_walk(const char *proc_root, uint64_t ts_ns, snapshot_fn fn, void *ctx,
		  uint64_t *count);

/* Fill *rec (zeroed first) from proc_root/pid. Returns 0, or
 * -CUSTOS_ERR_IO when the process is gone or unreadable. */
int snapshot_process(const char *proc_root, uint64_t pid, uint64_t ts_ns,
		     struct custos_record *rec);

#endif
