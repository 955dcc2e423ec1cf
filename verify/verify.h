/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify's shared state and report: every check of a bundle
 * (docs/export.md "What custos-verify checks") reports through vr_ok and
 * vr_fail, which print one plain line each; the first failure stops the
 * run unless --all was given. Depends on common/ (libcustos) only.
 */
#ifndef CUSTOS_VERIFY_H
#define CUSTOS_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "bundle.h"
#include "checkpoint.h"
#include "keys.h"

#define VR_PATH_MAX 4096
#define VR_FILE_MAX (CUSTOS_SIGNED_MAX + 1)	/* largest file read whole, but JSON */

struct vr_key {
	char host[BUNDLE_NAME_MAX + 1];
	struct custos_pubkey pk;
};

struct vr {
	const char *dir;
	int all, stop;
	unsigned failures, checks;
	uint8_t cpk[KEYS_SIGN_PK_LEN];		/* --collector-key */
	json_t *manifest;			/* parsed, after its signature checked */
	json_t *events;				/* entries, after the chain checked */
	char logname[CHECKPOINT_NAME_MAX + 1];
	struct vr_key keys[64];
	size_t nkeys;
	struct checkpoint cp;
	int have_cp;
};

/* One passed check, printed "  ok    <text>". */
void vr_ok(struct vr *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One failed check of file (and batch, may be NULL): "  FAIL  <file>
 * [batch]: <check>: <detail>". Sets v->stop unless --all. */
void vr_fail(struct vr *v, const char *file, const char *batch, const char *check,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Read DIR/rel whole (at most max bytes). OUT: *p (malloc'd, NUL added),
 * *n. Returns 0, -CUSTOS_ERR_IO (missing or unreadable: errno kept),
 * -CUSTOS_ERR_OVERSIZED. */
int vr_read(const struct vr *v, const char *rel, size_t max, uint8_t **p, size_t *n);

/* SHA-256 of DIR/rel read in pieces (a regular file, no symlink). OUT: h,
 * *n (its size). Returns 0, -CUSTOS_ERR_IO, -CUSTOS_ERR_INVAL. */
int vr_sha256(const struct vr *v, const char *rel, uint8_t h[32], uint64_t *n);

/* The checks, in the order the report shows them (checks.c, evidence.c).
 * Each returns 0 when it could run to its end (failures are counted in v),
 * -1 when a failure makes the later checks meaningless. */
int vr_manifest(struct vr *v);
int vr_events_keys(struct vr *v);
int vr_evidence(struct vr *v);

/* alerts.json and incidents.json point at the bundle's evidence
 * (findings.c); failures are counted in v. */
void vr_findings(struct vr *v, const struct bundle_proofs *p);

/* custody/receipts/ (receipts.c): each file leaf-NNNNNNNN.ack an
 * acknowledgement signed by the collector key given, for the batch
 * evidence/leaf-NNNNNNNN.batch (leaf, host id of a verified host key, seq,
 * batch hash). Same returns as the checks above. */
int vr_receipts(struct vr *v);

/* compare.c: a derived file checked while it is derived. vr_cmp_open
 * returns a write-only stream whose bytes are compared with DIR/rel as
 * they are written (the file read forward, in pieces; nothing held whole).
 * OUT: *c (the comparison, for vr_cmp_close or vr_cmp_discard). Returns
 * NULL only when out of memory; a missing file is reported at close. */
struct vr_cmp;
FILE *vr_cmp_open(const struct vr *v, const char *rel, struct vr_cmp **c);

/* Flush f, close both and report through v: ok when DIR/rel is exactly
 * the bytes written, else a failure naming the line of the first
 * difference (or the file missing or unreadable). Accepts NULLs. */
void vr_cmp_close(struct vr *v, FILE *f, struct vr_cmp *c);

/* Close both without reporting (the run stopped earlier). Accepts NULLs. */
void vr_cmp_discard(FILE *f, struct vr_cmp *c);

/* tar.c: the largest member accepted from an archive. */
#define VR_TAR_MEMBER_MAX (UINT64_C(16) << 30)

/* Unpack the bundle archive tar into a new private directory (tar.c).
 * OUT: tmp (the private directory, to give vr_tar_cleanup; "" when none
 * was made), dir (the bundle directory in it), why (the reason of a
 * refusal). Returns 0, or -1 when the archive is unreadable or refused. */
int vr_tar_unpack(const char *tar, char *tmp, size_t tmp_n, char *dir, size_t dir_n, char *why,
		  size_t why_n);

/* Remove the private directory and everything in it. Accepts "" and NULL. */
void vr_tar_cleanup(const char *tmp);

#endif
