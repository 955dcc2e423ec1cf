/* SPDX-License-Identifier: Apache-2.0 */
/*
 * privs: drop the capabilities the agent no longer needs once its eBPF
 * programs are loaded and attached. What is kept and why is in
 * docs/agent.md "Privileges".
 */
#ifndef CUSTOS_AGENT_PRIVS_H
#define CUSTOS_AGENT_PRIVS_H

#include <stdint.h>

/* Reduce the bounding, inheritable, permitted and effective sets to the
 * capabilities in keep (a bit mask of CAP_* numbers), clear the ambient
 * set and set no_new_privs. Uses prctl(2) and capset(2) directly (no
 * libcap). Returns 0 or -CUSTOS_ERR_IO (errno set). */
int privs_drop(uint64_t keep);

/* The effective set of this process, as a bit mask. Returns 0 on error. */
uint64_t privs_effective(void);

#endif
