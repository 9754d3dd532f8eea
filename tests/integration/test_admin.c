/* Administration: the bearer token, creating users and products, patching
 * products, against the real stack. Every refused request changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

static char path[256];

static const char *patch_path(int64_t id)
{
    snprintf(path, sizeof(path), "/admin/products/%lld", (long long)id);
    return path;
}

/* Row counts of everything the admin routes write. */
struct counts {
    int64_t users, point, product, inventory;
};

static struct counts count_rows(void)
{
    struct counts c;
    c.users = tc_sql_int("SELECT COUNT(*) FROM users");
    c.point = tc_sql_int("SELECT COUNT(*) FROM point");
    c.product = tc_sql_int("SELECT COUNT(*) FROM product");
    c.inventory = tc_sql_int("SELECT COUNT(*) FROM inventory");
    return c;
}

/* A product's row as the database has it. */
static void assert_product_row(int64_t id, const char *name, int64_t price, int64_t stock)
{
    assert_int_equal(tc_sql_int("SELECT price FROM product WHERE id=%lld", (long long)id), price);
    assert_int_equal(tc_sql_int("SELECT stock FROM inventory WHERE product_id=%lld", (long long)id),
                     stock);
    if (name)
        assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM product WHERE id=%lld AND name='%s'",
                                    (long long)id, name),
                         1);
}

/* The product document, exactly id, name, price, stock. */
static void assert_product_doc(const tc_resp_t *r, int64_t id, const char *name, int64_t price,
                               int64_t stock)
{
    assert_int_equal(json_object_object_length(r->json), 4);
    assert_int_equal(tc_int(r, "id"), id);
    assert_string_equal(tc_str(r, "name"), name);
    assert_int_equal(tc_int(r, "price"), price);
    assert_int_equal(tc_int(r, "stock"), stock);
}

/* {"name":" then `count` times ch, then tail, into buf: a body with a name of
 * exactly that many characters. */
static const char *name_body(char *buf, size_t cap, const char *ch, int count, const char *tail)
{
    size_t n = (size_t)snprintf(buf, cap, "{\"name\":\"");
    for (int i = 0; i < count; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s", ch);
    snprintf(buf + n, cap - n, "%s", tail);
    assert_true(n + strlen(tail) < cap);
    return buf;
}

static int64_t make_product(const char *name, int64_t price, int64_t stock)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":%lld,\"stock\":%lld}", name,
             (long long)price, (long long)stock);
    tc_resp_t *r = tc_admin("POST", "/admin/products", body);
    assert_int_equal(r->status, 201);
    int64_t id = tc_int(r, "id");
    tc_free(r);
    return id;
}

/* ---- the token ------------------------------------------------------------ */

