/* SPDX-License-Identifier: Apache-2.0 */
/* The range config parser's messages (loader/config*.c only): every
 * problem is counted, the first CONFIG_REPORT_CAP of each kind printed as
 * "FILE: ..." or "FILE:LINE:COLUMN: ...", and text from the file is quoted
 * so that what is wrong with it shows and cannot break the log line. */
#ifndef TEXPORTER_CONFIG_REPORT_H
#define TEXPORTER_CONFIG_REPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "log.h"

/* Messages printed per kind (errors, warnings) before the rest are only
 * counted: enough to fix a file, not enough to flood a terminal. */
#define CONFIG_REPORT_CAP 20

/* Bytes of a string shown in a message before it is cut with "...". */
#define CONFIG_QUOTE_BYTES 64
/* Worst case: every shown byte escaped as \xNN, plus quotes, "..." and NUL. */
#define CONFIG_QUOTE_LEN (CONFIG_QUOTE_BYTES * 4 + 8)

struct config_report {
	const char *path;
	size_t errors;
	size_t warnings;
};

/* A problem of the file as a whole, or of a range or entry in it. */
void config_report(struct config_report *rep, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define config_error(rep, ...) config_report(rep, LOG_ERROR, __VA_ARGS__)
#define config_warn(rep, ...) config_report(rep, LOG_WARN, __VA_ARGS__)

/* An error at byte POS of TEXT, the file's contents: "FILE:LINE:COL: ". */
void config_error_at(struct config_report *rep, const char *text, size_t pos,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "... and N more errors" for what the cap held back. */
void config_report_overflow(const struct config_report *rep);

/* Quotes TEXT into BUF (CONFIG_QUOTE_LEN bytes) for a message, cut after
 * CONFIG_QUOTE_BYTES bytes; returns BUF. */
const char *config_quote(const char *text, char *buf);

/* "an object", "a string", ...: what ITEM is, for "is X; it must be Y". */
const char *config_json_type(const cJSON *item);

#endif /* TEXPORTER_CONFIG_REPORT_H */
