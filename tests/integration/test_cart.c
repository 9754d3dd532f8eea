/* The cart: lines, and checkout into an order, against the real stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

#define NOWHERE 999999999999LL /* an id no test creates */

static int64_t cart_lines(int64_t uid)
{
    return tc_sql_int("SELECT COUNT(*) FROM cart_item WHERE user_id=%lld", (long long)uid);
}

static int64_t cart_qty(int64_t uid, int64_t pid)
{
    return tc_sql_int("SELECT COALESCE(SUM(quantity), 0) FROM cart_item WHERE user_id=%lld"
                      " AND product_id=%lld",
                      (long long)uid, (long long)pid);
}

static const char *const cart_keys[] = {"userId", "items", "subtotal", NULL};
static const char *const cart_line_keys[] = {"productId", "name",   "price", "stock",
                                             "quantity",  "amount", NULL};

static char path_buf[256];

static const char *item_path(int64_t uid, int64_t pid)
{
    snprintf(path_buf, sizeof(path_buf), "/users/%lld/cart/items/%lld", (long long)uid,
             (long long)pid);
    return path_buf;
}

static const char *checkout_path(int64_t uid)
{
    snprintf(path_buf, sizeof(path_buf), "/users/%lld/cart/checkout", (long long)uid);
    return path_buf;
}

static const char *const json_hdr[] = {"Content-Type: application/json", NULL};

static tc_resp_t *put_line(int64_t uid, int64_t pid, const char *body)
{
    return tc_req("PUT", item_path(uid, pid), body, json_hdr);
}

static void put_qty(int64_t uid, int64_t pid, int64_t qty)
{
    char body[64];
    snprintf(body, sizeof(body), "{\"quantity\":%lld}", (long long)qty);
    tc_resp_t *r = put_line(uid, pid, body);
    tc_expect_statusf(r, 200, "PUT %s", path_buf);
    tc_free(r);
}

static tc_resp_t *get_cart(int64_t uid) { return tc_getf("/users/%lld/cart", (long long)uid); }

/* ------------------------------------------------------------------------- */

static void empty_cart_of_a_new_user(void **state)
{
    int64_t uid = tc_new_user();
    tc_resp_t *r = get_cart(uid);
    assert_int_equal(r->status, 200);
    tc_assert_keys(r->json, cart_keys);
    assert_int_equal(tc_int(r, "userId"), uid);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 0);
    assert_int_equal(tc_int(r, "subtotal"), 0);
    tc_free(r);
}