static void without_the_right_token_is_401_and_writes_nothing(void **state)
{
    char basic[512], lower_wrong[128];
    const char *token = getenv("COMMERCE_TEST_ADMIN_TOKEN");
    if (!token || !*token)
        token = "dev-admin-token";
    /* the right token, but in the Basic scheme */
    snprintf(basic, sizeof(basic), "Authorization: Basic %s", token);
    snprintf(lower_wrong, sizeof(lower_wrong), "Authorization: Bearer %.*sX",
             (int)strlen(token) - 1, token);
    const char *none[] = {"Content-Type: application/json", NULL};
    const char *wrong[] = {"Content-Type: application/json", "Authorization: Bearer wrong-token",
                           NULL};
    const char *basic_h[] = {"Content-Type: application/json", basic, NULL};
    const char *last_char[] = {"Content-Type: application/json", lower_wrong, NULL};
    const char *empty[] = {"Content-Type: application/json", "Authorization: Bearer ", NULL};
    const char *const *cases[] = {none, wrong, basic_h, last_char, empty};

    int64_t pid = make_product("kept", 700, 7);
    char ppath[128];
    snprintf(ppath, sizeof(ppath), "/admin/products/%lld", (long long)pid);
    struct {
        const char *method, *path, *body;
    } routes[] = {
        {"POST", "/admin/users", "{\"name\":\"intruder\"}"},
        {"POST", "/admin/products", "{\"name\":\"intruder\",\"price\":1,\"stock\":1}"},
        {"PATCH", ppath, "{\"name\":\"intruder\",\"price\":1,\"restock\":5}"},
    };

    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            tc_resp_t *r = tc_req(routes[i].method, routes[i].path, routes[i].body, cases[c]);
            tc_expect_statusf(r, 401, "header case %zu", c);
            assert_refused(r, 401, "UNAUTHORIZED");
        }
    }
    /* 401 comes before the body is looked at */
    tc_resp_t *r = tc_req("POST", "/admin/products", "not json", none);
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);
    const char *text[] = {"Content-Type: text/plain", NULL};
    assert_refused(tc_req("POST", "/admin/users", "x", text), 401, "UNAUTHORIZED");
    /* and before the path id is looked at: "401 without it" */
    assert_refused(tc_req("PATCH", "/admin/products/0", "{\"price\":1}", none), 401,
                   "UNAUTHORIZED");
    assert_refused(tc_req("PATCH", "/admin/products/abc", "{\"price\":1}", wrong), 401,
                   "UNAUTHORIZED");

    tc_snapshot_equal(&before);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM users WHERE name='intruder'"), 0);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM product WHERE name='intruder'"), 0);
    assert_product_row(pid, "kept", 700, 7);
}

/* ---- users ---------------------------------------------------------------- */

static void create_user(void **state)
{
    struct counts before = count_rows();
    tc_resp_t *r = tc_admin("POST", "/admin/users", "{\"name\":\"kim\"}");
    assert_int_equal(r->status, 201);
    char ct[128];
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    assert_int_equal(json_object_object_length(r->json), 2);
    int64_t uid = tc_int(r, "userId");
    assert_true(uid > 0);
    assert_string_equal(tc_str(r, "name"), "kim");
    tc_free(r);

    struct counts after = count_rows();
    assert_int_equal(after.users, before.users + 1);
    assert_int_equal(after.point, before.point + 1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM users WHERE id=%lld AND name='kim'", (long long)uid), 1);
    /* a new user has a point row with balance 0, and no history */
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point WHERE user_id=%lld", (long long)uid),
                     1);
    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)uid), 0);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid), 0);
    r = tc_getf("/users/%lld/points", (long long)uid);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "balance"), 0);
    tc_free(r);

    /* two users may share a name; each gets its own id */
    r = tc_admin("POST", "/admin/users", "{\"name\":\"kim\"}");
    assert_int_equal(r->status, 201);
    assert_true(tc_int(r, "userId") > uid);
    tc_free(r);
}

static void create_user_keeps_the_name_as_sent(void **state)
{
    tc_resp_t *r = tc_admin("POST", "/admin/users", "{\"name\":\" 김철수 \",\"extra\":1}");
    assert_int_equal(r->status, 201);
    assert_string_equal(tc_str(r, "name"), " 김철수 ");
    int64_t uid = tc_int(r, "userId");
    tc_free(r);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM users WHERE id=%lld AND name=' 김철수 '", (long long)uid),
        1);

    /* 100 characters (Korean, 300 bytes) is the longest name */
    char body[1024];
    assert_answers(
        tc_admin("POST", "/admin/users", name_body(body, sizeof(body), "김", 100, "\"}")), 201);
}

