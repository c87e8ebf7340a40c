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
#include <unistd.h>

#define PROG "texporter-read"

enum mode {
	MODE_AUTO, /* stdout, or HTTP when stdin is a socket */
	MODE_INETD,
	MODE_LISTEN,
	MODE_SYSTEMD, /* --web.systemd-socket */
	MODE_TEXTFILE,
	MODE_TOP,
	MODE_UNMATCHED, /* --unmatched */
};

struct options {
	enum mode mode;
	const char **listen; /* --listen, --web.listen-address */
	size_t n_listen;
	const char *textfile;
	int64_t interval_ms; /* --top; 0 until --interval */
	int log_level;
	struct scrape_config scrape;
};

enum long_only {
	OPT_PIN_ROOT = 256,
	OPT_INETD,
	OPT_LISTEN,
	OPT_PORT,
	OPT_TEXTFILE,
	OPT_WEB_CONFIG,
	OPT_WEB_LISTEN,
	OPT_WEB_TELEMETRY,
	OPT_WEB_SYSTEMD,
	OPT_MAX_REQUESTS,
	OPT_MAX_PER_SOURCE,
	OPT_TOP,
	OPT_INTERVAL,
	OPT_UNMATCHED,
	OPT_TOP_UNMATCHED,
};

static const struct option long_options[] = {
	{ "pin-root", required_argument, NULL, OPT_PIN_ROOT },
	{ "interface-name", required_argument, NULL, 'i' },
	{ "interface", required_argument, NULL, 'i' },
	{ "inetd", no_argument, NULL, OPT_INETD },
	{ "listen", optional_argument, NULL, OPT_LISTEN },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "textfile", required_argument, NULL, OPT_TEXTFILE },
	{ "web.config.file", required_argument, NULL, OPT_WEB_CONFIG },
	{ "web.listen-address", required_argument, NULL, OPT_WEB_LISTEN },
	{ "web.telemetry-path", required_argument, NULL, OPT_WEB_TELEMETRY },
	{ "web.systemd-socket", no_argument, NULL, OPT_WEB_SYSTEMD },
	{ "web.max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
	{ "web.max-connections-per-source", required_argument, NULL,
	  OPT_MAX_PER_SOURCE },
	{ "top", no_argument, NULL, OPT_TOP },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "unmatched", no_argument, NULL, OPT_UNMATCHED },
	{ "top-unmatched", required_argument, NULL, OPT_TOP_UNMATCHED },
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
"                            IPv6 in brackets: [::1]:2112); repeatable;\n"
"                            alias --web.listen-address\n"
"      --port N              the original texporter's flag: --listen :N\n"
"      --web.systemd-socket  take the socket from systemd (LISTEN_FDS, or a\n"
"                            socket on stdin): a listening one is served\n"
"                            until SIGTERM, a connected one answered once\n"
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
"      --unmatched           the unmatched prefixes texporter-load tracked\n"
"                            (--unmatched-prefix-len), biggest first per\n"
"                            interface, family and side, with their share of\n"
"                            the unmatched range: a tab-separated table\n"
"      --top-unmatched K     export the K biggest unmatched prefixes per\n"
"                            (interface, family, side) as metrics, and show\n"
"                            them in --top (default 10, at most 10000; 0: none)\n"
"HTTP serves GET and HEAD on /metrics (text format 0.0.4, or OpenMetrics\n"
"1.0 when Accept prefers it; gzip when Accept-Encoding allows it) and a\n"
"landing page on /.\n"
"      --web.telemetry-path PATH  serve the metrics on PATH (default /metrics)\n"
"      --web.config.file FILE  TLS, client certificates, basic auth and\n"
"                            headers, in exporter-toolkit's web config\n"
"                            format; read again for each connection\n"
"      --web.max-requests N  answer at most N /metrics requests at once in\n"
"                            --listen mode, 503 beyond (default 40; 0: no\n"
"                            limit); requests within 0.5 s share one scrape\n"
"      --web.max-connections-per-source N  close connections beyond N open\n"
"                            ones from one client address (default 64; 0:\n"
"                            no limit)\n"
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
"2 usage error or unusable --web.config.file.\n");
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
	    (mode == MODE_UNMATCHED || o->mode == MODE_UNMATCHED))
		return cli_usage_error("--unmatched excludes --top, --inetd, "
				       "--listen and --textfile");
	if (o->mode != MODE_AUTO && o->mode != mode &&
	    (mode == MODE_TOP || o->mode == MODE_TOP))
		return cli_usage_error("--top excludes --inetd, --listen and "
				       "--textfile");
	if (o->mode != MODE_AUTO && o->mode != mode)
		return cli_usage_error("--inetd, --listen, --web.systemd-socket "
				       "and --textfile exclude each other");
	o->mode = mode;
	return 0;
}

