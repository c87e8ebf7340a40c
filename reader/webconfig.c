// SPDX-License-Identifier: Apache-2.0
/*
 * Parsing the web configuration file (exporter-toolkit format) with
 * libyaml's document API: the file becomes a node tree, which is walked
 * key by key. Every key the toolkit documents is known; any other key, a
 * value of the wrong kind and a bad value is an error naming the key's
 * full path ("tls_server_config.min_version") and its line.
 *
 * What must stay true: a configuration is either parsed whole or
 * rejected; on failure nothing is left allocated.
 */
#include "reader.h"
#include "webconfig.h"

#include "readfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <yaml.h>

struct parse {
	yaml_document_t *doc;
	const char *path;
	const char *dir; /* PATH's directory with a trailing '/', or "" */
	struct web_config *w;
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const yaml_node_t *node, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct parse *p, const yaml_node_t *node, const char *key,
		const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%zu: %s: %s", p->path,
		 node ? node->start_mark.line + 1 : 1, key, why);
	return -1;
}

/* ---- scalars */

static const char *scalar(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

static bool is_null(const yaml_node_t *node)
{
	const char *v;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = scalar(node);
	return !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

static int want_scalar(struct parse *p, const yaml_node_t *node,
		       const char *key)
{
	if (node->type != YAML_SCALAR_NODE)
		return fail(p, node, key, "expected a single value");
	if (strlen(scalar(node)) != node->data.scalar.length)
		return fail(p, node, key, "contains a NUL byte");
	return 0;
}

/* A file name, made relative to the configuration file's directory. */
static int take_file(struct parse *p, const yaml_node_t *node, const char *key,
		     char **out)
{
	const char *v;

	if (want_scalar(p, node, key))
		return -1;
	v = scalar(node);
	if (asprintf(out, "%s%s", v[0] == '/' ? "" : p->dir, v) < 0) {
		*out = NULL;
		return fail(p, node, key, "out of memory");
	}
	return 0;
}

static int take_bool(struct parse *p, const yaml_node_t *node, const char *key,
		     bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };

	if (want_scalar(p, node, key))
		return -1;
	for (int i = 0; yes[i]; i++) {
		if (!strcasecmp(scalar(node), yes[i]))
			return *out = true, 0;
		if (!strcasecmp(scalar(node), no[i]))
			return *out = false, 0;
	}
	return fail(p, node, key, "bad value \"%s\": use true or false",
		    scalar(node));
}

/* The index of the node's value in CHOICES, or -1 after an error that
 * lists them. */
static int take_choice(struct parse *p, const yaml_node_t *node,
		       const char *key, const char *const *choices)
{
	char list[512];
	size_t used = 0;

	if (want_scalar(p, node, key))
		return -1;
	for (int i = 0; choices[i]; i++)
		if (!strcmp(scalar(node), choices[i]))
			return i;
	list[0] = '\0';
	for (int i = 0; choices[i] && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? ", " : "", choices[i]);
	return fail(p, node, key, "bad value \"%s\": use %s", scalar(node),
		    list);
}

/* ---- collections */

static int list_add(struct parse *p, const yaml_node_t *node, const char *key,
		    struct web_list *l, const char *text)
{
	char **grown = realloc(l->items, (l->count + 1) * sizeof(*grown));

	if (!grown)
		return fail(p, node, key, "out of memory");
	l->items = grown;
	if (!(l->items[l->count] = strdup(text)))
		return fail(p, node, key, "out of memory");
	l->count++;
	return 0;
}

static int pairs_add(struct parse *p, const yaml_node_t *node, const char *key,
		     struct web_pairs *l, const char *name, const char *value)
{
	struct web_pair *grown =
		realloc(l->items, (l->count + 1) * sizeof(*grown));

	if (!grown)
		return fail(p, node, key, "out of memory");
	l->items = grown;
	l->items[l->count].name = strdup(name);
	l->items[l->count].value = strdup(value);
	l->count++;
	if (!l->items[l->count - 1].name || !l->items[l->count - 1].value)
		return fail(p, node, key, "out of memory");
	return 0;
}

/* Each item of a sequence through MAP (which names it "KEY[i]"). */
static int take_sequence(struct parse *p, const yaml_node_t *node,
			 const char *key,
			 int (*map)(struct parse *, const yaml_node_t *,
				    const char *, void *),
			 void *ctx)
{
	char item_key[128];
	size_t i = 0;

	if (node->type != YAML_SEQUENCE_NODE)
		return fail(p, node, key, "expected a list");
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		const yaml_node_t *item = yaml_document_get_node(p->doc, *it);

		snprintf(item_key, sizeof(item_key), "%s[%zu]", key, i);
		if (want_scalar(p, item, item_key) ||
		    map(p, item, item_key, ctx))
			return -1;
	}
	return 0;
}

