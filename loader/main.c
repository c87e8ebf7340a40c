// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-load: validates a range config, loads the texporter programs and
 * attaches them to each interface -i selects (XDP or TC ingress, TC
 * egress), pins the maps and links under --pin-root/<iface>/, and exits.
 * Run again, it reloads; --detach removes everything; --status describes;
 * --check only validates the config and builds its range table in user
 * space. Every interface is handled as if it were the only one: its own
 * load, its own pins, its own line of output.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "counters.h"
#include "load.h"
#include "log.h"
#include "select.h"
#include "trie.h"

#define DEFAULT_CONFIG "/etc/texporter/config.json"

enum action { ACTION_LOAD, ACTION_DETACH, ACTION_STATUS, ACTION_CHECK };

enum long_only {
	OPT_PIN_ROOT = 256,
	OPT_INGRESS,
	OPT_XDP_MODE,
	OPT_TC_MODE,
	OPT_GROUP,
	OPT_UNMATCHED,
	OPT_DETACH,
	OPT_CHECK,
	OPT_STATUS,
	OPT_ALLOW_MISSING,
	OPT_UNMATCHED_LEN,
	OPT_UNMATCHED_ENTRIES,
	OPT_COUNTER_SLOTS,
};

static const struct option long_options[] = {
	{ "interface-name", required_argument, NULL, 'i' },
	{ "interface", required_argument, NULL, 'i' },
	{ "ip-ranges-filename", required_argument, NULL, 'f' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "pin-root", required_argument, NULL, OPT_PIN_ROOT },
	{ "ingress", required_argument, NULL, OPT_INGRESS },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "tc-mode", required_argument, NULL, OPT_TC_MODE },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "unmatched-name", required_argument, NULL, OPT_UNMATCHED },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
	{ "unmatched-prefix-len", required_argument, NULL, OPT_UNMATCHED_LEN },
	{ "unmatched-entries", required_argument, NULL, OPT_UNMATCHED_ENTRIES },
	{ "counter-slots", required_argument, NULL, OPT_COUNTER_SLOTS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: texporter-load -i IFACE... [-f CONFIG] [OPTIONS]   load, or reload if loaded\n"
		"       texporter-load -i IFACE... --detach                remove everything of IFACE\n"
		"       texporter-load --status [-i IFACE]...              describe what is loaded\n"
		"       texporter-load --check [-f CONFIG] [--counter-slots N]  validate a config only\n"
		"\n"
		"Counts IPv4/IPv6 traffic of IFACE by named address ranges in the kernel,\n"
		"for texporter-read to export. Pins maps and links under PIN_ROOT/IFACE/ and exits.\n"
		"\n"
		"  -i, --interface-name IFACE   interface to count on (alias --interface); repeatable,\n"
		"                               and a shell pattern ('eth*', 'ens[0-9]*'): a load\n"
		"                               matches the interfaces present, --detach and --status\n"
		"                               those loaded; each match is handled on its own\n"
		"      --allow-missing          a -i that matches nothing is skipped, not an error\n"
		"  -f, --ip-ranges-filename F   range config (default %s)\n"
		"  -l, --log-level LEVEL        trace|debug|info|warn|error|fatal|panic (default info)\n"
		"      --pin-root DIR           where pins live (default %s)\n"
		"      --ingress xdp|tc         ingress hook (default xdp)\n"
		"      --xdp-mode auto|native|generic   XDP mode (default auto: native, else generic)\n"
		"      --tc-mode auto|tcx|legacy        TC attach (default auto: tcx, else legacy clsact)\n"
		"      --group NAME|GID         group allowed to read the pins (default texporter if it exists)\n"
		"      --unmatched-name NAME    range name for unmatched addresses (default other)\n"
		"      --unmatched-prefix-len V4,V6  count unmatched addresses also per prefix of\n"
		"                               these lengths (default 24,48)\n"
		"      --unmatched-entries N    prefixes tracked per interface (default 4096; 0 = off);\n"
		"                               beyond, unmatched traffic is counted as untracked\n"
		"      --counter-slots N        per-CPU counter slots (default 0: one per range pair\n"
		"                               while all CPUs' slots fit 32 MiB, else fewer, at\n"
		"                               least 4096); pairs without a slot are counted in a\n"
		"                               map all CPUs share\n"
		"      --detach                 remove attachments and pins of IFACE\n"
		"      --status                 show attachments, map fill and data-plane errors\n"
		"      --check                  validate the config and build its range table;\n"
		"                               needs no privileges\n"
		"  -h, --help                   this text\n"
		"  -V, --version                version\n"
		"\n"
		"Exit status: 0 done, 1 runtime failure, 2 usage or config error.\n",
		DEFAULT_CONFIG, TEXPORTER_DEFAULT_PIN_ROOT);
}

