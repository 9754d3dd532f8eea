/* Orders and payment: place, read, list, cancel, validation and the
 * Idempotency-Key, against the real stack. Every refusal is checked to have
 * changed nothing, in SQL. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

#define NOWHERE 999999999999LL /* an id no test creates */

/* ---------------------------------------------------------------------------
 * helpers */

static const char *const order_keys[] = {"orderId",  "userId",    "status",      "items",
                                         "subtotal", "discount",  "total",       "couponId",
                                         "balance",  "createdAt", "cancelledAt", NULL};
static const char *const line_keys[] = {"productId", "name",   "quantity",
                                        "unitPrice", "amount", NULL};

/* Rows of outbox for an order with this type and exactly this payload. */
static int64_t outbox_with_payload(int64_t order_id, const char *type, const char *payload)
{
    char esc[3600];
    size_t j = 0;
    for (const char *p = payload; *p; p++) {
        assert_true(j + 2 < sizeof(esc));
        if (*p == '\'' || *p == '\\')
            esc[j++] = *p == '\'' ? '\'' : '\\';
        esc[j++] = *p;
    }
    esc[j] = '\0';
    return tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld AND type='%s'"
                      " AND payload='%s'",
                      (long long)order_id, type, esc);
}

/* fmt with $U and $P replaced by the two ids */
static void subst(char *out, size_t cap, const char *fmt, long long u, long long p)
{
    size_t len = 0;
    for (const char *f = fmt; *f && len + 1 < cap; f++) {
        if (f[0] == '$' && (f[1] == 'U' || f[1] == 'P')) {
            len += (size_t)snprintf(out + len, cap - len, "%lld", f[1] == 'U' ? u : p);
            f++;
        } else {
            out[len++] = *f;
        }
    }
    assert_true(len + 1 < cap);
    out[len] = '\0';
}

static char body_buf[8192];

/* {"userId":U,"items":[{"productId":P,"quantity":Q},...]} */
static const char *order_body(int64_t uid, int n, const int64_t *pids, const int64_t *qty)
{
    size_t len = (size_t)snprintf(body_buf, sizeof(body_buf), "{\"userId\":%lld,\"items\":[",
                                  (long long)uid);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(body_buf + len, sizeof(body_buf) - len,
                                "%s{\"productId\":%lld,\"quantity\":%lld}", i ? "," : "",
                                (long long)pids[i], (long long)qty[i]);
    snprintf(body_buf + len, sizeof(body_buf) - len, "]}");
    return body_buf;
}

/* A copy of a body that must outlive the next order_body() */
static void keep(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    memcpy(dst, src, n + 1);
}

static tc_resp_t *order1(int64_t uid, int64_t pid, int64_t qty)
{
    return tc_post("/orders", order_body(uid, 1, &pid, &qty));
}

static int64_t place1(int64_t uid, int64_t pid, int64_t qty)
{
    return tc_created_id(order1(uid, pid, qty), "orderId");
}

static tc_resp_t *cancel(int64_t order_id)
{
    char p[128];
    snprintf(p, sizeof(p), "/orders/%lld/cancel", (long long)order_id);
    return tc_post(p, "");
}

/* ---------------------------------------------------------------------------
 * placing an order */

static void three_line_order_is_recorded_everywhere(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pids[3] = {tc_new_product(1500, 30), tc_new_product(700, 5), tc_new_product(12000, 2)};
    int64_t qty[3] = {3, 5, 1}; /* the middle line takes all the stock */
    int64_t price[3] = {1500, 700, 12000};
    int64_t subtotal = 3 * 1500 + 5 * 700 + 12000; /* 20000 */
    tc_charge(uid, 50000);
    int64_t history0 =
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid);

    /* the lines in an order that is not the id order */
    int64_t rp[3] = {pids[2], pids[0], pids[1]}, rq[3] = {qty[2], qty[0], qty[1]},
            rpr[3] = {price[2], price[0], price[1]};
    tc_resp_t *r = tc_post("/orders", order_body(uid, 3, rp, rq));
    tc_expect_status(r, 201);
    char ct[128];
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    assert_false(tc_replayed(r));

    tc_assert_keys(r->json, order_keys);
    int64_t oid = tc_int(r, "orderId");
    assert_true(oid > 0);
    assert_int_equal(tc_int(r, "userId"), uid);
    assert_string_equal(tc_str(r, "status"), "PAID");
    json_object *items = tc_jget(r->json, "items");
    assert_true(json_object_is_type(items, json_type_array));
    assert_int_equal(json_object_array_length(items), 3);
    for (int i = 0; i < 3; i++) {
        json_object *it = json_object_array_get_idx(items, (size_t)i);
        tc_assert_keys(it, line_keys);
        assert_int_equal(tc_jint(it, "productId"), rp[i]);
        assert_string_equal(tc_jstr(it, "name"), "test product");
        assert_int_equal(tc_jint(it, "quantity"), rq[i]);
        assert_int_equal(tc_jint(it, "unitPrice"), rpr[i]);
        assert_int_equal(tc_jint(it, "amount"), rq[i] * rpr[i]);
    }
    assert_int_equal(tc_int(r, "subtotal"), subtotal);
    assert_int_equal(tc_int(r, "discount"), 0);
    assert_int_equal(tc_int(r, "total"), subtotal);
    assert_true(tc_is_null(r, "couponId"));
    assert_int_equal(tc_int(r, "balance"), 50000 - subtotal);
    const char *created = tc_str(r, "createdAt");
    tc_assert_time(created);
    assert_true(tc_is_null(r, "cancelledAt"));

    /* stock, exactly */
    assert_int_equal(tc_stock(pids[0]), 30 - 3);
    assert_int_equal(tc_stock(pids[1]), 0);
    assert_int_equal(tc_stock(pids[2]), 1);
    /* the balance and exactly one USE row */
    assert_int_equal(tc_balance(uid), 50000 - subtotal);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid),
        history0 + 1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='USE' AND amount=%lld AND balance_after=%lld"
                                " AND order_id=%lld",
                                (long long)uid, (long long)subtotal, (long long)(50000 - subtotal),
                                (long long)oid),
                     1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE order_id=%lld", (long long)oid), 1);
    /* the order row */
    char when[32];
    tc_sql_time(created, when);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld AND user_id=%lld"
                                " AND status='PAID' AND payment_status='PAID' AND subtotal=%lld"
                                " AND discount=0 AND total=%lld AND coupon_id IS NULL"
                                " AND balance_after=%lld AND cancelled_at IS NULL"
                                " AND created_at='%s'",
                                (long long)oid, (long long)uid, (long long)subtotal,
                                (long long)subtotal, (long long)(50000 - subtotal), when),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld AND"
                                " ABS(TIMESTAMPDIFF(SECOND, created_at, UTC_TIMESTAMP(3))) < 300",
                                (long long)oid),
                     1);
    /* its lines, in request order, with the price of the time */
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM order_item WHERE order_id=%lld", (long long)oid), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM order_item WHERE order_id=%lld"
                                    " AND line_no=%d AND product_id=%lld AND quantity=%lld"
                                    " AND unit_price=%lld AND amount=%lld"
                                    " AND name='test product'",
                                    (long long)oid, i + 1, (long long)rp[i], (long long)rq[i],
                                    (long long)rpr[i], (long long)(rq[i] * rpr[i])),
                         1);
    /* one payment */
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM payment WHERE order_id=%lld", (long long)oid),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM payment WHERE order_id=%lld"
                                " AND user_id=%lld AND amount=%lld AND status='PAID'"
                                " AND refunded_at IS NULL",
                                (long long)oid, (long long)uid, (long long)subtotal),
                     1);
    /* exactly one event, queued (or already delivered by the relay, which runs in the test
     * stack), whose payload is the response body */
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld", (long long)oid),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld"
                                " AND type='ORDER_PAID' AND status IN ('PENDING','DELIVERED')",
                                (long long)oid),
                     1);
    assert_int_equal(outbox_with_payload(oid, "ORDER_PAID", r->body), 1);
    tc_free(r);
}

