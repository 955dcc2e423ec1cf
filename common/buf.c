/* SPDX-License-Identifier: Apache-2.0 */
/* Growable, bounded output buffer (see buf.h). */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "buf.h"
#include "error.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	if (b->data) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n > b->max || b->len > b->max - n)
		return -CUSTOS_ERR_OVERSIZED;
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max)
		cap = b->max;
	/* Not realloc: the old block may hold evidence and must be wiped. */
	p = malloc(cap);
	if (!p)
		return -CUSTOS_ERR_NOMEM;
	if (b->data) {
		memcpy(p, b->data, b->len);
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_put(struct buf *b, const void *p, size_t n)
{
	int ret;

	if (n == 0)
		return 0;
	ret = buf_reserve(b, n);
	if (ret)
		return ret;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_put_be32(struct buf *b, uint32_t v)
{
	uint8_t be[4] = { v >> 24, v >> 16, v >> 8, v };

	return buf_put(b, be, sizeof(be));
}

void buf_reset(struct buf *b)
{
	b->len = 0;
}

uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
