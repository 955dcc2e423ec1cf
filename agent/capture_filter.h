/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture_filter: the capture's filters, set up from struct capture_opts.
 * Most filtering happens in the kernel (bpf/common.bpf.h, file.bpf.c);
 * this module fills those maps and does the few checks the kernel cannot:
 * marking the processes whose executable matches an ignored prefix (at
 * start from /proc, then at each exec), dropping their records in the
 * moment between an exec and its mark, and matching refused reads against
 * the sensitive list by their joined path.
 */
#ifndef CUSTOS_AGENT_CAPTURE_FILTER_H
#define CUSTOS_AGENT_CAPTURE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"

struct capture_filter;

/* Fill the kernel's filter maps (fds of ignored_tgids, ignored_cgroups,
 * sensitive) from opts; copies what it keeps of opts. Each failure is
 * reported on stderr. OUT: *out. Returns 0 or a negative errno. */
int capture_filter_open(const struct capture_opts *opts, int tgids_fd, int cgroups_fd,
			int sensitive_fd, struct capture_filter **out);

/* Whether the ring-buffer record at data should be dropped; updates the
 * marks on exec records. Never drops a record it cannot parse (the
 * decoder then refuses it visibly). */
bool capture_filter_drop(struct capture_filter *f, const void *data, size_t size);

/* Free. Accepts NULL. */
void capture_filter_close(struct capture_filter *f);

#endif