static void unit_price_is_the_price_at_order_time(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(2500, 10);
    tc_charge(uid, 20000);
    tc_resp_t *placed = order1(uid, pid, 2);
    assert_int_equal(placed->status, 201);
    int64_t oid = tc_int(placed, "orderId");

    char p[128];
    snprintf(p, sizeof(p), "/admin/products/%lld", (long long)pid);
    tc_resp_t *r = tc_admin("PATCH", p, "{\"price\":9999}");
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "price"), 9999);
    tc_free(r);

    r = tc_getf("/orders/%lld", (long long)oid);
    assert_int_equal(r->status, 200);
    json_object *it = json_object_array_get_idx(tc_jget(r->json, "items"), 0);
    assert_int_equal(tc_jint(it, "unitPrice"), 2500);
    assert_int_equal(tc_jint(it, "amount"), 5000);
    assert_int_equal(tc_int(r, "total"), 5000);
    assert_string_equal(r->body, placed->body);
    tc_free(r);
    assert_int_equal(
        tc_sql_int("SELECT unit_price FROM order_item WHERE order_id=%lld", (long long)oid), 2500);

    /* a new order pays the new price */
    r = order1(uid, pid, 1);
    assert_int_equal(r->status, 201);
    it = json_object_array_get_idx(tc_jget(r->json, "items"), 0);
    assert_int_equal(tc_jint(it, "unitPrice"), 9999);
    assert_int_equal(tc_int(r, "balance"), 20000 - 5000 - 9999);
    tc_free(r);
    tc_free(placed);
}

static void one_line_out_of_stock_changes_nothing(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pids[3] = {tc_new_product(100, 10), tc_new_product(200, 3), tc_new_product(300, 10)};
    int64_t qty[3] = {2, 4, 1};
    tc_snapshot_t s;
    tc_charge(uid, 100000);
    s = tc_snapshot(uid, 3, pids);

    tc_resp_t *r = tc_post("/orders", order_body(uid, 3, pids, qty));
    assert_problem(r, 409, "OUT_OF_STOCK");
    assert_int_equal(tc_int(r, "productId"), pids[1]);
    tc_free(r);
    tc_snapshot_equal(&s);
    assert_int_equal(tc_orders_of(uid), 0);

    /* a quantity of 1000 is valid input, and refused only for the stock */
    int64_t big[3] = {1, 1, 1000};
    r = tc_post("/orders", order_body(uid, 3, pids, big));
    assert_problem(r, 409, "OUT_OF_STOCK");
    assert_int_equal(tc_int(r, "productId"), pids[2]);
    tc_free(r);
    tc_snapshot_equal(&s);

    /* exactly the stock is fine and leaves 0 */
    int64_t exact[3] = {2, 3, 1};
    assert_answers(tc_post("/orders", order_body(uid, 3, pids, exact)), 201);
    assert_int_equal(tc_stock(pids[0]), 8);
    assert_int_equal(tc_stock(pids[1]), 0);
    assert_int_equal(tc_stock(pids[2]), 9);
    assert_int_equal(tc_balance(uid), 100000 - 200 - 600 - 300);
}

static void insufficient_balance_changes_nothing(void **state)
{
    int64_t uid = tc_new_user(), poor = tc_new_user();
    int64_t pids[2] = {tc_new_product(600, 10), tc_new_product(400, 10)};
    int64_t qty[2] = {1, 1};
    tc_snapshot_t s;
    tc_charge(uid, 999);
    s = tc_snapshot(uid, 2, pids);

    tc_resp_t *r = tc_post("/orders", order_body(uid, 2, pids, qty));
    assert_problem(r, 409, "INSUFFICIENT_BALANCE");
    tc_free(r);
    tc_snapshot_equal(&s);
    assert_int_equal(tc_orders_of(uid), 0);

    /* a user with no money at all */
    assert_refused(tc_post("/orders", order_body(poor, 2, pids, qty)), 409, "INSUFFICIENT_BALANCE");
    tc_snapshot_equal(&s);

    /* exactly enough succeeds and leaves 0 */
    tc_charge(uid, 1);
    s = tc_snapshot(uid, 2, pids);
    assert_paid(tc_post("/orders", order_body(uid, 2, pids, qty)), 1000, 0);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_stock(pids[0]), 9);
    assert_int_equal(tc_stock(pids[1]), 9);
    assert_int_equal(tc_last_balance_after(uid), 0);
}

