// SPDX-License-Identifier: Apache-2.0
#include "pindir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/magic.h>

#include "log.h"
#include "texporter.h"

#define SYS_FS_BPF "/sys/fs/bpf"

static bool path_is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static bool path_is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -1;
	return 0;
}

static int mount_sys_fs_bpf(void)
{
	if (path_is_bpffs(SYS_FS_BPF))
		return 0;
	log_info("mounting bpffs on %s", SYS_FS_BPF);
	if (mount("bpf", SYS_FS_BPF, "bpf", 0, "mode=0700")) {
		log_error("cannot mount bpffs on %s: %s; mount it (mount -t bpf bpf %s) or pass --pin-root on a bpffs",
			  SYS_FS_BPF, strerror(errno), SYS_FS_BPF);
		return -1;
	}
	return 0;
}

int pindir_prepare_root(const char *root)
{
	if (path_is_below(root, SYS_FS_BPF) && mount_sys_fs_bpf())
		return -1;
	if (mkdir_parents(root, 0755) || chmod(root, 0755)) {
		log_error("cannot create pin root %s: %s", root, strerror(errno));
		return -1;
	}
	if (!path_is_bpffs(root)) {
		log_error("pin root %s is not on a bpffs; mount one there (mount -t bpf bpf DIR) or choose another --pin-root",
			  root);
		return -1;
	}
	return 0;
}

int pindir_lock(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		log_error("cannot open pin root %s: %s", root, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK) {
		log_info("another texporter-load is working on %s; waiting for it", root);
		if (flock(fd, LOCK_EX) == 0)
			return fd;
	}
	log_error("cannot lock pin root %s: %s", root, strerror(errno));
	close(fd);
	return -1;
}

int pindir_path(char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int pindir_replace(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	char tmp_name[TEXPORTER_NAME_LEN];

	/* bpffs reserves dots in names: the temporary pin is new_NAME. */
	snprintf(tmp_name, sizeof(tmp_name), "new_%s", name);
	if (pindir_path(path, dir, name) || pindir_path(tmp, dir, tmp_name))
		return -1;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp)) {
		log_error("cannot pin %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (rename(tmp, path)) {
		log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static bool pin_is_link(const char *name)
{
	return strncmp(name, "link_", 5) == 0;
}

int pindir_set_owner(const char *dir, gid_t gid)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = 0;

	if (!d) {
		log_error("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		bool link = pin_is_link(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		if (fchownat(dirfd(d), de->d_name, 0, link ? 0 : gid, 0) ||
		    fchmodat(dirfd(d), de->d_name, link ? 0600 : 0440, 0)) {
			log_error("cannot set owner and mode of %s/%s: %s", dir, de->d_name,
				  strerror(errno));
			err = -1;
		}
	}
	closedir(d);
	if (chown(dir, 0, gid) || chmod(dir, 0750)) {
		log_error("cannot set owner and mode of %s: %s", dir, strerror(errno));
		err = -1;
	}
	return err;
}

int pindir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0)) {
			log_error("cannot remove %s/%s: %s", dir, de->d_name, strerror(errno));
			err = -1;
		}
	}
	closedir(d);
	if (!err && rmdir(dir)) {
		log_error("cannot remove %s: %s", dir, strerror(errno));
		err = -1;
	}
	return err;
}

bool pindir_exists(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}