static void put_sets_lines_and_delete_removes_them(void **state)
{
    int64_t uid = tc_new_user();
    int64_t a = tc_new_product(1500, 12), b = tc_new_product(300, 7);

    tc_resp_t *r = put_line(uid, a, "{\"quantity\":2}");
    assert_int_equal(r->status, 200);
    char ct[128];
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    tc_assert_keys(r->json, cart_keys);
    assert_int_equal(tc_int(r, "userId"), uid);
    json_object *items = tc_jget(r->json, "items");
    assert_int_equal(json_object_array_length(items), 1);
    json_object *l = json_object_array_get_idx(items, 0);
    tc_assert_keys(l, cart_line_keys);
    assert_int_equal(tc_jint(l, "productId"), a);
    assert_string_equal(json_object_get_string(tc_jget(l, "name")), "test product");
    assert_int_equal(tc_jint(l, "price"), 1500);
    assert_int_equal(tc_jint(l, "stock"), 12);
    assert_int_equal(tc_jint(l, "quantity"), 2);
    assert_int_equal(tc_jint(l, "amount"), 3000);
    assert_int_equal(tc_int(r, "subtotal"), 3000);
    tc_free(r);
    assert_int_equal(cart_qty(uid, a), 2);

    /* PUT again sets the quantity, it does not add */
    r = put_line(uid, a, "{\"quantity\":5}");
    assert_int_equal(r->status, 200);
    items = tc_jget(r->json, "items");
    assert_int_equal(json_object_array_length(items), 1);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 0), "quantity"), 5);
    assert_int_equal(tc_int(r, "subtotal"), 7500);
    tc_free(r);
    assert_int_equal(cart_qty(uid, a), 5);
    assert_int_equal(cart_lines(uid), 1);
    r = put_line(uid, a, "{\"quantity\":1}"); /* and down again */
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "subtotal"), 1500);
    tc_free(r);

    /* a second product: two lines, oldest first; a quantity above the stock is
     * allowed in a cart (stock is checked at checkout) */
    r = put_line(uid, b, "{\"quantity\":1000}");
    assert_int_equal(r->status, 200);
    items = tc_jget(r->json, "items");
    assert_int_equal(json_object_array_length(items), 2);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 0), "productId"), a);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 1), "productId"), b);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 1), "amount"), 300000);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 1), "stock"), 7);
    assert_int_equal(tc_int(r, "subtotal"), 1500 + 300000);
    tc_free(r);

    /* GET is the same document */
    tc_resp_t *g = get_cart(uid);
    assert_int_equal(g->status, 200);
    assert_int_equal(tc_int(g, "subtotal"), 301500);
    assert_int_equal(json_object_array_length(tc_jget(g->json, "items")), 2);
    tc_free(g);

    /* the cart shows the live price and stock */
    char p[128];
    snprintf(p, sizeof(p), "/admin/products/%lld", (long long)a);
    assert_answers(tc_admin("PATCH", p, "{\"price\":1600,\"restock\":3}"), 200);
    g = get_cart(uid);
    l = json_object_array_get_idx(tc_jget(g->json, "items"), 0);
    assert_int_equal(tc_jint(l, "price"), 1600);
    assert_int_equal(tc_jint(l, "stock"), 15);
    assert_int_equal(tc_jint(l, "amount"), 1600);
    tc_free(g);

    /* DELETE: 204, no body, the line is gone */
    r = tc_req("DELETE", item_path(uid, a), NULL, NULL);
    assert_int_equal(r->status, 204);
    assert_int_equal(r->len, 0);
    tc_free(r);
    assert_int_equal(cart_qty(uid, a), 0);
    assert_int_equal(cart_lines(uid), 1);
    g = get_cart(uid);
    items = tc_jget(g->json, "items");
    assert_int_equal(json_object_array_length(items), 1);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 0), "productId"), b);
    assert_int_equal(tc_int(g, "subtotal"), 300000);
    tc_free(g);

    /* DELETE of an absent line (and of an unknown product): 204, nothing changes */
    assert_answers(tc_req("DELETE", item_path(uid, a), NULL, NULL), 204);
    assert_answers(tc_req("DELETE", item_path(uid, NOWHERE), NULL, NULL), 204);
    assert_int_equal(cart_lines(uid), 1);
    assert_int_equal(cart_qty(uid, b), 1000);
}

static void unknown_user_and_product(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(100, 10);
    int64_t lines0 = tc_sql_int("SELECT COUNT(*) FROM cart_item");

    tc_resp_t *r = get_cart(NOWHERE);
    assert_problem(r, 404, "USER_NOT_FOUND");
    tc_free(r);
    assert_refused(put_line(NOWHERE, pid, "{\"quantity\":1}"), 404, "USER_NOT_FOUND");
    assert_refused(tc_req("DELETE", item_path(NOWHERE, pid), NULL, NULL), 404, "USER_NOT_FOUND");
    assert_refused(tc_post(checkout_path(NOWHERE), "{}"), 404, "USER_NOT_FOUND");

    assert_refused(put_line(uid, NOWHERE, "{\"quantity\":1}"), 404, "PRODUCT_NOT_FOUND");
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM cart_item"), lines0);

    static const char *bad[] = {"/users/0/cart", "/users/-1/cart", "/users/abc/cart"};
    for (size_t i = 0; i < 3; i++) {
        assert_invalid(tc_get(bad[i]), "userId");
    }
    assert_invalid(put_line(uid, 0, "{\"quantity\":1}"), "productId");
}