static void unknown_product_or_user(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pids[3] = {tc_new_product(100, 10), NOWHERE, tc_new_product(100, 10)};
    int64_t qty[3] = {1, 1, 1};
    tc_snapshot_t s;
    int64_t known[2] = {pids[0], pids[2]};
    tc_charge(uid, 10000);
    s = tc_snapshot(uid, 2, known);

    tc_resp_t *r = tc_post("/orders", order_body(uid, 3, pids, qty));
    assert_problem(r, 404, "PRODUCT_NOT_FOUND");
    assert_int_equal(tc_int(r, "productId"), NOWHERE);
    tc_free(r);
    tc_snapshot_equal(&s);

    assert_refused(tc_post("/orders", order_body(NOWHERE, 2, known, qty)), 404, "USER_NOT_FOUND");
    tc_snapshot_equal(&s);
    assert_int_equal(tc_orders_of(NOWHERE), 0);
}

static void hundred_lines_are_accepted(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pids[100], qty[100];
    for (int i = 0; i < 100; i++) {
        pids[i] = tc_new_product(10 + i, 5);
        qty[i] = 1 + i % 3;
    }
    int64_t total = 0;
    for (int i = 0; i < 100; i++)
        total += (10 + i) * qty[i];
    tc_charge(uid, total);
    tc_resp_t *r = tc_post("/orders", order_body(uid, 100, pids, qty));
    tc_expect_status(r, 201);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 100);
    assert_int_equal(tc_int(r, "total"), total);
    assert_int_equal(tc_int(r, "balance"), 0);
    int64_t oid = tc_int(r, "orderId");
    tc_resp_t *g = tc_getf("/orders/%lld", (long long)oid);
    assert_int_equal(g->status, 200);
    assert_string_equal(g->body, r->body);
    tc_free(g);
    tc_free(r);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tc_stock(pids[i]), 5 - qty[i]);
}

/* A free order moves no money: no history row (amounts are positive), and the
 * balance stays what it was; its cancel likewise. */
static void free_order_moves_no_money(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(0, 5);
    tc_resp_t *r = order1(uid, pid, 2);
    tc_expect_status(r, 201);
    assert_int_equal(tc_int(r, "total"), 0);
    assert_int_equal(tc_int(r, "balance"), 0);
    int64_t oid = tc_int(r, "orderId");
    tc_free(r);
    assert_int_equal(tc_stock(pid), 3);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid), 0);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM payment WHERE order_id=%lld AND amount=0", (long long)oid),
        1);
    r = cancel(oid);
    assert_int_equal(r->status, 200);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    assert_int_equal(tc_int(r, "balance"), 0);
    tc_free(r);
    assert_int_equal(tc_stock(pid), 5);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid), 0);
}

/* ---------------------------------------------------------------------------
 * reading orders */

/* r is the same JSON document as first, to the byte. */
static void assert_same_document(const tc_resp_t *r, const tc_resp_t *first)
{
    char ct[128];
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    assert_int_equal(r->len, first->len);
    assert_memory_equal(r->body, first->body, first->len);
}

/* A user with 10000 points orders two new products (these prices, 10 of
 * each in stock) in these quantities: the 201 answer; *uid and pids filled. */
static tc_resp_t *two_line_order(int64_t *uid, int64_t pids[2], int64_t price0, int64_t price1,
                                 const int64_t qty[2])
{
    *uid = tc_new_user();
    pids[0] = tc_new_product(price0, 10);
    pids[1] = tc_new_product(price1, 10);
    tc_charge(*uid, 10000);
    tc_resp_t *placed = tc_post("/orders", order_body(*uid, 2, pids, qty));
    tc_expect_status(placed, 201);
    return placed;
}

static void get_order_is_the_placed_document(void **state)
{
    int64_t uid, pids[2], qty[2] = {2, 1};
    tc_resp_t *placed = two_line_order(&uid, pids, 1234, 4321, qty);
    int64_t oid = tc_int(placed, "orderId");

    tc_resp_t *r = tc_getf("/orders/%lld", (long long)oid);
    tc_expect_status(r, 200);
    assert_same_document(r, placed);
    tc_free(r);
    tc_free(placed);

    assert_refused(tc_getf("/orders/%lld", NOWHERE), 404, "ORDER_NOT_FOUND");
}

static void bad_order_ids_are_400(void **state)
{
    static const char *ids[] = {"0", "-1", "abc", "9223372036854775808", "1.5", "01", "1e3"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        tc_resp_t *r = tc_getf("/orders/%s", ids[i]);
        assert_invalid(r, "orderId");

        char p[128];
        snprintf(p, sizeof(p), "/orders/%s/cancel", ids[i]);
        assert_invalid(tc_post(p, ""), "orderId");
    }
}

