#include "lib/keys.h"

#include <fcntl.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *bio_text(BIO *b)
{
    char *p = NULL, *out;
    long n = BIO_get_mem_data(b, &p);

    if (n <= 0 || !(out = malloc((size_t)n + 1)))
        return NULL;
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    return out;
}

char *tk_private_pem(const char *type)
{
    EVP_PKEY *k = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                                           : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;

    if (k && b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
        out = bio_text(b);
    BIO_free(b);
    EVP_PKEY_free(k);
    return out;
}

static EVP_PKEY *read_private(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

char *tk_public_pem(const char *private_pem)
{
    EVP_PKEY *k = read_private(private_pem);
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;

    if (k && b && PEM_write_bio_PUBKEY(b, k) == 1)
        out = bio_text(b);
    BIO_free(b);
    EVP_PKEY_free(k);
    return out;
}

char *tk_b64url(const char *data, int len)
{
    char *out = malloc((size_t)len * 4 / 3 + 8);
    int n;

    if (!out)
        return NULL;
    n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (int i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

/* A big number as base64url of its big-endian bytes, padded to `width` bytes
 * when width > 0 (EC coordinates are fixed-size). */
static char *bn_b64url(const BIGNUM *bn, int width)
{
    int len = width > 0 ? width : BN_num_bytes(bn);
    unsigned char *buf = malloc((size_t)len);
    char *out = NULL;

    if (buf && BN_bn2binpad(bn, buf, len) == len)
        out = tk_b64url((const char *)buf, len);
    free(buf);
    return out;
}

char *tk_jwk(const char *private_pem, const char *kid)
{
    EVP_PKEY *k = read_private(private_pem);
    BIGNUM *a = NULL, *b = NULL;
    char *s1 = NULL, *s2 = NULL, *out = NULL;
    int rsa = k && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;

    if (k && rsa && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &a) == 1 &&
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &b) == 1) {
        s1 = bn_b64url(a, 0);
        s2 = bn_b64url(b, 0);
    } else if (k && !rsa && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &a) == 1 &&
               EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &b) == 1) {
        s1 = bn_b64url(a, 32);
        s2 = bn_b64url(b, 32);
    }
    if (s1 && s2) {
        size_t cap = strlen(s1) + strlen(s2) + strlen(kid) + 128;
        if ((out = malloc(cap)) != NULL) {
            if (rsa)
                snprintf(out, cap,
                         "{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"%s\","
                         "\"n\":\"%s\",\"e\":\"%s\"}",
                         kid, s1, s2);
            else
                snprintf(out, cap,
                         "{\"kty\":\"EC\",\"use\":\"sig\",\"alg\":\"ES256\",\"kid\":\"%s\","
                         "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                         kid, s1, s2);
        }
    }
    free(s1);
    free(s2);
    BN_free(a);
    BN_free(b);
    EVP_PKEY_free(k);
    return out;
}

char *tk_sign(const char *alg, const char *key, const char *kid, const char *claims)
{
    return tk_sign_headers(alg, key, kid, NULL, claims);
}

char *tk_sign_headers(const char *alg, const char *key, const char *kid, const char *headers,
                      const char *claims)
{
    jwt_t *jwt = NULL;
    char *out = NULL;

    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_add_grants_json(jwt, claims) == 0 && (!kid || jwt_add_header(jwt, "kid", kid) == 0) &&
        (!headers || jwt_add_headers_json(jwt, headers) == 0) &&
        jwt_set_alg(jwt, jwt_str_alg(alg), (const unsigned char *)key, (int)strlen(key)) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}

static int write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[4096];
    int fd, ok;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    return close(fd) == 0 && ok ? 0 : -1;
}

int tk_write_test_keys(const char *dir)
{
    char *rsa = tk_private_pem("RSA"), *ec = tk_private_pem("EC");
    char *jr = rsa ? tk_jwk(rsa, TK_RSA_KID) : NULL, *je = ec ? tk_jwk(ec, TK_EC_KID) : NULL;
    char *jwks = NULL;
    int rc = -1;

    if (jr && je && (jwks = malloc(strlen(jr) + strlen(je) + 32)) != NULL) {
        sprintf(jwks, "{\"keys\":[%s,%s]}\n", jr, je);
        rc = write_file(dir, "rsa.pem", rsa, 0600) || write_file(dir, "ec.pem", ec, 0600) ||
                     write_file(dir, "jwks.json", jwks, 0644)
                 ? -1
                 : 0;
    }
    free(rsa);
    free(ec);
    free(jr);
    free(je);
    free(jwks);
    return rc;
}

char *tk_bearer(const char *alg, const char *key, const char *kid, const char *claims)
{
    char *t = tk_sign(alg, key, kid, claims), *h = t ? malloc(strlen(t) + 8) : NULL;
    if (h)
        sprintf(h, "Bearer %s", t);
    free(t);
    return h;
}
