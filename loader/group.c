// SPDX-License-Identifier: Apache-2.0
/* --group: a group name as in /etc/group (or NSS), or a numeric GID, as
 * chown(1) takes them: a name first, so a group called "4242" wins over
 * GID 4242. (gid_t)-1 is no GID: chown would read it as "unchanged". */
#include "group.h"

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define DEFAULT_GROUP "texporter"

/* NAME as a GID when it is all digits and below (gid_t)-1; -1 otherwise. */
static int parse_gid(const char *name, gid_t *gid)
{
	unsigned long long v;
	char *end;

	if (!*name || strspn(name, "0123456789") != strlen(name))
		return -1;
	errno = 0;
	v = strtoull(name, &end, 10);
	if (errno || v >= UINT32_MAX)
		return -1;
	*gid = (gid_t)v;
	return 0;
}

int group_resolve(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name ? name : DEFAULT_GROUP);

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (!name) {
		*gid = 0; /* no texporter group on this host: root only */
		return 0;
	}
	if (parse_gid(name, gid) == 0)
		return 0;
	log_error(
		"group \"%s\" does not exist (--group); create it, name another or give a numeric GID (0-%u)",
		name, UINT32_MAX - 1);
	return -1;
}
