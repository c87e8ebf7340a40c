// SPDX-License-Identifier: Apache-2.0
/* The interfaces -i selects; see select.h for the rules. The candidates
 * are read once per command, so every pattern sees the same list. */
#include "select.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>

#include "cli.h"
#include "iface_pins.h"
#include "log.h"

#define PATTERN_MAX 255

static bool has_wildcard(const char *pattern)
{
	return strpbrk(pattern, "*?[") != NULL;
}

int select_check_pattern(const char *flag, const char *pattern)
{
	size_t len = strlen(pattern);

	if (!has_wildcard(pattern))
		return cli_check_ifname(flag, pattern);
	if (len > PATTERN_MAX || strchr(pattern, '/'))
		return cli_bad_value(flag, pattern, "not an interface pattern (1-%d bytes, no '/')",
				     PATTERN_MAX);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool selected(const struct selection *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

static int select_add(struct selection *s, const char *name)
{
	char **grown;

	if (selected(s, name))
		return 0;
	grown = realloc(s->names, (s->n + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	s->names = grown;
	s->names[s->n] = strdup(name);
	if (!s->names[s->n])
		return -1;
	s->n++;
	return 0;
}

/* The interfaces of this network namespace, sorted by name. */
static int list_present(struct selection *all)
{
	struct if_nameindex *ifs = if_nameindex();
	int rc = 0;

	if (!ifs) {
		log_error("cannot list the network interfaces: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; ifs[i].if_name && rc == 0; i++)
		rc = select_add(all, ifs[i].if_name);
	if_freenameindex(ifs);
	if (rc) {
		log_error("cannot list the network interfaces: %s", strerror(ENOMEM));
		return -1;
	}
	if (all->n)
		qsort(all->names, all->n, sizeof(*all->names), compare_names);
	return 0;
}

/* The interfaces loaded under ROOT (sorted); none when ROOT does not exist. */
static int list_loaded(const char *root, struct selection *all)
{
	if (iface_list(root, &all->names, &all->n) == 0 || errno == ENOENT)
		return 0;
	log_error("cannot open pin root %s: %s", root, strerror(errno));
	return -1;
}

static const char *among_words(enum select_among among)
{
	return among == SELECT_PRESENT ? "no interface of this network namespace"
				       : "no interface loaded under the pin root";
}

/* Whether PATTERN matches one of the candidates C. */
static bool matches_any(const char *pattern, const struct selection *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (fnmatch(pattern, c->names[i], 0) == 0)
			return true;
	return false;
}

/* Every wildcard pattern matches something, or allow_missing: checked
 * before anything is selected, so that an error changes nothing. */
static int check_all_match(const struct select_request *r, const struct selection *c)
{
	int rc = EXIT_OK;

	for (size_t p = 0; p < r->n_patterns; p++) {
		const char *pattern = r->patterns[p];

		if (!has_wildcard(pattern) || matches_any(pattern, c))
			continue;
		if (r->allow_missing) {
			log_info("-i %s: %s matches; skipped (--allow-missing)", pattern,
				 among_words(r->among));
			continue;
		}
		log_error("-i %s: %s matches (pass --allow-missing to accept that)", pattern,
			  among_words(r->among));
		rc = EXIT_RUNTIME;
	}
	return rc;
}

static int select_plain(const struct select_request *r, const char *name, const struct selection *c,
			struct selection *out)
{
	if (!selected(c, name) && r->allow_missing && !r->keep_missing_names) {
		log_info("%s: %s; skipped (--allow-missing)", name,
			 r->among == SELECT_PRESENT ? "no such interface" : "not loaded");
		return 0;
	}
	return select_add(out, name);
}

static int select_matching(const char *pattern, const struct selection *c, struct selection *out)
{
	for (size_t i = 0; i < c->n; i++)
		if (fnmatch(pattern, c->names[i], 0) == 0 && select_add(out, c->names[i]))
			return -1;
	return 0;
}

int select_interfaces(const struct select_request *r, struct selection *out)
{
	struct selection c = { 0 };
	int rc;

	*out = (struct selection){ 0 };
	rc = r->among == SELECT_PRESENT ? list_present(&c) : list_loaded(r->pin_root, &c);
	if (rc) {
		selection_free(&c);
		return EXIT_RUNTIME;
	}
	rc = check_all_match(r, &c);
	for (size_t p = 0; p < r->n_patterns && rc == EXIT_OK; p++) {
		const char *pattern = r->patterns[p];
		int err = has_wildcard(pattern) ? select_matching(pattern, &c, out)
						: select_plain(r, pattern, &c, out);

		if (err) {
			log_error("cannot select interfaces: %s", strerror(ENOMEM));
			rc = EXIT_RUNTIME;
		}
	}
	selection_free(&c);
	return rc;
}

void selection_free(struct selection *s)
{
	iface_list_free(s->names, s->n);
	*s = (struct selection){ 0 };
}
