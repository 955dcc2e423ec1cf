/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pseudo: keyed pseudonyms for the CSIRT profile (docs/export.md
 * "Pseudonymisation"). A pseudonym is the BLAKE2b-128 keyed hash
 * (libsodium crypto_generichash, 32-byte key) of
 * "custos-pseudonym-v1" NUL CLASS NUL VALUE, in lower-case hex; the same
 * key gives the same pseudonym for the same value, so a partner can still
 * correlate, and only the key holder can confirm a guess. The key never
 * goes into what is shared.
 */
#ifndef CUSTOS_COLL_PSEUDO_H
#define CUSTOS_COLL_PSEUDO_H

#include <stddef.h>
#include <stdint.h>

#define PSEUDO_KEY_LEN 32
#define PSEUDO_HEX_LEN 32	/* 16 bytes */

struct pseudo {
	int on;
	uint8_t key[PSEUDO_KEY_LEN];
};

/* Load the key from keyfile (64 hex digits and a newline), or, when
 * keyfile is NULL, make a random one and write it to newfile (0600,
 * created, must not exist). OUT: *p (on). Returns 0, -CUSTOS_ERR_IO,
 * -CUSTOS_ERR_MALFORMED (not such a file), -CUSTOS_ERR_EXISTS. */
int pseudo_init(struct pseudo *p, const char *keyfile, const char *newfile);

/* Wipe the key. Accepts NULL. */
void pseudo_wipe(struct pseudo *p);

/* The pseudonym of value in class ("user", "home", "ipv4", "ipv6").
 * OUT: out (33 bytes). */
void pseudo_token(const struct pseudo *p, const char *cls, const char *value, char out[33]);

/* 1 when the text is an internal address: RFC 1918 (10/8, 172.16/12,
 * 192.168/16), loopback (127/8, ::1) or IPv6 unique local (fc00::/7). */
int pseudo_internal(const char *addr);

/* An address for sharing: itself when external or p is off; else an
 * address of the same kind derived from its pseudonym (10/8 for every
 * internal IPv4 address, fd00::/8 for IPv6). OUT: out (64 bytes). */
void pseudo_addr(const struct pseudo *p, const char *addr, char out[64]);

/* A path or command line for sharing: each "/home/NAME" becomes
 * "/home/u-" and the first 16 hex digits of NAME's "home" pseudonym
 * (p off: unchanged). OUT: out (n bytes, truncated to fit). */
void pseudo_text(const struct pseudo *p, const char *text, char *out, size_t n);

/* A uid for sharing: "user-" and its "user" pseudonym of the decimal uid
 * (p off: the decimal uid). OUT: out (40 bytes). */
void pseudo_uid(const struct pseudo *p, uint64_t uid, char out[40]);

#endif