static int add_listen(struct options *o, const char *flag, const char *addr)
{
	char err[ERR_LEN];
	const char **grown;
	int rc;

	if ((rc = set_mode(o, MODE_LISTEN)))
		return rc;
	if (listen_addr_check(addr, err, sizeof(err)))
		return cli_bad_value(flag, addr, "%s", err);
	grown = realloc(o->listen, (o->n_listen + 1) * sizeof(*grown));
	if (!grown) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_RUNTIME;
	}
	o->listen = grown;
	o->listen[o->n_listen++] = addr;
	return 0;
}

/* A path for the landing page's link and the request line: no characters
 * HTML or HTTP would read. */
static int set_telemetry_path(struct options *o, const char *path)
{
	if (path[0] != '/' || strlen(path) > 255 ||
	    strpbrk(path, "\"'<>&?# \\"))
		return cli_bad_value("--web.telemetry-path", path,
				     "use a path starting with '/', without "
				     "spaces, quotes, <, >, &, ? or #");
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			return cli_bad_value("--web.telemetry-path", path,
					     "control characters are not "
					     "allowed");
	o->scrape.metrics_path = path;
	return 0;
}

/* Returns -1 to go on, or the exit code (help, version, usage errors). */
static int parse_options(int argc, char **argv, struct options *o)
{
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
			/* "--listen ADDR" as well as "--listen=ADDR"; bare
			 * "--listen" means :2112. */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				arg = argv[optind++];
			if ((rc = add_listen(o, "--listen", arg)))
				return rc;
			break;
		case OPT_WEB_LISTEN:
			if ((rc = add_listen(o, "--web.listen-address", arg)))
				return rc;
			break;
		case OPT_PORT: {
			/* A bare port is a listen address of its own: every
			 * address, that port. */
			unsigned port;

			if (cli_parse_uint("--port", arg, 65535, &port))
				return EXIT_USAGE;
			if ((rc = add_listen(o, "--port", arg)))
				return rc;
			break;
		}
		case OPT_WEB_SYSTEMD:
			if ((rc = set_mode(o, MODE_SYSTEMD)))
				return rc;
			break;
		case OPT_WEB_TELEMETRY:
			if ((rc = set_telemetry_path(o, arg)))
				return rc;
			break;
		case OPT_WEB_CONFIG:
			if (!*arg)
				return cli_usage_error("--web.config.file needs "
						       "a value");
			o->scrape.web_config_file = arg;
			break;
		case OPT_TEXTFILE:
			if ((rc = set_mode(o, MODE_TEXTFILE)))
				return rc;
			if (!*arg)
				return cli_usage_error("--textfile needs a value");
			o->textfile = arg;
			break;
		case OPT_MAX_REQUESTS:
			if (cli_parse_uint("--web.max-requests", arg, 1000000,
					   &serve_limits.max_requests))
				return EXIT_USAGE;
			break;
		case OPT_MAX_PER_SOURCE:
			if (cli_parse_uint("--web.max-connections-per-source",
					   arg, 1000000,
					   &serve_limits.max_per_source))
				return EXIT_USAGE;
			break;
		case OPT_TOP:
			if ((rc = set_mode(o, MODE_TOP)))
				return rc;
			break;
		case OPT_UNMATCHED:
			if ((rc = set_mode(o, MODE_UNMATCHED)))
				return rc;
			break;
		case OPT_TOP_UNMATCHED:
			if ((rc = cli_parse_uint("--top-unmatched", arg, TOP_UNMATCHED_MAX,
						 &o->scrape.top_unmatched)))
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

/* Whether FD is a listening socket. */
static bool socket_listening(int fd)
{
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) ==
		       0 && accepting;
}

