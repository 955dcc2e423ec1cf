/* SPDX-License-Identifier: Apache-2.0 */
/* Key generation, key files and fingerprints (see keys.h). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "error.h"
#include "keys.h"

#define SECRET_MAGIC "custos secret key v1"
#define PUBLIC_MAGIC "custos public key v1"
#define KEY_FILE_MAX 1024
#define FPR_HASH_LEN 40		/* 8 groups x 5 bytes */
#define FPR_DOMAIN "CUSTOS-FINGERPRINT-V1"

int custos_init(void)
{
	return sodium_init() < 0 ? -CUSTOS_ERR_CRYPTO_INIT : 0;
}

int keys_generate(struct custos_keypair *kp)
{
	crypto_sign_keypair(kp->pub.sign_pk, kp->sign_sk);
	crypto_box_keypair(kp->pub.box_pk, kp->box_sk);
	return 0;
}

int keys_from_seeds(struct custos_keypair *kp, const uint8_t sign_seed[KEYS_SEED_LEN],
		    const uint8_t box_seed[KEYS_SEED_LEN])
{
	if (crypto_sign_seed_keypair(kp->pub.sign_pk, kp->sign_sk, sign_seed) ||
	    crypto_box_seed_keypair(kp->pub.box_pk, kp->box_sk, box_seed))
		return -CUSTOS_ERR_INVAL;
	return 0;
}

void keys_wipe(struct custos_keypair *kp)
{
	if (kp)
		sodium_memzero(kp, sizeof(*kp));
}

static int write_file(const char *path, mode_t mode, const char *text, size_t n)
{
	int fd, ret = -CUSTOS_ERR_IO;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EEXIST ? -CUSTOS_ERR_EXISTS : -CUSTOS_ERR_IO;
	/* The umask may have narrowed mode; never let it widen a secret. */
	if (fchmod(fd, mode) == 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0)
		ret = 0;
	if (close(fd) != 0)
		ret = -CUSTOS_ERR_IO;
	if (ret)
		unlink(path);
	return ret;
}

static void put_hex_line(char *dst, size_t cap, size_t *off, const char *label,
			 const uint8_t *bin, size_t n)
{
	char hex[2 * KEYS_SIGN_SK_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), bin, n);
	*off += (size_t)snprintf(dst + *off, cap - *off, "%s %s\n", label, hex);
	sodium_memzero(hex, sizeof(hex));
}

int keys_save_secret(const char *path, const struct custos_keypair *kp)
{
	char text[KEY_FILE_MAX];
	size_t off = 0;
	int ret;

	off += (size_t)snprintf(text, sizeof(text), "%s\n", SECRET_MAGIC);
	put_hex_line(text, sizeof(text), &off, "sign-secret", kp->sign_sk, KEYS_SIGN_SK_LEN);
	put_hex_line(text, sizeof(text), &off, "box-secret", kp->box_sk, KEYS_BOX_SK_LEN);
	ret = write_file(path, 0600, text, off);
	sodium_memzero(text, sizeof(text));
	return ret;
}

int keys_save_public(const char *path, const struct custos_pubkey *pk)
{
	char text[KEY_FILE_MAX], fpr[KEYS_FPR_STRLEN];
	size_t off = 0;

	keys_fingerprint(pk, fpr);
	off += (size_t)snprintf(text, sizeof(text), "%s\n# fingerprint %s\n", PUBLIC_MAGIC, fpr);
	put_hex_line(text, sizeof(text), &off, "sign-public", pk->sign_pk, KEYS_SIGN_PK_LEN);
	put_hex_line(text, sizeof(text), &off, "box-public", pk->box_pk, KEYS_BOX_PK_LEN);
	return write_file(path, 0644, text, off);
}

/* Read a whole small file; for a secret, check its mode on the open
 * descriptor (no race between check and read). */
static int read_key_file(const char *path, bool secret, char *text, size_t cap)
{
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		ret = -CUSTOS_ERR_IO;
	else if (secret && (st.st_mode & 077))
		ret = -CUSTOS_ERR_KEY_PERMS;
	else if ((n = read(fd, text, cap - 1)) < 0)
		ret = -CUSTOS_ERR_IO;
	else if ((size_t)n == cap - 1)
		ret = -CUSTOS_ERR_KEY_FORMAT;	/* a key file is never this long */
	else
		text[n] = '\0';
	close(fd);
	return ret;
}

struct key_line {
	const char *label;
	uint8_t *out;
	size_t len;
};

/* Parse "MAGIC\n" then one "label hex" line per entry, in order; blank
 * lines and '#' comments may come anywhere after the magic. Lines are
 * counted one by one (blank ones too) so an error names the right line. */
