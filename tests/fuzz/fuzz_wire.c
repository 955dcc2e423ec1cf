/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what arrives over the agent-collector connection
 * (frame.h, ack.h; docs/format.md 5 and 6): the input is read as a stream
 * of frames, parsed one after another until the parser wants more bytes
 * or fails; the payload of every ACK frame, and the whole input, are
 * verified as signed acknowledgements with the fixed collector key of
 * fuzzkeys.h. (BATCH payloads are sealed envelopes: fuzz_batch opens
 * those.)
 *
 * Random bytes never carry a valid signature, so a custom mutator, one
 * time in four, mutates the body of an ack (one ACK frame's payload, or
 * the whole input when it is a bare ack) and signs it again with the
 * fixed collector key, so the body's decoding and the success path keep
 * seeing validly signed acks.
 *
 * Invariants, checked with abort():
 *   1. Every error is negative and has a message; on an error the
 *      outputs are zero.
 *   2. A parsed frame lies inside the input: 8 <= consumed <= bytes left,
 *      its payload right after its header; it has a known type (BATCH,
 *      ACK or NACK) and re-encodes (frame_write) to exactly its bytes.
 *   3. The header is checked before the payload is waited for: every
 *      proper prefix of a frame is AGAIN; below 8 bytes the answer is
 *      AGAIN; from 8 bytes on, the 8-byte header alone gives the same
 *      error as the whole input, or AGAIN/0 when the whole input parses
 *      or wants more.
 *   4. An ack that verifies is canonical and re-signs consistently:
 *      ack_sign of the parsed struct by the same key gives the same bytes
 *      up to the signature (the last 64), and verifies to the same struct;
 *      the ack does not verify under another key; every proper prefix of
 *      it is TRUNCATED.
 *   5. A NACK payload (frame_nack_decode) either fails with its output
 *      zeroed, or decodes to a hash of 0 or 32 bytes and a reason within
 *      its bound, and re-encodes to exactly its bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ack.h"
#include "buf.h"
#include "cbor_io.h"
#include "error.h"
#include "frame.h"
#include "keys.h"
#include "fuzzkeys.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static struct custos_keypair host, collector;

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

/* Invariants 1 and 4 on one candidate signed ack. */
static void check_ack(const uint8_t *p, size_t n)
{
	struct ack a, a2;
	struct buf out;
	int ret;

	ret = ack_verify(p, n, collector.pub.sign_pk, &a);
	check_code(ret);
	if (ret) {
		CHECK(is_zero(&a, sizeof(a)));
		return;
	}
	CHECK(n > CUSTOS_SIG_LEN && n <= ACK_MAX);

	buf_init(&out, ACK_MAX);
	CHECK(ack_sign(&a, &collector, &out) == 0);
	CHECK(out.len == n && memcmp(out.data, p, n - CUSTOS_SIG_LEN) == 0);
	CHECK(ack_verify(out.data, out.len, collector.pub.sign_pk, &a2) == 0);
	CHECK(memcmp(&a, &a2, sizeof(a)) == 0);
	buf_free(&out);

	CHECK(ack_verify(p, n, host.pub.sign_pk, &a2) == -CUSTOS_ERR_BAD_SIGNATURE);
	CHECK(is_zero(&a2, sizeof(a2)));
	for (size_t k = 0; k < n; k++)
		CHECK(ack_verify(p, k, collector.pub.sign_pk, &a2) == -CUSTOS_ERR_TRUNCATED);
}

/* Invariant 3 for the frame parse that returned ret on p[0..n). */
static void check_header_first(const uint8_t *p, size_t n, int ret)
{
	struct frame f;
	size_t consumed;
	int r8;

	if (n < FRAME_HEADER_LEN) {
		CHECK(ret == -CUSTOS_ERR_AGAIN);
		return;
	}
	r8 = frame_parse(p, FRAME_HEADER_LEN, &f, &consumed);
	if (ret == 0 || ret == -CUSTOS_ERR_AGAIN)
		CHECK(r8 == 0 || r8 == -CUSTOS_ERR_AGAIN);
	else
		CHECK(r8 == ret);
}

