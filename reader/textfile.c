// SPDX-License-Identifier: Apache-2.0
/*
 * --textfile PATH, for node_exporter's textfile collector: write a hidden
 * temporary file in PATH's directory (the collector reads only *.prom),
 * fsync it, rename it over PATH. PATH is either the old file or the new
 * one, never a partial one; the temporary file never outlives a failure,
 * a full disk, or SIGINT/SIGTERM/SIGHUP.
 */
#include "reader.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define N_CLEANUP_SIGNALS (sizeof(cleanup_signals) / sizeof(cleanup_signals[0]))

/* The temporary file a signal must remove: set and cleared with the
 * signals blocked, read by the handler. */
static char temp_path[PATH_MAX];
static volatile sig_atomic_t temp_exists;

static void on_signal(int sig)
{
	if (temp_exists)
		unlink(temp_path);
	/* Die of the signal, as the caller expects. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void signals_block(sigset_t *saved)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < N_CLEANUP_SIGNALS; i++)
		sigaddset(&set, cleanup_signals[i]);
	sigprocmask(SIG_BLOCK, &set, saved);
}

static void signals_catch(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_CLEANUP_SIGNALS; i++)
		sigaction(cleanup_signals[i], &sa, NULL);
}

/* Creates the temporary file beside path; -1 with a message if it can't. */
static int temp_create(const char *dir, const char *base)
{
	sigset_t saved;
	int fd, e;

	if (snprintf(temp_path, sizeof(temp_path), "%s/.%s.XXXXXX", dir, base) >=
	    (int)sizeof(temp_path)) {
		log_error("cannot write %s/%s: path too long", dir, base);
		return -1;
	}
	signals_block(&saved);
	fd = mkostemp(temp_path, O_CLOEXEC);
	e = errno;
	temp_exists = fd >= 0;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (fd < 0)
		log_error("cannot create a temporary file in %s: %s%s", dir,
			  strerror(e),
			  e == EACCES ? " (the directory must be writable by "
					"the reader's user)" : "");
	return fd;
}

static void temp_remove(void)
{
	sigset_t saved;

	signals_block(&saved);
	if (temp_exists)
		unlink(temp_path);
	temp_exists = 0;
	sigprocmask(SIG_SETMASK, &saved, NULL);
}

/* Content, then mode (like a file made with umask), then the disk. */
static int temp_fill(int fd, const struct buf *out, const char *path)
{
	mode_t mask = umask(0);

	umask(mask);
	if (write_all(fd, out->data, out->len) ||
	    fchmod(fd, 0666 & ~mask) || fsync(fd)) {
		log_error("cannot write %s (via %s): %s", path, temp_path,
			  strerror(errno));
		return -1;
	}
	return 0;
}

static int temp_rename(const char *path)
{
	sigset_t saved;
	int rc, e;

	signals_block(&saved);
	rc = rename(temp_path, path);
	e = errno;
	if (rc == 0)
		temp_exists = 0;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (rc)
		log_error("cannot rename %s to %s: %s", temp_path, path,
			  strerror(e));
	return rc;
}

/* The rename is durable once the directory is on disk too. */
static void dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd))
		log_warn("cannot sync directory %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

int textfile_write(const char *path, const struct scrape_config *cfg)
{
	char err[ERR_LEN], dir_buf[PATH_MAX], base_buf[PATH_MAX];
	struct buf out = { 0 };
	const char *dir, *base;
	int fd = -1, rc = EXIT_RUNTIME;

	if (snprintf(dir_buf, sizeof(dir_buf), "%s", path) >= (int)sizeof(dir_buf)) {
		log_error("cannot write %s: path too long", path);
		return EXIT_RUNTIME;
	}
	snprintf(base_buf, sizeof(base_buf), "%s", path);
	dir = dirname(dir_buf);
	base = basename(base_buf);

	/* Scrape first: a failed scrape leaves PATH as it was. */
	if (scrape(cfg, EXPO_TEXT, &out, err, sizeof(err)))
		goto out;
	signals_catch();
	fd = temp_create(dir, base);
	if (fd < 0)
		goto out;
	if (temp_fill(fd, &out, path)) {
		close(fd);
		temp_remove();
		goto out;
	}
	if (close(fd)) {
		log_error("cannot write %s (via %s): %s", path, temp_path,
			  strerror(errno));
		temp_remove();
		goto out;
	}
	if (temp_rename(path)) {
		temp_remove();
		goto out;
	}
	dir_sync(dir);
	log_debug("wrote %zu bytes to %s", out.len, path);
	rc = EXIT_OK;
out:
	buf_free(&out);
	return rc;
}
