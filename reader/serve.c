// SPDX-License-Identifier: Apache-2.0
/*
 * Serving HTTP: one request on stdin/stdout (inetd nowait, systemd
 * Accept=yes), or a foreground server: one process, no threads, one
 * ppoll() over the listeners and every connection, each connection with
 * its own deadline (conn.c), clean exit on SIGTERM/SIGINT.
 *
 * The server's limits: MAX_CONNS connections at once (when full, the
 * longest-waiting connection that has not sent its request yet makes room
 * for a new one, so idle and slowloris clients cannot lock Prometheus
 * out); --web.max-connections-per-source per client address (more are
 * closed at once); --web.max-requests concurrent /metrics answers (more
 * get 503, http.c). Concurrent scrapes share one render (cache.c).
 */
#include "reader.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PORT "2112"
#define MAX_LISTENERS 8
/* 200 slow clients and a scrape must fit; each costs ~8.5 KiB while it
 * sends its request, and a reference to the shared render while it reads. */
#define MAX_CONNS 512
#define ACCEPT_PAUSE_MS 100 /* after EMFILE and the like */
/* Buffers this large get their own mapping, returned to the system when
 * freed: glibc's default threshold rises with every such free, after
 * which big renders would stay in the heap. */
#define MMAP_THRESHOLD_BYTES (256 * 1024)

