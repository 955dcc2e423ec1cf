/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints as C2SP signed notes (see checkpoint.h, docs/custody.md 4).
 * Reading goes in three passes over untrusted bytes, each with its own
 * errors: the envelope (note_parse: limits, encoding, where the signatures
 * start, the syntax of every signature line), the checkpoint body
 * (body_parse), then the signatures of the expected key (note_verify).
 * Nothing is copied; every pointer stays inside the input.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "checkpoint.h"
#include "error.h"

#define SIG_PREFIX "\xe2\x80\x94 "	/* em dash U+2014, space */
#define SIG_PREFIX_LEN 4
#define SIG_TYPE_ED25519 0x01		/* signed-note "Signature types" */
#define NOTE_SIG_LEN (CHECKPOINT_KEY_ID_LEN + crypto_sign_BYTES)	/* 68 */
#define NOTE_SIG_B64_SIZE sodium_base64_ENCODED_LEN(NOTE_SIG_LEN, sodium_base64_VARIANT_ORIGINAL)
#define ROOT_B64_SIZE sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)
#define SIZE_DIGITS_MAX 20		/* UINT64_MAX has 20 */
#define B64 sodium_base64_VARIANT_ORIGINAL

/* Where the parts of a note lie: text p[0..text_len), then the blank
 * line, then nsigs signature lines p[sigs_off..n). */
struct note_view {
	size_t text_len;
	size_t sigs_off;
	unsigned nsigs;
};

struct sig_line {
	const uint8_t *name;
	size_t name_len;
	const char *b64;
	size_t b64_len;
};

/* One UTF-8 sequence at p (n > 0 bytes left). Returns its length with the
 * code point in *cp, or 0 for an invalid one (bad lead or continuation
 * byte, cut short, overlong, surrogate, past U+10FFFF). */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* signed-note: "Signed notes MUST be valid UTF-8 and MUST NOT contain any
 * ASCII control characters (those below U+0020) other than newline." */
static bool text_ok(const uint8_t *p, size_t n)
{
	uint32_t c;
	size_t l;

	for (size_t i = 0; i < n; i += l) {
		l = utf8_next(p + i, n - i, &c);
		if (l == 0 || (c < 0x20 && c != '\n'))
			return false;
	}
	return true;
}

/* Unicode White_Space (what the Go reference's unicode.IsSpace tests). */
static bool is_space(uint32_t c)
{
	switch (c) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return true;
	default:
		return c >= 0x2000 && c <= 0x200a;
	}
}

/* signed-note: "Key names MUST be non-empty and MUST NOT contain any
 * Unicode spaces or plus (U+002B) characters." (The bytes are already
 * known to be valid UTF-8.) */
static bool note_name_ok(const uint8_t *p, size_t n)
{
	uint32_t c;
	size_t l;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i += l) {
		l = utf8_next(p + i, n - i, &c);
		if (l == 0 || c == '+' || is_space(c))
			return false;
	}
	return true;
}

/* The names Custos itself signs with and expects: a narrower set, printable
 * ASCII without '+', so that they also make a valid origin line. Returns
 * the length, or 0 when name is not one. */
static size_t our_name_len(const char *name)
{
	size_t n;

	if (!name)
		return 0;
	n = strnlen(name, CHECKPOINT_NAME_MAX + 1);
	if (n == 0 || n > CHECKPOINT_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x21 || name[i] > 0x7e || name[i] == '+')
			return 0;
	return n;
}

/* libsodium 1.0.18 looks characters up through a plain char, so on x86 a
 * byte 0x80-0xff decodes as if it were '/': a note could then be changed
 * without its key (found by fuzz_checkpoint). Check the alphabet first. */
static bool b64_alphabet(const char *s, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || !strchr(alphabet, s[i]))
			return false;
	return true;
}

/* Standard padded base64 (RFC 4648 section 4), strictly: length a multiple
 * of 4, '=' only at the end, unused bits zero. Decodes group by group so
 * that a signature of any length is checked without a buffer for it; the
 * first `keep` bytes go to out. OUT: *total, the decoded length.
 * Returns 0 or -1. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t keep, size_t *total)
{
	uint8_t grp[3];
	size_t got;

	*total = 0;
	if (n == 0 || n % 4 != 0 || !b64_alphabet(s, n))
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		if (i + 4 < n && memchr(s + i, '=', 4))
			return -1;
		if (sodium_base642bin(grp, sizeof(grp), s + i, 4, NULL, &got, NULL, B64) != 0)
			return -1;
		for (size_t j = 0; j < got; j++)
			if (*total + j < keep)
				out[*total + j] = grp[j];
		*total += got;
	}
	return 0;
}

/* "— <key name> <base64>" (without its newline). Returns 0 or
 * -CUSTOS_ERR_MALFORMED. */
