/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode: turn one ring-buffer record written by the kernel programs
 * (bpf/events.h) into a struct custos_record (common/record.h). The bytes
 * come from kernel memory but are treated like any other untrusted input:
 * the size must be exactly that of the kind's struct, and every length and
 * offset inside is checked before it is used.
 */
#ifndef CUSTOS_AGENT_DECODE_H
#define CUSTOS_AGENT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* Decode size bytes at data. OUT: *rec, zeroed first; *kind, the kind the
 * record claims (0 when it is too short to say). Returns 0;
 * -CUSTOS_ERR_TRUNCATED when size is smaller than the kind's struct,
 * -CUSTOS_ERR_OVERSIZED when it is larger; -CUSTOS_ERR_MALFORMED for an
 * unknown kind or a length or offset out of range. */
int decode_event(const void *data, size_t size, struct custos_record *rec, uint32_t *kind);

/* Expected size of a ring-buffer record of kind, 0 for an unknown kind. */
size_t decode_event_size(uint32_t kind);

#endif
