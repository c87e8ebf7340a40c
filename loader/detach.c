// SPDX-License-Identifier: Apache-2.0
/* --detach: the links are taken off their hooks (their pins would take
 * them along, but not at once on every kernel), legacy filters are
 * deleted, then the pin directory. Leaves nothing behind. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <net/if.h>

#include "load.h"
#include "log.h"
#include "pindir.h"
#include "state.h"

static void detach_links(const struct state *s)
{
	for (int dir = 0; dir < 2; dir++)
		if (s->att[dir].link_fd >= 0)
			attach_detach_link(s->att[dir].link_fd);
}

static void detach_legacy_filters(const struct state *s, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);

	/* A legacy filter dies with its device; only the same device has ours. */
	if (!ifindex || (__u32)ifindex != s->meta.ifindex)
		return;
	for (int dir = 0; dir < 2; dir++)
		if (s->att[dir].how == TEXPORTER_ATTACH_TC_LEGACY)
			attach_remove_legacy(dir, ifindex, ifname);
}

int detach_run(const struct load_options *o)
{
	char dir[PATH_MAX];
	struct state s;
	int lock, rc = EXIT_OK;

	if (pindir_path(dir, o->pin_root, o->ifname)) {
		log_error("pin path too long: %s/%s", o->pin_root, o->ifname);
		return EXIT_USAGE;
	}
	if (!pindir_exists(dir)) {
		printf("%s: nothing loaded (no %s)\n", o->ifname, dir);
		return EXIT_OK;
	}
	lock = pindir_lock(o->pin_root);
	if (lock < 0)
		return EXIT_RUNTIME;
	if (state_open(&s, dir) == 0 && s.loaded) {
		detach_links(&s);
		detach_legacy_filters(&s, o->ifname);
	}
	state_close(&s); /* drop our references before the pins go */
	if (pindir_remove(dir))
		rc = EXIT_RUNTIME;
	else
		printf("%s: detached\n", o->ifname);
	close(lock);
	return rc;
}
