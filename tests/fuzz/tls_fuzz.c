// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the TLS-wrapped request path of conn.c, as the
 * --listen loop and inetd mode drive it, over a socket pair. An input
 * that starts like a TLS record (0x16) goes to the server raw, as a
 * client's handshake; any other input is sent as the request through a
 * real TLS session, after a handshake with an OpenSSL client. Either way
 * the connection must end (or wait) in a defined state without a crash,
 * a leak or undefined behaviour. The certificate, key and web
 * configuration (TLS and basic auth) are made once, in a temporary
 * directory. */
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROUNDS 64

static char web_config_path[64];
static SSL_CTX *client_ctx;

static void write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
	FILE *f = fopen(path, "w");

	if (!f || (key && !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) ||
	    (cert && !PEM_write_X509(f, cert)))
		abort();
	fclose(f);
}

/* A self-signed P-256 certificate for "fuzz.test" in DIR. */
static void make_certificate(const char *dir)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *name = X509_get_subject_name(cert);
	char path[96];

	if (!key || !cert)
		abort();
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz.test", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	X509_set_pubkey(cert, key);
	if (!X509_sign(cert, key, EVP_sha256()))
		abort();
	snprintf(path, sizeof(path), "%s/server.key", dir);
	write_pem(path, key, NULL);
	snprintf(path, sizeof(path), "%s/server.pem", dir);
	write_pem(path, NULL, cert);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static char work_dir[] = "/tmp/texporter-tls-fuzz.XXXXXX";

/* The temporary directory goes when the fuzzer exits. */
static void remove_work_dir(void)
{
	static const char *const files[] = { "server.key", "server.pem",
					     "web.yml" };
	char path[96];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", work_dir, files[i]);
		unlink(path);
	}
	rmdir(work_dir);
}

static void setup_once(void)
{
	const char *dir = work_dir;
	FILE *f;

	if (client_ctx)
		return;
	log_init("tls_fuzz", LOG_PANIC);
	if (!mkdtemp(work_dir))
		abort();
	atexit(remove_work_dir);
	make_certificate(dir);
	snprintf(web_config_path, sizeof(web_config_path), "%s/web.yml", dir);
	f = fopen(web_config_path, "w");
	if (!f)
		abort();
	/* bcrypt cost 4: the auth path is fuzzed too, quickly. Password
	 * "fuzz". */
	fputs("tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
	      "basic_auth_users:\n  prometheus: $2b$04$ajWcyUp7EMCq6KWgbr0ZkOGSU1"
	      "RgSxZWzCXnJLYor6N1XCKOfrlSm\n", f);
	fclose(f);
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (!client_ctx)
		abort();
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
}

/* One round of the server: what poll() would report, then a step. */
static void server_round(struct conn *c, const struct scrape_config *cfg)
{
	struct pollfd p;

	p.fd = conn_poll_fd(c, &p.events);
	p.revents = 0;
	if (poll(&p, 1, 0) > 0)
		conn_step(c, p.revents, now_ms(), cfg);
}

/* Reads and drops what the server sent, so its writes never block. */
static void drain(int fd)
{
	char sink[16384];

	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

static void send_raw(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;
		data += n, size -= (size_t)n;
	}
	shutdown(fd, SHUT_WR);
}

/* Handshake with the server, then DATA as the request; false if the
 * handshake did not complete. */
static bool send_through_tls(SSL *client, struct conn *c,
			     const struct scrape_config *cfg,
			     const uint8_t *data, size_t size)
{
	size_t put = 0;

	for (int i = 0; i < MAX_ROUNDS && SSL_do_handshake(client) != 1; i++)
		server_round(c, cfg);
	if (!SSL_is_init_finished(client))
		return false;
	for (int i = 0; i < MAX_ROUNDS && put < size; i++) {
		size_t n = 0;

		if (SSL_write_ex(client, data + put, size - put, &n) == 1)
			put += n;
		server_round(c, cfg);
	}
	SSL_shutdown(client);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scrape_config cfg = { .pin_root = "/nonexistent/texporter" };
	struct conn *c = calloc(1, sizeof(*c));
	SSL *client = NULL;
	int sv[2];

	setup_once();
	cfg.web_config_file = web_config_path;
	if (!c || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		abort();
	conn_init(c, sv[0], sv[0], now_ms());
	if (size && data[0] == 0x16) {
		send_raw(sv[1], data, size);
	} else {
		client = SSL_new(client_ctx);
		SSL_set_fd(client, sv[1]);
		SSL_set_connect_state(client);
		if (!send_through_tls(client, c, &cfg, data, size))
			shutdown(sv[1], SHUT_WR);
	}
	for (int i = 0; i < MAX_ROUNDS && c->state != CONN_DONE; i++) {
		server_round(c, &cfg);
		drain(sv[1]);
	}
	SSL_free(client);
	conn_release(c);
	free(c);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
