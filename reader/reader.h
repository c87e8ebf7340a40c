/* SPDX-License-Identifier: Apache-2.0 */
/*
 * texporter-read internals, one section per source file. main.c reads
 * top-down: options -> one of the modes (stdout, textfile, inetd, listen),
 * each of which calls scrape() = snapshot_read() + expo_render().
 */
#ifndef TEXPORTER_READER_H
#define TEXPORTER_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "texporter.h"
#include "webconfig.h"

/* Room for a failure message that names the object, the cause and the fix. */
#define ERR_LEN 1024

/* ---- buf.c: one growable byte buffer; the exposition is rendered into one */

struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; later appends are dropped */
};

void buf_free(struct buf *b);
/* Makes room for extra more bytes; false (and b->failed) if out of memory. */
bool buf_reserve(struct buf *b, size_t extra);
void buf_add_u64(struct buf *b, uint64_t value);
/* Appends a label value escaped per the text format (\\, \", \n); bytes
 * that are not valid UTF-8 become U+FFFD so a scrape never breaks. */
void buf_add_label_value(struct buf *b, const char *text, size_t len);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes all of data to fd (a file, pipe or terminal); -1 with errno. */
int write_all(int fd, const void *data, size_t len);

static inline void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->cap - b->len < len && !buf_reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static inline void buf_add_str(struct buf *b, const char *text)
{
	buf_add(b, text, strlen(text));
}

/* Writes value in decimal at out (room for 20 bytes); returns the length. */
static inline size_t format_u64(char *out, uint64_t value)
{
	char digits[20];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	memcpy(out, digits + n, sizeof(digits) - n);
	return sizeof(digits) - n;
}

/* ---- clock (scrape.c) */

int64_t now_ms(void);
int64_t now_ns(void);

/* ---- snapshot.c: walk the pin root, open pins read-only, read a consistent
 * snapshot of each interface (meta.seq is a seqlock written by the loader).
 * One interface that cannot be read is left out of the scrape, with the
 * reason; the others are served. */

/* The unmatched prefixes of one interface (unmatched.c). */
struct unmatched_prefix {
	struct texporter_unmatched_key key;
	uint64_t bytes, packets;
};

struct unmatched_snapshot {
	bool present; /* the interface has the unmatched pin */
	struct unmatched_prefix *prefixes; /* tracked ones that counted, sorted by
					    * family, side, bytes down */
	size_t count;
	struct texporter_counter untracked[TEXPORTER_FAMILY_COUNT][TEXPORTER_SIDE_COUNT];
};

struct iface_snapshot {
	char dir[256];   /* directory name under the pin root */
	char label[256]; /* iface label: meta.ifname, or dir if that is empty
			  * or the interface could not be read */
	bool up;         /* its pins were read; else down_reason says why */
	const char *down_reason; /* texporter_read_error_info reason label */
	char *error;     /* the message that was logged, when down */
	bool ingress_live, egress_live; /* the interface exists and the hook
					 * shows a program (as far as an
					 * unprivileged process can tell) */
	bool saturated;  /* a sum reached 2^64-1 */
	struct texporter_meta meta;
	struct texporter_name *names;       /* meta.capacity entries */
	struct texporter_counter *counters; /* texporter_counter_slots(capacity)
					     * per-pair totals: slots of all
					     * CPUs, shared and carry added;
					     * only pairs of named ids */
	uint64_t errors[TEXPORTER_ERR_COUNT];
	__u32 slots;           /* per-CPU slots of the counters map */
	uint64_t slots_used;   /* slots held on at least one CPU by a pair
				* of named ids */
	uint64_t shared_pairs; /* pairs of named ids with counts in the
				* shared map */
	struct unmatched_snapshot unmatched;
};

struct pins_snapshot {
	struct iface_snapshot *ifaces; /* sorted by label */
	size_t count;
	unsigned top_unmatched; /* scrape_config's, for the exposition */
};

struct scrape_config {
	const char *pin_root;
	char **ifnames; /* -i, deduplicated; NULL/0 = every loaded interface */
	size_t n_ifnames;
	/* HTTP modes only */
	const char *metrics_path;    /* --web.telemetry-path, "/metrics" */
	const char *web_config_file; /* --web.config.file, read for each
				      * connection; NULL = plain HTTP */
	unsigned top_unmatched; /* --top-unmatched: prefixes per (iface,
				 * family, side) in the metrics */
};

