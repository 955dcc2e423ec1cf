/* SPDX-License-Identifier: Apache-2.0 */
/* zlib compression with a hard inflation limit (see compress.h). */
#include <limits.h>
#include <stdbool.h>
#include <zlib.h>

#include "compress.h"
#include "error.h"

int compress_payload(const uint8_t *in, size_t n, struct buf *out)
{
	uLongf dst_len;
	uLong bound;
	int ret;

	if (n > UINT32_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	bound = compressBound((uLong)n);
	ret = buf_reserve(out, bound);
	if (ret)
		return ret;
	dst_len = bound;
	ret = compress2(out->data + out->len, &dst_len, in, (uLong)n, COMPRESS_LEVEL);
	if (ret == Z_MEM_ERROR)
		return -CUSTOS_ERR_NOMEM;
	if (ret != Z_OK)
		return -CUSTOS_ERR_INVAL;
	out->len += dst_len;
	return 0;
}

int inflate_payload(const uint8_t *in, size_t n, size_t expect, struct buf *out)
{
	z_stream zs = { 0 };
	bool overflowed = false;
	uint8_t probe;
	int ret, zret;

	buf_reset(out);
	if (n > UINT_MAX || expect > UINT_MAX)
		return -CUSTOS_ERR_OVERSIZED;
	ret = buf_reserve(out, expect);
	if (ret)
		return ret;
	if (inflateInit(&zs) != Z_OK)
		return -CUSTOS_ERR_NOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out->data;
	zs.avail_out = (uInt)expect;
	zret = inflate(&zs, Z_FINISH);
	if (zret != Z_STREAM_END && zs.avail_out == 0) {
		/* The declared length is out. One more byte of room tells a
		 * stream that merely has its end marker left from a bomb. */
		zs.next_out = &probe;
		zs.avail_out = 1;
		zret = inflate(&zs, Z_FINISH);
		overflowed = zs.avail_out == 0;
	}
	if (overflowed)
		ret = -CUSTOS_ERR_DECOMPRESSION_BOMB;
	else if (zret == Z_MEM_ERROR)
		ret = -CUSTOS_ERR_NOMEM;
	else if (zret != Z_STREAM_END || zs.total_out != expect || zs.avail_in != 0)
		ret = -CUSTOS_ERR_CORRUPT_PAYLOAD;
	else
		out->len = expect;
	inflateEnd(&zs);
	return ret;
}
