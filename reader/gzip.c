// SPDX-License-Identifier: Apache-2.0
/* gzip for HTTP responses: the whole body in one deflate pass into a
 * buffer sized by deflateBound, so there is no loop and no copy. */
#include "reader.h"

#include <limits.h>
#include <zlib.h>

/* Level 1: the exposition is repetitive enough that higher levels buy a
 * few percent of size for several times the CPU. */
#define GZIP_LEVEL Z_BEST_SPEED
#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, gzip wrapper */
#define GZIP_MEM_LEVEL 8

int gzip_compress(const struct buf *in, struct buf *out)
{
	z_stream z = { 0 };
	int rc;

	if (in->len > UINT_MAX)
		return -1;
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS,
			 GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	out->len = 0;
	if (!buf_reserve(out, deflateBound(&z, in->len))) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)out->cap;
	rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}