static int sig_line_parse(const uint8_t *s, size_t len, struct sig_line *l)
{
	const uint8_t *sp;
	size_t total;
	uint8_t head[CHECKPOINT_KEY_ID_LEN];

	if (len < SIG_PREFIX_LEN || memcmp(s, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
		return -CUSTOS_ERR_MALFORMED;
	s += SIG_PREFIX_LEN;
	len -= SIG_PREFIX_LEN;
	sp = memchr(s, ' ', len);
	if (!sp)
		return -CUSTOS_ERR_MALFORMED;
	l->name = s;
	l->name_len = (size_t)(sp - s);
	l->b64 = (const char *)sp + 1;
	l->b64_len = len - l->name_len - 1;
	if (!note_name_ok(l->name, l->name_len))
		return -CUSTOS_ERR_MALFORMED;
	/* "Signatures are the base64 encoding of 4+n bytes": a key ID and at
	 * least one byte of signature. */
	if (b64_decode(l->b64, l->b64_len, head, sizeof(head), &total) != 0 ||
	    total <= CHECKPOINT_KEY_ID_LEN)
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

/* The envelope. Returns 0, -CUSTOS_ERR_OVERSIZED, -CUSTOS_ERR_TRUNCATED,
 * -CUSTOS_ERR_MALFORMED. */
static int note_parse(const uint8_t *p, size_t n, struct note_view *v)
{
	struct sig_line l;
	size_t i, end;
	int ret;

	memset(v, 0, sizeof(*v));
	if (n > CHECKPOINT_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	/* Every line, the last signature line included, ends in a newline. */
	if (n == 0 || p[n - 1] != '\n')
		return -CUSTOS_ERR_TRUNCATED;
	if (!text_ok(p, n) || p[0] == '\n')
		return -CUSTOS_ERR_MALFORMED;
	/* "the text is separated from the signatures by the last empty line
	 * in the note": the last "\n\n", whose second newline is that line. */
	for (i = n - 1; i > 0; i--)
		if (p[i] == '\n' && p[i - 1] == '\n')
			break;
	if (i == 0 || i == n - 1)	/* no blank line, or nothing after it */
		return -CUSTOS_ERR_TRUNCATED;
	v->text_len = i;
	v->sigs_off = i + 1;
	/* "followed by one or more signature lines" */
	for (i = v->sigs_off; i < n; i = end + 1) {
		end = (size_t)((const uint8_t *)memchr(p + i, '\n', n - i) - p);
		if (++v->nsigs > CHECKPOINT_SIGS_MAX)
			return -CUSTOS_ERR_OVERSIZED;
		ret = sig_line_parse(p + i, end - i, &l);
		if (ret)
			return ret;
	}
	return 0;
}

int checkpoint_key_id(const char *name, const uint8_t pk[KEYS_SIGN_PK_LEN],
		      uint8_t id[CHECKPOINT_KEY_ID_LEN])
{
	static const uint8_t sep[2] = { '\n', SIG_TYPE_ED25519 };
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	size_t len = our_name_len(name);

	memset(id, 0, CHECKPOINT_KEY_ID_LEN);
	if (len == 0 || !pk)
		return -CUSTOS_ERR_INVAL;
	/* key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4] */
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, len);
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, KEYS_SIGN_PK_LEN);
	crypto_hash_sha256_final(&st, h);
	memcpy(id, h, CHECKPOINT_KEY_ID_LEN);
	return 0;
}

/* The signatures. "If the key name and ID match a known key, verifiers
 * MUST verify the signature. If a signature from a known key fails to
 * verify, clients SHOULD reject the whole note. If no signature from a
 * known key verifies successfully, clients MUST reject the note." Lines
 * of other keys were checked by note_parse and are ignored.
 * Returns 0 or -CUSTOS_ERR_BAD_SIGNATURE. */
static int note_verify(const uint8_t *p, size_t n, const struct note_view *v, const char *name,
		       const uint8_t pk[KEYS_SIGN_PK_LEN])
{
	uint8_t id[CHECKPOINT_KEY_ID_LEN], sig[NOTE_SIG_LEN];
	size_t name_len = strlen(name), total, i, end;
	struct sig_line l;
	unsigned found = 0;

	if (checkpoint_key_id(name, pk, id) != 0)
		return -CUSTOS_ERR_BAD_SIGNATURE;
	for (i = v->sigs_off; i < n; i = end + 1) {
		end = (size_t)((const uint8_t *)memchr(p + i, '\n', n - i) - p);
		if (sig_line_parse(p + i, end - i, &l) != 0)
			return -CUSTOS_ERR_BAD_SIGNATURE;	/* note_parse saw to it */
		if (l.name_len != name_len || memcmp(l.name, name, name_len) != 0)
			continue;
		if (b64_decode(l.b64, l.b64_len, sig, sizeof(sig), &total) != 0 ||
		    memcmp(sig, id, CHECKPOINT_KEY_ID_LEN) != 0)
			continue;
		if (total != NOTE_SIG_LEN ||
		    crypto_sign_verify_detached(sig + CHECKPOINT_KEY_ID_LEN, p, v->text_len, pk) != 0)
			return -CUSTOS_ERR_BAD_SIGNATURE;
		found++;
	}
	return found ? 0 : -CUSTOS_ERR_BAD_SIGNATURE;
}

int checkpoint_note_open(const uint8_t *note, size_t n, const char *name,
			 const uint8_t pk[KEYS_SIGN_PK_LEN], size_t *text_len)
{
	struct note_view v;
	int ret;

	*text_len = 0;
	if (our_name_len(name) == 0 || !pk || (!note && n > 0))
		return -CUSTOS_ERR_INVAL;
	ret = note_parse(note, n, &v);
	if (ret == 0)
		ret = note_verify(note, n, &v, name, pk);
	if (ret == 0)
		*text_len = v.text_len;
	return ret;
}

int checkpoint_note_sign(const uint8_t *text, size_t len, const char *name,
			 const struct custos_keypair *kp, struct buf *out)
{
	uint8_t sig[NOTE_SIG_LEN];
	char b64[NOTE_SIG_B64_SIZE];
	size_t name_len = our_name_len(name), old;
	int ret = -CUSTOS_ERR_INVAL;

	if (name_len == 0 || !kp || !out || !text || len == 0 || text[0] == '\n' ||
	    text[len - 1] != '\n' || !text_ok(text, len))
		return -CUSTOS_ERR_INVAL;
	if (len > CHECKPOINT_MAX ||
	    CHECKPOINT_MAX - len < 1 + SIG_PREFIX_LEN + name_len + 1 + (NOTE_SIG_B64_SIZE - 1) + 1)
		return -CUSTOS_ERR_OVERSIZED;
	if (checkpoint_key_id(name, kp->pub.sign_pk, sig) != 0 ||
	    crypto_sign_detached(sig + CHECKPOINT_KEY_ID_LEN, NULL, text, len, kp->sign_sk) != 0)
		return -CUSTOS_ERR_INVAL;
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), B64);

	old = out->len;
	if ((ret = buf_put(out, text, len)) ||
	    (ret = buf_put(out, "\n" SIG_PREFIX, 1 + SIG_PREFIX_LEN)) ||
	    (ret = buf_put(out, name, name_len)) ||
	    (ret = buf_put(out, " ", 1)) ||
	    (ret = buf_put(out, b64, strlen(b64))) ||
	    (ret = buf_put(out, "\n", 1)))
		out->len = old;
	return ret;
}

