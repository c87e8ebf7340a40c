// SPDX-License-Identifier: Apache-2.0
#include "hash.h"

#define FNV1A_PRIME 0x100000001b3ULL

uint64_t fnv1a(uint64_t hash, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= FNV1A_PRIME;
	}
	return hash;
}
