/* The load scripts/valgrind-check sends through workers that run under
 * valgrind: every route of the service's table, each with what it answers
 * when it works and with its refusals (bad JSON, wrong types, unknown ids,
 * foreign and missing tokens, every 4xx the route has), idempotent replays,
 * a database outage (503, then recovery), and the relay (under valgrind too)
 * meeting a failing, then a hanging, then a healthy data platform. Every
 * answer is asserted exactly; the last test checks that every route of the
 * table answered 2xx, and every route that can refuse answered 4xx.
 *
 *   tests/load/valgrind_load [ROUNDS]     (default 1)
 *
 * Rounds repeat the route tests on fresh fixtures. Environment: the test
 * stack's COMMERCE_TEST_* (scripts/test lists them). Waiting is polling an
 * observable condition with a deadline, long enough for valgrind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/router.h"
#include "lib/client.h"

const route_t *routes_table(size_t *n); /* the service's own table */

#define NOWHERE 999999999LL
#define WAIT_MS 180000 /* workers and relay under valgrind are slow */
#define FMT_BUFS 32
#define FMT_CAP 1024

static int rounds = 1;

/* ---------------------------------------------------------------------------
 * what each route answered */

static const route_t *routes;
static size_t nroutes;
static unsigned char worked[64], refused[64];

/* Note the answer against the route the request reaches (none: 404/405). */
static void count(const char *method, const char *path, long status)
{
    char p[FMT_CAP];
    struct route_match m;

    snprintf(p, sizeof(p), "%s", path);
    p[strcspn(p, "?")] = '\0';
    router_match(routes, nroutes, strcmp(method, "HEAD") ? method : "GET", p, &m);
    if (!m.route)
        return;
    size_t i = (size_t)(m.route - routes);
    if (status / 100 == 2)
        worked[i] = 1;
    else if (status / 100 == 4)
        refused[i] = 1;
}

/* ---------------------------------------------------------------------------
 * requests */

static const char *const json[] = {"Content-Type: application/json", NULL};

/* printf into one of FMT_BUFS rotating buffers (paths and bodies of one call). */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...)
{
    static char bufs[FMT_BUFS][FMT_CAP];
    static int next;
    char *b = bufs[next++ % FMT_BUFS];
    va_list ap;

    va_start(ap, f);
    int n = vsnprintf(b, FMT_CAP, f, ap);
    va_end(ap);
    assert_true(n >= 0 && n < FMT_CAP);
    return b;
}

/* One request: its answer must be `status`, and a refusal the problem `code`
 * (NULL: any body). Counted for its route. The caller frees the response. */
static tc_resp_t *send_at(const char *file, int line, const char *method, const char *path,
                          const char *body, const char *const *headers, long status,
                          const char *code)
{
    tc_resp_t *r = tc_req(method, path, body, headers);
    count(method, path, r->status);
    tc_expect_status_at(r, status, file, line, "%s %s", method, path);
    if (code)
        tc_assert_problem(r, status, code, file, line);
    return r;
}
#define SEND(method, path, body, headers, status, code)                                            \
    send_at(__FILE__, __LINE__, (method), (path), (body), (headers), (status), (code))
#define EXPECT(method, path, body, headers, status, code)                                          \
    tc_free(SEND((method), (path), (body), (headers), (status), (code)))
/* The JSON body of a request (Content-Type: application/json). */
#define EXPECT_JSON(method, path, body, status, code) EXPECT(method, path, body, json, status, code)

/* Headers: JSON with an Idempotency-Key; a given Authorization (with JSON). */
static const char *const *with_key(const char *key)
{
    static char h[512];
    static const char *hs[] = {"Content-Type: application/json", h, NULL};
    snprintf(h, sizeof(h), "Idempotency-Key: %s", key);
    return hs;
}

static const char *const *with_auth(const char *bearer)
{
    static char h[2048];
    static const char *hs[] = {"Content-Type: application/json", h, NULL};
    snprintf(h, sizeof(h), "Authorization: Bearer %s", bearer);
    return hs;
}

