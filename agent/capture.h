/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture: the kernel side of the agent. Loads the eBPF programs through
 * their generated skeletons, attaches them, and hands every ring-buffer
 * record, unparsed, to a callback; reads the per-kind loss counters. All
 * kernel specifics (which variant of a program this kernel takes, the ring
 * buffer's size, the agent's own pid to filter out) are settled here.
 */
#ifndef CUSTOS_AGENT_CAPTURE_H
#define CUSTOS_AGENT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

/* Called for each ring-buffer record, in ring order. Returns 0 to go on;
 * a negative value stops capture_poll(), which returns it. */
typedef int (*capture_event_fn)(void *ctx, const void *data, size_t size);

struct capture_opts {
	uint32_t ringbuf_bytes;		/* a power of two, at least one page */
	capture_event_fn on_event;
	void *ctx;
	/* Filters (all optional; a zeroed tail keeps the defaults). */
	const char *const *ignore_exe;	/* executable path prefixes whose processes'
					   file, network and syscall events are dropped */
	size_t n_ignore_exe;
	const uint64_t *ignore_cgroups;	/* cgroup v2 ids, the same */
	size_t n_ignore_cgroups;
	const char *const *sensitive;	/* paths (glob(7) patterns) whose reads are
					   recorded; NULL: capture_default_sensitive */
	size_t n_sensitive;
	int all_opens;			/* nonzero: record every open that succeeded
					   or was refused, on every mount, without
					   the sensitive check (bpf/file.bpf.c) */
};

/* The default sensitive-read list (issue 3): shadow files, sudoers, SSH
 * host and user keys, /root. NULL-terminated. */
extern const char *const capture_default_sensitive[];

struct capture;

/* Load and attach the programs. Each failure is reported on stderr with
 * the step that failed. OUT: *out. Returns 0 or a negative errno. */
int capture_open(const struct capture_opts *opts, struct capture **out);

/* A one-line description of what is attached ("exec fork exit(group_dead)
 * file(41) ..."), naming the calls whose tracepoints this kernel lacks;
 * valid until capture_close(). */
const char *capture_programs(const struct capture *c);

/* The filters capture_open() set up (capture_filter.h), for a reload;
 * NULL when c is NULL. Valid until capture_close(). */
struct capture_filter *capture_filter(struct capture *c);

/* Wait up to timeout_ms for a wake-up, then deliver every record in the
 * rings (those below the wake-up mark too). Returns the number
 * delivered, -EINTR when a signal came, the callback's negative value, or
 * another negative errno. */
int capture_poll(struct capture *c, int timeout_ms);

/* Deliver what is in the ring buffer without waiting. Returns as
 * capture_poll(). */
int capture_drain(struct capture *c);

/* The end of capture: detach every program, then deliver what the rings
 * hold, so that every record a program wrote is delivered or counted lost
 * (capture_losses is final after it). Detaching takes seconds (each
 * syscall tracepoint's release waits for an RCU grace period), so the
 * rings are read after each object's programs are detached. Returns as
 * capture_drain(); the maps stay readable until capture_close(). */
int capture_stop(struct capture *c);

/* Sum the per-CPU counters of failed reservations. OUT: lost[kind] for
 * every kind below CUSTOS_EV_KIND_MAX. Returns 0 or a negative errno. */
int capture_losses(const struct capture *c, uint64_t lost[CUSTOS_EV_KIND_MAX]);

/* Detach and unload. Accepts NULL. */
void capture_close(struct capture *c);

#endif
