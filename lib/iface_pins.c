// SPDX-License-Identifier: Apache-2.0
/* Finding and opening an interface's pins, and checking its meta. */
#include "iface_pins.h"
#include "array.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int pin_open(const char *dir, const char *name, bool read_only)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = read_only ? BPF_F_RDONLY : 0);
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_get_opts(path, &opts);
}

int iface_pins_open_maps(struct iface_pins *p, const char *dir, __u32 layout, bool read_only,
			 const char **failed)
{
	struct {
		int *fd;
		const char *name;
	} maps[] = {
		{ &p->names, TEXPORTER_PIN_NAMES },
		{ &p->counters, TEXPORTER_PIN_COUNTERS },
		{ &p->shared, layout == TEXPORTER_LAYOUT_DENSE ? NULL : TEXPORTER_PIN_SHARED },
		{ &p->errors, TEXPORTER_PIN_ERRORS },
		{ &p->carry, TEXPORTER_PIN_CARRY },
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		if (!maps[i].name)
			continue;
		*maps[i].fd = pin_open(dir, maps[i].name, read_only);
		if (*maps[i].fd >= 0 || (maps[i].fd == &p->carry && errno == ENOENT))
			continue;
		*failed = maps[i].name;
		return -1;
	}
	return 0;
}

void iface_pins_close(struct iface_pins *p)
{
	int *fds[] = { &p->meta, &p->names, &p->counters, &p->shared, &p->carry, &p->errors };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int meta_check(const struct texporter_meta *m, __u32 oldest_layout, char *why, size_t why_len)
{
	if (m->magic != TEXPORTER_META_MAGIC) {
		snprintf(
			why, why_len,
			"is not initialised (magic 0x%08x): is texporter-load still running, or did it fail?",
			m->magic);
		return -1;
	}
	if (m->layout_version < oldest_layout && m->layout_version >= TEXPORTER_LAYOUT_DENSE) {
		snprintf(
			why, why_len,
			"has layout version %u of an older texporter-load, this texporter reads version %d: run texporter-load again for the interface (it converts the pins and keeps the counts)",
			m->layout_version, TEXPORTER_LAYOUT_VERSION);
		return -1;
	}
	if (m->layout_version < oldest_layout || m->layout_version > TEXPORTER_LAYOUT_VERSION) {
		snprintf(
			why, why_len,
			"has layout version %u, this texporter reads version %d: install matching texporter-load and texporter-read, or detach with the texporter-load that loaded it",
			m->layout_version, TEXPORTER_LAYOUT_VERSION);
		return -1;
	}
	if (m->capacity < 1 || m->capacity > TEXPORTER_MAX_IDS) {
		snprintf(why, why_len, "has capacity %u, outside 1..%d", m->capacity,
			 TEXPORTER_MAX_IDS);
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether entry DE of DIR is a directory with a meta pin (d_type may be
 * DT_UNKNOWN on some file systems: the stat of DE/meta decides then). */
static bool holds_meta(DIR *dir, const struct dirent *de)
{
	char meta[NAME_MAX + sizeof("/" TEXPORTER_PIN_META)];
	struct stat st;

	if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
		return false;
	snprintf(meta, sizeof(meta), "%s/%s", de->d_name, TEXPORTER_PIN_META);
	return fstatat(dirfd(dir), meta, &st, 0) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

static int list_add(char ***names, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		char **grown = array_grow(*names, cap, sizeof(*grown), 8);

		if (!grown)
			return -1;
		*names = grown;
	}
	(*names)[*n] = strdup(name);
	if (!(*names)[*n])
		return -1;
	(*n)++;
	return 0;
}

int iface_list(const char *root, char ***names, size_t *count)
{
	DIR *dir = opendir(root);
	size_t n = 0, cap = 0;
	struct dirent *de;
	char **found = NULL;

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (holds_meta(dir, de) && list_add(&found, &n, &cap, de->d_name)) {
			closedir(dir);
			iface_list_free(found, n);
			errno = ENOMEM;
			return -1;
		}
	}
	closedir(dir);
	if (n)
		qsort(found, n, sizeof(*found), cmp_str);
	*names = found;
	*count = n;
	return 0;
}

void iface_list_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
