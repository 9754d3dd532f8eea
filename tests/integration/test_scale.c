/* Beyond one machine, in one test stack (scripts/test starts it with a second
 * worker pool on its own socket, standing in for a second host, behind one
 * nginx upstream; and a MariaDB replica fed by GTID, semi-synchronously):
 *   - a whole pool killed under steady load: reads see no error, writes only
 *     503s, and each of those resolves through its Idempotency-Key; the books
 *     hold;
 *   - catalog reads are served by the replica; a stopped replication thread
 *     makes it lag past the bound and reads fall back to the primary; a
 *     killed replica causes no error; no write ever reaches it. */
#include <mysql.h>
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
#include "store/replicas.h"

static const char *env_req(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set (scripts/test sets it)", name);
    return v;
}

/* One integer from SQL run on the replica as the administrator (NULL reads as -1). */
#define replica_int(...) tc_sql_int_at(env_req("COMMERCE_TEST_REPLICA_SOCKET"), __VA_ARGS__)

/* The value of one /metrics sample (0 when absent). */
static int64_t metric(const char *series)
{
    tc_resp_t *r = tc_get("/metrics");
    assert_int_equal(r->status, 200);
    int64_t v = 0;
    for (const char *p = r->body; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = strlen(series);
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            v = strtoll(p + n + 1, NULL, 10);
        p = eol ? eol + 1 : NULL;
    }
    tc_free(r);
    return v;
}

#define ON_REPLICA "commerce_catalog_reads_total{served=\"replica\"}"
#define LAGGING "commerce_catalog_reads_total{served=\"primary_replica_lagging\"}"
#define DOWN "commerce_catalog_reads_total{served=\"primary_replica_down\"}"

/* One catalog read (it must answer 200); true, so that it can lead a condition. */
static int read_once(void)
{
    tc_resp_t *r = tc_get("/products?limit=5");
    assert_int_equal(r->status, 200);
    tc_free(r);
    return 1;
}

/* Read (a GET /products each poll) until cond holds; fail after 20 s. */
#define READ_UNTIL(cond, what) TC_WAIT_UNTIL_MS(20000, read_once() && (cond), "%s", what)

/* The replica has applied everything the primary has committed (10 s at most). */
static void replica_caught_up(void)
{
    char pos[512];
    tc_sql_text_at(env_req("COMMERCE_TEST_DB_SOCKET"), pos, sizeof(pos),
                   "SELECT @@gtid_binlog_pos");
    assert_int_equal(replica_int("SELECT MASTER_GTID_WAIT('%s', 10)", pos), 0);
}

static void catalog_reads_are_served_by_the_replica(void **state)
{
    (void)state;
    tc_new_product(100, 5);
    replica_caught_up();
    READ_UNTIL(metric(ON_REPLICA) > 0, "a catalog read served by the replica");
    int64_t before = metric(ON_REPLICA);
    for (int i = 0; i < 20; i++) {
        tc_resp_t *r = tc_get("/products/popular");
        assert_int_equal(r->status, 200);
        tc_free(r);
    }
    /* every one of them (the workers share the counters) */
    assert_int_equal(metric(ON_REPLICA) - before, 20);
    /* and what it served is the primary's data: a product made just now is listed */
    int64_t pid = tc_new_product(777, 3);
    replica_caught_up();
    tc_resp_t *r = tc_getf("/products?after=%lld&limit=1", (long long)(pid - 1));
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"price\":777"));
    tc_free(r);
}

/* The stack's bound on a catalog read's replica lag (replica_max_lag_ms). */
#define MAX_LAG_MS 1000

