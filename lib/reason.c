// SPDX-License-Identifier: Apache-2.0
#include "reason.h"

#include <stdarg.h>
#include <stdio.h>

int reason(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || why_len == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -1;
}
