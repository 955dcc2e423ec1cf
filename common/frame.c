/* SPDX-License-Identifier: Apache-2.0 */
/* Length-prefixed frames with a hard limit (see frame.h). */
#include <string.h>

#include "error.h"
#include "frame.h"

static int type_known(uint8_t type)
{
	return type == FRAME_BATCH || type == FRAME_ACK;
}

int frame_write(struct buf *out, uint8_t type, const uint8_t *payload, size_t n)
{
	uint8_t head[4] = { FRAME_VERSION, type, 0, 0 };
	int ret;

	if (!type_known(type))
		return -CUSTOS_ERR_INVAL;
	if (n > FRAME_PAYLOAD_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	ret = buf_reserve(out, FRAME_HEADER_LEN + n);
	if (!ret)
		ret = buf_put(out, head, sizeof(head));
	if (!ret)
		ret = buf_put_be32(out, (uint32_t)n);
	if (!ret)
		ret = buf_put(out, payload, n);
	return ret;
}

int frame_parse(const uint8_t *p, size_t n, struct frame *f, size_t *consumed)
{
	uint32_t len;

	memset(f, 0, sizeof(*f));
	*consumed = 0;
	if (n < FRAME_HEADER_LEN)
		return -CUSTOS_ERR_AGAIN;
	if (p[0] != FRAME_VERSION)
		return -CUSTOS_ERR_VERSION;
	if (!type_known(p[1]) || p[2] != 0 || p[3] != 0)
		return -CUSTOS_ERR_MALFORMED;
	len = load_be32(p + 4);
	if (len > FRAME_PAYLOAD_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	if (n - FRAME_HEADER_LEN < len)
		return -CUSTOS_ERR_AGAIN;
	f->type = p[1];
	f->payload = p + FRAME_HEADER_LEN;
	f->len = len;
	*consumed = FRAME_HEADER_LEN + (size_t)len;
	return 0;
}
