// SPDX-License-Identifier: Apache-2.0
/* The growable buffer every output is rendered into, and its appenders.
 * Appending never fails loudly: an allocation failure sets b->failed and
 * the caller checks once at the end, so the render loop has no branches
 * for it. */
#include "reader.h"

#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){ 0 };
}

bool buf_reserve(struct buf *b, size_t extra)
{
	size_t cap;
	char *data;

	if (b->failed)
		return false;
	if (b->cap - b->len >= extra)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < extra) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	data = realloc(b->data, cap);
	if (!data) {
		b->failed = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

void buf_add_u64(struct buf *b, uint64_t value)
{
	if (!buf_reserve(b, 20))
		return;
	b->len += format_u64(b->data + b->len, value);
}

void buf_add_label_value(struct buf *b, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, run = 0;

	/* Worst case: every byte becomes a 3-byte replacement character. */
	if (!buf_reserve(b, 3 * len))
		return;
	while (i < len) {
		unsigned char c = s[i];
		size_t seq;

		if (c >= 0x80) {
			uint32_t cp;

			seq = utf8_decode(s + i, len - i, &cp);
			if (seq) {
				i += seq;
				continue;
			}
		} else if (c != '\\' && c != '"' && c != '\n') {
			i++;
			continue;
		}
		/* Flush the plain run before the byte that needs care. */
		memcpy(b->data + b->len, s + run, i - run);
		b->len += i - run;
		if (c == '\\' || c == '"') {
			b->data[b->len++] = '\\';
			b->data[b->len++] = (char)c;
		} else if (c == '\n') {
			b->data[b->len++] = '\\';
			b->data[b->len++] = 'n';
		} else {
			memcpy(b->data + b->len, "\xEF\xBF\xBD", 3);
			b->len += 3;
		}
		run = ++i;
	}
	memcpy(b->data + b->len, s + run, len - run);
	b->len += len - run;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
