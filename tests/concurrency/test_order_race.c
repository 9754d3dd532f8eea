/* Many client processes place and cancel orders at once, through nginx,
 * against several worker processes: exact outcome counts, and the exact
 * final state in SQL (stock, balances, history, payments, events). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

/* What a child saw, as its exit code. */
enum {
    OK = 0,          /* 201 (or 200 for a cancel) */
    REFUSED = 1,     /* the 409 the scenario expects */
    OTHER_409 = 2,   /* a 409 with another code */
    REPLAYED = 3,    /* 201 with Idempotent-Replayed: true */
    KEY_IN_USE = 4,  /* 409 IDEMPOTENCY_KEY_IN_USE */
    MISMATCH = 5,    /* a 2xx whose body is not what it should be */
    UNEXPECTED = 10, /* + tc_status_code(status): anything else */
};

#define MAX_CLIENTS 100

static int64_t users[MAX_CLIENTS];
static int64_t prod_a, prod_b, order_id;
static const char *expect_code; /* the 409 code a refusal must carry */
static char shared_body[256];

/* prod_a and prod_b (none for price_b 0) with this stock each, and
 * users[0..n-1]: new users with `points` each (none for 0). */
static void shop(int64_t price_a, int64_t price_b, int64_t stock, int n, int64_t points)
{
    prod_a = tc_new_product(price_a, stock);
    if (price_b)
        prod_b = tc_new_product(price_b, stock);
    for (int i = 0; i < n; i++) {
        users[i] = tc_new_user();
        if (points)
            tc_charge(users[i], points);
    }
}

/* In a child: the problem code of a response, or "". */
static const char *code_of(const tc_resp_t *r)
{
    json_object *c = NULL;
    if (!r->json || !json_object_object_get_ex(r->json, "code", &c) || !c)
        return "";
    return json_object_get_string(c);
}

static int classify(const tc_resp_t *r, long ok_status)
{
    if (r->status == ok_status)
        return OK;
    if (r->status == 409)
        return strcmp(code_of(r), expect_code) == 0 ? REFUSED : OTHER_409;
    return UNEXPECTED + tc_status_code(r->status);
}

/* shared_body: users[0] orders qty of prod_a. */
static void share_order(int qty)
{
    snprintf(shared_body, sizeof(shared_body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":%d}]}",
             (long long)users[0], (long long)prod_a, qty);
}

/* classify(r, ok), r freed. */
static int classified(tc_resp_t *r, long ok)
{
    int code = classify(r, ok);
    tc_free(r);
    return code;
}

/* Print what is not expected and check the counts. */
static void tally(const int *results, int n, int *count, int ncount)
{
    memset(count, 0, sizeof(int) * (size_t)ncount);
    for (int i = 0; i < n; i++) {
        if (results[i] < 0 || results[i] >= ncount) {
            fprintf(stderr, "client %d: exit %d", i, results[i]);
            if (results[i] >= UNEXPECTED && results[i] < 255)
                fprintf(stderr, " (HTTP %ld)", tc_code_status(results[i] - UNEXPECTED));
            fprintf(stderr, "\n");
            fail();
        }
        count[results[i]]++;
    }
}

/* n children run fn together; count tallies their results (results[i]: child i's). */
static void run_together(int n, int (*fn)(int, void *), int *results, int *count)
{
    assert_int_equal(tc_parallel(n, fn, NULL, results), 0);
    tally(results, n, count, UNEXPECTED);
}

/* n children run fn together: `ok` succeed, the others are refused with
 * `code` (and nothing else happens); results[i] is each child's. */
static void race(int n, int (*fn)(int, void *), const char *code, int ok, int *results)
{
    int count[UNEXPECTED];
    expect_code = code;
    run_together(n, fn, results, count);
    assert_int_equal(count[OK], ok);
    assert_int_equal(count[REFUSED], n - ok);
}

/* In a child: an order of one unit of prod_a for uid. */
static int order_unit_of(int64_t uid)
{
    char body[128];
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", (long long)uid,
             (long long)prod_a);
    return classified(tc_post("/orders", body), 201);
}

static int order_one_unit(int i, void *arg) { return order_unit_of(users[i]); }

