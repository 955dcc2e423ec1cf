/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: parse the agent's YAML configuration with libyaml's event API
 * into struct agent_config. The grammar is deliberately small: one
 * mapping whose keys are the options of docs/agent.md; each value is a
 * scalar (a string, a whole number, or true/false), except the lists,
 * which are sequences of scalars. Anything else
 * (an unknown key, a nested mapping, a number with a sign or a suffix) is
 * an error that names the file and the line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <yaml.h>

#include "config.h"
#include "error.h"
#include "number.h"

enum opt_type { OPT_STR, OPT_U64, OPT_BOOL, OPT_LIST };

struct option_desc {
	const char *key;
	enum opt_type type;
	size_t off;		/* offsetof the field */
	size_t count_off;	/* lists: offsetof the count */
	uint64_t min, max;	/* numbers */
};

#define OSTR(k, f) { k, OPT_STR, offsetof(struct agent_config, f), 0, 0, 0 }
#define OU64(k, f, lo, hi) { k, OPT_U64, offsetof(struct agent_config, f), 0, lo, hi }
#define OBOOL(k, f) { k, OPT_BOOL, offsetof(struct agent_config, f), 0, 0, 0 }
#define OLIST(k, f, n) \
	{ k, OPT_LIST, offsetof(struct agent_config, f), offsetof(struct agent_config, n), 0, 0 }

static const struct option_desc options[] = {
	OSTR("collector", collector),
	OSTR("collector_key", collector_key),
	OSTR("host_key", host_key),
	OSTR("spool_dir", spool_dir),
	OU64("spool_max_bytes", spool_max_bytes, 65536, 1ull << 44),
	OU64("batch_max_bytes", batch_max_bytes, 4096, (8u << 20)),
	OU64("batch_max_delay_ms", batch_max_delay_ms, 10, 60000),
	OU64("heartbeat_s", heartbeat_s, 1, 3600),
	OU64("max_inflight", max_inflight, 1, 64),
	OU64("clock_step_ms", clock_step_ms, 1, 3600000),
	OBOOL("all_opens", all_opens),
	OLIST("sensitive_paths", sensitive_paths, n_sensitive),
	OLIST("noise_comms", noise_comms, n_noise_comms),
	OLIST("ignore_exe", ignore_exe, n_ignore_exe),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

void config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->collector_key, sizeof(c->collector_key), "/etc/custos/collector.pub");
	snprintf(c->host_key, sizeof(c->host_key), "/var/lib/custos/agent/host.key");
	snprintf(c->spool_dir, sizeof(c->spool_dir), "/var/spool/custos");
	c->spool_max_bytes = 1ull << 30;
	c->batch_max_bytes = 1u << 20;
	c->batch_max_delay_ms = 1000;
	c->heartbeat_s = 10;
	c->max_inflight = 8;
	c->clock_step_ms = 100;
}

void config_free(struct agent_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_sensitive; i++)
		free(c->sensitive_paths[i]);
	for (size_t i = 0; i < c->n_noise_comms; i++)
		free(c->noise_comms[i]);
	for (size_t i = 0; i < c->n_ignore_exe; i++)
		free(c->ignore_exe[i]);
	c->n_sensitive = c->n_noise_comms = c->n_ignore_exe = 0;
	free(c->text);
	c->text = NULL;
	c->text_len = 0;
}

struct parse {
	yaml_parser_t p;
	yaml_event_t ev;
	const char *name;
	char *err;
	size_t errlen;
	struct agent_config *c;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parse *ps, size_t line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s:%zu: %s", ps->name, line + 1, msg);
	return -CUSTOS_ERR_MALFORMED;
}

/* Next event into ps->ev (the previous one deleted). */
static int next(struct parse *ps)
{
	yaml_event_delete(&ps->ev);
	if (!yaml_parser_parse(&ps->p, &ps->ev))
		return fail(ps, ps->p.problem_mark.line, "YAML syntax: %s",
			    ps->p.problem ? ps->p.problem : "error");
	return 0;
}

static int set_scalar(struct parse *ps, const struct option_desc *o)
{
	const char *v = (const char *)ps->ev.data.scalar.value;
	size_t line = ps->ev.start_mark.line;
	char range[96];

	if (o->type == OPT_STR) {
		char *dst = (char *)ps->c + o->off;

		if (ps->ev.data.scalar.length >= CONFIG_STR_MAX || strlen(v) != ps->ev.data.scalar.length)
			return fail(ps, line, "value of '%s' is too long or holds a NUL", o->key);
		memcpy(dst, v, ps->ev.data.scalar.length + 1);
		return 0;
	}
	if (o->type == OPT_BOOL) {
		bool *dst = (bool *)(void *)((char *)ps->c + o->off);

		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return fail(ps, line, "'%s' must be true or false", o->key);
		*dst = v[0] == 't';
		return 0;
	}
	if (custos_parse_u64(v, o->min, o->max, (uint64_t *)(void *)((char *)ps->c + o->off)) == 0)
		return 0;
	snprintf(range, sizeof(range), "'%s' needs a whole number from %llu to %llu", o->key,
		 (unsigned long long)o->min, (unsigned long long)o->max);
	return fail(ps, line, "%s", range);
}