static void list_is_newest_first_and_keyset_paged(void **state)
{
    int64_t uid = tc_new_user(), other = tc_new_user();
    int64_t pid = tc_new_product(100, 100);
    int64_t oids[5];
    tc_charge(uid, 10000);
    tc_charge(other, 10000);
    for (int i = 0; i < 5; i++) {
        oids[i] = place1(uid, pid, i + 1);
        if (i == 2)
            place1(other, pid, 1); /* interleaved: must not show up */
    }

    /* default limit: all five, newest first, each the GET document */
    tc_resp_t *r = tc_getf("/users/%lld/orders", (long long)uid);
    assert_int_equal(r->status, 200);
    json_object *items = tc_jget(r->json, "items");
    assert_int_equal(json_object_array_length(items), 5);
    for (int i = 0; i < 5; i++) {
        json_object *o = json_object_array_get_idx(items, (size_t)i);
        assert_int_equal(tc_jint(o, "orderId"), oids[4 - i]);
        assert_int_equal(tc_jint(o, "userId"), uid);
        tc_resp_t *g = tc_getf("/orders/%lld", (long long)oids[4 - i]);
        assert_int_equal(g->status, 200);
        if (!json_object_equal(o, g->json))
            fail_msg("list item %s differs from GET %s", json_object_to_json_string(o), g->body);
        tc_free(g);
    }
    assert_true(tc_is_null(r, "next"));
    tc_free(r);

    /* limit = count: still one page, next null */
    r = tc_getf("/users/%lld/orders?limit=5", (long long)uid);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 5);
    assert_true(tc_is_null(r, "next"));
    tc_free(r);

    /* pages of 2: [5,4] [3,2] [1] */
    int64_t before = 0;
    int seen = 0;
    for (int page = 0; page < 3; page++) {
        if (before)
            r = tc_getf("/users/%lld/orders?limit=2&before=%lld", (long long)uid,
                        (long long)before);
        else
            r = tc_getf("/users/%lld/orders?limit=2", (long long)uid);
        assert_int_equal(r->status, 200);
        items = tc_jget(r->json, "items");
        int n = (int)json_object_array_length(items);
        assert_int_equal(n, page < 2 ? 2 : 1);
        for (int k = 0; k < n; k++, seen++)
            assert_int_equal(tc_jint(json_object_array_get_idx(items, (size_t)k), "orderId"),
                             oids[4 - seen]);
        if (page < 2) {
            before = tc_int(r, "next");
            assert_int_equal(before, oids[4 - seen + 1]);
        } else {
            assert_true(tc_is_null(r, "next"));
        }
        tc_free(r);
    }
    assert_int_equal(seen, 5);

    /* a cursor past the oldest: empty, next null */
    r = tc_getf("/users/%lld/orders?before=%lld", (long long)uid, (long long)oids[0]);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 0);
    assert_true(tc_is_null(r, "next"));
    tc_free(r);
}

static void list_bad_params_unknown_user_and_empty(void **state)
{
    static const char *q[] = {
        "limit=0",   "limit=101", "limit=abc", "limit=",   "limit=-1",
        "limit=1.5", "before=0",  "before=-1", "before=x", "before=9223372036854775808"};
    int64_t uid = tc_new_user();
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        assert_invalid(tc_getf("/users/%lld/orders?%s", (long long)uid, q[i]),
                       q[i][0] == 'l' ? "limit" : "before");
    }
    tc_resp_t *r = tc_get("/users/0/orders");
    assert_invalid(r, "userId");

    assert_refused(tc_getf("/users/%lld/orders", NOWHERE), 404, "USER_NOT_FOUND");

    r = tc_getf("/users/%lld/orders?limit=100", (long long)uid);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"items\":[],\"next\":null}");
    tc_free(r);
}

/* Every page of a user's orders is, byte for byte, {"items":[…],"next":…} with each item
 * the body GET /orders/{id} answers: with a coupon and without, cancelled and not, and
 * names with quotes, backslashes, "/", UTF-8 and control characters, escaped as json-c
 * writes them. */
static void list_holds_the_orders_documents_byte_for_byte(void **state)
{
    int64_t uid = tc_new_user(), odd = tc_new_odd_product(300, 10), pid = tc_new_product(100, 10);
    int64_t cid = tc_new_coupon("FIXED", 50, 10), pids[2] = {odd, pid}, qty[2] = {1, 2};
    int64_t oids[3];
    char body[256];
    tc_charge(uid, 10000);

    oids[0] = tc_created_id(tc_post("/orders", order_body(uid, 2, pids, qty)), "orderId");
    tc_odd_line_names(oids[0]);
    assert_answers(tc_issue(cid, uid), 201);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"couponId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}",
             (long long)uid, (long long)cid, (long long)pid);
    oids[1] = tc_created_id(tc_post("/orders", body), "orderId");
    oids[2] = place1(uid, odd, 1);
    assert_answers(cancel(oids[2]), 200);
    tc_odd_line_names(oids[2]);

    /* the odd name as the order's document writes it */
    tc_resp_t *r = tc_getf("/orders/%lld", (long long)oids[0]);
    tc_expect_status(r, 200);
    if (!strstr(r->body, "\"name\":\"" TC_ODD_NAME_JSON TC_ODD_CONTROLS_JSON "\","))
        fail_msg("the odd name is not escaped as json-c writes it: %s", r->body);
    assert_json_c_text(r);
    tc_free(r);

    /* the whole list, then pages of 2 */
    const int64_t newest[3] = {oids[2], oids[1], oids[0]};
    r = tc_getf("/users/%lld/orders", (long long)uid);
    tc_expect_status(r, 200);
    assert_orders_page(r, newest, 3, 0);
    assert_json_c_text(r);
    tc_free(r);
    r = tc_getf("/users/%lld/orders?limit=2", (long long)uid);
    tc_expect_status(r, 200);
    assert_orders_page(r, newest, 2, oids[1]);
    tc_free(r);
    r = tc_getf("/users/%lld/orders?limit=2&before=%lld", (long long)uid, (long long)oids[1]);
    tc_expect_status(r, 200);
    assert_orders_page(r, newest + 2, 1, 0);
    tc_free(r);
}

/* ---------------------------------------------------------------------------
 * cancel */

