/* The operator's view of orders: GET /admin/orders/{orderId} shows an order
 * with where each of its events stands on the way to the data platform, in
 * every state the real relay puts it in (pending, being delivered, in
 * backoff, failed, delivered, and delivered then purged); GET /admin/orders
 * searches every order with filters and keyset pages.
 *
 * The relay and the fake platform are the stack's own (scripts/test); this
 * program stops, starts and steers them, and leaves them running and
 * healthy. Waiting is polling an observable condition, never a sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

#define WAIT_MS 30000
#define WAIT_UNTIL(cond, ...) TC_WAIT_UNTIL_MS(WAIT_MS, cond, __VA_ARGS__)
#define NOWHERE 999999999LL

static void stack(const char *cmd) { assert_int_equal(tc_stack(cmd), 0); }

/* Teardown: the relay running, the platform healthy, whatever a failed test left. */
static int restore_stack(void **state)
{
    (void)state;
    tc_stack("relay-start"); /* a relay that runs is replaced by the same */
    tc_platform_mode("ok");
    return 0;
}

/* ---------------------------------------------------------------------------
 * the order view */

/* GET /admin/orders/{oid}: 200, exactly {"order","events"}; the caller frees it. */
static tc_resp_t *view(int64_t oid)
{
    static const char *const keys[] = {"order", "events", NULL};
    char path[64];
    snprintf(path, sizeof(path), "/admin/orders/%lld", (long long)oid);
    tc_resp_t *r = tc_admin("GET", path, NULL);
    tc_expect_status(r, 200);
    tc_assert_keys(r->json, keys);
    assert_int_equal(tc_jint(tc_jget(r->json, "order"), "orderId"), oid);
    return r;
}

static size_t nevents(const tc_resp_t *r)
{
    return json_object_array_length(tc_jget(r->json, "events"));
}

/* Event i of a view, with exactly the members the contract names. */
static json_object *event(const tc_resp_t *r, size_t i)
{
    static const char *const keys[] = {
        "eventId",       "type",        "state",     "attempts", "lastError", "occurredAt",
        "nextAttemptAt", "deliveredAt", "claimedBy", "purged",   NULL};
    json_object *a = tc_jget(r->json, "events");
    assert_true(i < json_object_array_length(a));
    json_object *e = json_object_array_get_idx(a, i);
    tc_assert_keys(e, keys);
    return e;
}

static bool is_null(json_object *o, const char *key) { return tc_jget(o, key) == NULL; }

/* Poll the view until its event i is in `state` (and, with claimed, held by a
 * relay's claim): that view, which the caller frees. */
static tc_resp_t *view_until(int64_t oid, size_t i, const char *state, bool claimed)
{
    int64_t deadline = tc_mono_ms() + WAIT_MS;
    char last[64] = "no such event";

    for (;;) {
        tc_resp_t *r = view(oid);
        if (i < nevents(r)) {
            json_object *e = event(r, i);
            snprintf(last, sizeof(last), "%s%s", tc_jstr(e, "state"),
                     is_null(e, "claimedBy") ? "" : ", claimed");
            if (strcmp(tc_jstr(e, "state"), state) == 0 && (!claimed || !is_null(e, "claimedBy")))
                return r;
        }
        tc_free(r);
        if (tc_mono_ms() > deadline)
            tc_wait_gave_up(__FILE__, __LINE__, WAIT_MS, "event %zu of order %lld to be %s%s (%s)",
                            i, (long long)oid, state, claimed ? ", claimed" : "", last);
        tc_nap(TC_POLL_MS);
    }
}

/* A user with a balance and an order of one product: the order's id. */
static int64_t place_order(int64_t *uid)
{
    char body[256];
    int64_t pid = tc_new_product(1000, 100);
    *uid = tc_new_user();
    tc_charge(*uid, 100000);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":2}]}", (long long)*uid,
             (long long)pid);
    return tc_created_id(tc_post("/orders", body), "orderId");
}

