// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP for one request: a parser with hard limits (the head must fit in
 * HTTP_MAX_HEAD bytes; conn.c enforces the time limits), content
 * negotiation (OpenMetrics when Accept prefers it, gzip when
 * Accept-Encoding allows it) and the response, always Connection: close.
 * The parser fails closed: anything it does not understand is a 400.
 */
#include "reader.h"

#include "log.h"

#include <stdio.h>
#include <strings.h>
#include <time.h>

#define TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define TYPE_OPENMETRICS \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"
#define TYPE_HTML "text/html; charset=utf-8"
#define TYPE_PLAIN "text/plain; charset=utf-8"

/* The landing page, around the link to the metrics path (which main.c
 * allows only without characters HTML would read). */
static const char landing_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head><meta charset=\"utf-8\"><title>texporter</title></head>\n"
	"<body>\n"
	"<h1>texporter</h1>\n"
	"<p>Network traffic by named address range, counted with eBPF.</p>\n"
	"<p><a href=\"";
static const char landing_tail[] =
	"\">Metrics</a></p>\n"
	"</body>\n"
	"</html>\n";

/* ---- parsing */

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

struct span {
	const char *p;
	size_t len;
};

/* Case-insensitive, for header names, media types and codings. */
static bool span_is(struct span s, const char *text)
{
	return s.len == strlen(text) && !strncasecmp(s.p, text, s.len);
}

/* Exact, for methods and paths. */
static bool span_eq(struct span s, const char *text)
{
	return s.len == strlen(text) && !memcmp(s.p, text, s.len);
}