static void cancel_refunds_restocks_and_queues_the_event(void **state)
{
    int64_t uid, pids[2], qty[2] = {2, 2};
    tc_resp_t *placed = two_line_order(&uid, pids, 1000, 500, qty);
    int64_t oid = tc_int(placed, "orderId");
    assert_int_equal(tc_int(placed, "total"), 3000);
    assert_int_equal(tc_int(placed, "balance"), 7000);
    /* spend more after it: the refund balance is the balance at the refund */
    place1(uid, pids[1], 4); /* 2000 -> 5000 */
    assert_int_equal(tc_stock(pids[1]), 4);
    int64_t hist0 =
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid);

    tc_resp_t *r = cancel(oid);
    tc_expect_status(r, 200);
    tc_assert_keys(r->json, order_keys);
    assert_int_equal(tc_int(r, "orderId"), oid);
    assert_int_equal(tc_int(r, "userId"), uid);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    assert_int_equal(tc_int(r, "subtotal"), 3000);
    assert_int_equal(tc_int(r, "discount"), 0);
    assert_int_equal(tc_int(r, "total"), 3000);
    assert_true(tc_is_null(r, "couponId"));
    assert_int_equal(tc_int(r, "balance"), 8000);
    assert_string_equal(tc_str(r, "createdAt"), tc_str(placed, "createdAt"));
    const char *cancelled = tc_str(r, "cancelledAt");
    tc_assert_time(cancelled);
    assert_true(strcmp(cancelled, tc_str(placed, "createdAt")) >= 0);
    json_object *a = tc_jget(r->json, "items"), *b = tc_jget(placed->json, "items");
    if (!json_object_equal(a, b))
        fail_msg("cancel changed the lines: %s vs %s", r->body, placed->body);

    /* stock back exactly, one REFUND row, the payment refunded */
    assert_int_equal(tc_stock(pids[0]), 10);
    assert_int_equal(tc_stock(pids[1]), 6);
    assert_int_equal(tc_balance(uid), 8000);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid),
        hist0 + 1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='REFUND' AND amount=3000 AND balance_after=8000"
                                " AND order_id=%lld",
                                (long long)uid, (long long)oid),
                     1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM payment WHERE order_id=%lld"
                   " AND status='REFUNDED' AND amount=3000 AND refunded_at IS NOT NULL",
                   (long long)oid),
        1);
    char when[32];
    tc_sql_time(cancelled, when);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld AND status='CANCELLED'"
                                " AND payment_status='REFUNDED' AND cancelled_at='%s'"
                                " AND balance_after=7000",
                                (long long)oid, when),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld"
                                " AND type='ORDER_CANCELLED'",
                                (long long)oid),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld"
                                " AND type='ORDER_CANCELLED' AND status IN ('PENDING','DELIVERED')",
                                (long long)oid),
                     1);
    assert_int_equal(outbox_with_payload(oid, "ORDER_CANCELLED", r->body), 1);
    /* the paid event is still the paid document */
    assert_int_equal(outbox_with_payload(oid, "ORDER_PAID", placed->body), 1);

    /* GET shows the cancelled document */
    tc_resp_t *g = tc_getf("/orders/%lld", (long long)oid);
    assert_int_equal(g->status, 200);
    assert_string_equal(g->body, r->body);
    tc_free(g);
    tc_free(r);
    tc_free(placed);
}

static void second_cancel_and_unknown_order(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(1000, 10);
    tc_snapshot_t s;
    tc_charge(uid, 5000);
    int64_t oid = place1(uid, pid, 3);
    tc_resp_t *r = cancel(oid);
    assert_int_equal(r->status, 200);
    tc_free(r);
    s = tc_snapshot(uid, 1, &pid);
    assert_int_equal(s.stock[0], 10);
    assert_int_equal(s.balance, 5000);

    for (int i = 0; i < 2; i++) {
        assert_refused(cancel(oid), 409, "ORDER_NOT_CANCELLABLE");
    }
    tc_snapshot_equal(&s);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld"
                                " AND type='ORDER_CANCELLED'",
                                (long long)oid),
                     1);

    assert_refused(cancel(NOWHERE), 404, "ORDER_NOT_FOUND");
    tc_snapshot_equal(&s);
}

/* ---------------------------------------------------------------------------
 * validation */

static void bad_order_bodies_change_nothing(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(100, 10), pid2 = tc_new_product(100, 10);
    int64_t pids[2] = {pid, pid2};
    tc_snapshot_t s;
    tc_charge(uid, 100000);
    long long U = (long long)uid, P = (long long)pid;

    struct {
        const char *fmt; /* $U: the user, $P: a product */
        const char *field;
    } cases[] = {
        {"{\"userId\":$U}", "items"},
        {"{\"userId\":$U,\"items\":null}", "items"},
        {"{\"userId\":$U,\"items\":{}}", "items"},
        {"{\"userId\":$U,\"items\":\"x\"}", "items"},
        {"{\"userId\":$U,\"items\":$P}", "items"},
        {"{\"userId\":$U,\"items\":{\"productId\":$P,\"quantity\":1}}", "items"},
        {"{\"userId\":$U,\"items\":[]}", "items"},
        {"{\"userId\":$U,\"items\":[1]}", "items[0]"},
        {"{\"userId\":$U,\"items\":[\"x\"]}", "items[0]"},
        {"{\"userId\":$U,\"items\":[null]}", "items[0]"},
        {"{\"userId\":$U,\"items\":[[$P,1]]}", "items[0]"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1},true]}", "items[1]"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":0}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":-1}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1001}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":\"1\"}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1.5}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1.0}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":null}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P}]}", "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":9223372036854775808}]}",
         "items[0].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1},"
         "{\"productId\":$P,\"quantity\":1001}]}",
         "items[1].quantity"},
        {"{\"userId\":$U,\"items\":[{\"productId\":0,\"quantity\":1}]}", "items[0].productId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":-1,\"quantity\":1}]}", "items[0].productId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":\"4\",\"quantity\":1}]}", "items[0].productId"},
        {"{\"userId\":$U,\"items\":[{\"quantity\":1}]}", "items[0].productId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":null,\"quantity\":1}]}", "items[0].productId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":1.5,\"quantity\":1}]}", "items[0].productId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":9223372036854775808,\"quantity\":1}]}",
         "items[0].productId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1},"
         "{\"productId\":$P,\"quantity\":2}]}",
         "items[1].productId"},
        {"{\"items\":[{\"productId\":$P,\"quantity\":1}]}", "userId"},
        {"{\"userId\":0,\"items\":[{\"productId\":$P,\"quantity\":1}]}", "userId"},
        {"{\"userId\":-1,\"items\":[{\"productId\":$P,\"quantity\":1}]}", "userId"},
        {"{\"userId\":\"$U\",\"items\":[{\"productId\":$P,\"quantity\":1}]}", "userId"},
        {"{\"userId\":null,\"items\":[{\"productId\":$P,\"quantity\":1}]}", "userId"},
        {"{\"userId\":$U.5,\"items\":[{\"productId\":$P,\"quantity\":1}]}", "userId"},
        {"{\"userId\":9223372036854775808,\"items\":[{\"productId\":$P,\"quantity\":1}]}",
         "userId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}],\"couponId\":\"3\"}",
         "couponId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}],\"couponId\":0}",
         "couponId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}],\"couponId\":-1}",
         "couponId"},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}],\"couponId\":1.5}",
         "couponId"},
        /* malformed documents: 400, no field */
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1,\"quantity\":2}]}", NULL},
        {"{\"userId\":$U,\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}]}", NULL},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}]", NULL},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}]} x", NULL},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}]}}", NULL},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1},]}", NULL},
        {"{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":01}]}", NULL},
        {"[{\"userId\":$U,\"items\":[{\"productId\":$P,\"quantity\":1}]}]", NULL},
        {"null", NULL},
        {"   ", NULL},
    };
    char body[1024];

    s = tc_snapshot(uid, 2, pids);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        subst(body, sizeof(body), cases[i].fmt, U, P);
        tc_resp_t *r = tc_post("/orders", body);
        assert_problem(r, 400, "INVALID_REQUEST");
        if (cases[i].field) {
            json_object *f = NULL;
            if (!json_object_object_get_ex(r->json, "field", &f) || !f ||
                strcmp(json_object_get_string(f), cases[i].field) != 0)
                fail_msg("case %zu %s: expected field %s, got %s", i, body, cases[i].field,
                         r->body);
        }
        tc_free(r);
    }
    tc_snapshot_equal(&s);

    /* 101 lines (of distinct products) */
    size_t len = (size_t)snprintf(body_buf, sizeof(body_buf), "{\"userId\":%lld,\"items\":[", U);
    for (int i = 0; i < 101; i++)
        len += (size_t)snprintf(body_buf + len, sizeof(body_buf) - len,
                                "%s{\"productId\":%d,\"quantity\":1}", i ? "," : "", i + 1);
    snprintf(body_buf + len, sizeof(body_buf) - len, "]}");
    tc_resp_t *r = tc_post("/orders", body_buf);
    assert_invalid(r, "items");
    tc_snapshot_equal(&s);
}

