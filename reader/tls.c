// SPDX-License-Identifier: Apache-2.0
/*
 * TLS for the HTTP modes, with OpenSSL's libssl: a server context built
 * from a web configuration (tls_server_config), and one nonblocking
 * session per connection that conn.c drives from its poll loop. Every
 * call returns at once; TLS_WANT_READ / TLS_WANT_WRITE say what to poll
 * for before calling again.
 *
 * What must stay true: a context is built afresh for each connection from
 * the configuration read for it, so a rotated certificate is served
 * without a restart; errors in the configuration name its key; no
 * renegotiation; the OpenSSL error queue is empty after every call.
 */
#include "reader.h"
#include "webconfig.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct tls_session {
	SSL_CTX *ctx;
	SSL *ssl;
	const struct web_config *w;
};

/* The newest OpenSSL error as text, and an empty queue. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", errno ? strerror(errno) : "closed");
	ERR_clear_error();
	return buf;
}

static int tls_fail(char *err, size_t errlen, const char *key, const char *file)
{
	char why[256];

	ssl_reason(why, sizeof(why));
	snprintf(err, errlen, "tls_server_config.%s: cannot use %s: %s", key,
		 file, why);
	return -1;
}

/* A clearer message than OpenSSL's for the usual mistakes: no such file,
 * or a key the reader's group may not read. */
static int check_readable(const char *key, const char *file, char *err,
			  size_t errlen)
{
	if (access(file, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "tls_server_config.%s: cannot read %s: %s%s", key,
		 file, strerror(errno),
		 errno == EACCES ? " (make it readable by the reader's group: "
				   "chgrp texporter, chmod 0640)"
				 : "");
	return -1;
}

static int load_certificate(SSL_CTX *ctx, const struct web_config *w, char *err,
			    size_t errlen)
{
	if (check_readable("cert_file", w->cert_file, err, errlen) ||
	    check_readable("key_file", w->key_file, err, errlen))
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, w->cert_file) != 1)
		return tls_fail(err, errlen, "cert_file", w->cert_file);
	if (SSL_CTX_use_PrivateKey_file(ctx, w->key_file, SSL_FILETYPE_PEM) !=
	    1)
		return tls_fail(err, errlen, "key_file", w->key_file);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(err, errlen, "key_file", w->key_file);
	return 0;
}

static int protocol_version(enum web_tls_version v)
{
	static const int versions[] = {
		[WEB_TLS_DEFAULT] = 0,	      [WEB_TLS10] = TLS1_VERSION,
		[WEB_TLS11] = TLS1_1_VERSION, [WEB_TLS12] = TLS1_2_VERSION,
		[WEB_TLS13] = TLS1_3_VERSION,
	};

	return versions[v];
}

static int set_versions(SSL_CTX *ctx, const struct web_config *w, char *err,
			size_t errlen)
{
	if (!SSL_CTX_set_min_proto_version(ctx,
					   protocol_version(w->min_version)))
		return tls_fail(err, errlen, "min_version", "this version");
	if (!SSL_CTX_set_max_proto_version(ctx,
					   protocol_version(w->max_version)))
		return tls_fail(err, errlen, "max_version", "this version");
	/* OpenSSL 3 refuses TLS 1.0 and 1.1 (their SHA-1 handshake) at its
	 * default security level; a configuration that asks for them gets
	 * them, as with exporter-toolkit. */
	if (w->min_version < WEB_TLS12)
		SSL_CTX_set_security_level(ctx, 0);
	return 0;
}

/* The OpenSSL name of the cipher suite whose IANA name (Go's name) is
 * NAME, or NULL. TLS 1.3 suites are found too: *tls13 says so. */
static const char *cipher_by_standard_name(const STACK_OF(SSL_CIPHER) * all,
					   const char *name, bool *tls13)
{
	for (int i = 0; i < sk_SSL_CIPHER_num(all); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
		const char *std = SSL_CIPHER_standard_name(c);

		if (std && !strcmp(std, name)) {
			*tls13 = !strcmp(SSL_CIPHER_get_version(c), "TLSv1.3");
			return SSL_CIPHER_get_name(c);
		}
	}
	return NULL;
}

/* cipher_suites applies to TLS 1.2 and older, as in Go: TLS 1.3 suites
 * are accepted and left to the library. */
