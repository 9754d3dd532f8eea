/* 50 client processes charge one user at once, through nginx, against
 * several worker processes: the balance is exact and there are exactly 50
 * history rows whose balance_after values are 50 distinct steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/client.h"

#define CLIENTS 50

static int64_t user_id;

static int charge_once(int i, void *arg)
{
    char path[128], body[64];
    (void)arg;
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)user_id);
    snprintf(body, sizeof(body), "{\"amount\":%d}", 1000 + i); /* distinct amounts */
    tc_resp_t *r = tc_post(path, body);
    int code = tc_status_code(r->status);
    tc_free(r);
    return code;
}

static void fifty_concurrent_charges_are_exact(void **state)
{
    int results[CLIENTS];
    int64_t expected = 0;

    user_id = tc_new_user();
    assert_int_equal(tc_parallel(CLIENTS, charge_once, NULL, results), 0);
    for (int i = 0; i < CLIENTS; i++) {
        if (tc_code_status(results[i]) != 200)
            fprintf(stderr, "client %d got %ld\n", i, tc_code_status(results[i]));
        assert_int_equal(tc_code_status(results[i]), 200);
        expected += 1000 + i;
    }
    assert_int_equal(tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)user_id),
                     expected);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)user_id),
        CLIENTS);
    assert_int_equal(tc_sql_int("SELECT COUNT(DISTINCT balance_after) FROM point_history"
                                " WHERE user_id=%lld",
                                (long long)user_id),
                     CLIENTS);
    assert_int_equal(
        tc_sql_int("SELECT SUM(amount) FROM point_history WHERE user_id=%lld", (long long)user_id),
        expected);
    /* the latest row's balanceAfter is the balance */
    assert_int_equal(tc_last_balance_after(user_id), expected);
    /* each row is the previous balance plus its amount: no lost update */
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history h JOIN point_history p"
                   " ON p.user_id = h.user_id AND p.id = (SELECT MAX(id) FROM"
                   " point_history x WHERE x.user_id = h.user_id AND x.id < h.id)"
                   " WHERE h.user_id=%lld AND h.balance_after = p.balance_after + h.amount",
                   (long long)user_id),
        CLIENTS - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifty_concurrent_charges_are_exact),
    };
    return cmocka_run_group_tests_name("concurrency/charge", tests, NULL, NULL);
}