static void an_order_shows_its_event_in_every_state(void **state)
{
    int64_t uid;
    char event_id[40], body[128];
    (void)state;

    /* pending: the relay is stopped, the event waits */
    tc_platform_mode("ok");
    stack("relay-stop");
    int64_t oid = place_order(&uid);
    tc_resp_t *r = view(oid);
    json_object *order = tc_jget(r->json, "order");
    assert_string_equal(tc_jstr(order, "status"), "PAID");
    assert_int_equal(tc_jint(order, "userId"), uid);
    assert_int_equal(tc_jint(order, "total"), 2000);
    assert_int_equal(nevents(r), 1);
    json_object *e = event(r, 0);
    snprintf(event_id, sizeof(event_id), "%s", tc_jstr(e, "eventId"));
    assert_int_equal(tc_sql_int("SELECT order_id FROM outbox WHERE event_id = '%s'", event_id),
                     oid);
    assert_string_equal(tc_jstr(e, "type"), "ORDER_PAID");
    assert_string_equal(tc_jstr(e, "state"), "PENDING");
    assert_int_equal(tc_jint(e, "attempts"), 0);
    assert_true(is_null(e, "lastError") && is_null(e, "deliveredAt") && is_null(e, "claimedBy"));
    assert_string_equal(tc_jstr(e, "occurredAt"), tc_jstr(order, "createdAt"));
    assert_string_equal(tc_jstr(e, "nextAttemptAt"), tc_jstr(e, "occurredAt"));
    assert_false(json_object_get_boolean(tc_jget(e, "purged")));
    tc_free(r);

    /* being delivered: the platform holds the request; the relay's claim shows */
    tc_platform_mode("hang");
    stack("relay-start");
    r = view_until(oid, 0, "PENDING", true);
    e = event(r, 0);
    tc_assert_time(tc_jstr(e, "nextAttemptAt")); /* the claim's lease: due again then */
    assert_true(strlen(tc_jstr(e, "claimedBy")) > 0);
    tc_free(r);

    /* in backoff: the platform fails, the relay retries after a delay */
    tc_platform_mode("fail");
    r = view_until(oid, 0, "IN_BACKOFF", false);
    e = event(r, 0);
    assert_true(tc_jint(e, "attempts") >= 1);
    assert_false(is_null(e, "lastError"));
    assert_true(is_null(e, "claimedBy") && is_null(e, "deliveredAt"));
    tc_assert_time(tc_jstr(e, "nextAttemptAt"));
    assert_true(strcmp(tc_jstr(e, "nextAttemptAt"), tc_jstr(e, "occurredAt")) > 0);
    tc_free(r);
    WAIT_UNTIL(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE event_id = '%s'"
                          " AND last_error = 'HTTP 500'",
                          event_id) == 1,
               "the platform's refusal recorded");

    /* failed: one attempt short of relay_max_attempts (50), the next refusal parks it */
    tc_sql("UPDATE outbox SET attempts = 49 WHERE event_id = '%s' AND status = 'PENDING'",
           event_id);
    r = view_until(oid, 0, "FAILED", false);
    e = event(r, 0);
    assert_int_equal(tc_jint(e, "attempts"), 50);
    assert_string_equal(tc_jstr(e, "lastError"), "HTTP 500");
    assert_true(is_null(e, "nextAttemptAt") && is_null(e, "deliveredAt") &&
                is_null(e, "claimedBy"));
    tc_free(r);

    /* delivered: replayed once the platform is well again */
    tc_platform_mode("ok");
    snprintf(body, sizeof(body), "{\"eventId\":\"%s\"}", event_id);
    tc_resp_t *rp = tc_admin("POST", "/admin/outbox/replay", body);
    tc_expect_status(rp, 200);
    assert_int_equal(tc_int(rp, "replayed"), 1);
    tc_free(rp);
    r = view_until(oid, 0, "DELIVERED", false);
    e = event(r, 0);
    assert_string_equal(tc_jstr(e, "eventId"), event_id);
    assert_int_equal(tc_jint(e, "attempts"), 1);
    assert_true(is_null(e, "lastError") && is_null(e, "nextAttemptAt") && is_null(e, "claimedBy"));
    tc_assert_time(tc_jstr(e, "deliveredAt"));
    tc_free(r);

    /* a cancel adds its own event, after the first */
    char cancel[64];
    snprintf(cancel, sizeof(cancel), "/orders/%lld/cancel", (long long)oid);
    tc_resp_t *rc = tc_post(cancel, "{}");
    tc_expect_status(rc, 200);
    tc_free(rc);
    r = view_until(oid, 1, "DELIVERED", false);
    assert_int_equal(nevents(r), 2);
    order = tc_jget(r->json, "order");
    assert_string_equal(tc_jstr(order, "status"), "CANCELLED");
    assert_string_equal(tc_jstr(event(r, 0), "type"), "ORDER_PAID");
    e = event(r, 1);
    assert_string_equal(tc_jstr(e, "type"), "ORDER_CANCELLED");
    assert_string_equal(tc_jstr(e, "occurredAt"), tc_jstr(order, "cancelledAt"));
    assert_int_equal(tc_jint(e, "attempts"), 1);
    char created[32], cancelled[32];
    snprintf(created, sizeof(created), "%s", tc_jstr(order, "createdAt"));
    snprintf(cancelled, sizeof(cancelled), "%s", tc_jstr(order, "cancelledAt"));
    tc_free(r);

    /* delivered, then purged: the relay deletes delivered events past
     * relay_retention_hours (at its start, then once a minute); they still
     * show as delivered, with what the order itself tells of them */
    tc_sql("UPDATE outbox SET delivered_at = NOW(3) - INTERVAL 11 YEAR WHERE order_id = %lld",
           (long long)oid);
    stack("relay-stop");
    stack("relay-start");
    WAIT_UNTIL(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id = %lld", (long long)oid) == 0,
               "the relay to purge order %lld's delivered events", (long long)oid);
    r = view(oid);
    assert_int_equal(nevents(r), 2);
    for (size_t i = 0; i < 2; i++) {
        e = event(r, i);
        assert_string_equal(tc_jstr(e, "type"), i == 0 ? "ORDER_PAID" : "ORDER_CANCELLED");
        assert_string_equal(tc_jstr(e, "state"), "DELIVERED");
        assert_true(json_object_get_boolean(tc_jget(e, "purged")));
        assert_string_equal(tc_jstr(e, "occurredAt"), i == 0 ? created : cancelled);
        assert_true(is_null(e, "eventId") && is_null(e, "attempts") && is_null(e, "deliveredAt"));
    }
    tc_free(r);
}