/* stdin a connected socket: inetd; a listening one: systemd Accept=no. */
static enum mode mode_from_stdin(bool *listening)
{
	struct stat st;

	*listening = false;
	if (fstat(0, &st) || !S_ISSOCK(st.st_mode))
		return MODE_AUTO;
	*listening = socket_listening(0);
	return *listening ? MODE_LISTEN : MODE_INETD;
}

/* Whether --web.systemd-socket would serve a listening socket. */
static bool systemd_listening(void)
{
	return socket_listening(systemd_sockets() ? SD_LISTEN_FDS_START : 0);
}

/* --web.systemd-socket: the sockets of LISTEN_FDS, else the one on stdin
 * (StandardInput=socket). A connected socket is one inetd-style request. */
static int serve_systemd(const struct scrape_config *cfg)
{
	int fds[8], n = systemd_sockets();
	bool listening;

	if (n == 0) {
		if (mode_from_stdin(&listening) == MODE_AUTO) {
			log_error("--web.systemd-socket: systemd passed no socket "
				  "(LISTEN_FDS unset, stdin not a socket); run "
				  "from a .socket unit or use --listen");
			return EXIT_USAGE;
		}
		return listening ? serve_listen_fds((int[]){ 0 }, 1, cfg)
				 : serve_inetd(cfg);
	}
	if (!socket_listening(SD_LISTEN_FDS_START)) {
		/* Accept=yes: the connection is the one passed socket. */
		dup2(SD_LISTEN_FDS_START, 0);
		dup2(SD_LISTEN_FDS_START, 1);
		close(SD_LISTEN_FDS_START);
		return serve_inetd(cfg);
	}
	for (int i = 0; i < n && i < (int)(sizeof(fds) / sizeof(fds[0])); i++)
		fds[i] = SD_LISTEN_FDS_START + i;
	return serve_listen_fds(fds, (size_t)n, cfg);
}

/* A server checks its web configuration once at start: an unusable one
 * is a usage error (exit 2) before any client connects. One request
 * (inetd) answers 500 instead, where the scraper sees it. */
static int web_config_check_at_start(const struct options *o, bool server)
{
	struct web_config w;
	char err[ERR_LEN];
	int rc;

	if (!o->scrape.web_config_file)
		return 0;
	if (o->mode == MODE_AUTO || o->mode == MODE_TEXTFILE)
		return cli_usage_error("--web.config.file applies to HTTP only "
				       "(--inetd, --listen, --web.systemd-socket "
				       "or a socket on stdin)");
	if (!server)
		return 0;
	rc = web_config_load(o->scrape.web_config_file, &w, err, sizeof(err));
	if (!rc) {
		rc = tls_check(&w, err, sizeof(err));
		web_config_free(&w);
	}
	if (rc)
		log_error("--web.config.file: %s", err);
	return rc ? EXIT_USAGE : 0;
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
		.scrape.top_unmatched = TOP_UNMATCHED_DEFAULT,
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
	rc = web_config_check_at_start(&o, o.mode == MODE_LISTEN ||
					   (o.mode == MODE_SYSTEMD &&
					    systemd_listening()));
	if (rc)
		goto out;
	switch (o.mode) {
	case MODE_INETD:
		rc = serve_inetd(&o.scrape);
		break;
	case MODE_LISTEN:
		rc = stdin_listening ? serve_listen_fds((int[]){ 0 }, 1, &o.scrape)
				     : serve_listen(o.listen, o.n_listen,
						    &o.scrape);
		break;
	case MODE_SYSTEMD:
		rc = serve_systemd(&o.scrape);
		break;
	case MODE_TEXTFILE:
		rc = textfile_write(o.textfile, &o.scrape);
		break;
	case MODE_TOP:
		rc = top_run(&o.scrape, o.interval_ms ? o.interval_ms
						      : TOP_DEFAULT_INTERVAL_MS);
		break;
	case MODE_UNMATCHED:
		rc = unmatched_table_run(&o.scrape);
		break;
	case MODE_AUTO:
		rc = write_stdout(&o.scrape);
		break;
	}
out:
	free(o.scrape.ifnames);
	free(o.listen);
	return rc;
}
