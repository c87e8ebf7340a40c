// SPDX-License-Identifier: Apache-2.0
/* One scrape, the same for every mode: read the pins, render them. */
#include "reader.h"

#include "log.h"

#include <stdio.h>
#include <time.h>

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t now_ms(void)
{
	return now_ns() / 1000000;
}

int scrape(const struct scrape_config *cfg, enum expo_format format,
	   struct buf *out, char *err, size_t errlen)
{
	int64_t started = now_ns();
	struct pins_snapshot snap;
	size_t ifaces;

	if (snapshot_read(cfg, &snap, err, errlen)) {
		log_error("%s", err);
		return -1;
	}
	expo_render(&snap, format, started, out);
	ifaces = snap.count;
	snapshot_free(&snap);
	if (out->failed) {
		snprintf(err, errlen, "out of memory rendering the metrics");
		log_error("%s", err);
		return -1;
	}
	log_debug("scrape: %zu interfaces, %zu bytes, %.3f ms", ifaces,
		  out->len, (double)(now_ns() - started) / 1e6);
	return 0;
}
