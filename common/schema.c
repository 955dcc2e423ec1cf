/* SPDX-License-Identifier: Apache-2.0 */
/* Generic, table-driven CBOR map encoding and strict decoding (schema.h). */
#include <string.h>

#include "error.h"
#include "schema.h"

#define AT(obj, off, T) ((T *)((uint8_t *)(obj) + (off)))
#define AT_C(obj, off, T) ((const T *)((const uint8_t *)(obj) + (off)))

static size_t total_fields(const struct schema *const *parts, size_t nparts)
{
	size_t n = 0;

	for (size_t i = 0; i < nparts; i++)
		n += parts[i]->count;
	return n;
}

/* argv is held as "a\0b\0c\0"; each element becomes one byte string. */
static int encode_strv(struct buf *out, const uint8_t *v, uint32_t len, uint64_t count)
{
	uint64_t seen = 0;
	uint32_t i = 0;
	int ret;

	/* Every element ends with its NUL, the last one too: the decoder
	 * counts that byte against the capacity, so an unterminated blob
	 * could encode to something that does not decode. */
	if (len > 0 && v[len - 1] != 0)
		return -CUSTOS_ERR_INVAL;
	ret = cbw_array(out, count);

	while (!ret && i < len) {
		const uint8_t *nul = memchr(v + i, 0, len - i);
		uint32_t n = nul ? (uint32_t)(nul - (v + i)) : len - i;

		ret = cbw_bytes(out, v + i, n);
		i += n + 1;
		seen++;
	}
	if (!ret && seen != count)
		return -CUSTOS_ERR_INVAL;
	return ret;
}

static int encode_field(struct buf *out, const struct schema_field *f, const void *obj)
{
	uint32_t len;
	int ret = cbw_uint(out, f->key);

	if (ret)
		return ret;
	switch (f->type) {
	case SF_U64:
		return cbw_uint(out, *AT_C(obj, f->off, uint64_t));
	case SF_I64:
		return cbw_int(out, *AT_C(obj, f->off, int64_t));
	case SF_FIXED:
		return cbw_bytes(out, AT_C(obj, f->off, uint8_t), f->cap);
	case SF_BYTES:
		len = *AT_C(obj, f->len_off, uint32_t);
		if (len > f->cap)
			return -CUSTOS_ERR_INVAL;
		return cbw_bytes(out, AT_C(obj, f->off, uint8_t), len);
	case SF_STRV:
		len = *AT_C(obj, f->len_off, uint32_t);
		if (len > f->cap)
			return -CUSTOS_ERR_INVAL;
		return encode_strv(out, AT_C(obj, f->off, uint8_t), len,
				   *AT_C(obj, f->cnt_off, uint64_t));
	}
	return -CUSTOS_ERR_INVAL;
}

int schema_encode(struct buf *out, const struct schema *const *parts, size_t nparts,
		  const void *obj)
{
	int ret = cbw_map(out, total_fields(parts, nparts));

	for (size_t i = 0; !ret && i < nparts; i++)
		for (size_t j = 0; !ret && j < parts[i]->count; j++)
			ret = encode_field(out, &parts[i]->fields[j], obj);
	return ret;
}

static int decode_strv(struct cbr *r, const struct schema_field *f, void *obj)
{
	uint8_t *dst = AT(obj, f->off, uint8_t);
	uint32_t used = 0;
	uint64_t count;
	int ret = cbr_array(r, &count);

	/* Each element needs at least its NUL in the buffer. */
	if (!ret && count > f->cap)
		ret = -CUSTOS_ERR_OVERSIZED;
	for (uint64_t i = 0; !ret && i < count; i++) {
		const uint8_t *p;
		size_t n;

		ret = cbr_bytes(r, &p, &n, f->cap);
		if (ret)
			break;
		if (n + 1 > f->cap - used)
			return -CUSTOS_ERR_OVERSIZED;
		if (memchr(p, 0, n))
			return -CUSTOS_ERR_MALFORMED;	/* NUL is the separator */
		memcpy(dst + used, p, n);
		dst[used + n] = 0;
		used += (uint32_t)n + 1;
	}
	if (ret)
		return ret;
	*AT(obj, f->len_off, uint32_t) = used;
	*AT(obj, f->cnt_off, uint64_t) = count;
	return 0;
}

static int decode_field(struct cbr *r, const struct schema_field *f, void *obj)
{
	const uint8_t *p;
	size_t n;
	int ret = cbr_key(r, f->key);

	if (ret)
		return ret;
	switch (f->type) {
	case SF_U64:
		return cbr_uint(r, AT(obj, f->off, uint64_t));
	case SF_I64:
		return cbr_int(r, AT(obj, f->off, int64_t));
	case SF_FIXED:
		ret = cbr_bytes(r, &p, &n, f->cap);
		if (ret)
			return ret;
		if (n != f->cap)
			return -CUSTOS_ERR_MALFORMED;
		memcpy(AT(obj, f->off, uint8_t), p, n);
		return 0;
	case SF_BYTES:
		ret = cbr_bytes(r, &p, &n, f->cap);
		if (ret)
			return ret;
		memcpy(AT(obj, f->off, uint8_t), p, n);
		*AT(obj, f->len_off, uint32_t) = (uint32_t)n;
		return 0;
	case SF_STRV:
		return decode_strv(r, f, obj);
	}
	return -CUSTOS_ERR_INVAL;
}

int schema_decode(struct cbr *r, const struct schema *const *parts, size_t nparts, void *obj)
{
	uint64_t n;
	int ret = cbr_map(r, &n);

	if (ret)
		return ret;
	if (n != total_fields(parts, nparts))
		return -CUSTOS_ERR_MALFORMED;
	for (size_t i = 0; !ret && i < nparts; i++)
		for (size_t j = 0; !ret && j < parts[i]->count; j++)
			ret = decode_field(r, &parts[i]->fields[j], obj);
	return ret;
}

int schema_check(const struct schema *const *parts, size_t nparts)
{
	int64_t last = -1;

	for (size_t i = 0; i < nparts; i++) {
		for (size_t j = 0; j < parts[i]->count; j++) {
			const struct schema_field *f = &parts[i]->fields[j];

			if ((int64_t)f->key <= last)
				return -CUSTOS_ERR_INVAL;
			if (f->type != SF_U64 && f->type != SF_I64 && f->cap == 0)
				return -CUSTOS_ERR_INVAL;
			last = f->key;
		}
	}
	return 0;
}
