/* Order rules: the lines a client may send (order_parse_items), the lock
 * order, the line amount. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/order.h"

#define BIG 8192

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    if (!o)
        fprintf(stderr, "test JSON does not parse: %s\n", s);
    assert_non_null(o);
    return o;
}

/* Must be refused naming exactly `want_field`. */
static void refused(const char *json, const char *want_field)
{
    json_object *o = parse(json);
    order_req_line_t lines[ORDER_MAX_LINES];
    char field[48] = "untouched", detail[160] = "";
    int n = -7;
    int rc = order_parse_items(o, lines, &n, field, sizeof(field), detail, sizeof(detail));

    if (rc != -1 || strcmp(field, want_field) != 0)
        fprintf(stderr, "%.200s -> rc %d field '%s' (want '%s'): %s\n", json, rc, field, want_field,
                detail);
    assert_int_equal(rc, -1);
    assert_string_equal(field, want_field);
    assert_true(strlen(detail) > 0); /* a sentence for people */
    json_object_put(o);
}

/* {"items":[ n lines {productId: first_id + i, quantity: 1 + i % 1000} ]} */
static char *lines_json(int n, int64_t first_id)
{
    char *s = malloc(BIG * 4);
    size_t len = 0;

    assert_non_null(s);
    len += (size_t)snprintf(s + len, BIG * 4 - len, "{\"items\":[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, BIG * 4 - len, "%s{\"productId\":%lld,\"quantity\":%d}",
                                i ? "," : "", (long long)(first_id + i), 1 + i % 1000);
    snprintf(s + len, BIG * 4 - len, "]}");
    return s;
}

/* ---- accepted ----------------------------------------------------------- */

static void one_line(void **state)
{
    json_object *o = parse("{\"userId\":1,\"items\":[{\"productId\":4,\"quantity\":2}]}");
    order_req_line_t lines[ORDER_MAX_LINES];
    char field[48] = "", detail[160] = "";
    int n = -1;

    assert_int_equal(order_parse_items(o, lines, &n, field, sizeof(field), detail, sizeof(detail)),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(lines[0].product_id, 4);
    assert_int_equal(lines[0].quantity, 2);
    json_object_put(o);
}

static void bounds_are_accepted(void **state)
{
    /* the largest id, quantity 1 and 1000, unknown members ignored */
    json_object *o = parse("{\"items\":[{\"productId\":9223372036854775807,\"quantity\":1000},"
                           "{\"productId\":1,\"quantity\":1,\"note\":\"x\"}]}");
    order_req_line_t lines[ORDER_MAX_LINES];
    char field[48] = "", detail[160] = "";
    int n = -1;

    assert_int_equal(order_parse_items(o, lines, &n, field, sizeof(field), detail, sizeof(detail)),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(lines[0].product_id, INT64_MAX);
    assert_int_equal(lines[0].quantity, 1000);
    assert_int_equal(lines[1].product_id, 1);
    assert_int_equal(lines[1].quantity, 1);
    json_object_put(o);
}

static void hundred_lines_in_client_order(void **state)
{
    char *s = lines_json(ORDER_MAX_LINES, 1000);
    json_object *o = parse(s);
    order_req_line_t lines[ORDER_MAX_LINES];
    char field[48] = "", detail[160] = "";
    int n = -1;

    assert_int_equal(order_parse_items(o, lines, &n, field, sizeof(field), detail, sizeof(detail)),
                     0);
    assert_int_equal(n, 100);
    for (int i = 0; i < n; i++) {
        assert_int_equal(lines[i].product_id, 1000 + i);
        assert_int_equal(lines[i].quantity, 1 + i);
    }
    json_object_put(o);
    free(s);
}

/* ---- refused: the items member ------------------------------------------ */

static void line_count(void **state)
{
    char *s = lines_json(ORDER_MAX_LINES + 1, 1);
    refused(s, "items");
    free(s);
    refused("{\"items\":[]}", "items");
}

static void items_missing_or_not_an_array(void **state)
{
    refused("{}", "items");
    refused("{\"userId\":1}", "items");
    refused("{\"item\":[{\"productId\":1,\"quantity\":1}]}", "items");
    refused("{\"items\":null}", "items");
    refused("{\"items\":{\"productId\":1,\"quantity\":1}}", "items");
    refused("{\"items\":\"[]\"}", "items");
    refused("{\"items\":1}", "items");
    refused("{\"items\":true}", "items");
}

static void a_line_that_is_not_an_object(void **state)
{
    refused("{\"items\":[1]}", "items[0]");
    refused("{\"items\":[null]}", "items[0]");
    refused("{\"items\":[[4,2]]}", "items[0]");
    refused("{\"items\":[{\"productId\":1,\"quantity\":1},\"x\"]}", "items[1]");
    refused("{\"items\":[{\"productId\":1,\"quantity\":1},{\"productId\":2,\"quantity\":1},"
            "null]}",
            "items[2]");
}

/* ---- refused: productId and quantity ------------------------------------ */

/* Two good lines, then `bad` as line 2. */
static void third_line_refused(const char *bad, const char *want_field)
{
    char s[512];
    snprintf(s, sizeof(s),
             "{\"items\":[{\"productId\":1,\"quantity\":1},"
             "{\"productId\":2,\"quantity\":1},%s]}",
             bad);
    refused(s, want_field);
}

static void bad_product_ids(void **state)
{
    static const char *bad[] = {
        "{\"productId\":0,\"quantity\":1}",
        "{\"productId\":-1,\"quantity\":1}",
        "{\"productId\":\"3\",\"quantity\":1}",
        "{\"productId\":1.5,\"quantity\":1}",
        "{\"productId\":3.0,\"quantity\":1}",
        "{\"productId\":1e3,\"quantity\":1}",
        "{\"productId\":null,\"quantity\":1}",
        "{\"productId\":true,\"quantity\":1}",
        "{\"productId\":[3],\"quantity\":1}",
        "{\"quantity\":1}",
        "{\"productid\":3,\"quantity\":1}",
        "{\"productId\":9223372036854775808,\"quantity\":1}",
        "{\"productId\":18446744073709551616,\"quantity\":1}",
        "{\"productId\":-9223372036854775808,\"quantity\":1}",
        /* both bad: productId is named first */
        "{\"productId\":0,\"quantity\":0}",
        "{}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        third_line_refused(bad[i], "items[2].productId");
    refused("{\"items\":[{\"productId\":0,\"quantity\":1}]}", "items[0].productId");
    refused("{\"items\":[{\"productId\":\"1\",\"quantity\":1}]}", "items[0].productId");
}

static void bad_quantities(void **state)
{
    static const char *bad[] = {
        "{\"productId\":3,\"quantity\":0}",
        "{\"productId\":3,\"quantity\":-1}",
        "{\"productId\":3,\"quantity\":1001}",
        "{\"productId\":3,\"quantity\":\"1\"}",
        "{\"productId\":3,\"quantity\":1.5}",
        "{\"productId\":3,\"quantity\":1.0}",
        "{\"productId\":3,\"quantity\":null}",
        "{\"productId\":3,\"quantity\":false}",
        "{\"productId\":3}",
        "{\"productId\":3,\"quantity\":9223372036854775808}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        third_line_refused(bad[i], "items[2].quantity");
    refused("{\"items\":[{\"productId\":1,\"quantity\":1001}]}", "items[0].quantity");
    /* one past the limit of the last line of a full order */
    char *s = lines_json(ORDER_MAX_LINES, 1);
    char *last = strrchr(s, ':');
    assert_non_null(last);
    memcpy(last, ":1001}]}", 9); /* replaces ":100}]}" */
    refused(s, "items[99].quantity");
    free(s);
}

static void a_product_twice(void **state)
{
    refused("{\"items\":[{\"productId\":5,\"quantity\":1},{\"productId\":5,\"quantity\":2}]}",
            "items[1].productId");
    third_line_refused("{\"productId\":1,\"quantity\":3}", "items[2].productId");
    third_line_refused("{\"productId\":2,\"quantity\":1}", "items[2].productId");
    /* 99 distinct lines, then product 7 again as the 100th: the later one is named */
    char *s = lines_json(ORDER_MAX_LINES - 1, 1);
    size_t len = strlen(s);
    snprintf(s + len - 2, BIG * 4 - len + 2, ",{\"productId\":7,\"quantity\":1}]}");
    refused(s, "items[99].productId");
    free(s);
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
        cmocka_unit_test(one_line),
        cmocka_unit_test(bounds_are_accepted),
        cmocka_unit_test(hundred_lines_in_client_order),
        cmocka_unit_test(line_count),
        cmocka_unit_test(items_missing_or_not_an_array),
        cmocka_unit_test(a_line_that_is_not_an_object),
        cmocka_unit_test(bad_product_ids),
        cmocka_unit_test(bad_quantities),
        cmocka_unit_test(a_product_twice),
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