/* Stock 10, 100 buyers of one unit each: 10 win, 90 are told OUT_OF_STOCK. */
static void hundred_buyers_for_ten_units(void **state)
{
    const int n = 100, stock = 10;
    const int64_t price = 1000, charged = 1700;
    int results[MAX_CLIENTS];

    shop(price, 0, stock, n, charged);
    race(n, order_one_unit, "OUT_OF_STOCK", stock, results);

    assert_int_equal(tc_stock(prod_a), 0);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM order_item i JOIN orders o ON o.id = i.order_id"
                   " WHERE i.product_id=%lld AND o.status='PAID' AND i.quantity=1",
                   (long long)prod_a),
        stock);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM order_item WHERE product_id=%lld", (long long)prod_a),
        stock);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM payment p JOIN order_item i"
                                " ON i.order_id = p.order_id WHERE i.product_id=%lld"
                                " AND p.status='PAID' AND p.amount=%lld",
                                (long long)prod_a, (long long)price),
                     stock);
    assert_int_equal(tc_sql_int("SELECT COALESCE(SUM(h.amount), 0) FROM point_history h"
                                " JOIN order_item i ON i.order_id = h.order_id"
                                " WHERE i.product_id=%lld AND h.type='USE'",
                                (long long)prod_a),
                     stock * price);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox x JOIN order_item i"
                                " ON i.order_id = x.order_id WHERE i.product_id=%lld"
                                " AND x.type='ORDER_PAID'",
                                (long long)prod_a),
                     stock);
    /* each buyer: a winner has one order and paid once; a loser has nothing */
    for (int i = 0; i < n; i++) {
        int64_t orders =
            tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld", (long long)users[i]);
        int64_t rows = tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld",
                                  (long long)users[i]);
        if (results[i] == OK) {
            assert_int_equal(orders, 1);
            assert_int_equal(tc_balance(users[i]), charged - price);
            assert_int_equal(rows, 2);
            assert_int_equal(tc_last_balance_after(users[i]), charged - price);
        } else {
            assert_int_equal(orders, 0);
            assert_int_equal(tc_balance(users[i]), charged);
            assert_int_equal(rows, 1);
        }
    }
}

static int order_as_one_user(int i, void *arg) { return order_unit_of(users[0]); }

/* One user with money for exactly 5 orders sends 20 at once. */
static void twenty_orders_on_a_balance_for_five(void **state)
{
    const int n = 20, affordable = 5;
    const int64_t price = 700, stock = 1000;
    int results[MAX_CLIENTS];

    shop(price, 0, stock, 1, affordable * price);
    race(n, order_as_one_user, "INSUFFICIENT_BALANCE", affordable, results);

    assert_int_equal(tc_balance(users[0]), 0);
    assert_int_equal(tc_stock(prod_a), stock - affordable);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld AND status='PAID'",
                                (long long)users[0]),
                     affordable);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='USE' AND amount=%lld",
                                (long long)users[0], (long long)price),
                     affordable);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)users[0]),
        affordable + 1);
    /* the USE rows step the balance down by the price, to 0, without a lost update */
    assert_int_equal(tc_sql_int("SELECT COUNT(DISTINCT balance_after) FROM point_history"
                                " WHERE user_id=%lld AND type='USE'",
                                (long long)users[0]),
                     affordable);
    assert_int_equal(tc_sql_int("SELECT MIN(balance_after) FROM point_history WHERE user_id=%lld",
                                (long long)users[0]),
                     0);
    assert_int_equal(tc_sql_int("SELECT MAX(balance_after) FROM point_history"
                                " WHERE user_id=%lld AND type='USE'",
                                (long long)users[0]),
                     (affordable - 1) * price);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM payment WHERE user_id=%lld", (long long)users[0]),
        affordable);
}

static int order_two_products(int i, void *arg)
{
    char body[192];
    int64_t first = i % 2 ? prod_b : prod_a, second = i % 2 ? prod_a : prod_b;
    (void)arg;
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":%d},"
             "{\"productId\":%lld,\"quantity\":%d}]}",
             (long long)users[i], (long long)first, first == prod_a ? 2 : 3, (long long)second,
             second == prod_a ? 2 : 3);
    tc_resp_t *r = tc_post("/orders", body);
    int code = tc_status_code(r->status);
    tc_free(r);
    return code;
}