static void unknown_and_refused_lookups(void **state)
{
    int64_t uid;
    (void)state;

    int64_t oid = place_order(&uid);
    char path[64];
    snprintf(path, sizeof(path), "/admin/orders/%lld", (long long)NOWHERE);
    assert_refused(tc_admin("GET", path, NULL), 404, "ORDER_NOT_FOUND");
    assert_invalid(tc_admin("GET", "/admin/orders/0", NULL), NULL);
    assert_invalid(tc_admin("GET", "/admin/orders/x1", NULL), NULL);
    snprintf(path, sizeof(path), "/admin/orders/%lld", (long long)oid);
    /* no token, the buyer's own token: an admin route wants the admin token */
    tc_auto_token(0);
    assert_refused(tc_get(path), 401, "UNAUTHORIZED");
    char auth[2048];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tc_token(uid));
    const char *const user[] = {auth, NULL};
    assert_refused(tc_req("GET", path, NULL, user), 401, "UNAUTHORIZED");
    assert_refused(tc_req("GET", "/admin/orders", NULL, user), 401, "UNAUTHORIZED");
    tc_auto_token(1);
}

/* ---------------------------------------------------------------------------
 * the search */

/* A page's body, byte for byte: json-c's text of {"items":[…],"next":next} (next null when
 * 0), in that order. */