static void a_stopped_replica_lags_and_reads_fall_back(void **state)
{
    (void)state;
    replica_int("STOP SLAVE SQL_THREAD");
    /* the heartbeat stops advancing there: past the bound, reads go to the primary */
    int64_t lagging = metric(LAGGING);
    READ_UNTIL(metric(LAGGING) > lagging, "a read falling back from a lagging replica");
    /* One read falling back does not mean the next one will: each worker reads the lag at
     * most every REPLICAS_CHECK_MS and goes by its last reading meanwhile, one taken maybe
     * while the lag was still within the bound. Once the replica's heartbeat is older than
     * the bound by more than that period, every worker's reading shows it lagging. */
    TC_WAIT_UNTIL_MS(20000,
                     replica_int("SELECT TIMESTAMPDIFF(MICROSECOND, at, NOW(6)) DIV 1000"
                                 " FROM commerce_heartbeat WHERE id = 1") >
                         MAX_LAG_MS + 2 * REPLICAS_CHECK_MS,
                     "the replica's heartbeat older than the bound plus two lag readings");
    /* and they are right: a product made now is listed although the replica lacks it */
    int64_t pid = tc_new_product(4242, 3);
    tc_resp_t *r = tc_getf("/products?after=%lld&limit=1", (long long)(pid - 1));
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"price\":4242"));
    tc_free(r);
    assert_int_equal(replica_int("SELECT COUNT(*) FROM product WHERE id = %lld", (long long)pid),
                     0);
    replica_int("START SLAVE SQL_THREAD");
    replica_caught_up();
    int64_t served = metric(ON_REPLICA);
    READ_UNTIL(metric(ON_REPLICA) > served, "reads back on the replica");
}

static void a_killed_replica_causes_no_error(void **state)
{
    (void)state;
    assert_int_equal(tc_stack("replica-kill"), 0);
    int64_t down = metric(DOWN);
    for (int i = 0; i < 40; i++) { /* every worker of both pools meets it */
        tc_resp_t *r = tc_get("/products?limit=3");
        assert_int_equal(r->status, 200);
        tc_free(r);
        r = tc_get("/products/popular");
        assert_int_equal(r->status, 200);
        tc_free(r);
    }
    assert_true(metric(DOWN) > down);
    assert_int_equal(tc_stack("replica-start"), 0);
    replica_caught_up();
    int64_t served = metric(ON_REPLICA);
    READ_UNTIL(metric(ON_REPLICA) > served, "reads back on the restarted replica");
}

static void no_write_ever_reaches_the_replica(void **state)
{
    char pos[512], pass[256] = "";
    (void)state;
    assert_int_equal(replica_int("SELECT @@read_only"), 1);
    /* nothing is written there but by replication: it logs what it applies
     * (log_slave_updates, so that it can be promoted and the old primary
     * replicate from it), and once caught up its log ends exactly where the
     * primary's does: no transaction of its own after the primary's last */
    assert_int_equal(replica_int("SELECT @@log_slave_updates"), 1);
    assert_int_equal(replica_int("SELECT @@gtid_slave_pos <> ''"), 1);
    tc_new_user();
    replica_caught_up();
    tc_sql_text_at(env_req("COMMERCE_TEST_DB_SOCKET"), pos, sizeof(pos),
                   "SELECT @@gtid_binlog_pos");
    assert_int_equal(replica_int("SELECT @@gtid_binlog_pos = '%s'", pos), 1);
    /* and the workers' account could not write there: read_only refuses it */
    tc_secret("fcgi-db-password", pass, sizeof(pass));
    MYSQL *my = mysql_init(NULL);
    assert_non_null(my);
    if (!mysql_real_connect(my, NULL, "commerce_fcgi", pass, env_req("COMMERCE_TEST_DB_NAME"), 0,
                            env_req("COMMERCE_TEST_REPLICA_SOCKET"), 0))
        fail_msg("replica as commerce_fcgi: %s", mysql_error(my));
    assert_int_not_equal(mysql_query(my, "INSERT INTO users (name) VALUES ('on the replica')"), 0);
    assert_int_equal(mysql_errno(my), 1290); /* ER_OPTION_PREVENTS_STATEMENT: read_only */
    mysql_close(my);
    /* the workers' replica account can only read the catalog */
    assert_int_equal(replica_int("SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES"
                                 " WHERE GRANTEE LIKE '''commerce_read''@%%'"
                                 " AND PRIVILEGE_TYPE <> 'USAGE'"),
                     0);
    assert_int_equal(replica_int("SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES"
                                 " WHERE GRANTEE LIKE '''commerce_read''@%%'"
                                 " AND PRIVILEGE_TYPE <> 'SELECT'"),
                     0);
    /* and the replica holds exactly the primary's data */
    replica_caught_up();
    assert_int_equal(replica_int("SELECT COUNT(*) FROM orders"),
                     tc_sql_int("SELECT COUNT(*) FROM orders"));
    assert_int_equal(replica_int("SELECT COALESCE(SUM(balance), 0) FROM point"),
                     tc_sql_int("SELECT COALESCE(SUM(balance), 0) FROM point"));
}

