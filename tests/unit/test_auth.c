/* Access-token verification (src/http/auth.c) with real keys and real tokens:
 * OpenSSL makes the keys, libjwt signs, auth_check verifies. Key files go to
 * a temporary directory; nothing else leaves the process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/config.h"
#include "http/auth.h"
#include "lib/keys.h"

#define NOW 1800000000LL /* 2027-01-15 */
#define SECRET "0123456789abcdef0123456789abcdef-secret"
#define ISS "https://id.example/realms/shop"
#define AUD "commerce"

static char dir[64];
static char *rsa, *ec, *rsa_other, *ec_other;

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_auth.XXXXXX");
    assert_non_null(mkdtemp(dir));
    rsa = tk_private_pem("RSA");
    ec = tk_private_pem("EC");
    rsa_other = tk_private_pem("RSA");
    ec_other = tk_private_pem("EC");
    assert_true(rsa && ec && rsa_other && ec_other);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    free(rsa);
    free(ec);
    free(rsa_other);
    free(ec_other);
    return system(cmd) == 0 ? 0 : -1;
}

static char *write_tmp(const char *name, const char *text)
{
    static char path[128];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* An auth handle from configuration text (the usual keys are added). */
static auth_t *make_auth(const char *extra, char *err, size_t cap)
{
    config_t cfg;
    char text[1024];
    snprintf(text, sizeof(text), "db_socket=/s\nauth_issuer=" ISS "\nauth_audience=" AUD "\n%s",
             extra);
    assert_int_equal(config_parse(&cfg, text, NULL, NULL, NULL), 0);
    return auth_new(&cfg, err, cap);
}

static auth_t *hs_auth(void)
{
    char err[256] = "";
    auth_t *a = make_auth("auth_hs256_secret=" SECRET "\n", err, sizeof(err));
    if (!a)
        fail_msg("%s", err);
    return a;
}

static char *jwks_path(void)
{
    char *jr = tk_jwk(rsa, TK_RSA_KID), *je = tk_jwk(ec, TK_EC_KID);
    /* an encryption key and a key for another algorithm are skipped */
    char *enc = tk_jwk(rsa_other, "enc-1"), *text = malloc(16384);
    assert_true(jr && je && enc && text);
    char *u = strstr(enc, "\"use\":\"sig\"");
    assert_non_null(u);
    memcpy(u, "\"use\":\"enc\"", 11);
    snprintf(text, 16384,
             "{\"keys\":[%s,%s,%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"hmac\"}]}", enc, jr,
             je);
    char *p = write_tmp("jwks.json", text);
    free(jr);
    free(je);
    free(enc);
    free(text);
    return p;
}

static auth_t *jwks_auth(void)
{
    char extra[256], err[256] = "";
    snprintf(extra, sizeof(extra), "auth_public_keys_file=%s\n", jwks_path());
    auth_t *a = make_auth(extra, err, sizeof(err));
    if (!a)
        fail_msg("%s", err);
    assert_int_equal(auth_key_count(a), 2);
    return a;
}

/* "Bearer <token>" for these claims, signed as told; freed by the caller. */
static char *bearer(const char *alg, const char *key, const char *kid, const char *claims)
{
    char *h = tk_bearer(alg, key, kid, claims);
    assert_non_null(h);
    return h;
}

static enum auth_status check_at(auth_t *a, const char *header, int64_t now, int64_t *uid)
{
    return auth_check(a, header, now, uid);
}

/* Claims: the usual ones around `body` (more members, or overrides first). */
static const char *claims(const char *body)
{
    static char c[1024];
    snprintf(c, sizeof(c), "{%s%s\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}", body,
             body[0] ? "," : "", NOW + 600);
    return c;
}

static void expect(auth_t *a, const char *alg, const char *key, const char *kid, const char *cl,
                   enum auth_status want, int64_t want_uid)
{
    char *h = bearer(alg, key, kid, cl);
    int64_t uid = -1;
    enum auth_status got = check_at(a, h, NOW, &uid);
    if (got != want || (want == AUTH_OK && uid != want_uid))
        fail_msg("%s kid %s claims %s: status %d uid %lld, want %d uid %lld", alg, kid ? kid : "-",
                 cl, got, (long long)uid, want, (long long)want_uid);
    free(h);
}

static void hs256_good_tokens(void **state)
{
    auth_t *a = hs_auth();
    assert_true(auth_enabled(a));
    expect(a, "HS256", SECRET, NULL, claims("\"sub\":\"42\""), AUTH_OK, 42);
    expect(a, "HS256", SECRET, NULL, claims("\"sub\":42"), AUTH_OK, 42);
    expect(a, "HS256", SECRET, NULL, claims("\"sub\":\"9223372036854775807\""), AUTH_OK, INT64_MAX);
    /* aud as an array that contains ours; nbf and iat in the past */
    char c[512];
    snprintf(c, sizeof(c),
             "{\"sub\":\"7\",\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" AUD
             "\"],\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld}",
             NOW + 60, NOW - 60, NOW - 60);
    expect(a, "HS256", SECRET, NULL, c, AUTH_OK, 7);
    /* the scheme's case does not matter */
    char *h = bearer("HS256", SECRET, NULL, claims("\"sub\":\"5\"")), *lower = strdup(h);
    int64_t uid;
    memcpy(lower, "bearer", 6);
    assert_int_equal(check_at(a, lower, NOW, &uid), AUTH_OK);
    assert_int_equal(uid, 5);
    free(h);
    free(lower);
    auth_free(a);
}

static void user_claim_must_be_a_positive_id(void **state)
{
    static const char *bad[] = {
        "\"sub\":\"0\"",   "\"sub\":\"-1\"", "\"sub\":\"abc\"",
        "\"sub\":\"12a\"", "\"sub\":\"\"",   "\"sub\":0",
        "\"sub\":-5",      "\"sub\":1.5",    "\"sub\":\"9223372036854775808\"",
        "\"sub\":true",    "\"sub\":null",   "\"sub\":[1]",
        "\"sub\":\"007\"", "\"sub\":\" 7\"", "\"sub\":\"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"",
        "\"other\":\"7\"",
    };
    auth_t *a = hs_auth();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect(a, "HS256", SECRET, NULL, claims(bad[i]), AUTH_BAD_TOKEN, 0);
    auth_free(a);

    /* a provider whose sub is a UUID maps the shop's id into its own claim */
    char err[256];
    a = make_auth("auth_hs256_secret=" SECRET "\nauth_user_claim=shop_user_id\n", err, sizeof(err));
    assert_non_null(a);
    expect(a, "HS256", SECRET, NULL,
           claims("\"sub\":\"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\",\"shop_user_id\":\"31\""),
           AUTH_OK, 31);
    expect(a, "HS256", SECRET, NULL, claims("\"sub\":\"31\""), AUTH_BAD_TOKEN, 0);
    auth_free(a);
}

static void time_issuer_and_audience_claims(void **state)
{
    auth_t *a = hs_auth();
    char c[512];
#define BASE "{\"sub\":\"1\",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""
#define FAR ",\"exp\":99999999999"
    /* each case: the claims are before, then the time t (none when t is 0), then after */
    struct {
        const char *before;
        long long t;
        const char *after;
        enum auth_status want;
    } cases[] = {
        /* exp: required, a number, in the future give or take the 30 s leeway */
        {BASE, 0, "}", AUTH_BAD_TOKEN},
        {BASE ",\"exp\":", NOW - 31, "}", AUTH_BAD_TOKEN},
        {BASE ",\"exp\":", NOW - 30, "}", AUTH_BAD_TOKEN},
        {BASE ",\"exp\":", NOW - 29, "}", AUTH_OK},
        {BASE ",\"exp\":\"", NOW + 60, "\"}", AUTH_BAD_TOKEN},
        {BASE ",\"exp\":", NOW + 60, ".5}", AUTH_OK},
        /* nbf and iat: not in the future beyond the leeway */
        {BASE FAR ",\"nbf\":", NOW + 31, "}", AUTH_BAD_TOKEN},
        {BASE FAR ",\"nbf\":", NOW + 29, "}", AUTH_OK},
        {BASE FAR ",\"iat\":", NOW + 3600, "}", AUTH_BAD_TOKEN},
        {BASE FAR ",\"nbf\":\"", NOW, "\"}", AUTH_BAD_TOKEN},
        /* iss and aud must be ours */
        {"{\"sub\":\"1\",\"iss\":\"https://id.example/\",\"aud\":\"" AUD "\"" FAR, 0, "}",
         AUTH_BAD_TOKEN},
        {"{\"sub\":\"1\",\"aud\":\"" AUD "\"" FAR, 0, "}", AUTH_BAD_TOKEN},
        {"{\"sub\":\"1\",\"iss\":[\"" ISS "\"],\"aud\":\"" AUD "\"" FAR, 0, "}", AUTH_BAD_TOKEN},
        {"{\"sub\":\"1\",\"iss\":\"" ISS "\",\"aud\":\"commerce-admin\"" FAR, 0, "}",
         AUTH_BAD_TOKEN},
        {"{\"sub\":\"1\",\"iss\":\"" ISS "\",\"aud\":[\"a\",\"b\"]" FAR, 0, "}", AUTH_BAD_TOKEN},
        {"{\"sub\":\"1\",\"iss\":\"" ISS "\"" FAR, 0, "}", AUTH_BAD_TOKEN},
        {BASE FAR, 0, "}", AUTH_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].t)
            snprintf(c, sizeof(c), "%s%lld%s", cases[i].before, cases[i].t, cases[i].after);
        else
            snprintf(c, sizeof(c), "%s%s", cases[i].before, cases[i].after);
        expect(a, "HS256", SECRET, NULL, c, cases[i].want, 1);
    }
    auth_free(a);

    /* leeway 0: expiry is exact */
    char err[256];
    a = make_auth("auth_hs256_secret=" SECRET "\nauth_leeway_s=0\n", err, sizeof(err));
    assert_non_null(a);
    snprintf(c, sizeof(c), "{\"sub\":\"1\",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}",
             NOW);
    expect(a, "HS256", SECRET, NULL, c, AUTH_BAD_TOKEN, 0);
    snprintf(c, sizeof(c), "{\"sub\":\"1\",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}",
             NOW + 1);
    expect(a, "HS256", SECRET, NULL, c, AUTH_OK, 1);
    auth_free(a);
}

