/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records as JSON objects, driven by the record schema tables
 * (record_json.h says how each type is mapped). One function walks the
 * schema parts of the record's kind and converts field by field, so a kind
 * or field added to record.c appears here without code.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "error.h"
#include "record_json.h"

#define FIELD(obj, f, T) ((const T *)((const uint8_t *)(obj) + (f)->off))
#define FIELD_LEN(obj, f) (*(const uint32_t *)((const uint8_t *)(obj) + (f)->len_off))
#define FIELD_CNT(obj, f) (*(const uint64_t *)((const uint8_t *)(obj) + (f)->cnt_off))

/* True when p[0..n) is well-formed UTF-8 (RFC 3629: shortest form, no
 * surrogates, at most U+10FFFF) with no C0 or C1 control character and no
 * DEL: text a terminal and a JSON reader show as it is. */
static bool printable_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t c = p[i], min;
		size_t len;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
		    (c >= 0x80 && c <= 0x9f))
			return false;
		i += len;
	}
	return true;
}

static json_t *hex_object(const uint8_t *p, size_t n)
{
	json_t *obj;
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	sodium_bin2hex(s, 2 * n + 1, p, n);
	obj = json_pack("{s:s}", "hex", s);
	free(s);
	return obj;
}

static json_t *bytes_value(const uint8_t *p, size_t n)
{
	if (printable_utf8(p, n))
		return json_stringn((const char *)p, n);
	return hex_object(p, n);
}

static json_t *u64_value(uint64_t v)
{
	char s[24];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(s, sizeof(s), "%" PRIu64, v);
	return json_string(s);
}

/* argv: NUL-terminated elements, as schema.c encodes them. */
static int strv_value(const uint8_t *v, uint32_t len, uint64_t count, json_t **out)
{
	json_t *arr = json_array();
	uint64_t seen = 0;
	uint32_t i = 0;

	if (!arr)
		return -CUSTOS_ERR_NOMEM;
	while (i < len) {
		const uint8_t *nul = memchr(v + i, 0, len - i);
		uint32_t n = nul ? (uint32_t)(nul - (v + i)) : len - i;

		if (json_array_append_new(arr, bytes_value(v + i, n))) {
			json_decref(arr);
			return -CUSTOS_ERR_NOMEM;
		}
		i += n + 1;
		seen++;
	}
	if (seen != count) {
		json_decref(arr);
		return -CUSTOS_ERR_INVAL;
	}
	*out = arr;
	return 0;
}

static int field_value(const struct schema_field *f, const struct custos_record *rec,
		       json_t **out)
{
	uint32_t len;

	*out = NULL;
	switch (f->type) {
	case SF_U64:
		*out = u64_value(*FIELD(rec, f, uint64_t));
		break;
	case SF_I64:
		*out = json_integer(*FIELD(rec, f, int64_t));
		break;
	case SF_FIXED:
		*out = hex_object(FIELD(rec, f, uint8_t), f->cap);
		break;
	case SF_BYTES:
		len = FIELD_LEN(rec, f);
		if (len > f->cap)
			return -CUSTOS_ERR_INVAL;
		*out = bytes_value(FIELD(rec, f, uint8_t), len);
		break;
	case SF_STRV:
		len = FIELD_LEN(rec, f);
		if (len > f->cap)
			return -CUSTOS_ERR_INVAL;
		return strv_value(FIELD(rec, f, uint8_t), len, FIELD_CNT(rec, f), out);
	default:
		return -CUSTOS_ERR_INVAL;
	}
	return *out ? 0 : -CUSTOS_ERR_NOMEM;
}

/* "u.exec.argv" -> "argv": schema names are unique within a kind once
 * their path is dropped (test_record_json checks every kind). */
static const char *json_name(const char *name)
{
	const char *last = strrchr(name, '.');

	return last ? last + 1 : name;
}

/* An IPv4 or IPv6 address reads better as text than as bytes; anything
 * else (unix socket paths, odd lengths) stays as bytes_value made it. */
