/* Order rules (core/order.c): the lines a client may send, the lock order,
 * the line amount, the decision. (Reading them from a body is api's:
 * test_order_items.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/order.h"

/* ---- the lines a client may send ---------------------------------------- */

static void line_rules(void **state)
{
    const order_req_line_t lines[] = {{5, 1}, {7, 2}, {5, 3}, {9, 1}, {7, 1}};

    assert_false(order_lines_count_ok(0));
    assert_true(order_lines_count_ok(1));
    assert_true(order_lines_count_ok(ORDER_MAX_LINES));
    assert_false(order_lines_count_ok(ORDER_MAX_LINES + 1));
    assert_int_equal(order_line_repeats(lines, 0), -1);
    assert_int_equal(order_line_repeats(lines, 1), -1);
    assert_int_equal(order_line_repeats(lines, 2), 0);
    assert_int_equal(order_line_repeats(lines, 3), -1);
    assert_int_equal(order_line_repeats(lines, 4), 1);
}

/* ---- lock order --------------------------------------------------------- */

static void lock_order_is_ascending(void **state)
{
    order_req_line_t lines[] = {
        {5, 1}, {3, 2}, {INT64_MAX, 3}, {9, 4}, {1, 5}, {2, 6}, {INT64_MAX - 1, 7},
    };
    const int64_t want[] = {1, 2, 3, 5, 9, INT64_MAX - 1, INT64_MAX};
    int64_t ids[7];

    order_lock_order(lines, 7, ids);
    for (int i = 0; i < 7; i++)
        assert_int_equal(ids[i], want[i]);
    /* the lines themselves keep the client's order */
    assert_int_equal(lines[0].product_id, 5);
    assert_int_equal(lines[2].product_id, INT64_MAX);
    assert_int_equal(lines[6].quantity, 7);

    ids[0] = 0;
    order_lock_order(lines, 1, ids);
    assert_int_equal(ids[0], 5);
}

static void lock_order_of_a_full_reversed_order(void **state)
{
    order_req_line_t lines[ORDER_MAX_LINES];
    int64_t ids[ORDER_MAX_LINES];

    for (int i = 0; i < ORDER_MAX_LINES; i++) {
        lines[i].product_id = (int64_t)(ORDER_MAX_LINES - i) * 1000000007LL;
        lines[i].quantity = 1;
    }
    order_lock_order(lines, ORDER_MAX_LINES, ids);
    for (int i = 0; i < ORDER_MAX_LINES; i++)
        assert_int_equal(ids[i], (int64_t)(i + 1) * 1000000007LL);
}

/* ---- line amount -------------------------------------------------------- */

static void line_amount(void **state)
{
    assert_int_equal(order_line_amount(2, 1500), 3000);
    assert_int_equal(order_line_amount(1000, 1000000000LL), 1000000000000LL);
    assert_int_equal(order_line_amount(1, 0), 0);
    assert_int_equal(order_line_amount(1000, 0), 0);
    assert_int_equal(order_line_amount(1, INT64_MAX), INT64_MAX);
    assert_int_equal(order_line_amount(1000, INT64_MAX / 1000), INT64_MAX / 1000 * 1000);
    /* a full order of the largest lines is far below 2^63 */
    assert_true(order_line_amount(ORDER_MAX_QTY, 1000000000LL) <= INT64_MAX / ORDER_MAX_LINES);
}

static void line_amount_overflow(void **state)
{
    assert_int_equal(order_line_amount(1000, INT64_MAX / 1000 + 1), -1);
    assert_int_equal(order_line_amount(2, INT64_MAX), -1);
    assert_int_equal(order_line_amount(2, INT64_MAX / 2 + 1), -1);
    assert_int_equal(order_line_amount(3037000500LL, 3037000500LL), -1);
    assert_int_equal(order_line_amount(INT64_MAX, INT64_MAX), -1);
}

/* ---- order_decide: the rules of an order, from its facts ------------------ */

/* Facts of a well-funded buyer ordering these lines at these prices and
 * stocks, with no coupon; tests change what they look at. */
static order_req_line_t fx_lines[4];
static int64_t fx_prices[4], fx_stock[4];
static order_facts_t facts(int n)
{
    static const int64_t ids[4] = {40, 10, 30, 20};
    for (int i = 0; i < n; i++) {
        fx_lines[i] = (order_req_line_t){ids[i], i + 1};
        fx_prices[i] = 1000 * (i + 1);
        fx_stock[i] = 100;
    }
    return (order_facts_t){.n = n,
                           .lines = fx_lines,
                           .prices = fx_prices,
                           .stock = fx_stock,
                           .user_found = true,
                           .balance = 1000000,
                           .coupon = ORDER_COUPON_NONE};
}

