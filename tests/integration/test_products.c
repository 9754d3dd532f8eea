/* Products: one product, the keyset-paged list, against the real stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

static char path[256];

static const char *product_path(int64_t id)
{
    snprintf(path, sizeof(path), "/admin/products/%lld", (long long)id);
    return path;
}

/* The members of a product object, exactly id, name, price, stock. */
static void assert_product(json_object *o, int64_t id, const char *name, int64_t price,
                           int64_t stock)
{
    json_object *v;

    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_object));
    assert_int_equal(json_object_object_length(o), 4);
    assert_true(json_object_object_get_ex(o, "id", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), id);
    assert_true(json_object_object_get_ex(o, "name", &v));
    assert_true(json_object_is_type(v, json_type_string));
    if (name)
        assert_string_equal(json_object_get_string(v), name);
    assert_true(json_object_object_get_ex(o, "price", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), price);
    assert_true(json_object_object_get_ex(o, "stock", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), stock);
}

static int64_t item_id(json_object *items, size_t i)
{
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(items, i), "id", &v));
    return json_object_get_int64(v);
}

/* GET a list page; returns the items array's length, fills ids and *next (0 for null). */
static size_t list_page(const char *query, int64_t *ids, size_t cap, int64_t *next)
{
    tc_resp_t *r = tc_getf("/products%s", query);
    json_object *items;
    size_t n;

    tc_expect_statusf(r, 200, "/products%s", query);
    assert_int_equal(json_object_object_length(r->json), 2); /* items, next */
    assert_true(json_object_object_get_ex(r->json, "items", &items));
    assert_true(json_object_is_type(items, json_type_array));
    n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        assert_int_equal(json_object_object_length(it), 4);
        if (i < cap)
            ids[i] = item_id(items, i);
        if (i > 0)
            assert_true(item_id(items, i) > item_id(items, i - 1)); /* ascending */
    }
    *next = tc_is_null(r, "next") ? 0 : tc_int(r, "next");
    tc_free(r);
    return n;
}

static void get_one_has_exact_fields(void **state)
{
    tc_resp_t *r =
        tc_admin("POST", "/admin/products", "{\"name\":\"Americano\",\"price\":1500,\"stock\":30}");
    assert_int_equal(r->status, 201);
    int64_t id = tc_int(r, "id");
    tc_free(r);

    r = tc_getf("/products/%lld", (long long)id);
    assert_int_equal(r->status, 200);
    char ct[128];
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    assert_product(r->json, id, "Americano", 1500, 30);
    tc_free(r);
}

static void get_one_keeps_utf8_names(void **state)
{
    const char *name = "제주 한라봉 🍊 \"special\" \\ edition";
    tc_resp_t *r = tc_admin("POST", "/admin/products",
                            "{\"name\":\"제주 한라봉 🍊 \\\"special\\\" \\\\ edition\","
                            "\"price\":0,\"stock\":0}");
    assert_int_equal(r->status, 201);
    int64_t id = tc_int(r, "id");
    tc_free(r);

    r = tc_getf("/products/%lld", (long long)id);
    assert_int_equal(r->status, 200);
    assert_product(r->json, id, name, 0, 0);
    tc_free(r);
}

static void unknown_product_is_404(void **state)
{
    int64_t max_id = tc_sql_int("SELECT COALESCE(MAX(id), 0) FROM product");
    tc_resp_t *r = tc_getf("/products/%lld", (long long)(max_id + 1000));
    assert_problem(r, 404, "PRODUCT_NOT_FOUND");
    tc_free(r);
    assert_refused(tc_get("/products/9223372036854775807"), 404, "PRODUCT_NOT_FOUND");
}

static void bad_product_ids_are_400(void **state)
{
    static const char *paths[] = {
        "/products/0",   "/products/-1",
        "/products/abc", "/products/9223372036854775808",
        "/products/01",  "/products/1.5",
        "/products/1e3", "/products/%2B1",
        "/products/0x1", "/products/99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        assert_invalid(tc_get(paths[i]), "productId");
    }
}

/* GET /products<query> is exactly the n products of want, and its next is
 * `next` (0: null); returns that next. */