struct mapping_key {
	const char *name;
	int (*take)(struct parse *p, const yaml_node_t *value, const char *key);
};

typedef int (*pair_fn)(struct parse *p, const yaml_node_t *k,
		       const yaml_node_t *v, const char *key, void *ctx);

/* Each KEY: VALUE of a mapping through FN, which gets the key's full name
 * (PREFIX.KEY). */
static int for_each_pair(struct parse *p, const yaml_node_t *node,
			 const char *prefix, pair_fn fn, void *ctx)
{
	const char *where = prefix[0] ? prefix : "(top level)";

	if (node->type != YAML_MAPPING_NODE)
		return fail(p, node, where, "expected keys and values");
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k =
			yaml_document_get_node(p->doc, pair->key);
		const yaml_node_t *v =
			yaml_document_get_node(p->doc, pair->value);
		char full[256];

		if (want_scalar(p, k, where))
			return -1;
		snprintf(full, sizeof(full), "%s%s%s", prefix,
			 prefix[0] ? "." : "", scalar(k));
		if (fn(p, k, v, full, ctx))
			return -1;
	}
	return 0;
}

struct known_keys {
	const struct mapping_key *keys;
	uint64_t seen;
};

/* A key of KNOWN's list through its handler; unknown and repeated keys
 * are errors, a null value leaves the default. */
static int take_known_key(struct parse *p, const yaml_node_t *k,
			  const yaml_node_t *v, const char *key, void *ctx)
{
	struct known_keys *known = ctx;
	int i;

	for (i = 0;
	     known->keys[i].name && strcmp(known->keys[i].name, scalar(k)); i++)
		;
	if (!known->keys[i].name)
		return fail(p, k, key, "unknown key");
	if (known->seen & (1ull << i))
		return fail(p, k, key, "given twice");
	known->seen |= 1ull << i;
	return is_null(v) ? 0 : known->keys[i].take(p, v, key);
}

static int take_mapping(struct parse *p, const yaml_node_t *node,
			const char *prefix, const struct mapping_key *keys)
{
	struct known_keys known = { keys, 0 };

	if (is_null(node))
		return 0;
	return for_each_pair(p, node, prefix, take_known_key, &known);
}

/* ---- tls_server_config */

static int take_cert_file(struct parse *p, const yaml_node_t *v,
			  const char *key)
{
	return take_file(p, v, key, &p->w->cert_file);
}

static int take_key_file(struct parse *p, const yaml_node_t *v, const char *key)
{
	return take_file(p, v, key, &p->w->key_file);
}

static int take_client_ca_file(struct parse *p, const yaml_node_t *v,
			       const char *key)
{
	return take_file(p, v, key, &p->w->client_ca_file);
}

static int take_client_auth(struct parse *p, const yaml_node_t *v,
			    const char *key)
{
	static const char *const names[] = {
		"NoClientCert",
		"RequestClientCert",
		"RequireAnyClientCert",
		"VerifyClientCertIfGiven",
		"RequireAndVerifyClientCert",
		NULL,
	};
	int i = take_choice(p, v, key, names);

	if (i < 0)
		return -1;
	p->w->client_auth = (enum web_client_auth)i;
	return 0;
}