/* Fills snap. Interfaces that cannot be read are in it with up false. On
 * failure (the pin root unreachable, or no interface readable at all)
 * returns -1 with the reason (path, cause, fix) in err. */
int snapshot_read(const struct scrape_config *cfg, struct pins_snapshot *snap,
	      char *err, size_t errlen);
void snapshot_free(struct pins_snapshot *snap);
/* errno E says the kernel does not do batch lookups on this map: read
 * it a key at a time. */
bool batch_refused(int e);

/* qsort_r order of ids by their name in the names array ARG, then by id. */
int names_cmp_ids(const void *a, const void *b, void *arg);

/* ---- unmatched.c: the unmatched prefixes of an interface */

#define TOP_UNMATCHED_DEFAULT 10
#define TOP_UNMATCHED_MAX 10000

extern const char *const unmatched_side_names[TEXPORTER_SIDE_COUNT];

/* Reads DIR_PATH's unmatched pin (DIR names it in messages) into U, the
 * previous contents freed. No pin is no prefixes (present false). 0, or
 * -1 with the reason in ERR. */
int unmatched_read(const char *dir_path, const char *dir, struct unmatched_snapshot *u,
		   bool *saturated, char *err, size_t errlen);
void unmatched_free(struct unmatched_snapshot *u);
/* The prefixes of (FAMILY, SIDE), biggest first: their number, and the
 * index of the first in *FIRST. */
size_t unmatched_group(const struct unmatched_snapshot *u, int family, int side, size_t *first);
/* P's prefix as CIDR text ("198.51.100.0/24"); CIDR_STRLEN bytes suffice. */
void unmatched_format(const struct unmatched_prefix *p, char *buf, size_t len);
/* texporter-read --unmatched: the table on standard output; the exit code. */
int unmatched_table_run(const struct scrape_config *cfg);

/* ---- expo.c: render the exposition */

