/* End-user access tokens: the `Authorization: Bearer <JWT>` that user routes
 * carry, verified with libjwt against keys read once at start.
 *
 * Keys (from the configuration):
 *   auth_public_keys_file  a JWKS document ({"keys":[…]}: RSA keys for RS256,
 *                          EC P-256 keys for ES256, each optionally with a kid)
 *                          or one or more PEM public keys (RSA or EC P-256);
 *   auth_hs256_secret      a shared secret of at least 32 bytes for HS256
 *                          (never together with public keys: a public key must
 *                          not be usable as an HMAC secret).
 * A token is accepted when its signature verifies with a configured key whose
 * algorithm is the token's `alg` (so `alg: none` and HS256-signed-with-a-
 * public-key are refused), the token's `kid` names that key when both carry
 * one, `exp` is present and not past, `nbf` and `iat` are not in the future
 * (each with auth_leeway_s of skew), `iss` equals auth_issuer, `aud` equals or
 * contains auth_audience, and the claim auth_user_claim (default `sub`) holds a
 * positive 64-bit user id, as a JSON string of decimal digits or a number.
 * Nothing here touches the database: the token is the credential. */
#ifndef COMMERCE_AUTH_H
#define COMMERCE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

/* Longest Authorization header value accepted (a JWT with a large RSA
 * signature and ordinary claims is well below this). */
#define AUTH_MAX_TOKEN 8192

typedef struct auth auth_t;

enum auth_status {
    AUTH_OK,
    AUTH_NO_TOKEN,   /* no Authorization header (or an empty one, or "Bearer" alone) */
    AUTH_NOT_BEARER, /* an Authorization header of another scheme: a bare token, Basic… */
    AUTH_BAD_TOKEN,  /* a Bearer token that does not verify (any reason) */
};

/* The scheme of an Authorization header value (NULL when absent): AUTH_OK for
 * "Bearer" (any case) and a space, else AUTH_NO_TOKEN or AUTH_NOT_BEARER. */
enum auth_status auth_scheme(const char *header);

/* Read the keys the configuration names. Returns NULL and a one-line reason
 * in err when the configuration cannot be used. With auth=off the handle
 * verifies nothing and auth_enabled() is false. The caller frees it. */
auth_t *auth_new(const config_t *cfg, char *err, size_t errcap);
void auth_free(auth_t *a);

bool auth_enabled(const auth_t *a);

/* Number of verification keys loaded (for the start-up log). */
int auth_key_count(const auth_t *a);

/* Verify an Authorization header value (NULL when absent) at Unix time now:
 * AUTH_NO_TOKEN or AUTH_NOT_BEARER as auth_scheme says, else AUTH_OK (which
 * sets *user_id) or AUTH_BAD_TOKEN. The answer depends only on the handle,
 * the header and the time given: a token that verified is remembered in the
 * handle's cache (http/tokencache.h) with the window its exp, nbf and iat
 * allow, and answered from it while now is inside that window, without
 * base64, JSON or a signature check. Only tokens that verified are kept. */
enum auth_status auth_check(const auth_t *a, const char *header, int64_t now, int64_t *user_id);

/* Share verified tokens with the other workers of the pool through the table
 * in the file path (http/tokenshare.h; sized from auth_token_cache): a token
 * one worker verified is then taken by the others from the table, while its
 * window holds, without a check of their own, and only by a handle with the
 * same keys, issuer, audience, user claim and leeway. Nothing to do (0) with
 * auth=off or auth_token_cache=0; -1 and a reason in err when the file cannot
 * be used (the handle goes on with its own table). */
int auth_share(auth_t *a, const char *path, char *err, size_t errcap);

/* The counters of the handle's verified-token cache (auth_token_cache slots;
 * all zero with auth=off or auth_token_cache=0). */
struct tokencache_stats;
void auth_cache_stats(const auth_t *a, struct tokencache_stats *out);

#endif
