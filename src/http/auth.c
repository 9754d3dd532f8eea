#include "http/auth.h"
#include "common/rc.h"

#include <errno.h>
#include <json-c/json.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "http/tokencache.h"
#include "http/tokenshare.h"

#define AUTH_MAX_KEYS 16
#define KEYS_FILE_MAX (1 << 20)
/* The verified-token cache's ring: 256 bytes a slot (an RS256 token of
 * ordinary claims is about 500 bytes, HS256 and ES256 about 250), and at
 * least 16 times the longest token, which tokencache_put then always keeps. */
#define CACHE_BYTES_PER_SLOT 256
#define CACHE_MIN_RING (16 * (AUTH_MAX_TOKEN + 1))
/* The pool's shared table: 16 entries for each slot of a worker's own table
 * (a pool of 16 workers sees every worker's tokens), at least 2^16 (4 MiB) and
 * at most 2^18 (16 MiB). */
#define SHARE_PER_SLOT 16
#define SHARE_MIN_SLOTS (1u << 16)
#define SHARE_MAX_SLOTS (1u << 18)

struct auth_key {
    char kid[128];  /* "" when the key has none */
    jwt_alg_t alg;  /* the one algorithm this key verifies */
    char *material; /* PEM text of a public key, or the HS256 secret */
    int len;
};

struct auth {
    bool enabled;
    int nkeys;
    struct auth_key keys[AUTH_MAX_KEYS];
    char issuer[256], audience[256], user_claim[64];
    int64_t leeway;
    /* The tokens these keys and claims verified: they verify again, so long
     * as their time window holds, without another check. The cache lives and
     * dies with the keys: a key set read again (a worker replaced after the
     * keys rotated) starts with an empty one. auth_check fills it through the
     * const handle: verifying changes no outcome, only its cost. NULL with
     * auth_token_cache=0. */
    tokencache_t *cache;
    size_t cache_slots;
    /* The pool's shared table (auth_share; NULL until then, or without one),
     * keyed by SHA-256(keyset, token): keyset is the digest of everything a
     * token's verdict depends on besides the time (the keys, the claim rules),
     * so workers with other keys or rules never take each other's answers. */
    struct share *share;
};

struct share {
    tokenshare_t *table;
    EVP_MD *sha256;
    EVP_MD_CTX *ctx;
    unsigned char keyset[TOKENSHARE_KEY];
    uint64_t hits;
};

static void share_free(struct share *s)
{
    if (!s)
        return;
    tokenshare_close(s->table);
    EVP_MD_CTX_free(s->ctx);
    EVP_MD_free(s->sha256);
    free(s);
}

void auth_free(auth_t *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->nkeys; i++) {
        OPENSSL_cleanse(a->keys[i].material, (size_t)a->keys[i].len);
        free(a->keys[i].material);
    }
    tokencache_free(a->cache);
    share_free(a->share);
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

bool auth_enabled(const auth_t *a) { return a && a->enabled; }

int auth_key_count(const auth_t *a) { return a ? a->nkeys : 0; }

static int add_key(auth_t *a, const char *kid, jwt_alg_t alg, const char *material, size_t len,
                   char *err, size_t cap)
{
    struct auth_key *k;

    if (a->nkeys == AUTH_MAX_KEYS) {
        util_errf(err, cap, "more than %d keys", AUTH_MAX_KEYS);
        return -1;
    }
    if (strlen(kid) >= sizeof(k->kid)) {
        util_errf(err, cap, "kid longer than %zu characters", sizeof(k->kid) - 1);
        return -1;
    }
    k = &a->keys[a->nkeys];
    k->material = malloc(len + 1);
    if (!k->material) {
        util_errf(err, cap, "out of memory");
        return -1;
    }
    memcpy(k->material, material, len);
    k->material[len] = '\0';
    k->len = (int)len;
    k->alg = alg;
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    a->nkeys++;
    return 0;
}

/* The algorithm a public key verifies: RS256 for RSA of at least 2048 bits,
 * ES256 for EC on P-256; JWT_ALG_INVAL for anything else. */
