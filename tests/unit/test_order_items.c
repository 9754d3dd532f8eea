/* api/orders.c's reading of an order's "items" (orders_read_items): the
 * lines a client may send, as core's rules (core/order.h) allow them, and the
 * field a 400 names when they do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/orders.h"
#include "common/rc.h"

#define BIG 8192

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    if (!o)
        fprintf(stderr, "test JSON does not parse: %s\n", s);
    assert_non_null(o);
    return o;
}

/* Read json's items as POST /orders does. */
static int read_items(const char *json, req_t *r, order_req_line_t *lines, int *n)
{
    memset(r, 0, sizeof(*r));
    r->json = parse(json); /* req_release puts it */
    return orders_read_items(r, lines, n);
}

/* Must be refused with a 400 naming exactly `want_field`. */
static void refused(const char *json, const char *want_field)
{
    req_t r;
    order_req_line_t lines[ORDER_MAX_LINES];
    int n = -7;
    int rc = read_items(json, &r, lines, &n);
    json_object *doc = r.resp ? json_tokener_parse(r.resp) : NULL, *field = NULL, *detail = NULL;

    json_object_object_get_ex(doc, "field", &field);
    json_object_object_get_ex(doc, "detail", &detail);
    if (rc != C_REJECT || !field || strcmp(json_object_get_string(field), want_field) != 0)
        fprintf(stderr, "%.200s -> rc %d: %s (want field '%s')\n", json, rc,
                r.resp ? r.resp : "no problem", want_field);
    assert_int_equal(rc, C_REJECT);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.problem_code, "INVALID_REQUEST");
    assert_non_null(field);
    assert_string_equal(json_object_get_string(field), want_field);
    assert_non_null(detail);
    assert_true(strlen(json_object_get_string(detail)) > 0); /* a sentence for people */
    json_object_put(doc);
    req_release(&r);
}

/* Must be read whole: *n lines into lines, no response set. */
static void accepted(const char *json, order_req_line_t *lines, int *n)
{
    req_t r;

    *n = -1;
    assert_int_equal(read_items(json, &r, lines, n), C_OK);
    assert_int_equal(r.status, 0);
    req_release(&r);
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
    order_req_line_t lines[ORDER_MAX_LINES];
    int n;

    accepted("{\"userId\":1,\"items\":[{\"productId\":4,\"quantity\":2}]}", lines, &n);
    assert_int_equal(n, 1);
    assert_int_equal(lines[0].product_id, 4);
    assert_int_equal(lines[0].quantity, 2);
}

static void bounds_are_accepted(void **state)
{
    order_req_line_t lines[ORDER_MAX_LINES];
    int n;

    /* the largest id, quantity 1 and 1000, unknown members ignored */
    accepted("{\"items\":[{\"productId\":9223372036854775807,\"quantity\":1000},"
             "{\"productId\":1,\"quantity\":1,\"note\":\"x\"}]}",
             lines, &n);
    assert_int_equal(n, 2);
    assert_int_equal(lines[0].product_id, INT64_MAX);
    assert_int_equal(lines[0].quantity, 1000);
    assert_int_equal(lines[1].product_id, 1);
    assert_int_equal(lines[1].quantity, 1);
}

static void hundred_lines_in_client_order(void **state)
{
    char *s = lines_json(ORDER_MAX_LINES, 1000);
    order_req_line_t lines[ORDER_MAX_LINES];
    int n;

    accepted(s, lines, &n);
    assert_int_equal(n, 100);
    for (int i = 0; i < n; i++) {
        assert_int_equal(lines[i].product_id, 1000 + i);
        assert_int_equal(lines[i].quantity, 1 + i);
    }
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

/* A third line that is wrong, and the member its refusal names. */
static const struct {
    const char *line, *member;
} bad_lines[] = {
    {"{\"productId\":0,\"quantity\":1}", "productId"},
    {"{\"productId\":-1,\"quantity\":1}", "productId"},
    {"{\"productId\":\"3\",\"quantity\":1}", "productId"},
    {"{\"productId\":1.5,\"quantity\":1}", "productId"},
    {"{\"productId\":3.0,\"quantity\":1}", "productId"},
    {"{\"productId\":1e3,\"quantity\":1}", "productId"},
    {"{\"productId\":null,\"quantity\":1}", "productId"},
    {"{\"productId\":true,\"quantity\":1}", "productId"},
    {"{\"productId\":[3],\"quantity\":1}", "productId"},
    {"{\"quantity\":1}", "productId"},
    {"{\"productid\":3,\"quantity\":1}", "productId"},
    {"{\"productId\":9223372036854775808,\"quantity\":1}", "productId"},
    {"{\"productId\":18446744073709551616,\"quantity\":1}", "productId"},
    {"{\"productId\":-9223372036854775808,\"quantity\":1}", "productId"},
    /* both bad: productId is named first */
    {"{\"productId\":0,\"quantity\":0}", "productId"},
    {"{}", "productId"},
    {"{\"productId\":3,\"quantity\":0}", "quantity"},
    {"{\"productId\":3,\"quantity\":-1}", "quantity"},
    {"{\"productId\":3,\"quantity\":1001}", "quantity"},
    {"{\"productId\":3,\"quantity\":\"1\"}", "quantity"},
    {"{\"productId\":3,\"quantity\":1.5}", "quantity"},
    {"{\"productId\":3,\"quantity\":1.0}", "quantity"},
    {"{\"productId\":3,\"quantity\":null}", "quantity"},
    {"{\"productId\":3,\"quantity\":false}", "quantity"},
    {"{\"productId\":3}", "quantity"},
    {"{\"productId\":3,\"quantity\":9223372036854775808}", "quantity"},
};

static void bad_product_ids_and_quantities(void **state)
{
    char field[48];

    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        snprintf(field, sizeof(field), "items[2].%s", bad_lines[i].member);
        third_line_refused(bad_lines[i].line, field);
    }
    refused("{\"items\":[{\"productId\":0,\"quantity\":1}]}", "items[0].productId");
    refused("{\"items\":[{\"productId\":\"1\",\"quantity\":1}]}", "items[0].productId");
    refused("{\"items\":[{\"productId\":1,\"quantity\":1001}]}", "items[0].quantity");
}

static void a_bad_quantity_on_the_last_line(void **state)
{
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_line),
        cmocka_unit_test(bounds_are_accepted),
        cmocka_unit_test(hundred_lines_in_client_order),
        cmocka_unit_test(line_count),
        cmocka_unit_test(items_missing_or_not_an_array),
        cmocka_unit_test(a_line_that_is_not_an_object),
        cmocka_unit_test(bad_product_ids_and_quantities),
        cmocka_unit_test(a_bad_quantity_on_the_last_line),
        cmocka_unit_test(a_product_twice),
    };
    return cmocka_run_group_tests_name("unit/order_items", tests, NULL, NULL);
}