static void bad_quantity_leaves_the_cart_alone(void **state)
{
    static const char *bodies[] = {
        "{\"quantity\":0}",
        "{\"quantity\":1001}",
        "{\"quantity\":\"2\"}",
        "{\"quantity\":1.5}",
        "{}",
        "{\"quantity\":null}",
        "{\"quantity\":-1}",
        "{\"quantity\":true}",
        "{\"quantity\":9223372036854775808}",
    };
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(100, 10);
    put_qty(uid, pid, 3);

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_invalid(put_line(uid, pid, bodies[i]), "quantity");
    }
    static const char *malformed[] = {"{\"quantity\":2", "{\"quantity\":2} x", "[2]", ""};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        tc_resp_t *r = put_line(uid, pid, malformed[i]);
        assert_problem(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
    const char *text[] = {"Content-Type: text/plain", NULL};
    const char *none[] = {"Content-Type:", NULL};
    tc_resp_t *r = tc_req("PUT", item_path(uid, pid), "{\"quantity\":2}", text);
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE");
    tc_free(r);
    assert_refused(tc_req("PUT", item_path(uid, pid), "{\"quantity\":2}", none), 415,
                   "UNSUPPORTED_MEDIA_TYPE");

    assert_int_equal(cart_lines(uid), 1);
    assert_int_equal(cart_qty(uid, pid), 3);
    r = get_cart(uid);
    assert_int_equal(tc_int(r, "subtotal"), 300);
    tc_free(r);

    /* the bounds themselves are fine */
    put_qty(uid, pid, 1000);
    assert_int_equal(cart_qty(uid, pid), 1000);
    put_qty(uid, pid, 1);
    assert_int_equal(cart_qty(uid, pid), 1);
}

static void checkout_turns_the_cart_into_an_order(void **state)
{
    int64_t uid = tc_new_user();
    int64_t a = tc_new_product(1500, 10), b = tc_new_product(250, 5), c = tc_new_product(99, 3);
    tc_charge(uid, 10000);
    put_qty(uid, a, 2);
    put_qty(uid, b, 5);
    put_qty(uid, c, 1);
    put_qty(uid, a, 3); /* set again: 3 */
    int64_t subtotal = 3 * 1500 + 5 * 250 + 99;

    tc_resp_t *cart = get_cart(uid);
    assert_int_equal(tc_int(cart, "subtotal"), subtotal);
    json_object *lines = tc_jget(cart->json, "items");

    tc_resp_t *r = tc_post(checkout_path(uid), "{}");
    tc_expect_status(r, 201);
    assert_false(tc_replayed(r));
    int64_t oid = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "userId"), uid);
    assert_string_equal(tc_str(r, "status"), "PAID");
    json_object *items = tc_jget(r->json, "items");
    assert_int_equal(json_object_array_length(items), json_object_array_length(lines));
    assert_int_equal(json_object_array_length(items), 3);
    for (size_t i = 0; i < 3; i++) {
        json_object *it = json_object_array_get_idx(items, i),
                    *l = json_object_array_get_idx(lines, i);
        assert_int_equal(tc_jint(it, "productId"), tc_jint(l, "productId"));
        assert_int_equal(tc_jint(it, "quantity"), tc_jint(l, "quantity"));
        assert_int_equal(tc_jint(it, "unitPrice"), tc_jint(l, "price"));
        assert_int_equal(tc_jint(it, "amount"), tc_jint(l, "amount"));
        assert_string_equal(json_object_get_string(tc_jget(it, "name")),
                            json_object_get_string(tc_jget(l, "name")));
    }
    assert_int_equal(tc_int(r, "subtotal"), subtotal);
    assert_int_equal(tc_int(r, "discount"), 0);
    assert_int_equal(tc_int(r, "total"), subtotal);
    assert_true(tc_is_null(r, "couponId"));
    assert_int_equal(tc_int(r, "balance"), 10000 - subtotal);
    assert_true(tc_is_null(r, "cancelledAt"));

    /* the order is the order document of GET /orders/{id} */
    tc_resp_t *g = tc_getf("/orders/%lld", (long long)oid);
    assert_int_equal(g->status, 200);
    assert_string_equal(g->body, r->body);
    tc_free(g);

    /* the cart is empty, in the API and in SQL */
    assert_int_equal(cart_lines(uid), 0);
    g = get_cart(uid);
    assert_int_equal(g->status, 200);
    assert_int_equal(json_object_array_length(tc_jget(g->json, "items")), 0);
    assert_int_equal(tc_int(g, "subtotal"), 0);
    tc_free(g);

    /* stock, balance, history, payment, event */
    assert_int_equal(tc_stock(a), 7);
    assert_int_equal(tc_stock(b), 0);
    assert_int_equal(tc_stock(c), 2);
    assert_int_equal(tc_balance(uid), 10000 - subtotal);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='USE' AND amount=%lld AND order_id=%lld",
                                (long long)uid, (long long)subtotal, (long long)oid),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM payment WHERE order_id=%lld"
                                " AND amount=%lld AND status='PAID'",
                                (long long)oid, (long long)subtotal),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld"
                                " AND type='ORDER_PAID'",
                                (long long)oid),
                     1);
    assert_int_equal(tc_orders_of(uid), 1);

    /* and then the cart is empty */
    tc_resp_t *e = tc_post(checkout_path(uid), "{}");
    assert_problem(e, 409, "CART_EMPTY");
    tc_free(e);
    assert_int_equal(tc_orders_of(uid), 1);
    tc_free(r);
    tc_free(cart);
}

