/* SPDX-License-Identifier: Apache-2.0 */
/* A range config while it is being checked (loader/config*.c only):
 * config.c walks the JSON into a config_build, config_check.c checks
 * names and prefixes across ranges, config_json.c parses the text. */
#ifndef TEXPORTER_CONFIG_BUILD_H
#define TEXPORTER_CONFIG_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_report.h"

/* A prefix while the file is checked: where it came from is kept for
 * messages, and the range index is wide because the number of ranges is
 * not known to fit config_prefix.range until the check is over. */
struct config_entry {
	struct config_prefix prefix;
	uint32_t range;
	uint32_t index; /* position in its "ipv4"/"ipv6" list */
};

struct config_build {
	struct config_report rep;
	struct config_range *ranges; /* name[0] == '\0' while the name is bad */
	size_t n_ranges;
	struct config_entry *entries;
	size_t n_entries;
	size_t cap_entries;
	size_t repeats; /* prefixes repeated within their own range */
	bool out_of_memory;
};

/* ---- config.c */

/* "range "zoom"" once the range has a valid name, "range #3" until then. */
const char *config_range_label(const struct config_range *r, size_t index, char *buf,
			       size_t len);

/* ---- config_json.c */

/* Parses TEXT as JSON; NULL after reporting a syntax error with its line
 * and column (or a NUL escape cJSON would silently cut a string at). */
cJSON *config_parse_json(struct config_report *rep, const char *text, size_t len);

/* ---- config_check.c */

/* Indexes of RANGES in the order of their names; NULL if out of memory. */
size_t *config_order_by_name(const struct config_range *ranges, size_t n);
/* Reports names used by two ranges. */
void config_check_duplicate_names(struct config_build *b);
/* Sorts the entries; reports a prefix under two names, warns about one
 * repeated within its range (counted in b->repeats). */
void config_check_duplicate_prefixes(struct config_build *b);
/* Keeps one of each repeated prefix (after the check above). */
void config_drop_repeats(struct config_build *b);

#endif /* TEXPORTER_CONFIG_BUILD_H */