/* header.payload.signature, split; each part malloc'd. */
static void split(const char *token, char **h, char **p, char **s)
{
    const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    assert_non_null(d2);
    *h = strndup(token, (size_t)(d1 - token));
    *p = strndup(d1 + 1, (size_t)(d2 - d1 - 1));
    *s = strdup(d2 + 1);
}

static void tampered_and_malformed_tokens(void **state)
{
    auth_t *a = hs_auth();
    char *good = tk_sign("HS256", SECRET, NULL, claims("\"sub\":\"1\""));
    char *other = tk_sign("HS256", SECRET, NULL, claims("\"sub\":\"2\""));
    char *h1, *p1, *s1, *h2, *p2, *s2, buf[4096];
    int64_t uid;

    split(good, &h1, &p1, &s1);
    split(other, &h2, &p2, &s2);
    /* another payload under this signature */
    snprintf(buf, sizeof(buf), "Bearer %s.%s.%s", h1, p2, s1);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_BAD_TOKEN);
    /* truncated signature, no signature, extra segment */
    snprintf(buf, sizeof(buf), "Bearer %s.%s.%.*s", h1, p1, (int)strlen(s1) - 2, s1);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_BAD_TOKEN);
    snprintf(buf, sizeof(buf), "Bearer %s.%s.", h1, p1);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_BAD_TOKEN);
    snprintf(buf, sizeof(buf), "Bearer %s.%s.%s.%s", h1, p1, s1, s1);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_BAD_TOKEN);
    /* alg none, with and without a signature */
    char *none = tk_b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27);
    snprintf(buf, sizeof(buf), "Bearer %s.%s.", none, p1);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_BAD_TOKEN);
    snprintf(buf, sizeof(buf), "Bearer %s.%s.%s", none, p1, s1);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_BAD_TOKEN);
    /* signed with another secret */
    char *wrong = bearer("HS256", SECRET "x", NULL, claims("\"sub\":\"1\""));
    assert_int_equal(check_at(a, wrong, NOW, &uid), AUTH_BAD_TOKEN);
    /* HS384 with the right secret is not HS256 */
    char *hs384 = bearer("HS384", SECRET, NULL, claims("\"sub\":\"1\""));
    assert_int_equal(check_at(a, hs384, NOW, &uid), AUTH_BAD_TOKEN);
    /* not a Bearer token at all */
    assert_int_equal(check_at(a, NULL, NOW, &uid), AUTH_NO_TOKEN);
    assert_int_equal(check_at(a, "", NOW, &uid), AUTH_NO_TOKEN);
    assert_int_equal(check_at(a, "Bearer", NOW, &uid), AUTH_NO_TOKEN);
    assert_int_equal(check_at(a, "bEARER", NOW, &uid), AUTH_NO_TOKEN);
    /* another scheme, or none named: told apart, so the answer can say so */
    assert_int_equal(check_at(a, "Basic dXNlcjpwdw==", NOW, &uid), AUTH_NOT_BEARER);
    assert_int_equal(check_at(a, good, NOW, &uid), AUTH_NOT_BEARER);
    assert_int_equal(check_at(a, "Bearer-x a.b.c", NOW, &uid), AUTH_NOT_BEARER);
    static const char *junk[] = {
        "Bearer ",      "Bearer x",       "Bearer a.b",         "Bearer a.b.c d",
        "Bearer a b.c", "Bearer a.b.c\t", "Bearer \xc3\xa9.b.c"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(check_at(a, junk[i], NOW, &uid), AUTH_BAD_TOKEN);
    /* longer than the cap */
    char *huge = malloc(AUTH_MAX_TOKEN + 64);
    memset(huge, 'a', AUTH_MAX_TOKEN + 60);
    memcpy(huge, "Bearer a.", 9);
    huge[20] = '.';
    huge[AUTH_MAX_TOKEN + 60] = '\0';
    assert_int_equal(check_at(a, huge, NOW, &uid), AUTH_BAD_TOKEN);
    /* the good one still passes */
    snprintf(buf, sizeof(buf), "Bearer %s", good);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_OK);
    assert_int_equal(uid, 1);

    free(huge);
    free(none);
    free(wrong);
    free(hs384);
    free(good);
    free(other);
    free(h1);
    free(p1);
    free(s1);
    free(h2);
    free(p2);
    free(s2);
    auth_free(a);
}