struct serve_limits serve_limits = {
	.max_requests = 40, /* node_exporter's --web.max-requests default */
	/* Above max_requests: one Prometheus may scrape that often at once. */
	.max_per_source = 64,
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* ---- inetd */

/* Classic inetd hands the socket over as stderr too: a log line there
 * would land in the HTTP response. Send the logs nowhere instead. */
static void keep_logs_out_of_the_socket(void)
{
	struct stat in, err;
	int fd;

	if (fstat(0, &in) || fstat(2, &err) || in.st_dev != err.st_dev ||
	    in.st_ino != err.st_ino)
		return;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

int serve_inetd(const struct scrape_config *cfg)
{
	struct conn *c = malloc(sizeof(*c));
	int rc;

	if (!c) {
		log_error("out of memory");
		return EXIT_RUNTIME;
	}
	keep_logs_out_of_the_socket();
	signal(SIGPIPE, SIG_IGN);
	conn_init(c, 0, 1, now_ms());
	while (c->state != CONN_DONE) {
		struct pollfd p;
		int64_t wait = c->deadline_ms - now_ms();
		int n;

		p.fd = conn_poll_fd(c, &p.events);
		n = poll(&p, 1, wait < 0 ? 0 : (int)wait);
		if (n < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		conn_step(c, n > 0 ? p.revents : 0, now_ms(), cfg);
	}
	/* 500: the web configuration is unusable, a configuration error. */
	rc = c->resp.status == 503   ? EXIT_RUNTIME
	     : c->resp.status == 500 ? EXIT_USAGE
				     : EXIT_OK;
	conn_release(c);
	free(c);
	exposition_expire(INT64_MAX);
	return rc;
}

/* ---- --listen [ADDR]:PORT
 *
 * Addresses are numeric, or "localhost": nothing here goes through NSS
 * (getaddrinfo on a name), which a static binary cannot use on a host
 * without glibc's shared modules. A listener has no use for DNS anyway.
 */

#define LISTEN_MAX_ADDRS 2 /* localhost: 127.0.0.1 and ::1 */

struct listen_addr {
	char host[256]; /* as given; empty: every address, IPv6 and IPv4 */
	char port[8];
	/* What HOST names; none when it is empty. */
	struct sockaddr_storage addrs[LISTEN_MAX_ADDRS];
	socklen_t lens[LISTEN_MAX_ADDRS];
	size_t n_addrs;
};

static bool all_digits(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void listen_addr_add_v4(struct listen_addr *a, const struct in_addr *ip,
			       uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->addrs[a->n_addrs];

	*sin = (struct sockaddr_in){ .sin_family = AF_INET,
				     .sin_port = htons(port),
				     .sin_addr = *ip };
	a->lens[a->n_addrs++] = sizeof(*sin);
}

static void listen_addr_add_v6(struct listen_addr *a,
			       const struct in6_addr *ip, uint32_t scope,
			       uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->addrs[a->n_addrs];

	*sin6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
				       .sin6_port = htons(port),
				       .sin6_addr = *ip,
				       .sin6_scope_id = scope };
	a->lens[a->n_addrs++] = sizeof(*sin6);
}

/* An IPv6 address with an optional %ZONE (fe80::1%eth0: an interface name
 * or index), as getaddrinfo took it. */
static int listen_addr_parse_v6(struct listen_addr *a, uint16_t port,
				char *err, size_t errlen)
{
	char text[sizeof(a->host)], *zone;
	struct in6_addr ip6;
	uint32_t scope = 0;

	snprintf(text, sizeof(text), "%s", a->host);
	zone = strchr(text, '%');
	if (zone)
		*zone++ = '\0';
	if (inet_pton(AF_INET6, text, &ip6) != 1)
		return 1;
	if (zone) {
		scope = all_digits(zone, strlen(zone)) ? (uint32_t)atoi(zone)
						       : if_nametoindex(zone);
		if (!scope) {
			snprintf(err, errlen, "no interface \"%s\" for the "
				 "zone of %s", zone, text);
			return -1;
		}
	}
	listen_addr_add_v6(a, &ip6, scope, port);
	return 0;
}

/* The addresses HOST names: a numeric IPv4 or IPv6 address, or
 * "localhost", which is 127.0.0.1 and ::1 on every host. */
static int listen_addr_resolve(struct listen_addr *a, char *err,
			       size_t errlen)
{
	uint16_t port = (uint16_t)atoi(a->port);
	struct in_addr ip4;
	int rc;

	a->n_addrs = 0;
	if (!a->host[0])
		return 0;
	if (!strcasecmp(a->host, "localhost")) {
		ip4.s_addr = htonl(INADDR_LOOPBACK);
		listen_addr_add_v4(a, &ip4, port);
		listen_addr_add_v6(a, &in6addr_loopback, 0, port);
		return 0;
	}
	if (inet_pton(AF_INET, a->host, &ip4) == 1) {
		listen_addr_add_v4(a, &ip4, port);
		return 0;
	}
	rc = listen_addr_parse_v6(a, port, err, errlen);
	if (rc <= 0)
		return rc;
	snprintf(err, errlen, "\"%s\" is not a numeric address: texporter-read "
		 "resolves no host names but localhost; give an IPv4 address "
		 "(0.0.0.0:2112), an IPv6 one in brackets ([::1]:2112), or "
		 "just :PORT for every address", a->host);
	return -1;
}

/*
 * Accepted: ":PORT", "ADDR:PORT", "[IPV6]:PORT", "PORT", "ADDR", "[IPV6]",
 * "" (PORT defaults to 2112; port 0 picks a free one and logs it).
 */
static int listen_addr_parse(const char *text, struct listen_addr *a,
			     char *err, size_t errlen)
{
	const char *host = text, *port = NULL, *colon;
	size_t host_len;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || (close[1] && close[1] != ':')) {
			snprintf(err, errlen, "expected [IPV6]:PORT");
			return -1;
		}
		host = text + 1;
		host_len = (size_t)(close - host);
		port = close[1] ? close + 2 : NULL;
	} else if (all_digits(text, strlen(text))) {
		host_len = 0;
		port = text;
	} else {
		colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':')) {
			snprintf(err, errlen, "write an IPv6 address in "
				 "brackets, as [::1]:2112");
			return -1;
		}
		host_len = colon ? (size_t)(colon - text) : strlen(text);
		port = colon ? colon + 1 : NULL;
	}
	if (!port || !*port)
		port = DEFAULT_PORT;
	if (!all_digits(port, strlen(port)) || strlen(port) > 5 ||
	    atoi(port) > 65535) {
		snprintf(err, errlen, "the port must be a number from 0 to "
			 "65535");
		return -1;
	}
	if (host_len >= sizeof(a->host)) {
		snprintf(err, errlen, "host too long");
		return -1;
	}
	memcpy(a->host, host, host_len);
	a->host[host_len] = '\0';
	snprintf(a->port, sizeof(a->port), "%s", port);
	return listen_addr_resolve(a, err, errlen);
}

int listen_addr_check(const char *addr, char *err, size_t errlen)
{
	struct listen_addr a;

	return listen_addr_parse(addr, &a, err, errlen);
}

static void describe_sockname(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		snprintf(out, len, "?");
	else
		sockaddr_describe(&ss, out, len);
}

