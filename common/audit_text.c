/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the fields of a user audit message's text (audit_text.h): one
 * left-to-right scan through a bounded cursor, field by field; the names
 * of the audit user message types (linux/audit.h); an auth record's
 * values and type as the index and incident show write them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "audit_text.h"
#include "error.h"
#include "record.h"

/* The text, never read at or past len. */
struct cursor {
	const uint8_t *p;
	size_t len, pos;
};

/* One field: key and value as spans of the text. */
struct field {
	const uint8_t *key, *val;
	size_t key_len, val_len;
	bool quoted;
};

static bool at_end(const struct cursor *c)
{
	return c->pos >= c->len;
}

/* Advance to the first byte at or after pos that is stop (or a space when
 * stop is ' '), or to the end. */
static void scan_to(struct cursor *c, uint8_t stop)
{
	while (!at_end(c) && c->p[c->pos] != stop && !(stop == '=' && c->p[c->pos] == ' '))
		c->pos++;
}

/* The next key=value field. Returns 1 with *f filled, 0 at the end,
 * -CUSTOS_ERR_MALFORMED for an unterminated quote. Words without '=' are
 * skipped. */
static int next_field(struct cursor *c, struct field *f)
{
	for (;;) {
		while (!at_end(c) && c->p[c->pos] == ' ')
			c->pos++;
		if (at_end(c))
			return 0;
		f->key = c->p + c->pos;
		scan_to(c, '=');
		f->key_len = (size_t)(c->p + c->pos - f->key);
		if (!at_end(c) && c->p[c->pos] == '=')
			break;
	}
	c->pos++;	/* '=' */
	f->quoted = !at_end(c) && c->p[c->pos] == '"';
	if (f->quoted) {
		c->pos++;
		f->val = c->p + c->pos;
		while (!at_end(c) && c->p[c->pos] != '"')
			c->pos++;
		if (at_end(c))
			return -CUSTOS_ERR_MALFORMED;
		f->val_len = (size_t)(c->p + c->pos - f->val);
		c->pos++;	/* closing quote */
		return 1;
	}
	f->val = c->p + c->pos;
	scan_to(c, ' ');
	f->val_len = (size_t)(c->p + c->pos - f->val);
	return 1;
}

/* The fields libaudit hex-encodes when their value is unsafe to print
 * (audit_value_needs_encoding), writing safe values quoted. */
static bool encoded_key(const char *key)
{
	static const char *const keys[] = { "acct", "exe", "cmd", "comm" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static int hex_digit(uint8_t h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

/* libaudit's audit_encode_value: two upper-case hex digits a byte. */
static int hex_decode(const uint8_t *v, size_t n, char *out, size_t cap)
{
	if (n == 0 || n % 2)
		return -CUSTOS_ERR_MALFORMED;
	if (n / 2 >= cap)
		return -CUSTOS_ERR_OVERSIZED;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(v[i]), lo = hex_digit(v[i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -CUSTOS_ERR_MALFORMED;	/* not hex, or a NUL */
		out[i / 2] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	return 0;
}

static int copy_value(const struct field *f, char *out, size_t cap)
{
	if (memchr(f->val, 0, f->val_len))
		return -CUSTOS_ERR_MALFORMED;
	if (f->val_len >= cap)
		return -CUSTOS_ERR_OVERSIZED;
	memcpy(out, f->val, f->val_len);
	out[f->val_len] = '\0';
	return 0;
}

int audit_text_field(const uint8_t *text, size_t len, const char *key, char *out, size_t cap)
{
	struct cursor c = { .p = text, .len = len, .pos = 0 };
	size_t klen = strlen(key);
	struct field f;
	int ret;

	if (cap == 0)
		return -CUSTOS_ERR_INVAL;
	out[0] = '\0';
	while ((ret = next_field(&c, &f)) == 1) {
		if (f.key_len != klen || memcmp(f.key, key, klen) != 0)
			continue;
		if (f.val_len == 1 && f.val[0] == '?')
			return 1;	/* not known, quoted or not */
		if (!f.quoted && encoded_key(key))
			ret = hex_decode(f.val, f.val_len, out, cap);
		else
			ret = copy_value(&f, out, cap);
		if (ret)
			out[0] = '\0';
		return ret;
	}
	return ret < 0 ? ret : 1;
}

int audit_text_source(const uint8_t *text, size_t len, char *out, size_t cap)
{
	static const char *const remote[] = { "addr", "hostname" };
	static const char *const local[] = { "acct", "exe", "terminal" };
	char v[3][AUDIT_TEXT_VALUE_MAX];
	int ret;

	if (cap == 0)
		return -CUSTOS_ERR_INVAL;
	out[0] = '\0';
	for (size_t i = 0; i < 2; i++) {
		ret = audit_text_field(text, len, remote[i], v[0], sizeof(v[0]));
		if (ret < 0)
			return -CUSTOS_ERR_MALFORMED;
		if (ret == 0 && v[0][0]) {
			snprintf(out, cap, "%s", v[0]);
			return 0;
		}
	}
	for (size_t i = 0; i < 3; i++) {
		ret = audit_text_field(text, len, local[i], v[i], sizeof(v[i]));
		if (ret < 0)
			return -CUSTOS_ERR_MALFORMED;
		if (ret == 1)
			snprintf(v[i], sizeof(v[i]), "?");
	}
	snprintf(out, cap, "local acct=%s exe=%s terminal=%s", v[0], v[1], v[2]);
	return 0;
}

const char *audit_type_name(uint64_t type)
{
	static const char *const user[] = {
		"USER_AUTH", "USER_ACCT", "USER_MGMT", "CRED_ACQ", "CRED_DISP", "USER_START",
		"USER_END", "USER_AVC", "USER_CHAUTHTOK", "USER_ERR", "CRED_REFR", "USYS_CONFIG",
		"USER_LOGIN", "USER_LOGOUT", "ADD_USER", "DEL_USER", "ADD_GROUP", "DEL_GROUP",
		"DAC_CHECK", "CHGRP_ID", "TEST", "TRUSTED_APP", "USER_SELINUX_ERR", "USER_CMD",
		"USER_TTY", "CHUSER_ID", "GRP_AUTH", "SYSTEM_BOOT", "SYSTEM_SHUTDOWN",
		"SYSTEM_RUNLEVEL", "SERVICE_START", "SERVICE_STOP", "GRP_MGMT", "GRP_CHAUTHTOK",
		"MAC_CHECK", "ACCT_LOCK", "ACCT_UNLOCK", "USER_DEVICE", "SOFTWARE_UPDATE",
	};	/* 1100, 1101, ... (linux/audit.h, libaudit's table) */

	if (type == 1005)
		return "USER";
	if (type >= 1100 && type - 1100 < sizeof(user) / sizeof(user[0]))
		return user[type - 1100];
	return NULL;
}

const char *audit_type_label(uint64_t type, char *out, size_t cap)
{
	const char *name = audit_type_name(type);

	if (name)
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, "type=%llu", (unsigned long long)type);
	return out;
}

const char *audit_text_value(const struct custos_auth *a, const char *key,
			     enum audit_text_show how, char *out, size_t cap)
{
	size_t n = a->text_len < sizeof(a->text) ? a->text_len : sizeof(a->text);
	int ret = audit_text_field(a->text, n, key, out, cap);

	if (ret)
		snprintf(out, cap, "%s",
			 ret < 0 && how == AUDIT_TEXT_ONE_LINE ? "(malformed)" : "?");
	for (char *p = out; !ret && how == AUDIT_TEXT_ONE_LINE && *p; p++)
		if (*p < '!' || *p > '~')
			*p = '?';
	return out;
}