static void content_type_and_empty_body(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(100, 10);
    int64_t q = 1;
    tc_snapshot_t s;
    tc_charge(uid, 1000);
    s = tc_snapshot(uid, 1, &pid);
    const char *body = order_body(uid, 1, &pid, &q);

    const char *text[] = {"Content-Type: text/plain", NULL};
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *none[] = {"Content-Type:", NULL};
    const char *const *cases[] = {text, form, none};
    for (size_t i = 0; i < 3; i++) {
        tc_resp_t *r = tc_req("POST", "/orders", body, cases[i]);
        assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE");
        tc_free(r);
    }
    tc_resp_t *r = tc_post("/orders", "");
    assert_problem(r, 400, "INVALID_REQUEST");
    tc_free(r);
    tc_snapshot_equal(&s);

    const char *charset[] = {"Content-Type: application/json; charset=utf-8", NULL};
    assert_answers(tc_req("POST", "/orders", body, charset), 201);
    assert_int_equal(tc_balance(uid), 900);
}

static void unknown_fields_and_null_coupon_are_ignored(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(100, 10);
    tc_charge(uid, 1000);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"couponId\":null,\"note\":\"x\",\"items\":[{\"productId\":%lld,"
             "\"quantity\":2,\"gift\":true}]}",
             (long long)uid, (long long)pid);
    tc_resp_t *r = tc_post("/orders", body);
    assert_int_equal(r->status, 201);
    assert_true(tc_is_null(r, "couponId"));
    assert_int_equal(tc_int(r, "total"), 200);
    tc_free(r);
}

/* ---------------------------------------------------------------------------
 * Idempotency-Key */

/* A user with 10000 points, a product of this price and stock, and the body
 * of the user's order of qty of it. */
struct keyed {
    int64_t uid, pid;
    char body[256];
};

static struct keyed keyed(int64_t price, int64_t stock, int64_t qty)
{
    struct keyed k = {tc_new_user(), tc_new_product(price, stock), ""};
    tc_charge(k.uid, 10000);
    keep(k.body, sizeof(k.body), order_body(k.uid, 1, &k.pid, &qty));
    return k;
}

/* An order with the key is refused (status, code), not as a replay, and changes nothing. */
static void keyed_refused_at(const struct keyed *k, const char *key, long status, const char *code,
                             const char *file, int line)
{
    tc_snapshot_t s = tc_snapshot(k->uid, 1, &k->pid);
    tc_resp_t *r = tc_post_key("/orders", k->body, key);
    tc_assert_problem(r, status, code, file, line);
    assert_false(tc_replayed(r));
    tc_free(r);
    tc_snapshot_equal_at(&s, file, line);
}
#define assert_keyed_refused(k, key, status, code)                                                 \
    keyed_refused_at((k), (key), (status), (code), __FILE__, __LINE__)

static void replay_returns_the_stored_order_and_changes_nothing(void **state)
{
    struct keyed k = keyed(1000, 10, 2);
    int64_t uid = k.uid, pid = k.pid;
    const char *body = k.body;
    tc_snapshot_t s;

    tc_resp_t *first = tc_post_key("/orders", body, "order-key-1");
    assert_int_equal(first->status, 201);
    assert_false(tc_replayed(first));
    int64_t oid = tc_int(first, "orderId");
    s = tc_snapshot(uid, 1, &pid);
    assert_int_equal(s.stock[0], 8);
    assert_int_equal(s.balance, 8000);

    for (int i = 0; i < 2; i++) {
        tc_resp_t *r = tc_post_key("/orders", body, "order-key-1");
        assert_int_equal(r->status, 201);
        assert_true(tc_replayed(r));
        assert_same_document(r, first);
        tc_free(r);
    }
    tc_snapshot_equal(&s);
    assert_int_equal(tc_orders_of(uid), 1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld", (long long)oid),
                     1);

    /* the same body without a key is a new order */
    tc_resp_t *r = tc_post("/orders", body);
    assert_int_equal(r->status, 201);
    assert_false(tc_replayed(r));
    assert_true(tc_int(r, "orderId") != oid);
    tc_free(r);
    assert_int_equal(tc_orders_of(uid), 2);
    assert_int_equal(tc_balance(uid), 6000);

    /* a replay after a cancel still answers the stored response */
    assert_answers(cancel(oid), 200);
    s = tc_snapshot(uid, 1, &pid);
    r = tc_post_key("/orders", body, "order-key-1");
    assert_int_equal(r->status, 201);
    assert_true(tc_replayed(r));
    assert_string_equal(r->body, first->body);
    tc_free(r);
    tc_snapshot_equal(&s);
    tc_free(first);
}

