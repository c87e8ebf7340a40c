// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the reader's HTTP request parser, fed whole and in two
 * pieces as a slow client would send it, then the response built for what
 * it parsed. Any input must end in a defined status without a crash, a
 * leak or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int known_statuses[] = { 0, 200, 400, 405, 414, 431, 505 };

static int parse_in_two_pieces(const char *text, size_t size, size_t split,
			       struct http_request *req)
{
	size_t scanned = 0;
	int status = http_parse(text, split, &scanned, req);

	if (status != 0)
		return status;
	return http_parse(text, size, &scanned, req);
}

static void check_status(int status)
{
	for (size_t i = 0; i < sizeof(known_statuses) / sizeof(known_statuses[0]); i++)
		if (status == known_statuses[i])
			return;
	abort(); /* a status the parser does not document */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* No pins here: /metrics answers 503, which exercises that path too. */
	struct scrape_config cfg = { .pin_root = "/nonexistent/texporter" };
	struct http_request req;
	struct http_response resp;
	size_t scanned = 0;
	int status;

	log_init("http_fuzz", LOG_PANIC);
	status = http_parse((const char *)data, size, &scanned, &req);
	check_status(status);
	if (size > 1) {
		struct http_request again;

		check_status(parse_in_two_pieces((const char *)data, size, data[0] % size, &again));
	}
	memset(&resp, 0, sizeof(resp));
	if (status == 200)
		http_respond(&req, &cfg, &resp);
	else if (status != 0)
		http_respond_error(status, "fuzz", &resp);
	http_response_free(&resp);
	return 0;
}