static void bad_user_bodies_are_400_and_write_nothing(void **state)
{
    char long_name[256];
    name_body(long_name, sizeof(long_name), "a", 101, "\"}");
    const char *bad[] = {
        "{}",
        "{\"name\":\"\"}",
        "{\"name\":\"   \"}",
        long_name,
        "{\"name\":42}",
        "{\"name\":null}",
        "{\"name\":true}",
        "{\"name\":[\"kim\"]}",
        "{\"name\":\"a\\u0000b\"}",
        "{\"name\":\"a\\nb\"}",
        "{\"nam\":\"kim\"}",
    };
    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_invalid(tc_admin("POST", "/admin/users", bad[i]), "name");
    }
    /* not JSON at all: 400 without a field */
    static const char *malformed[] = {"", "{", "[]", "{\"name\":\"kim\"} x", "null"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        tc_resp_t *r = tc_admin("POST", "/admin/users", malformed[i]);
        assert_problem(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
    tc_snapshot_equal(&before);
}

/* ---- creating products ---------------------------------------------------- */

static void create_product(void **state)
{
    struct counts before = count_rows();
    tc_resp_t *r =
        tc_admin("POST", "/admin/products", "{\"name\":\"Latte\",\"price\":4500,\"stock\":30}");
    assert_int_equal(r->status, 201);
    int64_t id = tc_int(r, "id");
    assert_true(id > 0);
    assert_product_doc(r, id, "Latte", 4500, 30);
    tc_free(r);

    struct counts after = count_rows();
    assert_int_equal(after.product, before.product + 1);
    assert_int_equal(after.inventory, before.inventory + 1);
    assert_product_row(id, "Latte", 4500, 30);

    /* the edges of price and stock */
    r = tc_admin("POST", "/admin/products", "{\"name\":\"free\",\"price\":0,\"stock\":0}");
    assert_int_equal(r->status, 201);
    assert_product_doc(r, tc_int(r, "id"), "free", 0, 0);
    tc_free(r);
    r = tc_admin("POST", "/admin/products",
                 "{\"name\":\"max\",\"price\":1000000000,\"stock\":1000000000}");
    assert_int_equal(r->status, 201);
    id = tc_int(r, "id");
    assert_product_doc(r, id, "max", 1000000000, 1000000000);
    tc_free(r);
    assert_product_row(id, "max", 1000000000, 1000000000);
}

static void product_name_of_200_characters(void **state)
{
    char body[2048];
    name_body(body, sizeof(body), "상", 200, "\",\"price\":1,\"stock\":1}");
    tc_resp_t *r = tc_admin("POST", "/admin/products", body);
    assert_int_equal(r->status, 201);
    assert_int_equal(strlen(tc_str(r, "name")), 600);
    int64_t id = tc_int(r, "id");
    tc_free(r);
    assert_int_equal(
        tc_sql_int("SELECT CHAR_LENGTH(name) FROM product WHERE id=%lld", (long long)id), 200);
}

static void bad_product_bodies_are_400_and_write_nothing(void **state)
{
    static char name201[512];
    name_body(name201, sizeof(name201), "n", 201, "\",\"price\":1,\"stock\":1}");
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"price\":1,\"stock\":1}", "name"},
        {"{\"name\":\"\",\"price\":1,\"stock\":1}", "name"},
        {"{\"name\":\"  \",\"price\":1,\"stock\":1}", "name"},
        {name201, "name"},
        {"{\"name\":7,\"price\":1,\"stock\":1}", "name"},
        {"{\"name\":null,\"price\":1,\"stock\":1}", "name"},
        {"{\"name\":\"p\",\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":-1,\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":1000000001,\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":\"10\",\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":1.5,\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":10.0,\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":null,\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":9223372036854775808,\"stock\":1}", "price"},
        {"{\"name\":\"p\",\"price\":1}", "stock"},
        {"{\"name\":\"p\",\"price\":1,\"stock\":-1}", "stock"},
        {"{\"name\":\"p\",\"price\":1,\"stock\":1000000001}", "stock"},
        {"{\"name\":\"p\",\"price\":1,\"stock\":\"5\"}", "stock"},
        {"{\"name\":\"p\",\"price\":1,\"stock\":true}", "stock"},
    };
    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_invalid(tc_admin("POST", "/admin/products", bad[i].body), bad[i].field);
    }
    tc_snapshot_equal(&before);
}