static int parse_key_text(char *text, const char *magic, const struct key_line *want,
			  size_t nwant, int *line)
{
	size_t got = 0;
	int lineno = 0;
	char *l = text;

	while (*l) {
		char *eol = strchr(l, '\n');
		size_t lablen;
		const char *hex_end;

		if (eol)
			*eol = '\0';
		*line = ++lineno;
		if (lineno == 1) {
			if (strcmp(l, magic) != 0)
				return -CUSTOS_ERR_KEY_FORMAT;
		} else if (l[0] != '#' && l[0] != '\0') {
			if (got == nwant)
				return -CUSTOS_ERR_KEY_FORMAT;
			lablen = strlen(want[got].label);
			if (strncmp(l, want[got].label, lablen) != 0 || l[lablen] != ' ' ||
			    strlen(l + lablen + 1) != 2 * want[got].len ||
			    sodium_hex2bin(want[got].out, want[got].len, l + lablen + 1,
					   2 * want[got].len, NULL, NULL, &hex_end) != 0 || *hex_end)
				return -CUSTOS_ERR_KEY_FORMAT;
			got++;
		}
		if (!eol)
			break;
		l = eol + 1;
	}
	if (got != nwant) {
		*line = lineno + 1;	/* the line that should have come */
		return -CUSTOS_ERR_KEY_FORMAT;
	}
	*line = 0;
	return 0;
}

int keys_load_secret(const char *path, struct custos_keypair *kp, int *line)
{
	char text[KEY_FILE_MAX];
	uint8_t box_pk[KEYS_BOX_PK_LEN];
	const struct key_line want[] = {
		{ "sign-secret", kp->sign_sk, KEYS_SIGN_SK_LEN },
		{ "box-secret", kp->box_sk, KEYS_BOX_SK_LEN },
	};
	int ret;

	*line = 0;
	memset(kp, 0, sizeof(*kp));
	ret = read_key_file(path, true, text, sizeof(text));
	if (!ret)
		ret = parse_key_text(text, SECRET_MAGIC, want, 2, line);
	sodium_memzero(text, sizeof(text));
	if (!ret && (crypto_sign_ed25519_sk_to_pk(kp->pub.sign_pk, kp->sign_sk) != 0 ||
		     crypto_scalarmult_base(box_pk, kp->box_sk) != 0))
		ret = -CUSTOS_ERR_KEY_FORMAT;
	if (!ret) {
		uint8_t seed[KEYS_SEED_LEN], pk_again[KEYS_SIGN_PK_LEN], sk_again[KEYS_SIGN_SK_LEN];

		/* An Ed25519 secret is seed || public key: re-derive it from the
		 * seed so a corrupted file is caught here, not at the first
		 * signature that no one can verify. */
		crypto_sign_ed25519_sk_to_seed(seed, kp->sign_sk);
		crypto_sign_seed_keypair(pk_again, sk_again, seed);
		if (sodium_memcmp(sk_again, kp->sign_sk, KEYS_SIGN_SK_LEN) != 0)
			ret = -CUSTOS_ERR_KEY_FORMAT;
		sodium_memzero(seed, sizeof(seed));
		sodium_memzero(sk_again, sizeof(sk_again));
		memcpy(kp->pub.box_pk, box_pk, sizeof(box_pk));
	}
	if (ret)
		keys_wipe(kp);
	return ret;
}

int keys_load_public(const char *path, struct custos_pubkey *pk, int *line)
{
	char text[KEY_FILE_MAX];
	const struct key_line want[] = {
		{ "sign-public", pk->sign_pk, KEYS_SIGN_PK_LEN },
		{ "box-public", pk->box_pk, KEYS_BOX_PK_LEN },
	};
	int ret;

	*line = 0;
	memset(pk, 0, sizeof(*pk));
	ret = read_key_file(path, false, text, sizeof(text));
	if (!ret)
		ret = parse_key_text(text, PUBLIC_MAGIC, want, 2, line);
	return ret;
}

void keys_fingerprint(const struct custos_pubkey *pk, char out[KEYS_FPR_STRLEN])
{
	uint8_t h[FPR_HASH_LEN];
	crypto_generichash_state st;
	size_t off = 0;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)FPR_DOMAIN, sizeof(FPR_DOMAIN));
	crypto_generichash_update(&st, pk->sign_pk, sizeof(pk->sign_pk));
	crypto_generichash_update(&st, pk->box_pk, sizeof(pk->box_pk));
	crypto_generichash_final(&st, h, sizeof(h));
	for (int g = 0; g < FPR_HASH_LEN / 5; g++) {
		uint64_t v = 0;

		for (int i = 0; i < 5; i++)
			v = v << 8 | h[g * 5 + i];
		off += (size_t)snprintf(out + off, KEYS_FPR_STRLEN - off, g ? " %05llu" : "%05llu",
					(unsigned long long)(v % 100000));
	}
}
