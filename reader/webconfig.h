/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web configuration file (--web.config.file), in the format of
 * Prometheus' exporter-toolkit: tls_server_config, http_server_config and
 * basic_auth_users. webconfig.c parses it (libyaml) and checks every value
 * it can without the TLS library; tls.c turns it into a TLS server and
 * auth.c checks the passwords.
 *
 * What must stay true: an unknown key or a bad value is an error that
 * names the key (and the file and line); nothing is guessed or skipped.
 * Relative file names are relative to the configuration file's directory,
 * as in exporter-toolkit.
 */
#ifndef TEXPORTER_WEBCONFIG_H
#define TEXPORTER_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* The largest configuration file read: it holds names and hashes only. */
#define WEBCONFIG_MAX_BYTES (1024 * 1024)
/* Room for http_server_config.headers in a response head. */
#define WEBCONFIG_MAX_HEADER_BYTES 1024

/* client_auth_type, in the toolkit's (Go's) order of strictness. */
enum web_client_auth {
	WEB_NO_CLIENT_CERT,
	WEB_REQUEST_CLIENT_CERT,
	WEB_REQUIRE_ANY_CLIENT_CERT,
	WEB_VERIFY_CLIENT_CERT_IF_GIVEN,
	WEB_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

/* TLS protocol versions, as min_version/max_version name them. */
enum web_tls_version {
	WEB_TLS_DEFAULT, /* not set */
	WEB_TLS10,
	WEB_TLS11,
	WEB_TLS12,
	WEB_TLS13,
};

struct web_list {
	char **items;
	size_t count;
};

struct web_pair {
	char *name;
	char *value;
};

struct web_pairs {
	struct web_pair *items;
	size_t count;
};

struct web_config {
	/* tls_server_config; TLS is on when cert_file (and key_file) is set */
	char *cert_file;
	char *key_file;
	char *client_ca_file;
	enum web_client_auth client_auth;
	struct web_list client_allowed_sans;
	enum web_tls_version min_version; /* default TLS12, as the toolkit */
	enum web_tls_version max_version; /* default: the library's newest */
	struct web_list cipher_suites;	  /* IANA names, as Go spells them */
	struct web_list curves;		  /* OpenSSL group names */
	bool prefer_server_cipher_suites;
	/* http_server_config.headers, checked as the toolkit checks them */
	struct web_pairs headers;
	/* basic_auth_users: user name -> bcrypt hash */
	struct web_pairs users;
};

static inline bool web_config_tls(const struct web_config *w)
{
	return w->cert_file != NULL;
}

/* Parses TEXT (LEN bytes) read from PATH (named in messages; relative
 * file names are resolved against its directory). On failure returns -1
 * with "PATH:LINE: KEY: reason" in err. */
int web_config_parse(const char *path, const char *text, size_t len,
		     struct web_config *w, char *err, size_t errlen);
/* Reads and parses PATH. */
int web_config_load(const char *path, struct web_config *w, char *err,
		    size_t errlen);
void web_config_free(struct web_config *w);

/* The "Name: value\r\n" lines of http_server_config.headers, for a
 * response head; "" when there are none. */
void web_config_header_lines(const struct web_config *w, char *out, size_t len);

/* ---- tls.c: the TLS server a web configuration describes (OpenSSL) */

enum tls_result {
	TLS_OK,
	TLS_WANT_READ,	/* poll for POLLIN, then call again */
	TLS_WANT_WRITE, /* poll for POLLOUT, then call again */
	TLS_CLOSED,	/* the client closed the connection */
	TLS_FAILED,	/* the reason is logged */
};

struct tls_session;

/* Whether W's TLS settings make a server: the files load, the key fits the
 * certificate, the cipher suites and curves exist. -1 with the key named
 * in err. */
int tls_check(const struct web_config *w, char *err, size_t errlen);
/* A server session reading IN_FD and writing OUT_FD (one connected
 * socket, or stdin and stdout), or NULL with err. */
struct tls_session *tls_session_new(const struct web_config *w, int in_fd,
				    int out_fd, char *err, size_t errlen);
/* PEER names the client in log lines. */
enum tls_result tls_handshake(struct tls_session *s, const char *peer);
enum tls_result tls_read(struct tls_session *s, void *buf, size_t len,
			 size_t *got);
enum tls_result tls_write(struct tls_session *s, const void *buf, size_t len,
			  size_t *put);
/* Decrypted bytes waiting inside the session (poll() cannot see them). */
bool tls_pending(const struct tls_session *s);
/* Sends close_notify if it can without waiting. */
void tls_close_notify(struct tls_session *s);
void tls_session_free(struct tls_session *s);

/* ---- auth.c */

/* Whether the request may be answered: true when basic_auth_users is
 * empty, else when AUTHORIZATION (the header's value, LEN bytes, or NULL
 * when absent) is "Basic" with a user's name and a password that matches
 * the user's bcrypt hash. */
bool auth_allows(const struct web_config *w, const char *authorization,
		 size_t len);

#endif /* TEXPORTER_WEBCONFIG_H */
