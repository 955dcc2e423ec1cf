/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pseudo: keyed pseudonyms of user ids, home directories and internal
 * addresses for the CSIRT profile (pseudo.h, docs/export.md
 * "Pseudonymisation"): the key file, the hash, and where in a value the
 * pseudonym goes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "error.h"
#include "pseudo.h"

#define PSEUDO_DOMAIN "custos-pseudonym-v1"

int pseudo_init(struct pseudo *p, const char *keyfile, const char *newfile)
{
	char hex[2 * PSEUDO_KEY_LEN + 2];
	size_t got = 0;
	ssize_t n;
	int fd;

	memset(p, 0, sizeof(*p));
	if (!keyfile) {
		randombytes_buf(p->key, sizeof(p->key));
		sodium_bin2hex(hex, sizeof(hex), p->key, sizeof(p->key));
		hex[2 * PSEUDO_KEY_LEN] = '\n';
		fd = open(newfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return errno == EEXIST ? -CUSTOS_ERR_EXISTS : -CUSTOS_ERR_IO;
		n = write(fd, hex, 2 * PSEUDO_KEY_LEN + 1);
		if (fsync(fd) != 0 || close(fd) != 0 || n != 2 * PSEUDO_KEY_LEN + 1)
			return -CUSTOS_ERR_IO;
		sodium_memzero(hex, sizeof(hex));
		p->on = 1;
		return 0;
	}
	fd = open(keyfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -CUSTOS_ERR_IO;
	n = read(fd, hex, sizeof(hex));
	close(fd);
	if (n != 2 * PSEUDO_KEY_LEN + 1 || hex[2 * PSEUDO_KEY_LEN] != '\n' ||
	    sodium_hex2bin(p->key, sizeof(p->key), hex, 2 * PSEUDO_KEY_LEN, NULL, &got, NULL) ||
	    got != PSEUDO_KEY_LEN) {
		sodium_memzero(hex, sizeof(hex));
		return -CUSTOS_ERR_MALFORMED;
	}
	sodium_memzero(hex, sizeof(hex));
	p->on = 1;
	return 0;
}

void pseudo_wipe(struct pseudo *p)
{
	if (p)
		sodium_memzero(p, sizeof(*p));
}

void pseudo_token(const struct pseudo *p, const char *cls, const char *value, char out[33])
{
	crypto_generichash_state st;
	uint8_t h[PSEUDO_HEX_LEN / 2];

	crypto_generichash_init(&st, p->key, sizeof(p->key), sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)PSEUDO_DOMAIN, sizeof(PSEUDO_DOMAIN));
	crypto_generichash_update(&st, (const uint8_t *)cls, strlen(cls) + 1);
	crypto_generichash_update(&st, (const uint8_t *)value, strlen(value));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

int pseudo_internal(const char *addr)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168);
	if (inet_pton(AF_INET6, addr, a) == 1) {
		static const uint8_t loop[16] = { [15] = 1 };

		return memcmp(a, loop, 16) == 0 || (a[0] & 0xfe) == 0xfc;
	}
	return 0;
}

void pseudo_addr(const struct pseudo *p, const char *addr, char out[64])
{
	uint8_t a[16];
	char t[33];
	int v6 = strchr(addr, ':') != NULL;

	if (!p->on || !pseudo_internal(addr)) {
		snprintf(out, 64, "%s", addr);
		return;
	}
	pseudo_token(p, v6 ? "ipv6" : "ipv4", addr, t);
	sodium_hex2bin(a, sizeof(a), t, 32, NULL, NULL, NULL);
	if (!v6) {
		snprintf(out, 64, "10.%u.%u.%u", a[0], a[1], a[2]);
		return;
	}
	a[0] = 0xfd;
	inet_ntop(AF_INET6, a, out, 64);
}

void pseudo_text(const struct pseudo *p, const char *text, char *out, size_t n)
{
	static const char home[] = "/home/";
	size_t o = 0;

	while (*text && o + 1 < n) {
		const char *end;
		char name[256], t[33];
		size_t len;

		if (!p->on || strncmp(text, home, sizeof(home) - 1) != 0) {
			out[o++] = *text++;
			continue;
		}
		text += sizeof(home) - 1;
		end = text + strcspn(text, "/ \t");
		len = (size_t)(end - text) < sizeof(name) ? (size_t)(end - text) : sizeof(name) - 1;
		memcpy(name, text, len);
		name[len] = 0;
		pseudo_token(p, "home", name, t);
		o += (size_t)snprintf(out + o, n - o, "/home/u-%.16s", t);
		if (o >= n)
			o = n - 1;
		text = end;
	}
	out[o < n ? o : n - 1] = 0;
}

void pseudo_uid(const struct pseudo *p, uint64_t uid, char out[40])
{
	char num[24], t[33];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)uid);
	if (!p->on) {
		snprintf(out, 40, "%s", num);
		return;
	}
	pseudo_token(p, "user", num, t);
	snprintf(out, 40, "user-%s", t);
}