/* RFC 7515 section 4.1.11: a token whose "crit" header names extensions the
 * service does not understand (it understands none) is refused, however well
 * it is signed; so is a malformed crit. */
static void crit_header_is_refused(void **state)
{
    auth_t *a = hs_auth();
    static const char *crit[] = {"{\"crit\":[\"exp\"]}", "{\"crit\":[\"b64\"],\"b64\":true}",
                                 "{\"crit\":[\"https://example.com/x\"]}", "{\"crit\":[]}",
                                 "{\"crit\":\"exp\"}"};
    const char *c = claims("\"sub\":\"5\"");
    int64_t uid;

    for (size_t i = 0; i < sizeof(crit) / sizeof(crit[0]); i++) {
        char *t = tk_sign_headers("HS256", SECRET, NULL, crit[i], c), buf[4096];
        assert_non_null(t);
        snprintf(buf, sizeof(buf), "Bearer %s", t);
        if (check_at(a, buf, NOW, &uid) != AUTH_BAD_TOKEN)
            fail_msg("accepted a token with header %s", crit[i]);
        free(t);
    }
    /* another unknown header member that is not critical is ignored */
    char *t = tk_sign_headers("HS256", SECRET, NULL, "{\"x-note\":\"hi\"}", c), buf[4096];
    assert_non_null(t);
    snprintf(buf, sizeof(buf), "Bearer %s", t);
    assert_int_equal(check_at(a, buf, NOW, &uid), AUTH_OK);
    assert_int_equal(uid, 5);
    free(t);
    auth_free(a);
}

