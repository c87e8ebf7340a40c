/* SPDX-License-Identifier: Apache-2.0 */
/* texporter's one hash: 64-bit FNV-1a, for the config hash and the load
 * hash in meta.config_hash (a reload that changes nothing is told by it).
 * Not for anything an attacker chooses: it is not collision resistant. */
#ifndef TEXPORTER_HASH_H
#define TEXPORTER_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_OFFSET 0xcbf29ce484222325ULL

/* HASH (FNV1A_OFFSET to start) extended by LEN bytes of DATA. */
uint64_t fnv1a(uint64_t hash, const void *data, size_t len);

#endif /* TEXPORTER_HASH_H */
