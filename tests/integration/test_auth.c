/* Who may call what (API.md): every user route refuses a missing or bad
 * access token with 401 and changes nothing; a user acts only as themself
 * (another user's ids are 404 as if unknown, a body userId of another user
 * is 403); RS256 and ES256 keys from the JWKS both verify; Idempotency-Keys
 * are scoped by the token's user. The stack trusts tests/lib/mkkeys' JWKS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "http/router.h"
#include "lib/client.h"
#include "lib/keys.h"

const route_t *routes_table(size_t *n); /* the service's own table */

static int64_t user_a, user_b, product, order_a, coupon;

static int setup(void **state)
{
    char body[256];
    user_a = tc_new_user();
    user_b = tc_new_user();
    product = tc_new_product(100, 50);
    coupon = tc_new_coupon("FIXED", 10, 100);
    tc_charge(user_a, 100000);
    tc_charge(user_b, 100000);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", (long long)user_a,
             (long long)product);
    order_a = tc_created_id(tc_post("/orders", body), "orderId");
    return 0;
}

/* The path of a route for user_a's resources. */
static void path_for(const route_t *rt, int64_t uid, char *out, size_t cap)
{
    const char *p = rt->pattern;
    size_t o = 0;
    while (*p && o + 24 < cap) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            int64_t v = strncmp(p, "{userId}", 8) == 0      ? uid
                        : strncmp(p, "{orderId}", 9) == 0   ? order_a
                        : strncmp(p, "{couponId}", 10) == 0 ? coupon
                                                            : product;
            o += (size_t)snprintf(out + o, cap - o, "%lld", (long long)v);
            p = e + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

/* A body the route would accept for user uid (NULL for routes without one). */
static const char *body_for(const route_t *rt, int64_t uid, char *buf, size_t cap)
{
    if (!(rt->flags & R_BODY))
        return NULL;
    if (strcmp(rt->name, "points_charge") == 0)
        snprintf(buf, cap, "{\"amount\":100}");
    else if (strcmp(rt->name, "orders_create") == 0)
        snprintf(buf, cap, "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}",
                 (long long)uid, (long long)product);
    else if (strcmp(rt->name, "cart_put") == 0)
        snprintf(buf, cap, "{\"quantity\":1}");
    else if (strcmp(rt->name, "coupons_issue") == 0)
        snprintf(buf, cap, "{\"userId\":%lld}", (long long)uid);
    else
        snprintf(buf, cap, "{}");
    return buf;
}

static tc_resp_t *call(const route_t *rt, int64_t uid, const char *authorization)
{
    char path[256], body[256], auth[4096], key[64];
    const char *b = body_for(rt, uid, body, sizeof(body));
    const char *hs[4] = {"Content-Type: application/json", NULL, NULL, NULL};
    int n = 1;

    path_for(rt, uid, path, sizeof(path));
    if (authorization) {
        snprintf(auth, sizeof(auth), "Authorization: %s", authorization);
        hs[n++] = auth;
    }
    if (rt->flags & R_IDEM) {
        snprintf(key, sizeof(key), "Idempotency-Key: auth-%ld-%d", (long)time(NULL), rand());
        hs[n++] = key;
    }
    return tc_req(rt->method, path, b, hs);
}

/* "Bearer <token>", malloc'd. */
static char *bearer_of(const char *token)
{
    char *h = token ? malloc(strlen(token) + 8) : NULL;
    if (!h)
        fail_msg("no token to send, or out of memory");
    sprintf(h, "Bearer %s", token);
    return h;
}

/* A token for uid with these claims, signed as told. */
static char *token_with(const char *alg, const char *key, const char *kid, const char *claims)
{
    char *t = tk_sign(alg, key, kid, claims);
    if (!t)
        fail_msg("cannot sign %s with kid %s", alg, kid);
    char *h = bearer_of(t);
    free(t);
    return h;
}

static char *claims_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *claims_fmt(const char *fmt, ...)
{
    char *c = malloc(512);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c, 512, fmt, ap);
    va_end(ap);
    return c;
}