enum expo_format {
	EXPO_TEXT,        /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* Appends every metric family, sorted, to out. started_ns (now_ns() when
 * the scrape began) gives texporter_scrape_duration_seconds. */
void expo_render(const struct pins_snapshot *snap, enum expo_format format,
		 int64_t started_ns, struct buf *out);

/* ---- scrape.c */

/* Reads the pins and renders them into out. On failure returns -1, logs
 * the reason and leaves it in err (the 503 body). */
int scrape(const struct scrape_config *cfg, enum expo_format format,
	   struct buf *out, char *err, size_t errlen);

/* ---- gzip.c */

/* Compresses in into out as one gzip member, in a single deflate pass. */
int gzip_compress(const struct buf *in, struct buf *out);

/* ---- cache.c: the exposition shared by concurrent HTTP requests */

struct shared_body;

/* A reference to the render of FORMAT (gzip-compressed when GZIP and
 * that works: *GZIPPED says), made by this call or shared with requests
 * of the last moments. NULL with the reason in ERR if the scrape failed. */
struct shared_body *exposition_get(const struct scrape_config *cfg,
				   enum expo_format format, bool gzip,
				   bool *gzipped, char *err, size_t errlen);
const struct buf *exposition_buf(const struct shared_body *b);
void exposition_put(struct shared_body *b);
/* Responses that hold a render now (the concurrent scrapes). */
unsigned exposition_in_flight(void);
/* Lets go of renders that are too old to share (all, at INT64_MAX). */
void exposition_expire(int64_t now);
/* When exposition_expire() next has something to do (INT64_MAX: never). */
int64_t exposition_next_expiry(void);

/* ---- http.c: parse one request with hard limits, build its response */

#define HTTP_MAX_HEAD 8192            /* request line + headers */
#define HTTP_REQUEST_TIMEOUT_MS 5000  /* whole request, from accept */
#define HTTP_RESPONSE_TIMEOUT_MS 10000 /* writing the response */
#define HTTP_LINGER_MS 1000           /* draining a client we cut short */

enum http_method { HTTP_GET, HTTP_HEAD };

struct http_request {
	enum http_method method;
	const char *path; /* into the request buffer, query stripped */
	size_t path_len;
	bool openmetrics; /* Accept prefers OpenMetrics */
	bool gzip;        /* Accept-Encoding allows gzip */
	const char *authorization; /* the Authorization value, or NULL */
	size_t authorization_len;
};

/* Scans the head received so far (data[0..len), *scanned bytes of it seen
 * before). Returns 0 if more is needed, 200 when the request is complete
 * and parsed into req, or the status to answer with: 400, 405, 414, 431. */
int http_parse(const char *data, size_t len, size_t *scanned,
	       struct http_request *req);

struct http_response {
	int status;
	char head[512 + WEBCONFIG_MAX_HEADER_BYTES];
	size_t head_len;
	struct buf body; /* a view of *shared's buffer when shared is set */
	struct shared_body *shared;
	bool send_body; /* false for HEAD */
};

/* Builds the answer to a parsed request (runs the scrape for /metrics). */
void http_respond(const struct http_request *req,
		  const struct scrape_config *cfg, struct http_response *resp);
/* Builds a bodied error answer (400, 401, 404, 405, 408, 414, 431, 500,
 * 503, ...). */
void http_respond_error(int status, const char *detail,
			struct http_response *resp);
/* Adds LINES ("Name: value\r\n"...) to a built response head. */
void http_add_header_lines(struct http_response *resp, const char *lines);
void http_response_free(struct http_response *resp);

/* ---- conn.c: one HTTP connection as a state machine with deadlines,
 * driven by poll() both for inetd (stdin/stdout) and --listen */

enum conn_state {
	CONN_HANDSHAKE, /* TLS, when the web configuration asks for it */
	CONN_READING,
	CONN_WRITING,
	CONN_LINGERING,
	CONN_DONE,
};

struct conn {
	int in_fd, out_fd;
	bool is_socket;
	enum conn_state state;
	int64_t deadline_ms;
	size_t req_len, scanned;
	size_t sent;
	size_t drained;
	bool cut_short; /* answered before the client finished sending */
	struct http_request req;
	struct http_response resp;
	/* --web.config.file, read when the client first speaks */
	bool web_loaded;
	struct web_config web;
	struct tls_session *tls;
	short tls_events; /* what the TLS session waits for; 0: the state's */
	char peer[64];
	char req_buf[HTTP_MAX_HEAD];
};

void conn_init(struct conn *c, int in_fd, int out_fd, int64_t now);
/* The descriptor and events to poll for in the current state. */
int conn_poll_fd(const struct conn *c, short *events);
/* Advances on readiness (revents) or on the clock passing the deadline. */
void conn_step(struct conn *c, short revents, int64_t now,
	       const struct scrape_config *cfg);
void conn_release(struct conn *c);
/* "1.2.3.4:80" or "[::1]:80" for an address from getpeername/getsockname. */
void sockaddr_describe(const void *ss, char *out, size_t len);
/* errno says "not now": try again after the next poll. */
bool errno_is_transient(void);

/* ---- serve.c */

/* Limits of the --listen server (flags of the same names). */
struct serve_limits {
	unsigned max_requests;   /* --web.max-requests: concurrent /metrics
				  * answers; more get 503; 0 = no limit */
	unsigned max_per_source; /* --web.max-connections-per-source: open
				  * connections from one address; 0 = none */
};

extern struct serve_limits serve_limits;

/* One request on stdin/stdout (inetd nowait, systemd Accept=yes). */
int serve_inetd(const struct scrape_config *cfg);
/* Foreground server on each "[ADDR]:PORT" until SIGTERM/SIGINT. */
int serve_listen(const char *const *addrs, size_t n_addrs,
		 const struct scrape_config *cfg);
/* Same, on inherited listening sockets (systemd Accept=no). */
int serve_listen_fds(const int *fds, size_t n, const struct scrape_config *cfg);
/* The first descriptor systemd passes sockets in (sd_listen_fds(3)). */
#define SD_LISTEN_FDS_START 3
/* How many sockets systemd passed to this process (LISTEN_PID and
 * LISTEN_FDS), from SD_LISTEN_FDS_START on; 0 if none. */
int systemd_sockets(void);
/* Checks the syntax of a --listen argument; -1 with the reason in err. */
int listen_addr_check(const char *addr, char *err, size_t errlen);

/* ---- textfile.c */

/* Writes the exposition to path atomically (temp file, fsync, rename). */
int textfile_write(const char *path, const struct scrape_config *cfg);

#endif /* TEXPORTER_READER_H */