static int set_cipher_suites(SSL_CTX *ctx, const struct web_config *w,
			     char *err, size_t errlen)
{
	SSL_CTX *all_ctx;
	char list[4096] = "";
	size_t used = 0;
	int rc = 0;

	if (!w->cipher_suites.count)
		return 0;
	all_ctx = SSL_CTX_new(TLS_server_method());
	if (!all_ctx || !SSL_CTX_set_cipher_list(all_ctx, "ALL:@SECLEVEL=0")) {
		SSL_CTX_free(all_ctx);
		return tls_fail(err, errlen, "cipher_suites",
				"the cipher list");
	}
	for (size_t i = 0; i < w->cipher_suites.count && !rc; i++) {
		bool tls13 = false;
		const char *name = cipher_by_standard_name(
			SSL_CTX_get_ciphers(all_ctx), w->cipher_suites.items[i],
			&tls13);

		if (!name) {
			snprintf(err, errlen,
				 "tls_server_config.cipher_suites"
				 "[%zu]: unknown cipher suite \"%s\" (use the "
				 "IANA names, as TLS_ECDHE_RSA_WITH_AES_128_GCM"
				 "_SHA256)",
				 i, w->cipher_suites.items[i]);
			rc = -1;
		} else if (!tls13 && used < sizeof(list)) {
			used += (size_t)snprintf(list + used,
						 sizeof(list) - used, "%s%s",
						 used ? ":" : "", name);
		}
	}
	SSL_CTX_free(all_ctx);
	if (!rc && used && !SSL_CTX_set_cipher_list(ctx, list))
		return tls_fail(err, errlen, "cipher_suites", list);
	return rc;
}

static int set_curves(SSL_CTX *ctx, const struct web_config *w, char *err,
		      size_t errlen)
{
	char list[256] = "";
	size_t used = 0;

	if (!w->curves.count)
		return 0;
	for (size_t i = 0; i < w->curves.count && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? ":" : "",
					 w->curves.items[i]);
	if (SSL_CTX_set1_groups_list(ctx, list) != 1)
		return tls_fail(err, errlen, "curve_preferences", list);
	return 0;
}

/* RequestClientCert and RequireAnyClientCert take any certificate. */
static int accept_any_certificate(int preverify_ok, X509_STORE_CTX *store)
{
	(void)preverify_ok;
	(void)store;
	return 1;
}

static int set_client_auth(SSL_CTX *ctx, const struct web_config *w, char *err,
			   size_t errlen)
{
	static const int modes[] = {
		[WEB_NO_CLIENT_CERT] = SSL_VERIFY_NONE,
		[WEB_REQUEST_CLIENT_CERT] = SSL_VERIFY_PEER,
		[WEB_REQUIRE_ANY_CLIENT_CERT] =
			SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		[WEB_VERIFY_CLIENT_CERT_IF_GIVEN] = SSL_VERIFY_PEER,
		[WEB_REQUIRE_AND_VERIFY_CLIENT_CERT] =
			SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
	};
	bool verify = w->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
		      w->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT;

	if (w->client_ca_file) {
		STACK_OF(X509_NAME) * names;

		if (check_readable("client_ca_file", w->client_ca_file, err,
				   errlen))
			return -1;
		if (SSL_CTX_load_verify_locations(ctx, w->client_ca_file,
						  NULL) != 1)
			return tls_fail(err, errlen, "client_ca_file",
					w->client_ca_file);
		names = SSL_load_client_CA_file(w->client_ca_file);
		if (!names)
			return tls_fail(err, errlen, "client_ca_file",
					w->client_ca_file);
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	SSL_CTX_set_verify(ctx, modes[w->client_auth],
			   verify ? NULL : accept_any_certificate);
	return 0;
}

static SSL_CTX *context_new(const struct web_config *w, char *err,
			    size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	ERR_clear_error();
	if (!ctx) {
		tls_fail(err, errlen, "cert_file", "a TLS context");
		return NULL;
	}
	SSL_CTX_set_options(ctx,
			    SSL_OP_NO_RENEGOTIATION |
				    (w->prefer_server_cipher_suites
					     ? SSL_OP_CIPHER_SERVER_PREFERENCE
					     : 0));
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* One connection per context: no session to resume. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (load_certificate(ctx, w, err, errlen) ||
	    set_versions(ctx, w, err, errlen) ||
	    set_cipher_suites(ctx, w, err, errlen) ||
	    set_curves(ctx, w, err, errlen) ||
	    set_client_auth(ctx, w, err, errlen)) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

int tls_check(const struct web_config *w, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (!web_config_tls(w))
		return 0;
	ctx = context_new(w, err, errlen);
	SSL_CTX_free(ctx);
	return ctx ? 0 : -1;
}

struct tls_session *tls_session_new(const struct web_config *w, int in_fd,
				    int out_fd, char *err, size_t errlen)
{
	struct tls_session *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory for a TLS session");
		return NULL;
	}
	s->w = w;
	s->ctx = context_new(w, err, errlen);
	if (s->ctx)
		s->ssl = SSL_new(s->ctx);
	if (s->ssl && SSL_set_rfd(s->ssl, in_fd) == 1 &&
	    SSL_set_wfd(s->ssl, out_fd) == 1) {
		SSL_set_accept_state(s->ssl);
		return s;
	}
	if (s->ctx)
		tls_fail(err, errlen, "cert_file", "a TLS session");
	tls_session_free(s);
	return NULL;
}

/* What a failed SSL_* call with return value RC asks for. */
static enum tls_result tls_result_of(struct tls_session *s, int rc)
{
	switch (SSL_get_error(s->ssl, rc)) {
	case SSL_ERROR_WANT_READ: return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE: return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN: return TLS_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error() && (errno == 0 || errno == ECONNRESET))
			return TLS_CLOSED; /* EOF without close_notify */
		return TLS_FAILED;
	default: return TLS_FAILED;
	}
}

