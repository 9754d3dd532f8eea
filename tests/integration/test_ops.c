/* Operations: GET /metrics (Prometheus text: requests by route and status,
 * the latency histogram, order outcomes, the outbox backlog) and
 * GET /admin/outbox, against the real stack.
 *
 * The counters live in a file shared by every worker, so a delta between two
 * scrapes is exact whichever worker answers: scripts/test runs the test
 * programs one after another, nothing else talks to the stack meanwhile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

#define NOWHERE 999999999999LL /* an id no test creates */

/* ---------------------------------------------------------------------------
 * scraping */

typedef struct scrape {
    char *text;
} scrape_t;

static scrape_t scrape(void)
{
    char ct[128];
    tc_resp_t *r = tc_get("/metrics");
    assert_int_equal(r->status, 200);
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    if (strncmp(ct, "text/plain", 10) != 0)
        fail_msg("GET /metrics Content-Type: %s", ct);
    scrape_t s = {strdup(r->body)};
    tc_free(r);
    if (!s.text)
        fail_msg("GET /metrics: out of memory");
    return s;
}

static void scrape_free(scrape_t *s)
{
    free(s->text);
    s->text = NULL;
}

/* The sample line "name{labels} value" (series = everything before the space): its value as
 * text, or NULL when the series is absent. Only whole lines match. */
static const char *sample_text(const scrape_t *s, const char *series, char *out, size_t cap)
{
    size_t n = strlen(series);
    const char *p = s->text;

    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (p[0] != '#' && len > n + 1 && strncmp(p, series, n) == 0 && p[n] == ' ') {
            size_t vl = len - n - 1;
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, p + n + 1, vl);
            out[vl] = '\0';
            return out;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* A counter or gauge; -1 when the series is absent. Fails on a value that is not an integer. */
static int64_t sample(const scrape_t *s, const char *series)
{
    char v[64], *end;
    if (!sample_text(s, series, v, sizeof(v)))
        return -1;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end)
        fail_msg("%s has a non-integer value '%s'", series, v);
    return x;
}

/* A counter that is only printed once non-zero (requests by route and status). */
static int64_t counter0(const scrape_t *s, const char *series)
{
    int64_t v = sample(s, series);
    return v < 0 ? 0 : v;
}

/* Must be present. */
static int64_t counter(const scrape_t *s, const char *series)
{
    int64_t v = sample(s, series);
    if (v < 0)
        fail_msg("no sample %s in:\n%s", series, s->text);
    return v;
}

#define PAID "commerce_orders_total{outcome=\"paid\"}"
#define OUT_OF_STOCK "commerce_orders_total{outcome=\"out_of_stock\"}"
#define NO_BALANCE "commerce_orders_total{outcome=\"insufficient_balance\"}"
#define COUPON "commerce_orders_total{outcome=\"coupon_rejected\"}"
#define OTHER "commerce_orders_total{outcome=\"rejected_other\"}"
#define CANCELS "commerce_order_cancels_total"
#define REQ(route, status) "commerce_http_requests_total{route=\"" route "\",status=\"" status "\"}"
#define HIST "commerce_http_request_duration_seconds"

static const char *const outcomes[] = {PAID, OUT_OF_STOCK, NO_BALANCE, COUPON, OTHER};
#define NOUTCOMES (sizeof(outcomes) / sizeof(outcomes[0]))

/* Every order outcome changed by exactly want[i] between a and b. */
static void assert_outcomes(const scrape_t *a, const scrape_t *b, const int64_t *want)
{
    for (size_t i = 0; i < NOUTCOMES; i++) {
        int64_t d = counter(b, outcomes[i]) - counter(a, outcomes[i]);
        if (d != want[i])
            fail_msg("%s changed by %lld, expected %lld", outcomes[i], (long long)d,
                     (long long)want[i]);
    }
}

/* The sum of commerce_http_requests_total over every route whose status starts with prefix. */
static int64_t requests_with_status(const scrape_t *s, const char *prefix)
{
    static const char name[] = "commerce_http_requests_total{";
    int64_t sum = 0;
    char want[16];

    snprintf(want, sizeof(want), ",status=\"%s", prefix);
    for (const char *p = s->text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (strncmp(p, name, sizeof(name) - 1) == 0) {
            const char *st = strstr(p, want), *sp = memchr(p, ' ', len);
            if (st && sp && st < sp)
                sum += strtoll(sp + 1, NULL, 10);
        }
        p = eol ? eol + 1 : NULL;
    }
    return sum;
}

/* The histogram's _count summed over every route. */
static int64_t hist_total(const scrape_t *s)
{
    static const char name[] = HIST "_count{";
    int64_t sum = 0;
    for (const char *p = s->text; (p = strstr(p, name)); p++) {
        const char *sp = strchr(p, ' ');
        assert_non_null(sp);
        sum += strtoll(sp + 1, NULL, 10);
    }
    return sum;
}

