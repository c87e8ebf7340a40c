/* SPDX-License-Identifier: Apache-2.0 */
/* Checks that explain themselves: a check writes why it failed into a
 * caller's buffer, and the caller names the object ("pin eth0/meta",
 * "range \"zoom\": ipv4[2] \"10.0.0.0/33\"") before it. */
#ifndef TEXPORTER_REASON_H
#define TEXPORTER_REASON_H

#include <stddef.h>

/* Writes a reason into WHY (which may be NULL) and returns -1, so a check
 * can fail in one statement. */
int reason(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* TEXPORTER_REASON_H */