static struct span span_trim(struct span s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.len--;
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* Splits s at the first sep: returns the part before, s keeps the rest. */
static struct span span_cut(struct span *s, char sep)
{
	const char *hit = memchr(s->p, sep, s->len);
	struct span head = { s->p, hit ? (size_t)(hit - s->p) : s->len };

	s->p += hit ? head.len + 1 : head.len;
	s->len -= hit ? head.len + 1 : head.len;
	return head;
}

/* A qvalue ("0", "0.5", "1.000") in thousandths; -1 if malformed. */
static int parse_qvalue(struct span v)
{
	int q, scale = 100;

	if (!v.len || (v.p[0] != '0' && v.p[0] != '1'))
		return -1;
	q = (v.p[0] - '0') * 1000;
	if (v.len == 1)
		return q;
	if (v.p[1] != '.' || v.len > 5)
		return -1;
	for (size_t i = 2; i < v.len; i++, scale /= 10) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		q += (v.p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* The most specific Accept range that matched a candidate wins. */
struct preference {
	int specificity; /* -1: nothing matched */
	int q;           /* thousandths */
};

struct negotiation {
	bool saw_accept;
	struct preference openmetrics, text;
	int gzip_q, any_q; /* Accept-Encoding; -1 if not mentioned */
};

static void prefer(struct preference *p, int specificity, int q)
{
	if (specificity > p->specificity) {
		p->specificity = specificity;
		p->q = q;
	} else if (specificity == p->specificity && q > p->q) {
		p->q = q;
	}
}

static void negotiate_media_range(struct negotiation *n, struct span range)
{
	struct span type = span_trim(span_cut(&range, ';'));
	struct span version = { NULL, 0 };
	bool has_version = false;
	int q = 1000;

	while (range.len) {
		struct span param = span_cut(&range, ';');
		struct span name = span_trim(span_cut(&param, '='));
		struct span value = span_trim(param);

		if (value.len >= 2 && value.p[0] == '"' &&
		    value.p[value.len - 1] == '"')
			value.p++, value.len -= 2;
		if (span_is(name, "q")) {
			q = parse_qvalue(value);
			if (q < 0)
				return; /* a malformed range is ignored */
		} else if (span_is(name, "version")) {
			version = value;
			has_version = true;
		}
	}
	if (span_is(type, "application/openmetrics-text")) {
		if (!has_version)
			prefer(&n->openmetrics, 2, q);
		else if (span_is(version, "1.0.0") || span_is(version, "0.0.1"))
			prefer(&n->openmetrics, 3, q);
	} else if (span_is(type, "application/*")) {
		prefer(&n->openmetrics, 1, q);
	} else if (span_is(type, "text/plain")) {
		prefer(&n->text, has_version ? 3 : 2, q);
	} else if (span_is(type, "text/*")) {
		prefer(&n->text, 1, q);
	} else if (span_is(type, "*/*")) {
		prefer(&n->openmetrics, 0, q);
		prefer(&n->text, 0, q);
	}
}

static void negotiate_coding(struct negotiation *n, struct span item)
{
	struct span coding = span_trim(span_cut(&item, ';'));
	int q = 1000;

	while (item.len) {
		struct span param = span_cut(&item, ';');
		struct span name = span_trim(span_cut(&param, '='));

		if (span_is(name, "q"))
			q = parse_qvalue(span_trim(param));
	}
	if (q < 0)
		return;
	if (span_is(coding, "gzip") || span_is(coding, "x-gzip"))
		n->gzip_q = q > n->gzip_q ? q : n->gzip_q;
	else if (span_is(coding, "*"))
		n->any_q = q > n->any_q ? q : n->any_q;
}

static void negotiate_header(struct negotiation *n, struct span name,
			     struct span value)
{
	bool accept = span_is(name, "Accept");

	if (!accept && !span_is(name, "Accept-Encoding"))
		return;
	n->saw_accept |= accept;
	while (value.len) {
		struct span item = span_cut(&value, ',');

		if (accept)
			negotiate_media_range(n, item);
		else
			negotiate_coding(n, item);
	}
}

static void negotiation_finish(const struct negotiation *n,
			       struct http_request *req)
{
	int om = n->openmetrics.specificity >= 0 ? n->openmetrics.q : 0;
	int text = n->text.specificity >= 0 ? n->text.q : 0;

	req->openmetrics = n->saw_accept && om > 0 && om > text;
	req->gzip = n->gzip_q > 0 || (n->gzip_q < 0 && n->any_q > 0);
}

/* Request line: METHOD SP request-target SP HTTP/1.x */
static int parse_request_line(struct span line, struct http_request *req)
{
	struct span method = span_cut(&line, ' ');
	struct span target = span_cut(&line, ' ');
	struct span version = line;

	if (!method.len || !target.len || version.len != 8 ||
	    memcmp(version.p, "HTTP/", 5) || version.p[6] != '.' ||
	    version.p[5] < '0' || version.p[5] > '9' || version.p[7] < '0' ||
	    version.p[7] > '9')
		return 400;
	for (size_t i = 0; i < method.len; i++)
		if (!is_tchar((unsigned char)method.p[i]))
			return 400;
	for (size_t i = 0; i < target.len; i++)
		if ((unsigned char)target.p[i] <= ' ' || target.p[i] == 0x7f)
			return 400;
	if (version.p[5] != '1')
		return 505;

	/* absolute-form (http://host/path) is allowed; use its path. */
	if (target.p[0] != '/') {
		struct span scheme = span_cut(&target, ':');
		const char *slash;

		if ((!span_is(scheme, "http") && !span_is(scheme, "https")) ||
		    target.len < 2 || target.p[0] != '/' || target.p[1] != '/')
			return 400;
		slash = memchr(target.p + 2, '/', target.len - 2);
		if (slash)
			target.len -= (size_t)(slash - target.p), target.p = slash;
		else
			target = (struct span){ "/", 1 };
	}
	target = span_cut(&target, '?');
	target = span_cut(&target, '#');
	req->path = target.p;
	req->path_len = target.len;

	if (span_eq(method, "GET"))
		req->method = HTTP_GET;
	else if (span_eq(method, "HEAD"))
		req->method = HTTP_HEAD;
	else
		return 405;
	return 200;
}

/* One "Name: value" line; obs-fold and control characters are errors. */
static int parse_header_line(struct span line, struct negotiation *n,
			     struct http_request *req)
{
	struct span name, value;

	if (line.p[0] == ' ' || line.p[0] == '\t')
		return 400;
	for (size_t i = 0; i < line.len; i++) {
		unsigned char c = (unsigned char)line.p[i];

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return 400;
	}
	name = span_cut(&line, ':');
	if (!name.len || name.p + name.len == line.p)
		return 400; /* no colon */
	for (size_t i = 0; i < name.len; i++)
		if (!is_tchar((unsigned char)name.p[i]))
			return 400;
	value = span_trim(line);
	negotiate_header(n, name, value);
	if (span_is(name, "Authorization")) {
		req->authorization = value.p;
		req->authorization_len = value.len;
	}
	return 200;
}

/* Lines of the head, CRLF or bare LF, without their terminators. */
static struct span next_line(struct span *head)
{
	struct span line = span_cut(head, '\n');

	if (line.len && line.p[line.len - 1] == '\r')
		line.len--;
	return line;
}

static int parse_head(const char *data, size_t len, struct http_request *req)
{
	struct span head = { data, len };
	struct span line;
	struct negotiation n = {
		.openmetrics = { -1, 0 },
		.text = { -1, 0 },
		.gzip_q = -1,
		.any_q = -1,
	};
	int status;

	/* RFC 9112 2.2: ignore empty lines before the request line. */
	do
		line = next_line(&head);
	while (!line.len && head.len);
	req->authorization = NULL;
	req->authorization_len = 0;
	status = parse_request_line(line, req);
	if (status == 400 || status == 505)
		return status;
	while ((line = next_line(&head)).len) {
		int rc = parse_header_line(line, &n, req);

		if (rc != 200)
			return rc;
	}
	negotiation_finish(&n, req);
	return status;
}

/* Early rejection of what cannot become a request (a TLS hello, binary
 * noise): the bytes before the first space must be a method token. */
static bool plausible_start(const char *data, size_t len)
{
	size_t i = 0;

	while (i < len && (data[i] == '\r' || data[i] == '\n'))
		i++;
	for (; i < len && data[i] != ' '; i++)
		if (!is_tchar((unsigned char)data[i]))
			return false;
	return true;
}

int http_parse(const char *data, size_t len, size_t *scanned,
	       struct http_request *req)
{
	/* The head ends with an empty line: "\n\n" or "\n\r\n". */
	for (size_t i = *scanned; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if ((i >= 1 && data[i - 1] == '\n') ||
		    (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n'))
			return parse_head(data, i + 1, req);
	}
	*scanned = len;
	if (!plausible_start(data, len))
		return 400;
	if (len >= HTTP_MAX_HEAD)
		return memchr(data, '\n', len) ? 431 : 414;
	return 0;
}

/* ---- responses */

static const char *status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

static void set_head(struct http_response *resp, int status,
		     const char *content_type, const char *extra_headers)
{
	char date[64];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	resp->status = status;
	n = snprintf(resp->head, sizeof(resp->head),
		     "HTTP/1.1 %d %s\r\n"
		     "Date: %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Connection: close\r\n"
		     "\r\n",
		     status, status_reason(status), date, content_type,
		     resp->body.len, extra_headers);
	resp->head_len = n < 0 ? 0 : (size_t)n;
}

void http_respond_error(int status, const char *detail,
			struct http_response *resp)
{
	resp->body.len = 0;
	buf_printf(&resp->body, "%d %s\n", status, status_reason(status));
	if (detail)
		buf_printf(&resp->body, "%s\n", detail);
	if (resp->body.failed) {
		/* Nothing to say it with: close without a body. */
		buf_free(&resp->body);
	}
	resp->send_body = true;
	set_head(resp, status, TYPE_PLAIN,
		 status == 405   ? "Allow: GET, HEAD\r\n"
		 : status == 401 ? "WWW-Authenticate: Basic\r\n"
				 : "");
}

void http_add_header_lines(struct http_response *resp, const char *lines)
{
	size_t add = strlen(lines);

	/* Before the empty line that ends the head. */
	if (!add || resp->head_len < 2 ||
	    resp->head_len + add > sizeof(resp->head))
		return;
	memcpy(resp->head + resp->head_len - 2, lines, add);
	memcpy(resp->head + resp->head_len - 2 + add, "\r\n", 2);
	resp->head_len += add;
}

static void respond_metrics(const struct http_request *req,
			    const struct scrape_config *cfg,
			    struct http_response *resp)
{
	char err[ERR_LEN];
	enum expo_format format = req->openmetrics ? EXPO_OPENMETRICS : EXPO_TEXT;
	unsigned max = serve_limits.max_requests;
	bool gzipped = false;

	if (max && exposition_in_flight() >= max) {
		snprintf(err, sizeof(err),
			 "Limit of concurrent requests reached (%u), try again "
			 "later.", max);
		log_debug("%s", err);
		http_respond_error(503, err, resp);
		return;
	}
	resp->shared = exposition_get(cfg, format, req->gzip, &gzipped, err,
				      sizeof(err));
	if (!resp->shared) {
		http_respond_error(503, err, resp);
		return;
	}
	/* A view: the buffer is the render's, shared with other responses. */
	resp->body = *exposition_buf(resp->shared);
	set_head(resp, 200, req->openmetrics ? TYPE_OPENMETRICS : TYPE_TEXT,
		 gzipped ? "Content-Encoding: gzip\r\n"
			   "Vary: Accept, Accept-Encoding\r\n"
			 : "Vary: Accept, Accept-Encoding\r\n");
}

void http_respond(const struct http_request *req,
		  const struct scrape_config *cfg, struct http_response *resp)
{
	struct span path = { req->path, req->path_len };
	const char *metrics = cfg->metrics_path ? cfg->metrics_path : "/metrics";

	resp->send_body = req->method != HTTP_HEAD;
	if (span_eq(path, metrics)) {
		respond_metrics(req, cfg, resp);
	} else if (span_eq(path, "/")) {
		buf_add_str(&resp->body, landing_head);
		buf_add_str(&resp->body, metrics);
		buf_add_str(&resp->body, landing_tail);
		set_head(resp, 200, TYPE_HTML, "");
	} else {
		http_respond_error(404, NULL, resp);
	}
	if (req->method == HTTP_HEAD)
		resp->send_body = false;
}

void http_response_free(struct http_response *resp)
{
	if (resp->shared) {
		exposition_put(resp->shared);
		resp->shared = NULL;
		resp->body = (struct buf){ 0 };
		return;
	}
	buf_free(&resp->body);
}
