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
	READFILE_SPECIAL,   /* a FIFO, socket or device: st_mode in errno's place */
	READFILE_TOO_LARGE, /* more than the limit */
	READFILE_READ,	    /* errno */
	READFILE_NO_MEMORY,
};

/* Reads all of PATH, at most MAX_BYTES, into a NUL-terminated *TEXT (free
 * it) of *LEN bytes. Only a regular file is read: PATH is opened without
 * blocking, so a FIFO without a writer is refused at once, never waited
 * for (readfile_kind names what it was instead). */
enum readfile_error readfile(const char *path, size_t max_bytes, char **text, size_t *len);

/* What PATH is, in words: "a FIFO", "a socket", "a device", "a directory",
 * "a regular file" (for READFILE_SPECIAL, and wherever a message must say
 * what was found instead of what was expected). */
const char *readfile_kind(const char *path);

#endif /* TEXPORTER_READFILE_H */
