// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-read: export the counters that texporter-load's programs keep
 * in pinned maps, in the Prometheus text format or OpenMetrics. Runs per
 * scrape with no capabilities: it opens the pins read-only, by path.
 *
 * main() parses the options and hands over to one mode: standard output
 * (default), --textfile, HTTP on stdin/stdout (--inetd, or when stdin is
 * a socket), --listen, or the live view --top.
 */
#include "reader.h"
#include "top.h"

#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define PROG "texporter-read"

enum mode {
	MODE_AUTO, /* stdout, or HTTP when stdin is a socket */
	MODE_INETD,
	MODE_LISTEN,
	MODE_TEXTFILE,
	MODE_TOP,
};

struct options {
	enum mode mode;
	const char *listen;
	const char *textfile;
	int64_t interval_ms; /* --top; 0 until --interval */
	int log_level;
	struct scrape_config scrape;
};

enum long_only {
	OPT_PIN_ROOT = 256,
	OPT_INETD,
	OPT_LISTEN,
	OPT_TEXTFILE,
	OPT_TOP,
	OPT_INTERVAL,
};

static const struct option long_options[] = {
	{ "pin-root", required_argument, NULL, OPT_PIN_ROOT },
	{ "interface-name", required_argument, NULL, 'i' },
	{ "interface", required_argument, NULL, 'i' },
	{ "inetd", no_argument, NULL, OPT_INETD },
	{ "listen", optional_argument, NULL, OPT_LISTEN },
	{ "textfile", required_argument, NULL, OPT_TEXTFILE },
	{ "top", no_argument, NULL, OPT_TOP },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: " PROG " [OPTION]...\n"
"Export texporter's traffic counters to Prometheus. Reads the maps that\n"
"texporter-load pinned, read-only; needs no privileges.\n"
"\n"
"Output (default: standard output; HTTP when standard input is a socket:\n"
"one request on a connected socket, a server on a listening one):\n"
"      --inetd               answer one HTTP request on stdin/stdout (inetd\n"
"                            nowait, systemd Accept=yes)\n"
"      --listen [[ADDR]:PORT]  serve HTTP in the foreground until SIGTERM\n"
"                            (default :2112, every IPv4 and IPv6 address;\n"
"                            IPv6 in brackets: [::1]:2112)\n"
"      --textfile PATH       write PATH atomically, for node_exporter's\n"
"                            textfile collector (temp file, fsync, rename)\n"
"      --top                 live rates (bits/s, packets/s) per interface and\n"
"                            per (source, destination) range pair, like\n"
"                            iftop; on a terminal keys q quit, b/p/n sort by\n"
"                            bits/s, packets/s or name, f family (all, ipv4,\n"
"                            ipv6); otherwise a tab-separated table per\n"
"                            interval (columns in texporter-read(8))\n"
"      --interval S          seconds between --top readings, 0.1 to 3600\n"
"                            (default 2)\n"
"HTTP serves GET and HEAD on /metrics (text format 0.0.4, or OpenMetrics\n"
"1.0 when Accept prefers it; gzip when Accept-Encoding allows it) and a\n"
"landing page on /.\n"
"\n"
"Selection:\n"
"      --pin-root DIR        where texporter-load pinned the maps\n"
"                            (default " TEXPORTER_DEFAULT_PIN_ROOT ")\n"
"  -i, --interface-name IFACE  export only IFACE; repeatable; alias\n"
"                            --interface (default: every loaded interface)\n"
"\n"
"Other:\n"
"  -l, --log-level LEVEL     trace, debug, info, warn, error, fatal or panic\n"
"                            (default info); messages go to stderr\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"The reader's user must be able to read the pins: put it in the group\n"
"given to texporter-load --group.\n"
"\n"
"Exit status: 0 ok, 1 runtime failure (pins unreadable, write failed),\n"
"2 usage error.\n");
}

static int add_interface(struct options *o, const char *name)
{
	char **grown;

	if (cli_check_ifname("--interface-name", name))
		return EXIT_USAGE;
	for (size_t i = 0; i < o->scrape.n_ifnames; i++)
		if (!strcmp(o->scrape.ifnames[i], name))
			return 0;
	grown = realloc(o->scrape.ifnames,
			(o->scrape.n_ifnames + 1) * sizeof(*grown));
	if (!grown) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_RUNTIME;
	}
	o->scrape.ifnames = grown;
	o->scrape.ifnames[o->scrape.n_ifnames++] = (char *)name;
	return 0;
}

