/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The events a correlation rule's stage sees (corr.h, docs/triage.md):
 * Sigma's three categories as sigma_event.c maps them, and our own:
 * file_open (every successful open, reads of sensitive files included),
 * network_attempt (every IPv4/IPv6 connect whatever its result, refused
 * ones included, and accept), process_fork (every fork), authentication
 * (every auth record: a user audit message such as PAM's result of a
 * login, with the fields of its text under their audit names, and
 * AuthSource). Our categories carry Sigma's field names so that a stage's
 * selection reads like Sigma.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "audit_text.h"
#include "corr.h"

/* network_attempt: every connect (refused ones too) and every accepted
 * connection, as Sigma's network_connection fields. */
static int attempt(const struct custos_record *rec, struct sigma_event *ev,
		   struct sigma_event_buf *b)
{
	const struct custos_net *n = &rec->u.net;

	if ((n->family != AF_INET && n->family != AF_INET6) ||
	    (rec->kind != CUSTOS_REC_CONNECT && rec->kind != CUSTOS_REC_ACCEPT) ||
	    (rec->kind == CUSTOS_REC_ACCEPT && n->result < 0))
		return 0;
	sigma_event_net_fields(rec, ev, b);
	return 1;
}

/* authentication: the audit type's name (its number when unnamed), the
 * text's fields op, acct, exe, hostname, addr, terminal, res (NULL when
 * absent, "?" or unreadable: common/audit_text.h), AuthSource (where
 * the attempt came from: audit_text_source) and SenderEuid, the sending
 * process's effective uid: any process may send the bytes, and the
 * kernel's refusal of one without CAP_AUDIT_WRITE never reaches the
 * record (docs/capture.md), so rules tell PAM's reports (root or setuid
 * programs) from a user's forgeries by it. */
static int auth_fields(const struct custos_record *rec, struct sigma_event *ev,
		       struct sigma_event_buf *b)
{
	static const char *const keys[] = { "op", "acct", "exe", "hostname", "addr", "terminal",
					    "res" };
	const struct custos_auth *a = &rec->u.auth;
	const char *type = audit_type_name(a->audit_type);
	char *v;

	if (rec->kind != CUSTOS_REC_AUTH)
		return 0;
	ev->cat = SIGMA_CAT_PROCESS_CREATION;	/* the category the stage is compiled for */
	v = b->auth[0];
	if (type)
		snprintf(v, sizeof(b->auth[0]), "%s", type);
	else
		snprintf(v, sizeof(b->auth[0]), "%llu", (unsigned long long)a->audit_type);
	ev->f[SIGMA_F_AUTH_TYPE] = v;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = b->auth[SIGMA_F_AUTH_OP + i - SIGMA_F_AUTH_TYPE];
		if (audit_text_field(a->text, a->text_len, keys[i], v, sizeof(b->auth[0])) == 0)
			ev->f[SIGMA_F_AUTH_OP + i] = v;
	}
	v = b->auth[SIGMA_F_AUTH_SOURCE - SIGMA_F_AUTH_TYPE];
	if (audit_text_source(a->text, a->text_len, v, sizeof(b->auth[0])) == 0)
		ev->f[SIGMA_F_AUTH_SOURCE] = v;
	v = b->auth[SIGMA_F_AUTH_EUID - SIGMA_F_AUTH_TYPE];
	snprintf(v, sizeof(b->auth[0]), "%llu", (unsigned long long)rec->subj.euid);
	ev->f[SIGMA_F_AUTH_EUID] = v;
	return 1;
}

static int ours(enum corr_cat cat, const struct custos_record *rec, struct sigma_event *ev,
		struct sigma_event_buf *b)
{
	const struct custos_file *f = &rec->u.file;

	switch (cat) {
	case CORR_CAT_FILE_OPEN:
		if (rec->kind != CUSTOS_REC_OPEN || f->result < 0)
			return 0;
		ev->cat = SIGMA_CAT_FILE_EVENT;
		ev->f[SIGMA_F_TARGETFILENAME] =
			f->path_len ? record_cstr(b->target, sizeof(b->target), f->path, f->path_len)
				    : record_cstr(b->target, sizeof(b->target), f->path_raw, f->path_raw_len);
		return 1;
	case CORR_CAT_NETWORK_ATTEMPT:
		return attempt(rec, ev, b);
	case CORR_CAT_PROCESS_FORK:
		ev->cat = SIGMA_CAT_PROCESS_CREATION;
		return rec->kind == CUSTOS_REC_FORK;
	case CORR_CAT_AUTHENTICATION:
		return auth_fields(rec, ev, b);
	default:
		return 0;
	}
}

int corr_event(enum corr_cat cat, const struct custos_record *rec,
	       const struct sigma_event *sigma_ev, const char *image, struct sigma_event *ev,
	       struct sigma_event_buf *b, const struct sigma_event **out)
{
	static const enum sigma_category sig[3] = { SIGMA_CAT_PROCESS_CREATION,
		SIGMA_CAT_FILE_EVENT, SIGMA_CAT_NETWORK_CONNECTION };

	*out = ev;
	if (cat < CORR_CAT_FILE_OPEN) {
		if (!sigma_ev || sigma_ev->cat != sig[cat])
			return 0;
		*out = sigma_ev;
		return 1;
	}
	if ((cat == CORR_CAT_FILE_OPEN && rec->kind != CUSTOS_REC_OPEN) ||
	    (cat == CORR_CAT_NETWORK_ATTEMPT && rec->kind != CUSTOS_REC_CONNECT &&
	     rec->kind != CUSTOS_REC_ACCEPT) ||
	    (cat == CORR_CAT_PROCESS_FORK && rec->kind != CUSTOS_REC_FORK) ||
	    (cat == CORR_CAT_AUTHENTICATION && rec->kind != CUSTOS_REC_AUTH))
		return 0;	/* not of the category's kind: no event to clear (ours) */
	memset(ev, 0, sizeof(*ev));
	if (!ours(cat, rec, ev, b))
		return 0;
	ev->f[SIGMA_F_IMAGE] = image;
	sigma_event_subject(rec, ev, b);
	return 1;
}