static void key_reused_with_another_body_and_keys_per_user(void **state)
{
    struct keyed k = keyed(1000, 10, 1), another = k;
    int64_t uid = k.uid, pid = k.pid, other = tc_new_user(), q2 = 2;
    const char *body = k.body;
    tc_charge(other, 10000);

    tc_resp_t *first = tc_post_key("/orders", body, "shared-key");
    tc_expect_status(first, 201);

    /* same key, another body */
    keep(another.body, sizeof(another.body), order_body(uid, 1, &pid, &q2));
    assert_keyed_refused(&another, "shared-key", 422, "IDEMPOTENCY_KEY_REUSED");

    /* another user, same key: independent */
    tc_resp_t *r = tc_post_key("/orders", order_body(other, 1, &pid, &q2), "shared-key");
    assert_int_equal(r->status, 201);
    assert_false(tc_replayed(r));
    assert_int_equal(tc_int(r, "userId"), other);
    assert_true(tc_int(r, "orderId") != tc_int(first, "orderId"));
    tc_free(r);
    assert_int_equal(tc_orders_of(other), 1);
    assert_int_equal(tc_balance(other), 8000);
    assert_int_equal(tc_stock(pid), 10 - 1 - 2);
    assert_int_equal(tc_orders_of(uid), 1);
    assert_int_equal(tc_balance(uid), 9000);

    /* and the first user's key still replays their own order */
    r = tc_post_key("/orders", body, "shared-key");
    assert_int_equal(r->status, 201);
    assert_true(tc_replayed(r));
    assert_string_equal(r->body, first->body);
    tc_free(r);
    tc_free(first);
}

static void key_format_is_checked(void **state)
{
    struct keyed k = keyed(100, 10, 1);
    int64_t uid = k.uid, pid = k.pid;
    const char *body = k.body;
    char key[300];
    tc_snapshot_t s = tc_snapshot(uid, 1, &pid);

    memset(key, 'k', 256);
    key[256] = '\0';
    const char *bad[] = {key,
                         "a\x01"
                         "b",
                         "a\x7f"
                         "b",
                         "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tc_resp_t *r = tc_post_key("/orders", body, bad[i]);
        tc_expect_statusf(r, 400, "key %zu", i);
        assert_invalid(r, "Idempotency-Key");
    }
    tc_snapshot_equal(&s);

    /* 255 printable characters, punctuation and inner spaces included, are a key */
    for (int i = 0; i < 255; i++)
        key[i] = (char)(0x20 + i % 95);
    key[0] = 'k'; /* nginx trims leading and trailing blanks of a header value */
    key[255] = '\0';
    assert_keyed("/orders", body, key, 201, 0);
    assert_keyed("/orders", body, key, 201, 1);
    assert_int_equal(tc_orders_of(uid), 1);
    assert_int_equal(tc_stock(pid), 9);
}

static void refused_request_does_not_burn_the_key(void **state)
{
    struct keyed k = keyed(100, 1, 3);
    int64_t uid = k.uid, pid = k.pid;
    const char *body = k.body;
    char p[128];

    assert_keyed_refused(&k, "retry-me", 409, "OUT_OF_STOCK");
    /* refused again, not replayed: nothing was stored */
    assert_keyed_refused(&k, "retry-me", 409, "OUT_OF_STOCK");

    snprintf(p, sizeof(p), "/admin/products/%lld", (long long)pid);
    assert_answers(tc_admin("PATCH", p, "{\"restock\":5}"), 200);

    assert_keyed("/orders", body, "retry-me", 201, 0);
    assert_int_equal(tc_stock(pid), 3);
    assert_int_equal(tc_balance(uid), 9700);
    assert_int_equal(tc_orders_of(uid), 1);

    /* and an invalid request with a key does not burn it either */
    assert_refused(tc_post_key("/orders", "{\"userId\":1}", "bad-first"), 400, "INVALID_REQUEST");
    assert_keyed("/orders", body, "bad-first", 201, 0);
    assert_int_equal(tc_stock(pid), 0);
}

static void idempotent_charge(void **state)
{
    int64_t uid = tc_new_user(), other = tc_new_user();
    char path[128], opath[128];
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
    snprintf(opath, sizeof(opath), "/users/%lld/points/charge", (long long)other);

    tc_resp_t *first = tc_post_key(path, "{\"amount\":3000}", "charge-1");
    assert_int_equal(first->status, 200);
    assert_false(tc_replayed(first));
    assert_int_equal(tc_int(first, "balance"), 3000);
    for (int i = 0; i < 2; i++) {
        tc_resp_t *r = tc_post_key(path, "{\"amount\":3000}", "charge-1");
        assert_int_equal(r->status, 200);
        assert_true(tc_replayed(r));
        assert_string_equal(r->body, first->body);
        tc_free(r);
    }
    assert_int_equal(tc_balance(uid), 3000);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid), 1);

    tc_resp_t *r = tc_post_key(path, "{\"amount\":3001}", "charge-1");
    assert_problem(r, 422, "IDEMPOTENCY_KEY_REUSED");
    tc_free(r);
    assert_int_equal(tc_balance(uid), 3000);

    /* a charge key and an order key live in one space per user: an order with
     * the charge's key is another request */
    int64_t pid = tc_new_product(100, 10), q = 1;
    assert_refused(tc_post_key("/orders", order_body(uid, 1, &pid, &q), "charge-1"), 422,
                   "IDEMPOTENCY_KEY_REUSED");
    assert_int_equal(tc_orders_of(uid), 0);

    /* the same key for another user is theirs */
    assert_keyed(opath, "{\"amount\":3000}", "charge-1", 200, 0);
    assert_int_equal(tc_balance(other), 3000);
    assert_int_equal(tc_balance(uid), 3000);
    tc_free(first);
}

