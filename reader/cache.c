// SPDX-License-Identifier: Apache-2.0
/*
 * The exposition shared by the HTTP server's concurrent requests. A
 * scrape reads every pin and renders megabytes when there are many
 * names; answering each of 40 clients with its own scrape, and its own
 * copy of the answer, made the server slow and its memory grow with the
 * number of slow clients. So:
 *
 *   - one render per variant (text or OpenMetrics, plain or gzip) is kept
 *     for SHARE_FRESH_MS after it was made, and every request in that time
 *     is answered from it; while slow clients still read it, for up to
 *     SHARE_MAX_MS. Requests that arrive while a scrape renders are thus
 *     answered from that render (the server has one thread);
 *   - a render is one reference-counted buffer that every response sends
 *     from: memory grows with the exposition, not with the clients;
 *   - a failed scrape is remembered as long, so a burst of requests
 *     against unreadable pins does not scrape once each;
 *   - the buffer is freed when its last reader is done, and the heap
 *     trimmed, so the process returns to its idle size.
 *
 * What must stay true: exposition_in_flight() is the number of responses
 * holding a render (each takes one reference, http_response_free drops
 * it); the cache's own reference is dropped only by exposition_expire().
 */
#include "reader.h"

#include "log.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#define SHARE_FRESH_MS 500
#define SHARE_MAX_MS 5000
#define TRIM_BYTES (1024 * 1024) /* freeing more than this trims the heap */

struct shared_body {
	unsigned refs;
	int64_t made_ms;
	struct buf buf;
};

/* The cache: per format, the plain and the gzip render, and the last
 * failure. */
static struct {
	struct shared_body *body[2][2]; /* [format][gzip] */
	int64_t failed_ms[2];
	char failed_err[2][ERR_LEN];
} cache;

static unsigned in_flight;

unsigned exposition_in_flight(void)
{
	return in_flight;
}

static void body_unref(struct shared_body *b)
{
	size_t size;

	if (--b->refs)
		return;
	size = b->buf.cap;
	buf_free(&b->buf);
	free(b);
	if (size >= TRIM_BYTES)
		malloc_trim(0);
}

void exposition_put(struct shared_body *b)
{
	in_flight--;
	body_unref(b);
}

const struct buf *exposition_buf(const struct shared_body *b)
{
	return &b->buf;
}

/* Whether the cache may still hand out B at NOW. */
static bool body_usable(const struct shared_body *b, int64_t now)
{
	int64_t age = now - b->made_ms;

	return age < SHARE_FRESH_MS || (b->refs > 1 && age < SHARE_MAX_MS);
}

void exposition_expire(int64_t now)
{
	for (int f = 0; f < 2; f++)
		for (int z = 0; z < 2; z++) {
			struct shared_body **b = &cache.body[f][z];

			if (*b && !body_usable(*b, now)) {
				body_unref(*b);
				*b = NULL;
			}
		}
}

int64_t exposition_next_expiry(void)
{
	int64_t next = INT64_MAX;

	for (int f = 0; f < 2; f++)
		for (int z = 0; z < 2; z++) {
			const struct shared_body *b = cache.body[f][z];
			int64_t at;

			if (!b)
				continue;
			at = b->made_ms +
			     (b->refs > 1 ? SHARE_MAX_MS : SHARE_FRESH_MS);
			next = at < next ? at : next;
		}
	return next;
}

static struct shared_body *body_new(int64_t now)
{
	struct shared_body *b = calloc(1, sizeof(*b));

	if (b) {
		b->refs = 1; /* the cache's */
		b->made_ms = now;
	}
	return b;
}

/* The plain render of FORMAT, from the cache or a new scrape; NULL with
 * the reason in ERR. */
static struct shared_body *plain_get(const struct scrape_config *cfg,
				     enum expo_format format, int64_t now,
				     char *err, size_t errlen)
{
	struct shared_body *b = cache.body[format][0];

	if (b)
		return b;
	if (cache.failed_ms[format] &&
	    now - cache.failed_ms[format] < SHARE_FRESH_MS) {
		snprintf(err, errlen, "%s", cache.failed_err[format]);
		return NULL;
	}
	b = body_new(now);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (scrape(cfg, format, &b->buf, err, errlen)) {
		body_unref(b);
		snprintf(cache.failed_err[format], ERR_LEN, "%s", err);
		/* The scrape took time: the failure dates from its end. */
		cache.failed_ms[format] = now_ms();
		return NULL;
	}
	b->made_ms = now_ms();
	cache.failed_ms[format] = 0;
	cache.body[format][0] = b;
	return b;
}

/* The gzip render of PLAIN (FORMAT), from the cache or compressed now;
 * NULL if compression fails. */
static struct shared_body *gzip_get(enum expo_format format,
				    const struct shared_body *plain)
{
	struct shared_body **slot = &cache.body[format][1];
	struct shared_body *b = *slot;

	if (b && b->made_ms == plain->made_ms)
		return b;
	b = body_new(plain->made_ms);
	if (!b)
		return NULL;
	if (gzip_compress(&plain->buf, &b->buf)) {
		body_unref(b);
		return NULL;
	}
	if (*slot)
		body_unref(*slot);
	*slot = b;
	return b;
}

struct shared_body *exposition_get(const struct scrape_config *cfg,
				   enum expo_format format, bool gzip,
				   bool *gzipped, char *err, size_t errlen)
{
	struct shared_body *b;

	exposition_expire(now_ms());
	b = plain_get(cfg, format, now_ms(), err, errlen);
	if (!b)
		return NULL;
	*gzipped = false;
	if (gzip) {
		struct shared_body *z = gzip_get(format, b);

		if (z) {
			b = z;
			*gzipped = true;
		} else {
			log_warn("gzip failed; answering uncompressed");
		}
	}
	b->refs++;
	in_flight++;
	return b;
}