__attribute__((format(printf, 4, 5))) static int64_t assert_page(const int64_t *want, size_t n,
                                                                 int64_t next, const char *fmt, ...)
{
    char q[128];
    int64_t ids[8], got;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    assert_int_equal(list_page(q, ids, 8, &got), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ids[i], want[i]);
    assert_int_equal(got, next);
    return got;
}

static void list_walks_ascending_with_the_cursor(void **state)
{
    int64_t made[5], next;

    for (int i = 0; i < 5; i++)
        made[i] = tc_new_product(100 * (i + 1), i);
    for (int i = 1; i < 5; i++)
        assert_true(made[i] > made[i - 1]);

    /* the tests run one after another: nothing is created after made[4] */
    next = assert_page(made, 2, made[1], "?limit=2&after=%lld", (long long)(made[0] - 1));
    next = assert_page(made + 2, 2, made[3], "?after=%lld&limit=2", (long long)next);
    /* null on the last page */
    assert_page(made + 4, 1, 0, "?limit=2&after=%lld", (long long)next);

    /* a last page that is exactly full also ends with null, not an empty page */
    assert_page(made + 3, 2, 0, "?limit=2&after=%lld", (long long)made[2]);

    /* past the end: empty, null */
    assert_page(NULL, 0, 0, "?after=%lld", (long long)made[4]);
    assert_page(NULL, 0, 0, "%s", "?after=9223372036854775807");

    /* the cursor may be any positive id, not only an existing one */
    assert_page(made + 1, 1, made[1], "?limit=1&after=%lld", (long long)made[0]);
}

static void list_items_are_full_products(void **state)
{
    int64_t id = tc_new_product(4200, 17);
    char q[64];
    snprintf(q, sizeof(q), "?limit=1&after=%lld", (long long)(id - 1));
    tc_resp_t *r = tc_getf("/products%s", q);
    assert_int_equal(r->status, 200);
    json_object *items = json_object_object_get(r->json, "items");
    assert_int_equal(json_object_array_length(items), 1);
    assert_product(json_object_array_get_idx(items, 0), id, "test product", 4200, 17);
    assert_true(tc_is_null(r, "next"));
    tc_free(r);
}

static void list_default_limit_is_20_and_whole_walk_sees_everything(void **state)
{
    int64_t first = 0, ids[100], next;

    for (int i = 0; i < 21; i++) {
        int64_t id = tc_new_product(1, 1);
        if (i == 0)
            first = id;
    }
    char q[64];
    snprintf(q, sizeof(q), "?after=%lld", (long long)(first - 1));
    size_t n = list_page(q, ids, 100, &next);
    assert_int_equal(n, 20);
    assert_int_equal(ids[0], first);
    assert_int_equal(next, ids[19]);

    /* no parameters at all: the first 20 products */
    n = list_page("", ids, 100, &next);
    assert_int_equal(n, 20);
    assert_int_equal(ids[0], tc_sql_int("SELECT MIN(id) FROM product"));
    assert_int_equal(next, ids[19]);

    /* walking the whole catalogue with the biggest page sees every product once */
    int64_t total = tc_sql_int("SELECT COUNT(*) FROM product"), seen = 0, after = 0, last = 0;
    do {
        if (after)
            snprintf(q, sizeof(q), "?limit=100&after=%lld", (long long)after);
        else
            snprintf(q, sizeof(q), "?limit=100");
        n = list_page(q, ids, 100, &next);
        assert_true(n <= 100);
        if (n)
            assert_true(ids[0] > last);
        if (n)
            last = ids[n - 1];
        seen += (int64_t)n;
        if (next)
            assert_int_equal(next, ids[n - 1]);
        after = next;
    } while (after);
    assert_int_equal(seen, total);
}

static void limit_bounds(void **state)
{
    int64_t ids[100], next;

    tc_new_product(1, 1);
    tc_new_product(1, 1);
    assert_int_equal(list_page("?limit=1", ids, 100, &next), 1);
    assert_int_equal(next, ids[0]);
    assert_true(list_page("?limit=100", ids, 100, &next) >= 2);

    static const char *bad[] = {"0",   "101", "abc", "",     "-1",
                                "1.5", "+5",  "01",  "%205", "9223372036854775808"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_invalid(tc_getf("/products?limit=%s", bad[i]), "limit");
    }
}

