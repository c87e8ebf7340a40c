/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command-line convention of texporter-load and texporter-read (and of
 * scripts/texporter-update-ranges, which follows it by hand): the exit
 * codes, the --version line, and one shape per kind of usage error, always
 * on stderr whatever --log-level says, then a pointer to --help:
 *
 *   PROG: error: unknown option "--frobnicate"
 *   PROG: error: --textfile needs a value
 *   PROG: error: --xdp-mode: bad value "bogus": use auto, native or generic
 *   Try 'PROG --help' for more information.
 *
 * getopt prints nothing of its own (opterr = 0, optstring starting ':').
 */
#ifndef TEXPORTER_CLI_H
#define TEXPORTER_CLI_H

#include <stdbool.h>

/* Exit codes, as --help and the man pages document them. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1, /* kernel, interface, pins, output: not the user's words */
	EXIT_USAGE = 2,	  /* a bad option, value or config */
};

/* Names the program in messages and starts logging at info. */
void cli_init(const char *progname);

/* "PROG VERSION (revision REVISION)" on stdout. */
void cli_print_version(void);

/* Prints the message (printf-style) as a usage error; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "FLAG: bad value "VALUE": WHY"; returns EXIT_USAGE. */
int cli_bad_value(const char *flag, const char *value, const char *why_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The usage error for what getopt_long returned as '?' (unknown option) or
 * ':' (missing value); returns EXIT_USAGE. */
int cli_getopt_error(int opt, char *const argv[]);

/* The index of VALUE in CHOICES (NULL-terminated), or -1 after a bad-value
 * error that lists the choices. */
int cli_choice(const char *flag, const char *value, const char *const *choices);

/* VALUE as a decimal number 0..MAX into *OUT: 0, or EXIT_USAGE after a
 * bad-value error. */
int cli_parse_uint(const char *flag, const char *value, unsigned max, unsigned *out);

/* The log level VALUE names, or -1 after a bad-value error. */
int cli_log_level(const char *flag, const char *value);

/* Whether NAME can be an interface name, which becomes a directory under
 * the pin root: 1 to IF_NAMESIZE - 1 bytes, no '/', not "." or "..". */
bool ifname_valid(const char *name);

/* ifname_valid, or a bad-value error for FLAG: 0 or EXIT_USAGE. */
int cli_check_ifname(const char *flag, const char *name);

#endif /* TEXPORTER_CLI_H */
