// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the range config parser must reject or accept any
 * input without a crash, a leak or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;

	log_init("config_fuzz", LOG_PANIC); /* the messages are not under test */
	if (config_parse("fuzz.json", (const char *)data, size, &cfg) == 0)
		config_free(&cfg);
	return 0;
}