static void decide_totals(void **state)
{
    order_facts_t f = facts(3);
    order_verdict_t v;

    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_OK);
    assert_int_equal(v.amounts[0], 1 * 1000);
    assert_int_equal(v.amounts[1], 2 * 2000);
    assert_int_equal(v.amounts[2], 3 * 3000);
    assert_int_equal(v.subtotal, 14000);
    assert_int_equal(v.discount, 0);
    assert_int_equal(v.total, 14000);
    assert_int_equal(v.balance_after, 1000000 - 14000);

    /* a usable coupon: FIXED and PERCENT, never past the subtotal */
    f.coupon = ORDER_COUPON_USABLE;
    f.coupon_type = COUPON_PERCENT;
    f.coupon_value = 10;
    order_decide(&f, &v);
    assert_int_equal(v.discount, 1400);
    assert_int_equal(v.total, 12600);
    f.coupon_type = COUPON_FIXED;
    f.coupon_value = 20000;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_OK);
    assert_int_equal(v.discount, 14000);
    assert_int_equal(v.total, 0);
    assert_int_equal(v.balance_after, 1000000);

    /* exactly the balance is enough */
    f = facts(1);
    f.balance = 1000;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_OK);
    assert_int_equal(v.balance_after, 0);
}

static void decide_refusals_in_order(void **state)
{
    order_facts_t f;
    order_verdict_t v;

    /* everything wrong at once: the missing product (lowest id) wins */
    f = facts(4);
    fx_prices[0] = fx_prices[2] = -1; /* products 40 and 30 */
    fx_stock[3] = 0;
    f.user_found = false;
    f.coupon = ORDER_COUPON_UNKNOWN;
    f.balance = 0;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_NO_PRODUCT);
    assert_int_equal(v.bad_id, 30);

    /* then stock: the short line with the lowest product id */
    f = facts(4);
    fx_stock[0] = 0; /* product 40 wants 1 */
    fx_stock[3] = 3; /* product 20 wants 4 */
    f.user_found = false;
    f.coupon = ORDER_COUPON_UNKNOWN;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_OUT_OF_STOCK);
    assert_int_equal(v.bad_id, 20);
    assert_int_equal(v.have, 3);
    assert_int_equal(v.want, 4);

    /* then a coupon that does not exist, before an unknown buyer */
    f = facts(2);
    f.user_found = false;
    f.coupon = ORDER_COUPON_UNKNOWN;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_COUPON_NOT_FOUND);

    /* an unknown buyer before a coupon that cannot be used */
    f.coupon = ORDER_COUPON_UNUSABLE;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_NO_USER);
    f.user_found = true;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_COUPON_NOT_USABLE);

    /* last, the balance: have and want for the message */
    f = facts(2);
    f.balance = 4999; /* 1000 + 2 x 2000 = 5000 */
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_NO_BALANCE);
    assert_int_equal(v.have, 4999);
    assert_int_equal(v.want, 5000);
    /* the discount counts: with 1 won off it fits */
    f.coupon = ORDER_COUPON_USABLE;
    f.coupon_type = COUPON_FIXED;
    f.coupon_value = 1;
    order_decide(&f, &v);
    assert_int_equal(v.outcome, ORDER_OK);
}

static void stock_verdict(void **state)
{
    order_facts_t f = facts(3); /* ids 40, 10, 30 want 1, 2, 3 */
    order_verdict_t v;
    int64_t enough[3] = {1, 2, 3}, short_two[3] = {0, 2, 2};

    memset(&v, 0, sizeof(v));
    assert_false(order_stock_verdict(f.lines, 3, enough, &v));
    assert_int_equal(v.outcome, ORDER_OK);
    assert_true(order_stock_verdict(f.lines, 3, short_two, &v));
    assert_int_equal(v.outcome, ORDER_OUT_OF_STOCK);
    assert_int_equal(v.bad_id, 30); /* 30 before 40 */
    assert_int_equal(v.have, 2);
    assert_int_equal(v.want, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_rules),
        cmocka_unit_test(lock_order_is_ascending),
        cmocka_unit_test(lock_order_of_a_full_reversed_order),
        cmocka_unit_test(line_amount),
        cmocka_unit_test(decide_totals),
        cmocka_unit_test(decide_refusals_in_order),
        cmocka_unit_test(stock_verdict),
        cmocka_unit_test(line_amount_overflow),
    };
    return cmocka_run_group_tests_name("unit/order", tests, NULL, NULL);
}
