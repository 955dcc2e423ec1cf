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
 * sensitive and its Bloom filter sensitive_filter) from opts, and set
 * filter_on once opts (or a reload's) ignore anything; copies what it
 * keeps of opts. Each failure is reported on stderr. OUT: *out. Returns
 * 0 or a negative errno. */
int capture_filter_open(const struct capture_opts *opts, int tgids_fd, int cgroups_fd,
			int sensitive_fd, int bloom_fd, int on_fd, struct capture_filter **out);

/* Whether the ring-buffer record at data should be dropped; updates the
 * marks on exec records. Never drops a record it cannot parse (the
 * decoder then refuses it visibly). */
bool capture_filter_drop(struct capture_filter *f, const void *data, size_t size);

/* Free. Accepts NULL. */
void capture_filter_close(struct capture_filter *f);

/* Replace the executable prefixes, ignored cgroups and sensitive list
 * with opts' on a running capture (SIGHUP). Nothing changes when a
 * sensitive path is not absolute (-EINVAL). New keys enter the kernel's
 * maps before old ones leave, so an entry on both lists is never missing.
 * Processes are marked again from /proc where the exe link is readable;
 * the others keep their mark until capture_filter_mark_exe decides.
 * Failures are reported on stderr. Returns 0 or a negative errno (the
 * lists may then be partly applied). */
int capture_filter_reload(struct capture_filter *f, const struct capture_opts *opts);

/* Mark or unmark one running process by its executable against the
 * current prefixes. Returns whether it is ignored. */
bool capture_filter_mark_exe(struct capture_filter *f, uint32_t tgid, const char *exe, size_t len);

#endif
