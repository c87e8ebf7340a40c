/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 and IPv6 prefixes as texporter's range config writes them: "ADDR"
 * or "ADDR/LEN", strictly (no zone index, no netmask, no leading zeros,
 * no surrounding space). Addresses are 16 bytes in network byte order; an
 * IPv4 address uses the first 4. */
#ifndef TEXPORTER_CIDR_H
#define TEXPORTER_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "texporter.h"

/* Room for any prefix cidr_format() writes: INET6_ADDRSTRLEN + "/128". */
#define CIDR_STRLEN 50

/* By enum texporter_family: the config's list keys ("ipv4"), the names
 * for messages ("IPv4") and the address bits (32). */
extern const char *const cidr_family_key[TEXPORTER_FAMILY_COUNT];
extern const char *const cidr_family_label[TEXPORTER_FAMILY_COUNT];
extern const unsigned int cidr_family_bits[TEXPORTER_FAMILY_COUNT];

/* Parses TEXT as a prefix of FAMILY (enum texporter_family) into ADDR and
 * *LEN, host bits left as written; a bare address is a /32 or /128. On
 * error returns -1 with the reason in WHY, worded to follow the quoted
 * text ("is an IPv6 prefix; ..."). */
int cidr_parse(const char *text, int family, uint8_t addr[16], uint8_t *len, char *why,
	       size_t why_len);

/* Clears the bits of ADDR beyond LEN; true if any were set. */
bool cidr_clear_host_bits(uint8_t addr[16], unsigned int len);

/* Writes ADDR/LEN of FAMILY into BUF (CIDR_STRLEN bytes suffice). */
void cidr_format(int family, const uint8_t addr[16], unsigned int len, char *buf, size_t buf_len);

#endif /* TEXPORTER_CIDR_H */