/* Half the clients order [A,B], half [B,A]: no deadlock reaches a client. */
static void opposite_line_orders_all_succeed(void **state)
{
    const int n = 40;
    const int64_t pa = 300, pb = 500, cost = 2 * 300 + 3 * 500;
    int results[MAX_CLIENTS];

    shop(pa, pb, 1000, n, cost);
    assert_int_equal(tc_parallel(n, order_two_products, NULL, results), 0);
    for (int i = 0; i < n; i++) {
        if (tc_code_status(results[i]) != 201)
            fprintf(stderr, "client %d got %ld\n", i, tc_code_status(results[i]));
        assert_int_equal(tc_code_status(results[i]), 201);
    }
    assert_int_equal(tc_stock(prod_a), 1000 - 2 * n);
    assert_int_equal(tc_stock(prod_b), 1000 - 3 * n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(tc_balance(users[i]), 0);
        assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld"
                                    " AND total=%lld",
                                    (long long)users[i], (long long)cost),
                         1);
    }
    assert_int_equal(tc_sql_int("SELECT COALESCE(SUM(quantity), 0) FROM order_item"
                                " WHERE product_id=%lld",
                                (long long)prod_a),
                     2 * n);
    assert_int_equal(tc_sql_int("SELECT COALESCE(SUM(quantity), 0) FROM order_item"
                                " WHERE product_id=%lld",
                                (long long)prod_b),
                     3 * n);
}

static int cancel_it(int i, void *arg)
{
    char path[128];
    (void)i;
    (void)arg;
    snprintf(path, sizeof(path), "/orders/%lld/cancel", (long long)order_id);
    tc_resp_t *r = tc_post(path, "");
    int code = classify(r, 200);
    if (code == OK && (!r->json || strcmp(tc_str(r, "status"), "CANCELLED") != 0))
        code = MISMATCH;
    tc_free(r);
    return code;
}

/* Ten cancels of one order: one refund. */
static void ten_cancels_refund_once(void **state)
{
    const int n = 10;
    int results[MAX_CLIENTS];
    char body[192];

    shop(400, 900, 50, 1, 10000);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":3},"
             "{\"productId\":%lld,\"quantity\":2}]}",
             (long long)users[0], (long long)prod_b, (long long)prod_a);
    tc_resp_t *r = tc_post("/orders", body);
    assert_int_equal(r->status, 201);
    order_id = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "total"), 3 * 900 + 2 * 400);
    tc_free(r);
    assert_int_equal(tc_balance(users[0]), 10000 - 3500);

    race(n, cancel_it, "ORDER_NOT_CANCELLABLE", 1, results);

    assert_int_equal(tc_stock(prod_a), 50);
    assert_int_equal(tc_stock(prod_b), 50);
    assert_int_equal(tc_balance(users[0]), 10000);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE order_id=%lld"
                                " AND type='REFUND'",
                                (long long)order_id),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE order_id=%lld"
                                " AND type='REFUND' AND amount=3500 AND balance_after=10000",
                                (long long)order_id),
                     1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)users[0]),
        3);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld"
                                " AND type='ORDER_CANCELLED'",
                                (long long)order_id),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld AND status='CANCELLED'"
                                " AND payment_status='REFUNDED'",
                                (long long)order_id),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM payment WHERE order_id=%lld"
                                " AND status='REFUNDED'",
                                (long long)order_id),
                     1);
}

static int order_with_the_key(int i, void *arg)
{
    char path[64], hdr[16];
    (void)i;
    (void)arg;
    tc_resp_t *r = tc_post_key("/orders", shared_body, "race-key");
    int code = classify(r, 201);
    if (code == REFUSED)
        code = KEY_IN_USE;
    if (code == OK) {
        json_object *id = NULL;
        if (tc_header(r, "Idempotent-Replayed", hdr, sizeof(hdr)) && strcmp(hdr, "true") == 0)
            code = REPLAYED;
        /* the answer is the order as GET shows it */
        if (!r->json || !json_object_object_get_ex(r->json, "orderId", &id) || !id) {
            code = MISMATCH;
        } else {
            snprintf(path, sizeof(path), "/orders/%lld", (long long)json_object_get_int64(id));
            tc_resp_t *g = tc_get(path);
            if (g->status != 200 || strcmp(g->body, r->body) != 0)
                code = MISMATCH;
            tc_free(g);
        }
    }
    tc_free(r);
    return code;
}

static char refused_key[32];

static int refused_order_with_the_key(int i, void *arg)
{
    (void)i;
    (void)arg;
    return classified(tc_post_key("/orders", shared_body, refused_key), 201);
}

