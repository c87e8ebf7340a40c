/* SPDX-License-Identifier: Apache-2.0 */
/* Logging of texporter-load and texporter-read: one line per message on
 * stderr, "PROGRAM: LEVEL: text", filtered by --log-level. The levels are
 * the original texporter's; fatal and panic only raise the threshold. */
#ifndef TEXPORTER_LOG_H
#define TEXPORTER_LOG_H

enum log_level {
	LOG_TRACE,
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL,
	LOG_PANIC,
};

void log_init(const char *progname, enum log_level level);
/* Parses trace|debug|info|warn|warning|error|fatal|panic; -1 if unknown. */
int log_level_parse(const char *text);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Routes libbpf's messages (the verifier's log among them) through these
 * levels: libbpf warnings as warn, info as debug, debug as trace. */
void log_route_libbpf(void);
/* While muted, libbpf's messages are dropped: for probes whose failure is
 * an expected answer, not a problem. */
void log_mute_libbpf(int muted);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif /* TEXPORTER_LOG_H */