static int64_t delta0(const scrape_t *a, const scrape_t *b, const char *series)
{
    return counter0(b, series) - counter0(a, series);
}

/* ---------------------------------------------------------------------------
 * fixtures */

static char body_buf[512];

static const char *order_body(int64_t uid, int64_t pid, int64_t qty)
{
    snprintf(body_buf, sizeof(body_buf),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":%lld}]}", (long long)uid,
             (long long)pid, (long long)qty);
    return body_buf;
}

static int64_t place(int64_t uid, int64_t pid, int64_t qty)
{
    tc_resp_t *r = tc_post("/orders", order_body(uid, pid, qty));
    assert_int_equal(r->status, 201);
    int64_t id = tc_int(r, "orderId");
    tc_free(r);
    return id;
}

/* ---------------------------------------------------------------------------
 * /metrics */

static void metrics_is_prometheus_text(void **state)
{
    (void)state;
    scrape_t s = scrape();
    assert_non_null(strstr(s.text, "# TYPE commerce_http_requests_total counter\n"));
    assert_non_null(strstr(s.text, "# TYPE " HIST " histogram\n"));
    assert_non_null(strstr(s.text, "# TYPE commerce_orders_total counter\n"));
    assert_non_null(strstr(s.text, "# TYPE commerce_outbox_events gauge\n"));
    /* every order outcome is always there, zero or not */
    for (size_t i = 0; i < NOUTCOMES; i++)
        assert_true(counter(&s, outcomes[i]) >= 0);
    /* every line is a comment or "series value" */
    for (const char *p = s.text; *p;) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol); /* the text ends with a newline */
        if (*p != '#') {
            const char *sp = memchr(p, ' ', (size_t)(eol - p));
            assert_non_null(sp);
            assert_true(sp > p && sp + 1 < eol);
            assert_null(memchr(sp + 1, ' ', (size_t)(eol - sp - 1)));
        }
        p = eol + 1;
    }
    scrape_free(&s);
}

static void paid_order_counts_once(void **state)
{
    (void)state;
    int64_t uid = tc_new_user(), pid = tc_new_product(700, 10);
    tc_charge(uid, 100000);

    scrape_t a = scrape();
    place(uid, pid, 2);
    scrape_t b = scrape();

    static const int64_t want[NOUTCOMES] = {1, 0, 0, 0, 0};
    assert_outcomes(&a, &b, want);
    assert_int_equal(delta0(&a, &b, REQ("orders_create", "201")), 1);
    assert_int_equal(delta0(&a, &b, REQ("orders_create", "409")), 0);
    /* the first scrape itself is counted once it has answered */
    assert_int_equal(delta0(&a, &b, REQ("metrics", "200")), 1);
    /* two requests in between: the first scrape and the order */
    assert_int_equal(hist_total(&b) - hist_total(&a), 2);
    scrape_free(&a);
    scrape_free(&b);
}

static void idempotent_replay_is_not_a_second_order(void **state)
{
    (void)state;
    int64_t uid = tc_new_user(), pid = tc_new_product(700, 10);
    tc_charge(uid, 100000);
    char key[64];
    snprintf(key, sizeof(key), "ops-%lld", (long long)uid);

    scrape_t a = scrape();
    assert_answers(tc_post_key("/orders", order_body(uid, pid, 1), key), 201);
    assert_answers(tc_post_key("/orders", order_body(uid, pid, 1), key), 201);
    scrape_t b = scrape();

    static const int64_t want[NOUTCOMES] = {1, 0, 0, 0, 0};
    assert_outcomes(&a, &b, want);
    assert_int_equal(delta0(&a, &b, REQ("orders_create", "201")), 2);
    scrape_free(&a);
    scrape_free(&b);
}

/* POST /orders with body is refused (status, code): the order outcomes move by
 * exactly want, and orders_create counts one answer of that status, no 201. */
static void refused_order_counts(const char *body, long status, const char *code,
                                 const int64_t want[NOUTCOMES])
{
    char series[128];
    scrape_t a = scrape();
    assert_refused(tc_post("/orders", body), status, code);
    scrape_t b = scrape();
    assert_outcomes(&a, &b, want);
    snprintf(series, sizeof(series), REQ("orders_create", "%ld"), status);
    assert_int_equal(delta0(&a, &b, series), 1);
    assert_int_equal(delta0(&a, &b, REQ("orders_create", "201")), 0);
    scrape_free(&a);
    scrape_free(&b);
}