static int address_as_text(json_t *obj, const char *name, uint64_t family,
			   const uint8_t *addr, uint32_t len)
{
	char text[INET6_ADDRSTRLEN];
	int af = family == AF_INET && len == 4 ? AF_INET
		 : family == AF_INET6 && len == 16 ? AF_INET6 : 0;

	if (!af || !json_object_get(obj, name))
		return 0;
	if (!inet_ntop(af, addr, text, sizeof(text)))
		return -CUSTOS_ERR_INVAL;
	return json_object_set_new(obj, name, json_string(text)) ? -CUSTOS_ERR_NOMEM : 0;
}

static int net_addresses(json_t *obj, const struct custos_record *rec)
{
	const struct custos_net *n = &rec->u.net;
	int ret;

	if (rec->kind < CUSTOS_REC_CONNECT || rec->kind > CUSTOS_REC_SEND)
		return 0;
	ret = address_as_text(obj, "local_addr", n->family, n->local_addr, n->local_addr_len);
	if (!ret)
		ret = address_as_text(obj, "remote_addr", n->family, n->remote_addr,
				      n->remote_addr_len);
	return ret;
}

int record_json(const struct custos_record *rec, json_t **out)
{
	const struct schema *parts[3];
	size_t nparts = record_schema(rec->kind, parts);
	json_t *obj;
	int ret = -CUSTOS_ERR_NOMEM;

	*out = NULL;
	if (nparts == 0)
		return -CUSTOS_ERR_INVAL;
	obj = json_object();
	if (!obj || json_object_set_new(obj, "kind", json_string(record_kind_name(rec->kind))))
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		for (size_t j = 0; j < parts[i]->count; j++) {
			const struct schema_field *f = &parts[i]->fields[j];
			const char *name;
			json_t *v;

			if (i == 0 && f->key == 0)
				continue;	/* the kind, written above by name */
			name = json_name(f->name);
			ret = field_value(f, rec, &v);
			if (ret)
				goto out;
			if (json_object_set_new(obj, name, v)) {
				ret = -CUSTOS_ERR_NOMEM;
				goto out;
			}
		}
	}
	ret = net_addresses(obj, rec);
	if (ret)
		goto out;
	*out = obj;
	obj = NULL;
out:
	json_decref(obj);
	return ret;
}

/* Written directly (record_json_line): the same bytes as json_dumpf of
 * record_json()'s object with JSON_COMPACT (test_bundle_row checks). */
int record_json_write(FILE *f, const struct custos_record *rec)
{
	struct buf b;
	int ret;

	buf_init(&b, RECORD_JSON_LINE_MAX);
	ret = record_json_line(rec, &b);
	if (!ret && fwrite(b.data, 1, b.len, f) != b.len)
		ret = -CUSTOS_ERR_IO;
	buf_free(&b);
	return ret;
}

/* --- the same view written directly (record_json.h, record_json_members) --- */

/* JSON-escape p[0..n) as jansson's dump does without JSON_ENSURE_ASCII or
 * JSON_ESCAPE_SLASH: '"' and '\\' and C0 controls escaped (\b \f \n \r \t,
 * else \u00XX upper-case), everything else copied. */
int record_json_put_string(struct buf *out, const void *s, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	const uint8_t *p = s;
	uint8_t *w;
	int ret = buf_reserve(out, 6 * n + 2);

	if (ret)
		return ret;
	w = out->data + out->len;
	*w++ = '"';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*w++ = c;
			continue;
		}
		*w++ = '\\';
		switch (c) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '\b': *w++ = 'b'; break;
		case '\f': *w++ = 'f'; break;
		case '\n': *w++ = 'n'; break;
		case '\r': *w++ = 'r'; break;
		case '\t': *w++ = 't'; break;
		default:
			memcpy(w, "u00", 3);
			w[3] = (uint8_t)hexd[c >> 4];
			w[4] = (uint8_t)hexd[c & 15];
			w += 5;
		}
	}
	*w++ = '"';
	out->len = (size_t)(w - out->data);
	return 0;
}

