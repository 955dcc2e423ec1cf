/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigma: Sigma detection rules (the SigmaHQ format) for the collector's
 * triage. A rule file (YAML, read with libyaml) is loaded into a compiled
 * rule: its selections (maps of field|modifiers: values), and its
 * condition parsed into an AST by a bounded recursive-descent parser.
 * A rule is evaluated against a sigma_event, the Sigma view of one of our
 * records (sigma_event_from_record, the field mapping of docs/triage.md).
 *
 * What we do not support is refused at load time with the rule's name and
 * the reason (never skipped silently): other products or categories,
 * unknown fields, unknown modifiers, keyword lists, regexes POSIX ERE
 * cannot express, aggregations in the condition.
 *
 * Invariants:
 *   1. A loaded rule is immutable; evaluation never allocates and only
 *      reads the rule and the event, so one rule set serves any thread.
 *   2. The condition AST has at most SIGMA_NODES_MAX nodes and depth
 *      SIGMA_DEPTH_MAX; every selection it names exists.
 */
#ifndef CUSTOS_COLL_SIGMA_H
#define CUSTOS_COLL_SIGMA_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define SIGMA_DEPTH_MAX 32
#define SIGMA_NODES_MAX 256
#define SIGMA_REASON_MAX 256
#define SIGMA_TEXT_MAX 256

enum sigma_category {
	SIGMA_CAT_PROCESS_CREATION = 0,
	SIGMA_CAT_FILE_EVENT = 1,
	SIGMA_CAT_NETWORK_CONNECTION = 2,
	SIGMA_CAT_CUSTOS_SOCKET = 3,	/* ours: a socket record (docs/triage.md) */
	SIGMA_CAT_COUNT = 4,
	SIGMA_CAT_OTHER = 4,		/* refused */
};

/* The Sigma fields we map (docs/triage.md). */
enum sigma_field {
	SIGMA_F_IMAGE, SIGMA_F_COMMANDLINE, SIGMA_F_PARENTIMAGE, SIGMA_F_PARENTCOMMANDLINE,
	SIGMA_F_CURRENTDIRECTORY, SIGMA_F_USER, SIGMA_F_LOGONID, SIGMA_F_PROCESSID,
	SIGMA_F_PARENTPROCESSID, SIGMA_F_TARGETFILENAME, SIGMA_F_DESTINATIONIP,
	SIGMA_F_DESTINATIONPORT, SIGMA_F_SOURCEIP, SIGMA_F_SOURCEPORT, SIGMA_F_INITIATED,
	SIGMA_F_SOCKETFAMILY, SIGMA_F_SOCKETTYPE, SIGMA_F_SOCKETPROTOCOL,	/* custos_socket */
	SIGMA_F_AUTH_TYPE, SIGMA_F_AUTH_OP, SIGMA_F_AUTH_ACCT, SIGMA_F_AUTH_EXE,	/* corr's */
	SIGMA_F_AUTH_HOSTNAME, SIGMA_F_AUTH_ADDR, SIGMA_F_AUTH_TERMINAL,	/* authentication */
	SIGMA_F_AUTH_RES, SIGMA_F_AUTH_SOURCE, SIGMA_F_AUTH_EUID,
	SIGMA_F_COUNT
};

/* Severities, from Sigma's level. */
enum sigma_level {
	SIGMA_LEVEL_INFORMATIONAL = 0, SIGMA_LEVEL_LOW, SIGMA_LEVEL_MEDIUM,
	SIGMA_LEVEL_HIGH, SIGMA_LEVEL_CRITICAL,
};

/* One event as Sigma sees it: each field a C string, or NULL when the
 * record has no such field (a null in a rule matches exactly those). */
struct sigma_event {
	enum sigma_category cat;
	const char *f[SIGMA_F_COUNT];
};

struct sigma_rule;	/* opaque, sigma_load.c */

