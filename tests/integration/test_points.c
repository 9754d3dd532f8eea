/* Points: balance, charge, history, against the real stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

static char path[256];

static const char *charge_path(int64_t uid)
{
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
    return path;
}

static void balance_of_new_user_is_zero(void **state)
{
    int64_t uid = tc_new_user();
    tc_resp_t *r = tc_getf("/users/%lld/points", (long long)uid);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "userId"), uid);
    assert_int_equal(tc_int(r, "balance"), 0);
    tc_free(r);
}

static void charge_adds_and_writes_one_history_row(void **state)
{
    int64_t uid = tc_new_user();
    tc_resp_t *r = tc_post(charge_path(uid), "{\"amount\":5000}");
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "userId"), uid);
    assert_int_equal(tc_int(r, "balance"), 5000);
    assert_int_equal(tc_int(r, "charged"), 5000);
    tc_free(r);
    r = tc_post(charge_path(uid), "{\"amount\":2500}");
    assert_int_equal(tc_int(r, "balance"), 7500);
    tc_free(r);
    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)uid),
                     7500);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid), 2);
    assert_int_equal(tc_last_balance_after(uid), 7500);
}

static void history_is_newest_first_and_keyset_paged(void **state)
{
    int64_t uid = tc_new_user();
    for (int i = 1; i <= 5; i++)
        tc_charge(uid, i * 100);
    tc_resp_t *r = tc_getf("/users/%lld/points/history?limit=2", (long long)uid);
    assert_int_equal(r->status, 200);
    json_object *items = json_object_object_get(r->json, "items");
    assert_int_equal(json_object_array_length(items), 2);
    json_object *first = json_object_array_get_idx(items, 0);
    assert_int_equal(json_object_get_int64(json_object_object_get(first, "amount")), 500);
    assert_int_equal(json_object_get_int64(json_object_object_get(first, "balanceAfter")), 1500);
    assert_string_equal(json_object_get_string(json_object_object_get(first, "type")), "CHARGE");
    assert_null(json_object_object_get(first, "orderId"));
    const char *created = json_object_get_string(json_object_object_get(first, "createdAt"));
    tc_assert_time(created);
    int64_t next = tc_int(r, "next");
    tc_free(r);

    /* follow the cursor to the end: 2 + 2 + 1, then next is null */
    int seen = 2;
    while (next) {
        r = tc_getf("/users/%lld/points/history?limit=2&before=%lld", (long long)uid,
                    (long long)next);
        assert_int_equal(r->status, 200);
        items = json_object_object_get(r->json, "items");
        seen += (int)json_object_array_length(items);
        next = tc_is_null(r, "next") ? 0 : tc_int(r, "next");
        tc_free(r);
    }
    assert_int_equal(seen, 5);
}

static void history_default_limit_is_20(void **state)
{
    int64_t uid = tc_new_user();
    for (int i = 0; i < 21; i++)
        tc_charge(uid, 1);
    tc_resp_t *r = tc_getf("/users/%lld/points/history", (long long)uid);
    assert_int_equal(json_object_array_length(json_object_object_get(r->json, "items")), 20);
    assert_false(tc_is_null(r, "next"));
    tc_free(r);
}

static void unknown_user(void **state)
{
    tc_resp_t *r = tc_get("/users/999999999/points");
    assert_problem(r, 404, "USER_NOT_FOUND");
    tc_free(r);
    assert_refused(tc_post("/users/999999999/points/charge", "{\"amount\":100}"), 404,
                   "USER_NOT_FOUND");
    assert_refused(tc_get("/users/999999999/points/history"), 404, "USER_NOT_FOUND");
}

static void max_charge_is_allowed_and_one_more_is_not(void **state)
{
    int64_t uid = tc_new_user();
    tc_resp_t *r = tc_post(charge_path(uid), "{\"amount\":10000000}");
    assert_int_equal(r->status, 200);
    tc_free(r);
    assert_invalid(tc_post(charge_path(uid), "{\"amount\":10000001}"), "amount");
    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)uid),
                     10000000);
}

static void balance_ceiling(void **state)
{
    int64_t uid = tc_new_user();
    /* max_balance defaults to 1,000,000,000: 100 charges of 10,000,000 reach it */
    tc_grant(uid, 995000000);
    tc_resp_t *r = tc_post(charge_path(uid), "{\"amount\":5000000}");
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "balance"), 1000000000);
    tc_free(r);
    assert_refused(tc_post(charge_path(uid), "{\"amount\":1}"), 409, "BALANCE_LIMIT_EXCEEDED");
    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)uid),
                     1000000000);
    /* the granted row and the charge's: the refused charge wrote none */
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid), 2);
}

