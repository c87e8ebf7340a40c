// SPDX-License-Identifier: Apache-2.0
/*
 * One HTTP connection as a small state machine, so inetd mode and the
 * --listen loop share the request handling and the limits:
 *
 *   HANDSHAKE  TLS, when the web configuration (--web.config.file, read
 *              for each connection when the client first speaks) asks
 *              for it; within the request deadline
 *   READING    the head, at most HTTP_MAX_HEAD bytes, until the request
 *              deadline (HTTP_REQUEST_TIMEOUT_MS after accept) -> 408
 *   WRITING    the whole response, until HTTP_RESPONSE_TIMEOUT_MS
 *   LINGERING  after answering a client that may still be sending, read
 *              and drop its bytes for a moment, so closing with unread
 *              data does not reset the connection before the client has
 *              read the answer
 *   DONE       the owner closes the descriptors
 *
 * Sockets are used with MSG_DONTWAIT (TLS sessions never wait either), so
 * the caller's poll() is the only place that waits and one slow client
 * never holds up another. TLS is a transport under READING and WRITING:
 * conn_recv and conn_send choose it or the plain socket. A web
 * configuration that cannot be used is answered with a plain 500 and a
 * log line, never with metrics over plain HTTP.
 */
#include "reader.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define LINGER_MAX_BYTES (64 * 1024)

void sockaddr_describe(const void *ss, char *out, size_t len)
{
	const struct sockaddr_in *in = ss;
	const struct sockaddr_in6 *in6 = ss;
	char host[INET6_ADDRSTRLEN] = "?";

	if (in->sin_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (in6->sin6_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, len, "-");
	}
}

