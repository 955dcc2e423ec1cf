/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for reading custody-log checkpoints (checkpoint.h,
 * docs/custody.md 4.3): the input is a candidate signed note, read both
 * as a checkpoint (checkpoint_verify) and as a bare signed note
 * (checkpoint_note_open), with the fixed collector key of fuzzkeys.h and
 * the fixed log name below.
 *
 * Random bytes never carry a valid signature, so a custom mutator, one
 * time in four, mutates the text of a note (everything before its last
 * blank line), signs it again with the fixed key through
 * checkpoint_note_sign and keeps the note's other signature lines after
 * the new one: the body checks and the success path keep seeing validly
 * signed notes.
 *
 * Invariants, checked with abort():
 *   1. Every error is negative and has a message; on an error the
 *      outputs are zero.
 *   2. The two readers agree: a checkpoint that verifies is a note that
 *      opens; a note that opens fails as a checkpoint only as MALFORMED
 *      (its body or its origin); a note that does not open fails as a
 *      checkpoint with the same error, or as MALFORMED when the note's
 *      only fault is a signature (verify checks the body first, 4.3).
 *   3. An opened note's text ends in a newline, starts with none, and is
 *      followed by the blank line; after the blank line come only
 *      signature lines "— name base64", the base64 of each (its own and
 *      other keys' alike) made of the RFC 4648 alphabet alone (4.3 step 4).
 *   4. The verdict depends on the text alone once the signatures are
 *      good: the text signed again by the same key (checkpoint_note_sign)
 *      opens to the same length and verifies to the same result and
 *      checkpoint.
 *   5. A checkpoint that verifies is canonical: checkpoint_sign of its
 *      size and root by the same key gives a note with exactly the same
 *      text, which verifies to the same size and root; and, when it has
 *      one signature line, every proper prefix of it is TRUNCATED (4.3
 *      step 2).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checkpoint.h"
#include "error.h"
#include "keys.h"
#include "fuzzkeys.h"

/* The origin and key name of the seed corpus (make_corpus.c). */
#define FUZZ_LOG_NAME "custos.example/collector"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static struct custos_keypair collector;

/* An error code from a libcustos call: 0, or negative with a message. */
static void check_code(int ret)
{
	CHECK(ret <= 0);
	CHECK(strcmp(custos_strerror(ret), "unknown error") != 0);
}

static int is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Invariant 3, the signature lines of the note p[0..n) with its text
 * ending at text_len: each is "— " name " " base64 "\n", the name without
 * spaces, the base64 of the standard alphabet and '=' only. */
static void check_sig_lines(const uint8_t *p, size_t n, size_t text_len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	const uint8_t *sp, *end;

	for (size_t i = text_len + 1; i < n; i = (size_t)(end - p) + 1) {
		end = memchr(p + i, '\n', n - i);
		CHECK(end != NULL);
		CHECK(end - (p + i) > 4 && memcmp(p + i, "\xe2\x80\x94 ", 4) == 0);
		sp = memchr(p + i + 4, ' ', (size_t)(end - (p + i + 4)));
		CHECK(sp != NULL && sp > p + i + 4 && end - sp > 1);
		for (const uint8_t *c = sp + 1; c < end; c++)
			CHECK(*c != 0 && strchr(b64, *c) != NULL);
	}
}

/* Invariant 4: sign text p[0..text_len) again and read the result. */
static void check_resigned_text(const uint8_t *p, size_t text_len, int verdict,
				const struct checkpoint *cp)
{
	struct checkpoint cp2;
	struct buf note;
	size_t len2;

	buf_init(&note, CHECKPOINT_MAX);
	CHECK(checkpoint_note_sign(p, text_len, FUZZ_LOG_NAME, &collector, &note) == 0);
	CHECK(note.len > text_len && memcmp(note.data, p, text_len) == 0);
	CHECK(checkpoint_note_open(note.data, note.len, FUZZ_LOG_NAME, collector.pub.sign_pk,
				   &len2) == 0);
	CHECK(len2 == text_len);
	CHECK(checkpoint_verify(note.data, note.len, FUZZ_LOG_NAME, collector.pub.sign_pk,
				&cp2) == verdict);
	CHECK(memcmp(&cp2, cp, sizeof(cp2)) == 0);
	buf_free(&note);
}

/* Invariant 5, for a note p[0..n) that verified to *cp. */
static void check_canonical(const uint8_t *p, size_t n, size_t text_len,
			    const struct checkpoint *cp)
{
	struct checkpoint cp2, cp3;
	struct buf note;
	size_t lines = 0, len2;

	buf_init(&note, CHECKPOINT_MAX);
	CHECK(checkpoint_sign(cp, FUZZ_LOG_NAME, &collector, &note) == 0);
	CHECK(note.len > text_len && note.data[text_len] == '\n');
	CHECK(memcmp(note.data, p, text_len) == 0);	/* the same text, byte for byte */
	CHECK(checkpoint_verify(note.data, note.len, FUZZ_LOG_NAME, collector.pub.sign_pk,
				&cp2) == 0);
	CHECK(cp2.size == cp->size && memcmp(cp2.root, cp->root, sizeof(cp2.root)) == 0);
	buf_free(&note);

	for (size_t i = text_len + 1; i < n; i++)
		lines += p[i] == '\n';
	if (lines != 1)
		return;
	for (size_t k = 0; k < n; k++) {
		CHECK(checkpoint_verify(p, k, FUZZ_LOG_NAME, collector.pub.sign_pk, &cp3) ==
		      -CUSTOS_ERR_TRUNCATED);
		CHECK(checkpoint_note_open(p, k, FUZZ_LOG_NAME, collector.pub.sign_pk, &len2) ==
		      -CUSTOS_ERR_TRUNCATED);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (custos_init() != 0 || fuzz_keys(&collector, FUZZ_COLLECTOR_SEED) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct checkpoint cp;
	size_t text_len;
	int rv, ro;

	rv = checkpoint_verify(data, size, FUZZ_LOG_NAME, collector.pub.sign_pk, &cp);
	ro = checkpoint_note_open(data, size, FUZZ_LOG_NAME, collector.pub.sign_pk, &text_len);
	check_code(rv);
	check_code(ro);
	if (rv)
		CHECK(is_zero(&cp, sizeof(cp)));
	if (ro)
		CHECK(text_len == 0);

	/* 2. */
	if (rv == 0)
		CHECK(ro == 0);
	if (ro == 0)
		CHECK(rv == 0 || rv == -CUSTOS_ERR_MALFORMED);
	else if (ro == -CUSTOS_ERR_BAD_SIGNATURE)
		CHECK(rv == -CUSTOS_ERR_BAD_SIGNATURE || rv == -CUSTOS_ERR_MALFORMED);
	else
		CHECK(rv == ro);
	if (ro)
		return 0;

	/* 3. */
	CHECK(text_len > 0 && text_len < size);
	CHECK(data[0] != '\n' && data[text_len - 1] == '\n' && data[text_len] == '\n');
	check_sig_lines(data, size, text_len);

	check_resigned_text(data, text_len, rv, &cp);
	if (rv == 0)
		check_canonical(data, size, text_len, &cp);
	return 0;
}

/*
 * The re-signing mutation: split data at its last blank line, mutate the
 * text, and write text' "\n" + our signature line + the old signature
 * lines (so a witness's line, now stale, comes along: signed-note ignores
 * it). Returns the new size, or 0 when data has no blank line, the mutated
 * text is not signable, or the result would not fit max_size.
 */
static size_t resign_mutation(uint8_t *data, size_t size, size_t max_size)
{
	struct buf text, note;
	size_t i, ret = 0, sigs_len, room;

	if (size < 2)
		return 0;
	if (max_size > CHECKPOINT_MAX)
		max_size = CHECKPOINT_MAX;
	for (i = size - 1; i > 0; i--)
		if (data[i] == '\n' && data[i - 1] == '\n')
			break;
	if (i == 0)
		return 0;
	sigs_len = size - (i + 1);	/* the old signature lines */

	buf_init(&text, CHECKPOINT_MAX);
	buf_init(&note, CHECKPOINT_MAX);
	room = i + 64 < max_size ? i + 64 : max_size;
	if (room < i || buf_reserve(&text, room) != 0)
		goto out;
	memcpy(text.data, data, i);
	text.len = LLVMFuzzerMutate(text.data, i, room);
	if (checkpoint_note_sign(text.data, text.len, FUZZ_LOG_NAME, &collector, &note) != 0 ||
	    buf_put(&note, data + i + 1, sigs_len) != 0 || note.len > max_size)
		goto out;
	memcpy(data, note.data, note.len);
	ret = note.len;
out:
	buf_free(&note);
	buf_free(&text);
	return ret;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size_t n = 0;

	if (seed % 4 == 0)
		n = resign_mutation(data, size, max_size);
	return n ? n : LLVMFuzzerMutate(data, size, max_size);
}
