/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle.c: the export bundle's signed and hash-linked parts, shared by
 * the exporter and the verifier (bundle.h, docs/export.md): the manifest
 * signature, the chain-of-custody event log check, and the strict reader
 * of custody/proofs.json. All input here is untrusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "bundle.h"
#include "error.h"

#define EVENT_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

static int domain_msg(const char *domain, const uint8_t *m, size_t n, uint8_t **out,
		      size_t *len)
{
	size_t dl = strlen(domain) + 1;

	if (n > SIZE_MAX - dl)
		return -CUSTOS_ERR_OVERSIZED;
	*out = malloc(dl + n ? dl + n : 1);
	if (!*out)
		return -CUSTOS_ERR_NOMEM;
	memcpy(*out, domain, dl);
	if (n)
		memcpy(*out + dl, m, n);
	*len = dl + n;
	return 0;
}

void bundle_manifest_sign(const uint8_t *m, size_t n, const struct custos_keypair *kp,
			  uint8_t sig[CUSTOS_SIG_LEN])
{
	crypto_sign_state st;
	uint8_t nul = 0;

	crypto_sign_init(&st);
	crypto_sign_update(&st, (const uint8_t *)BUNDLE_MANIFEST_DOMAIN,
			   strlen(BUNDLE_MANIFEST_DOMAIN));
	crypto_sign_update(&st, &nul, 1);
	crypto_sign_update(&st, m, n);
	crypto_sign_final_create(&st, sig, NULL, kp->sign_sk);
}

int bundle_manifest_verify(const uint8_t *m, size_t n, const uint8_t sig[CUSTOS_SIG_LEN],
			   const uint8_t pk[KEYS_SIGN_PK_LEN])
{
	crypto_sign_state st;
	uint8_t nul = 0;

	crypto_sign_init(&st);
	crypto_sign_update(&st, (const uint8_t *)BUNDLE_MANIFEST_DOMAIN,
			   strlen(BUNDLE_MANIFEST_DOMAIN));
	crypto_sign_update(&st, &nul, 1);
	crypto_sign_update(&st, m, n);
	return crypto_sign_final_verify(&st, sig, pk) == 0 ? 0 : -CUSTOS_ERR_BAD_SIGNATURE;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;

	if (!s || strlen(s) != 2 * n)
		return -CUSTOS_ERR_MALFORMED;
	for (size_t i = 0; i < 2 * n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -CUSTOS_ERR_MALFORMED;
	if (sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) != 0 || got != n)
		return -CUSTOS_ERR_MALFORMED;
	return 0;
}

/* One event line: canonical form, seq, prev, signature. */
static int event_check(const char *line, size_t len, uint64_t seq, const uint8_t prev[32],
		       const uint8_t pk[KEYS_SIGN_PK_LEN], json_t **out)
{
	json_t *e = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *copy = NULL;
	uint8_t p[32], sig[CUSTOS_SIG_LEN], *msg = NULL;
	char *canon = NULL, *body = NULL;
	json_t *js;
	size_t mlen;
	int ret = -CUSTOS_ERR_MALFORMED;

	if (!e || !json_is_object(e))
		goto out;
	canon = json_dumps(e, EVENT_FLAGS);
	js = json_object_get(e, "seq");
	if (!canon || strlen(canon) != len || memcmp(canon, line, len) != 0 ||
	    !json_is_integer(js) || json_integer_value(js) < 0 ||
	    (uint64_t)json_integer_value(js) != seq ||
	    unhex(json_string_value(json_object_get(e, "prev")), p, 32) ||
	    sodium_memcmp(p, prev, 32) != 0 ||
	    unhex(json_string_value(json_object_get(e, "sig")), sig, sizeof(sig)) ||
	    !json_is_string(json_object_get(e, "action")))
		goto out;
	ret = -CUSTOS_ERR_NOMEM;
	copy = json_copy(e);
	if (!copy)
		goto out;
	json_object_del(copy, "sig");
	body = json_dumps(copy, EVENT_FLAGS);
	if (!body || (ret = domain_msg(BUNDLE_EVENT_DOMAIN, (const uint8_t *)body, strlen(body),
				       &msg, &mlen)) != 0)
		goto out;
	ret = crypto_sign_verify_detached(sig, msg, mlen, pk) == 0 ? 0 : -CUSTOS_ERR_BAD_SIGNATURE;
	if (!ret) {
		*out = e;
		e = NULL;
	}
out:
	free(msg);
	free(body);
	free(canon);
	json_decref(copy);
	json_decref(e);
	return ret;
}