/* Before each SSL_* call: a clean error queue and errno, which
 * tls_result_of reads. */
static void tls_call_begin(void)
{
	ERR_clear_error();
	errno = 0;
}

/* After an SSL_*_ex call that returned RC. */
static enum tls_result tls_call_end(struct tls_session *s, int rc)
{
	enum tls_result r = rc == 1 ? TLS_OK : tls_result_of(s, rc);

	ERR_clear_error();
	return r;
}

static bool san_matches(const GENERAL_NAME *gn, const char *want)
{
	char ip[64];
	int type;
	const ASN1_STRING *v = GENERAL_NAME_get0_value(gn, &type);

	if (type == GEN_DNS || type == GEN_EMAIL || type == GEN_URI)
		return (size_t)ASN1_STRING_length(v) == strlen(want) &&
		       !memcmp(ASN1_STRING_get0_data(v), want, strlen(want));
	if (type != GEN_IPADD)
		return false;
	if (ASN1_STRING_length(v) == 4)
		inet_ntop(AF_INET, ASN1_STRING_get0_data(v), ip, sizeof(ip));
	else if (ASN1_STRING_length(v) == 16)
		inet_ntop(AF_INET6, ASN1_STRING_get0_data(v), ip, sizeof(ip));
	else
		return false;
	return !strcmp(ip, want);
}

/* client_allowed_sans: the client's certificate names one of them. */
static bool peer_allowed(struct tls_session *s)
{
	const struct web_list *allowed = &s->w->client_allowed_sans;
	X509 *cert;
	GENERAL_NAMES *sans;
	bool ok = false;

	if (!allowed->count)
		return true;
	cert = SSL_get0_peer_certificate(s->ssl);
	sans = cert ? X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL)
		    : NULL;
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !ok; i++)
		for (size_t j = 0; j < allowed->count && !ok; j++)
			ok = san_matches(sk_GENERAL_NAME_value(sans, i),
					 allowed->items[j]);
	GENERAL_NAMES_free(sans);
	return ok;
}

enum tls_result tls_handshake(struct tls_session *s, const char *peer)
{
	char why[256];
	enum tls_result r;
	int rc;

	tls_call_begin();
	rc = SSL_do_handshake(s->ssl);
	if (rc == 1) {
		if (peer_allowed(s))
			return TLS_OK;
		log_info("%s: TLS client certificate has none of "
			 "client_allowed_sans",
			 peer);
		return TLS_FAILED;
	}
	r = tls_result_of(s, rc);
	if (r == TLS_FAILED || r == TLS_CLOSED)
		log_info("%s: TLS handshake failed: %s", peer,
			 ssl_reason(why, sizeof(why)));
	ERR_clear_error();
	return r == TLS_CLOSED ? TLS_FAILED : r;
}

enum tls_result tls_read(struct tls_session *s, void *buf, size_t len,
			 size_t *got)
{
	tls_call_begin();
	return tls_call_end(s, SSL_read_ex(s->ssl, buf, len, got));
}

enum tls_result tls_write(struct tls_session *s, const void *buf, size_t len,
			  size_t *put)
{
	tls_call_begin();
	return tls_call_end(s, SSL_write_ex(s->ssl, buf, len, put));
}

bool tls_pending(const struct tls_session *s)
{
	return SSL_pending(s->ssl) > 0;
}

void tls_close_notify(struct tls_session *s)
{
	ERR_clear_error();
	SSL_shutdown(s->ssl);
	ERR_clear_error();
}

void tls_session_free(struct tls_session *s)
{
	if (!s)
		return;
	SSL_free(s->ssl);
	SSL_CTX_free(s->ctx);
	free(s);
}
