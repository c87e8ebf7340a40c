// SPDX-License-Identifier: Apache-2.0
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads FD to its end, starting with room for SIZE_HINT bytes. */
static enum readfile_error readfile_fd(int fd, size_t size_hint, size_t max_bytes, char **text,
				       size_t *len)
{
	/* One byte more than the limit tells a file at the limit from a
	 * larger one, one more again holds the NUL. */
	size_t max_cap = max_bytes + 2;
	size_t cap = size_hint + 2 < max_cap ? size_hint + 2 : max_cap;
	size_t used = 0;
	char *buf = malloc(cap);

	while (buf) {
		if (used + 1 == cap) {
			size_t bigger_cap = cap * 2 < max_cap ? cap * 2 : max_cap;
			char *bigger = cap < max_cap ? realloc(buf, bigger_cap) : NULL;

			if (!bigger)
				break;
			buf = bigger;
			cap = bigger_cap;
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			errno = e;
			return READFILE_READ;
		}
		if (n == 0) {
			buf[used] = '\0';
			*text = buf;
			*len = used;
			return READFILE_OK;
		}
		used += (size_t)n;
	}
	free(buf);
	return used > max_bytes ? READFILE_TOO_LARGE : READFILE_NO_MEMORY;
}

enum readfile_error readfile(const char *path, size_t max_bytes, char **text, size_t *len)
{
	enum readfile_error err;
	struct stat st;
	int e, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return READFILE_OPEN;
	if (fstat(fd, &st) < 0)
		err = READFILE_STAT;
	else if (S_ISDIR(st.st_mode))
		err = READFILE_DIRECTORY;
	else if (!S_ISREG(st.st_mode))
		err = READFILE_SPECIAL;
	else if ((uintmax_t)st.st_size > max_bytes)
		err = READFILE_TOO_LARGE;
	else
		err = READFILE_OK;
	if (err == READFILE_OK) {
		err = readfile_fd(fd, (size_t)st.st_size, max_bytes, text, len);
	}
	e = errno; /* for READFILE_STAT and READFILE_READ */
	close(fd);
	errno = e;
	return err;
}

const char *readfile_kind(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return "not a regular file";
	if (S_ISFIFO(st.st_mode))
		return "a FIFO";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return "a device";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	return S_ISREG(st.st_mode) ? "a regular file" : "not a regular file";
}