/* Thirty identical requests with one key that all must be refused (no
 * balance): each is evaluated and refused, none is told the key is in use.
 * (Waiters on a key whose holder rolled back could deadlock on the key's
 * insert; that once surfaced as 409 IDEMPOTENCY_KEY_IN_USE.) Five rounds. */
static void refused_requests_with_one_key_are_all_refused(void **state)
{
    const int n = 30;
    int results[MAX_CLIENTS], count[UNEXPECTED];

    shop(1200, 0, 100, 1, 0);
    share_order(1);
    expect_code = "INSUFFICIENT_BALANCE";
    for (int round = 0; round < 5; round++) {
        snprintf(refused_key, sizeof(refused_key), "refused-key-%d", round);
        run_together(n, refused_order_with_the_key, results, count);
        if (count[OTHER_409])
            fprintf(stderr, "round %d: %d clients got another 409 (key in use?)\n", round,
                    count[OTHER_409]);
        assert_int_equal(count[REFUSED], n);
    }
    assert_int_equal(tc_orders_of(users[0]), 0);
    assert_int_equal(tc_stock(prod_a), 100);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM idempotency_key WHERE user_id=%lld", (long long)users[0]),
        0);
}

/* Ten identical requests with one Idempotency-Key: one order. */
static void ten_requests_with_one_key_make_one_order(void **state)
{
    const int n = 10;
    int results[MAX_CLIENTS], count[UNEXPECTED];

    shop(1200, 0, 100, 1, 50000);
    share_order(4);
    expect_code = "IDEMPOTENCY_KEY_IN_USE";
    run_together(n, order_with_the_key, results, count);
    if (count[KEY_IN_USE])
        fprintf(stderr, "note: %d clients got 409 IDEMPOTENCY_KEY_IN_USE\n", count[KEY_IN_USE]);
    assert_int_equal(count[MISMATCH], 0);
    assert_int_equal(count[OK], 1);
    assert_int_equal(count[OK] + count[REPLAYED] + count[KEY_IN_USE], n);

    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld", (long long)users[0]), 1);
    assert_int_equal(tc_stock(prod_a), 96);
    assert_int_equal(tc_balance(users[0]), 50000 - 4 * 1200);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='USE'",
                                (long long)users[0]),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox o JOIN orders r ON r.id = o.order_id"
                                " WHERE r.user_id=%lld",
                                (long long)users[0]),
                     1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM idempotency_key WHERE user_id=%lld", (long long)users[0]),
        1);

    /* and afterwards the key replays */
    tc_resp_t *r = tc_post_key("/orders", shared_body, "race-key");
    assert_int_equal(r->status, 201);
    char hdr[16];
    assert_non_null(tc_header(r, "Idempotent-Replayed", hdr, sizeof(hdr)));
    assert_string_equal(hdr, "true");
    tc_free(r);
    assert_int_equal(tc_stock(prod_a), 96);
}

static int checkout_cart(int i, void *arg)
{
    char path[128];
    (void)i;
    (void)arg;
    snprintf(path, sizeof(path), "/users/%lld/cart/checkout", (long long)users[0]);
    return classified(tc_post(path, "{}"), 201);
}

/* A double (tenfold) submit of one cart without a key: one order, the rest
 * find the cart empty. */
static void ten_checkouts_of_one_cart(void **state)
{
    const int n = 10;
    int results[MAX_CLIENTS];
    char path[128];

    shop(300, 50, 20, 1, 10000);
    const char *const json[] = {"Content-Type: application/json", NULL};
    snprintf(path, sizeof(path), "/users/%lld/cart/items/%lld", (long long)users[0],
             (long long)prod_a);
    assert_answers(tc_req("PUT", path, "{\"quantity\":3}", json), 200);
    snprintf(path, sizeof(path), "/users/%lld/cart/items/%lld", (long long)users[0],
             (long long)prod_b);
    assert_answers(tc_req("PUT", path, "{\"quantity\":4}", json), 200);

    race(n, checkout_cart, "CART_EMPTY", 1, results);

    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld", (long long)users[0]), 1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM cart_item WHERE user_id=%lld", (long long)users[0]), 0);
    assert_int_equal(tc_stock(prod_a), 17);
    assert_int_equal(tc_stock(prod_b), 16);
    assert_int_equal(tc_balance(users[0]), 10000 - 900 - 200);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)users[0]),
        2);
}