/* ---- a whole worker pool killed under load -------------------------------- */

enum { KEYS = 4096 };

/* Child 0 kills the second pool, waits, starts it again, then says done. The
 * others read and order until then; afterwards each retries, with the same
 * key, every order that got no 201, until it gets one. Exit code: 0, or 1 for
 * a read that failed, 2 for an answer other than 201/503, 3 for an order its
 * key could not resolve, 4 when no order went through at all. */
static int load_or_kill(int i, void *arg)
{
    tc_load_t *l = arg;
    if (i == 0) {
        int bad = tc_stack("pool2-kill") != 0;
        tc_nap(1000); /* the load runs on one pool for a while */
        bad |= tc_stack("pool2-start") != 0;
        tc_nap(1000);
        tc_load_finish(l);
        return bad;
    }
    static char pending[KEYS][32];
    int npending = 0, ok = 0;
    char body[160], key[32];
    tc_load_order(l, i, body, sizeof(body));
    for (int k = 0; tc_load_going(l); k++) {
        tc_resp_t *r = tc_getf("/products/%lld", (long long)l->pid);
        int read_ok = r->status == 200;
        tc_free(r);
        if (!read_ok)
            return 1;
        snprintf(key, sizeof(key), "pool-%d-%d", i, k);
        r = tc_post_key("/orders", body, key);
        long st = r->status;
        tc_free(r);
        if (st == 201)
            ok++;
        else if (st == 503 && npending < KEYS)
            snprintf(pending[npending++], sizeof(pending[0]), "%s", key);
        else
            return 2;
    }
    for (int p = 0; p < npending; p++) {
        int resolved = 0;
        for (int t = 0; t < 100 && !resolved; t++) {
            tc_resp_t *r = tc_post_key("/orders", body, pending[p]);
            resolved = r->status == 201;
            tc_free(r);
            if (!resolved)
                tc_nap(200); /* as a client does: after Retry-After */
        }
        if (!resolved)
            return 3;
    }
    return ok + npending > 0 ? 0 : 4;
}

static void a_killed_pool_loses_no_read_and_no_order(void **state)
{
    static tc_load_t l;
    int results[TC_LOAD_USERS + 1];
    (void)state;

    tc_load_begin(&l, "pool-done", 1000000, 1000000);
    assert_int_equal(tc_parallel(TC_LOAD_USERS + 1, load_or_kill, &l, results), 0);
    for (int i = 0; i <= TC_LOAD_USERS; i++)
        if (results[i] != 0)
            fail_msg("child %d ended with %d (see load_or_kill)", i, results[i]);
    tc_load_books(&l);
}

int main(void)
{
    tc_replica_sync_reads(0); /* these tests wait for the replica themselves, or must not */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_killed_pool_loses_no_read_and_no_order),
        cmocka_unit_test(catalog_reads_are_served_by_the_replica),
        cmocka_unit_test(a_stopped_replica_lags_and_reads_fall_back),
        cmocka_unit_test(a_killed_replica_causes_no_error),
        cmocka_unit_test(no_write_ever_reaches_the_replica),
    };
    return cmocka_run_group_tests_name("integration/scale", tests, NULL, NULL);
}