static void assert_page_text(const tc_resp_t *r, int64_t next)
{
    char tail[48];
    size_t n;

    assert_json_c_text(r);
    if (next)
        snprintf(tail, sizeof(tail), "],\"next\":%lld}", (long long)next);
    else
        snprintf(tail, sizeof(tail), "],\"next\":null}");
    n = strlen(tail);
    if (strncmp(r->body, "{\"items\":[", 10) != 0 || r->len < n ||
        strcmp(r->body + r->len - n, tail) != 0)
        fail_msg("%s: not {\"items\":[…]%s: %s", r->request, tail, r->body);
}

/* Follow GET /admin/orders?QUERY page by page (limit per page) and write the
 * ids in the order served; their count. *short_pages counts pages with fewer
 * than limit orders that still had a next. */
static int collect(const char *query, int limit, int64_t *ids, int cap, int *short_pages)
{
    char path[512];
    int64_t before = 0;
    int n = 0;

    *short_pages = 0;
    for (int page = 0; page < 1000; page++) {
        if (before)
            snprintf(path, sizeof(path), "/admin/orders?%s&limit=%d&before=%lld", query, limit,
                     (long long)before);
        else
            snprintf(path, sizeof(path), "/admin/orders?%s&limit=%d", query, limit);
        tc_resp_t *r = tc_admin("GET", path, NULL);
        tc_expect_status(r, 200);
        json_object *items = tc_jget(r->json, "items");
        int k = (int)json_object_array_length(items);
        assert_true(k <= limit);
        for (int i = 0; i < k; i++) {
            assert_true(n < cap);
            ids[n++] = tc_jint(json_object_array_get_idx(items, (size_t)i), "orderId");
        }
        before = tc_is_null(r, "next") ? 0 : tc_int(r, "next");
        assert_page_text(r, before);
        if (before && k < limit)
            (*short_pages)++;
        if (before && k == limit) /* a full page's next is its last order */
            assert_int_equal(before, ids[n - 1]);
        tc_free(r);
        if (!before)
            return n;
    }
    fail_msg("GET /admin/orders?%s: no last page after 1000 pages", query);
}

/* The ids SQL lists for a condition, newest first; their count. */
static int expected(const char *cond, int64_t *ids, int cap)
{
    int n = (int)tc_sql_int("SELECT COUNT(*) FROM orders WHERE %s", cond);
    assert_true(n <= cap);
    for (int i = 0; i < n; i++)
        ids[i] = tc_sql_int("SELECT id FROM orders WHERE %s"
                            " ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET %d",
                            cond, i);
    return n;
}

static void assert_same_ids(const int64_t *got, int ngot, const int64_t *want, int nwant,
                            const char *what)
{
    if (ngot != nwant)
        fail_msg("%s: %d orders served, %d expected", what, ngot, nwant);
    for (int i = 0; i < nwant; i++)
        if (got[i] != want[i])
            fail_msg("%s: order %d is %lld, expected %lld", what, i, (long long)got[i],
                     (long long)want[i]);
}

/* An order's createdAt, as the API writes it (a static buffer). */
static const char *created_at(int64_t oid)
{
    static char at[32];
    tc_resp_t *r = view(oid);
    snprintf(at, sizeof(at), "%s", tc_jstr(tc_jget(r->json, "order"), "createdAt"));
    tc_free(r);
    return at;
}

