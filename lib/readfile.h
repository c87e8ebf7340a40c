/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a whole file into memory, with a size limit: for inputs that are
 * parsed in memory and whose errors point at a line and column. */
#ifndef TEXPORTER_READFILE_H
#define TEXPORTER_READFILE_H

#include <stddef.h>

/* What went wrong; errno says more for the system calls. */
enum readfile_error {
	READFILE_OK = 0,
	READFILE_OPEN,	    /* errno */
	READFILE_STAT,	    /* errno */
	READFILE_DIRECTORY, /* a directory, not a file */
	READFILE_TOO_LARGE, /* more than the limit */
	READFILE_READ,	    /* errno */
	READFILE_NO_MEMORY,
};

/* Reads all of PATH, at most MAX_BYTES, into a NUL-terminated *TEXT (free
 * it) of *LEN bytes. Pipes and other files without a size are read to
 * their end too. */
enum readfile_error readfile(const char *path, size_t max_bytes, char **text, size_t *len);

#endif /* TEXPORTER_READFILE_H */
