// SPDX-License-Identifier: Apache-2.0
/* The range config parser's messages: counting, capping, positions and
 * quoting (see config_report.h). */
#include "config_report.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* ---- messages ---------------------------------------------------------- */

/* Counts a problem and prints it while under the cap. WHERE is the file,
 * with line and column when the problem has a position. */
__attribute__((format(printf, 4, 0)))
static void config_vreport(struct config_report *rep, enum log_level level,
			   const char *where, const char *fmt, va_list ap)
{
	size_t *count = level >= LOG_ERROR ? &rep->errors : &rep->warnings;
	char msg[2048];

	if (++*count > CONFIG_REPORT_CAP)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(level, "%s: %s", where, msg);
}

void config_report(struct config_report *rep, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vreport(rep, level, rep->path, fmt, ap);
	va_end(ap);
}

void config_report_overflow(const struct config_report *rep)
{
	if (rep->warnings > CONFIG_REPORT_CAP)
		log_warn("%s: ... and %zu more warnings", rep->path,
			 rep->warnings - CONFIG_REPORT_CAP);
	if (rep->errors > CONFIG_REPORT_CAP)
		log_error("%s: ... and %zu more errors", rep->path,
			  rep->errors - CONFIG_REPORT_CAP);
}

const char *config_json_type(const cJSON *item)
{
	static const struct {
		cJSON_bool (*is)(const cJSON *item);
		const char *name;
	} types[] = {
		{ cJSON_IsObject, "an object" }, { cJSON_IsArray, "an array" },
		{ cJSON_IsString, "a string" },  { cJSON_IsNumber, "a number" },
		{ cJSON_IsBool, "a boolean" },   { cJSON_IsNull, "null" },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].is(item))
			return types[i].name;
	return "an invalid value";
}

/* ---- quoting --------------------------------------------------- */

struct config_text {
	char *buf;
	size_t len;
	size_t used;
};

static void config_text_add(struct config_text *t, const char *s, size_t n)
{
	if (t->used + n >= t->len)
		n = t->len - t->used - 1;
	memcpy(t->buf + t->used, s, n);
	t->used += n;
	t->buf[t->used] = '\0';
}

/* Adds one character of TEXT at *I, escaped if it would hide what is
 * wrong with the text or break the log line; advances *I. */
static void config_text_add_char(struct config_text *t, const unsigned char *s,
				 size_t left, size_t *i)
{
	char esc[8];
	uint32_t cp;
	size_t n = utf8_decode(s + *i, left, &cp);

	if (n == 0) {
		snprintf(esc, sizeof(esc), "\\x%02x", s[*i]);
		config_text_add(t, esc, strlen(esc));
		*i += 1;
		return;
	}
	if (cp == '"' || cp == '\\') {
		esc[0] = '\\';
		esc[1] = (char)cp;
		config_text_add(t, esc, 2);
	} else if (utf8_is_control(cp)) {
		snprintf(esc, sizeof(esc), cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
		config_text_add(t, esc, strlen(esc));
	} else {
		config_text_add(t, (const char *)s + *i, n);
	}
	*i += n;
}

const char *config_quote(const char *text, char *buf)
{
	struct config_text t = { .buf = buf, .len = CONFIG_QUOTE_LEN };
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text);
	size_t shown = len < CONFIG_QUOTE_BYTES ? len : CONFIG_QUOTE_BYTES;
	size_t i = 0;

	buf[0] = '\0';
	config_text_add(&t, "\"", 1);
	while (i < shown)
		config_text_add_char(&t, s, len - i, &i);
	config_text_add(&t, "\"", 1);
	if (i < len)
		config_text_add(&t, "...", 3);
	return buf;
}

/* ---- positions ------------------------------------------------------------- */

/* 1-based line and column of POS in TEXT; columns count characters, not
 * bytes, as editors do. */
static void config_locate(const char *text, size_t pos, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

void config_error_at(struct config_report *rep, const char *text, size_t pos,
			    const char *fmt, ...)
{
	char where[PATH_MAX + 48];
	size_t line, col;
	va_list ap;

	config_locate(text, pos, &line, &col);
	snprintf(where, sizeof(where), "%s:%zu:%zu", rep->path, line, col);
	va_start(ap, fmt);
	config_vreport(rep, LOG_ERROR, where, fmt, ap);
	va_end(ap);
}