/* tlog-checkpoint "Note text": origin, tree size, root hash, and (our
 * choice) no extension lines. text ends in a newline. OUT: *origin,
 * *origin_len, *cp. Returns 0 or -CUSTOS_ERR_MALFORMED. */
static int body_parse(const uint8_t *text, size_t len, const uint8_t **origin,
		      size_t *origin_len, struct checkpoint *cp)
{
	const uint8_t *line[3], *nl;
	size_t llen[3], off = 0, total;
	uint8_t empty[MERKLE_HASH_LEN];
	uint64_t size = 0;

	for (int i = 0; i < 3; i++) {
		nl = off < len ? memchr(text + off, '\n', len - off) : NULL;
		if (!nl)
			return -CUSTOS_ERR_MALFORMED;
		line[i] = text + off;
		llen[i] = (size_t)(nl - line[i]);
		off += llen[i] + 1;
	}
	/* "Any following lines are extension lines ... NOT RECOMMENDED":
	 * Custos writes none and accepts none. */
	if (off != len)
		return -CUSTOS_ERR_MALFORMED;

	/* 1. "The origin MUST be non-empty" */
	if (llen[0] == 0)
		return -CUSTOS_ERR_MALFORMED;
	/* 2. "the ASCII decimal representation of the number of leaves in the
	 *    tree, with no leading zeroes (unless the tree is empty, in which
	 *    case the tree size is 0)" */
	if (llen[1] == 0 || llen[1] > SIZE_DIGITS_MAX || (line[1][0] == '0' && llen[1] > 1))
		return -CUSTOS_ERR_MALFORMED;
	for (size_t i = 0; i < llen[1]; i++) {
		unsigned d = (unsigned)line[1][i] - '0';

		if (d > 9 || size > (UINT64_MAX - d) / 10)
			return -CUSTOS_ERR_MALFORMED;
		size = size * 10 + d;
	}
	/* 3. "the base64 encoding of the root of the RFC 6962 Merkle hash
	 *    tree": exactly 32 bytes, canonical. */
	if (llen[2] != ROOT_B64_SIZE - 1 ||
	    b64_decode((const char *)line[2], llen[2], cp->root, MERKLE_HASH_LEN, &total) != 0 ||
	    total != MERKLE_HASH_LEN)
		return -CUSTOS_ERR_MALFORMED;
	/* The empty tree has exactly one root (RFC 9162 2.1.1). */
	if (size == 0 && (merkle_root(NULL, NULL, 0, empty) != 0 ||
			  memcmp(cp->root, empty, MERKLE_HASH_LEN) != 0))
		return -CUSTOS_ERR_MALFORMED;
	cp->size = size;
	*origin = line[0];
	*origin_len = llen[0];
	return 0;
}