static jwt_alg_t key_alg(EVP_PKEY *pkey)
{
    char group[64] = "";

    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(pkey) >= 2048 ? JWT_ALG_RS256 : JWT_ALG_INVAL;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1)
            return JWT_ALG_INVAL;
        return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0 ? JWT_ALG_ES256
                                                                               : JWT_ALG_INVAL;
    default:
        return JWT_ALG_INVAL;
    }
}

/* Add pkey as a PEM public key (the form libjwt verifies with). */
static int add_pkey(auth_t *a, const char *kid, EVP_PKEY *pkey, char *err, size_t cap)
{
    jwt_alg_t alg = key_alg(pkey);
    BIO *mem;
    char *pem;
    long len;
    int rc = -1;

    if (alg == JWT_ALG_INVAL) {
        util_errf(err, cap, "key%s%s: only RSA (2048 bits or more) and EC P-256 keys are accepted",
                  kid[0] ? " " : "", kid);
        return -1;
    }
    mem = BIO_new(BIO_s_mem());
    if (mem && PEM_write_bio_PUBKEY(mem, pkey) == 1 && (len = BIO_get_mem_data(mem, &pem)) > 0)
        rc = add_key(a, kid, alg, pem, (size_t)len, err, cap);
    else
        util_errf(err, cap, "cannot encode a public key");
    BIO_free(mem);
    return rc;
}

/* base64url (RFC 4648 section 5, no padding) of a JWK member into a malloc'd
 * buffer, decoded by OpenSSL. Returns the length, or -1. */
static int b64url(const char *in, unsigned char **out)
{
    size_t n = strlen(in), pad = (4 - n % 4) % 4;
    char *std;
    int len;

    *out = NULL;
    if (n == 0 || pad == 3 || n > 4096)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((in[i] >= 'A' && in[i] <= 'Z') || (in[i] >= 'a' && in[i] <= 'z') ||
              (in[i] >= '0' && in[i] <= '9') || in[i] == '-' || in[i] == '_'))
            return -1;
    std = malloc(n + pad + 1);
    *out = malloc(n + pad + 1);
    if (!std || !*out) {
        free(std);
        free(*out);
        *out = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    memset(std + n, '=', pad);
    std[n + pad] = '\0';
    len = EVP_DecodeBlock(*out, (const unsigned char *)std, (int)(n + pad));
    free(std);
    if (len < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return len - (int)pad; /* EVP_DecodeBlock counts the padding's zero bytes */
}

static const char *jwk_str(json_object *k, const char *name)
{
    json_object *v;
    return json_object_object_get_ex(k, name, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* An EVP_PKEY from the JWK members: RSA n/e, or EC P-256 x/y. */
static EVP_PKEY *jwk_pkey(json_object *k, const char *kty)
{
    const char *names[2];
    unsigned char *v[2] = {NULL, NULL};
    int len[2];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn[2] = {NULL, NULL};
    unsigned char point[65];
    int ok = bld != NULL, ec = strcmp(kty, "EC") == 0;

    names[0] = ec ? "x" : "n";
    names[1] = ec ? "y" : "e";
    for (int i = 0; i < 2 && ok; i++) {
        const char *s = jwk_str(k, names[i]);
        ok = s && (len[i] = b64url(s, &v[i])) > 0;
    }
    if (ok && ec) {
        const char *crv = jwk_str(k, "crv");
        ok = crv && strcmp(crv, "P-256") == 0 && len[0] == 32 && len[1] == 32;
        if (ok) {
            point[0] = 0x04; /* uncompressed: 04 || x || y */
            memcpy(point + 1, v[0], 32);
            memcpy(point + 33, v[1], 32);
            ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                                 0) == 1 &&
                 OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                                  sizeof(point)) == 1;
        }
    } else if (ok) {
        ok = (bn[0] = BN_bin2bn(v[0], len[0], NULL)) != NULL &&
             (bn[1] = BN_bin2bn(v[1], len[1], NULL)) != NULL &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn[0]) == 1 &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn[1]) == 1;
    }
    ok = ok && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
         (ctx = EVP_PKEY_CTX_new_from_name(NULL, ec ? "EC" : "RSA", NULL)) != NULL &&
         EVP_PKEY_fromdata_init(ctx) == 1 &&
         EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn[0]);
    BN_free(bn[1]);
    free(v[0]);
    free(v[1]);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

