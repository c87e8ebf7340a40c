// SPDX-License-Identifier: Apache-2.0
/*
 * Growing an array of fixed-size items by doubling, shared by every list
 * the tools build as they read (interfaces, config entries, --top rows).
 */
#ifndef TEXPORTER_ARRAY_H
#define TEXPORTER_ARRAY_H

#include <stddef.h>

/* ITEMS (of *CAP items of SIZE bytes) reallocated to twice *CAP, or to
 * FIRST items the first time. Returns the new array and sets *CAP, or
 * NULL (errno ENOMEM) with ITEMS and *CAP as they were. */
void *array_grow(void *items, size_t *cap, size_t size, size_t first);

#endif
