/* Token keys and tokens for the tests, made with the libraries the service
 * verifies with (OpenSSL for keys, libjwt for tokens).
 *
 * The test stack trusts a JWKS with an RSA key (kid "rsa-1", RS256) and an EC
 * P-256 key (kid "ec-1", ES256); tests/lib/mkkeys writes it and the private
 * keys into a directory (COMMERCE_TEST_AUTH_DIR) from which the test client
 * signs. */
#ifndef COMMERCE_TEST_KEYS_H
#define COMMERCE_TEST_KEYS_H

#include <stdint.h>

#define TK_RSA_KID "rsa-1"
#define TK_EC_KID "ec-1"

/* A fresh private key: "RSA" (2048 bits) or "EC" (P-256), as PKCS#8 PEM,
 * malloc'd. */
char *tk_private_pem(const char *type);

/* The public half of a private PEM: as a PEM (malloc'd) or as one JWK object
 * text with the given kid (malloc'd). */
char *tk_public_pem(const char *private_pem);
char *tk_jwk(const char *private_pem, const char *kid);

/* A signed token: alg "RS256", "ES256" or "HS256"; key is the private PEM or
 * the HS256 secret; kid may be NULL; claims is a JSON object text. The result
 * is malloc'd (NULL when libjwt refuses). */
char *tk_sign(const char *alg, const char *key, const char *kid, const char *claims);
/* The same with more header members (a JSON object text, e.g. "{\"crit\":[\"x\"]}"). */
char *tk_sign_headers(const char *alg, const char *key, const char *kid, const char *headers,
                      const char *claims);

/* "Bearer <token>" for tk_sign's token (malloc'd; NULL when signing fails). */
char *tk_bearer(const char *alg, const char *key, const char *kid, const char *claims);

/* base64url without padding, malloc'd (to build deliberately broken tokens). */
char *tk_b64url(const char *data, int len);

/* Write dir/rsa.pem, dir/ec.pem (private, 0600) and dir/jwks.json. 0 or -1. */
int tk_write_test_keys(const char *dir);

#endif
