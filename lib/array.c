// SPDX-License-Identifier: Apache-2.0
/* Doubling an array's capacity (array.h); the size product is checked. */
#include "array.h"

#include <stdlib.h>

void *array_grow(void *items, size_t *cap, size_t size, size_t first)
{
	size_t grown_cap = *cap ? 2 * *cap : first;
	void *grown = grown_cap > *cap ? reallocarray(items, grown_cap, size) : NULL;

	if (grown)
		*cap = grown_cap;
	return grown;
}
