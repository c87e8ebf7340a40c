// SPDX-License-Identifier: Apache-2.0
/*
 * The range config: reading, validating and normalising the JSON file of
 * named address ranges.
 *
 * The format is the original texporter's: an array of
 *   {"name": "zoom", "ipv4": ["3.7.35.0/25", "10.0.0.1"], "ipv6": [...]}
 * The whole file is checked before config_load() returns, and every problem
 * is reported, so one run of `texporter-load --check` shows all of them.
 * Where the original (Go's encoding/json) was lenient we stay compatible
 * when the meaning is clear and fail when it is not:
 *   - unknown keys in a range are ignored with a warning: files generated
 *     by scripts often carry extras ("comment", "source") that the original
 *     accepted, and the warning still shows a typo such as "ipv 4";
 *   - keys match case-insensitively ("IPv4"), as they did in the original,
 *     with a warning;
 *   - "ipv4": null is an empty list, as in the original;
 *   - a key given twice in one range is an error (the original silently
 *     took the last one, which hides a mistake).
 * In messages ranges are counted from 1 ("range #3" is the third in the
 * file) and list entries are shown with their JSON index ("ipv4[0]" is the
 * first entry), as jq writes them.
 *
 * This file walks the ranges and builds the result; config_json.c parses
 * the text, config_check.c checks across ranges, config_report.c words
 * the messages.
 */
#include "config.h"
#include "config_build.h"
#include "array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cidr.h"
#include "hash.h"
#include "log.h"
#include "readfile.h"
#include "reason.h"
#include "utf8.h"

/* A config is a list of names and prefixes; anything larger than this is a
 * mistake (a wrong file), and reading it would only exhaust memory. */
#define CONFIG_MAX_BYTES (256u << 20)

static const char *const family_example[TEXPORTER_FAMILY_COUNT] = {
	[TEXPORTER_IPV4] = "192.0.2.0/24",
	[TEXPORTER_IPV6] = "2001:db8::/32",
};

/* The keys of a range object; the lists follow the order of the families. */
enum config_member {
	MEMBER_NAME,
	MEMBER_IPV4,
	MEMBER_IPV6,
	MEMBER_COUNT,
};
static const char *const member_key[MEMBER_COUNT] = {
	[MEMBER_NAME] = "name",
	[MEMBER_IPV4] = "ipv4",
	[MEMBER_IPV6] = "ipv6",
};

struct config_members {
	const cJSON *item[MEMBER_COUNT]; /* first occurrence, NULL if absent */
	bool repeated[MEMBER_COUNT];
};

/* ---- names ---------------------------------------------------------------- */

int config_check_name(const char *name, char *why, size_t why_len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name);
	uint32_t cp;
	size_t n;

	if (len == 0)
		return reason(why, why_len, "is empty");
	if (len >= TEXPORTER_NAME_LEN)
		return reason(why, why_len, "is %zu bytes long; at most %d are allowed",
				     len, TEXPORTER_NAME_LEN - 1);
	for (size_t i = 0; i < len; i += n) {
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0)
			return reason(why, why_len,
					     "is not valid UTF-8 (byte 0x%02x at offset %zu)",
					     s[i], i);
		if (utf8_is_control(cp))
			return reason(why, why_len,
					     "contains the control character U+%04X at offset %zu",
					     (unsigned)cp, i);
	}
	return 0;
}

const char *config_range_label(const struct config_range *r, size_t index,
				      char *buf, size_t len)
{
	char quoted[CONFIG_QUOTE_LEN];

	if (r->name[0] != '\0')
		snprintf(buf, len, "range %s", config_quote(r->name, quoted));
	else
		snprintf(buf, len, "range #%zu", index + 1);
	return buf;
}

/* ---- reading the file ------------------------------------------------------- */

/* Reads the whole file into a NUL-terminated buffer: cJSON parses text in
 * memory, and line and column of an error are computed from it. */
static int config_read_file(struct config_report *rep, char **text, size_t *len)
{
	static const char *const problem[] = {
		[READFILE_OPEN] = "cannot open",
		[READFILE_STAT] = "cannot stat",
		[READFILE_DIRECTORY] = "is a directory, not a range config file",
		[READFILE_READ] = "cannot read",
		[READFILE_NO_MEMORY] = "out of memory while reading the file",
	};
	enum readfile_error err = readfile(rep->path, CONFIG_MAX_BYTES, text, len);

	if (err == READFILE_OK)
		return 0;
	if (err == READFILE_TOO_LARGE)
		config_error(rep, "is larger than %u MiB; it cannot be a range config",
			     CONFIG_MAX_BYTES >> 20);
	else if (err == READFILE_SPECIAL)
		config_error(rep, "is %s, not a regular file; write the range config to a file",
			     readfile_kind(rep->path));
	else if (err == READFILE_OPEN || err == READFILE_STAT || err == READFILE_READ)
		config_error(rep, "%s: %s", problem[err], strerror(errno));
	else
		config_error(rep, "%s", problem[err]);
	return -1;
}