/* exp + leeway saturates: an exp near 2^63 is the far future, not an
 * overflow into the past (undefined behaviour in C). */
static void exp_near_the_end_of_time(void **state)
{
    auth_t *a = hs_auth();
    char c[512];
    static const long long exps[] = {INT64_MAX, INT64_MAX - 1, INT64_MAX - 29};
    for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
        snprintf(c, sizeof(c),
                 "{\"sub\":\"3\",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}", exps[i]);
        expect(a, "HS256", SECRET, NULL, c, AUTH_OK, 3);
    }
    auth_free(a);
}

static void jwks_rs256_and_es256_by_kid(void **state)
{
    auth_t *a = jwks_auth();
    const char *c = claims("\"sub\":\"9\"");

    expect(a, "RS256", rsa, TK_RSA_KID, c, AUTH_OK, 9);
    expect(a, "ES256", ec, TK_EC_KID, c, AUTH_OK, 9);
    expect(a, "RS256", rsa, NULL, c, AUTH_OK, 9); /* no kid: the key that verifies */
    expect(a, "ES256", ec, NULL, c, AUTH_OK, 9);
    /* a kid naming another key than the one that signed */
    expect(a, "RS256", rsa, TK_EC_KID, c, AUTH_BAD_TOKEN, 0);
    expect(a, "ES256", ec, TK_RSA_KID, c, AUTH_BAD_TOKEN, 0);
    /* keys we do not trust, with our kids */
    expect(a, "RS256", rsa_other, TK_RSA_KID, c, AUTH_BAD_TOKEN, 0);
    expect(a, "ES256", ec_other, TK_EC_KID, c, AUTH_BAD_TOKEN, 0);
    /* the key the JWKS marks for encryption does not verify */
    expect(a, "RS256", rsa_other, "enc-1", c, AUTH_BAD_TOKEN, 0);
    /* algorithm confusion: HS256 "signed" with a public key as the secret */
    char *pub = tk_public_pem(rsa), *pub_ec = tk_public_pem(ec);
    expect(a, "HS256", pub, NULL, c, AUTH_BAD_TOKEN, 0);
    expect(a, "HS256", pub, TK_RSA_KID, c, AUTH_BAD_TOKEN, 0);
    expect(a, "HS256", pub_ec, TK_EC_KID, c, AUTH_BAD_TOKEN, 0);
    /* RS384 / ES384 with the right keys are still refused */
    expect(a, "RS384", rsa, TK_RSA_KID, c, AUTH_BAD_TOKEN, 0);
    free(pub);
    free(pub_ec);
    auth_free(a);
}