/* Load one rule from YAML text (name: the file, for messages). OUT: *rule
 * on success; else reason (a sentence, SIGMA_REASON_MAX) and *cat, the
 * rule's category when known (SIGMA_CAT_OTHER otherwise). Returns 0,
 * 1 when refused (unsupported, not YAML or not a Sigma rule: reason says
 * why), 2 when the file is a Custos correlation rule (a top-level
 * custos_threshold or custos_sequence: corr.h loads and counts it), or
 * -CUSTOS_ERR_NOMEM. */
int sigma_rule_load(const char *text, size_t len, const char *name, struct sigma_rule **rule,
		    enum sigma_category *cat, char reason[SIGMA_REASON_MAX]);
void sigma_rule_free(struct sigma_rule *r);	/* accepts NULL */

/* The rule's metadata (never NULL; "" when absent). */
const char *sigma_rule_id(const struct sigma_rule *r);
const char *sigma_rule_title(const struct sigma_rule *r);
enum sigma_category sigma_rule_category(const struct sigma_rule *r);
enum sigma_level sigma_rule_level(const struct sigma_rule *r);
/* A custom top-level scalar field of the rule (our pack's "custos_taxonomy"
 * ...), or "" when absent. */
const char *sigma_rule_custom(const struct sigma_rule *r, const char *key);

/* 1 when the rule matches ev, else 0 (an event of another category: 0). */
int sigma_rule_match(const struct sigma_rule *r, const struct sigma_event *ev);

/* Names. */
const char *sigma_category_name(enum sigma_category c);
const char *sigma_level_name(enum sigma_level l);
/* The field named name (case-sensitive, Sigma's spelling), or -1. */
int sigma_field_by_name(const char *name);

/* --- sigma_set.c: a directory of rules ---------------------------------- */
#define SIGMA_FILE_MAX (1u << 20)	/* a rule file's size */
#define SIGMA_DIR_DEPTH_MAX 8

struct sigma_set {
	struct sigma_rule **rules;
	size_t n;
	unsigned loaded[SIGMA_CAT_COUNT + 1], refused[SIGMA_CAT_COUNT + 1];
};

/* Load every *.yml and *.yaml file under dir (recursively, in name order)
 * into s (zero it first; loading several directories adds up). Each
 * refused file is passed to report(ctx, path, category, reason) and
 * counted per category. Returns 0 (refusals are not errors),
 * -CUSTOS_ERR_IO (dir unreadable), -CUSTOS_ERR_NOMEM. */
int sigma_set_load_dir(struct sigma_set *s, const char *dir,
		       void (*report)(void *ctx, const char *path, enum sigma_category cat,
				      const char *reason), void *ctx);
void sigma_set_free(struct sigma_set *s);

/* Call fn(ctx, path) for every regular *.yml and *.yaml file under dir,
 * recursively (at most SIGMA_DIR_DEPTH_MAX levels, dot files skipped), in
 * name order: the walk the Sigma and the correlation loaders share.
 * Stops at fn's first non-zero return and returns it; else 0, or
 * -CUSTOS_ERR_IO when a directory cannot be read. */
int sigma_rule_files(const char *dir, int (*fn)(void *ctx, const char *path), void *ctx);

/* --- sigma_index.c: which rules to try on an event ---------------------- */
/* Built once from a loaded set: each rule under its category, and, when
 * its condition cannot be true unless the event holds one of some
 * literals, keyed by them (docs/triage.md "Which rules are tried"):
 * Image suffixes (e.g. "selection and not filter" where selection has
 * Image|endswith values) or substrings of a field (the longest wildcard-
 * free run of each plain, contains, startswith or endswith value). An
 * event is then tried only against its category's rules that have no
 * keys or one of whose keys it meets (case-insensitively, as Sigma
 * matches): a rule left out cannot match (tests/unit/test_sigma_index.c
 * checks this over SigmaHQ's set). The index keeps scratch: one thread
 * at a time uses it. */
#define SIGMA_INDEX_KEY_MAX 255	/* longer literals: suffixes by their tail, substrings by their head */

struct sigma_index;

/* OUT: *ix over s (which must outlive it and not change). Returns 0 or
 * -CUSTOS_ERR_NOMEM. */
