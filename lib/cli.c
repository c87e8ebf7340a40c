// SPDX-License-Identifier: Apache-2.0
/* The command-line convention of both tools; see cli.h for the shapes. */
#include "cli.h"

#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "version.h"

static const char *cli_progname = "texporter";

static const char *const log_level_choices[] = {
	"trace", "debug", "info", "warn", "error", "fatal", "panic", NULL,
};

void cli_init(const char *progname)
{
	cli_progname = progname;
	log_init(progname, LOG_INFO);
}

void cli_print_version(void)
{
	printf("%s %s (revision %s)\n", cli_progname, texporter_version, texporter_revision);
}

static int cli_vusage_error(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static int cli_vusage_error(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: error: ", cli_progname);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli_progname);
	return EXIT_USAGE;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cli_vusage_error(fmt, ap);
	va_end(ap);
	return rc;
}

int cli_bad_value(const char *flag, const char *value, const char *why_fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	return cli_usage_error("%s: bad value \"%s\": %s", flag, value, why);
}

int cli_getopt_error(int opt, char *const argv[])
{
	/* A long option is the word getopt just passed; a short one is in
	 * optopt (the word may be a cluster getopt is still inside). */
	const char *word = optind > 0 ? argv[optind - 1] : "";
	int len = (int)strcspn(word, "=");
	bool is_long = strncmp(word, "--", 2) == 0 &&
		       (opt == ':' || optopt == 0 || optopt > 255 || word[len] == '=');

	if (is_long && opt == ':')
		return cli_usage_error("%.*s needs a value", len, word);
	if (is_long && optopt)
		return cli_usage_error("%.*s takes no value", len, word);
	if (is_long)
		return cli_usage_error("unknown option \"%.*s\"", len, word);
	if (opt == ':')
		return cli_usage_error("-%c needs a value", optopt);
	return cli_usage_error("unknown option \"-%c\"", optopt);
}

/* "a, b or c" into BUF. */
static void cli_list_choices(const char *const *choices, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; choices[i] && used < len; i++) {
		const char *sep = i == 0 ? "" : choices[i + 1] ? ", " : " or ";

		used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, choices[i]);
	}
}

int cli_choice(const char *flag, const char *value, const char *const *choices)
{
	char list[256];

	for (int i = 0; choices[i]; i++)
		if (strcmp(value, choices[i]) == 0)
			return i;
	cli_list_choices(choices, list, sizeof(list));
	cli_bad_value(flag, value, "use %s", list);
	return -1;
}

int cli_log_level(const char *flag, const char *value)
{
	int level = log_level_parse(value);
	char list[256];

	if (level >= 0)
		return level;
	cli_list_choices(log_level_choices, list, sizeof(list));
	cli_bad_value(flag, value, "use %s", list);
	return -1;
}

bool ifname_valid(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len < IF_NAMESIZE && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

int cli_check_ifname(const char *flag, const char *name)
{
	if (ifname_valid(name))
		return 0;
	return cli_bad_value(flag, name, "not an interface name (1-%d bytes, no '/')",
			     IF_NAMESIZE - 1);
}

int cli_parse_uint(const char *flag, const char *value, unsigned max, unsigned *out)
{
	unsigned long long v = 0;

	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9' || p - value > 9)
			return cli_bad_value(flag, value, "use a whole number from 0 to %u", max);
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (!*value || v > max)
		return cli_bad_value(flag, value, "use a whole number from 0 to %u", max);
	*out = (unsigned)v;
	return 0;
}