int checkpoint_verify(const uint8_t *note, size_t n, const char *name,
		      const uint8_t pk[KEYS_SIGN_PK_LEN], struct checkpoint *cp)
{
	struct checkpoint tmp = { 0 };
	const uint8_t *origin = NULL;
	size_t origin_len = 0, name_len = our_name_len(name);
	struct note_view v;
	int ret;

	memset(cp, 0, sizeof(*cp));
	if (name_len == 0 || !pk || (!note && n > 0))
		return -CUSTOS_ERR_INVAL;
	ret = note_parse(note, n, &v);
	if (ret == 0)
		ret = body_parse(note, v.text_len, &origin, &origin_len, &tmp);
	if (ret == 0)
		ret = note_verify(note, n, &v, name, pk);
	/* Signed by our key for another log: not a checkpoint of ours. */
	if (ret == 0 && (origin_len != name_len || memcmp(origin, name, name_len) != 0))
		ret = -CUSTOS_ERR_MALFORMED;
	if (ret == 0)
		*cp = tmp;
	return ret;
}

int checkpoint_sign(const struct checkpoint *cp, const char *name,
		    const struct custos_keypair *kp, struct buf *out)
{
	/* origin \n size \n root \n */
	char body[CHECKPOINT_NAME_MAX + 1 + SIZE_DIGITS_MAX + 1 + ROOT_B64_SIZE + 1];
	uint8_t empty[MERKLE_HASH_LEN];
	size_t name_len = our_name_len(name), off;
	int w;

	if (!cp || name_len == 0)
		return -CUSTOS_ERR_INVAL;
	if (cp->size == 0 && (merkle_root(NULL, NULL, 0, empty) != 0 ||
			      memcmp(cp->root, empty, MERKLE_HASH_LEN) != 0))
		return -CUSTOS_ERR_INVAL;
	w = snprintf(body, sizeof(body), "%s\n%" PRIu64 "\n", name, cp->size);
	if (w < 0 || (size_t)w >= sizeof(body) - ROOT_B64_SIZE)
		return -CUSTOS_ERR_INVAL;
	off = (size_t)w;
	sodium_bin2base64(body + off, ROOT_B64_SIZE, cp->root, MERKLE_HASH_LEN, B64);
	off += ROOT_B64_SIZE - 1;
	body[off++] = '\n';
	return checkpoint_note_sign((const uint8_t *)body, off, name, kp, out);
}
