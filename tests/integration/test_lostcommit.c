/* A commit whose answer is lost: every state-changing request answers its
 * true outcome. The workers reach MariaDB through scripts/db-fault-proxy.py
 * (scripts/stack dbproxy-on), which loses the connection around the next
 * commit when armed:
 *   after    the commit landed, its answer never came: the worker reconnects,
 *            finds the request's marker and answers the success;
 *   before   the commit was never sent: 503 SERVICE_UNAVAILABLE, nothing changed;
 *   unknown  as after, and the database stays unreachable: 503 OUTCOME_UNKNOWN
 *            with Retry-After, and a retry with the same key gets the success;
 *   during   the connection goes while the server may still be committing:
 *            whatever the answer, the database agrees with it.
 * Under replication_policy = durability, after is 503 OUTCOME_UNKNOWN: the
 * commit landed, but nothing proves a replica has it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/client.h"

static char arm_path[512], refuse_path[512];

static int setup(void **state)
{
    const char *dir = getenv("COMMERCE_TEST_STATE_DIR");
    (void)state;
    if (!dir)
        return -1;
    snprintf(arm_path, sizeof(arm_path), "%s/run/dbproxy/arm", dir);
    snprintf(refuse_path, sizeof(refuse_path), "%s/run/dbproxy/refuse", dir);
    return tc_stack("dbproxy-on") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unlink(refuse_path);
    return tc_stack("dbproxy-off") == 0 ? 0 : -1;
}

/* The next commit meets `mode`. */
static void arm(const char *mode)
{
    FILE *f = fopen(arm_path, "w");
    assert_non_null(f);
    assert_true(fputs(mode, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* The armed fault did happen (the proxy took it). */
static void assert_fault_taken(void) { assert_int_equal(access(arm_path, F_OK), -1); }

static void order_body(char *buf, size_t cap, int64_t uid, int64_t pid)
{
    snprintf(buf, cap, "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}",
             (long long)uid, (long long)pid);
}

/* The request expr sent with the fault `mode` armed: its response; the
 * fault must have been taken. */
static tc_resp_t *faulted(tc_resp_t *r)
{
    assert_fault_taken();
    return r;
}
#define WITH_FAULT(mode, expr) (arm(mode), faulted(expr))

/* The user's orders and balance, and the product's stock. */
static void assert_books(int64_t uid, int64_t pid, int64_t orders, int64_t balance, int64_t stock)
{
    assert_int_equal(tc_orders_of(uid), orders);
    assert_int_equal(tc_balance(uid), balance);
    assert_int_equal(tc_stock(pid), stock);
}

/* A user with `points`, a product of price 100 and this stock, and the body
 * of the user's order of one. */
struct buyer {
    int64_t uid, pid;
    char body[160];
};

static struct buyer buyer(int64_t stock, int64_t points)
{
    struct buyer b = {tc_new_user(), tc_new_product(100, stock), ""};
    tc_charge(b.uid, points);
    order_body(b.body, sizeof(b.body), b.uid, b.pid);
    return b;
}

static void order_after_commit_is_its_success(void **state)
{
    struct buyer b = buyer(10, 1000);
    (void)state;

    /* with a key */
    tc_resp_t *r = WITH_FAULT("after", tc_post_key("/orders", b.body, "lost-1"));
    assert_int_equal(r->status, 201);
    assert_false(tc_replayed(r));
    int64_t oid = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "balance"), 900);
    tc_free(r);
    assert_books(b.uid, b.pid, 1, 900, 9);
    r = tc_post_key("/orders", b.body, "lost-1"); /* the client's retry: the same order */
    assert_int_equal(r->status, 201);
    assert_true(tc_replayed(r));
    assert_int_equal(tc_int(r, "orderId"), oid);
    tc_free(r);

    /* without one: the marker is the order's ORDER_PAID event (and the
     * worker's log line about it carries the request's id) */
    r = WITH_FAULT("after", tc_req("POST", "/orders", b.body,
                                   (const char *const[]){"Content-Type: application/json",
                                                         "X-Request-Id: lost-commit-probe", NULL}));
    assert_int_equal(r->status, 201);
    tc_free(r);
    assert_true(tc_worker_log_has("[lost-commit-probe] db: the connection was lost while"
                                  " committing; the commit had landed"));
    assert_books(b.uid, b.pid, 2, 800, 8);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox o JOIN orders d ON d.id = o.order_id"
                                " WHERE d.user_id = %lld AND o.type = 'ORDER_PAID'",
                                (long long)b.uid),
                     2);
}