/* Fresh workers, then orders of every size from 1 to 100 lines, three rounds,
 * so that every worker prepares its IN-list statements for many line counts
 * before it first lists orders; the lists and single orders must still read.
 * (A worker's statement cache once filled up this way and then evicted the
 * order-list statement while its rows were being read: 500 on every list.) */
static void orders_of_every_size_keep_every_read_working(void **state)
{
    enum { LINES = 100, ROUNDS = 3 };
    int64_t uid = tc_new_user(), pids[LINES], used[LINES] = {0}, last = 0;
    long long U = (long long)uid;

    assert_int_equal(tc_stack("workers-restart"), 0);
    for (int i = 0; i < LINES; i++)
        pids[i] = tc_new_product(1, ROUNDS * LINES);
    tc_charge(uid, ROUNDS * LINES * (LINES + 1) / 2);
    for (int round = 0; round < ROUNDS; round++) {
        for (int n = 1; n <= LINES; n++) {
            size_t len =
                (size_t)snprintf(body_buf, sizeof(body_buf), "{\"userId\":%lld,\"items\":[", U);
            for (int i = 0; i < n; i++) {
                int p = (i + round * 7) % LINES;
                used[p]++;
                len += (size_t)snprintf(body_buf + len, sizeof(body_buf) - len,
                                        "%s{\"productId\":%lld,\"quantity\":1}", i ? "," : "",
                                        (long long)pids[p]);
            }
            snprintf(body_buf + len, sizeof(body_buf) - len, "]}");
            tc_resp_t *r = tc_post("/orders", body_buf);
            tc_expect_statusf(r, 201, "%d lines", n);
            assert_int_equal(tc_int(r, "total"), n);
            last = tc_int(r, "orderId");
            tc_free(r);
        }
    }
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_orders_of(uid), ROUNDS * LINES);
    for (int i = 0; i < LINES; i++)
        assert_int_equal(tc_stock(pids[i]), ROUNDS * LINES - used[i]);

    /* many reads, so that every worker answers some */
    for (int k = 0; k < 40; k++) {
        tc_resp_t *r = tc_getf("/users/%lld/orders?limit=%d", U, 1 + k % 20);
        tc_expect_status(r, 200);
        assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 1 + k % 20);
        tc_free(r);
        r = tc_getf("/orders/%lld", (long long)last);
        assert_int_equal(r->status, 200);
        assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), LINES);
        tc_free(r);
    }
}

/* Another session holds the user's balance row far longer than a lock wait:
 * the worker gives up on its own (503 with Retry-After, from the worker, not
 * nginx's timeout page) within 3 lock waits plus one, and nothing is left to
 * commit later: once the lock goes, no order appeared. Then it works. */
static void order_behind_a_held_lock_is_refused_and_nothing_happens(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(300, 5);
    char body[160], ra[16];
    tc_charge(uid, 1000);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", (long long)uid,
             (long long)pid);

    tc_sql("START TRANSACTION");
    assert_int_equal(
        tc_sql_int("SELECT balance FROM point WHERE user_id=%lld FOR UPDATE", (long long)uid),
        1000);
    tc_resp_t *r = tc_post("/orders", body);
    assert_problem(r, 503, "SERVICE_UNAVAILABLE");
    assert_non_null(tc_header(r, "Retry-After", ra, sizeof(ra)));
    assert_null(strstr(r->body, "no worker could answer")); /* nginx's own 503 */
    tc_free(r);
    tc_sql("ROLLBACK");

    assert_int_equal(tc_orders_of(uid), 0);
    assert_int_equal(tc_balance(uid), 1000);
    assert_int_equal(tc_stock(pid), 5);
    assert_answers(tc_post("/orders", body), 201);
    assert_int_equal(tc_balance(uid), 700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_line_order_is_recorded_everywhere),
        cmocka_unit_test(unit_price_is_the_price_at_order_time),
        cmocka_unit_test(one_line_out_of_stock_changes_nothing),
        cmocka_unit_test(insufficient_balance_changes_nothing),
        cmocka_unit_test(unknown_product_or_user),
        cmocka_unit_test(hundred_lines_are_accepted),
        cmocka_unit_test(free_order_moves_no_money),
        cmocka_unit_test(get_order_is_the_placed_document),
        cmocka_unit_test(bad_order_ids_are_400),
        cmocka_unit_test(list_is_newest_first_and_keyset_paged),
        cmocka_unit_test(list_bad_params_unknown_user_and_empty),
        cmocka_unit_test(list_holds_the_orders_documents_byte_for_byte),
        cmocka_unit_test(cancel_refunds_restocks_and_queues_the_event),
        cmocka_unit_test(second_cancel_and_unknown_order),
        cmocka_unit_test(bad_order_bodies_change_nothing),
        cmocka_unit_test(content_type_and_empty_body),
        cmocka_unit_test(unknown_fields_and_null_coupon_are_ignored),
        cmocka_unit_test(replay_returns_the_stored_order_and_changes_nothing),
        cmocka_unit_test(key_reused_with_another_body_and_keys_per_user),
        cmocka_unit_test(key_format_is_checked),
        cmocka_unit_test(refused_request_does_not_burn_the_key),
        cmocka_unit_test(idempotent_charge),
        cmocka_unit_test(orders_of_every_size_keep_every_read_working),
        cmocka_unit_test(order_behind_a_held_lock_is_refused_and_nothing_happens),
    };
    return cmocka_run_group_tests_name("integration/orders", tests, NULL, NULL);
}