/* A JWKS document: every signing key of type RSA or EC is taken; keys for
 * encryption ("use":"enc") or other algorithms are skipped. */
static int load_jwks(auth_t *a, const char *text, char *err, size_t cap)
{
    json_object *root = json_tokener_parse(text), *keys = NULL;
    int rc = 0;

    if (!root || !json_object_object_get_ex(root, "keys", &keys) ||
        !json_object_is_type(keys, json_type_array)) {
        json_object_put(root);
        util_errf(err, cap, "not a JWKS document ({\"keys\":[...]})");
        return -1;
    }
    for (size_t i = 0; rc == 0 && i < json_object_array_length(keys); i++) {
        json_object *k = json_object_array_get_idx(keys, i);
        const char *kty = jwk_str(k, "kty"), *use = jwk_str(k, "use"), *alg = jwk_str(k, "alg");
        const char *kid = jwk_str(k, "kid");
        EVP_PKEY *pkey;

        if (!kty || (use && strcmp(use, "sig") != 0))
            continue;
        if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0)
            continue;
        if (alg && strcmp(alg, strcmp(kty, "RSA") == 0 ? "RS256" : "ES256") != 0)
            continue;
        if ((pkey = jwk_pkey(k, kty)) == NULL) {
            util_errf(err, cap, "key %zu%s%s: not a valid RSA or EC P-256 public key", i,
                      kid ? " kid " : "", kid ? kid : "");
            rc = -1;
            break;
        }
        rc = add_pkey(a, kid ? kid : "", pkey, err, cap);
        EVP_PKEY_free(pkey);
    }
    json_object_put(root);
    return rc;
}

/* One or more PEM public keys ("-----BEGIN PUBLIC KEY-----"), without kids. */
static int load_pem(auth_t *a, const char *text, size_t len, char *err, size_t cap)
{
    BIO *in = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *pkey;
    int rc = 0;

    if (!in) {
        util_errf(err, cap, "out of memory");
        return -1;
    }
    while (rc == 0 && (pkey = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL)) != NULL) {
        rc = add_pkey(a, "", pkey, err, cap);
        EVP_PKEY_free(pkey);
    }
    ERR_clear_error(); /* the read that ended the loop */
    BIO_free(in);
    return rc;
}

static int load_keys_file(auth_t *a, const char *path, char *err, size_t cap)
{
    char *text = NULL, sub[200] = "";
    size_t len = 0, first = 0;
    int rc;

    if (util_read_file(path, KEYS_FILE_MAX, &text, &len) != C_OK) {
        util_errf(err, cap, "auth_public_keys_file: %s: %s", path, strerror(errno));
        return -1;
    }
    while (first < len && strchr(" \t\r\n", text[first]))
        first++;
    rc = first < len && text[first] == '{' ? load_jwks(a, text, sub, sizeof(sub))
                                           : load_pem(a, text, len, sub, sizeof(sub));
    free(text);
    if (rc == 0 && a->nkeys == 0)
        snprintf(sub, sizeof(sub), "no RS256 or ES256 signing key in it");
    if (rc != 0 || a->nkeys == 0) {
        util_errf(err, cap, "auth_public_keys_file: %s: %s", path, sub);
        return -1;
    }
    return 0;
}