static void order_commit_never_sent_is_503_and_nothing(void **state)
{
    struct buyer b = buyer(10, 1000);
    (void)state;

    tc_resp_t *r = WITH_FAULT("before", tc_post_key("/orders", b.body, "lost-2"));
    assert_problem(r, 503, "SERVICE_UNAVAILABLE");
    tc_free(r);
    assert_books(b.uid, b.pid, 0, 1000, 10);
    /* nothing was stored under the key: the retry places the order now */
    assert_keyed("/orders", b.body, "lost-2", 201, 0);
    assert_int_equal(tc_orders_of(b.uid), 1);
}

static void charge_cancel_and_the_rest_answer_their_outcome(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(100, 10);
    int64_t cid = tc_new_coupon("FIXED", 50, 10);
    char body[160], path[128];
    (void)state;

    /* a charge without a key: the worker's own marker */
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
    tc_resp_t *r = WITH_FAULT("after", tc_post(path, "{\"amount\":1000}"));
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "balance"), 1000);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 1000);
    assert_int_equal(tc_history_of(uid), 1);

    /* with a key: the client's retry replays it */
    r = WITH_FAULT("after", tc_post_key(path, "{\"amount\":500}", "charge-lost"));
    assert_int_equal(r->status, 200);
    assert_false(tc_replayed(r));
    assert_int_equal(tc_int(r, "balance"), 1500);
    tc_free(r);
    assert_keyed(path, "{\"amount\":500}", "charge-lost", 200, 1);
    assert_int_equal(tc_balance(uid), 1500);
    assert_int_equal(tc_history_of(uid), 2);

    r = WITH_FAULT("before", tc_post(path, "{\"amount\":1000}"));
    assert_problem(r, 503, "SERVICE_UNAVAILABLE");
    tc_free(r);
    assert_int_equal(tc_balance(uid), 1500);
    assert_int_equal(tc_history_of(uid), 2);

    /* a cancel: told it worked, so a second one is rightly refused */
    order_body(body, sizeof(body), uid, pid);
    int64_t oid = tc_created_id(tc_post("/orders", body), "orderId");
    snprintf(path, sizeof(path), "/orders/%lld/cancel", (long long)oid);
    r = WITH_FAULT("after", tc_post(path, "{}"));
    assert_int_equal(r->status, 200);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    tc_free(r);
    assert_int_equal(tc_balance(uid), 1500);
    assert_int_equal(tc_stock(pid), 10);
    assert_refused(tc_post(path, "{}"), 409, "ORDER_NOT_CANCELLABLE");

    /* a coupon issue */
    r = WITH_FAULT("after", tc_issue(cid, uid));
    assert_int_equal(r->status, 201);
    tc_free(r);
    assert_int_equal(
        tc_sql_int("SELECT issued_quantity FROM coupon WHERE id = %lld", (long long)cid), 1);

    /* the cart: put, delete */
    snprintf(path, sizeof(path), "/users/%lld/cart/items/%lld", (long long)uid, (long long)pid);
    r = WITH_FAULT("after", tc_req("PUT", path, "{\"quantity\":2}",
                                   (const char *const[]){"Content-Type: application/json", NULL}));
    assert_int_equal(r->status, 200);
    tc_free(r);
    assert_int_equal(
        tc_sql_int("SELECT quantity FROM cart_item WHERE user_id = %lld", (long long)uid), 2);
    r = WITH_FAULT("after", tc_req("DELETE", path, NULL, NULL));
    assert_int_equal(r->status, 204);
    tc_free(r);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM cart_item WHERE user_id = %lld", (long long)uid), 0);

    /* an admin write */
    r = WITH_FAULT("after", tc_admin("POST", "/admin/products",
                                     "{\"name\":\"lost commit\",\"price\":5,\"stock\":3}"));
    int64_t made = tc_created_id(r, "id");
    assert_int_equal(tc_stock(made), 3);
}

static void unreachable_after_commit_is_outcome_unknown(void **state)
{
    struct buyer b = buyer(10, 1000);
    char ra[16];
    (void)state;

    tc_resp_t *r = WITH_FAULT("unknown", tc_post_key("/orders", b.body, "lost-3"));
    assert_problem(r, 503, "OUTCOME_UNKNOWN");
    assert_non_null(tc_header(r, "Retry-After", ra, sizeof(ra)));
    tc_free(r);
    assert_int_equal(unlink(refuse_path), 0); /* the database is reachable again */
    /* the commit had landed: the retry the answer asks for gets its success */
    assert_keyed("/orders", b.body, "lost-3", 201, 1);
    assert_books(b.uid, b.pid, 1, 900, 9);
}

