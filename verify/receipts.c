/* SPDX-License-Identifier: Apache-2.0 */
/*
 * custos-verify, the receipts: custody/receipts/ holds the collector's
 * signed acknowledgements that the agents kept (docs/agent.md), given to
 * the export with --receipts. Each must verify with the collector key
 * given on the command line and name exactly the batch of the same leaf
 * in evidence/: its host (one of the verified host keys), its sequence
 * number and its batch hash. A receipt is the agent's proof that the
 * collector took the batch at that place in its log at that time.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "bundle.h"
#include "error.h"
#include "verify.h"

/* "leaf-NNNNNNNN.ack" (8 or more digits). OUT: *leaf. Returns 0 or -1. */
static int leaf_of(const char *name, uint64_t *leaf)
{
	size_t n = strlen(name);
	char *end;

	if (n < 17 || n > 33 || strncmp(name, "leaf-", 5) != 0 ||
	    strcmp(name + n - 4, ".ack") != 0 || name[5] < '0' || name[5] > '9')
		return -1;
	*leaf = strtoull(name + 5, &end, 10);
	return end == name + n - 4 ? 0 : -1;
}

static void one_receipt(struct vr *v, const char *name, unsigned *good, char *first,
			char *last)
{
	char rel[300], file[96], what[64], when[48];
	uint8_t *p, *b = NULL;
	size_t n, bn, k;
	struct batch_view bv;
	struct ack a;
	uint64_t leaf;
	int ret;

	snprintf(rel, sizeof(rel), "custody/receipts/%s", name);
	if (leaf_of(name, &leaf)) {
		vr_fail(v, rel, NULL, "receipt", "not named leaf-NNNNNNNN.ack");
		return;
	}
	if (vr_read(v, rel, ACK_MAX, &p, &n)) {
		vr_fail(v, rel, NULL, "receipt", "unreadable or larger than an acknowledgement");
		return;
	}
	ret = ack_verify(p, n, v->cpk, &a);
	free(p);
	if (ret) {
		vr_fail(v, rel, NULL, "receipt signature", "%s: not an acknowledgement signed by "
			"the collector key given", custos_strerror(ret));
		return;
	}
	snprintf(what, sizeof(what), "(leaf %llu)", (unsigned long long)leaf);
	bundle_batch_file(leaf, file);
	if (a.leaf_index != leaf) {
		vr_fail(v, rel, what, "receipt", "the acknowledgement is for leaf %llu",
			(unsigned long long)a.leaf_index);
		return;
	}
	if (vr_read(v, file, CUSTOS_SIGNED_MAX, &b, &bn) || batch_parse(b, bn, &bv) != 0) {
		free(b);
		vr_fail(v, rel, what, "receipt", "%s is not in the bundle", file);
		return;
	}
	for (k = 0; k < v->nkeys && memcmp(v->keys[k].pk.sign_pk, a.host_id, 32) != 0; k++)
		;
	ret = k == v->nkeys || memcmp(bv.hdr.host_id, a.host_id, 32) != 0 ? 1 :
	      bv.hdr.seq != a.seq ? 2 : memcmp(bv.hash, a.batch_hash, CUSTOS_HASH_LEN) ? 3 : 0;
	free(b);
	if (ret) {
		vr_fail(v, rel, what, "receipt", "does not match %s: %s", file, ret == 1 ?
			"another host" : ret == 2 ? "another sequence number" : "another batch hash");
		return;
	}
	bundle_fmt_time((int64_t)a.received_unix_ns, when, 48);
	if (!first[0] || strcmp(when, first) < 0)
		snprintf(first, 48, "%s", when);
	if (strcmp(when, last) > 0)
		snprintf(last, 48, "%s", when);
	(*good)++;
}

int vr_receipts(struct vr *v)
{
	char dir[VR_PATH_MAX], first[48] = "", last[48] = "";
	struct dirent **d;
	unsigned good = 0, before = v->failures;
	int n;

	snprintf(dir, sizeof(dir), "%s/custody/receipts", v->dir);
	n = scandir(dir, &d, NULL, alphasort);
	if (n < 0) {
		printf("  note  no agent receipts in the bundle (custody/receipts/)\n");
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (d[i]->d_name[0] != '.' && !v->stop)
			one_receipt(v, d[i]->d_name, &good, first, last);
		free(d[i]);
	}
	free(d);
	if (v->failures == before && good)
		vr_ok(v, "%u agent receipts (custody/receipts/): each signed by the collector for "
		      "the very batch of its leaf in evidence/, received from %s to %s", good, first,
		      last);
	return v->stop ? -1 : 0;
}