static const char *const *admin(void)
{
    const char *t = getenv("COMMERCE_TEST_ADMIN_TOKEN");
    return with_auth(t && *t ? t : "dev-admin-token");
}

/* A request with the admin token; its answer must be `status` (and `code`). */
#define ADMIN(method, path, body, status, code) EXPECT(method, path, body, admin(), status, code)

/* ---------------------------------------------------------------------------
 * fixtures, fresh for each round */

static struct {
    int64_t user, other, poor, rich; /* rich: at the balance limit */
    int64_t product, product2, sold_out;
    int64_t coupon, percent, single; /* single: one to issue */
} f;

static int64_t new_order(int64_t uid, int64_t pid, int qty)
{
    tc_resp_t *r = SEND("POST", "/orders",
                        fmt("{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":%d}]}",
                            (long long)uid, (long long)pid, qty),
                        json, 201, NULL);
    int64_t id = tc_int(r, "orderId");
    tc_free(r);
    return id;
}

static void fixtures(void)
{
    f.user = tc_new_user();
    f.other = tc_new_user();
    f.poor = tc_new_user();
    f.rich = tc_new_user();
    tc_charge(f.user, 5000000);
    tc_charge(f.other, 5000000);
    tc_grant(f.rich, 1000000000);
    f.product = tc_new_product(100, 1000000);
    f.product2 = tc_new_product(250, 1000000);
    f.sold_out = tc_new_product(50, 0);
    f.coupon = tc_new_coupon("FIXED", 100, 1000);
    f.percent = tc_new_coupon("PERCENT", 10, 1000);
    f.single = tc_new_coupon("FIXED", 5, 1);
}

static int setup(void **state)
{
    const char *n = getenv("COMMERCE_LOAD_ROUNDS");
    rounds = n && atoi(n) > 0 ? atoi(n) : rounds;
    routes = routes_table(&nroutes);
    return nroutes <= sizeof(worked) ? 0 : -1;
}

/* ---------------------------------------------------------------------------
 * routes */

static void operations_and_routing(void)
{
    EXPECT("GET", "/", NULL, NULL, 200, NULL);
    EXPECT("GET", "/livez", NULL, NULL, 200, NULL);
    EXPECT("HEAD", "/livez", NULL, NULL, 200, NULL);
    EXPECT("GET", "/readyz", NULL, NULL, 200, NULL);
    EXPECT("GET", "/metrics", NULL, NULL, 200, NULL);
    EXPECT("POST", "/livez", "{}", json, 405, "METHOD_NOT_ALLOWED");
    EXPECT("DELETE", "/orders", NULL, NULL, 405, "METHOD_NOT_ALLOWED");
    EXPECT("PUT", "/products", "{}", json, 405, "METHOD_NOT_ALLOWED");
    EXPECT("GET", "/nope", NULL, NULL, 404, "NOT_FOUND");
    EXPECT("GET", fmt("/users/%lld/nope", (long long)f.user), NULL, NULL, 404, "NOT_FOUND");
    EXPECT("GET", "/users/0/points", NULL, NULL, 400, "INVALID_REQUEST");
    EXPECT("GET", "/users/99999999999999999999/points", NULL, NULL, 400, "INVALID_REQUEST");
}