static int take_version(struct parse *p, const yaml_node_t *v, const char *key,
			enum web_tls_version *out)
{
	static const char *const names[] = { "TLS10", "TLS11", "TLS12", "TLS13",
					     NULL };
	int i = take_choice(p, v, key, names);

	if (i < 0)
		return -1;
	*out = (enum web_tls_version)(WEB_TLS10 + i);
	return 0;
}

static int take_min_version(struct parse *p, const yaml_node_t *v,
			    const char *key)
{
	return take_version(p, v, key, &p->w->min_version);
}

static int take_max_version(struct parse *p, const yaml_node_t *v,
			    const char *key)
{
	return take_version(p, v, key, &p->w->max_version);
}

static int add_to_list(struct parse *p, const yaml_node_t *item,
		       const char *key, void *list)
{
	if (!*scalar(item))
		return fail(p, item, key, "empty");
	return list_add(p, item, key, list, scalar(item));
}

static int take_cipher_suites(struct parse *p, const yaml_node_t *v,
			      const char *key)
{
	return take_sequence(p, v, key, add_to_list, &p->w->cipher_suites);
}

static int take_allowed_sans(struct parse *p, const yaml_node_t *v,
			     const char *key)
{
	return take_sequence(p, v, key, add_to_list,
			     &p->w->client_allowed_sans);
}

/* Go's curve names, and the TLS groups OpenSSL calls them. */
static const char *const curve_names[] = { "CurveP256", "CurveP384",
					   "CurveP521", "X25519", NULL };
static const char *const curve_groups[] = { "P-256", "P-384", "P-521",
					    "X25519" };

static int add_curve(struct parse *p, const yaml_node_t *item, const char *key,
		     void *list)
{
	int i = take_choice(p, item, key, curve_names);

	if (i < 0)
		return -1;
	return list_add(p, item, key, list, curve_groups[i]);
}

static int take_curves(struct parse *p, const yaml_node_t *v, const char *key)
{
	return take_sequence(p, v, key, add_curve, &p->w->curves);
}

static int take_prefer_server(struct parse *p, const yaml_node_t *v,
			      const char *key)
{
	return take_bool(p, v, key, &p->w->prefer_server_cipher_suites);
}

static int take_tls_server_config(struct parse *p, const yaml_node_t *v,
				  const char *key)
{
	static const struct mapping_key keys[] = {
		{ "cert_file", take_cert_file },
		{ "key_file", take_key_file },
		{ "client_auth_type", take_client_auth },
		{ "client_ca_file", take_client_ca_file },
		{ "client_allowed_sans", take_allowed_sans },
		{ "cipher_suites", take_cipher_suites },
		{ "prefer_server_cipher_suites", take_prefer_server },
		{ "min_version", take_min_version },
		{ "max_version", take_max_version },
		{ "curve_preferences", take_curves },
		{ NULL, NULL },
	};

	return take_mapping(p, v, key, keys);
}

/* ---- http_server_config */

/* The headers exporter-toolkit lets a configuration set, and the values
 * it accepts for them (NULL: any value). */
static const struct {
	const char *name;
	const char *values[3];
} settable_headers[] = {
	{ "Strict-Transport-Security", { NULL } },
	{ "X-Content-Type-Options", { "nosniff", NULL } },
	{ "X-Frame-Options", { "deny", "sameorigin", NULL } },
	{ "X-XSS-Protection", { NULL } },
	{ "Content-Security-Policy", { NULL } },
};

static bool header_value_allowed(size_t h, const char *value)
{
	if (!settable_headers[h].values[0])
		return true;
	for (size_t i = 0; settable_headers[h].values[i]; i++)
		if (!strcasecmp(value, settable_headers[h].values[i]))
			return true;
	return false;
}

static size_t web_header_bytes(const struct web_config *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->headers.count; i++)
		n += strlen(w->headers.items[i].name) +
		     strlen(w->headers.items[i].value) + 4;
	return n;
}

