/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which interfaces a command's -i values name. Each value is a shell-style
 * pattern (fnmatch: *, ?, [...]) matched against the interfaces of this
 * network namespace for a load, and against the interfaces loaded under
 * the pin root for --detach and --status. A value without a wildcard is
 * one name, taken as it is, so that a single interface behaves as it always
 * did. Every interface is selected once, in the order of the first value
 * that matches it (the matches of one value sorted by name).
 */
#ifndef TEXPORTER_SELECT_H
#define TEXPORTER_SELECT_H

#include <stdbool.h>
#include <stddef.h>

/* What the patterns are matched against. */
enum select_among {
	SELECT_PRESENT, /* interfaces of this network namespace (a load) */
	SELECT_LOADED,	/* interfaces under the pin root (--detach, --status) */
};

struct select_request {
	const char *const *patterns;
	size_t n_patterns;
	enum select_among among;
	const char *pin_root;
	bool allow_missing;	 /* a value that matches nothing is skipped */
	bool keep_missing_names; /* a plain name not among them is kept even so */
};

/* The interfaces selected, in order. */
struct selection {
	char **names;
	size_t n;
};

/* A pattern -i accepts: a plain interface name, or 1 to 255 bytes
 * without '/' holding a wildcard. 0, or EXIT_USAGE after the error. */
int select_check_pattern(const char *flag, const char *pattern);

/* Fills OUT. A pattern with a wildcard that matches nothing is an error
 * (EXIT_RUNTIME, named on stderr, before anything is selected) unless
 * allow_missing, which skips it with a message. A plain name that is not
 * among the candidates is kept, for the command to report as it always
 * did, unless allow_missing skips it (and keep_missing_names does not keep
 * it: a --detach of what is not loaded succeeds anyway). Returns an enum
 * exit_code; free OUT with selection_free whatever it returns. */
int select_interfaces(const struct select_request *r, struct selection *out);
void selection_free(struct selection *s);

#endif /* TEXPORTER_SELECT_H */
