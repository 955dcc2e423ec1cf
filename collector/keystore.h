/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keystore: the collector's own keys and the hosts it accepts evidence
 * from. Enrolment and revocation are entries of the chain-of-custody event
 * log, custody/events.jsonl, and the set of enrolled hosts is nothing but
 * the replay of that log: there is no second list that could disagree
 * with it. docs/collector.md section "Chain-of-custody event log" gives
 * the entry format and why it is a log of its own beside the Merkle log.
 *
 * Invariants:
 *   1. Entry i holds "prev" = BLAKE2b-256 of entry i-1's line (without its
 *      newline; 32 zero bytes for entry 0) and "seq" = i, and a collector
 *      Ed25519 signature over its other fields; a log where any of this
 *      fails to verify is refused as a whole (CUSTOS_ERR_MALFORMED /
 *      BAD_SIGNATURE): evidence of tampering, not something to repair.
 *   2. Entries are only appended, each one line written with one write()
 *      under an exclusive flock of the file, then fsynced; the command
 *      reports success only after the fsync. `enroll --list` holds one
 *      flock for all its hosts but still writes and fsyncs each entry
 *      before the next (never many lines in one write: a crash may then
 *      tear only the last line, never leave a damaged line before a whole
 *      one), and reports each host once its fsync is done.
 *   3. A host name and a host id are enrolled at most once; a revoked host
 *      stays revoked.
 * Crash: a line cut short by a crash (no final newline) was never
 * reported as done; reading stops before it and appending refuses to
 * write after it (the operator must look), so no entry is ever lost or
 * rewritten silently.
 */
#ifndef CUSTOS_COLL_KEYSTORE_H
#define CUSTOS_COLL_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "keys.h"
#include "record.h"

#define KS_NAME_MAX 64		/* host names: [A-Za-z0-9._-], 1-64 bytes */
#define KS_LOGNAME_MAX 255	/* the custody log's origin name */

struct ks_host {
	char name[KS_NAME_MAX + 1];
	struct custos_pubkey pk;
	int revoked;
	uint64_t enrolled_ns, revoked_ns;
};

struct keystore {
	char dir[4096];
	struct custos_keypair kp;	/* the collector's keys */
	char logname[KS_LOGNAME_MAX + 1];
	struct ks_host *hosts;
	size_t count, cap;
	uint64_t events;		/* entries read */
	uint8_t last_hash[CUSTOS_HASH_LEN];
	off_t events_read;		/* bytes of the log consumed */
};

/* Load the collector's secret key (secret set; else only its public key,
 * for read-only commands), its log name and the event log of dir.
 * OUT: *ks (keystore_close frees it). Returns 0, the errors of
 * keys_load_secret or keys_load_public, -CUSTOS_ERR_IO, -CUSTOS_ERR_MALFORMED or
 * -CUSTOS_ERR_BAD_SIGNATURE (event log damaged). */
int keystore_open(struct keystore *ks, const char *dir, int secret);

/* Wipe the keys and free the host list. Accepts NULL. */
void keystore_close(struct keystore *ks);

/* Read entries appended since the last read (enroll/revoke run while the
 * collector serves). Returns 0 or the errors of keystore_open. */
int keystore_reload(struct keystore *ks);

/* The host with this id, enrolled or revoked, or NULL. */
const struct ks_host *keystore_host(const struct keystore *ks,
				    const uint8_t host_id[KEYS_SIGN_PK_LEN]);

/* batch_host_lookup over a struct keystore: 0 when host_id is enrolled
 * and not revoked, else -CUSTOS_ERR_UNKNOWN_HOST. */
int keystore_lookup(void *ks, const uint8_t host_id[KEYS_SIGN_PK_LEN]);

/* batch_host_lookup for evidence already archived (export, incident
 * show): 0 when host_id was enrolled, revoked since or not (a revoked
 * host's earlier batches are still evidence), else
 * -CUSTOS_ERR_UNKNOWN_HOST. */
int keystore_known(void *ks, const uint8_t host_id[KEYS_SIGN_PK_LEN]);

/* The name of a host id for display: its enrolled name, else "?". */
const char *keystore_name(const struct keystore *ks, const uint8_t host_id[KEYS_SIGN_PK_LEN]);

/* Append one entry of another kind to the event log (export.c: "export"),
 * e with its own fields; seq, prev, unix_ns, actor, log_size and sig are
 * added, then it is signed and appended as enrolments are (invariant 2).
 * e is consumed. Needs the secret key. Returns 0, -CUSTOS_ERR_IO,
 * -CUSTOS_ERR_MALFORMED (the log ends in a torn line), -CUSTOS_ERR_NOMEM. */
struct json_t;
int keystore_event_append(struct keystore *ks, struct json_t *e);

/* 1 when name is a valid host name ([A-Za-z0-9._-], 1-64 bytes), else 0. */
int keystore_name_ok(const char *name);

/* The host enrolled under this name, revoked or not, or NULL. */
const struct ks_host *keystore_host_named(const struct keystore *ks, const char *name);

struct ks_enrolment {
	char name[KS_NAME_MAX + 1];	/* keystore_name_ok */
	struct custos_pubkey pk;
};

/* Enrol n hosts as `enroll` does, under one lock of the event log: catch
 * up with entries appended since ks was read (only those are verified),
 * refuse the whole set if any name or key is already in the keystore
 * (nothing written), then append one entry per host in order, each with
 * its own write() and fsync (invariant 2), printing each host's
 * "enrolled / host id / fingerprint" lines on stdout once its fsync is
 * done. The caller has checked the hosts against each other. Needs the
 * secret key. OUT: *bad, the index of the host that conflicts or whose
 * entry failed (n if none); a failure after k entries leaves those k
 * enrolled and printed. Returns 0, -CUSTOS_ERR_EXISTS, or the errors of
 * keystore_event_append. */
int keystore_enroll_many(struct keystore *ks, const struct ks_enrolment *hosts, size_t n,
			 size_t *bad);

/* Revoke the enrolled host named name, under the event log's lock: catch
 * up with entries appended since ks was read, refuse (message on stderr,
 * nothing written) when no host of that name is enrolled or it is already
 * revoked, else append the revoke entry (reason may be NULL: empty).
 * Needs the secret key. Returns 0, -CUSTOS_ERR_INVAL, or the errors of
 * keystore_event_append. */
int keystore_revoke(struct keystore *ks, const char *name, const char *reason);

#endif