/* ---- walking the ranges ----------------------------------------------------- */

static int config_member_of(const char *key)
{
	for (int m = 0; m < MEMBER_COUNT; m++)
		if (strcasecmp(key, member_key[m]) == 0)
			return m;
	return -1;
}

static void config_find_members(const cJSON *obj, struct config_members *m)
{
	const cJSON *child;

	memset(m, 0, sizeof(*m));
	cJSON_ArrayForEach(child, obj) {
		int k = config_member_of(child->string);

		if (k < 0)
			continue;
		if (m->item[k])
			m->repeated[k] = true;
		else
			m->item[k] = child;
	}
}

static void config_report_members(struct config_build *b, const cJSON *obj,
				  const struct config_members *m, const char *label)
{
	char quoted[CONFIG_QUOTE_LEN];
	const cJSON *child;

	cJSON_ArrayForEach(child, obj) {
		int k = config_member_of(child->string);

		if (k < 0)
			config_warn(&b->rep, "%s: unknown key %s ignored", label,
				    config_quote(child->string, quoted));
		else if (strcmp(child->string, member_key[k]) != 0)
			config_warn(&b->rep, "%s: key %s read as \"%s\"", label,
				    config_quote(child->string, quoted), member_key[k]);
	}
	for (int k = MEMBER_IPV4; k <= MEMBER_IPV6; k++)
		if (m->repeated[k])
			config_error(&b->rep, "%s: key \"%s\" appears more than once", label,
				     member_key[k]);
}

/* Copies a valid name into R; reports why it is not valid otherwise. */
static void config_take_name(struct config_build *b, const struct config_members *m,
			     size_t index, struct config_range *r)
{
	const cJSON *item = m->item[MEMBER_NAME];
	char quoted[CONFIG_QUOTE_LEN];
	char why[128];

	if (!item) {
		config_error(&b->rep, "range #%zu: missing \"name\"", index + 1);
		return;
	}
	if (m->repeated[MEMBER_NAME]) {
		config_error(&b->rep, "range #%zu: key \"name\" appears more than once",
			     index + 1);
		return;
	}
	if (!cJSON_IsString(item)) {
		config_error(&b->rep, "range #%zu: \"name\" is %s; it must be a string",
			     index + 1, config_json_type(item));
		return;
	}
	if (config_check_name(item->valuestring, why, sizeof(why)) < 0) {
		config_error(&b->rep, "range #%zu: name %s %s", index + 1,
			     config_quote(item->valuestring, quoted), why);
		return;
	}
	strcpy(r->name, item->valuestring); /* fits: checked above */
}

static void config_push_entry(struct config_build *b, const struct config_entry *e)
{
	if (b->n_entries == b->cap_entries) {
		struct config_entry *bigger =
			array_grow(b->entries, &b->cap_entries, sizeof(*bigger), 1024);

		if (!bigger) {
			if (!b->out_of_memory)
				config_error(&b->rep, "out of memory after %zu prefixes",
					     b->n_entries);
			b->out_of_memory = true;
			return;
		}
		b->entries = bigger;
	}
	b->entries[b->n_entries++] = *e;
}

static void config_take_entry(struct config_build *b, const cJSON *item, int family,
			      size_t range, uint32_t index, const char *label)
{
	struct config_entry e = { .range = (uint32_t)range, .index = index };
	char quoted[CONFIG_QUOTE_LEN];
	char cidr[CIDR_STRLEN];
	char why[160];

	if (!cJSON_IsString(item)) {
		config_error(&b->rep, "%s: %s[%u] is %s; it must be a string such as \"%s\"",
			     label, cidr_family_key[family], index, config_json_type(item),
			     family_example[family]);
		return;
	}
	e.prefix.family = (uint8_t)family;
	if (cidr_parse(item->valuestring, family, e.prefix.addr, &e.prefix.len, why,
		       sizeof(why)) < 0) {
		config_error(&b->rep, "%s: %s[%u] %s %s", label, cidr_family_key[family], index,
			     config_quote(item->valuestring, quoted), why);
		return;
	}
	if (cidr_clear_host_bits(e.prefix.addr, e.prefix.len)) {
		cidr_format(e.prefix.family, e.prefix.addr, e.prefix.len, cidr, sizeof(cidr));
		config_warn(&b->rep, "%s: %s[%u] %s has host bits set; using %s", label,
			    cidr_family_key[family], index, config_quote(item->valuestring, quoted),
			    cidr);
	}
	config_push_entry(b, &e);
}

