// SPDX-License-Identifier: Apache-2.0
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include "log.h"
#include "pins.h"

static void state_init(struct state *s)
{
	memset(s, 0, sizeof(*s));
	s->meta_fd = s->names_fd = s->counters_fd = s->carry_fd = s->errors_fd = -1;
	s->att[DIR_INGRESS].link_fd = s->att[DIR_EGRESS].link_fd = -1;
}

static int state_open_map(const struct state *s, const char *name, bool required)
{
	int fd = pins_open(s->dir, name);

	if (fd < 0 && (required || errno != ENOENT))
		log_error("cannot open pin %s/%s: %s", s->dir, name, strerror(errno));
	return fd;
}

static int state_read(struct state *s)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->meta_fd, &zero, &s->meta)) {
		log_error("cannot read %s/%s: %s", s->dir, TEXPORTER_PIN_META, strerror(errno));
		return -1;
	}
	if (s->meta.magic != TEXPORTER_META_MAGIC ||
	    s->meta.layout_version != TEXPORTER_LAYOUT_VERSION) {
		log_error("%s holds pins of another layout (version %u, this texporter-load writes %u); run texporter-load --detach -i IFACE with the version that loaded it",
			  s->dir, s->meta.layout_version, TEXPORTER_LAYOUT_VERSION);
		return -1;
	}
	s->names = calloc(TEXPORTER_MAX_IDS, sizeof(*s->names));
	if (!s->names)
		return -1;
	for (__u32 id = 0; id < TEXPORTER_MAX_IDS; id++) {
		if (bpf_map_lookup_elem(s->names_fd, &id, &s->names[id])) {
			log_error("cannot read %s/%s: %s", s->dir, TEXPORTER_PIN_NAMES,
				  strerror(errno));
			return -1;
		}
	}
	s->att[DIR_INGRESS].how = s->meta.ingress;
	s->att[DIR_EGRESS].how = s->meta.egress;
	return 0;
}

int state_open(struct state *s, const char *dir)
{
	state_init(s);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	if (!pins_dir_exists(dir))
		return 0;
	s->meta_fd = state_open_map(s, TEXPORTER_PIN_META, false);
	if (s->meta_fd < 0) {
		if (errno == ENOENT)
			log_error("%s exists but holds no texporter state; remove it (texporter-load --detach) and load again",
				  dir);
		return -1;
	}
	s->names_fd = state_open_map(s, TEXPORTER_PIN_NAMES, true);
	s->counters_fd = state_open_map(s, TEXPORTER_PIN_COUNTERS, true);
	s->errors_fd = state_open_map(s, TEXPORTER_PIN_ERRORS, true);
	s->carry_fd = state_open_map(s, TEXPORTER_PIN_CARRY, false);
	if (s->names_fd < 0 || s->counters_fd < 0 || s->errors_fd < 0)
		return -1;
	s->att[DIR_INGRESS].link_fd = pins_open(dir, TEXPORTER_PIN_LINK_INGRESS);
	s->att[DIR_EGRESS].link_fd = pins_open(dir, TEXPORTER_PIN_LINK_EGRESS);
	if (state_read(s))
		return -1;
	s->loaded = true;
	return 0;
}

void state_close(struct state *s)
{
	int *fds[] = { &s->meta_fd, &s->names_fd, &s->counters_fd, &s->carry_fd, &s->errors_fd,
		       &s->att[0].link_fd, &s->att[1].link_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
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

int state_write_meta(const struct state *s)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(s->meta_fd, &zero, &s->meta, BPF_ANY)) {
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

int state_ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

int state_sum_percpu(int fd, __u32 key, __u64 *sum, size_t fields)
{
	int ncpus = state_ncpus();
	__u64 *values = calloc((size_t)ncpus * fields, sizeof(*values));
	int err = -1;

	memset(sum, 0, fields * sizeof(*sum));
	if (values && bpf_map_lookup_elem(fd, &key, values) == 0) {
		for (int c = 0; c < ncpus; c++)
			for (size_t f = 0; f < fields; f++)
				sum[f] += values[(size_t)c * fields + f];
		err = 0;
	}
	free(values);
	return err;
}