static void checkout_of_an_empty_cart(void **state)
{
    int64_t uid = tc_new_user();
    tc_charge(uid, 1000);
    int64_t orders0 = tc_sql_int("SELECT COUNT(*) FROM orders");
    tc_resp_t *r = tc_post(checkout_path(uid), "{}");
    assert_problem(r, 409, "CART_EMPTY");
    tc_free(r);
    /* a deleted last line leaves an empty cart */
    int64_t pid = tc_new_product(100, 10);
    put_qty(uid, pid, 1);
    assert_answers(tc_req("DELETE", item_path(uid, pid), NULL, NULL), 204);
    assert_refused(tc_post(checkout_path(uid), "{}"), 409, "CART_EMPTY");
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders"), orders0);
    assert_int_equal(tc_balance(uid), 1000);
    assert_int_equal(tc_stock(pid), 10);
}

static void refused_checkout_keeps_the_cart(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pids[3] = {tc_new_product(100, 10), tc_new_product(200, 3), tc_new_product(300, 10)};
    tc_snapshot_t s;
    tc_charge(uid, 1300); /* enough for the cart below: only the stock refuses */
    put_qty(uid, pids[0], 2);
    put_qty(uid, pids[1], 4); /* one more than the stock */
    put_qty(uid, pids[2], 1);
    s = tc_snapshot(uid, 3, pids);
    assert_int_equal(s.cart_lines, 3);

    tc_resp_t *r = tc_post(checkout_path(uid), "{}");
    assert_problem(r, 409, "OUT_OF_STOCK");
    assert_int_equal(tc_int(r, "productId"), pids[1]);
    tc_free(r);
    tc_snapshot_equal(&s);
    r = get_cart(uid);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 3);
    assert_int_equal(tc_int(r, "subtotal"), 1300);
    tc_free(r);

    /* fix the line (total 1100); spend 201 elsewhere: 1099 left */
    put_qty(uid, pids[1], 3);
    int64_t other = tc_new_product(201, 1);
    char body[128];
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", (long long)uid,
             (long long)other);
    r = tc_post("/orders", body);
    assert_int_equal(r->status, 201);
    assert_int_equal(tc_int(r, "balance"), 1099);
    tc_free(r);
    s = tc_snapshot(uid, 3, pids);
    assert_refused(tc_post(checkout_path(uid), "{}"), 409, "INSUFFICIENT_BALANCE");
    tc_snapshot_equal(&s);
    assert_int_equal(tc_orders_of(uid), 1);

    /* a bad coupon id is 400, also nothing */
    static const char *bad[] = {"{\"couponId\":\"x\"}", "{\"couponId\":0}", "{\"couponId\":-1}",
                                "{\"couponId\":1.5}"};
    for (size_t i = 0; i < 4; i++) {
        assert_invalid(tc_post(checkout_path(uid), bad[i]), "couponId");
    }
    assert_refused(tc_post(checkout_path(uid), "{\"couponId\":"), 400, "INVALID_REQUEST");
    assert_refused(tc_post(checkout_path(uid), ""), 400, "INVALID_REQUEST");
    const char *text[] = {"Content-Type: text/plain", NULL};
    assert_refused(tc_req("POST", checkout_path(uid), "{}", text), 415, "UNSUPPORTED_MEDIA_TYPE");
    tc_snapshot_equal(&s);

    /* exactly enough */
    tc_charge(uid, 1);
    assert_paid(tc_post(checkout_path(uid), "{}"), 1100, 0);
    assert_int_equal(cart_lines(uid), 0);
    assert_int_equal(tc_stock(pids[0]), 8);
    assert_int_equal(tc_stock(pids[1]), 0);
    assert_int_equal(tc_stock(pids[2]), 9);
}