static void search_filters_and_pages(void **state)
{
    int64_t uid, got[16], want[16], pid = tc_new_product(100, 1000), oids[5];
    char body[256], query[256], cond[512], from[32], to[32], path[64];
    int shorts;
    (void)state;

    uid = tc_new_user();
    tc_charge(uid, 100000);
    for (int i = 0; i < 5; i++) {
        snprintf(body, sizeof(body),
                 "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":%d}]}",
                 (long long)uid, (long long)pid, i + 1);
        oids[i] = tc_created_id(tc_post("/orders", body), "orderId");
    }
    for (int i = 1; i < 5; i += 2) {
        snprintf(path, sizeof(path), "/orders/%lld/cancel", (long long)oids[i]);
        assert_answers(tc_post(path, "{}"), 200);
    }

    /* one user's orders, newest first, whole and in pages of 2 */
    snprintf(query, sizeof(query), "userId=%lld", (long long)uid);
    snprintf(cond, sizeof(cond), "user_id = %lld", (long long)uid);
    int nwant = expected(cond, want, 16);
    assert_int_equal(nwant, 5);
    assert_same_ids(got, collect(query, 100, got, 16, &shorts), want, nwant, query);
    assert_same_ids(got, collect(query, 2, got, 16, &shorts), want, nwant, "pages of 2");
    assert_int_equal(shorts, 0);
    tc_resp_t *r = tc_admin("GET", "/admin/orders?limit=1", NULL);
    tc_expect_status(r, 200);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 1);
    tc_free(r);

    /* by status */
    snprintf(query, sizeof(query), "userId=%lld&status=CANCELLED", (long long)uid);
    snprintf(cond, sizeof(cond), "user_id = %lld AND status = 'CANCELLED'", (long long)uid);
    nwant = expected(cond, want, 16);
    assert_int_equal(nwant, 2);
    assert_same_ids(got, collect(query, 1, got, 16, &shorts), want, nwant, query);
    snprintf(query, sizeof(query), "userId=%lld&status=PAID", (long long)uid);
    snprintf(cond, sizeof(cond), "user_id = %lld AND status = 'PAID'", (long long)uid);
    nwant = expected(cond, want, 16);
    assert_int_equal(nwant, 3);
    assert_same_ids(got, collect(query, 20, got, 16, &shorts), want, nwant, query);

    /* a time window [from, to) over every user: from order 1's time to order 4's, so
     * orders 1 to 3 (and any other placed in between: the SQL says which) */
    snprintf(from, sizeof(from), "%s", created_at(oids[1]));
    snprintf(to, sizeof(to), "%s", created_at(oids[4]));
    snprintf(cond, sizeof(cond),
             "created_at >= (SELECT created_at FROM orders WHERE id = %lld)"
             " AND created_at < (SELECT created_at FROM orders WHERE id = %lld)",
             (long long)oids[1], (long long)oids[4]);
    nwant = expected(cond, want, 16);
    for (int i = 1; i < 5; i++) {
        int in = 0;
        for (int j = 0; j < nwant; j++)
            in |= want[j] == oids[i];
        assert_int_equal(in, i < 4);
    }
    /* ':' percent-encoded, as browsers send it, and as is */
    char enc_from[96], enc_to[96];
    snprintf(enc_from, sizeof(enc_from), "%.13s%%3A%.2s%%3A%s", from, from + 14, from + 17);
    snprintf(enc_to, sizeof(enc_to), "%.13s%%3A%.2s%%3A%s", to, to + 14, to + 17);
    snprintf(query, sizeof(query), "from=%s&to=%s", enc_from, enc_to);
    assert_same_ids(got, collect(query, 2, got, 16, &shorts), want, nwant, query);
    char cancelled[600];
    snprintf(cancelled, sizeof(cancelled), "%s AND status = 'CANCELLED'", cond);
    nwant = expected(cancelled, want, 16);
    snprintf(query, sizeof(query), "from=%s&to=%s&status=CANCELLED", from, to);
    assert_same_ids(got, collect(query, 20, got, 16, &shorts), want, nwant, query);
    snprintf(cancelled, sizeof(cancelled), "%s AND user_id = %lld", cond, (long long)uid);
    nwant = expected(cancelled, want, 16);
    assert_int_equal(nwant, 3);
    snprintf(query, sizeof(query), "from=%s&to=%s&userId=%lld", from, to, (long long)uid);
    assert_same_ids(got, collect(query, 20, got, 16, &shorts), want, nwant, query);

    /* refusals: 400 naming the parameter, 404 for an unknown user, 401 without the token */
    assert_invalid(tc_admin("GET", "/admin/orders?userId=0", NULL), "userId");
    assert_invalid(tc_admin("GET", "/admin/orders?userId=abc", NULL), "userId");
    assert_invalid(tc_admin("GET", "/admin/orders?status=paid", NULL), "status");
    assert_invalid(tc_admin("GET", "/admin/orders?from=yesterday", NULL), "from");
    assert_invalid(tc_admin("GET", "/admin/orders?to=2026-13-01", NULL), "to");
    assert_invalid(tc_admin("GET", "/admin/orders?from=2026-02-29", NULL), "from");
    assert_invalid(tc_admin("GET", "/admin/orders?from=2026-01-01T10:00:00.1234Z", NULL), "from");
    assert_invalid(tc_admin("GET", "/admin/orders?from=2026-01-02&to=2026-01-02", NULL), "to");
    assert_invalid(tc_admin("GET", "/admin/orders?limit=0", NULL), "limit");
    assert_invalid(tc_admin("GET", "/admin/orders?before=0", NULL), "before");
    snprintf(path, sizeof(path), "/admin/orders?before=%lld", (long long)NOWHERE);
    assert_invalid(tc_admin("GET", path, NULL), "before");
    snprintf(path, sizeof(path), "/admin/orders?userId=%lld", (long long)NOWHERE);
    assert_refused(tc_admin("GET", path, NULL), 404, "USER_NOT_FOUND");
    tc_auto_token(0);
    assert_refused(tc_get("/admin/orders"), 401, "UNAUTHORIZED");
    tc_auto_token(1);
    r = tc_admin("GET", "/admin/orders?from=2026-01-01&to=2026-01-01T00:00:00.001Z", NULL);
    tc_expect_status(r, 200);
    tc_free(r);
}