static void pem_bundle_keys(void **state)
{
    char *pr = tk_public_pem(rsa), *pe = tk_public_pem(ec), text[8192], extra[256], err[256];
    snprintf(text, sizeof(text), "# provider keys\n%s%s", pr, pe);
    snprintf(extra, sizeof(extra), "auth_public_keys_file=%s\n", write_tmp("keys.pem", text));
    auth_t *a = make_auth(extra, err, sizeof(err));
    assert_non_null(a);
    assert_int_equal(auth_key_count(a), 2);
    const char *c = claims("\"sub\":\"3\"");
    expect(a, "RS256", rsa, NULL, c, AUTH_OK, 3);
    expect(a, "ES256", ec, "any-kid", c, AUTH_OK, 3); /* PEM keys have no kid to match */
    expect(a, "RS256", rsa_other, NULL, c, AUTH_BAD_TOKEN, 0);
    expect(a, "HS256", pr, NULL, c, AUTH_BAD_TOKEN, 0);
    free(pr);
    free(pe);
    auth_free(a);
}

static void unusable_key_configurations(void **state)
{
    char extra[512], err[256];
    auth_t *a;

    /* a 1024-bit RSA key is too weak */
    char *small = NULL;
    {
        FILE *p = popen("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
                        "2>/dev/null | openssl pkey -pubout 2>/dev/null",
                        "r");
        assert_non_null(p);
        small = calloc(1, 4096);
        assert_int_not_equal(fread(small, 1, 4095, p), 0);
        pclose(p);
    }
    snprintf(extra, sizeof(extra), "auth_public_keys_file=%s\n", write_tmp("small.pem", small));
    a = make_auth(extra, err, sizeof(err));
    assert_null(a);
    assert_non_null(strstr(err, "2048"));
    free(small);

    static const char *bad_docs[] = {
        "{\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":{}}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}]}",
        "not a key file",
        "",
    };
    for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
        snprintf(extra, sizeof(extra), "auth_public_keys_file=%s\n",
                 write_tmp("bad.json", bad_docs[i]));
        a = make_auth(extra, err, sizeof(err));
        if (a)
            fail_msg("accepted key file: %s", bad_docs[i]);
        assert_non_null(strstr(err, "auth_public_keys_file"));
    }
    snprintf(extra, sizeof(extra), "auth_public_keys_file=%s/missing.json\n", dir);
    assert_null(make_auth(extra, err, sizeof(err)));
    assert_non_null(strstr(err, "missing.json"));

    /* auth=off verifies nothing and says so */
    a = make_auth("auth=off\n", err, sizeof(err));
    assert_non_null(a);
    assert_false(auth_enabled(a));
    auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hs256_good_tokens),
        cmocka_unit_test(user_claim_must_be_a_positive_id),
        cmocka_unit_test(time_issuer_and_audience_claims),
        cmocka_unit_test(tampered_and_malformed_tokens),
        cmocka_unit_test(crit_header_is_refused),
        cmocka_unit_test(exp_near_the_end_of_time),
        cmocka_unit_test(jwks_rs256_and_es256_by_kid),
        cmocka_unit_test(pem_bundle_keys),
        cmocka_unit_test(unusable_key_configurations),
    };
    return cmocka_run_group_tests_name("unit/auth", tests, setup, teardown);
}