static void products(void)
{
    long long p = (long long)f.product;
    EXPECT("GET", "/products", NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/products?limit=2&after=%lld", p), NULL, NULL, 200, NULL);
    EXPECT("GET", "/products?limit=0", NULL, NULL, 400, "INVALID_REQUEST");
    EXPECT("GET", "/products?limit=abc&after=-1", NULL, NULL, 400, "INVALID_REQUEST");
    EXPECT("GET", fmt("/products/%lld", p), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/products/%lld", NOWHERE), NULL, NULL, 404, "PRODUCT_NOT_FOUND");
    EXPECT("GET", "/products/abc", NULL, NULL, 400, "INVALID_REQUEST");
    EXPECT("GET", "/products/popular", NULL, NULL, 200, NULL);
}

static void points(void)
{
    long long u = (long long)f.user;
    const char *charge = fmt("/users/%lld/points/charge", u);
    const char *key = fmt("vg-charge-%lld", u);

    EXPECT("POST", charge, "{\"amount\":100}", with_key(key), 200, NULL);
    EXPECT("POST", charge, "{\"amount\":100}", with_key(key), 200, NULL); /* replayed */
    EXPECT("POST", charge, "{\"amount\":200}", with_key(key), 422, "IDEMPOTENCY_KEY_REUSED");
    EXPECT_JSON("POST", charge, "{\"amount\":7}", 200, NULL);
    EXPECT_JSON("POST", charge, "{\"amount\":0}", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", charge, "{\"amount\":\"12\"}", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", charge, "{\"amount\":1e400}", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", charge, "{\"amount\":1,\"amount\":2}", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", charge, "{\"amount\":99999999999999999999999}", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", fmt("/users/%lld/points/charge", (long long)f.rich), "{\"amount\":1}", 409,
                "BALANCE_LIMIT_EXCEEDED");
    EXPECT_JSON("POST", fmt("/users/%lld/points/charge", NOWHERE), "{\"amount\":1}", 404,
                "USER_NOT_FOUND");
    EXPECT("GET", fmt("/users/%lld/points", u), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/users/%lld/points", NOWHERE), NULL, NULL, 404, "USER_NOT_FOUND");
    EXPECT("GET", fmt("/users/%lld/points/history?limit=3", u), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/users/%lld/points/history?before=1&limit=100", u), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/users/%lld/points/history?limit=0", u), NULL, NULL, 400, "INVALID_REQUEST");
}

/* A two-line order of f.user (with the coupon cid when not 0). */
static const char *order_body(int64_t uid, int64_t cid)
{
    return fmt("{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1},"
               "{\"productId\":%lld,\"quantity\":2}]%s%s}",
               (long long)uid, (long long)f.product, (long long)f.product2,
               cid ? ",\"couponId\":" : "", cid ? fmt("%lld", (long long)cid) : "");
}

static void placing_orders(void)
{
    long long u = (long long)f.user, p = (long long)f.product;
    const char *key = fmt("vg-order-%lld", u);
    const char *body = order_body(f.user, 0);

    EXPECT("POST", "/orders", body, with_key(key), 201, NULL);
    EXPECT("POST", "/orders", body, with_key(key), 201, NULL); /* replayed */
    EXPECT("POST", "/orders", order_body(f.user, f.coupon), with_key(key), 422,
           "IDEMPOTENCY_KEY_REUSED");
    EXPECT_JSON("POST", "/orders",
                fmt("{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", u,
                    (long long)f.sold_out),
                409, "OUT_OF_STOCK");
    EXPECT_JSON("POST", "/orders", order_body(f.poor, 0), 409, "INSUFFICIENT_BALANCE");
    EXPECT_JSON(
        "POST", "/orders",
        fmt("{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", u, NOWHERE), 404,
        "PRODUCT_NOT_FOUND");
    EXPECT_JSON("POST", "/orders", order_body(NOWHERE, 0), 404, "USER_NOT_FOUND");
    EXPECT_JSON("POST", "/orders", order_body(f.user, NOWHERE), 404, "COUPON_NOT_FOUND");
    EXPECT("POST", "/orders", order_body(f.user, 0), with_auth(tc_token(f.other)), 403,
           "FORBIDDEN");
    EXPECT_JSON("POST", "/orders",
                fmt("{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1},"
                    "{\"productId\":%lld,\"quantity\":1}]}",
                    u, p, p),
                400, "INVALID_REQUEST");
    EXPECT_JSON("POST", "/orders", fmt("{\"userId\":%lld,\"items\":[]}", u), 400,
                "INVALID_REQUEST");
    EXPECT_JSON("POST", "/orders", fmt("{\"userId\":%lld,\"items\":[1,\"x\",null]}", u), 400,
                "INVALID_REQUEST");
    EXPECT_JSON("POST", "/orders", fmt("{\"userId\":%lld,\"items\":{\"productId\":%lld}}", u, p),
                400, "INVALID_REQUEST");
}

static void reading_and_cancelling_orders(void)
{
    long long u = (long long)f.user;
    int64_t oid = new_order(f.user, f.product, 1);
    const char *cancel = fmt("/orders/%lld/cancel", (long long)oid);

    EXPECT("GET", fmt("/orders/%lld", (long long)oid), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/orders/%lld", NOWHERE), NULL, NULL, 404, "ORDER_NOT_FOUND");
    EXPECT("GET", fmt("/orders/%lld", (long long)oid), NULL, with_auth(tc_token(f.other)), 404,
           "ORDER_NOT_FOUND");
    EXPECT("GET", "/orders/abc", NULL, NULL, 400, "INVALID_REQUEST");
    EXPECT("POST", cancel, NULL, NULL, 200, NULL);
    EXPECT("POST", cancel, NULL, NULL, 409, "ORDER_NOT_CANCELLABLE");
    EXPECT("POST", fmt("/orders/%lld/cancel", NOWHERE), NULL, NULL, 404, "ORDER_NOT_FOUND");
    EXPECT("GET", fmt("/users/%lld/orders?limit=2", u), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/users/%lld/orders?before=%lld&limit=1", u, (long long)oid), NULL, NULL, 200,
           NULL);
    EXPECT("GET", fmt("/users/%lld/orders?limit=0", u), NULL, NULL, 400, "INVALID_REQUEST");
    EXPECT("GET", fmt("/users/%lld/orders", NOWHERE), NULL, NULL, 404, "USER_NOT_FOUND");
}

static void cart(void)
{
    long long u = (long long)f.user;
    const char *item = fmt("/users/%lld/cart/items/%lld", u, (long long)f.product);
    const char *item2 = fmt("/users/%lld/cart/items/%lld", u, (long long)f.product2);
    const char *checkout = fmt("/users/%lld/cart/checkout", u);
    const char *key = fmt("vg-checkout-%lld", u);

    EXPECT_JSON("PUT", item, "{\"quantity\":2}", 200, NULL);
    EXPECT_JSON("PUT", item2, "{\"quantity\":1}", 200, NULL);
    EXPECT_JSON("PUT", item, "{\"quantity\":-1}", 400, "INVALID_REQUEST");
    EXPECT_JSON("PUT", fmt("/users/%lld/cart/items/%lld", u, NOWHERE), "{\"quantity\":1}", 404,
                "PRODUCT_NOT_FOUND");
    EXPECT("GET", fmt("/users/%lld/cart", u), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/users/%lld/cart", NOWHERE), NULL, NULL, 404, "USER_NOT_FOUND");
    EXPECT("DELETE", item2, NULL, NULL, 204, NULL);
    EXPECT("DELETE", fmt("/users/%lld/cart/items/abc", u), NULL, NULL, 400, "INVALID_REQUEST");
    const char *with_coupon = fmt("{\"couponId\":%lld}", (long long)f.percent);
    EXPECT_JSON("POST", fmt("/coupons/%lld/issue", (long long)f.percent),
                fmt("{\"userId\":%lld}", u), 201, NULL);
    EXPECT("POST", checkout, with_coupon, with_key(key), 201, NULL);
    EXPECT("POST", checkout, with_coupon, with_key(key), 201, NULL); /* replayed */
    EXPECT_JSON("POST", checkout, "{}", 409, "CART_EMPTY");
    EXPECT_JSON("POST", fmt("/users/%lld/cart/checkout", NOWHERE), "{}", 404, "USER_NOT_FOUND");
}

static void coupons(void)
{
    long long c = (long long)f.coupon, u = (long long)f.user;
    const char *issue = fmt("/coupons/%lld/issue", c);

    EXPECT("GET", fmt("/coupons/%lld", c), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/coupons/%lld", NOWHERE), NULL, NULL, 404, "COUPON_NOT_FOUND");
    EXPECT_JSON("POST", issue, fmt("{\"userId\":%lld}", u), 201, NULL);
    EXPECT_JSON("POST", issue, fmt("{\"userId\":%lld}", u), 409, "COUPON_ALREADY_ISSUED");
    EXPECT_JSON("POST", fmt("/coupons/%lld/issue", (long long)f.single),
                fmt("{\"userId\":%lld}", (long long)f.other), 201, NULL);
    EXPECT_JSON("POST", fmt("/coupons/%lld/issue", (long long)f.single),
                fmt("{\"userId\":%lld}", u), 409, "COUPON_SOLD_OUT");
    EXPECT_JSON("POST", fmt("/coupons/%lld/issue", NOWHERE), fmt("{\"userId\":%lld}", u), 404,
                "COUPON_NOT_FOUND");
    EXPECT("POST", issue, fmt("{\"userId\":%lld}", u), with_auth(tc_token(f.other)), 403,
           "FORBIDDEN");
    EXPECT_JSON("POST", issue, "{\"userId\":\"x\"}", 400, "INVALID_REQUEST");
    EXPECT("GET", fmt("/users/%lld/coupons", u), NULL, NULL, 200, NULL);
    EXPECT("GET", fmt("/users/%lld/coupons", NOWHERE), NULL, NULL, 404, "USER_NOT_FOUND");
    /* the coupon pays once; a second order with it is refused */
    EXPECT_JSON("POST", "/orders", order_body(f.user, f.coupon), 201, NULL);
    EXPECT_JSON("POST", "/orders", order_body(f.user, f.coupon), 409, "COUPON_NOT_USABLE");
}

static void administration(void)
{
    const char *patch = fmt("/admin/products/%lld", (long long)f.product2);

    ADMIN("POST", "/admin/users", "{\"name\":\"vg \\u00e9\\ud83d\\ude00\"}", 201, NULL);
    ADMIN("POST", "/admin/users", "{\"name\":\"\"}", 400, "INVALID_REQUEST");
    ADMIN("POST", "/admin/products", "{\"name\":\"vg\",\"price\":10,\"stock\":5}", 201, NULL);
    ADMIN("POST", "/admin/products", "{\"name\":\"x\",\"price\":-1,\"stock\":5}", 400,
          "INVALID_REQUEST");
    ADMIN("PATCH", patch, "{\"name\":\"renamed\",\"price\":250,\"restock\":10}", 200, NULL);
    ADMIN("PATCH", patch, "{}", 400, "INVALID_REQUEST");
    ADMIN("PATCH", fmt("/admin/products/%lld", NOWHERE), "{\"price\":1}", 404, "PRODUCT_NOT_FOUND");
    ADMIN("POST", "/admin/coupons",
          "{\"name\":\"vg\",\"type\":\"FIXED\",\"value\":1,\"totalQuantity\":1,\"validDays\":1}",
          201, NULL);
    ADMIN("POST", "/admin/coupons",
          "{\"name\":\"vg\",\"type\":\"BOGUS\",\"value\":1,\"totalQuantity\":1,\"validDays\":1}",
          400, "INVALID_REQUEST");
    ADMIN("GET", "/admin/outbox", NULL, 200, NULL);
    ADMIN("GET", "/admin/outbox?after=1&limit=5", NULL, 200, NULL);
    ADMIN("GET", "/admin/outbox?limit=0", NULL, 400, "INVALID_REQUEST");
    ADMIN("POST", "/admin/outbox/replay", "{}", 200, NULL);
    ADMIN("POST", "/admin/outbox/replay", "{\"eventId\":\"00000000-0000-4000-8000-000000000000\"}",
          404, "NOT_FOUND");
    /* the operator's view of an order (its events), and the search */
    int64_t oid = new_order(f.user, f.product, 1);
    ADMIN("GET", fmt("/admin/orders/%lld", (long long)oid), NULL, 200, NULL);
    ADMIN("GET", fmt("/admin/orders/%lld", NOWHERE), NULL, 404, "ORDER_NOT_FOUND");
    ADMIN("GET", "/admin/orders", NULL, 200, NULL);
    ADMIN("GET", fmt("/admin/orders?before=%lld&limit=3&status=PAID", (long long)oid), NULL, 200,
          NULL);
    ADMIN("GET", "/admin/orders?from=2026-01-01&to=2026-01-02T00%3A00%3A00.000Z", NULL, 200, NULL);
    ADMIN("GET", fmt("/admin/orders?userId=%lld&status=CANCELLED", (long long)f.user), NULL, 200,
          NULL);
    ADMIN("GET", fmt("/admin/orders?userId=%lld", NOWHERE), NULL, 404, "USER_NOT_FOUND");
    ADMIN("GET", "/admin/orders?from=tomorrow", NULL, 400, "INVALID_REQUEST");
    ADMIN("GET", fmt("/admin/orders?before=%lld", NOWHERE), NULL, 400, "INVALID_REQUEST");
}

/* Every route that takes a token refuses a request without one, or with a bad one. */
static void missing_and_bad_tokens(void)
{
    tc_auto_token(0);
    for (size_t i = 0; i < nroutes; i++) {
        if (routes[i].access == ACCESS_PUBLIC)
            continue;
        char path[256];
        size_t n = 0;
        for (const char *p = routes[i].pattern; *p && n + 12 < sizeof(path); p++) {
            if (*p == '{') {
                n += (size_t)snprintf(path + n, sizeof(path) - n, "%lld", (long long)f.user);
                p = strchr(p, '}');
            } else {
                path[n++] = *p;
            }
        }
        path[n] = '\0';
        const char *body = routes[i].flags & R_BODY ? "{}" : NULL;
        EXPECT(routes[i].method, path, body, json, 401, "UNAUTHORIZED");
        EXPECT(routes[i].method, path, body, with_auth("not-a-token"), 401, "UNAUTHORIZED");
    }
    tc_auto_token(1);
}

/* Bodies that are not what a route takes, on a route of each kind. */
static void malformed_bodies(void)
{
    static char big[70000], deep[2001];
    const char *charge = fmt("/users/%lld/points/charge", (long long)f.user);
    const char *text[] = {"Content-Type: text/plain", NULL};

    memset(deep, '[', sizeof(deep) - 1);
    snprintf(big, sizeof(big), "{\"amount\":1,\"pad\":\"%0*d\"}", (int)sizeof(big) - 64, 0);
    EXPECT_JSON("POST", "/orders", "{\"userId\":", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", "/orders", deep, 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", "/orders", "[1,2,3]", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", "/orders", "", 400, "INVALID_REQUEST");
    EXPECT_JSON("POST", charge, "{\"amount\":1}\xff", 400, "INVALID_REQUEST");
    EXPECT("POST", "/orders", order_body(f.user, 0), text, 415, "UNSUPPORTED_MEDIA_TYPE");
    EXPECT_JSON("POST", charge, big, 413, "PAYLOAD_TOO_LARGE");
    char key[300];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    EXPECT("POST", charge, "{\"amount\":1}", with_key(key), 400, "INVALID_REQUEST");
}

static void every_route(void **state)
{
    for (int i = 0; i < rounds; i++) {
        fixtures();
        operations_and_routing();
        products();
        points();
        placing_orders();
        reading_and_cancelling_orders();
        cart();
        coupons();
        administration();
        missing_and_bad_tokens();
        malformed_bodies();
    }
}

/* ---------------------------------------------------------------------------
 * the database goes away and comes back */

static int ready(void)
{
    tc_resp_t *r = tc_get("/readyz");
    int ok = r->status == 200;
    tc_free(r);
    return ok;
}

static void database_outage(void **state)
{
    int workers = atoi(getenv("COMMERCE_TEST_WORKERS") ? getenv("COMMERCE_TEST_WORKERS") : "2");
    long long u = (long long)f.user;

    assert_int_equal(tc_stack("db-stop"), 0);
    for (int i = 0; i < 2 * workers; i++) { /* every worker meets it */
        EXPECT("GET", fmt("/users/%lld/points", u), NULL, NULL, 503, "SERVICE_UNAVAILABLE");
        EXPECT_JSON("POST", "/orders", order_body(f.user, 0), 503, "SERVICE_UNAVAILABLE");
        EXPECT("GET", "/readyz", NULL, NULL, 503, "SERVICE_UNAVAILABLE");
        EXPECT("GET", "/livez", NULL, NULL, 200, NULL);
    }
    assert_int_equal(tc_stack("db-start"), 0);
    TC_WAIT_UNTIL_MS(WAIT_MS, ready(), "GET /readyz to answer 200 again");
    for (int i = 0; i < 2 * workers; i++)
        EXPECT("GET", fmt("/users/%lld/points", u), NULL, NULL, 200, NULL);
}

static int db_teardown(void **state)
{
    return tc_stack("db-start") == 0 ? 0 : -1; /* whatever happened, leave the database up */
}

/* ---------------------------------------------------------------------------
 * the relay meets a failing, a hanging, then a healthy platform */

static int64_t attempts(int64_t oid)
{
    return tc_sql_int("SELECT COALESCE(MAX(attempts), 0) FROM outbox WHERE order_id = %lld",
                      (long long)oid);
}

static int64_t undelivered(void)
{
    return tc_sql_int("SELECT COUNT(*) FROM outbox WHERE status <> 'DELIVERED'");
}

static void relay_through_platform_failures(void **state)
{
    tc_platform_mode("fail");
    int64_t a = new_order(f.user, f.product, 1);
    TC_WAIT_UNTIL_MS(WAIT_MS, tc_platform_state("failed") >= 1 && attempts(a) >= 1,
                     "the relay to meet a 500 for order %lld", (long long)a);
    tc_platform_mode("hang");
    int64_t b = new_order(f.user, f.product, 1);
    TC_WAIT_UNTIL_MS(WAIT_MS, tc_platform_state("hanging") >= 1,
                     "the relay to be inside a request");
    int64_t tried = attempts(a) + attempts(b);
    TC_WAIT_UNTIL_MS(WAIT_MS, attempts(a) + attempts(b) > tried,
                     "the relay to time out on the hanging platform");
    tc_platform_mode("ok");
    TC_WAIT_UNTIL_MS(WAIT_MS, undelivered() == 0, "every event to be delivered (%lld left)",
                     (long long)undelivered());
}

/* ---------------------------------------------------------------------------
 * what was covered */

static void every_route_worked_and_refused(void **state)
{
    int missing = 0;
    for (size_t i = 0; i < nroutes; i++) {
        int can_refuse = routes[i].access != ACCESS_PUBLIC || strchr(routes[i].pattern, '{') ||
                         strcmp(routes[i].pattern, "/products") == 0;
        if (!worked[i] || (can_refuse && !refused[i])) {
            fprintf(stderr, "%s %s: %s\n", routes[i].method, routes[i].pattern,
                    !worked[i] ? "never answered 2xx" : "never refused (4xx)");
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && atoi(argv[1]) > 0)
        rounds = atoi(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route),
        cmocka_unit_test_teardown(database_outage, db_teardown),
        cmocka_unit_test(relay_through_platform_failures),
        cmocka_unit_test(every_route_worked_and_refused),
    };
    return cmocka_run_group_tests_name("load/valgrind", tests, setup, NULL);
}