/* The operator's documents hold each order as GET /orders/{id} answers it, byte for byte
 * (a name with every kind of character a JSON string escapes), and are json-c's text: the
 * view {"order":…,"events":[…]}, the search for one user, and over every user. */
static void documents_hold_the_orders_byte_for_byte(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_odd_product(500, 10), oids[2], want[16];
    char body[256], path[128], cond[128];
    (void)state;

    tc_charge(uid, 10000);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", (long long)uid,
             (long long)pid);
    for (int i = 0; i < 2; i++) {
        oids[i] = tc_created_id(tc_post("/orders", body), "orderId");
        tc_odd_line_names(oids[i]);
    }
    snprintf(path, sizeof(path), "/orders/%lld/cancel", (long long)oids[0]);
    assert_answers(tc_post(path, "{}"), 200);

    /* the view: {"order":<the body of GET /orders/{id}>,"events":[…]} */
    for (int i = 0; i < 2; i++) {
        tc_resp_t *r = view(oids[i]), *g = tc_getf("/orders/%lld", (long long)oids[i]);
        tc_expect_status(g, 200);
        if (!strstr(g->body, "\"name\":\"" TC_ODD_NAME_JSON TC_ODD_CONTROLS_JSON "\","))
            fail_msg("the odd name is not escaped as json-c writes it: %s", g->body);
        if (strncmp(r->body, "{\"order\":", 9) != 0 || strncmp(r->body + 9, g->body, g->len) != 0 ||
            strncmp(r->body + 9 + g->len, ",\"events\":[", 11) != 0)
            fail_msg("the view does not hold the order's document:\n %s\n %s", r->body, g->body);
        assert_json_c_text(r);
        tc_free(g);
        tc_free(r);
    }

    /* the search for the user, whole and in pages of 1 */
    const int64_t newest[2] = {oids[1], oids[0]};
    snprintf(path, sizeof(path), "/admin/orders?userId=%lld", (long long)uid);
    tc_resp_t *r = tc_admin("GET", path, NULL);
    tc_expect_status(r, 200);
    assert_orders_page(r, newest, 2, 0);
    assert_json_c_text(r);
    tc_free(r);
    snprintf(path, sizeof(path), "/admin/orders?userId=%lld&limit=1", (long long)uid);
    r = tc_admin("GET", path, NULL);
    tc_expect_status(r, 200);
    assert_orders_page(r, newest, 1, oids[1]);
    tc_free(r);

    /* over every user: from the first order's time on */
    snprintf(path, sizeof(path), "/admin/orders?from=%s", created_at(oids[0]));
    snprintf(cond, sizeof(cond), "created_at >= (SELECT created_at FROM orders WHERE id = %lld)",
             (long long)oids[0]);
    int n = expected(cond, want, 16);
    assert_true(n >= 2);
    r = tc_admin("GET", path, NULL);
    tc_expect_status(r, 200);
    assert_orders_page(r, want, n, 0);
    tc_free(r);
}

