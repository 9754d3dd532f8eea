/* First-come coupons under contention, through nginx, against several worker
 * processes: never more than totalQuantity issued, at most one per user, and
 * one user coupon pays for exactly one order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/client.h"

/* What a child saw, as its exit code. */
enum outcome {
    GOT_CREATED = 1,    /* 201 (and, for an order, the expected discount) */
    GOT_SOLD_OUT,       /* 409 COUPON_SOLD_OUT */
    GOT_ALREADY_ISSUED, /* 409 COUPON_ALREADY_ISSUED */
    GOT_NOT_USABLE,     /* 409 COUPON_NOT_USABLE */
    GOT_OTHER_4XX,      /* any other 4xx or problem code */
    GOT_5XX,            /* any 5xx */
    GOT_WRONG_BODY,     /* 201 with a body that does not match */
    GOT_OTHER,          /* anything else */
};

static const char *outcome_name(int code)
{
    static const char *names[] = {"?",
                                  "201",
                                  "COUPON_SOLD_OUT",
                                  "COUPON_ALREADY_ISSUED",
                                  "COUPON_NOT_USABLE",
                                  "other 4xx",
                                  "5xx",
                                  "201 wrong body",
                                  "other"};
    return code >= 0 && code <= GOT_OTHER ? names[code] : "child failed";
}

/* The body's "code" member, "" when there is none. */
static const char *code_of(const tc_resp_t *r)
{
    json_object *c = NULL;
    if (!r->json || !json_object_object_get_ex(r->json, "code", &c) ||
        !json_object_is_type(c, json_type_string))
        return "";
    return json_object_get_string(c);
}

static int classify(const tc_resp_t *r)
{
    if (r->status == 201)
        return GOT_CREATED;
    if (r->status >= 500) {
        fprintf(stderr, "child %d: %ld %s\n", (int)getpid(), r->status, r->body);
        return GOT_5XX;
    }
    if (r->status == 409 && strcmp(code_of(r), "COUPON_SOLD_OUT") == 0)
        return GOT_SOLD_OUT;
    if (r->status == 409 && strcmp(code_of(r), "COUPON_ALREADY_ISSUED") == 0)
        return GOT_ALREADY_ISSUED;
    if (r->status == 409 && strcmp(code_of(r), "COUPON_NOT_USABLE") == 0)
        return GOT_NOT_USABLE;
    fprintf(stderr, "child %d: %ld %s\n", (int)getpid(), r->status, r->body);
    return r->status >= 400 && r->status < 500 ? GOT_OTHER_4XX : GOT_OTHER;
}

/* results[] -> counts[outcome] (index 0 collects failed children) */
static void tally(const int *results, int n, int *counts)
{
    memset(counts, 0, sizeof(int) * (GOT_OTHER + 1));
    for (int i = 0; i < n; i++) {
        if (results[i] >= GOT_CREATED && results[i] <= GOT_OTHER) {
            counts[results[i]]++;
        } else {
            fprintf(stderr, "child %d failed (exit %d)\n", i, results[i]);
            counts[0]++;
        }
    }
    for (int c = 0; c <= GOT_OTHER; c++)
        if (counts[c])
            fprintf(stderr, "  %-22s %d\n", outcome_name(c), counts[c]);
}

/* ---------------------------------------------------------------------------
 * (a) 300 users, 100 coupons */

#define COUPONS 100
#define USERS 300

static int64_t race_coupon;
static int64_t race_users[USERS];

static int issue_for_user(int i, void *arg)
{
    (void)arg;
    tc_resp_t *r = tc_issue(race_coupon, race_users[i]);
    int code = classify(r);
    if (code == GOT_CREATED) {
        json_object *u = NULL, *st = NULL;
        if (!json_object_object_get_ex(r->json, "userId", &u) ||
            json_object_get_int64(u) != race_users[i] ||
            !json_object_object_get_ex(r->json, "status", &st) ||
            strcmp(json_object_get_string(st), "AVAILABLE") != 0)
            code = GOT_WRONG_BODY;
    }
    tc_free(r);
    return code;
}

static void three_hundred_users_race_for_a_hundred_coupons(void **state)
{
    static int results[USERS];
    int counts[GOT_OTHER + 1];

    race_coupon = tc_new_coupon("FIXED", 1000, COUPONS);
    for (int i = 0; i < USERS; i++)
        race_users[i] = tc_new_user();

    assert_int_equal(tc_parallel(USERS, issue_for_user, NULL, results), 0);
    tally(results, USERS, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[GOT_5XX], 0);
    assert_int_equal(counts[GOT_CREATED], COUPONS);
    assert_int_equal(counts[GOT_SOLD_OUT], USERS - COUPONS);
    assert_int_equal(counts[GOT_ALREADY_ISSUED] + counts[GOT_NOT_USABLE] + counts[GOT_OTHER_4XX] +
                         counts[GOT_WRONG_BODY] + counts[GOT_OTHER],
                     0);

    tc_resp_t *r = tc_getf("/coupons/%lld", (long long)race_coupon);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "issuedQuantity"), COUPONS);
    assert_int_equal(tc_int(r, "remaining"), 0);
    tc_free(r);
    assert_int_equal(
        tc_sql_int("SELECT issued_quantity FROM coupon WHERE id=%lld", (long long)race_coupon),
        COUPONS);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE coupon_id=%lld", (long long)race_coupon),
        COUPONS);
    assert_int_equal(tc_sql_int("SELECT COUNT(DISTINCT user_id) FROM user_coupon"
                                " WHERE coupon_id=%lld",
                                (long long)race_coupon),
                     COUPONS);

    /* the users who got a 201 are exactly the ones holding a row */
    for (int i = 0; i < USERS; i++) {
        int64_t has = tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE coupon_id=%lld"
                                 " AND user_id=%lld",
                                 (long long)race_coupon, (long long)race_users[i]);
        if (has != (results[i] == GOT_CREATED))
            fail_msg("user %lld: %s but %lld rows", (long long)race_users[i],
                     outcome_name(results[i]), (long long)has);
    }
}