/* Decimal of v into t (at least 21 bytes, no NUL). Returns the length. */
static size_t u64_text(uint64_t v, char *t)
{
	char tmp[20];
	size_t n = 0, k;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (k = 0; k < n; k++)
		t[k] = tmp[n - 1 - k];
	return n;
}

int record_json_put_int(struct buf *out, int64_t v)
{
	char t[24];
	size_t n = 0;

	if (v < 0)
		t[n++] = '-';
	n += u64_text(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, t + n);
	return buf_put(out, t, n);
}

static int put_hex(struct buf *out, const uint8_t *p, size_t n)
{
	int ret = buf_reserve(out, 2 * n + 12);

	if (ret)
		return ret;
	memcpy(out->data + out->len, "{\"hex\":\"", 8);
	sodium_bin2hex((char *)out->data + out->len + 8, 2 * n + 1, p, n);
	memcpy(out->data + out->len + 8 + 2 * n, "\"}", 2);
	out->len += 2 * n + 10;
	return 0;
}

/* bytes_value, written: a string (m->raw kept for CSV) or a hex object. */
static int put_bytes(struct buf *out, const uint8_t *p, size_t n, struct record_json_member *m)
{
	if (!printable_utf8(p, n))
		return put_hex(out, p, n);
	if (m) {
		m->type = RECORD_JSON_STRING;
		m->raw = (const char *)p;
		m->raw_len = n;
	}
	return record_json_put_string(out, p, n);
}

static int put_strv(struct buf *out, const uint8_t *v, uint32_t len, uint64_t count)
{
	uint64_t seen = 0;
	uint32_t i = 0;
	int ret = buf_put(out, "[", 1);

	while (!ret && i < len) {
		const uint8_t *nul = memchr(v + i, 0, len - i);
		uint32_t n = nul ? (uint32_t)(nul - (v + i)) : len - i;

		if (seen)
			ret = buf_put(out, ",", 1);
		if (!ret)
			ret = put_bytes(out, v + i, n, NULL);
		i += n + 1;
		seen++;
	}
	if (!ret && seen != count)
		ret = -CUSTOS_ERR_INVAL;
	return ret ? ret : buf_put(out, "]", 1);
}

/* u64_value, written; m->raw is the decimal text either way. */
static int put_u64(struct buf *out, uint64_t v, struct record_json_member *m)
{
	size_t n = u64_text(v, m->text);

	m->raw = m->text;
	m->raw_len = n;
	if (v <= INT64_MAX) {
		m->type = RECORD_JSON_NUMBER;
		return buf_put(out, m->text, n);
	}
	m->type = RECORD_JSON_STRING;
	return record_json_put_string(out, m->text, n);
}

static int put_field(struct buf *out, const struct schema_field *f,
		     const struct custos_record *rec, struct record_json_member *m)
{
	uint32_t len;
	int64_t i;

	switch (f->type) {
	case SF_U64:
		return put_u64(out, *FIELD(rec, f, uint64_t), m);
	case SF_I64:
		i = *FIELD(rec, f, int64_t);
		m->type = RECORD_JSON_NUMBER;
		return record_json_put_int(out, i);
	case SF_FIXED:
		return put_hex(out, FIELD(rec, f, uint8_t), f->cap);
	case SF_BYTES:
		len = FIELD_LEN(rec, f);
		return len > f->cap ? -CUSTOS_ERR_INVAL
				    : put_bytes(out, FIELD(rec, f, uint8_t), len, m);
	case SF_STRV:
		len = FIELD_LEN(rec, f);
		return len > f->cap ? -CUSTOS_ERR_INVAL
				    : put_strv(out, FIELD(rec, f, uint8_t), len, FIELD_CNT(rec, f));
	default:
		return -CUSTOS_ERR_INVAL;
	}
}

/* net_addresses, written: the address member's value replaced by text. */
static int put_address(struct buf *out, struct record_json_member *m, uint64_t family,
		       const uint8_t *addr, uint32_t len)
{
	int af = family == AF_INET && len == 4 ? AF_INET
		 : family == AF_INET6 && len == 16 ? AF_INET6 : 0;

	if (!af)
		return 0;
	if (!inet_ntop(af, addr, m->text, sizeof(m->text)))
		return -CUSTOS_ERR_INVAL;
	m->type = RECORD_JSON_STRING;
	m->raw = m->text;
	m->raw_len = strlen(m->text);
	m->off = (uint32_t)out->len;
	m->len = (uint32_t)(m->raw_len + 2);
	return record_json_put_string(out, m->text, m->raw_len);
}