static int set_list(struct parse *ps, const struct option_desc *o)
{
	char **list = (char **)(void *)((char *)ps->c + o->off);
	size_t *n = (size_t *)(void *)((char *)ps->c + o->count_off);
	int ret;

	while ((ret = next(ps)) == 0 && ps->ev.type == YAML_SCALAR_EVENT) {
		const char *v = (const char *)ps->ev.data.scalar.value;

		if (*n >= CONFIG_LIST_MAX)
			return fail(ps, ps->ev.start_mark.line, "'%s' has too many entries", o->key);
		if (ps->ev.data.scalar.length == 0 || ps->ev.data.scalar.length >= CONFIG_STR_MAX ||
		    strlen(v) != ps->ev.data.scalar.length)
			return fail(ps, ps->ev.start_mark.line, "an entry of '%s' is empty, too "
				    "long or holds a NUL", o->key);
		list[*n] = strdup(v);
		if (!list[*n])
			return -CUSTOS_ERR_NOMEM;
		(*n)++;
	}
	if (ret)
		return ret;
	if (ps->ev.type != YAML_SEQUENCE_END_EVENT)
		return fail(ps, ps->ev.start_mark.line, "entries of '%s' must be plain values",
			    o->key);
	return 0;
}

static int parse_value(struct parse *ps, const struct option_desc *o)
{
	size_t line = ps->ev.start_mark.line;
	int ret = next(ps);

	if (ret)
		return ret;
	if (o->type == OPT_LIST) {
		if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
			return fail(ps, line, "'%s' must be a list", o->key);
		return set_list(ps, o);
	}
	if (ps->ev.type != YAML_SCALAR_EVENT)
		return fail(ps, line, "'%s' must be a single value", o->key);
	return set_scalar(ps, o);
}

static int parse_mapping(struct parse *ps)
{
	int ret;

	while ((ret = next(ps)) == 0 && ps->ev.type == YAML_SCALAR_EVENT) {
		const char *key = (const char *)ps->ev.data.scalar.value;
		const struct option_desc *o = NULL;

		for (size_t i = 0; i < N_OPTIONS && !o; i++)
			if (strcmp(key, options[i].key) == 0)
				o = &options[i];
		if (!o)
			return fail(ps, ps->ev.start_mark.line, "unknown key '%s'", key);
		ret = parse_value(ps, o);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (ps->ev.type != YAML_MAPPING_END_EVENT)
		return fail(ps, ps->ev.start_mark.line, "%s", "keys must be plain names");
	return 0;
}

static int parse_document(struct parse *ps)
{
	int ret;

	if ((ret = next(ps)) || (ret = next(ps)))	/* stream start, document start */
		return ret;
	if (ps->ev.type == YAML_STREAM_END_EVENT)
		return 0;				/* an empty file: all defaults */
	if ((ret = next(ps)))
		return ret;
	if (ps->ev.type == YAML_SCALAR_EVENT && ps->ev.data.scalar.length == 0)
		return 0;				/* a document of comments only */
	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, ps->ev.start_mark.line, "%s",
			    "the configuration must be a mapping of options");
	if ((ret = parse_mapping(ps)) || (ret = next(ps)))
		return ret;
	if ((ret = next(ps)))				/* document end */
		return ret;
	if (ps->ev.type != YAML_STREAM_END_EVENT)
		return fail(ps, ps->ev.start_mark.line, "%s", "only one YAML document is allowed");
	return 0;
}

int config_parse(const char *name, const char *text, size_t len, struct agent_config *c,
		 char *err, size_t errlen)
{
	struct parse ps;
	int ret;

	memset(&ps, 0, sizeof(ps));
	err[0] = '\0';
	if (len > CUSTOS_CONFIG_MAX) {
		snprintf(err, errlen, "%s: longer than %d bytes", name, CUSTOS_CONFIG_MAX);
		return -CUSTOS_ERR_OVERSIZED;
	}
	c->text = malloc(len + 1);
	if (!c->text)
		return -CUSTOS_ERR_NOMEM;
	memcpy(c->text, text, len);
	c->text[len] = '\0';
	c->text_len = len;
	crypto_generichash(c->hash, sizeof(c->hash), (const uint8_t *)text, len, NULL, 0);
	if (!yaml_parser_initialize(&ps.p))
		return -CUSTOS_ERR_NOMEM;
	yaml_parser_set_input_string(&ps.p, (const unsigned char *)c->text, len);
	ps.name = name;
	ps.err = err;
	ps.errlen = errlen;
	ps.c = c;
	ret = parse_document(&ps);
	yaml_event_delete(&ps.ev);
	yaml_parser_delete(&ps.p);
	if (ret == -CUSTOS_ERR_NOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	return ret;
}

int config_load(const char *path, struct agent_config *c, char *err, size_t errlen)
{
	char *text = malloc(CUSTOS_CONFIG_MAX + 1);
	size_t len = 0;
	ssize_t n;
	int fd, ret = -CUSTOS_ERR_IO;

	if (!text)
		return -CUSTOS_ERR_NOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (len <= CUSTOS_CONFIG_MAX &&
	       (n = read(fd, text + len, CUSTOS_CONFIG_MAX + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		snprintf(err, errlen, "%s: reading: %s", path, strerror(errno));
		goto out;
	}
	ret = config_parse(path, text, len, c, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return ret;
}

int config_split_addr(const char *addr, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t hl;
	uint64_t p;

	if (!colon || custos_parse_u64(colon + 1, 1, 65535, &p))
		return -CUSTOS_ERR_INVAL;
	hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		h = addr + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -CUSTOS_ERR_INVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}