/* Every kind of transaction on the same hot rows at once: orders of [A,B],
 * cancels of orders of [B,A], restocks of A and B, charges. Each takes the
 * rows in the one global order (point -> user coupon -> inventory
 * ascending), so every request succeeds (no deadlock or lock wait reaches a
 * client) and the books balance exactly. */
#define MIX 20
static int64_t mix_orders[MIX];

static int mixed_client(int i, void *arg)
{
    char body[192], path[128];
    tc_resp_t *r;
    (void)arg;
    switch (i / MIX) {
    case 0: /* a new order of A and B */
        snprintf(body, sizeof(body),
                 "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":2},"
                 "{\"productId\":%lld,\"quantity\":1}]}",
                 (long long)users[i % MIX], (long long)prod_a, (long long)prod_b);
        r = tc_post("/orders", body);
        break;
    case 1: /* cancel the user's earlier order of B and A */
        snprintf(path, sizeof(path), "/orders/%lld/cancel", (long long)mix_orders[i % MIX]);
        r = tc_post(path, "");
        break;
    case 2: /* restock A or B */
        snprintf(path, sizeof(path), "/admin/products/%lld", (long long)(i % 2 ? prod_b : prod_a));
        r = tc_admin("PATCH", path, "{\"restock\":7}");
        break;
    default: /* a charge */
        snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)users[i % MIX]);
        r = tc_post(path, "{\"amount\":100}");
        break;
    }
    int code = r->status / 100 == 2 ? OK : UNEXPECTED + tc_status_code(r->status);
    if (code != OK)
        fprintf(stderr, "client %d (kind %d): %ld %s\n", i, i / MIX, r->status, r->body);
    tc_free(r);
    return code;
}

static void every_kind_of_transaction_at_once_keeps_the_books(void **state)
{
    const int n = 4 * MIX;
    const int64_t pa = 300, pb = 500, start = 10000;
    int results[MAX_CLIENTS], count[UNEXPECTED];
    char body[192];

    shop(pa, pb, 1000, MIX, start);
    for (int i = 0; i < MIX; i++) {
        snprintf(body, sizeof(body),
                 "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":3},"
                 "{\"productId\":%lld,\"quantity\":1}]}",
                 (long long)users[i], (long long)prod_b, (long long)prod_a);
        mix_orders[i] = tc_created_id(tc_post("/orders", body), "orderId");
    }
    /* before: each user paid 3 B + 1 A; stock A 1000 - 20, B 1000 - 60 */
    run_together(n, mixed_client, results, count);
    assert_int_equal(count[OK], n);

    /* stock: - new orders (2 A, 1 B each) + cancels (1 A, 3 B each) + restocks (7 each) */
    assert_int_equal(tc_stock(prod_a), 1000 - MIX - 2 * MIX + MIX + 7 * (MIX / 2));
    assert_int_equal(tc_stock(prod_b), 1000 - 3 * MIX - MIX + 3 * MIX + 7 * (MIX / 2));
    for (int i = 0; i < MIX; i++) {
        int64_t first = 3 * pb + pa, second = 2 * pa + pb;
        /* charged, paid the first, refunded it, paid the second, charged 100 */
        assert_int_equal(tc_balance(users[i]), start - first + first - second + 100);
        /* history: CHARGE, USE, REFUND, USE, CHARGE; the last row's balance is the balance */
        assert_int_equal(tc_history_of(users[i]), 5);
        assert_int_equal(tc_last_balance_after(users[i]), tc_balance(users[i]));
        assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld AND"
                                    " status='PAID'",
                                    (long long)users[i]),
                         1);
    }
    /* one event per paid order and per cancel */
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id IN (SELECT id FROM"
                                " orders WHERE user_id BETWEEN %lld AND %lld)",
                                (long long)users[0], (long long)users[MIX - 1]),
                     3 * MIX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hundred_buyers_for_ten_units),
        cmocka_unit_test(twenty_orders_on_a_balance_for_five),
        cmocka_unit_test(opposite_line_orders_all_succeed),
        cmocka_unit_test(ten_cancels_refund_once),
        cmocka_unit_test(ten_requests_with_one_key_make_one_order),
        cmocka_unit_test(refused_requests_with_one_key_are_all_refused),
        cmocka_unit_test(ten_checkouts_of_one_cart),
        cmocka_unit_test(every_kind_of_transaction_at_once_keeps_the_books),
    };
    return cmocka_run_group_tests_name("concurrency/orders", tests, NULL, NULL);
}
