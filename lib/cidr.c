// SPDX-License-Identifier: Apache-2.0
/* Parsing and writing the prefixes of a range config. */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "reason.h"

const char *const cidr_family_key[TEXPORTER_FAMILY_COUNT] = {
	[TEXPORTER_IPV4] = "ipv4",
	[TEXPORTER_IPV6] = "ipv6",
};
const char *const cidr_family_label[TEXPORTER_FAMILY_COUNT] = {
	[TEXPORTER_IPV4] = "IPv4",
	[TEXPORTER_IPV6] = "IPv6",
};
const unsigned int cidr_family_bits[TEXPORTER_FAMILY_COUNT] = {
	[TEXPORTER_IPV4] = 32,
	[TEXPORTER_IPV6] = 128,
};
static const int family_af[TEXPORTER_FAMILY_COUNT] = {
	[TEXPORTER_IPV4] = AF_INET,
	[TEXPORTER_IPV6] = AF_INET6,
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int parse_address(const char *addr, bool has_len, int family, uint8_t *out, char *why,
			 size_t why_len)
{
	int other = family == TEXPORTER_IPV4 ? TEXPORTER_IPV6 : TEXPORTER_IPV4;
	uint8_t scratch[16];

	if (inet_pton(family_af[family], addr, out) == 1)
		return 0;
	if (strchr(addr, '%'))
		return reason(why, why_len, "has a zone index ('%%...'); prefixes cannot have one");
	if (inet_pton(family_af[other], addr, scratch) == 1)
		return reason(why, why_len, "is an %s %s; it belongs in the \"%s\" list",
			      cidr_family_label[other], has_len ? "prefix" : "address",
			      cidr_family_key[other]);
	if (has_len)
		return reason(why, why_len, "does not start with a valid %s address",
			      cidr_family_label[family]);
	return reason(why, why_len, "is not a valid %s address or prefix",
		      cidr_family_label[family]);
}

/* Leading zeros are refused ("/08"): inet_pton refuses them in IPv4
 * addresses too, and some tools read them as octal. */
static int parse_prefix_len(const char *text, int family, uint8_t *len, char *why, size_t why_len)
{
	unsigned max = cidr_family_bits[family];
	unsigned value = 0;

	if (text[0] == '\0')
		return reason(why, why_len, "has no prefix length after the '/'");
	for (const char *c = text; *c; c++) {
		if (*c < '0' || *c > '9') {
			if (strchr(text, '.'))
				return reason(
					why, why_len,
					"has a netmask after the '/'; write a prefix length such as /24");
			return reason(why, why_len, "has a prefix length that is not a number");
		}
		if (value <= max) /* saturates: anything above max is wrong alike */
			value = value * 10 + (unsigned)(*c - '0');
	}
	if (text[0] == '0' && text[1] != '\0')
		return reason(why, why_len, "has a prefix length with a leading zero");
	if (value > max)
		return reason(why, why_len, "has a prefix length above %u, the %s maximum", max,
			      cidr_family_label[family]);
	*len = (uint8_t)value;
	return 0;
}

int cidr_parse(const char *text, int family, uint8_t addr[16], uint8_t *len, char *why,
	       size_t why_len)
{
	char addr_text[CIDR_STRLEN];
	size_t text_len = strlen(text);
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : text_len;

	if (family != TEXPORTER_IPV4 && family != TEXPORTER_IPV6)
		return reason(why, why_len, "has an unknown address family %d", family);
	if (text_len == 0)
		return reason(why, why_len, "is empty");
	if (is_space(text[0]) || is_space(text[text_len - 1]))
		return reason(why, why_len, "has leading or trailing whitespace");
	if (addr_len == 0)
		return reason(why, why_len, "has no address before the '/'");
	if (addr_len >= sizeof(addr_text))
		return reason(why, why_len, "is too long to be an %s prefix",
			      cidr_family_label[family]);
	memcpy(addr_text, text, addr_len);
	addr_text[addr_len] = '\0';

	memset(addr, 0, 16);
	if (parse_address(addr_text, slash != NULL, family, addr, why, why_len) < 0)
		return -1;
	if (!slash) {
		*len = (uint8_t)cidr_family_bits[family];
		return 0;
	}
	return parse_prefix_len(slash + 1, family, len, why, why_len);
}

bool cidr_clear_host_bits(uint8_t addr[16], unsigned int len)
{
	bool changed = false;

	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = len > i * 8 ? len - i * 8 : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff00u >> keep);

		if (addr[i] & ~mask) {
			addr[i] &= mask;
			changed = true;
		}
	}
	return changed;
}

void cidr_format(int family, const uint8_t addr[16], unsigned int len, char *buf, size_t buf_len)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(family_af[family], addr, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	snprintf(buf, buf_len, "%s/%u", text, len);
}
