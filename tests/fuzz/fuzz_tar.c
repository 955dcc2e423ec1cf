/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_tar: custos-verify's tar reader (verify/tar.c, vr_tar_unpack) on
 * arbitrary archives. Invariants (abort() when broken): a refusal comes
 * with a reason; whatever is accepted or refused, everything written lies
 * inside the private directory and is a regular file or a directory (never
 * a link, never elsewhere), an accepted archive's bundle directory exists
 * in it, and vr_tar_cleanup leaves nothing behind.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verify.h"

static const char *root;

static int check_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)f;
	if (strncmp(path, root, strlen(root)) != 0 || strstr(path, "/../"))
		abort();
	if (flag == FTW_SL || flag == FTW_SLN || (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[64], tmp[VR_PATH_MAX], dir[VR_PATH_MAX], why[VR_PATH_MAX + 512];
	struct stat st;
	FILE *f;
	int ret;

	snprintf(in, sizeof(in), "/tmp/fuzz_tar.%d.tar", (int)getpid());
	f = fopen(in, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	ret = vr_tar_unpack(in, tmp, sizeof(tmp), dir, sizeof(dir), why, sizeof(why));
	if (ret && !why[0])
		abort();
	if (tmp[0]) {
		root = tmp;
		if (nftw(tmp, check_one, 16, FTW_PHYS) != 0)
			abort();
		if (!ret && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
			abort();
		vr_tar_cleanup(tmp);
		if (stat(tmp, &st) == 0)
			abort();
	}
	unlink(in);
	return 0;
}
