// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-read --unmatched: every tracked unmatched prefix as one line
 * of a tab-separated table, per interface, family and side biggest first,
 * with its share of the unmatched range's traffic on that side (tracked
 * plus untracked, which is all of it since the map was made). Read-only
 * and one reading, like a scrape; an interface without the map is named
 * on stderr and skipped.
 */
#include "reader.h"

#include <errno.h>
#include <stdio.h>

#include "cidr.h"
#include "log.h"

static uint64_t side_total(const struct unmatched_snapshot *u, int family, int side)
{
	size_t first, n = unmatched_group(u, family, side, &first);
	uint64_t sum = u->untracked[family][side].bytes;

	for (size_t i = first; i < first + n; i++)
		sum += u->prefixes[i].bytes;
	return sum;
}

static void row(struct buf *out, const char *iface, int family, int side, const char *prefix,
		uint64_t bytes, uint64_t packets, uint64_t total)
{
	buf_printf(out, "%s\t%s\t%s\t%s\t%llu\t%llu\t%.2f%%\n", iface, cidr_family_key[family],
		   unmatched_side_names[side], prefix, (unsigned long long)bytes,
		   (unsigned long long)packets, total ? 100.0 * (double)bytes / (double)total : 0.0);
}

static void iface_rows(struct buf *out, const struct iface_snapshot *s)
{
	char cidr[CIDR_STRLEN];

	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (int side = 0; side < TEXPORTER_SIDE_COUNT; side++) {
			const struct unmatched_snapshot *u = &s->unmatched;
			const struct texporter_counter *un = &u->untracked[f][side];
			uint64_t total = side_total(u, f, side);
			size_t first, n = unmatched_group(u, f, side, &first);

			for (size_t i = first; i < first + n; i++) {
				unmatched_format(&u->prefixes[i], cidr, sizeof(cidr));
				row(out, s->label, f, side, cidr, u->prefixes[i].bytes,
				    u->prefixes[i].packets, total);
			}
			if (un->packets)
				row(out, s->label, f, side, "untracked", un->bytes, un->packets, total);
		}
}

int unmatched_table_run(const struct scrape_config *cfg)
{
	struct pins_snapshot snap;
	struct buf out = { 0 };
	char err[ERR_LEN];
	int rc = EXIT_OK;

	if (snapshot_read(cfg, &snap, err, sizeof(err))) {
		log_error("%s", err);
		return EXIT_RUNTIME;
	}
	buf_add_str(&out, "iface\tfamily\tside\tprefix\tbytes\tpackets\tshare_of_unmatched\n");
	for (size_t i = 0; i < snap.count; i++) {
		const struct iface_snapshot *s = &snap.ifaces[i];

		if (!s->up)
			continue; /* its reason was logged by the reading */
		if (!s->unmatched.present)
			log_info("%s: no unmatched prefixes are tracked (loaded with --unmatched-entries 0 or by an older texporter-load)",
				 s->label);
		iface_rows(&out, s);
	}
	if (out.failed) {
		log_error("out of memory for the table");
		rc = EXIT_RUNTIME;
	} else if (write_all(1, out.data, out.len)) {
		log_error("cannot write to standard output: %s", strerror(errno));
		rc = EXIT_RUNTIME;
	}
	buf_free(&out);
	snapshot_free(&snap);
	return rc;
}