struct cmdline {
	struct load_options o;
	enum action action;
	const char *action_flag;
	int level;
	const char **patterns; /* every -i, in order */
	size_t n_patterns;
	bool allow_missing;
};

/* --detach, --check and --status exclude each other: which one would be
 * meant is not ours to guess. */
static int set_action(struct cmdline *c, enum action action, const char *flag)
{
	if (c->action_flag && c->action != action) {
		cli_usage_error("%s and %s cannot be combined", c->action_flag, flag);
		return -1;
	}
	c->action = action;
	c->action_flag = flag;
	return 0;
}

static const char *const ingress_choices[] = { "xdp", "tc", NULL };
static const char *const xdp_choices[] = { "auto", "native", "generic", NULL };
static const char *const tc_choices[] = { "auto", "tcx", "legacy", NULL };

static int add_pattern(struct cmdline *c, const char *pattern)
{
	const char **grown;

	if (select_check_pattern("--interface-name", pattern))
		return -1;
	grown = realloc(c->patterns, (c->n_patterns + 1) * sizeof(*grown));
	if (!grown) {
		log_error("cannot hold another -i %s: %s", pattern, strerror(errno));
		return -1;
	}
	c->patterns = grown;
	c->patterns[c->n_patterns++] = pattern;
	return 0;
}

/* Takes one option getopt_long returned; -1 after a usage error. */
static int parse_option(struct cmdline *c, int opt, const char *arg)
{
	int v = 0;

	switch (opt) {
	case 'i': v = add_pattern(c, arg); break;
	case 'f': c->o.config_path = arg; break;
	case 'l': v = c->level = cli_log_level("--log-level", arg); break;
	case OPT_PIN_ROOT: c->o.pin_root = arg; break;
	case OPT_GROUP: c->o.group = arg; break;
	case OPT_UNMATCHED: c->o.unmatched = arg; break;
	case OPT_DETACH: v = set_action(c, ACTION_DETACH, "--detach"); break;
	case OPT_CHECK: v = set_action(c, ACTION_CHECK, "--check"); break;
	case OPT_STATUS: v = set_action(c, ACTION_STATUS, "--status"); break;
	case OPT_ALLOW_MISSING: c->allow_missing = true; break;
	case OPT_UNMATCHED_LEN: v = -unmatched_parse_lengths(arg, &c->o.discovery); break;
	case OPT_UNMATCHED_ENTRIES: v = -unmatched_parse_entries(arg, &c->o.discovery); break;
	case OPT_COUNTER_SLOTS: v = -counters_parse_slots(arg, &c->o.counter_slots); break;
	case OPT_INGRESS:
		v = cli_choice("--ingress", arg, ingress_choices);
		c->o.attach.ingress = (enum ingress_hook)v;
		break;
	case OPT_XDP_MODE:
		v = cli_choice("--xdp-mode", arg, xdp_choices);
		c->o.attach.xdp_mode = (enum xdp_mode)v;
		break;
	case OPT_TC_MODE:
		v = cli_choice("--tc-mode", arg, tc_choices);
		c->o.attach.tc_mode = (enum tc_mode)v;
		break;
	}
	return v < 0 ? -1 : 0;
}

/* Validates the config and builds its range table, as a load would, so
 * that a config --check accepts is one the loader can load. */
