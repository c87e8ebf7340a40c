// SPDX-License-Identifier: Apache-2.0
/*
 * config_test FILE: loads a range config the way texporter-load does and
 * prints what it would count by: one line per range, "NAME v4=N v6=M", in
 * file order, then "hash=HEX". Messages go to stderr. Exit status 0 when
 * the file is valid, 2 when it is not (texporter-load's config error).
 */
#include <stdio.h>

#include "config.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct config cfg;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	log_init("config_test", LOG_INFO);
	if (config_load(argv[1], &cfg) < 0)
		return 2;
	for (size_t i = 0; i < cfg.n_ranges; i++)
		printf("%s v4=%zu v6=%zu\n", cfg.ranges[i].name,
		       cfg.ranges[i].prefixes[TEXPORTER_IPV4],
		       cfg.ranges[i].prefixes[TEXPORTER_IPV6]);
	printf("hash=%016llx\n", (unsigned long long)cfg.hash);
	config_free(&cfg);
	return 0;
}