/* Thousands of orders (made in SQL: only their rows matter to a search)
 * far in the past, in one user's name: 1,500 in a single millisecond (more
 * than a page's window of the index holds) and 1,500 three to a millisecond.
 * Every page reads a bounded window; followed to the end, the pages serve
 * each order once, newest first, and a sparse filter ends pages early. */
#define MANY 3000
static void pages_over_many_orders(void **state)
{
    static int64_t got[MANY], want[MANY];
    int shorts;
    char query[256], cond[256];
    (void)state;

    int64_t uid = tc_new_user();
    tc_sql("INSERT INTO orders (id, user_id, status, payment_status, subtotal, discount, total,"
           " balance_after, created_at)"
           " SELECT NEXTVAL(orders_id_seq), %lld, IF(seq %% 50 = 0, 'CANCELLED', 'PAID'),"
           " IF(seq %% 50 = 0, 'REFUNDED', 'PAID'), 0, 0, 0, 0, '2001-02-03 04:05:06.789'"
           " FROM seq_1_to_1500",
           (long long)uid);
    tc_sql("INSERT INTO orders (id, user_id, status, payment_status, subtotal, discount, total,"
           " balance_after, created_at)"
           " SELECT NEXTVAL(orders_id_seq), %lld, IF(seq %% 50 = 0, 'CANCELLED', 'PAID'),"
           " IF(seq %% 50 = 0, 'REFUNDED', 'PAID'), 0, 0, 0, 0,"
           " '2001-02-02 00:00:00.000' + INTERVAL (seq DIV 3) * 1000 MICROSECOND"
           " FROM seq_1_to_1500",
           (long long)uid);

    snprintf(cond, sizeof(cond),
             "created_at >= '2001-02-01' AND created_at < '2001-02-04' AND user_id = %lld",
             (long long)uid);
    int nwant = expected(cond, want, MANY);
    assert_int_equal(nwant, MANY);
    int n = collect("from=2001-02-01&to=2001-02-04", 100, got, MANY, &shorts);
    assert_same_ids(got, n, want, nwant, "every order of 2001-02-01..03, pages of 100");
    assert_int_equal(shorts, 0);

    snprintf(cond, sizeof(cond),
             "created_at >= '2001-02-01' AND created_at < '2001-02-04' AND user_id = %lld"
             " AND status = 'CANCELLED'",
             (long long)uid);
    nwant = expected(cond, want, MANY);
    assert_int_equal(nwant, 60);
    n = collect("from=2001-02-01&to=2001-02-04&status=CANCELLED", 100, got, MANY, &shorts);
    assert_same_ids(got, n, want, nwant, "the cancelled ones, over every user");
    assert_true(shorts >= 2); /* 60 in 3,000: each window of the index holds a few */
    snprintf(query, sizeof(query), "userId=%lld&status=CANCELLED", (long long)uid);
    n = collect(query, 7, got, MANY, &shorts);
    assert_same_ids(got, n, want, nwant, "the cancelled ones, of the user");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(an_order_shows_its_event_in_every_state, restore_stack),
        cmocka_unit_test(unknown_and_refused_lookups),
        cmocka_unit_test(search_filters_and_pages),
        cmocka_unit_test(documents_hold_the_orders_byte_for_byte),
        cmocka_unit_test(pages_over_many_orders),
    };
    return cmocka_run_group_tests_name("integration/admin_orders", tests, NULL, NULL);
}