static int set_mode(struct options *o, enum mode mode)
{
	if (o->mode != MODE_AUTO && o->mode != mode &&
	    (mode == MODE_TOP || o->mode == MODE_TOP))
		return cli_usage_error("--top excludes --inetd, --listen and "
				       "--textfile");
	if (o->mode != MODE_AUTO && o->mode != mode)
		return cli_usage_error("--inetd, --listen and --textfile "
				       "exclude each other");
	o->mode = mode;
	return 0;
}

/* Returns -1 to go on, or the exit code (help, version, usage errors). */
static int parse_options(int argc, char **argv, struct options *o)
{
	char err[ERR_LEN];
	int opt, rc;

	opterr = 0; /* our own messages, in our format */
	while ((opt = getopt_long(argc, argv, ":i:l:hV", long_options,
				  NULL)) != -1) {
		/* Set for every option that takes one, except a bare --listen. */
		const char *arg = optarg ? optarg : "";

		switch (opt) {
		case OPT_PIN_ROOT:
			if (!*arg)
				return cli_usage_error("--pin-root needs a value");
			o->scrape.pin_root = arg;
			break;
		case 'i':
			if ((rc = add_interface(o, arg)))
				return rc;
			break;
		case OPT_INETD:
			if ((rc = set_mode(o, MODE_INETD)))
				return rc;
			break;
		case OPT_LISTEN:
			if ((rc = set_mode(o, MODE_LISTEN)))
				return rc;
			/* "--listen ADDR" as well as "--listen=ADDR"; bare
			 * "--listen" means :2112. */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				arg = argv[optind++];
			o->listen = arg;
			if (listen_addr_check(o->listen, err, sizeof(err)))
				return cli_bad_value("--listen", arg, "%s", err);
			break;
		case OPT_TEXTFILE:
			if ((rc = set_mode(o, MODE_TEXTFILE)))
				return rc;
			if (!*arg)
				return cli_usage_error("--textfile needs a value");
			o->textfile = arg;
			break;
		case OPT_TOP:
			if ((rc = set_mode(o, MODE_TOP)))
				return rc;
			break;
		case OPT_INTERVAL:
			if ((rc = top_parse_interval(arg, &o->interval_ms)))
				return rc;
			break;
		case 'l':
			o->log_level = cli_log_level("--log-level", arg);
			if (o->log_level < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			cli_print_version();
			return EXIT_OK;
		default: /* '?' unknown option, ':' missing value */
			return cli_getopt_error(opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"",
				       argv[optind]);
	if (o->interval_ms && o->mode != MODE_TOP)
		return cli_usage_error("--interval goes with --top");
	return -1;
}

/* stdin a connected socket: inetd; a listening one: systemd Accept=no. */
static enum mode mode_from_stdin(bool *listening)
{
	struct stat st;
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	*listening = false;
	if (fstat(0, &st) || !S_ISSOCK(st.st_mode))
		return MODE_AUTO;
	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 &&
	    accepting)
		*listening = true;
	return *listening ? MODE_LISTEN : MODE_INETD;
}

static int write_stdout(const struct scrape_config *cfg)
{
	char err[ERR_LEN];
	struct buf out = { 0 };
	int rc = EXIT_OK;

	if (scrape(cfg, EXPO_TEXT, &out, err, sizeof(err))) {
		rc = EXIT_RUNTIME;
	} else if (write_all(1, out.data, out.len)) {
		log_error("cannot write to standard output: %s", strerror(errno));
		rc = EXIT_RUNTIME;
	}
	buf_free(&out);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = {
		.mode = MODE_AUTO,
		.log_level = LOG_INFO,
		.scrape.pin_root = TEXPORTER_DEFAULT_PIN_ROOT,
	};
	bool stdin_listening = false;
	int rc;

	cli_init(PROG);
	rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		goto out;
	log_init(PROG, (enum log_level)o.log_level);
	log_route_libbpf();

	if (o.mode == MODE_AUTO)
		o.mode = mode_from_stdin(&stdin_listening);
	switch (o.mode) {
	case MODE_INETD:
		rc = serve_inetd(&o.scrape);
		break;
	case MODE_LISTEN:
		rc = stdin_listening ? serve_listen_fd(0, &o.scrape)
				     : serve_listen(o.listen, &o.scrape);
		break;
	case MODE_TEXTFILE:
		rc = textfile_write(o.textfile, &o.scrape);
		break;
	case MODE_TOP:
		rc = top_run(&o.scrape, o.interval_ms ? o.interval_ms
						      : TOP_DEFAULT_INTERVAL_MS);
		break;
	case MODE_AUTO:
		rc = write_stdout(&o.scrape);
		break;
	}
out:
	free(o.scrape.ifnames);
	return rc;
}