/* v6only: -1 leaves the system default, 0 is dual stack, 1 IPv6 only. */
static int listener_open(const struct sockaddr *sa, socklen_t sl, int v6only)
{
	int one = 1, fd, e;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6 && v6only >= 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, sa, sl) || listen(fd, SOMAXCONN)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int listeners_open(const struct listen_addr *a, int *fds, size_t room,
			  size_t *n)
{
	bool has_v4 = false;
	int e = 0;

	*n = 0;
	if (!a->host[0]) {
		/* Every address: one dual-stack socket, or IPv4 alone on
		 * hosts without IPv6. */
		struct sockaddr_in6 any6 = { .sin6_family = AF_INET6,
					     .sin6_addr = IN6ADDR_ANY_INIT,
					     .sin6_port = htons((uint16_t)atoi(a->port)) };
		struct sockaddr_in any4 = { .sin_family = AF_INET,
					    .sin_addr.s_addr = htonl(INADDR_ANY),
					    .sin_port = htons((uint16_t)atoi(a->port)) };

		fds[0] = listener_open((struct sockaddr *)&any6, sizeof(any6), 0);
		if (fds[0] < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
			fds[0] = listener_open((struct sockaddr *)&any4,
					       sizeof(any4), -1);
		if (fds[0] < 0) {
			log_error("cannot listen on :%s: %s", a->port,
				  strerror(errno));
			return -1;
		}
		*n = 1;
		return 0;
	}
	for (size_t i = 0; i < a->n_addrs; i++)
		has_v4 |= a->addrs[i].ss_family == AF_INET;
	for (size_t i = 0; i < a->n_addrs && *n < room; i++) {
		int fd = listener_open((const struct sockaddr *)&a->addrs[i],
				       a->lens[i], has_v4 ? 1 : -1);

		if (fd < 0) {
			e = errno;
			log_warn("cannot listen on an address of %s:%s: %s",
				 a->host, a->port, strerror(e));
			continue;
		}
		fds[(*n)++] = fd;
	}
	if (!*n) {
		log_error("cannot listen on %s:%s: %s", a->host, a->port,
			  strerror(e));
		return -1;
	}
	return 0;
}

static void stop_signals_catch(sigset_t *saved)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	/* Blocked except inside ppoll(), so a signal cannot slip in between
	 * the check of stop_signal and the wait. */
	sigprocmask(SIG_BLOCK, &block, saved);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The open connections of the server, and the client address of each
 * (IPv4 as IPv4-mapped IPv6), for the per-source limit. */
struct conn_table {
	struct conn *conns[MAX_CONNS];
	struct in6_addr source[MAX_CONNS];
	size_t n;
};

static struct in6_addr source_of(const struct sockaddr_storage *ss)
{
	struct in6_addr a = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)ss)->sin6_addr;
	} else if (ss->ss_family == AF_INET) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12],
		       &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
	return a;
}

static size_t connections_from(const struct conn_table *t,
			       const struct in6_addr *a)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += !memcmp(&t->source[i], a, sizeof(*a));
	return n;
}

static void conn_close(struct conn *c)
{
	close(c->in_fd);
	conn_release(c);
	free(c);
}

/* Table full: closes the connection that has waited longest for its
 * request (an idle or slowloris client); false if every one is busy
 * being answered. */
static bool evict_idle(struct conn_table *t)
{
	size_t oldest = t->n;

	for (size_t i = 0; i < t->n; i++)
		if (t->conns[i]->state == CONN_READING &&
		    (oldest == t->n ||
		     t->conns[i]->deadline_ms < t->conns[oldest]->deadline_ms))
			oldest = i;
	if (oldest == t->n)
		return false;
	log_debug("%s: closed to make room for a new connection",
		  t->conns[oldest]->peer);
	conn_close(t->conns[oldest]);
	t->n--;
	t->conns[oldest] = t->conns[t->n];
	t->source[oldest] = t->source[t->n];
	return true;
}

static void accept_all(int lfd, struct conn_table *t, int64_t now,
		       int64_t *paused_until)
{
	while (t->n < MAX_CONNS || evict_idle(t)) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct in6_addr source;
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (!errno_is_transient()) {
				log_warn("accept: %s; pausing %d ms",
					 strerror(errno), ACCEPT_PAUSE_MS);
				*paused_until = now + ACCEPT_PAUSE_MS;
			}
			return;
		}
		source = source_of(&ss);
		if (serve_limits.max_per_source &&
		    connections_from(t, &source) >= serve_limits.max_per_source) {
			char peer[64];

			sockaddr_describe(&ss, peer, sizeof(peer));
			log_debug("%s: over %u connections from one address, "
				  "closed", peer, serve_limits.max_per_source);
			close(fd);
			continue;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			log_warn("out of memory for a connection");
			close(fd);
			*paused_until = now + ACCEPT_PAUSE_MS;
			return;
		}
		conn_init(c, fd, fd, now);
		t->source[t->n] = source;
		t->conns[t->n++] = c;
	}
}

/* Whether a new connection can be taken: a free slot, or one to evict. */
static bool table_has_room(const struct conn_table *t)
{
	if (t->n < MAX_CONNS)
		return true;
	for (size_t i = 0; i < t->n; i++)
		if (t->conns[i]->state == CONN_READING)
			return true;
	return false;
}

