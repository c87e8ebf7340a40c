/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 as texporter accepts it in range names and writes it in label
 * values: RFC 3629, one spelling per character. */
#ifndef TEXPORTER_UTF8_H
#define TEXPORTER_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the UTF-8 sequence at S (at most LEFT bytes, LEFT > 0), its
 * code point in *CP; 0 if the bytes are not well-formed UTF-8. Overlong
 * forms, surrogates and values above U+10FFFF are not, so a name has one
 * spelling only. */
size_t utf8_decode(const unsigned char *s, size_t left, uint32_t *cp);

/* C0, DEL and C1: the Unicode control characters (category Cc). */
bool utf8_is_control(uint32_t cp);

#endif /* TEXPORTER_UTF8_H */