auth_t *auth_new(const config_t *cfg, char *err, size_t errcap)
{
    auth_t *a = calloc(1, sizeof(*a));

    if (!a) {
        util_errf(err, errcap, "out of memory");
        return NULL;
    }
    a->enabled = !config_auth_off(cfg);
    if (!a->enabled)
        return a;
    snprintf(a->issuer, sizeof(a->issuer), "%s", cfg->auth_issuer);
    snprintf(a->audience, sizeof(a->audience), "%s", cfg->auth_audience);
    snprintf(a->user_claim, sizeof(a->user_claim), "%s", cfg->auth_user_claim);
    a->leeway = cfg->auth_leeway_s;
    if (cfg->auth_public_keys_file[0] && cfg->auth_hs256_secret[0]) {
        util_errf(err, errcap, "auth: public keys and an HS256 secret together are refused");
        auth_free(a);
        return NULL;
    }
    if (cfg->auth_public_keys_file[0] &&
        load_keys_file(a, cfg->auth_public_keys_file, err, errcap) != 0) {
        auth_free(a);
        return NULL;
    }
    if (cfg->auth_hs256_secret[0] && add_key(a, "", JWT_ALG_HS256, cfg->auth_hs256_secret,
                                             strlen(cfg->auth_hs256_secret), err, errcap) != 0) {
        auth_free(a);
        return NULL;
    }
    if (a->nkeys == 0) {
        util_errf(err, errcap, "auth: no verification key configured");
        auth_free(a);
        return NULL;
    }
    if (cfg->auth_token_cache > 0) {
        size_t slots = cfg->auth_token_cache < TOKENCACHE_WAYS ? TOKENCACHE_WAYS
                                                               : (size_t)cfg->auth_token_cache;
        size_t ring = slots * CACHE_BYTES_PER_SLOT;
        if ((a->cache = tokencache_new(slots, ring < CACHE_MIN_RING ? CACHE_MIN_RING : ring)) ==
            NULL) {
            util_errf(err, errcap, "auth_token_cache: out of memory");
            auth_free(a);
            return NULL;
        }
        a->cache_slots = slots;
    }
    return a;
}

static int digest_add(EVP_MD_CTX *ctx, const void *p, size_t len)
{
    return EVP_DigestUpdate(ctx, p, len) == 1 ? 0 : -1;
}

/* The key set's digest: the algorithm, kid and material of each key, the
 * issuer, audience, user claim and leeway, each field with its length. */
static int keyset_digest(const auth_t *a, struct share *s)
{
    EVP_MD_CTX *ctx = s->ctx;
    int rc = EVP_DigestInit_ex2(ctx, s->sha256, NULL) == 1 ? 0 : -1;
    const char *strs[] = {a->issuer, a->audience, a->user_claim};

    rc |= digest_add(ctx, "commerce-tokenshare-1", 21);
    for (int i = 0; i < a->nkeys; i++) {
        const struct auth_key *k = &a->keys[i];
        int64_t f[3] = {(int64_t)k->alg, (int64_t)strlen(k->kid), (int64_t)k->len};
        rc |= digest_add(ctx, f, sizeof(f));
        rc |= digest_add(ctx, k->kid, strlen(k->kid));
        rc |= digest_add(ctx, k->material, (size_t)k->len);
    }
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        int64_t n = (int64_t)strlen(strs[i]);
        rc |= digest_add(ctx, &n, sizeof(n));
        rc |= digest_add(ctx, strs[i], (size_t)n);
    }
    rc |= digest_add(ctx, &a->leeway, sizeof(a->leeway));
    if (rc == 0 && EVP_DigestFinal_ex(ctx, s->keyset, NULL) != 1)
        rc = -1;
    return rc;
}

