/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode: turn one ring-buffer record written by the kernel programs
 * (bpf/events.h) into a struct custos_record (common/record.h). The bytes
 * come from kernel memory but are treated like any other untrusted input:
 * the size must be exactly that of the kind's struct (exec and file records:
 * the struct plus the string lengths it states), and every length is
 * checked against its bound before it is used.
 */
#ifndef CUSTOS_AGENT_DECODE_H
#define CUSTOS_AGENT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* Decode size bytes at data (8-byte aligned, as the ring buffer gives
 * them). OUT: *rec, zeroed first and all zero on error; *kind, the kind
 * the record claims (0 when it is too short to say). Returns 0;
 * -CUSTOS_ERR_TRUNCATED when size is smaller than the kind's struct plus
 * the lengths it states, -CUSTOS_ERR_OVERSIZED when it is larger;
 * -CUSTOS_ERR_MALFORMED for an unknown kind, a length out of its bound or
 * a field out of range. */
int decode_event(const void *data, size_t size, struct custos_record *rec, uint32_t *kind);

/* Size of the struct a ring-buffer record of kind starts with: the whole
 * record for fixed-size kinds, the least for exec and file records (whose
 * strings follow it); 0 for an unknown kind. */
size_t decode_event_size(uint32_t kind);

#endif