static void lost_while_committing_the_answer_is_the_truth(void **state)
{
    struct buyer b = buyer(100, 100000);
    char path[128];
    int orders = 0, charged = 0;
    (void)state;

    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)b.uid);
    for (int i = 0; i < 10; i++) {
        char key[32];
        snprintf(key, sizeof(key), "during-%d", i);
        tc_resp_t *r = WITH_FAULT("during", tc_post_key("/orders", b.body, key));
        if (r->status == 201)
            orders++;
        else
            assert_problem(r, 503, "SERVICE_UNAVAILABLE");
        tc_free(r);
        assert_int_equal(tc_orders_of(b.uid), orders);

        r = WITH_FAULT("during", tc_post(path, "{\"amount\":7}"));
        if (r->status == 200)
            charged++;
        else
            assert_problem(r, 503, "SERVICE_UNAVAILABLE");
        tc_free(r);
        assert_int_equal(tc_balance(b.uid), 100000 + 7 * charged - 100 * orders);
    }
    assert_int_equal(tc_stock(b.pid), 100 - orders);
    print_message("during a commit: %d of 10 orders and %d of 10 charges had landed\n", orders,
                  charged);
}

/* The workers (behind the proxy, one pool) and the relay restarted with
 * replication_policy = policy. */
static int policy_behind_the_proxy(const char *policy)
{
    if (tc_write_policy(policy) || tc_stack("dbproxy-on") || tc_stack("relay-start"))
        return -1;
    return tc_wait_ready();
}

/* replication_policy = durability: the worker finds the order's marker after
 * the commit's answer was lost, and a barrier commit of its own, acknowledged
 * by the replica, proves the replica has the order (acknowledgements cover
 * every earlier commit): the success, not a 503. */
static void durability_a_lost_answer_the_replica_has_is_the_success(void **state)
{
    struct buyer b = buyer(10, 1000);
    char path[96];
    (void)state;

    assert_int_equal(policy_behind_the_proxy("durability"), 0);
    tc_resp_t *r = WITH_FAULT("after", tc_post_key("/orders", b.body, "lost-durable"));
    assert_int_equal(r->status, 201);
    tc_free(r);
    assert_true(tc_worker_log_has("the commit had landed, and a replica has it"));
    assert_books(b.uid, b.pid, 1, 900, 9);
    assert_keyed("/orders", b.body, "lost-durable", 201, 1);
    assert_books(b.uid, b.pid, 1, 900, 9);
    /* a charge without a key: the same */
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)b.uid);
    r = WITH_FAULT("after", tc_post(path, "{\"amount\":50}"));
    assert_int_equal(r->status, 200);
    tc_free(r);
    assert_int_equal(tc_balance(b.uid), 950);
}

/* A keyed POST's status. */
static long keyed_status(const char *path, const char *body, const char *key)
{
    tc_resp_t *r = tc_post_key(path, body, key);
    long status = r->status;
    tc_free(r);
    return status;
}

/* The same with the replica stalled (SIGSTOP: connected, acknowledging
 * nothing) while the order's commit waits for it, and the connection lost at
 * once: the worker ends the waiting session, which MariaDB counts as
 * acknowledged, and finds the order; but its barrier goes unacknowledged, so
 * nothing proves the replica has the order: 503 OUTCOME_UNKNOWN, never a 2xx
 * a failover could take back. The order is on the primary; the retry with
 * its key gets it once the replica has caught up (semi-sync ON again). */
static void durability_a_lost_answer_the_replica_may_lack_is_outcome_unknown(void **state)
{
    struct buyer b = buyer(10, 1000);
    char ra[16];
    (void)state;

    assert_int_equal(policy_behind_the_proxy("durability"), 0);
    tc_replica_signal(SIGSTOP);
    tc_resp_t *r = WITH_FAULT("during", tc_post_key("/orders", b.body, "stalled-durable"));
    tc_replica_signal(SIGCONT);
    assert_problem(r, 503, "OUTCOME_UNKNOWN");
    assert_non_null(tc_header(r, "Retry-After", ra, sizeof(ra)));
    tc_free(r);
    assert_true(tc_worker_log_has("the commit had landed, and nothing proves a replica has it"));
    assert_books(b.uid, b.pid, 1, 900, 9);
    TC_WAIT_UNTIL_MS(30000, keyed_status("/orders", b.body, "stalled-durable") == 201,
                     "the retry with the key answered once the replica has caught up");
    assert_books(b.uid, b.pid, 1, 900, 9);
}

static int availability_again(void **state)
{
    (void)state;
    return policy_behind_the_proxy("availability");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_after_commit_is_its_success),
        cmocka_unit_test(order_commit_never_sent_is_503_and_nothing),
        cmocka_unit_test(charge_cancel_and_the_rest_answer_their_outcome),
        cmocka_unit_test(unreachable_after_commit_is_outcome_unknown),
        cmocka_unit_test(lost_while_committing_the_answer_is_the_truth),
        cmocka_unit_test(durability_a_lost_answer_the_replica_has_is_the_success),
        cmocka_unit_test_teardown(durability_a_lost_answer_the_replica_may_lack_is_outcome_unknown,
                                  availability_again),
    };
    return cmocka_run_group_tests_name("integration/lostcommit", tests, setup, teardown);
}
