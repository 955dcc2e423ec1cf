/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the Sigma unit tests (test_sigma*.c, test_corr.c):
 * loading one rule from YAML text, and finding SigmaHQ's linux rules in
 * ../shared/sigma (a failure in CI when they are missing, else a skip).
 * Header-only, as testutil.h. */
#ifndef CUSTOS_SIGMA_TESTUTIL_H
#define CUSTOS_SIGMA_TESTUTIL_H

#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "sigma.h"

#define TU_SIGMA_DIR_MAX 4096

/* The rule in text, which must load (the reason is printed if not). */
static inline struct sigma_rule *tu_sigma_rule(const char *text)
{
	char reason[SIGMA_REASON_MAX];
	struct sigma_rule *r = NULL;
	enum sigma_category c;
	int ret = sigma_rule_load(text, strlen(text), "t.yml", &r, &c, reason);

	if (ret)
		print_message("refused: %s\n", reason);
	assert_int_equal(ret, 0);
	return r;
}

/* OUT: dir, ../shared/sigma as an absolute path. Returns 1 when it is a
 * directory; 0 (a skip, with a message) when not, a failure in CI. */
static inline int tu_have_sigma(char dir[TU_SIGMA_DIR_MAX])
{
	char cwd[TU_SIGMA_DIR_MAX - 32];
	struct stat st;
	char *slash;

	if (!getcwd(cwd, sizeof(cwd)))
		return 0;
	slash = strrchr(cwd, '/');
	if (slash)
		*slash = '\0';
	snprintf(dir, TU_SIGMA_DIR_MAX, "%s/shared/sigma", cwd);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 1;
	if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
		fail_msg("%s is missing in CI", dir);
	print_message("skipped: %s does not exist (the SigmaHQ test rules)\n", dir);
	return 0;
}

#endif
