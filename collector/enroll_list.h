/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enroll_list: `custos-collector enroll --list FILE`, many hosts enrolled
 * in one run, with one verification of the custody event log instead of
 * one per host. This module reads and checks the list; the entries are
 * appended by keystore_enroll_many (keystore.h), under one lock.
 *
 * The list: one host a line, `NAME KEYFILE` separated by spaces or tabs;
 * NAME as for `enroll --name` (1-64 of A-Z a-z 0-9 . _ -), KEYFILE a host
 * public key file (`host.pub`), relative to the list's own directory
 * unless absolute. Blank lines are skipped; `#` at the start of a field
 * starts a comment that runs to the end of the line. At most
 * ENROLL_LIST_LINE bytes a line, ENROLL_LIST_MAX hosts.
 *
 * Invariant: the list is refused as a whole (nothing written) when any
 * line is wrong: a bad name or field count, a key file that cannot be
 * read or is not a public key, a name or key that appears twice in the
 * list, or one the keystore already holds. Every such line is reported as
 * "FILE: line N: what" on stderr, not just the first.
 */
#ifndef CUSTOS_COLL_ENROLL_LIST_H
#define CUSTOS_COLL_ENROLL_LIST_H

#include <stddef.h>

#include "keystore.h"

#define ENROLL_LIST_LINE 4096
#define ENROLL_LIST_MAX 1000000

struct enroll_list {
	struct ks_enrolment *hosts;
	unsigned *lines;	/* the line of each host in the file */
	size_t count, cap;
};

/* Read and check the list at path against itself and against ks (whose
 * event log is already verified). Logs every problem with the file and
 * line. OUT: *l (enroll_list_free frees it). Returns 0, -CUSTOS_ERR_IO
 * (the list cannot be read), -CUSTOS_ERR_INVAL (some line is wrong, or
 * no host at all), -CUSTOS_ERR_NOMEM. */
int enroll_list_read(const char *path, const struct keystore *ks, struct enroll_list *l);

void enroll_list_free(struct enroll_list *l);

/* The whole command: open dir's keystore (one verification of the log),
 * read and check the list, enrol every host (keystore_enroll_many).
 * Returns 0 or the first error; on error nothing was enrolled unless the
 * failure came after the first entry (an I/O error), which it says. */
int enroll_list_run(const char *dir, const char *path);

#endif
