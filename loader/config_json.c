// SPDX-License-Identifier: Apache-2.0
/* The range config as JSON text: parsing it with cJSON, and saying where
 * and why when it is not JSON. */
#include "config_build.h"

#include <string.h>

static bool config_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool config_only_space(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!config_is_space(text[i]))
			return false;
	return true;
}

/* What follows a syntax error, up to the end of its line, so the message
 * shows the token cJSON stopped at. */
static void config_report_syntax(struct config_report *rep, const char *text,
				 size_t len, size_t pos)
{
	char near[CONFIG_QUOTE_BYTES + 1];
	char quoted[CONFIG_QUOTE_LEN];
	size_t n = 0;

	if (config_only_space(text + pos, len - pos)) {
		config_error_at(rep, text, len, "invalid JSON: unexpected end of file");
		return;
	}
	while (pos + n < len && n < 20 && text[pos + n] != '\n')
		n++;
	while (n > 0 && pos + n < len && ((unsigned char)text[pos + n] & 0xc0) == 0x80)
		n--; /* not in the middle of a character */
	memcpy(near, text + pos, n);
	near[n] = '\0';
	config_error_at(rep, text, pos, "invalid JSON near %s", config_quote(near, quoted));
}

/* cJSON decodes "\u0000" into a NUL that silently ends the string, so
 * "10.0.0.0/8\u0000junk" would read as "10.0.0.0/8"; refuse it instead.
 * In valid JSON a backslash only occurs inside strings, so stepping over
 * escape pairs finds exactly the escapes. */
static const char *config_find_nul_escape(const char *text, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\')
			continue;
		if (i + 5 < len && memcmp(text + i + 1, "u0000", 5) == 0)
			return text + i;
		i++;
	}
	return NULL;
}

/* Checks the text around the JSON itself, then parses it; NULL after
 * reporting the problem. */
cJSON *config_parse_json(struct config_report *rep, const char *text, size_t len)
{
	const char *end = NULL;
	const char *nul;
	cJSON *root;

	if (len == 0) {
		config_error(rep, "is empty; expected a JSON array of ranges");
		return NULL;
	}
	if (config_only_space(text, len)) {
		config_error(rep, "contains only whitespace; expected a JSON array of ranges");
		return NULL;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		config_error_at(rep, text, (size_t)(nul - text),
				"contains a NUL byte; a range config is UTF-8 text");
		return NULL;
	}
	/* The length includes the terminating NUL: cJSON then checks that
	 * nothing but whitespace follows the value. */
	root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (!root) {
		config_report_syntax(rep, text, len, end ? (size_t)(end - text) : len);
		return NULL;
	}
	nul = config_find_nul_escape(text, len);
	if (nul) {
		config_error_at(rep, text, (size_t)(nul - text),
				"\"\\u0000\" (a NUL character) is not allowed in a range config");
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