/* ---- patching products ---------------------------------------------------- */

/* PATCH with body answers 200 and the product as given; the database agrees. */
static void assert_patched(int64_t id, const char *body, const char *name, int64_t price,
                           int64_t stock)
{
    tc_resp_t *r = tc_admin("PATCH", patch_path(id), body);
    tc_expect_status(r, 200);
    assert_product_doc(r, id, name, price, stock);
    tc_free(r);
    assert_product_row(id, name, price, stock);
}

static void patch_returns_the_product(void **state)
{
    int64_t id = make_product("before", 1000, 10);
    assert_patched(id, "{\"name\":\"after\",\"price\":1200,\"restock\":5}", "after", 1200, 15);
}

static void patch_empty_body_is_400(void **state)
{
    int64_t id = make_product("same", 1000, 10);
    static const char *bodies[] = {"{}", "{\"other\":1}", "{\"price\":null}", "{\"restock\":null}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        tc_resp_t *r = tc_admin("PATCH", patch_path(id), bodies[i]);
        assert_problem(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
    assert_product_row(id, "same", 1000, 10);
}

static void patch_unknown_product_is_404(void **state)
{
    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    int64_t missing = tc_sql_int("SELECT COALESCE(MAX(id), 0) + 1000 FROM product");
    tc_resp_t *r = tc_admin("PATCH", patch_path(missing), "{\"price\":5}");
    assert_problem(r, 404, "PRODUCT_NOT_FOUND");
    tc_free(r);
    assert_refused(tc_admin("PATCH", patch_path(missing), "{\"restock\":5}"), 404,
                   "PRODUCT_NOT_FOUND");
    assert_refused(tc_admin("PATCH", "/admin/products/9223372036854775807", "{\"name\":\"ghost\"}"),
                   404, "PRODUCT_NOT_FOUND");
    tc_snapshot_equal(&before);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM product WHERE id=%lld", (long long)missing),
                     0);
}

static void patch_bad_ids_are_400(void **state)
{
    static const char *ids[] = {"0", "-1", "abc", "9223372036854775808", "01"};
    char p[128];
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        snprintf(p, sizeof(p), "/admin/products/%s", ids[i]);
        assert_invalid(tc_admin("PATCH", p, "{\"price\":5}"), "productId");
    }
}

static void patch_bad_fields_are_400_and_change_nothing(void **state)
{
    int64_t id = make_product("orig", 3000, 20);
    static char name201[300];
    name_body(name201, sizeof(name201), "n", 201, "\",\"price\":1}");
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"restock\":0}", "restock"},
        {"{\"restock\":-1}", "restock"},
        {"{\"restock\":\"5\"}", "restock"},
        {"{\"restock\":1.5}", "restock"},
        {"{\"restock\":1000000001}", "restock"},
        {"{\"price\":-1}", "price"},
        {"{\"price\":1000000001}", "price"},
        {"{\"price\":\"10\"}", "price"},
        {"{\"price\":1.5}", "price"},
        {"{\"name\":\"\"}", "name"},
        {"{\"name\":\"   \"}", "name"},
        {"{\"name\":null}", "name"},
        {"{\"name\":5}", "name"},
        {"{\"price\":null}", "price"},
        {"{\"restock\":null}", "restock"},
        {"{\"name\":\"new\",\"price\":null}", "price"},
        {name201, "name"},
        /* one bad field refuses the whole change */
        {"{\"name\":\"new\",\"price\":-5}", "price"},
        {"{\"name\":\"new\",\"price\":5,\"restock\":0}", "restock"},
        {"{\"name\":\"\",\"price\":5,\"restock\":3}", "name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_invalid(tc_admin("PATCH", patch_path(id), bad[i].body), bad[i].field);
    }
    assert_product_row(id, "orig", 3000, 20);
}

