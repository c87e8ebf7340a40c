// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <bpf/libbpf.h>

static const char *log_progname = "texporter";
static enum log_level log_threshold = LOG_INFO;
static int libbpf_muted;

static const char *const level_names[] = {
	[LOG_TRACE] = "trace", [LOG_DEBUG] = "debug", [LOG_INFO] = "info",   [LOG_WARN] = "warn",
	[LOG_ERROR] = "error", [LOG_FATAL] = "fatal", [LOG_PANIC] = "panic",
};

void log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_threshold = level;
}

int log_level_parse(const char *text)
{
	if (strcasecmp(text, "warning") == 0)
		return LOG_WARN;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(text, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < log_threshold)
		return;
	fprintf(stderr, "%s: %s: ", log_progname, level_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (fmt[0] == '\0' || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

/* libbpf's warnings are ours, its info is our debug, its debug our trace. */
static enum log_level log_level_of_libbpf(enum libbpf_print_level level)
{
	switch (level) {
	case LIBBPF_WARN: return LOG_WARN;
	case LIBBPF_INFO: return LOG_DEBUG;
	default: return LOG_TRACE;
	}
}

static int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level ours = log_level_of_libbpf(level);

	if (libbpf_muted || ours < log_threshold)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_route_libbpf(void)
{
	libbpf_set_print(log_libbpf);
}

void log_mute_libbpf(int muted)
{
	libbpf_muted = muted;
}