bool errno_is_transient(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

void conn_init(struct conn *c, int in_fd, int out_fd, int64_t now)
{
	struct stat st;
	int one = 1;

	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->is_socket = fstat(in_fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
		       fstat(out_fd, &st) == 0 && S_ISSOCK(st.st_mode);
	c->state = CONN_READING;
	c->deadline_ms = now + HTTP_REQUEST_TIMEOUT_MS;
	c->req_len = c->scanned = c->sent = c->drained = 0;
	c->cut_short = false;
	c->req = (struct http_request){ 0 };
	c->resp = (struct http_response){ 0 };
	c->web_loaded = false;
	c->web = (struct web_config){ 0 };
	c->tls = NULL;
	c->tls_events = 0;
	snprintf(c->peer, sizeof(c->peer), "-");
	if (c->is_socket) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl = sizeof(ss);

		if (getpeername(in_fd, (struct sockaddr *)&ss, &sl) == 0)
			sockaddr_describe(&ss, c->peer, sizeof(c->peer));
		/* The answer goes out in one write; Nagle only delays its tail. */
		setsockopt(out_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

int conn_poll_fd(const struct conn *c, short *events)
{
	if (c->tls_events && c->state != CONN_LINGERING) {
		*events = c->tls_events;
		return c->tls_events == POLLOUT ? c->out_fd : c->in_fd;
	}
	if (c->state == CONN_WRITING) {
		*events = POLLOUT;
		return c->out_fd;
	}
	*events = POLLIN;
	return c->in_fd;
}

static size_t response_size(const struct conn *c)
{
	return c->resp.head_len + (c->resp.send_body ? c->resp.body.len : 0);
}

static void conn_finish(struct conn *c, int64_t now)
{
	int unread = 0;

	log_debug("%s: %d, %zu bytes", c->peer, c->resp.status, c->sent);
	if (c->tls)
		tls_close_notify(c->tls);
	if (c->is_socket &&
	    (c->cut_short || (ioctl(c->in_fd, FIONREAD, &unread) == 0 && unread > 0))) {
		shutdown(c->out_fd, SHUT_WR);
		c->state = CONN_LINGERING;
		c->deadline_ms = now + HTTP_LINGER_MS;
		return;
	}
	c->state = CONN_DONE;
}

/* After a read or write that failed: a transient error waits for the
 * next poll, any other ends the connection. */
static void conn_io_failed(struct conn *c, const char *what)
{
	if (errno_is_transient())
		return;
	log_debug("%s: cannot %s: %s", c->peer, what, strerror(errno));
	c->state = CONN_DONE;
}

/* The TLS session's answer as a read(2)/write(2) result: bytes, 0 at the
 * end, or -1 with errno (EAGAIN while the session waits for the socket). */
static ssize_t conn_tls_result(struct conn *c, enum tls_result r, size_t done)
{
	c->tls_events = r == TLS_WANT_READ ? POLLIN
			: r == TLS_WANT_WRITE ? POLLOUT : 0;
	switch (r) {
	case TLS_OK:
		return (ssize_t)done;
	case TLS_CLOSED:
		return 0;
	case TLS_WANT_READ:
	case TLS_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

static ssize_t conn_recv(struct conn *c, void *buf, size_t len)
{
	size_t got = 0;

	if (c->tls) {
		enum tls_result r = tls_read(c->tls, buf, len, &got);

		return conn_tls_result(c, r, got);
	}
	if (c->is_socket)
		return recv(c->in_fd, buf, len, MSG_DONTWAIT);
	return read(c->in_fd, buf, len);
}

static ssize_t conn_send(struct conn *c, const struct iovec *iov, int n_iov)
{
	size_t put = 0;

	if (c->tls) {
		enum tls_result r = tls_write(c->tls, iov[0].iov_base,
					      iov[0].iov_len, &put);

		return conn_tls_result(c, r, put);
	}
	if (c->is_socket) {
		struct msghdr msg = { .msg_iov = (struct iovec *)iov,
				      .msg_iovlen = (size_t)n_iov };

		return sendmsg(c->out_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	return writev(c->out_fd, iov, n_iov);
}

static void conn_write(struct conn *c, int64_t now)
{
	struct iovec iov[2];
	int n_iov = 0;
	size_t off = c->sent;
	ssize_t n;

	if (off < c->resp.head_len) {
		iov[n_iov++] = (struct iovec){ c->resp.head + off,
					       c->resp.head_len - off };
		off = 0;
	} else {
		off -= c->resp.head_len;
	}
	if (c->resp.send_body && off < c->resp.body.len)
		iov[n_iov++] = (struct iovec){ c->resp.body.data + off,
					       c->resp.body.len - off };
	if (n_iov == 0) {
		conn_finish(c, now);
		return;
	}
	n = conn_send(c, iov, n_iov);
	if (n < 0) {
		conn_io_failed(c, "send the response");
		return;
	}
	c->sent += (size_t)n;
	if (c->sent == response_size(c))
		conn_finish(c, now);
}

static void conn_answer(struct conn *c, int64_t now)
{
	if (c->web.headers.count) {
		char lines[WEBCONFIG_MAX_HEADER_BYTES + 1];

		web_config_header_lines(&c->web, lines, sizeof(lines));
		http_add_header_lines(&c->resp, lines);
	}
	c->state = CONN_WRITING;
	c->deadline_ms = now + HTTP_RESPONSE_TIMEOUT_MS;
	c->sent = 0;
	/* Sockets are almost always writable now: skip a poll round. */
	conn_write(c, now);
}

static void conn_reject(struct conn *c, int status, const char *detail,
			int64_t now)
{
	log_debug("%s: rejected with %d", c->peer, status);
	c->cut_short = true;
	http_respond_error(status, detail, &c->resp);
	conn_answer(c, now);
}

static void conn_read(struct conn *c, int64_t now,
		      const struct scrape_config *cfg)
{
	size_t room = sizeof(c->req_buf) - c->req_len;
	ssize_t n = conn_recv(c, c->req_buf + c->req_len, room);
	int status;

	if (n < 0) {
		conn_io_failed(c, "read the request");
		return;
	}
	if (n == 0) {
		/* The client stopped sending: answer a partial request (it
		 * may still read), leave an empty one. */
		if (c->req_len == 0)
			c->state = CONN_DONE;
		else
			conn_reject(c, 400, "The request ended before its head "
					    "did.", now);
		return;
	}
	c->req_len += (size_t)n;
	status = http_parse(c->req_buf, c->req_len, &c->scanned, &c->req);
	if (status == 0) {
		/* poll() cannot see what the TLS session already holds. */
		if (c->tls && tls_pending(c->tls))
			conn_read(c, now, cfg);
		return;
	}
	if (status != 200) {
		conn_reject(c, status,
			    status == 414 || status == 431
				    ? "The request line and headers must fit in "
				      "8192 bytes."
				    : NULL,
			    now);
		return;
	}
	if (!auth_allows(&c->web, c->req.authorization,
			 c->req.authorization_len)) {
		log_info("%s: basic authentication failed", c->peer);
		http_respond_error(401, NULL, &c->resp);
		conn_answer(c, now);
		return;
	}
	http_respond(&c->req, cfg, &c->resp);
	log_debug("%s: %s %.*s", c->peer,
		  c->req.method == HTTP_HEAD ? "HEAD" : "GET",
		  (int)c->req.path_len, c->req.path);
	conn_answer(c, now);
}

static void conn_drain(struct conn *c)
{
	char sink[4096];
	ssize_t n = recv(c->in_fd, sink, sizeof(sink), MSG_DONTWAIT);

	if (n < 0 && errno_is_transient())
		return;
	if (n <= 0)
		c->state = CONN_DONE;
	else if ((c->drained += (size_t)n) > LINGER_MAX_BYTES)
		c->state = CONN_DONE;
}

static void set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0 && !(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Reads the web configuration for this connection and starts TLS when it
 * asks for it. A configuration that cannot be used ends in a 500. */
static void conn_secure(struct conn *c, int64_t now,
			const struct scrape_config *cfg)
{
	char err[ERR_LEN];

	c->web_loaded = true;
	if (!cfg->web_config_file)
		return;
	if (web_config_load(cfg->web_config_file, &c->web, err, sizeof(err)) ||
	    (web_config_tls(&c->web) &&
	     !(c->tls = tls_session_new(&c->web, c->in_fd, c->out_fd, err,
					 sizeof(err))))) {
		log_error("--web.config.file: %s", err);
		web_config_free(&c->web);
		c->cut_short = true;
		http_respond_error(500, "The web configuration of this endpoint "
				   "cannot be used; its log says why.",
				   &c->resp);
		conn_answer(c, now);
		return;
	}
	if (c->tls) {
		/* inetd may hand over a blocking socket; a TLS record that
		 * arrives in pieces must not stop the clock. */
		set_nonblocking(c->in_fd);
		set_nonblocking(c->out_fd);
		c->state = CONN_HANDSHAKE;
	}
}

static void conn_handshake(struct conn *c, int64_t now,
			   const struct scrape_config *cfg)
{
	enum tls_result r = tls_handshake(c->tls, c->peer);

	c->tls_events = r == TLS_WANT_READ ? POLLIN
			: r == TLS_WANT_WRITE ? POLLOUT : 0;
	if (r == TLS_OK) {
		/* The request may have come with the handshake's last
		 * flight, already inside the session. */
		c->state = CONN_READING;
		conn_read(c, now, cfg);
	} else if (r != TLS_WANT_READ && r != TLS_WANT_WRITE) {
		c->state = CONN_DONE;
	}
}

static void conn_expire(struct conn *c, int64_t now)
{
	switch (c->state) {
	case CONN_HANDSHAKE:
		log_debug("%s: TLS handshake too slow, dropped", c->peer);
		c->state = CONN_DONE;
		break;
	case CONN_READING:
		conn_reject(c, 408, "The request must arrive within 5 seconds.",
			    now);
		break;
	case CONN_WRITING:
		log_debug("%s: too slow reading the response, dropped", c->peer);
		c->state = CONN_DONE;
		break;
	default:
		c->state = CONN_DONE;
		break;
	}
}

void conn_step(struct conn *c, short revents, int64_t now,
	       const struct scrape_config *cfg)
{
	if (revents && !c->web_loaded)
		conn_secure(c, now, cfg);
	if (revents) {
		if (c->state == CONN_HANDSHAKE)
			conn_handshake(c, now, cfg);
		else if (c->state == CONN_READING)
			conn_read(c, now, cfg);
		else if (c->state == CONN_WRITING)
			conn_write(c, now);
		else if (c->state == CONN_LINGERING)
			conn_drain(c);
	}
	if (c->state != CONN_DONE && now >= c->deadline_ms)
		conn_expire(c, now);
}

void conn_release(struct conn *c)
{
	tls_session_free(c->tls);
	c->tls = NULL;
	web_config_free(&c->web);
	http_response_free(&c->resp);
}
