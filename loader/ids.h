/* SPDX-License-Identifier: Apache-2.0 */
/* Range ids are stable by name across reloads: a name keeps its id, a new
 * name takes the lowest free id, a removed name frees its id. Ids freed by
 * a reload are not handed out by the same reload, so the program still
 * running until the switch never counts into an id that changed meaning. */
#ifndef TEXPORTER_IDS_H
#define TEXPORTER_IDS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "texporter.h"

struct id_plan {
	uint32_t *ids; /* per config range */
	struct texporter_name names[TEXPORTER_MAX_IDS]; /* the table after the load */
	bool removed[TEXPORTER_MAX_IDS]; /* named before, free after: the
					  * counter maps are replaced, so that
					  * the id is free of counts when
					  * handed out again */
	uint32_t in_use;                 /* names in the new table, id 0 included */
	uint32_t highest;                /* highest id in the new table */
};

/* OLD is the current names table or NULL on a first load. Returns 0, or -1
 * after logging why (no free id left). */
int ids_plan(struct id_plan *plan, const struct texporter_name *old,
	     const struct config *cfg, const char *unmatched);
void ids_free(struct id_plan *plan);

/* The smallest counter capacity (ids per axis) that holds HIGHEST. */
uint32_t ids_capacity_for(uint32_t highest);

#endif /* TEXPORTER_IDS_H */