int bundle_events_verify(const char *text, size_t n, const uint8_t pk[KEYS_SIGN_PK_LEN],
			 json_t **entries, size_t *bad_line)
{
	json_t *arr = json_array(), *e = NULL;
	uint8_t prev[32] = { 0 };
	size_t pos = 0, line = 0;
	int ret = arr ? 0 : -CUSTOS_ERR_NOMEM;

	*entries = NULL;
	*bad_line = 0;
	while (!ret && pos < n) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (text + pos)) : n - pos;

		line++;
		if (!nl)
			ret = -CUSTOS_ERR_TRUNCATED;
		else if (len > BUNDLE_EVENT_LINE_MAX)
			ret = -CUSTOS_ERR_OVERSIZED;
		else
			ret = event_check(text + pos, len, line - 1, prev, pk, &e);
		if (ret)
			break;
		crypto_generichash(prev, 32, (const uint8_t *)text + pos, len, NULL, 0);
		if (json_array_append_new(arr, e) != 0)
			ret = -CUSTOS_ERR_NOMEM;
		pos += len + 1;
	}
	if (!ret && line == 0)
		ret = -CUSTOS_ERR_MALFORMED;	/* a log starts with its init entry */
	if (ret) {
		*bad_line = line ? line : 1;
		json_decref(arr);
		return ret;
	}
	*entries = arr;
	return 0;
}

void bundle_batch_file(uint64_t leaf, char out[96])
{
	snprintf(out, 96, "evidence/leaf-%08llu.batch", (unsigned long long)leaf);
}

static int name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > BUNDLE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int get_u64(json_t *o, const char *key, uint64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -CUSTOS_ERR_MALFORMED;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static int get_path(json_t *arr, uint8_t out[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], size_t *len)
{
	size_t i;
	json_t *h;

	if (!json_is_array(arr) || json_array_size(arr) > MERKLE_PROOF_MAX)
		return -CUSTOS_ERR_MALFORMED;
	json_array_foreach(arr, i, h)
		if (unhex(json_string_value(h), out[i], MERKLE_HASH_LEN))
			return -CUSTOS_ERR_MALFORMED;
	*len = json_array_size(arr);
	return 0;
}

static int batch_entry(json_t *o, struct bundle_batch *b, const char **why)
{
	const char *file = json_string_value(json_object_get(o, "file"));
	const char *host = json_string_value(json_object_get(o, "host"));
	char want[96];

	*why = "a batch entry lacks leaf or seq";
	if (!json_is_object(o) || get_u64(o, "leaf", &b->leaf) || get_u64(o, "seq", &b->seq))
		return -CUSTOS_ERR_MALFORMED;
	*why = "a batch entry's host is not a valid host name";
	if (!name_ok(host))
		return -CUSTOS_ERR_MALFORMED;
	snprintf(b->host, sizeof(b->host), "%s", host);
	bundle_batch_file(b->leaf, want);
	*why = "a batch entry's file is not evidence/leaf-<its leaf>.batch";
	if (!file || strcmp(file, want) != 0)
		return -CUSTOS_ERR_MALFORMED;
	snprintf(b->file, sizeof(b->file), "%s", file);
	*why = "a batch entry's leaf_hash is not 64 hex digits";
	if (unhex(json_string_value(json_object_get(o, "leaf_hash")), b->leaf_hash, 32))
		return -CUSTOS_ERR_MALFORMED;
	*why = "a batch entry's inclusion path is not a list of at most 64 hashes";
	return get_path(json_object_get(o, "inclusion_path"), b->path, &b->path_len);
}

static int proofs_body(json_t *root, struct bundle_proofs *p, const char **why)
{
	json_t *arr = json_object_get(root, "batches"), *c, *o;
	size_t i;
	int ret;

	*why = "tree_size missing or out of range";
	if (get_u64(root, "tree_size", &p->tree_size) || p->tree_size > MERKLE_SIZE_MAX)
		return -CUSTOS_ERR_MALFORMED;
	*why = "batches is not a list";
	if (!json_is_array(arr))
		return -CUSTOS_ERR_MALFORMED;
	*why = "too many batches";
	if (json_array_size(arr) > BUNDLE_BATCHES_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	p->b = calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*p->b));
	if (!p->b)
		return -CUSTOS_ERR_NOMEM;
	json_array_foreach(arr, i, o) {
		ret = batch_entry(o, &p->b[i], why);
		if (ret)
			return ret;
		*why = "batch leaves are not strictly increasing and below tree_size";
		if (p->b[i].leaf >= p->tree_size || (i && p->b[i].leaf <= p->b[i - 1].leaf))
			return -CUSTOS_ERR_MALFORMED;
		p->n = i + 1;
	}
	c = json_object_get(root, "consistency");
	if (json_is_null(c))
		return 0;
	*why = "consistency is neither null nor {first_size, path}";
	if (!json_is_object(c) || get_u64(c, "first_size", &p->first_size) ||
	    p->first_size == 0 || p->first_size > p->tree_size ||
	    get_path(json_object_get(c, "path"), p->cons, &p->cons_len))
		return -CUSTOS_ERR_MALFORMED;
	p->has_consistency = 1;
	return 0;
}

int bundle_proofs_parse(const uint8_t *text, size_t n, struct bundle_proofs *p, const char **why)
{
	json_t *root;
	int ret;

	memset(p, 0, sizeof(*p));
	*why = "larger than the limit";
	if (n > BUNDLE_JSON_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	root = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, NULL);
	*why = "not a JSON object";
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return -CUSTOS_ERR_MALFORMED;
	}
	ret = proofs_body(root, p, why);
	json_decref(root);
	if (ret)
		bundle_proofs_free(p);
	return ret;
}

void bundle_proofs_free(struct bundle_proofs *p)
{
	if (!p)
		return;
	free(p->b);
	memset(p, 0, sizeof(*p));
}
