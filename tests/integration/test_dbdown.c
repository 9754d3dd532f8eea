/* The database goes away and comes back: every worker answers 503 with
 * Retry-After (never another 5xx, never a crash) while it is down, /livez
 * stays 200 and /readyz says 503; once it is back, the workers reconnect
 * by themselves and serve again, and nothing was half-written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

static int teardown(void **state)
{
    (void)state;
    return tc_stack("db-start") == 0 ? 0 : -1; /* whatever happened, leave the database up */
}

static void database_down_is_503_then_recovers(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(100, 5);
    char path[128], body[128], ra[32];
    int workers = atoi(getenv("COMMERCE_TEST_WORKERS") ? getenv("COMMERCE_TEST_WORKERS") : "4");

    tc_charge(uid, 1000);
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", (long long)uid,
             (long long)pid);

    assert_int_equal(tc_stack("db-stop"), 0);
    /* several rounds, so that every worker meets the missing database */
    for (int i = 0; i < 4 * workers; i++) {
        tc_resp_t *r = tc_getf("/users/%lld/points", (long long)uid);
        assert_problem(r, 503, "SERVICE_UNAVAILABLE");
        assert_non_null(tc_header(r, "Retry-After", ra, sizeof(ra)));
        tc_free(r);
        assert_refused(tc_post(path, "{\"amount\":500}"), 503, "SERVICE_UNAVAILABLE");
        assert_refused(tc_post("/orders", body), 503, "SERVICE_UNAVAILABLE");
        assert_refused(tc_get("/readyz"), 503, "SERVICE_UNAVAILABLE");
        assert_answers(tc_get("/livez"), 200);
    }
    assert_int_equal(tc_stack("db-start"), 0);

    /* every worker reconnects on its own: no request after the restart fails */
    for (int i = 0; i < 4 * workers; i++) {
        tc_resp_t *r = tc_getf("/users/%lld/points", (long long)uid);
        assert_int_equal(r->status, 200);
        assert_int_equal(tc_int(r, "balance"), 1000); /* the refused charges changed nothing */
        tc_free(r);
        assert_answers(tc_get("/readyz"), 200);
    }
    tc_resp_t *r = tc_post("/orders", body);
    assert_int_equal(r->status, 201);
    tc_free(r);
    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)uid),
                     900);
    assert_int_equal(
        tc_sql_int("SELECT stock FROM inventory WHERE product_id=%lld", (long long)pid), 4);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld", (long long)uid),
                     1);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(database_down_is_503_then_recovers, teardown),
    };
    return cmocka_run_group_tests_name("integration/dbdown", tests, NULL, NULL);
}