int auth_share(auth_t *a, const char *path, char *err, size_t errcap)
{
    struct share *s;
    size_t slots = SHARE_MIN_SLOTS;

    if (!a || !a->enabled || !a->cache || !path || !*path)
        return 0;
    while (slots < a->cache_slots * SHARE_PER_SLOT && slots < SHARE_MAX_SLOTS)
        slots *= 2;
    if ((s = calloc(1, sizeof(*s))) == NULL ||
        (s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
        (s->ctx = EVP_MD_CTX_new()) == NULL || keyset_digest(a, s) != 0) {
        util_errf(err, errcap, "auth: cannot set up SHA-256");
        share_free(s);
        return -1;
    }
    if ((s->table = tokenshare_open(path, slots, err, errcap)) == NULL) {
        share_free(s);
        return -1;
    }
    share_free(a->share);
    a->share = s;
    return 0;
}

/* The shared table's key of a token: SHA-256 over the key set's digest and the
 * token. */
static bool share_key(struct share *s, const char *token, size_t len,
                      unsigned char key[TOKENSHARE_KEY])
{
    return EVP_DigestInit_ex2(s->ctx, s->sha256, NULL) == 1 &&
           EVP_DigestUpdate(s->ctx, s->keyset, sizeof(s->keyset)) == 1 &&
           EVP_DigestUpdate(s->ctx, token, len) == 1 && EVP_DigestFinal_ex(s->ctx, key, NULL) == 1;
}

/* The Bearer token of an Authorization value: "Bearer" (any case), spaces,
 * then three base64url segments joined by dots. NULL when it is not one. */
static const char *bearer(const char *h, size_t *len)
{
    size_t n = 0, dots = 0;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    for (; h[n]; n++) {
        char c = h[n];
        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            break;
    }
    while (h[n] == ' ')
        n++;
    if (h[n] != '\0' || n == 0 || n > AUTH_MAX_TOKEN || dots != 2)
        return NULL;
    *len = n;
    return h;
}

/* A NumericDate claim (RFC 7519: seconds, an integer or not): 1 present and
 * valid, 0 absent, -1 present but not a number. */
static int numeric_date(json_object *claims, const char *name, int64_t *out)
{
    json_object *v;

    if (!json_object_object_get_ex(claims, name, &v))
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return 1;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!(d > -9.2e18 && d < 9.2e18))
            return -1;
        *out = (int64_t)d;
        return 1;
    }
    return -1;
}