static int check_run(const struct load_options *o)
{
	struct config cfg;
	struct trie trie;
	uint32_t *ids;
	int rc = EXIT_OK;

	if (config_load(o->config_path, &cfg))
		return EXIT_USAGE;
	if (config_check_unmatched_name(&cfg, o->config_path, o->unmatched)) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	/* Ids do not change the table's shape: number the ranges in order. */
	ids = malloc((cfg.n_ranges + 1) * sizeof(*ids));
	if (!ids) {
		log_error("%s: %s", o->config_path, strerror(errno));
		config_free(&cfg);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < cfg.n_ranges; i++)
		ids[i] = (uint32_t)i + 1;
	if (trie_build(&trie, &cfg, ids, trie_choose_layout(&cfg))) {
		int err = errno;

		log_error("%s: cannot build the range table: %s", o->config_path, trie_strerror(err));
		rc = err == E2BIG ? EXIT_USAGE : EXIT_RUNTIME;
	} else {
		printf("%s: ok: %zu ranges, %zu IPv4 + %zu IPv6 prefixes; range table %zu KiB\n",
		       o->config_path, cfg.n_ranges, cfg.prefixes_per_family[TEXPORTER_IPV4],
		       cfg.prefixes_per_family[TEXPORTER_IPV6],
		       trie.used * sizeof(*trie.entries) / 1024);
		counters_report(cfg.n_ranges, o->counter_slots);
		trie_free(&trie);
	}
	free(ids);
	config_free(&cfg);
	return rc;
}

static int need_root(void)
{
	if (geteuid() == 0)
		return 0;
	log_error("this needs root (CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN); --check and --help do not");
	return -1;
}

/* One load in a process of its own: it ends as a one-shot load always has
 * (what it holds, the pin root's lock among it, goes with the process), so
 * the next interface starts from nothing. */
static int load_in_child(const struct load_options *o)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		log_error("%s: cannot fork a loader: %s", o->ifname, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (pid == 0)
		exit(load_run(o));
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_error("%s: lost the loader: %s", o->ifname, strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	log_error("%s: the loader died of signal %d", o->ifname, WTERMSIG(status));
	return EXIT_RUNTIME;
}

static int run_one(const struct cmdline *c, const char *ifname, bool alone)
{
	struct load_options o = c->o;

	o.ifname = ifname;
	switch (c->action) {
	case ACTION_DETACH:
		return detach_run(&o);
	case ACTION_STATUS:
		return status_run(&o);
	default:
		return alone ? load_run(&o) : load_in_child(&o);
	}
}

/* Each selected interface in turn; the exit status is the worst of them. A
 * usage or config error (the same for every interface, and found before
 * anything changed) stops before the next one. */
static int run_selected(const struct cmdline *c)
{
	struct select_request r = {
		.patterns = c->patterns,
		.n_patterns = c->n_patterns,
		.among = c->action == ACTION_LOAD ? SELECT_PRESENT : SELECT_LOADED,
		.pin_root = c->o.pin_root,
		.allow_missing = c->allow_missing,
		.keep_missing_names = c->action == ACTION_DETACH,
	};
	struct selection s;
	int rc = select_interfaces(&r, &s);

	for (size_t i = 0; i < s.n && rc != EXIT_USAGE; i++) {
		int one = run_one(c, s.names[i], s.n == 1);

		rc = one > rc ? one : rc;
	}
	selection_free(&s);
	return rc;
}

/* Everything main does, so that main can free what parsing kept. */
static int run(struct cmdline *c, int argc, char **argv)
{
	int opt;

	opterr = 0; /* our own messages, in our format */
	while ((opt = getopt_long(argc, argv, ":i:f:l:hV", long_options, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (opt == 'V') {
			cli_print_version();
			return EXIT_OK;
		}
		if (opt == '?' || opt == ':')
			return cli_getopt_error(opt, argv);
		if (parse_option(c, opt, optarg))
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument \"%s\"", argv[optind]);
	log_init("texporter-load", (enum log_level)c->level);
	if (c->action == ACTION_CHECK)
		return check_run(&c->o);
	if (c->action != ACTION_STATUS && !c->n_patterns)
		return cli_usage_error("no interface given: pass -i IFACE");
	if (need_root())
		return EXIT_RUNTIME;
	return c->n_patterns ? run_selected(c) : status_run(&c->o);
}

int main(int argc, char **argv)
{
	struct cmdline c = {
		.o = { .config_path = DEFAULT_CONFIG, .pin_root = TEXPORTER_DEFAULT_PIN_ROOT,
		       .unmatched = "other", .discovery = UNMATCHED_OPTIONS_DEFAULT },
		.level = LOG_INFO,
	};
	int rc;

	cli_init("texporter-load");
	rc = run(&c, argc, argv);
	free(c.patterns);
	return rc;
}
