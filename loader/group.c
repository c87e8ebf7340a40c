// SPDX-License-Identifier: Apache-2.0
/* --group: a group name as in /etc/group, or a numeric GID, as chown(1)
 * takes them: a name first, so a group called "4242" wins over GID 4242.
 * (gid_t)-1 is no GID: chown would read it as "unchanged".
 *
 * Names are looked up in /etc/group itself (fgetgrent), never through NSS:
 * the static texporter-load runs where glibc's NSS modules are absent
 * (Alpine, a FROM scratch image), and the readers' group is a local system
 * group that packages create there. A group known only to LDAP or sssd is
 * given by its number. */
#include "group.h"

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define DEFAULT_GROUP "texporter"

#define TEXPORTER_GROUP_FILE "/etc/group"

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

/* The GID of the group NAME in the group file: 0 found, 1 not there (or
 * no group file: a container image may have none), -1 unreadable. */
static int group_file_lookup(const char *name, gid_t *gid)
{
	FILE *f = fopen(TEXPORTER_GROUP_FILE, "re");
	struct group *gr;
	int rc = 1;

	if (!f) {
		if (errno == ENOENT)
			return 1;
		log_error("cannot read %s to look up group \"%s\": %s; "
			  "give a numeric GID (--group)",
			  TEXPORTER_GROUP_FILE, name, strerror(errno));
		return -1;
	}
	while ((gr = fgetgrent(f)))
		if (!strcmp(gr->gr_name, name)) {
			*gid = gr->gr_gid;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

int group_resolve(const char *name, gid_t *gid)
{
	int rc = group_file_lookup(name ? name : DEFAULT_GROUP, gid);

	if (rc <= 0)
		return rc;
	if (!name) {
		*gid = 0; /* no texporter group on this host: root only */
		return 0;
	}
	if (parse_gid(name, gid) == 0)
		return 0;
	log_error(
		"group \"%s\" is not in %s (--group); create it (groupadd, or addgroup on Alpine), name another or give a numeric GID (0-%u)",
		name, TEXPORTER_GROUP_FILE, UINT32_MAX - 1);
	return -1;
}