static bool audience_ok(json_object *claims, const char *want)
{
    json_object *v;

    if (!json_object_object_get_ex(claims, "aud", &v))
        return false;
    if (json_object_is_type(v, json_type_string))
        return strcmp(json_object_get_string(v), want) == 0;
    if (!json_object_is_type(v, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (json_object_is_type(e, json_type_string) &&
            strcmp(json_object_get_string(e), want) == 0)
            return true;
    }
    return false;
}

/* The user id claim: a positive 64-bit integer, as a JSON number or as a
 * string of decimal digits. 0 when it is anything else. */
static int64_t user_claim(json_object *claims, const char *name)
{
    json_object *v;
    int64_t id = 0;

    if (!json_object_object_get_ex(claims, name, &v))
        return 0;
    if (json_object_is_type(v, json_type_string)) {
        if (util_parse_i64(json_object_get_string(v), &id) != C_OK)
            return 0;
    } else if (json_object_is_type(v, json_type_int)) {
        id = json_object_get_int64(v);
        if (id == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
            return 0;
    }
    return id > 0 ? id : 0;
}

/* a + b for b >= 0, stopping at INT64_MAX (an exp near 2^63 is the far
 * future, not an overflow). */
static int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* RFC 7515 section 4.1.11: a "crit" header lists extensions the recipient
 * must understand, else refuse the token. This service understands none, so
 * a token that has one (well-formed or not) is refused. */
static bool has_crit(jwt_t *jwt)
{
    char *text = jwt_get_headers_json(jwt, NULL);
    json_object *h = text ? json_tokener_parse(text) : NULL;
    bool crit = !h || !json_object_is_type(h, json_type_object) ||
                json_object_object_get_ex(h, "crit", NULL);

    free(text);
    json_object_put(h);
    return crit;
}

/* The Unix times in which a token's time claims hold: from <= now < until. */
struct window {
    int64_t from, until;
};

/* The registered claims, checked after the signature. On AUTH_OK, *w is the
 * window in which the time claims hold (the others do not depend on now). */
static enum auth_status check_claims(const auth_t *a, jwt_t *jwt, int64_t now, int64_t *user_id,
                                     struct window *w)
{
    char *text = jwt_get_grants_json(jwt, NULL);
    json_object *claims = text ? json_tokener_parse(text) : NULL, *iss;
    enum auth_status st = AUTH_BAD_TOKEN;
    int64_t exp = 0, nbf = 0, iat = 0;

    free(text);
    if (!claims || !json_object_is_type(claims, json_type_object))
        goto out;
    if (numeric_date(claims, "exp", &exp) != 1 || now >= sat_add(exp, a->leeway)) /* required */
        goto out;
    if (numeric_date(claims, "nbf", &nbf) < 0 || (nbf && sat_add(now, a->leeway) < nbf))
        goto out;
    if (numeric_date(claims, "iat", &iat) < 0 || (iat && sat_add(now, a->leeway) < iat))
        goto out;
    if (!json_object_object_get_ex(claims, "iss", &iss) ||
        !json_object_is_type(iss, json_type_string) ||
        strcmp(json_object_get_string(iss), a->issuer) != 0)
        goto out;
    if (!audience_ok(claims, a->audience))
        goto out;
    if ((*user_id = user_claim(claims, a->user_claim)) == 0)
        goto out;
    /* the time checks above as a window: exp + leeway is the first second
     * refused; nbf - leeway and iat - leeway (when nonzero) the first ones
     * accepted */
    w->until = sat_add(exp, a->leeway);
    w->from = INT64_MIN;
    if (nbf && nbf > INT64_MIN + a->leeway)
        w->from = nbf - a->leeway;
    if (iat && iat > INT64_MIN + a->leeway && iat - a->leeway > w->from)
        w->from = iat - a->leeway;
    st = AUTH_OK;
out:
    json_object_put(claims);
    return st;
}

enum auth_status auth_scheme(const char *header)
{
    if (!header || !*header || strcasecmp(header, "Bearer") == 0)
        return AUTH_NO_TOKEN;
    return strncasecmp(header, "Bearer ", 7) == 0 ? AUTH_OK : AUTH_NOT_BEARER;
}

enum auth_status auth_check(const auth_t *a, const char *header, int64_t now, int64_t *user_id)
{
    size_t len = 0;
    const char *t = bearer(header, &len);
    char token[AUTH_MAX_TOKEN + 1];
    enum auth_status st = auth_scheme(header);
    struct window w;

    *user_id = 0;
    if (st != AUTH_OK)
        return st;
    st = AUTH_BAD_TOKEN;
    if (!t)
        return AUTH_BAD_TOKEN;
    while (len > 0 && t[len - 1] == ' ')
        len--;
    if (a->cache && tokencache_get(a->cache, t, len, now, user_id))
        return AUTH_OK; /* verified before, and its window holds */
    /* verified before by another worker of the pool */
    unsigned char key[TOKENSHARE_KEY];
    bool keyed = a->share && share_key(a->share, t, len, key);
    if (keyed && tokenshare_get(a->share->table, key, now, user_id, &w.from, &w.until)) {
        a->share->hits++;
        tokencache_put(a->cache, t, len, *user_id, w.from, w.until);
        return AUTH_OK;
    }
    memcpy(token, t, len);
    token[len] = '\0';
    /* libjwt 1.10 cannot read a header before verifying it, so each key is
     * tried; a key verifies only its own algorithm (a token that "verifies"
     * as HS256 with a public key as the secret is refused here) and, when
     * both name one, only the token's kid. */
    for (int i = 0; i < a->nkeys; i++) {
        const struct auth_key *k = &a->keys[i];
        jwt_t *jwt = NULL;
        const char *kid;

        if (jwt_decode(&jwt, token, (const unsigned char *)k->material, k->len) != 0)
            continue;
        kid = jwt_get_header(jwt, "kid");
        if (jwt_get_alg(jwt) == k->alg && (!k->kid[0] || !kid || strcmp(kid, k->kid) == 0)) {
            /* the signature is settled: final */
            st = has_crit(jwt) ? AUTH_BAD_TOKEN : check_claims(a, jwt, now, user_id, &w);
            if (st == AUTH_OK && a->cache)
                tokencache_put(a->cache, token, len, *user_id, w.from, w.until);
            if (st == AUTH_OK && keyed)
                tokenshare_put(a->share->table, key, now, *user_id, w.from, w.until);
            jwt_free(jwt);
            break;
        }
        jwt_free(jwt);
    }
    OPENSSL_cleanse(token, len + 1);
    return st;
}

void auth_cache_stats(const auth_t *a, struct tokencache_stats *out)
{
    if (a && a->cache)
        tokencache_stats(a->cache, out);
    else
        memset(out, 0, sizeof(*out));
    if (a && a->share)
        out->shared_hits = a->share->hits;
}
