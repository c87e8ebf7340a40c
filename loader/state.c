// SPDX-License-Identifier: Apache-2.0
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <net/if.h>

#include "log.h"
#include "mapio.h"
#include "pindir.h"
#include "readfile.h"

static void state_init(struct state *s)
{
	memset(s, 0, sizeof(*s));
	s->pins = IFACE_PINS_CLOSED;
	s->att[DIR_INGRESS].link_fd = s->att[DIR_EGRESS].link_fd = -1;
}

int state_read_names(int fd, struct texporter_name *names)
{
	return mapio_read_all(fd, TEXPORTER_MAX_IDS, sizeof(*names), names);
}

/* Meta first: its layout says which maps there are. Layout 1 is read
 * too, for a reload to convert. */
static int state_read_meta(struct state *s)
{
	char why[256];
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->pins.meta, &zero, &s->meta)) {
		log_error("cannot read %s/%s: %s", s->dir, TEXPORTER_PIN_META, strerror(errno));
		return -1;
	}
	if (meta_check(&s->meta, TEXPORTER_LAYOUT_DENSE, why, sizeof(why))) {
		log_error("pin %s/%s %s", s->dir, TEXPORTER_PIN_META, why);
		return -1;
	}
	return 0;
}

static int state_read(struct state *s)
{
	s->names = calloc(TEXPORTER_MAX_IDS, sizeof(*s->names));
	if (!s->names)
		return -1;
	if (state_read_names(s->pins.names, s->names)) {
		log_error("cannot read %s/%s: %s", s->dir, TEXPORTER_PIN_NAMES, strerror(errno));
		return -1;
	}
	s->att[DIR_INGRESS].how = s->meta.ingress;
	s->att[DIR_EGRESS].how = s->meta.egress;
	return 0;
}

/* Why DIR/NAME could not be opened (ERR). bpffs holds symlinks too, and
 * opening one that leads off the bpffs fails with EACCES, which would read
 * as a permission problem: say what is there instead. */
static void log_pin_error(const char *dir, const char *name, int err)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	if (pindir_path(path, dir, name) == 0 && stat(path, &st) == 0 && statfs(path, &sfs) == 0 &&
	    sfs.f_type != BPF_FS_MAGIC) {
		log_error("%s is %s outside a bpffs (a symlink leads there), not a texporter pin; remove it (texporter-load --detach) and load again",
			  path, readfile_kind(path));
		return;
	}
	log_error("cannot open pin %s/%s: %s", dir, name, strerror(err));
}

int state_open(struct state *s, const char *dir)
{
	const char *failed = TEXPORTER_PIN_META;

	state_init(s);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	if (!pindir_exists(dir))
		return 0;
	s->pins.meta = pin_open(dir, TEXPORTER_PIN_META, false);
	if (s->pins.meta < 0 && errno == ENOENT) {
		log_error("%s exists but holds no texporter state; remove it (texporter-load --detach) and load again",
			  dir);
		return -1;
	}
	if (s->pins.meta < 0) {
		log_pin_error(dir, TEXPORTER_PIN_META, errno);
		return -1;
	}
	if (state_read_meta(s))
		return -1;
	if (iface_pins_open_maps(&s->pins, dir, s->meta.layout_version, false, &failed)) {
		log_pin_error(dir, failed, errno);
		return -1;
	}
	s->att[DIR_INGRESS].link_fd = pin_open(dir, TEXPORTER_PIN_LINK_INGRESS, false);
	s->att[DIR_EGRESS].link_fd = pin_open(dir, TEXPORTER_PIN_LINK_EGRESS, false);
	if (state_read(s))
		return -1;
	s->loaded = true;
	return 0;
}

void state_close(struct state *s)
{
	iface_pins_close(&s->pins);
	for (int dir = 0; dir < 2; dir++) {
		if (s->att[dir].link_fd >= 0)
			close(s->att[dir].link_fd);
		s->att[dir].link_fd = -1;
	}
	free(s->names);
	s->names = NULL;
}

bool state_attached(const struct state *s, enum direction dir, int ifindex)
{
	const struct attachment *a = &s->att[dir];

	if (!s->loaded || (int)s->meta.ifindex != ifindex)
		return false;
	if (a->how == TEXPORTER_ATTACH_TC_LEGACY)
		return true; /* the filter lives as long as the device */
	return a->link_fd >= 0 && attach_link_ifindex(a->link_fd) == ifindex;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* Whether program PROG uses both maps WANT (two ids, neither 0). */
static bool prog_uses_maps(int prog, const __u32 want[2])
{
	__u32 ids[16] = { 0 }, found = 0;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (prog < 0 || bpf_obj_get_info_by_fd(prog, &info, &len))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
		found += ids[i] == want[0] || ids[i] == want[1];
	return want[0] && want[1] && found == 2;
}

bool state_runs_pinned_maps(const struct state *s, int ifindex)
{
	int ranges = pin_open(s->dir, TEXPORTER_PIN_RANGES, true);
	__u32 want[2] = { map_id(s->pins.counters), map_id(ranges) };
	/* (shared is made and replaced with counters, always together) */
	bool ok = true;

	for (int dir = 0; dir < 2 && ok; dir++) {
		int prog = attach_prog_fd(&s->att[dir], (enum direction)dir, ifindex);

		ok = prog_uses_maps(prog, want);
		if (prog >= 0)
			close(prog);
	}
	if (ranges >= 0)
		close(ranges);
	return ok;
}

int state_write_meta(const struct state *s)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(s->pins.meta, &zero, &s->meta, BPF_ANY)) {
		log_error("cannot write %s/%s: %s", s->dir, TEXPORTER_PIN_META, strerror(errno));
		return -1;
	}
	return 0;
}

int state_write_name(int names_fd, __u32 id, const struct texporter_name *name)
{
	if (bpf_map_update_elem(names_fd, &id, name, BPF_ANY)) {
		log_error("cannot write range name %u: %s", id, strerror(errno));
		return -1;
	}
	return 0;
}