int sigma_index_build(const struct sigma_set *s, struct sigma_index **ix);
void sigma_index_free(struct sigma_index *ix);	/* accepts NULL */
/* The rules to try on ev: indices into s->rules, in s's order, valid
 * until the next call. OUT: *rules. Returns how many (0 for an event of
 * no category). */
size_t sigma_index_candidates(struct sigma_index *ix, const struct sigma_event *ev,
			      const size_t **rules);
/* How many rules are keyed (the others are tried on every event of their
 * category). */
size_t sigma_index_keyed(const struct sigma_index *ix);

/* --- sigma_cond.c: conditions ------------------------------------------ */
struct sigma_cond;

/* Parse condition text over the selection names sel[0..n). OUT: *c.
 * Returns 0, 1 when refused (aggregation "|", "near", a syntax error, an
 * unknown selection, a pattern matching none, past the bounds of
 * invariant 2: reason says where), or -CUSTOS_ERR_NOMEM. */
int sigma_cond_parse(const char *text, const char *const *sel, size_t n, struct sigma_cond **c,
		     char reason[SIGMA_REASON_MAX]);
void sigma_cond_free(struct sigma_cond *c);
/* A necessary condition of c: OUT: in[0..n_sel) marks a set S of
 * selections, each usable(ctx, i), such that whenever c is true some
 * selection of S is true. Returns 1, 0 when the condition gives no such
 * set (a negation, an unusable selection on some branch), or
 * -CUSTOS_ERR_NOMEM. */
int sigma_cond_need(const struct sigma_cond *c, size_t n_sel,
		    int (*usable)(const void *ctx, size_t i), const void *ctx, unsigned char *in);
/* Evaluate with sel_value(ctx, i) giving selection i's truth. */
int sigma_cond_eval(const struct sigma_cond *c, int (*sel_value)(const void *ctx, size_t i),
		    const void *ctx);

/* --- sigma_event.c: the field mapping ----------------------------------- */
/* The parent's image and command line when known (triage's process table). */
struct sigma_parent {
	const char *image, *cmdline;
};

/* Scratch strings an event points to. */
struct sigma_event_buf {
	char image[CUSTOS_PATH_MAX + 1];
	char cmdline[CUSTOS_ARGS_MAX + 1];
	char cwd[CUSTOS_PATH_MAX + 1];
	char target[CUSTOS_PATH_MAX + 1];
	char user[24], logonid[24], pid[24], ppid[24];
	char dip[64], dport[24], sip[64], sport[24];
	char sfamily[24], stype[24], sproto[24];	/* custos_socket */
	char auth[SIGMA_F_COUNT - SIGMA_F_AUTH_TYPE][256];	/* corr's authentication */
};

/* The Sigma view of rec (docs/triage.md): exec -> process_creation; a
 * file creation, write-open, rename/link/symlink target -> file_event;
 * connect/accept -> network_connection; a socket created -> custos_socket
 * (ours). image: the acting process's
 * executable for file and network events (NULL when unknown). OUT: *ev
 * (pointing into *b). Returns 1 when rec maps to a category, else 0. */
int sigma_event_from_record(const struct custos_record *rec, const struct sigma_parent *parent,
			    const char *image, struct sigma_event *ev, struct sigma_event_buf *b);

/* The network_connection fields of rec, an IPv4/IPv6 connect or accept
 * the caller has chosen (source and destination by direction, ports as
 * text, Initiated). OUT: *ev (pointing into *b). */
void sigma_event_net_fields(const struct custos_record *rec, struct sigma_event *ev,
			    struct sigma_event_buf *b);

/* The subject's fields of rec (User: "root" or the uid; LogonId,
 * ProcessId, ParentProcessId in decimal). OUT: ev's four (pointing into
 * *b). */
void sigma_event_subject(const struct custos_record *rec, struct sigma_event *ev,
			 struct sigma_event_buf *b);

/* Join a NUL-separated argv into a space-separated command line. */
void sigma_cmdline(char *out, size_t cap, const uint8_t *argv, uint32_t len);

#endif
