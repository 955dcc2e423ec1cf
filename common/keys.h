/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys of hosts and collectors. Every principal has two independent key
 * pairs, as libsodium recommends rather than converting one into the other:
 * Ed25519 (crypto_sign) to sign batches, acknowledgements and tree heads,
 * and X25519 (crypto_box) to receive sealed boxes. A host's identity (its
 * "host id") is its Ed25519 public key.
 *
 * Key files are short text files (docs/format.md "Key files"). Secret key
 * files are created 0600 and never overwritten; loading refuses one that
 * group or others may access, as OpenSSH does.
 */
#ifndef CUSTOS_KEYS_H
#define CUSTOS_KEYS_H

#include <stdint.h>

#define KEYS_SIGN_PK_LEN 32
#define KEYS_SIGN_SK_LEN 64
#define KEYS_BOX_PK_LEN 32
#define KEYS_BOX_SK_LEN 32
#define KEYS_SEED_LEN 32
/* "12345 67890 ... " : 8 groups of 5 digits, spaces, NUL */
#define KEYS_FPR_STRLEN 48

struct custos_pubkey {
	uint8_t sign_pk[KEYS_SIGN_PK_LEN];
	uint8_t box_pk[KEYS_BOX_PK_LEN];
};

struct custos_keypair {
	struct custos_pubkey pub;
	uint8_t sign_sk[KEYS_SIGN_SK_LEN];
	uint8_t box_sk[KEYS_BOX_SK_LEN];
};

/* Initialise libsodium; call once before any other custos function.
 * Returns 0 or -CUSTOS_ERR_CRYPTO_INIT. */
int custos_init(void);

/* Fresh random key pairs. OUT: *kp. Returns 0. */
int keys_generate(struct custos_keypair *kp);

/* Deterministic key pairs from two seeds (test vectors, never production).
 * OUT: *kp. Returns 0 or -CUSTOS_ERR_INVAL. */
int keys_from_seeds(struct custos_keypair *kp, const uint8_t sign_seed[KEYS_SEED_LEN],
		    const uint8_t box_seed[KEYS_SEED_LEN]);

/* Wipe secret material. Accepts NULL. */
void keys_wipe(struct custos_keypair *kp);

/* Write the secret key file (created 0600, O_EXCL: an existing file is
 * never replaced) and fsync it. Returns 0, -CUSTOS_ERR_EXISTS, -CUSTOS_ERR_IO. */
int keys_save_secret(const char *path, const struct custos_keypair *kp);

/* Write the public key file (0644, O_EXCL). Same returns. */
int keys_save_public(const char *path, const struct custos_pubkey *pk);

/* Load a secret key file and check that its public halves match its
 * secrets. OUT: *kp; *line, the line of a format error (0 otherwise).
 * Returns 0, -CUSTOS_ERR_KEY_PERMS (group/other access), -CUSTOS_ERR_KEY_FORMAT,
 * -CUSTOS_ERR_IO. */
int keys_load_secret(const char *path, struct custos_keypair *kp, int *line);

/* Load a public key file. OUT: *pk, *line. Returns 0,
 * -CUSTOS_ERR_KEY_FORMAT, -CUSTOS_ERR_IO. */
int keys_load_public(const char *path, struct custos_pubkey *pk, int *line);

/* The fingerprint two people compare on the phone: BLAKE2b-320 over both
 * public keys, read as 8 groups of 5 decimal digits. OUT: out. */
void keys_fingerprint(const struct custos_pubkey *pk, char out[KEYS_FPR_STRLEN]);

#endif
