/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TEXPORTER_LOAD_H
#define TEXPORTER_LOAD_H

#include "attach.h"
#include "cli.h"
#include "unmatched.h"

struct load_options {
	const char *ifname;
	const char *config_path;
	const char *pin_root;
	const char *group;     /* NULL: "texporter" if it exists, else root */
	const char *unmatched; /* name of the unmatched range */
	struct attach_request attach;
	struct unmatched_options discovery; /* --unmatched-prefix-len, --unmatched-entries */
	__u32 counter_slots;                /* --counter-slots; 0 = automatic */
};

/* Each returns an enum exit_code. */
int load_run(const struct load_options *o);   /* load, or reload if loaded */
int detach_run(const struct load_options *o); /* remove attachments and pins */
int status_run(const struct load_options *o); /* describe one or all interfaces */

#endif /* TEXPORTER_LOAD_H */
