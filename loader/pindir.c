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

/* The deepest existing directory on the way to PATH must be a bpffs: only
 * then may the missing part be created (on that bpffs). */
static int check_parent_bpffs(const char *path)
{
	char buf[PATH_MAX];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((slash = strrchr(buf, '/'))) {
		struct stat st;

		*(slash == buf ? slash + 1 : slash) = '\0';
		if (stat(buf, &st) == 0)
			return path_is_bpffs(buf) ? 0 : -1;
		if (slash == buf)
			break;
	}
	return -1;
}

/* ROOT, opened (through any symlink), must be a directory on a bpffs
 * owned by root before its mode is touched: anything else is not ours. */
static int claim_root(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct statfs sfs;
	struct stat st;
	int err = -1;

	if (fd < 0) {
		log_error("cannot open pin root %s: %s", root, strerror(errno));
		return -1;
	}
	if (fstatfs(fd, &sfs) || sfs.f_type != BPF_FS_MAGIC)
		log_error("pin root %s is not on a bpffs; mount one there (mount -t bpf bpf DIR) or choose another --pin-root; it was left as it is",
			  root);
	else if (fstat(fd, &st) || st.st_uid != 0)
		log_error("pin root %s is owned by uid %u, not root: it is not texporter's; choose another --pin-root; it was left as it is",
			  root, (unsigned int)st.st_uid);
	else if ((st.st_mode & 07777) != 0755 && fchmod(fd, 0755))
		log_error("cannot make pin root %s mode 0755: %s", root, strerror(errno));
	else
		err = 0;
	close(fd);
	return err;
}

int pindir_prepare_root(const char *root)
{
	struct stat st;

	if (path_is_below(root, SYS_FS_BPF) && mount_sys_fs_bpf())
		return -1;
	if (stat(root, &st) && errno == ENOENT) {
		if (check_parent_bpffs(root)) {
			log_error("pin root %s does not exist and is not below a bpffs; mount one (mount -t bpf bpf DIR) or choose another --pin-root",
				  root);
			return -1;
		}
		if (mkdir_parents(root, 0755)) {
			log_error("cannot create pin root %s: %s", root, strerror(errno));
			return -1;
		}
	}
	return claim_root(root);
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

/* Pins of programs and links, and the loader's journal, are root's alone;
 * every other pin is a map the readers' group may read. */
static bool pin_is_private(const char *name)
{
	if (strncmp(name, "new_", 4) == 0)
		name += 4; /* pindir_replace's temporary name of a pin */
	return strncmp(name, "link_", 5) == 0 || strcmp(name, "journal") == 0 ||
	       strncmp(name, "next_prog_", 10) == 0;
}

/* What to do about a failed chown or chmod, after its errno. */
static const char *owner_fix(int err)
{
	return err == EPERM ? " (giving the pins to the readers' group needs CAP_CHOWN;"
			      " run as root with it, or load with --group root)" :
			      "";
}

/* Sets the owner and mode of DIRFD's entry NAME by the rule above. */
static int set_pin_owner(int dirfd, const char *dir, const char *name, gid_t gid)
{
	bool private = pin_is_private(name);

	if (fchownat(dirfd, name, 0, private ? 0 : gid, AT_SYMLINK_NOFOLLOW) ||
	    fchmodat(dirfd, name, private ? 0600 : 0440, 0)) {
		log_error("cannot set owner and mode of %s/%s: %s%s", dir, name, strerror(errno),
			  owner_fix(errno));
		return -1;
	}
	return 0;
}

int pindir_own_dir(const char *dir, gid_t gid)
{
	if (chown(dir, 0, gid) || chmod(dir, 0750)) {
		log_error("cannot set owner and mode of %s: %s%s", dir, strerror(errno),
			  owner_fix(errno));
		return -1;
	}
	return 0;
}

/* bpffs reserves dots in names: pindir_replace's temporary pin of NAME
 * is new_NAME. */
static void tmp_name_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "new_%s", name);
}

int pindir_replace(int fd, const char *dir, const char *name, gid_t gid)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	char tmp_name[TEXPORTER_NAME_LEN];
	int dirfd, err = -1;

	tmp_name_of(tmp_name, sizeof(tmp_name), name);
	if (pindir_path(path, dir, name) || pindir_path(tmp, dir, tmp_name))
		return -1;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp)) {
		log_error("cannot pin %s: %s", tmp, strerror(errno));
		return -1;
	}
	/* Owner and mode before the name appears: a pin is never seen, nor
	 * left behind by a killed loader, with other permissions. */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0 && set_pin_owner(dirfd, dir, tmp_name, gid) == 0) {
		err = rename(tmp, path);
		if (err)
			log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
	}
	if (dirfd >= 0)
		close(dirfd);
	if (err)
		unlink(tmp);
	return err;
}

int pindir_finish_replace(const char *dir, const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX], tmp_name[TEXPORTER_NAME_LEN];
	struct stat st;

	tmp_name_of(tmp_name, sizeof(tmp_name), name);
	if (pindir_path(path, dir, name) || pindir_path(tmp, dir, tmp_name))
		return -1;
	if (lstat(tmp, &st) || lstat(path, &st) == 0)
		return 0;
	if (rename(tmp, path)) {
		log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		return -1;
	}
	return 0;
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
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && set_pin_owner(dirfd(d), dir, de->d_name, gid))
			err = -1;
	closedir(d);
	if (pindir_own_dir(dir, gid))
		err = -1;
	return err;
}

static bool owned_as(const struct stat *st, gid_t gid, mode_t mode)
{
	return st->st_uid == 0 && st->st_gid == gid && (st->st_mode & 07777) == mode;
}

bool pindir_owner_matches(const char *dir, gid_t gid)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	bool ok = d && fstat(dirfd(d), &st) == 0 && owned_as(&st, gid, 0750);

	while (ok && (de = readdir(d))) {
		bool private = pin_is_private(de->d_name);

		if (de->d_name[0] != '.')
			ok = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			     owned_as(&st, private ? 0 : gid, private ? 0600 : 0440);
	}
	if (d)
		closedir(d);
	return ok;
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