static void restock_adds_exactly(void **state)
{
    int64_t id = make_product("stocked", 500, 10);
    assert_patched(id, "{\"restock\":5}", "stocked", 500, 15);
    assert_patched(id, "{\"restock\":1}", "stocked", 500, 16);
}

static void patch_name_only_keeps_price_and_stock(void **state)
{
    int64_t id = make_product("old name", 2500, 40);
    assert_patched(id, "{\"name\":\"new name\"}", "new name", 2500, 40);

    /* and price only keeps name and stock */
    assert_patched(id, "{\"price\":2600}", "new name", 2600, 40);
}

static void patch_price_zero_is_allowed(void **state)
{
    int64_t id = make_product("giveaway", 900, 3);
    assert_patched(id, "{\"price\":0}", "giveaway", 0, 3);
    tc_resp_t *r = tc_admin("PATCH", patch_path(id), "{\"price\":1000000000}");
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "price"), 1000000000);
    tc_free(r);
}

static void restock_past_the_stock_ceiling_is_400(void **state)
{
    int64_t id = make_product("nearly full", 100, 999999990);
    tc_resp_t *r = tc_admin("PATCH", patch_path(id), "{\"restock\":11}");
    assert_invalid(r, "restock");
    assert_product_row(id, "nearly full", 100, 999999990);

    /* with other changes in the same request, none of them is applied */
    assert_invalid(tc_admin("PATCH", patch_path(id),
                            "{\"name\":\"changed\",\"price\":1,\"restock\":1000000000}"),
                   "restock");
    assert_product_row(id, "nearly full", 100, 999999990);

    /* exactly up to the ceiling is fine */
    r = tc_admin("PATCH", patch_path(id), "{\"restock\":10}");
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "stock"), 1000000000);
    tc_free(r);
    assert_invalid(tc_admin("PATCH", patch_path(id), "{\"restock\":1}"), "restock");
    assert_product_row(id, "nearly full", 100, 1000000000);
}

static void admin_bodies_need_json_content_type(void **state)
{
    char auth[512];
    const char *token = getenv("COMMERCE_TEST_ADMIN_TOKEN");
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             token && *token ? token : "dev-admin-token");
    const char *text[] = {auth, "Content-Type: text/plain", NULL};
    const char *none[] = {auth, NULL};
    tc_snapshot_t before = tc_snapshot(0, 0, NULL);
    tc_resp_t *r = tc_req("POST", "/admin/users", "{\"name\":\"kim\"}", text);
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE");
    tc_free(r);
    assert_refused(
        tc_req("POST", "/admin/products", "{\"name\":\"p\",\"price\":1,\"stock\":1}", none), 415,
        "UNSUPPORTED_MEDIA_TYPE");
    tc_snapshot_equal(&before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_the_right_token_is_401_and_writes_nothing),
        cmocka_unit_test(create_user),
        cmocka_unit_test(create_user_keeps_the_name_as_sent),
        cmocka_unit_test(bad_user_bodies_are_400_and_write_nothing),
        cmocka_unit_test(create_product),
        cmocka_unit_test(product_name_of_200_characters),
        cmocka_unit_test(bad_product_bodies_are_400_and_write_nothing),
        cmocka_unit_test(patch_returns_the_product),
        cmocka_unit_test(patch_empty_body_is_400),
        cmocka_unit_test(patch_unknown_product_is_404),
        cmocka_unit_test(patch_bad_ids_are_400),
        cmocka_unit_test(patch_bad_fields_are_400_and_change_nothing),
        cmocka_unit_test(restock_adds_exactly),
        cmocka_unit_test(patch_name_only_keeps_price_and_stock),
        cmocka_unit_test(patch_price_zero_is_allowed),
        cmocka_unit_test(restock_past_the_stock_ceiling_is_400),
        cmocka_unit_test(admin_bodies_need_json_content_type),
    };
    return cmocka_run_group_tests_name("integration/admin", tests, NULL, NULL);
}