/* Takes the prefixes of one list; returns how many entries it had. A list
 * of the wrong type counts as one, so its range gets no second message
 * about having no prefixes. */
static size_t config_take_list(struct config_build *b, const cJSON *list, int family,
			       size_t range, const char *label)
{
	const cJSON *item;
	uint32_t index = 0;

	if (!list || cJSON_IsNull(list))
		return 0;
	if (!cJSON_IsArray(list)) {
		config_error(&b->rep, "%s: \"%s\" is %s; it must be an array of strings such as [\"%s\"]",
			     label, cidr_family_key[family], config_json_type(list),
			     family_example[family]);
		return 1;
	}
	cJSON_ArrayForEach(item, list) {
		if (b->out_of_memory)
			break;
		config_take_entry(b, item, family, range, index++, label);
	}
	return index;
}

static void config_take_range(struct config_build *b, const cJSON *obj, size_t index)
{
	struct config_range *r = &b->ranges[index];
	struct config_members m;
	char label[CONFIG_QUOTE_LEN + 16];
	size_t entries = 0;

	if (!cJSON_IsObject(obj)) {
		config_error(&b->rep,
			     "range #%zu is %s; each range must be an object such as {\"name\": \"x\", \"ipv4\": [...], \"ipv6\": [...]}",
			     index + 1, config_json_type(obj));
		return;
	}
	config_find_members(obj, &m);
	config_take_name(b, &m, index, r);
	config_range_label(r, index, label, sizeof(label));
	config_report_members(b, obj, &m, label);
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		entries += config_take_list(b, m.item[MEMBER_IPV4 + f], f, index, label);
	if (entries == 0)
		config_warn(&b->rep, "%s has no prefixes; it will match no traffic", label);
}

static int config_take_ranges(struct config_build *b, const cJSON *root)
{
	const cJSON *item;
	size_t index = 0;

	if (!cJSON_IsArray(root)) {
		config_error(&b->rep,
			     "the top level is %s; a range config is an array of ranges: [{\"name\": \"x\", \"ipv4\": [...], \"ipv6\": [...]}, ...]",
			     config_json_type(root));
		return -1;
	}
	b->n_ranges = (size_t)cJSON_GetArraySize(root);
	b->ranges = calloc(b->n_ranges ? b->n_ranges : 1, sizeof(*b->ranges));
	if (!b->ranges) {
		config_error(&b->rep, "out of memory for %zu ranges", b->n_ranges);
		return -1;
	}
	if (b->n_ranges == 0)
		config_warn(&b->rep, "has no ranges; all traffic will count as unmatched");
	if (b->n_ranges > TEXPORTER_MAX_IDS - 1)
		config_error(&b->rep, "has %zu ranges; at most %d are allowed (id 0 is the unmatched range)",
			     b->n_ranges, TEXPORTER_MAX_IDS - 1);
	cJSON_ArrayForEach(item, root) {
		if (b->out_of_memory)
			break;
		config_take_range(b, item, index++);
	}
	return 0;
}

/* ---- the result ------------------------------------------------------------- */

/* The hash must change only when what texporter counts changes. Ranges get
 * stable ids by name, so neither the order of ranges in the file nor the
 * order of prefixes matters: names are hashed in sorted order, prefixes in
 * their sorted order with the rank of their range's name. */
static int config_hash(struct config *cfg)
{
	size_t *order = config_order_by_name(cfg->ranges, cfg->n_ranges);
	uint16_t *rank = malloc((cfg->n_ranges ? cfg->n_ranges : 1) * sizeof(*rank));
	uint64_t hash = FNV1A_OFFSET;

	if (!order || !rank) {
		free(order);
		free(rank);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_ranges; i++) {
		const char *name = cfg->ranges[order[i]].name;

		rank[order[i]] = (uint16_t)i;
		hash = fnv1a(hash, name, strlen(name) + 1);
	}
	for (size_t i = 0; i < cfg->n_prefixes; i++) {
		const struct config_prefix *p = &cfg->prefixes[i];
		size_t bytes = cidr_family_bits[p->family] / 8;
		uint8_t r[2] = { (uint8_t)(rank[p->range] >> 8), (uint8_t)rank[p->range] };

		hash = fnv1a(hash, &p->family, 1);
		hash = fnv1a(hash, &p->len, 1);
		hash = fnv1a(hash, p->addr, bytes);
		hash = fnv1a(hash, r, sizeof(r));
	}
	cfg->hash = hash;
	free(order);
	free(rank);
	return 0;
}