static void checkout_with_a_key_replays(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pid = tc_new_product(400, 10);
    tc_charge(uid, 10000);
    put_qty(uid, pid, 2);

    tc_resp_t *first = tc_post_key(checkout_path(uid), "{}", "checkout-1");
    assert_int_equal(first->status, 201);
    assert_false(tc_replayed(first));
    assert_int_equal(cart_lines(uid), 0);

    tc_resp_t *r = tc_post_key(checkout_path(uid), "{}", "checkout-1");
    assert_int_equal(r->status, 201); /* not CART_EMPTY */
    assert_true(tc_replayed(r));
    assert_string_equal(r->body, first->body);
    tc_free(r);
    assert_int_equal(tc_orders_of(uid), 1);
    assert_int_equal(tc_stock(pid), 8);
    assert_int_equal(tc_balance(uid), 9200);

    /* the cart filled again: the old key still replays the old order */
    put_qty(uid, pid, 1);
    r = tc_post_key(checkout_path(uid), "{}", "checkout-1");
    assert_int_equal(r->status, 201);
    assert_true(tc_replayed(r));
    assert_string_equal(r->body, first->body);
    tc_free(r);
    assert_int_equal(cart_lines(uid), 1);
    assert_int_equal(tc_orders_of(uid), 1);

    /* same key, another body */
    assert_refused(tc_post_key(checkout_path(uid), "{\"note\":1}", "checkout-1"), 422,
                   "IDEMPOTENCY_KEY_REUSED");
    assert_int_equal(cart_lines(uid), 1);

    /* a new key checks the new cart out */
    r = tc_post_key(checkout_path(uid), "{}", "checkout-2");
    assert_int_equal(r->status, 201);
    assert_false(tc_replayed(r));
    assert_int_equal(tc_int(r, "total"), 400);
    tc_free(r);
    assert_int_equal(tc_orders_of(uid), 2);
    assert_int_equal(cart_lines(uid), 0);

    /* a refused checkout with a key does not burn it */
    assert_refused(tc_post_key(checkout_path(uid), "{}", "checkout-3"), 409, "CART_EMPTY");
    put_qty(uid, pid, 1);
    assert_keyed(checkout_path(uid), "{}", "checkout-3", 201, 0);
    assert_int_equal(tc_orders_of(uid), 3);
    assert_int_equal(tc_stock(pid), 6);
    tc_free(first);
}

static void at_most_100_distinct_products(void **state)
{
    int64_t uid = tc_new_user();
    int64_t pids[101];
    for (int i = 0; i < 101; i++)
        pids[i] = tc_new_product(10, 5);
    for (int i = 0; i < 100; i++)
        put_qty(uid, pids[i], 1);
    assert_int_equal(cart_lines(uid), 100);

    tc_resp_t *r = put_line(uid, pids[100], "{\"quantity\":1}");
    assert_invalid(r, NULL);
    assert_int_equal(cart_lines(uid), 100);
    assert_int_equal(cart_qty(uid, pids[100]), 0);

    /* a line already there can still be set */
    put_qty(uid, pids[0], 4);
    assert_int_equal(cart_qty(uid, pids[0]), 4);
    assert_int_equal(cart_lines(uid), 100);

    /* and a full cart checks out as one 100-line order */
    tc_charge(uid, 99 * 10 + 40);
    r = tc_post(checkout_path(uid), "{}");
    tc_expect_status(r, 201);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 100);
    assert_int_equal(tc_int(r, "balance"), 0);
    tc_free(r);
    assert_int_equal(cart_lines(uid), 0);
    assert_int_equal(tc_stock(pids[0]), 1);
    assert_int_equal(tc_stock(pids[99]), 4);
    assert_int_equal(tc_stock(pids[100]), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_cart_of_a_new_user),
        cmocka_unit_test(put_sets_lines_and_delete_removes_them),
        cmocka_unit_test(unknown_user_and_product),
        cmocka_unit_test(bad_quantity_leaves_the_cart_alone),
        cmocka_unit_test(checkout_turns_the_cart_into_an_order),
        cmocka_unit_test(checkout_of_an_empty_cart),
        cmocka_unit_test(refused_checkout_keeps_the_cart),
        cmocka_unit_test(checkout_with_a_key_replays),
        cmocka_unit_test(at_most_100_distinct_products),
    };
    return cmocka_run_group_tests_name("integration/cart", tests, NULL, NULL);
}