static void refused_orders_count_by_outcome(void **state)
{
    (void)state;
    int64_t uid = tc_new_user(), pid = tc_new_product(1000, 3);
    tc_charge(uid, 1500);

    /* out of stock: 4 of 3 */
    static const int64_t oos[NOUTCOMES] = {0, 1, 0, 0, 0};
    refused_order_counts(order_body(uid, pid, 4), 409, "OUT_OF_STOCK", oos);
    /* insufficient balance: 2000 > 1500 */
    static const int64_t nob[NOUTCOMES] = {0, 0, 1, 0, 0};
    refused_order_counts(order_body(uid, pid, 2), 409, "INSUFFICIENT_BALANCE", nob);
    /* unknown product: rejected for another reason */
    static const int64_t other[NOUTCOMES] = {0, 0, 0, 0, 1};
    refused_order_counts(order_body(uid, NOWHERE, 1), 404, "PRODUCT_NOT_FOUND", other);
    /* a malformed body is a bad request, not an order attempt */
    static const int64_t none[NOUTCOMES] = {0, 0, 0, 0, 0};
    refused_order_counts("{\"userId\":\"x\"}", 400, "INVALID_REQUEST", none);
}

static void cancel_counts_once(void **state)
{
    (void)state;
    int64_t uid = tc_new_user(), pid = tc_new_product(500, 10);
    tc_charge(uid, 10000);
    int64_t oid = place(uid, pid, 1);
    char path[64];
    snprintf(path, sizeof(path), "/orders/%lld/cancel", (long long)oid);

    scrape_t a = scrape();
    tc_resp_t *r = tc_post(path, "");
    assert_int_equal(r->status, 200);
    tc_free(r);
    /* a second cancel is refused and is not counted */
    assert_refused(tc_post(path, ""), 409, "ORDER_NOT_CANCELLABLE");
    scrape_t b = scrape();

    static const int64_t want[NOUTCOMES] = {0, 0, 0, 0, 0};
    assert_outcomes(&a, &b, want); /* a cancel is not a placement */
    assert_int_equal(counter(&b, CANCELS) - counter(&a, CANCELS), 1);
    assert_int_equal(delta0(&a, &b, REQ("orders_cancel", "200")), 1);
    assert_int_equal(delta0(&a, &b, REQ("orders_cancel", "409")), 1);
    scrape_free(&a);
    scrape_free(&b);
}

static void unknown_routes_are_counted_too(void **state)
{
    (void)state;
    scrape_t a = scrape();
    tc_resp_t *r = tc_get("/no/such/route");
    assert_problem(r, 404, "NOT_FOUND");
    tc_free(r);
    assert_refused(tc_req("DELETE", "/metrics", NULL, NULL), 405, "METHOD_NOT_ALLOWED");
    scrape_t b = scrape();
    assert_int_equal(hist_total(&b) - hist_total(&a), 3);
    /* neither matched a route: both are counted under route "none" */
    assert_int_equal(requests_with_status(&b, "4") - requests_with_status(&a, "4"), 2);
    assert_int_equal(delta0(&a, &b, REQ("none", "404")), 1);
    assert_int_equal(delta0(&a, &b, REQ("none", "405")), 1);
    scrape_free(&a);
    scrape_free(&b);
}

static void histogram_is_consistent(void **state)
{
    (void)state;
    /* some traffic, so the histogram is not empty */
    tc_free(tc_get("/livez"));
    scrape_t s = scrape();
    char v[64];
    int64_t prev = 0, buckets = 0, inf = -1;

    /* cumulative buckets in ascending le order, ending in +Inf */
#define LIVEZ HIST "_bucket{route=\"livez\",le=\""
    for (const char *p = s.text; (p = strstr(p, LIVEZ)); p++) {
        const char *le = p + strlen(LIVEZ);
        const char *sp = strchr(p, ' ');
        assert_non_null(sp);
        int64_t n = strtoll(sp + 1, NULL, 10);
        assert_true(n >= prev);
        prev = n;
        buckets++;
        if (strncmp(le, "+Inf\"}", 6) == 0)
            inf = n;
        else
            assert_int_equal(inf, -1); /* +Inf comes last */
    }
    assert_true(buckets >= 2);
    assert_true(inf >= 1);
    assert_int_equal(counter(&s, LIVEZ "+Inf\"}"), inf);
    assert_int_equal(inf, counter(&s, HIST "_count{route=\"livez\"}"));
    assert_non_null(sample_text(&s, HIST "_sum{route=\"livez\"}", v, sizeof(v)));
    char *end;
    double sum = strtod(v, &end);
    assert_true(end != v && *end == '\0');
    assert_true(sum > 0.0);
    scrape_free(&s);
}