/* ---------------------------------------------------------------------------
 * (b) one user, 20 requests */

#define REPEATS 20

static int64_t greedy_user;

static int issue_again(int i, void *arg)
{
    (void)i;
    (void)arg;
    tc_resp_t *r = tc_issue(race_coupon, greedy_user);
    int code = classify(r);
    tc_free(r);
    return code;
}

static void one_user_asks_twenty_times_at_once(void **state)
{
    int results[REPEATS], counts[GOT_OTHER + 1];

    race_coupon = tc_new_coupon("PERCENT", 10, 100);
    greedy_user = tc_new_user();

    assert_int_equal(tc_parallel(REPEATS, issue_again, NULL, results), 0);
    tally(results, REPEATS, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[GOT_5XX], 0);
    assert_int_equal(counts[GOT_CREATED], 1);
    assert_int_equal(counts[GOT_ALREADY_ISSUED], REPEATS - 1);

    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE coupon_id=%lld", (long long)race_coupon),
        1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE coupon_id=%lld"
                                " AND user_id=%lld",
                                (long long)race_coupon, (long long)greedy_user),
                     1);
    assert_int_equal(
        tc_sql_int("SELECT issued_quantity FROM coupon WHERE id=%lld", (long long)race_coupon), 1);
    tc_resp_t *r = tc_getf("/coupons/%lld", (long long)race_coupon);
    assert_int_equal(tc_int(r, "issuedQuantity"), 1);
    assert_int_equal(tc_int(r, "remaining"), 99);
    tc_free(r);
}

/* ---------------------------------------------------------------------------
 * (c) one user coupon, 10 orders at once */

#define ORDERS 10
#define PRICE 5000
#define DISCOUNT 1000

static int64_t buyer, products[ORDERS];

static int order_with_coupon(int i, void *arg)
{
    char body[256];
    (void)arg;
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}],"
             "\"couponId\":%lld}",
             (long long)buyer, (long long)products[i], (long long)race_coupon);
    tc_resp_t *r = tc_post("/orders", body);
    int code = classify(r);
    if (code == GOT_CREATED) {
        json_object *d = NULL, *t = NULL;
        if (!json_object_object_get_ex(r->json, "discount", &d) ||
            json_object_get_int64(d) != DISCOUNT ||
            !json_object_object_get_ex(r->json, "total", &t) ||
            json_object_get_int64(t) != PRICE - DISCOUNT) {
            fprintf(stderr, "child %d: 201 %s\n", (int)getpid(), r->body);
            code = GOT_WRONG_BODY;
        }
    }
    tc_free(r);
    return code;
}

static void ten_orders_share_one_coupon(void **state)
{
    int results[ORDERS], counts[GOT_OTHER + 1];
    const int64_t initial = (int64_t)PRICE * ORDERS; /* enough for all 10 without discount */

    buyer = tc_new_user();
    /* one product per order: no inventory row lock lines the orders up
     * before they reach the user coupon */
    for (int i = 0; i < ORDERS; i++)
        products[i] = tc_new_product(PRICE, 1000);
    tc_charge(buyer, initial);
    race_coupon = tc_new_coupon("FIXED", DISCOUNT, 1);
    tc_resp_t *r = tc_issue(race_coupon, buyer);
    assert_int_equal(r->status, 201);
    tc_free(r);

    assert_int_equal(tc_parallel(ORDERS, order_with_coupon, NULL, results), 0);
    tally(results, ORDERS, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[GOT_5XX], 0);
    assert_int_equal(counts[GOT_WRONG_BODY], 0);
    assert_int_equal(counts[GOT_CREATED], 1);
    assert_int_equal(counts[GOT_NOT_USABLE], ORDERS - 1);

    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)buyer),
                     initial - (PRICE - DISCOUNT));
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld", (long long)buyer),
                     1);
    int64_t oid = tc_sql_int("SELECT id FROM orders WHERE user_id=%lld", (long long)buyer);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld AND discount=%d"
                                " AND total=%d AND coupon_id=%lld",
                                (long long)oid, DISCOUNT, PRICE - DISCOUNT, (long long)race_coupon),
                     1);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE coupon_id=%lld"
                                " AND user_id=%lld AND status='USED' AND used_order_id=%lld",
                                (long long)race_coupon, (long long)buyer, (long long)oid),
                     1);
    /* stock was taken for the winning order's product only */
    int winner = -1;
    for (int i = 0; i < ORDERS; i++)
        if (results[i] == GOT_CREATED)
            winner = i;
    assert_true(winner >= 0);
    for (int i = 0; i < ORDERS; i++)
        assert_int_equal(
            tc_sql_int("SELECT stock FROM inventory WHERE product_id=%lld", (long long)products[i]),
            i == winner ? 999 : 1000);
    assert_int_equal(
        tc_sql_int("SELECT product_id FROM order_item WHERE order_id=%lld", (long long)oid),
        products[winner]);
    /* one CHARGE, one USE */
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)buyer), 2);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='USE' AND amount=%d AND order_id=%lld",
                                (long long)buyer, PRICE - DISCOUNT, (long long)oid),
                     1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM payment WHERE user_id=%lld", (long long)buyer), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_hundred_users_race_for_a_hundred_coupons),
        cmocka_unit_test(one_user_asks_twenty_times_at_once),
        cmocka_unit_test(ten_orders_share_one_coupon),
    };
    return cmocka_run_group_tests_name("concurrency/coupon", tests, NULL, NULL);
}