static void every_user_route_refuses_bad_tokens_and_changes_nothing(void **state)
{
    char *ec = tc_key_pem("ec.pem"), *rsa = tc_key_pem("rsa.pem");
    char *stranger = tk_private_pem("EC"), *pub = tk_public_pem(rsa);
    const char *iss = getenv("COMMERCE_TEST_AUTH_ISSUER"),
               *aud = getenv("COMMERCE_TEST_AUTH_AUDIENCE");
    long long now = (long long)time(NULL), a = (long long)user_a;
    struct {
        const char *what;
        char *header; /* NULL: no Authorization at all */
    } bad[16];
    int n = 0;

    bad[n].what = "no token";
    bad[n++].header = NULL;
    bad[n].what = "expired";
    char *c = claims_fmt("{\"sub\":\"%lld\",\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld}", a, iss,
                         aud, now - 120);
    bad[n++].header = token_with("ES256", ec, TK_EC_KID, c);
    free(c);
    bad[n].what = "not yet valid";
    c = claims_fmt("{\"sub\":\"%lld\",\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"nbf\":%lld}", a,
                   iss, aud, now + 3600, now + 600);
    bad[n++].header = token_with("ES256", ec, TK_EC_KID, c);
    free(c);
    bad[n].what = "wrong issuer";
    c = claims_fmt(
        "{\"sub\":\"%lld\",\"iss\":\"https://evil.example/\",\"aud\":\"%s\",\"exp\":%lld}", a, aud,
        now + 600);
    bad[n++].header = token_with("ES256", ec, TK_EC_KID, c);
    free(c);
    bad[n].what = "wrong audience";
    c = claims_fmt("{\"sub\":\"%lld\",\"iss\":\"%s\",\"aud\":\"other-service\",\"exp\":%lld}", a,
                   iss, now + 600);
    bad[n++].header = token_with("ES256", ec, TK_EC_KID, c);
    free(c);
    char *good_claims = tc_claims(user_a, 600);
    bad[n].what = "signed by an unknown key";
    bad[n++].header = token_with("ES256", stranger, TK_EC_KID, good_claims);
    bad[n].what = "HS256 with the public key as secret";
    bad[n++].header = token_with("HS256", pub, TK_RSA_KID, good_claims);
    /* alg none / payload swapped / truncated, from the parts of good tokens */
    char *mine = tk_sign("ES256", ec, TK_EC_KID, good_claims);
    char *their_claims = tc_claims(user_b, 600);
    char *theirs = tk_sign("ES256", ec, TK_EC_KID, their_claims);
    char *d1 = strchr(mine, '.'), *d2 = strchr(d1 + 1, '.');
    char *t1 = strchr(theirs, '.'), *t2 = strchr(t1 + 1, '.');
    char *none = tk_b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27), buf[4096];
    snprintf(buf, sizeof(buf), "%s.%.*s.", none, (int)(d2 - d1 - 1), d1 + 1);
    bad[n].what = "alg none";
    bad[n++].header = bearer_of(buf);
    snprintf(buf, sizeof(buf), "%.*s.%.*s.%s", (int)(d1 - mine), mine, (int)(t2 - t1 - 1), t1 + 1,
             d2 + 1);
    bad[n].what = "payload swapped";
    bad[n++].header = bearer_of(buf);
    snprintf(buf, sizeof(buf), "%.*s", (int)strlen(mine) - 3, mine);
    bad[n].what = "truncated";
    bad[n++].header = bearer_of(buf);
    bad[n].what = "not a JWT";
    bad[n++].header = strdup("Bearer not-a-token");
    bad[n].what = "the admin token";
    bad[n++].header = bearer_of(getenv("COMMERCE_TEST_ADMIN_TOKEN"));

    size_t nroutes, checked = 0, user_routes = 0;
    const route_t *routes = routes_table(&nroutes);
    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    tc_auto_token(0);
    for (size_t r = 0; r < nroutes; r++) {
        if (routes[r].access != ACCESS_USER)
            continue;
        user_routes++;
        for (int i = 0; i < n; i++) {
            tc_resp_t *resp = call(&routes[r], user_a, bad[i].header);
            char wa[256];
            tc_expect_statusf(resp, 401, "with %s", bad[i].what);
            assert_problem(resp, 401, "UNAUTHORIZED");
            assert_non_null(tc_header(resp, "WWW-Authenticate", wa, sizeof(wa)));
            if (bad[i].header)
                assert_string_equal(wa, "Bearer realm=\"commerce\", error=\"invalid_token\"");
            else
                assert_string_equal(wa, "Bearer realm=\"commerce\"");
            tc_free(resp);
            checked++;
        }
    }
    tc_auto_token(1);
    tc_snapshot_equal(&before);
    assert_true(user_routes >= 13);
    assert_int_equal(checked, user_routes * (size_t)n);

    /* the good token itself passes (so the refusals above were the token's) */
    tc_resp_t *r = tc_getf("/users/%lld/points", a);
    assert_int_equal(r->status, 200);
    tc_free(r);

    for (int i = 0; i < n; i++)
        free(bad[i].header);
    free(mine);
    free(theirs);
    free(their_claims);
    free(none);
    free(good_claims);
    free(ec);
    free(rsa);
    free(stranger);
    free(pub);
}

