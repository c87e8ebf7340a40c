// SPDX-License-Identifier: Apache-2.0
#include "ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int64_t ids_find(const struct texporter_name *table, const char *name)
{
	for (uint32_t id = 1; id < TEXPORTER_MAX_IDS; id++)
		if (strncmp(table[id].name, name, TEXPORTER_NAME_LEN) == 0)
			return id;
	return -1;
}

static void ids_set(struct id_plan *plan, uint32_t id, const char *name)
{
	snprintf(plan->names[id].name, TEXPORTER_NAME_LEN, "%s", name);
	plan->in_use++;
	if (id > plan->highest)
		plan->highest = id;
}

/* Lowest id that is free in both the old and the new table. */
static int64_t ids_next_free(const struct id_plan *plan, const struct texporter_name *old)
{
	for (uint32_t id = 1; id < TEXPORTER_MAX_IDS; id++)
		if (plan->names[id].name[0] == '\0' && (!old || old[id].name[0] == '\0'))
			return id;
	return -1;
}

int ids_plan(struct id_plan *plan, const struct texporter_name *old,
	     const struct config *cfg, const char *unmatched)
{
	memset(plan, 0, sizeof(*plan));
	plan->ids = calloc(cfg->n_ranges + 1, sizeof(*plan->ids));
	if (!plan->ids) {
		log_error("out of memory planning range ids");
		return -1;
	}
	ids_set(plan, TEXPORTER_UNMATCHED_ID, unmatched);
	for (size_t r = 0; r < cfg->n_ranges; r++) {
		int64_t id = old ? ids_find(old, cfg->ranges[r].name) : -1;

		if (id > 0)
			ids_set(plan, (uint32_t)id, cfg->ranges[r].name);
	}
	for (size_t r = 0; r < cfg->n_ranges; r++) {
		int64_t id = ids_find(plan->names, cfg->ranges[r].name);

		if (id < 0) {
			id = ids_next_free(plan, old);
			if (id < 0) {
				log_error("no free range id for \"%s\": %d ids per interface, and ids of ranges removed by this reload are not reused before the next one; reload once without the removed ranges, then again with the new ones",
					  cfg->ranges[r].name, TEXPORTER_MAX_IDS);
				ids_free(plan);
				return -1;
			}
			ids_set(plan, (uint32_t)id, cfg->ranges[r].name);
		}
		plan->ids[r] = (uint32_t)id;
	}
	for (uint32_t id = 1; old && id < TEXPORTER_MAX_IDS; id++) {
		if (old[id].name[0] != '\0' && plan->names[id].name[0] == '\0')
			plan->removed[id] = true;
	}
	return 0;
}

void ids_free(struct id_plan *plan)
{
	free(plan->ids);
	plan->ids = NULL;
}

uint32_t ids_capacity_for(uint32_t highest)
{
	uint32_t capacity = TEXPORTER_MIN_CAPACITY;

	while (capacity <= highest)
		capacity *= 2;
	return capacity;
}