static int serve_loop(const int *listeners, size_t n_listeners,
		      const struct scrape_config *cfg)
{
	static struct conn_table table;
	static struct pollfd pfd[MAX_LISTENERS + MAX_CONNS];
	struct conn_table *t = &table;
	int64_t paused_until = 0;
	sigset_t saved;

	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
	stop_signals_catch(&saved);
	while (!stop_signal) {
		int64_t now = now_ms(), next = exposition_next_expiry();
		bool accepting = now >= paused_until && table_has_room(t);
		struct timespec ts, *tsp = NULL;
		size_t np = 0, kept = 0;
		int n;

		for (size_t i = 0; i < n_listeners; i++)
			pfd[np++] = (struct pollfd){ listeners[i],
						     accepting ? POLLIN : 0, 0 };
		for (size_t i = 0; i < t->n; i++) {
			pfd[np].fd = conn_poll_fd(t->conns[i], &pfd[np].events);
			pfd[np++].revents = 0;
			if (t->conns[i]->deadline_ms < next)
				next = t->conns[i]->deadline_ms;
		}
		if (paused_until > now && paused_until < next)
			next = paused_until;
		if (next != INT64_MAX) {
			int64_t wait = next > now ? next - now : 0;

			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (wait % 1000) * 1000000;
			tsp = &ts;
		}
		n = ppoll(pfd, np, tsp, &saved);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			break;
		}
		now = now_ms();
		for (size_t i = 0; i < t->n; i++) {
			conn_step(t->conns[i], pfd[n_listeners + i].revents, now,
				  cfg);
			if (t->conns[i]->state == CONN_DONE) {
				conn_close(t->conns[i]);
			} else {
				t->source[kept] = t->source[i];
				t->conns[kept++] = t->conns[i];
			}
		}
		t->n = kept;
		exposition_expire(now_ms());
		for (size_t i = 0; i < n_listeners; i++)
			if (pfd[i].revents & POLLIN)
				accept_all(listeners[i], t, now, &paused_until);
	}
	if (stop_signal)
		log_info("stopping on %s", strsignal(stop_signal));
	for (size_t i = 0; i < t->n; i++)
		conn_close(t->conns[i]);
	t->n = 0;
	exposition_expire(INT64_MAX);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return stop_signal ? EXIT_OK : EXIT_RUNTIME;
}

int serve_listen(const char *const *addrs, size_t n_addrs,
		 const struct scrape_config *cfg)
{
	int fds[MAX_LISTENERS];
	size_t n = 0;
	int rc = EXIT_RUNTIME;

	for (size_t i = 0; i < n_addrs; i++) {
		struct listen_addr a;
		size_t opened;
		char err[ERR_LEN];

		if (listen_addr_parse(addrs[i], &a, err, sizeof(err))) {
			rc = cli_bad_value("--listen", addrs[i], "%s", err);
			goto out;
		}
		if (n == MAX_LISTENERS) {
			log_error("too many listen addresses: at most %d sockets",
				  MAX_LISTENERS);
			goto out;
		}
		if (listeners_open(&a, fds + n, MAX_LISTENERS - n, &opened))
			goto out;
		n += opened;
	}
	for (size_t i = 0; i < n; i++) {
		char where[INET6_ADDRSTRLEN + 16];

		describe_sockname(fds[i], where, sizeof(where));
		log_info("listening on %s", where);
	}
	rc = serve_loop(fds, n, cfg);
out:
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return rc;
}

int serve_listen_fds(const int *fds, size_t n, const struct scrape_config *cfg)
{
	if (n > MAX_LISTENERS) {
		log_error("%zu listening sockets handed over: at most %d",
			  n, MAX_LISTENERS);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++) {
		char where[INET6_ADDRSTRLEN + 16];
		int flags = fcntl(fds[i], F_GETFL);

		char which[32] = "on stdin";

		if (fds[i] != 0)
			snprintf(which, sizeof(which), "fd %d", fds[i]);
		if (flags < 0 || fcntl(fds[i], F_SETFL, flags | O_NONBLOCK)) {
			log_error("cannot use the listening socket %s: %s",
				  which, strerror(errno));
			return EXIT_RUNTIME;
		}
		describe_sockname(fds[i], where, sizeof(where));
		log_info("serving the listening socket %s (%s)", which, where);
	}
	return serve_loop(fds, n, cfg);
}

int systemd_sockets(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n;

	if (!pid || !fds || strtol(pid, &end, 10) != (long)getpid() || *end)
		return 0;
	n = strtol(fds, &end, 10);
	if (*end || n < 0 || n > MAX_LISTENERS)
		return 0;
	for (long i = 0; i < n; i++)
		fcntl(SD_LISTEN_FDS_START + (int)i, F_SETFD, FD_CLOEXEC);
	return (int)n;
}
