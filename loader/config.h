/* SPDX-License-Identifier: Apache-2.0 */
/* The range config: a JSON array of {"name", "ipv4": [...], "ipv6": [...]}.
 * config_load() validates the whole file before anything else happens. */
#ifndef TEXPORTER_CONFIG_H
#define TEXPORTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "texporter.h"

struct config_prefix {
	uint8_t addr[16]; /* network byte order, host bits cleared; IPv4 uses addr[0..3] */
	uint8_t len;      /* prefix length: 0-32 (IPv4) or 0-128 (IPv6) */
	uint8_t family;   /* enum texporter_family */
	uint16_t range;   /* index into config.ranges */
};

struct config_range {
	char name[TEXPORTER_NAME_LEN];
	size_t prefixes[TEXPORTER_FAMILY_COUNT]; /* how many of each family */
};

struct config {
	struct config_range *ranges; /* in file order */
	size_t n_ranges;
	struct config_prefix *prefixes; /* every prefix of every range */
	size_t n_prefixes;
	size_t prefixes_per_family[TEXPORTER_FAMILY_COUNT];
	uint64_t hash; /* FNV-1a over the normalised content, order independent */
};

/* Reads and validates PATH. On failure prints every problem found (file,
 * range, entry, reason; line and column for JSON syntax errors) through
 * log_error() and returns -1; cfg is then empty. Host bits set in a prefix
 * are cleared with a warning; the same prefix twice under one name is
 * kept once with a warning. */
int config_load(const char *path, struct config *cfg);
/* The same for a config already in memory; NAME stands for the file. */
int config_parse(const char *name, const char *text, size_t len, struct config *cfg);
void config_free(struct config *cfg);

/* 0 if NAME is a valid range name (1-63 bytes of UTF-8, no control
 * characters); otherwise -1 with the reason in WHY. */
int config_check_name(const char *name, char *why, size_t why_len);

/* 0 if NAME can be the unmatched range's name for CFG (read from PATH): a
 * valid name that no range of CFG has. Otherwise logs why and returns -1. */
int config_check_unmatched_name(const struct config *cfg, const char *path, const char *name);

#endif /* TEXPORTER_CONFIG_H */