static void outbox_gauges_match_the_table(void **state)
{
    (void)state;
    scrape_t s = scrape();
    int64_t due = counter(&s, "commerce_outbox_events{state=\"due\"}");
    int64_t waiting = counter(&s, "commerce_outbox_events{state=\"waiting\"}");
    int64_t failed = counter(&s, "commerce_outbox_events{state=\"failed\"}");
    char v[64];
    assert_true(due >= 0 && waiting >= 0 && failed >= 0);
    /* the states do not overlap: together they are what is not delivered yet,
     * at most what the relay has not delivered by the time the table is read */
    int64_t undelivered = tc_sql_int("SELECT COUNT(*) FROM outbox WHERE status <> 'DELIVERED'");
    assert_true(due + waiting + failed >= undelivered);
    assert_non_null(sample_text(&s, "commerce_outbox_oldest_pending_age_seconds", v, sizeof(v)));
    assert_true(strtod(v, NULL) >= 0.0);
    assert_non_null(
        sample_text(&s, "commerce_popular_last_success_timestamp_seconds", v, sizeof(v)));
    assert_true(counter(&s, "commerce_relay_deliveries_total{outcome=\"delivered\"}") >= 0);
    assert_non_null(strstr(s.text, "\ncommerce_build_info{version=\""));
    scrape_free(&s);
}

/* ---------------------------------------------------------------------------
 * GET /admin/outbox */

static void admin_outbox_needs_the_token(void **state)
{
    (void)state;
    tc_resp_t *r = tc_get("/admin/outbox");
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);
    const char *wrong[] = {"Authorization: Bearer not-the-token", NULL};
    assert_refused(tc_req("GET", "/admin/outbox", NULL, wrong), 401, "UNAUTHORIZED");
    const char *basic[] = {"Authorization: Basic dGVzdDp0ZXN0", NULL};
    assert_refused(tc_req("GET", "/admin/outbox", NULL, basic), 401, "UNAUTHORIZED");
}

static void admin_outbox_shows_the_backlog(void **state)
{
    (void)state;
    tc_resp_t *r = tc_admin("GET", "/admin/outbox", NULL);
    assert_int_equal(r->status, 200);
    int64_t pending = tc_int(r, "pending"), due = tc_int(r, "due");
    int64_t failed = tc_int(r, "failed"), delivered = tc_int(r, "delivered");
    assert_true(pending >= 0 && failed >= 0 && delivered >= 0);
    assert_in_range(due, 0, pending);
    assert_int_equal(pending + failed + delivered, tc_sql_int("SELECT COUNT(*) FROM outbox"));
    json_object *o = NULL;
    assert_true(json_object_object_get_ex(r->json, "oldestPendingAt", &o));
    if (pending)
        tc_assert_time(json_object_get_string(o));
    else
        assert_null(o);
    assert_true(json_object_object_get_ex(r->json, "failedEvents", &o));
    assert_true(json_object_is_type(o, json_type_array));
    assert_true((int64_t)json_object_array_length(o) <= failed);
    assert_true(json_object_object_get_ex(r->json, "next", &o));
    assert_true(o == NULL || json_object_is_type(o, json_type_int));
    tc_free(r);

    r = tc_admin("GET", "/admin/outbox?limit=1", NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_object_array_length(json_object_object_get(r->json, "failedEvents")) <= 1);
    tc_free(r);
    assert_answers(tc_admin("GET", "/admin/outbox?limit=100&after=1", NULL), 200);
}

static void admin_outbox_bad_parameters(void **state)
{
    static const char *paths[] = {
        "/admin/outbox?limit=0",   "/admin/outbox?limit=101",
        "/admin/outbox?limit=abc", "/admin/outbox?limit=",
        "/admin/outbox?limit=-1",  "/admin/outbox?limit=1.5",
        "/admin/outbox?after=0",   "/admin/outbox?after=-3",
        "/admin/outbox?after=x",   "/admin/outbox?after=99999999999999999999",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        tc_resp_t *r = tc_admin("GET", paths[i], NULL);
        assert_problem(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metrics_is_prometheus_text),
        cmocka_unit_test(paid_order_counts_once),
        cmocka_unit_test(idempotent_replay_is_not_a_second_order),
        cmocka_unit_test(refused_orders_count_by_outcome),
        cmocka_unit_test(cancel_counts_once),
        cmocka_unit_test(unknown_routes_are_counted_too),
        cmocka_unit_test(histogram_is_consistent),
        cmocka_unit_test(outbox_gauges_match_the_table),
        cmocka_unit_test(admin_outbox_needs_the_token),
        cmocka_unit_test(admin_outbox_shows_the_backlog),
        cmocka_unit_test(admin_outbox_bad_parameters),
    };
    return cmocka_run_group_tests_name("integration/ops", tests, NULL, NULL);
}
