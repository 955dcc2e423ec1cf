/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Grouping alerts into incidents (incident.h, which states the rule):
 * finding an alert's process tree in the index, and assigning each
 * ungrouped alert to the open incident of its tree or to a new one.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "incident.h"

/* Programs whose children are independent sessions or jobs. */
static const char *const boundaries[] = {
	"init", "systemd", "sshd", "sshd-session", "cron", "crond", "anacron", "atd", "login",
	"agetty", "getty", "containerd-shim", "containerd-shim-runc-v2", "conmon", "runc",
	"tmux", "tmux: server", "screen", "SCREEN", "kthreadd",
};

int incident_boundary(const char *exe, const char *comm)
{
	const char *base = exe && exe[0] ? strrchr(exe, '/') : NULL;
	const char *name = base ? base + 1 : exe && exe[0] ? exe : comm;

	for (size_t i = 0; name && i < sizeof(boundaries) / sizeof(boundaries[0]); i++)
		if (strcmp(name, boundaries[i]) == 0)
			return 1;
	return 0;
}

int incident_tree(struct store *s, const uint8_t host_id[KEYS_SIGN_PK_LEN], uint64_t pid,
		  int64_t ts, uint64_t *root_pid, char tree[STORE_TREE_MAX], int *known)
{
	struct store_proc_info cur, parent;
	uint64_t p = pid;
	int ret, have = 0;

	*root_pid = pid;
	if (known)
		*known = 1;
	for (int depth = 0; depth < INCIDENT_DEPTH_MAX && p > 2; depth++) {
		ret = store_proc_at(s, host_id, p, ts, depth ? &parent : &cur);
		if (ret < 0)
			return ret;
		if (ret > 0 && known)
			*known = 0;
		if (ret > 0 || (depth && incident_boundary(parent.exe, parent.comm)))
			break;
		if (depth)
			cur = parent;
		have = 1;
		*root_pid = p;
		p = cur.ppid;
	}
	if (have && cur.proc_id[0])
		snprintf(tree, STORE_TREE_MAX, "%s", cur.proc_id);
	else
		snprintf(tree, STORE_TREE_MAX, "pid-%llu", (unsigned long long)*root_pid);
	return 0;
}

struct grouping {
	struct store *s;
	uint64_t opened;
	int flush;			/* hold nothing back */
	int holding;			/* alerts of held_host are held back */
	uint8_t held_host[KEYS_SIGN_PK_LEN];
};

/* Whether a is held back (invariant 3): its tree is not known yet and its
 * host's records have not settled past it, or an earlier alert of its
 * host is held (alerts are grouped in time order). 1, 0 or -CUSTOS_ERR_IO. */
static int held(struct grouping *g, const struct store_alert *a, int known)
{
	int64_t latest;

	if (g->flush)
		return 0;
	if (g->holding && memcmp(g->held_host, a->host_id, KEYS_SIGN_PK_LEN) == 0)
		return 1;
	if (known)
		return 0;
	if (store_host_latest(g->s, a->host_id, &latest))
		return -CUSTOS_ERR_IO;
	if (latest >= a->ts_wall_ns && (uint64_t)(latest - a->ts_wall_ns) >= INCIDENT_SETTLE_NS)
		return 0;
	g->holding = 1;
	memcpy(g->held_host, a->host_id, KEYS_SIGN_PK_LEN);
	return 1;
}

static int group_one(void *ctx, const struct store_alert *a)
{
	struct grouping *g = ctx;
	struct store_incident inc;
	uint64_t root;
	char tree[STORE_TREE_MAX];
	int known, ret = incident_tree(g->s, a->host_id, a->pid, a->ts_wall_ns, &root, tree,
				       &known);

	if (!ret && (ret = held(g, a, known)) == 1)
		return STORE_KEEP_PENDING;
	if (!ret)
		ret = store_incident_last(g->s, a->host_id, tree, &inc);
	if (ret < 0)
		return ret;
	if (ret == 0 && a->ts_wall_ns >= inc.last_ns &&
	    (uint64_t)(a->ts_wall_ns - inc.last_ns) <= INCIDENT_WINDOW_NS) {
		inc.last_ns = a->ts_wall_ns;
		inc.severity = a->severity > inc.severity ? a->severity : inc.severity;
		inc.alerts++;
	} else if (ret == 0 && a->ts_wall_ns < inc.last_ns && a->ts_wall_ns >= inc.first_ns) {
		inc.alerts++;	/* out of order (streaming): inside the incident's span */
		inc.severity = a->severity > inc.severity ? a->severity : inc.severity;
	} else {
		memset(&inc, 0, sizeof(inc));
		snprintf(inc.id, sizeof(inc.id), "inc-%llu-%u", (unsigned long long)a->leaf,
			 a->rec_index);
		memcpy(inc.host_id, a->host_id, sizeof(inc.host_id));
		snprintf(inc.tree, sizeof(inc.tree), "%s", tree);
		inc.root_pid = root;
		inc.first_ns = inc.last_ns = a->ts_wall_ns;
		inc.severity = a->severity;
		inc.alerts = 1;
		g->opened++;
	}
	return store_incident_link(g->s, &inc, a);
}

static int update(struct store *s, int flush, uint64_t *opened)
{
	struct grouping g = { .s = s, .flush = flush };
	int ret = store_alerts_ungrouped(s, group_one, &g);

	if (opened)
		*opened = g.opened;
	return ret;
}

int incident_update(struct store *s, uint64_t *opened)
{
	return update(s, 0, opened);
}

/* Group every pending alert, holding nothing back, after forgetting all
 * incidents when reset, in a transaction of its own. */
static int group_all(struct store *s, int reset, uint64_t *opened)
{
	int ret = store_begin(s);

	if (!ret && reset)
		ret = store_incidents_reset(s);
	if (!ret)
		ret = update(s, 1, opened);
	if (!ret)
		ret = store_commit(s);
	if (ret)
		store_rollback(s);
	return ret;
}

int incident_flush(struct store *s, uint64_t *opened)
{
	return group_all(s, 0, opened);
}

int incident_regroup(struct store *s, uint64_t *opened)
{
	return group_all(s, 1, opened);
}