/* Invariant 5. */
static void check_nack(const uint8_t *p, size_t n)
{
	struct frame_nack k;
	struct buf enc;
	int ret = frame_nack_decode(p, n, &k);

	check_code(ret);
	if (ret) {
		CHECK(is_zero(&k, sizeof(k)));
		return;
	}
	CHECK(k.batch_hash_len == 0 || k.batch_hash_len == CUSTOS_HASH_LEN);
	CHECK(k.reason_len <= FRAME_NACK_REASON_MAX);
	buf_init(&enc, FRAME_NACK_MAX);
	CHECK(frame_nack_encode(&enc, &k) == 0);
	CHECK(enc.len == n && memcmp(enc.data, p, n) == 0);
	buf_free(&enc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (custos_init() != 0 || fuzz_keys(&host, FUZZ_HOST_SEED) != 0 ||
	    fuzz_keys(&collector, FUZZ_COLLECTOR_SEED) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f, g;
	struct buf enc;
	size_t off = 0, consumed, c2;
	int ret;

	check_ack(data, size);

	buf_init(&enc, FRAME_HEADER_LEN + FRAME_PAYLOAD_MAX);
	for (;;) {
		const uint8_t *p = data + off;
		size_t left = size - off;

		ret = frame_parse(p, left, &f, &consumed);
		check_code(ret);
		check_header_first(p, left, ret);
		if (ret) {
			CHECK(consumed == 0 && is_zero(&f, sizeof(f)));
			break;
		}
		CHECK(consumed >= FRAME_HEADER_LEN && consumed <= left);
		CHECK(f.payload == p + FRAME_HEADER_LEN && f.len == consumed - FRAME_HEADER_LEN);
		CHECK(f.type == FRAME_BATCH || f.type == FRAME_ACK || f.type == FRAME_NACK);

		buf_reset(&enc);
		CHECK(frame_write(&enc, f.type, f.payload, f.len) == 0);
		CHECK(enc.len == consumed && memcmp(enc.data, p, consumed) == 0);
		for (size_t k = 0; k < consumed; k++)
			CHECK(frame_parse(p, k, &g, &c2) == -CUSTOS_ERR_AGAIN && c2 == 0);

		if (f.type == FRAME_ACK)
			check_ack(f.payload, f.len);
		if (f.type == FRAME_NACK)
			check_nack(f.payload, f.len);
		off += consumed;
	}
	buf_free(&enc);
	return 0;
}

/* The body of the signed ack p[0..n), mutated and signed again with the
 * collector key; appended to out. Returns 0, or -1 when p does not start
 * like a signed ack ({0: body, ...}) or out is full. */
static int resign_ack(const uint8_t *p, size_t n, struct buf *out)
{
	uint8_t body[ACK_BODY_MAX], sig[CUSTOS_SIG_LEN];
	uint8_t msg[sizeof(ACK_SIG_DOMAIN) + ACK_BODY_MAX];
	const uint8_t *old;
	size_t len;
	uint64_t count;
	struct cbr r;

	cbr_init(&r, p, n);
	if (cbr_map(&r, &count) != 0 || count != 2 || cbr_key(&r, 0) != 0 ||
	    cbr_bytes(&r, &old, &len, ACK_BODY_MAX) != 0)
		return -1;
	memcpy(body, old, len);
	len = LLVMFuzzerMutate(body, len, sizeof(body));
	memcpy(msg, ACK_SIG_DOMAIN, sizeof(ACK_SIG_DOMAIN));	/* with its NUL */
	memcpy(msg + sizeof(ACK_SIG_DOMAIN), body, len);
	crypto_sign_detached(sig, NULL, msg, sizeof(ACK_SIG_DOMAIN) + len, collector.sign_sk);
	if (cbw_map(out, 2) || cbw_uint(out, 0) || cbw_bytes(out, body, len) ||
	    cbw_uint(out, 1) || cbw_bytes(out, sig, sizeof(sig)))
		return -1;
	return 0;
}

/*
 * The re-signing mutation. When data starts with frames holding an ACK,
 * one of those (picked by seed) gets a re-signed mutated body and the
 * frames are written again around it, unparsed bytes after the last
 * frame kept; when data is no frame at all, it is tried as a bare ack.
 * Returns the new size, or 0 when there is no ack to rework or the result
 * would not fit max_size.
 */
static size_t resign_mutation(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	struct frame f;
	struct buf out, ack;
	size_t off, consumed, nacks = 0, pick, ret = 0;
	int done = 0;

	for (off = 0; frame_parse(data + off, size - off, &f, &consumed) == 0; off += consumed)
		nacks += f.type == FRAME_ACK;
	if (off > 0 && nacks == 0)
		return 0;

	buf_init(&out, max_size);
	buf_init(&ack, ACK_MAX);
	if (off == 0) {
		done = resign_ack(data, size, &out) == 0;
		goto write;
	}
	pick = (seed / 4) % nacks;
	for (off = 0; frame_parse(data + off, size - off, &f, &consumed) == 0; off += consumed) {
		if (f.type == FRAME_ACK && pick-- == 0) {
			if (resign_ack(f.payload, f.len, &ack) != 0 ||
			    frame_write(&out, FRAME_ACK, ack.data, ack.len) != 0)
				goto write;
			done = 1;
		} else if (frame_write(&out, f.type, f.payload, f.len) != 0) {
			done = 0;
			goto write;
		}
	}
	if (buf_put(&out, data + off, size - off) != 0)
		done = 0;
write:
	if (done && out.len <= max_size) {
		memcpy(data, out.data, out.len);
		ret = out.len;
	}
	buf_free(&ack);
	buf_free(&out);
	return ret;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size_t n = 0;

	if (seed % 4 == 0)
		n = resign_mutation(data, size, max_size, seed);
	return n ? n : LLVMFuzzerMutate(data, size, max_size);
}
