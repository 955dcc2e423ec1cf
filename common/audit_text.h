/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit_text: the fields of a user audit message's text, as libaudit
 * writes them for PAM and the login programs (auth records, docs/format.md
 * kind 11): space-separated key=value pairs such as
 *   op=PAM:authentication grantors=? acct="root" exe="/usr/bin/su"
 *   hostname=? addr=? terminal=? res=failed
 * A value is a quoted string ("root": the bytes between the quotes), a
 * bare word up to the next space (res=failed), "?" for "not known", or,
 * for the fields libaudit encodes when a value is unsafe to print (acct,
 * exe, cmd, comm: a space, a quote, a control character or a byte past
 * 0x7e), an unquoted upper-case hex string of the value's bytes
 * (acct=666F6F20626172 is "foo bar"). The text is untrusted (any process
 * with CAP_AUDIT_WRITE writes it): it is read left to right through a
 * bounded cursor, so a key inside a quoted value is never taken for a
 * field, and every output is bounded and NUL-terminated.
 */
#ifndef CUSTOS_AUDIT_TEXT_H
#define CUSTOS_AUDIT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_TEXT_VALUE_MAX 256	/* a field value kept, NUL included */

/* The value of the first field named key in text[0..len). OUT: out (cap
 * bytes, NUL-terminated; "" unless 0 is returned). Returns 0 when found
 * with a known value, 1 when absent or "?", -CUSTOS_ERR_MALFORMED when the
 * text is broken before or at the field (an unterminated quote, a value
 * that should be hex and is not, a decoded NUL), -CUSTOS_ERR_OVERSIZED
 * when the value does not fit in cap - 1 bytes. */
int audit_text_field(const uint8_t *text, size_t len, const char *key, char *out, size_t cap);

/* Where an authentication came from, for grouping attempts by source:
 * addr when known, else hostname when known, else a local source named by
 * the target account, the program and the terminal
 * ("local acct=root exe=/usr/bin/su terminal=?"). OUT: out (cap bytes,
 * NUL-terminated; cut at cap - 1). Returns 0, or -CUSTOS_ERR_MALFORMED
 * when the text is broken at one of those fields (out is then ""). */
int audit_text_source(const uint8_t *text, size_t len, char *out, size_t cap);

/* The audit type's name (linux/audit.h without AUDIT_: "USER_AUTH" for
 * 1100), or NULL for a type this table does not name. */
const char *audit_type_name(uint64_t type);

/* The type for a line: audit_type_name, or "type=N" for an unnamed one.
 * OUT: out (cap > 0 bytes, NUL-terminated, cut at cap - 1). Returns out. */
const char *audit_type_label(uint64_t type, char *out, size_t cap);

struct custos_auth;

/* How audit_text_value writes a value: AUDIT_TEXT_AS_IS as read, and "?"
 * for a broken field too (the index's exe and path); AUDIT_TEXT_ONE_LINE
 * "(malformed)" for a broken field and every byte outside '!'..'~' as '?',
 * so that a value cannot add a field or a line of its own (incident show). */
enum audit_text_show {
	AUDIT_TEXT_AS_IS,
	AUDIT_TEXT_ONE_LINE,
};

/* The value of field key of an auth record's text (its first text_len
 * bytes, never past text's size), for showing: what audit_text_field
 * reads, "?" when the field is absent or "?", and for a broken field
 * (malformed, or longer than cap - 1 bytes) as how says. OUT: out (cap > 0
 * bytes, NUL-terminated). Returns out. */
const char *audit_text_value(const struct custos_auth *a, const char *key,
			     enum audit_text_show how, char *out, size_t cap);

#endif