static void after_must_be_a_positive_id(void **state)
{
    static const char *bad[] = {"0", "-1", "x", "", "1.5", "01", "9223372036854775808", "-0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_invalid(tc_getf("/products?after=%s", bad[i]), "after");
    }
    /* with a good limit as well */
    assert_invalid(tc_get("/products?limit=5&after=0"), "after");
}

/* The product list is ascending: its cursor is `after`. `before`, the cursor
 * of the newest-first lists, is refused rather than ignored (a client would
 * page from the start without knowing), with `after` or without; and the
 * newest-first lists refuse `after` alike. */
static void the_other_lists_cursor_is_400(void **state)
{
    static const char *q[] = {"?before=5", "?before=5&limit=2", "?after=1&before=5", "?before="};
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        tc_resp_t *r = tc_getf("/products%s", q[i]);
        assert_invalid(r, "before");
    }
    tc_resp_t *r = tc_get("/products?before=5");
    assert_string_equal(tc_str(r, "detail"), "'before' is not a cursor of this list, which is in"
                                             " ascending order: page it with 'after'");
    tc_free(r);
    int64_t uid = tc_new_user();
    assert_invalid(tc_getf("/users/%lld/orders?after=1", (long long)uid), "after");
    assert_invalid(tc_getf("/users/%lld/points/history?after=1", (long long)uid), "after");
    /* their own cursors still page */
    r = tc_get("/products?after=1&limit=1");
    assert_int_equal(r->status, 200);
    tc_free(r);
    r = tc_getf("/users/%lld/orders?before=5", (long long)uid);
    assert_int_equal(r->status, 200);
    tc_free(r);
}

static void stock_is_exact_after_restock(void **state)
{
    int64_t id = tc_new_product(2500, 5);
    tc_resp_t *r = tc_admin("PATCH", product_path(id), "{\"restock\":7}");
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "stock"), 12);
    tc_free(r);

    r = tc_getf("/products/%lld", (long long)id);
    assert_int_equal(r->status, 200);
    assert_product(r->json, id, "test product", 2500, 12);
    tc_free(r);
    assert_int_equal(tc_sql_int("SELECT stock FROM inventory WHERE product_id=%lld", (long long)id),
                     12);

    /* the list shows the same number */
    char q[64];
    snprintf(q, sizeof(q), "?limit=1&after=%lld", (long long)(id - 1));
    r = tc_getf("/products%s", q);
    json_object *items = json_object_object_get(r->json, "items");
    assert_product(json_object_array_get_idx(items, 0), id, NULL, 2500, 12);
    tc_free(r);
}

static void stock_is_read_at_request_time(void **state)
{
    int64_t id = tc_new_product(100, 50);
    tc_resp_t *r = tc_getf("/products/%lld", (long long)id);
    assert_int_equal(tc_int(r, "stock"), 50);
    tc_free(r);

    /* a change made behind the service's back shows at once: no cache */
    tc_sql("UPDATE inventory SET stock = 3 WHERE product_id = %lld", (long long)id);
    r = tc_getf("/products/%lld", (long long)id);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "stock"), 3);
    tc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_one_has_exact_fields),
        cmocka_unit_test(get_one_keeps_utf8_names),
        cmocka_unit_test(unknown_product_is_404),
        cmocka_unit_test(bad_product_ids_are_400),
        cmocka_unit_test(list_walks_ascending_with_the_cursor),
        cmocka_unit_test(list_items_are_full_products),
        cmocka_unit_test(list_default_limit_is_20_and_whole_walk_sees_everything),
        cmocka_unit_test(limit_bounds),
        cmocka_unit_test(after_must_be_a_positive_id),
        cmocka_unit_test(the_other_lists_cursor_is_400),
        cmocka_unit_test(stock_is_exact_after_restock),
        cmocka_unit_test(stock_is_read_at_request_time),
    };
    return cmocka_run_group_tests_name("integration/products", tests, NULL, NULL);
}
