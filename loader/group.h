/* SPDX-License-Identifier: Apache-2.0 */
/* The readers' group of the pins: what --group names. */
#ifndef TEXPORTER_GROUP_H
#define TEXPORTER_GROUP_H

#include <sys/types.h>

/* The GID of NAME: a group of that name, else, when NAME is all digits, that
 * number (a GID needs no entry in /etc/group: a minimal container image has
 * none). NULL means "texporter" when it exists, else 0 (root only).
 * 0, or -1 after an error that names the fix. */
int group_resolve(const char *name, gid_t *gid);

#endif /* TEXPORTER_GROUP_H */