static int take_header(struct parse *p, const yaml_node_t *k,
		       const yaml_node_t *v, const char *key, void *ctx)
{
	const size_t n = sizeof(settable_headers) / sizeof(settable_headers[0]);
	size_t h;

	(void)ctx;
	for (size_t i = 0; i < p->w->headers.count; i++)
		if (!strcasecmp(p->w->headers.items[i].name, scalar(k)))
			return fail(p, k, key, "given twice");

	for (h = 0; h < n && strcasecmp(scalar(k), settable_headers[h].name);
	     h++)
		;
	if (h == n)
		return fail(
			p, k, key,
			"this header cannot be set; use "
			"Strict-Transport-Security, X-Content-Type-Options, "
			"X-Frame-Options, X-XSS-Protection or "
			"Content-Security-Policy");
	if (want_scalar(p, v, key))
		return -1;
	for (const char *c = scalar(v); *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			return fail(p, v, key,
				    "control characters are not "
				    "allowed in a header");
	if (strlen(settable_headers[h].name) + strlen(scalar(v)) + 4 +
		    web_header_bytes(p->w) >
	    WEBCONFIG_MAX_HEADER_BYTES)
		return fail(p, v, key,
			    "the headers are longer than %d bytes "
			    "together",
			    WEBCONFIG_MAX_HEADER_BYTES);
	if (!header_value_allowed(h, scalar(v)))
		return fail(p, v, key, "bad value \"%s\": use %s%s%s",
			    scalar(v), settable_headers[h].values[0],
			    settable_headers[h].values[1] ? " or " : "",
			    settable_headers[h].values[1]
				    ? settable_headers[h].values[1]
				    : "");
	return pairs_add(p, v, key, &p->w->headers, settable_headers[h].name,
			 scalar(v));
}

static int take_headers(struct parse *p, const yaml_node_t *v, const char *key)
{
	return for_each_pair(p, v, key, take_header, NULL);
}

static int take_http2(struct parse *p, const yaml_node_t *v, const char *key)
{
	bool ignored; /* texporter answers HTTP/1.1 only */

	return take_bool(p, v, key, &ignored);
}

static int take_http_server_config(struct parse *p, const yaml_node_t *v,
				   const char *key)
{
	static const struct mapping_key keys[] = {
		{ "headers", take_headers },
		{ "http2", take_http2 },
		{ NULL, NULL },
	};

	return take_mapping(p, v, key, keys);
}

/* ---- basic_auth_users */

static int take_user(struct parse *p, const yaml_node_t *k,
		     const yaml_node_t *v, const char *key, void *ctx)
{
	const char *hash;

	(void)ctx;
	if (!*scalar(k) || strchr(scalar(k), ':'))
		return fail(p, k, key,
			    "a user name must be non-empty and "
			    "without ':'");
	for (size_t i = 0; i < p->w->users.count; i++)
		if (!strcmp(p->w->users.items[i].name, scalar(k)))
			return fail(p, k, key, "given twice");
	if (want_scalar(p, v, key))
		return -1;
	hash = scalar(v);
	/* bcrypt, as the toolkit: $2a$, $2b$ or $2y$, cost, 53 characters */
	if (strlen(hash) != 60 || hash[0] != '$' || hash[1] != '2' ||
	    !strchr("aby", hash[2]) || hash[3] != '$' || hash[6] != '$')
		return fail(p, v, key,
			    "not a bcrypt hash; make one with "
			    "htpasswd -nBC 10 \"\" | tr -d ':\\n'");
	return pairs_add(p, v, key, &p->w->users, scalar(k), hash);
}

static int take_basic_auth_users(struct parse *p, const yaml_node_t *v,
				 const char *key)
{
	return for_each_pair(p, v, key, take_user, NULL);
}

/* ---- the whole file */

static int check_consistency(struct parse *p)
{
	struct web_config *w = p->w;

	if (w->cert_file && !w->key_file)
		return fail(p, NULL, "tls_server_config.key_file",
			    "missing (cert_file is set)");
	if (w->key_file && !w->cert_file)
		return fail(p, NULL, "tls_server_config.cert_file",
			    "missing (key_file is set)");
	if (!w->cert_file && (w->client_ca_file || w->client_auth ||
			      w->client_allowed_sans.count))
		return fail(p, NULL, "tls_server_config",
			    "client certificates need TLS: set cert_file and "
			    "key_file");
	if (w->client_ca_file && w->client_auth == WEB_NO_CLIENT_CERT)
		return fail(p, NULL, "tls_server_config.client_ca_file",
			    "set but client_auth_type is NoClientCert");
	if (!w->client_ca_file &&
	    (w->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
	     w->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT))
		return fail(p, NULL, "tls_server_config.client_ca_file",
			    "missing: client_auth_type verifies client "
			    "certificates against it");
	if (w->max_version && w->max_version < w->min_version)
		return fail(p, NULL, "tls_server_config.max_version",
			    "older than min_version");
	return 0;
}

static const struct mapping_key top_keys[] = {
	{ "tls_server_config", take_tls_server_config },
	{ "http_server_config", take_http_server_config },
	{ "basic_auth_users", take_basic_auth_users },
	{ NULL, NULL },
};

static int parse_document(struct parse *p, yaml_parser_t *parser)
{
	yaml_node_t *root;

	if (!yaml_parser_load(parser, p->doc)) {
		snprintf(p->err, p->errlen, "%s:%zu: not YAML: %s", p->path,
			 parser->problem_mark.line + 1,
			 parser->problem ? parser->problem : "parse error");
		return -1;
	}
	root = yaml_document_get_root_node(p->doc);
	if (root && take_mapping(p, root, "", top_keys))
		return -1;
	p->w->min_version = p->w->min_version ? p->w->min_version : WEB_TLS12;
	return check_consistency(p);
}

int web_config_parse(const char *path, const char *text, size_t len,
		     struct web_config *w, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir = strndup(path, slash ? (size_t)(slash - path) + 1 : 0);
	yaml_parser_t parser;
	yaml_document_t doc;
	struct parse p = { &doc, path, dir, w, err, errlen };
	int rc;

	*w = (struct web_config){ 0 };
	if (!dir || !yaml_parser_initialize(&parser)) {
		free(dir);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	rc = parse_document(&p, &parser);
	if (parser.error == YAML_NO_ERROR)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(dir);
	if (rc)
		web_config_free(w);
	return rc;
}

int web_config_load(const char *path, struct web_config *w, char *err,
		    size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	switch (readfile(path, WEBCONFIG_MAX_BYTES, &text, &len)) {
	case READFILE_OK: break;
	case READFILE_DIRECTORY:
		snprintf(err, errlen, "%s: a directory, not a file", path);
		return -1;
	case READFILE_TOO_LARGE:
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			 WEBCONFIG_MAX_BYTES);
		return -1;
	case READFILE_NO_MEMORY:
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	default:
		snprintf(err, errlen, "cannot read %s: %s%s", path,
			 strerror(errno),
			 errno == EACCES ? " (make it readable by the reader's "
					   "group)"
					 : "");
		return -1;
	}
	rc = web_config_parse(path, text, len, w, err, errlen);
	free(text);
	return rc;
}

static void list_free(struct web_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
}

static void pairs_free(struct web_pairs *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->items[i].name);
		free(l->items[i].value);
	}
	free(l->items);
}

void web_config_free(struct web_config *w)
{
	free(w->cert_file);
	free(w->key_file);
	free(w->client_ca_file);
	list_free(&w->client_allowed_sans);
	list_free(&w->cipher_suites);
	list_free(&w->curves);
	pairs_free(&w->headers);
	pairs_free(&w->users);
	*w = (struct web_config){ 0 };
}

void web_config_header_lines(const struct web_config *w, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < w->headers.count && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s: %s\r\n",
					 w->headers.items[i].name,
					 w->headers.items[i].value);
}