/* Moves the checked build into CFG; the entries are in sorted order, and
 * so are the prefixes. */
static int config_fill(struct config_build *b, struct config *cfg)
{
	cfg->prefixes = malloc((b->n_entries ? b->n_entries : 1) * sizeof(*cfg->prefixes));
	if (!cfg->prefixes)
		return -1;
	for (size_t i = 0; i < b->n_entries; i++) {
		struct config_prefix *p = &cfg->prefixes[i];

		*p = b->entries[i].prefix;
		p->range = (uint16_t)b->entries[i].range;
		b->ranges[p->range].prefixes[p->family]++;
		cfg->prefixes_per_family[p->family]++;
	}
	cfg->n_prefixes = b->n_entries;
	cfg->ranges = b->ranges;
	cfg->n_ranges = b->n_ranges;
	b->ranges = NULL;
	return config_hash(cfg);
}

static void config_build_free(struct config_build *b)
{
	free(b->ranges);
	free(b->entries);
	b->ranges = NULL;
	b->entries = NULL;
}

/* Everything that needs the parsed JSON; afterwards it can be freed. */
static void config_check(struct config_build *b, const char *text, size_t len)
{
	cJSON *root = config_parse_json(&b->rep, text, len);

	if (!root)
		return;
	if (config_take_ranges(b, root) == 0 && !b->out_of_memory) {
		config_check_duplicate_names(b);
		config_check_duplicate_prefixes(b);
	}
	cJSON_Delete(root);
}

/* An editor may save a UTF-8 byte order mark; it carries no meaning, and
 * line and column are counted after it. */
static const char *config_skip_bom(const char *text, size_t *len)
{
	if (*len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		*len -= 3;
		return text + 3;
	}
	return text;
}

/* Validates TEXT: LEN bytes followed by a NUL. */
static int config_parse_text(struct config_build *b, const char *text, size_t len,
			     struct config *cfg)
{
	const char *json = config_skip_bom(text, &len);

	config_check(b, json, len);
	if (b->rep.errors == 0) {
		config_drop_repeats(b);
		if (config_fill(b, cfg) < 0) {
			config_error(&b->rep, "out of memory while storing %zu prefixes",
				     b->n_entries);
			config_free(cfg);
		}
	}
	config_report_overflow(&b->rep);
	config_build_free(b);
	if (b->rep.errors > 0)
		return -1;
	log_debug("%s: %zu ranges, %zu IPv4 and %zu IPv6 prefixes", b->rep.path, cfg->n_ranges,
		  cfg->prefixes_per_family[TEXPORTER_IPV4],
		  cfg->prefixes_per_family[TEXPORTER_IPV6]);
	return 0;
}

int config_parse(const char *name, const char *text, size_t len, struct config *cfg)
{
	struct config_build b = { .rep = { .path = name } };
	char *copy = malloc(len + 1);
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (!copy) {
		config_error(&b.rep, "out of memory reading %zu bytes", len);
		return -1;
	}
	/* The JSON parser reads up to a terminating NUL, as a file read gets. */
	memcpy(copy, text, len);
	copy[len] = '\0';
	err = config_parse_text(&b, copy, len, cfg);
	free(copy);
	return err;
}

int config_load(const char *path, struct config *cfg)
{
	struct config_build b = { .rep = { .path = path } };
	char *text = NULL;
	size_t len = 0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (config_read_file(&b.rep, &text, &len)) {
		config_report_overflow(&b.rep);
		config_build_free(&b);
		return -1;
	}
	err = config_parse_text(&b, text, len, cfg);
	free(text);
	return err;
}

void config_free(struct config *cfg)
{
	free(cfg->ranges);
	free(cfg->prefixes);
	memset(cfg, 0, sizeof(*cfg));
}

int config_check_unmatched_name(const struct config *cfg, const char *path, const char *name)
{
	char why[128];

	if (config_check_name(name, why, sizeof(why))) {
		log_error("--unmatched-name \"%s\": %s", name, why);
		return -1;
	}
	for (size_t r = 0; r < cfg->n_ranges; r++) {
		if (strcmp(cfg->ranges[r].name, name) == 0) {
			log_error("%s: range \"%s\" has the name of the unmatched range; rename it or pass another --unmatched-name",
				  path, name);
			return -1;
		}
	}
	return 0;
}