/* Every malformed charge: 400/415, and nothing changes. */
static void bad_charges_change_nothing(void **state)
{
    static const char *bodies[] = {
        "{\"amount\":\"100\"}",
        "{\"amount\":1.5}",
        "{\"amount\":1.0}",
        "{\"amount\":1e3}",
        "{\"amount\":true}",
        "{\"amount\":null}",
        "{\"amount\":{}}",
        "{\"amount\":[1]}",
        "{\"amount\":0}",
        "{\"amount\":-1}",
        "{\"amount\":-0}",
        "{\"amount\":9223372036854775807}",
        "{\"amount\":9223372036854775808}",
        "{\"amount\":99999999999999999999999999}",
        "{\"amount\":-9223372036854775809}",
        "{}",
        "{\"amunt\":100}",
        "[100]",
        "100",
        "\"x\"",
        "null",
        "{\"amount\":100",
        "{\"amount\":100}}",
        "{\"amount\":100} x",
        "{amount:100}",
        "{'amount':100}",
        "{\"amount\":100,}",
        "{\"amount\":0100}",
        "{\"amount\":\"\xff\xfe\"}",
        "{\"amount\":100,\"x\":\"\xc3\x28\"}",
        "{\"amount\":1,\"amount\":100}",
        "{\"x\":1.,\"amount\":100}",
        "{\"x\":-.5,\"amount\":100}",
        "{\"amount\":00}",
        "{\"amount\":-01}",
        "{\"x\":1.e5,\"amount\":100}",
        "{\"x\":\"\\ud800\",\"amount\":100}",
        "{\"x\":\"\\q\",\"amount\":100}",
        "{\"amount\":100,\"\\u0061mount\":100}",
        "   ",
    };
    int64_t uid = tc_new_user();
    tc_charge(uid, 1000);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        tc_resp_t *r = tc_post(charge_path(uid), bodies[i]);
        assert_problem(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
    assert_int_equal(tc_balance(uid), 1000);
    assert_int_equal(tc_history_of(uid), 1);
}

static void wrong_or_missing_content_type_is_415(void **state)
{
    int64_t uid = tc_new_user();
    const char *text[] = {"Content-Type: text/plain", NULL};
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *jsonish[] = {"Content-Type: application/jsonp", NULL};
    const char *none[] = {"Content-Type:", NULL};
    const char *const *cases[] = {text, form, jsonish, none};
    for (size_t i = 0; i < 4; i++) {
        tc_resp_t *r = tc_req("POST", charge_path(uid), "{\"amount\":100}", cases[i]);
        assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE");
        tc_free(r);
    }
    const char *charset[] = {"Content-Type: application/json; charset=utf-8", NULL};
    tc_resp_t *r = tc_req("POST", charge_path(uid), "{\"amount\":100}", charset);
    assert_int_equal(r->status, 200);
    tc_free(r);
    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)uid),
                     100);
}

static void empty_body_is_400(void **state)
{
    int64_t uid = tc_new_user();
    tc_resp_t *r = tc_post(charge_path(uid), "");
    assert_problem(r, 400, "INVALID_REQUEST");
    tc_free(r);
}

static void unknown_fields_are_ignored(void **state)
{
    int64_t uid = tc_new_user();
    tc_resp_t *r =
        tc_post(charge_path(uid), "{\"amount\":100,\"note\":\"gift\",\"x\":{\"y\":[1,2]}}");
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "balance"), 100);
    tc_free(r);
}

static void bad_path_ids_and_cursors(void **state)
{
    static const char *paths[] = {
        "/users/0/points",
        "/users/-1/points",
        "/users/abc/points",
        "/users/1.5/points",
        "/users/9223372036854775808/points",
        "/users/99999999999999999999/points",
        "/users/01/points",
        "/users/%2D1/points", /* %2D is "-": decoded, still a bad id */
        "/users/1/points/history?limit=0",
        "/users/1/points/history?limit=101",
        "/users/1/points/history?limit=abc",
        "/users/1/points/history?limit=",
        "/users/1/points/history?before=0",
        "/users/1/points/history?before=-5",
        "/users/1/points/history?before=x",
        "/users/1/points/history?before=9223372036854775808",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        assert_invalid(tc_get(paths[i]), NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(balance_of_new_user_is_zero),
        cmocka_unit_test(charge_adds_and_writes_one_history_row),
        cmocka_unit_test(history_is_newest_first_and_keyset_paged),
        cmocka_unit_test(history_default_limit_is_20),
        cmocka_unit_test(unknown_user),
        cmocka_unit_test(max_charge_is_allowed_and_one_more_is_not),
        cmocka_unit_test(balance_ceiling),
        cmocka_unit_test(bad_charges_change_nothing),
        cmocka_unit_test(wrong_or_missing_content_type_is_415),
        cmocka_unit_test(empty_body_is_400),
        cmocka_unit_test(unknown_fields_are_ignored),
        cmocka_unit_test(bad_path_ids_and_cursors),
    };
    return cmocka_run_group_tests_name("integration/points", tests, NULL, NULL);
}
