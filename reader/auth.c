// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP basic authentication against basic_auth_users, as exporter-toolkit
 * does it: "Authorization: Basic base64(user:password)", the password
 * checked by libcrypt against the user's bcrypt hash ($2a$, $2b$, $2y$).
 *
 * What must stay true: an unknown user costs the same bcrypt round as a
 * known one, so the time of a refusal does not tell which names exist;
 * hashes are compared in constant time; the decoded password is wiped.
 */
#include "reader.h"
#include "webconfig.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

/* Checked against when the user is unknown; matches no password. */
static const char dummy_hash[] =
	"$2b$10$AAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/* Room for the credentials of any request head. */
#define CREDENTIALS_MAX (HTTP_MAX_HEAD / 4 * 3 + 3)

/* Decodes the base64 TEXT into out (NUL-terminated); -1 if malformed. */
static int base64_decode(const char *text, size_t len, char *out, size_t room)
{
	int n;

	if (!len || len % 4 || len / 4 * 3 + 1 > room)
		return -1;
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)text,
			    (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	n -= (text[len - 1] == '=') + (text[len - 2] == '=');
	out[n] = '\0';
	return n;
}

static bool password_matches(const char *password, const char *hash)
{
	struct crypt_data data = { 0 };
	const char *computed = crypt_r(password, hash, &data);
	size_t len = strlen(hash);

	return computed && strlen(computed) == len &&
	       CRYPTO_memcmp(computed, hash, len) == 0;
}

bool auth_allows(const struct web_config *w, const char *authorization,
		 size_t len)
{
	char decoded[CREDENTIALS_MAX];
	const char *hash = dummy_hash;
	char *colon;
	int n;
	bool known = false, ok;

	if (!w->users.count)
		return true;
	if (!authorization || len < 6 ||
	    strncasecmp(authorization, "Basic ", 6))
		return false;
	authorization += 6, len -= 6;
	while (len && *authorization == ' ')
		authorization++, len--;
	n = base64_decode(authorization, len, decoded, sizeof(decoded));
	if (n < 0 || strlen(decoded) != (size_t)n ||
	    !(colon = strchr(decoded, ':')))
		return false;
	*colon = '\0';
	for (size_t i = 0; i < w->users.count; i++) {
		if (!strcmp(w->users.items[i].name, decoded)) {
			hash = w->users.items[i].value;
			known = true;
		}
	}
	ok = password_matches(colon + 1, hash) && known;
	explicit_bzero(decoded, sizeof(decoded));
	return ok;
}