static void another_users_token_sees_nothing_and_changes_nothing(void **state)
{
    char theirs[4096];
    size_t nroutes;
    const route_t *routes = routes_table(&nroutes);

    snprintf(theirs, sizeof(theirs), "Bearer %s", tc_token(user_b));
    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    for (size_t i = 0; i < nroutes; i++) {
        const route_t *rt = &routes[i];
        if (rt->access != ACCESS_USER)
            continue;
        tc_resp_t *r = call(rt, user_a, theirs);
        if (strstr(rt->pattern, "{userId}"))
            assert_problem(r, 404, "USER_NOT_FOUND");
        else if (strstr(rt->pattern, "{orderId}"))
            assert_problem(r, 404, "ORDER_NOT_FOUND");
        else /* a body naming user_a */
            assert_problem(r, 403, "FORBIDDEN");
        tc_free(r);
    }
    tc_snapshot_equal(&before);

    /* "as if it did not exist": the same answer as for an unknown user; the
     * worker log tells the developer why, at info, with the request id */
    char line[4200], rid[64], why[256];
    snprintf(line, sizeof(line), "Authorization: %s", theirs);
    snprintf(rid, sizeof(rid), "X-Request-Id: not-theirs-%ld-%d", (long)time(NULL), rand());
    const char *hs[] = {line, rid, NULL};
    char path[64];
    snprintf(path, sizeof(path), "/users/%lld/points", (long long)user_a);
    tc_resp_t *other = tc_req("GET", path, NULL, hs);
    snprintf(why, sizeof(why),
             "info: [%s] GET %s: answered 404 as if user %lld did not exist: the access token is"
             " user %lld's",
             rid + strlen("X-Request-Id: "), path, (long long)user_a, (long long)user_b);
    TC_WAIT_UNTIL_MS(5000, tc_worker_log_has(why), "the worker log line: %s", why);
    int64_t ghost = user_b + 1000000;
    tc_resp_t *unknown = tc_getf("/users/%lld/points", (long long)ghost);
    assert_problem(unknown, 404, "USER_NOT_FOUND");
    char want[128];
    snprintf(want, sizeof(want), "user %lld does not exist", (long long)user_a);
    assert_string_equal(tc_str(other, "detail"), want);
    snprintf(want, sizeof(want), "user %lld does not exist", (long long)ghost);
    assert_string_equal(tc_str(unknown, "detail"), want);
    tc_free(other);
    tc_free(unknown);
    /* and an order of another user reads like a missing one */
    snprintf(path, sizeof(path), "/orders/%lld", (long long)order_a);
    other = tc_req("GET", path, NULL, hs);
    tc_resp_t *missing = tc_getf("/orders/%lld", (long long)order_a + 1000000);
    assert_problem(other, 404, "ORDER_NOT_FOUND");
    assert_problem(missing, 404, "ORDER_NOT_FOUND");
    snprintf(why, sizeof(why),
             "info: [%s] GET %s: answered 404 as if order %lld did not exist: it is user %lld's,"
             " and the access token is user %lld's",
             rid + strlen("X-Request-Id: "), path, (long long)order_a, (long long)user_a,
             (long long)user_b);
    TC_WAIT_UNTIL_MS(5000, tc_worker_log_has(why), "the worker log line: %s", why);
    tc_free(other);
    tc_free(missing);
}

/* An Authorization header without the Bearer scheme (the bare token, as one
 * pastes it, or Basic) is 401 saying the scheme is missing, on user and admin
 * routes alike; no header at all still says a token is needed. */
