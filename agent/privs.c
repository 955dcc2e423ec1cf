/* SPDX-License-Identifier: Apache-2.0 */
/*
 * privs: capability dropping with prctl(2) and capset(2) (privs.h). The
 * bounding set goes first, while CAP_SETPCAP is still effective; then
 * capset() leaves only keep in permitted and effective. The uid stays 0:
 * the spool and key files are root's, and owner access needs no
 * capability.
 */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "privs.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static int last_cap(void)
{
	int c = 40;	/* probe upward: PR_CAPBSET_READ fails past the last */

	while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	while (c > 0 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
		c--;
	return c;
}

int privs_drop(uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int last = last_cap();

	for (int c = 0; c <= last; c++)
		if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return -CUSTOS_ERR_IO;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)keep;
	d[1].permitted = d[1].effective = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d))
		return -CUSTOS_ERR_IO;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -CUSTOS_ERR_IO;
	return 0;
}

uint64_t privs_effective(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return 0;
	return (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32);
}