static int net_members(struct buf *out, const struct custos_record *rec,
		       struct record_json_member *m, size_t n)
{
	const struct custos_net *net = &rec->u.net;
	int ret = 0;

	if (rec->kind < CUSTOS_REC_CONNECT || rec->kind > CUSTOS_REC_SEND)
		return 0;
	for (size_t i = 0; !ret && i < n; i++) {
		if (strcmp(m[i].name, "local_addr") == 0)
			ret = put_address(out, &m[i], net->family, net->local_addr,
					  net->local_addr_len);
		else if (strcmp(m[i].name, "remote_addr") == 0)
			ret = put_address(out, &m[i], net->family, net->remote_addr,
					  net->remote_addr_len);
	}
	return ret;
}

/* Start member m (not its text: a row has dozens, zeroing them costs). */
static void member_start(struct record_json_member *m, const char *name, const struct buf *out)
{
	m->name = name;
	m->off = (uint32_t)out->len;
	m->len = 0;
	m->type = RECORD_JSON_OTHER;
	m->raw = NULL;
	m->raw_len = 0;
}

int record_json_members(const struct custos_record *rec, struct buf *out,
			struct record_json_member *m, size_t cap, size_t *n)
{
	const struct schema *parts[3];
	size_t nparts = record_schema(rec->kind, parts), k = 0;
	const char *kind = record_kind_name(rec->kind);
	int ret = 0;

	*n = 0;
	if (nparts == 0 || cap == 0)
		return -CUSTOS_ERR_INVAL;
	member_start(&m[k], "kind", out);
	m[k].type = RECORD_JSON_STRING;
	m[k].raw = kind;
	m[k].raw_len = strlen(kind);
	ret = record_json_put_string(out, kind, m[k].raw_len);
	m[k].len = (uint32_t)(out->len - m[k].off);
	k++;
	for (size_t i = 0; !ret && i < nparts; i++) {
		for (size_t j = 0; !ret && j < parts[i]->count; j++) {
			const struct schema_field *f = &parts[i]->fields[j];

			if (i == 0 && f->key == 0)
				continue;	/* the kind, written above by name */
			if (k == cap)
				return -CUSTOS_ERR_INVAL;
			member_start(&m[k], json_name(f->name), out);
			ret = put_field(out, f, rec, &m[k]);
			m[k].len = (uint32_t)(out->len - m[k].off);
			k++;
		}
	}
	if (!ret)
		ret = net_members(out, rec, m, k);
	*n = k;
	return ret;
}

/* The line: the members in schema order (as record_json inserts them),
 * joined after them in out, then moved down over them. */
int record_json_line(const struct custos_record *rec, struct buf *out)
{
	struct record_json_member m[RECORD_JSON_LINE_MEMBERS];
	size_t start = out->len, n = 0, at;
	int ret = record_json_members(rec, out, m, RECORD_JSON_LINE_MEMBERS, &n);

	at = out->len;
	if (!ret)
		ret = buf_put(out, "{", 1);
	for (size_t i = 0; !ret && i < n; i++) {
		if (i)
			ret = buf_put(out, ",", 1);
		if (!ret)
			ret = record_json_put_string(out, m[i].name, strlen(m[i].name));
		if (!ret)
			ret = buf_put(out, ":", 1);
		if (!ret)
			ret = buf_reserve(out, m[i].len);
		if (!ret) {
			memcpy(out->data + out->len, out->data + m[i].off, m[i].len);
			out->len += m[i].len;
		}
	}
	if (!ret)
		ret = buf_put(out, "}\n", 2);
	if (ret) {
		out->len = start;
		return ret;
	}
	memmove(out->data + start, out->data + at, out->len - at);
	out->len = start + (out->len - at);
	return 0;
}