static void a_token_without_the_bearer_scheme_is_told_so(void **state)
{
    char bare[4200], path[64], wa[256];
    const char *basic = "Authorization: Basic dXNlcjpwdw==";
    snprintf(bare, sizeof(bare), "Authorization: %s", tc_token(user_a));
    snprintf(path, sizeof(path), "/users/%lld/points", (long long)user_a);
    const char *without[][2] = {{bare, NULL}, {basic, NULL}};
    for (int i = 0; i < 2; i++) {
        tc_resp_t *r = tc_req("GET", path, NULL, without[i]);
        assert_problem(r, 401, "UNAUTHORIZED");
        assert_string_equal(tc_str(r, "detail"), "the Authorization header does not use the Bearer"
                                                 " scheme: send Authorization: Bearer <token>");
        assert_non_null(tc_header(r, "WWW-Authenticate", wa, sizeof(wa)));
        assert_string_equal(wa, "Bearer realm=\"commerce\"");
        tc_free(r);
    }
    char admin[256];
    snprintf(admin, sizeof(admin), "Authorization: %s", getenv("COMMERCE_TEST_ADMIN_TOKEN"));
    const char *ah[] = {"Content-Type: application/json", admin, NULL};
    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    tc_resp_t *r = tc_req("POST", "/admin/users", "{\"name\":\"no scheme\"}", ah);
    assert_problem(r, 401, "UNAUTHORIZED");
    assert_string_equal(tc_str(r, "detail"), "the Authorization header does not use the Bearer"
                                             " scheme: send Authorization: Bearer <token>");
    tc_free(r);
    tc_snapshot_equal(&before);
    tc_auto_token(0);
    r = tc_getf("/users/%lld/points", (long long)user_a);
    tc_auto_token(1);
    assert_problem(r, 401, "UNAUTHORIZED");
    assert_string_equal(tc_str(r, "detail"),
                        "this route needs an access token: Authorization: Bearer <token>");
    tc_free(r);
}

static void rs256_and_es256_from_the_jwks_both_verify(void **state)
{
    char *rsa = tc_key_pem("rsa.pem"), *ec = tc_key_pem("ec.pem");
    char *claims = tc_claims(user_a, 600);
    char *hr = token_with("RS256", rsa, TK_RSA_KID, claims);
    char *he = token_with("ES256", ec, TK_EC_KID, claims);
    char *wrong_kid = token_with("RS256", rsa, TK_EC_KID, claims);
    char ha[4200], path[64];
    snprintf(path, sizeof(path), "/users/%lld/points", (long long)user_a);

    const char *hdrs[][2] = {{hr, NULL}, {he, NULL}};
    for (int i = 0; i < 2; i++) {
        snprintf(ha, sizeof(ha), "Authorization: %s", hdrs[i][0]);
        const char *hs[] = {ha, NULL};
        tc_resp_t *r = tc_req("GET", path, NULL, hs);
        assert_int_equal(r->status, 200);
        assert_int_equal(tc_int(r, "userId"), user_a);
        tc_free(r);
    }
    snprintf(ha, sizeof(ha), "Authorization: %s", wrong_kid);
    const char *hs[] = {ha, NULL};
    tc_resp_t *r = tc_req("GET", path, NULL, hs);
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);

    /* a user token on an admin route is 401 */
    snprintf(ha, sizeof(ha), "Authorization: %s", he);
    const char *ah[] = {"Content-Type: application/json", ha, NULL};
    assert_refused(tc_req("POST", "/admin/users", "{\"name\":\"intruder\"}", ah), 401,
                   "UNAUTHORIZED");
    free(hr);
    free(he);
    free(wrong_kid);
    free(claims);
    free(rsa);
    free(ec);
}

static void idempotency_keys_are_scoped_by_the_tokens_user(void **state)
{
    int64_t ba = tc_balance(user_a), bb = tc_balance(user_b);
    char path[64], key[64];
    snprintf(key, sizeof(key), "shared-key-%ld", (long)time(NULL));

    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)user_a);
    tc_resp_t *r = tc_post_key(path, "{\"amount\":700}", key);
    assert_int_equal(r->status, 200);
    tc_free(r);
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)user_b);
    r = tc_post_key(path, "{\"amount\":700}", key);
    assert_int_equal(r->status, 200);
    char v[16];
    assert_null(tc_header(r, "Idempotent-Replayed", v, sizeof(v)));
    tc_free(r);
    assert_int_equal(tc_balance(user_a), ba + 700);
    assert_int_equal(tc_balance(user_b), bb + 700);
    /* a retry of each replays its own */
    r = tc_post_key(path, "{\"amount\":700}", key);
    assert_int_equal(r->status, 200);
    assert_non_null(tc_header(r, "Idempotent-Replayed", v, sizeof(v)));
    tc_free(r);
    assert_int_equal(tc_balance(user_b), bb + 700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_user_route_refuses_bad_tokens_and_changes_nothing),
        cmocka_unit_test(another_users_token_sees_nothing_and_changes_nothing),
        cmocka_unit_test(a_token_without_the_bearer_scheme_is_told_so),
        cmocka_unit_test(rs256_and_es256_from_the_jwks_both_verify),
        cmocka_unit_test(idempotency_keys_are_scoped_by_the_tokens_user),
    };
    return cmocka_run_group_tests_name("integration/auth", tests, setup, NULL);
}
