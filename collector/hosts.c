/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hosts: each host the collector knows, from the enrolment log (name,
 * status) and the index (last heartbeat, last batch, gaps, losses, clock
 * state), as a table. Read-only: needs only the collector's public key
 * and read access to the index, and runs beside serve.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "collector.h"
#include "error.h"
#include "keystore.h"
#include "store.h"

struct hosts_ctx {
	const struct keystore *ks;
	int local;
	unsigned char *seen;	/* per keystore host: printed */
};

static const char *clock_name(int clock)
{
	return clock == STORE_CLOCK_SYNCED ? "synced" : clock == STORE_CLOCK_COARSE ? "coarse"
								: "unsynced";
}

static int print_host(void *ctx, const struct store_host *h)
{
	struct hosts_ctx *x = ctx;
	const struct ks_host *kh = keystore_host(x->ks, h->host_id);
	char hb[48] = "-", lb[48], clock[64];

	if (kh)
		x->seen[kh - x->ks->hosts] = 1;
	if (h->last_heartbeat_ns)
		coll_fmt_time(h->last_heartbeat_ns, x->local, hb, sizeof(hb));
	coll_fmt_time((int64_t)h->last_received_ns, x->local, lb, sizeof(lb));
	snprintf(clock, sizeof(clock), "%s,maxerr=%llums", clock_name(h->clock),
		 (unsigned long long)(h->maxerror_us / 1000));
	printf("%-16s %-8s %-30s %-30s %8llu %8llu %9llu %5llu %7llu %s\n",
	       kh ? kh->name : "?", kh ? (kh->revoked ? "revoked" : "enrolled") : "unknown", hb, lb,
	       (unsigned long long)h->last_seq, (unsigned long long)h->batches,
	       (unsigned long long)h->records, (unsigned long long)h->gaps,
	       (unsigned long long)h->lost, clock);
	return 0;
}

static int list_hosts(const char *dir, int local)
{
	char path[COLL_PATH_MAX];
	struct keystore ks;
	struct store *s = NULL;
	struct hosts_ctx x = { .ks = &ks, .local = local };
	int ret = keystore_open(&ks, dir, 0);

	if (ret)
		return ret;
	x.seen = calloc(ks.count + 1, 1);
	ret = x.seen ? coll_path(path, dir, "index.sqlite") : -CUSTOS_ERR_NOMEM;
	if (!ret)
		ret = store_open(path, 1, &s);
	if (!ret) {
		printf("%-16s %-8s %-30s %-30s %8s %8s %9s %5s %7s %s\n", "HOST", "STATUS",
		       "LAST HEARTBEAT", "LAST BATCH (RECEIVED)", "SEQ", "BATCHES", "RECORDS", "GAPS",
		       "LOST", "CLOCK");
		ret = store_hosts(s, print_host, &x);
	}
	for (size_t i = 0; !ret && i < ks.count; i++)
		if (!x.seen[i])
			printf("%-16s %-8s %-30s %-30s %8s %8s %9s %5s %7s %s\n", ks.hosts[i].name,
			       ks.hosts[i].revoked ? "revoked" : "enrolled", "-", "-", "-", "0", "0",
			       "0", "0", "-");
	free(x.seen);
	store_close(s);
	keystore_close(&ks);
	return ret;
}

int cmd_hosts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "local", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = coll_default_dir();
	int c, local = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'l')
			local = 1;
		else {
			fprintf(stderr, "Usage: custos-collector hosts [--dir DIR] [--local]\n");
			return COLL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "Usage: custos-collector hosts [--dir DIR] [--local]\n");
		return COLL_EXIT_USAGE;
	}
	return list_hosts(dir, local) ? COLL_EXIT_FAIL : COLL_EXIT_OK;
}
