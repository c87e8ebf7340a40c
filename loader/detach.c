// SPDX-License-Identifier: Apache-2.0
/* --detach: meta goes first (readers stop seeing the interface in one
 * step), then the links are taken off their hooks (their pins would take
 * them along, but not at once on every kernel), legacy filters are
 * deleted, then the pin directory. Leaves nothing behind; a --detach that
 * was killed is finished by the next run of the loader, whatever it does. */
#include <stdio.h>
#include <unistd.h>

#include "journal.h"
#include "load.h"
#include "log.h"
#include "pindir.h"

int detach_run(const struct load_options *o)
{
	char dir[PATH_MAX];
	int lock, rc = EXIT_OK;

	if (pindir_path(dir, o->pin_root, o->ifname)) {
		log_error("pin path too long: %s/%s", o->pin_root, o->ifname);
		return EXIT_USAGE;
	}
	if (!pindir_exists(dir)) {
		printf("%s: nothing loaded (no %s)\n", o->ifname, dir);
		return EXIT_OK;
	}
	log_route_libbpf();
	lock = pindir_lock(o->pin_root);
	if (lock < 0)
		return EXIT_RUNTIME;
	if (journal_discard_dir(dir, o->ifname))
		rc = EXIT_RUNTIME;
	else
		printf("%s: detached\n", o->ifname);
	close(lock);
	return rc;
}
