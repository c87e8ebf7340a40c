// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the web configuration parser (--web.config.file) must
 * accept or reject any input, naming a key when it rejects, without a
 * crash, a leak or undefined behaviour; what it accepts then goes through
 * the header lines and the basic auth check. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "Basic " + base64("prometheus:fuzz"), a user the corpus names. */
static const char authorization[] = "Basic cHJvbWV0aGV1czpmdXp6";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_config w;
	char err[ERR_LEN];
	char lines[WEBCONFIG_MAX_HEADER_BYTES + 1];

	log_init("webconfig_fuzz", LOG_PANIC);
	err[0] = '\0';
	if (web_config_parse("/fuzz/web.yml", (const char *)data, size, &w, err,
			     sizeof(err))) {
		if (!strstr(err, "/fuzz/web.yml"))
			abort(); /* an error that does not say where */
		return 0;
	}
	web_config_header_lines(&w, lines, sizeof(lines));
	if (strlen(lines) > WEBCONFIG_MAX_HEADER_BYTES)
		abort();
	auth_allows(&w, authorization, sizeof(authorization) - 1);
	web_config_free(&w);
	return 0;
}
