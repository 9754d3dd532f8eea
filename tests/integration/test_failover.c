/* Failover that never loses an acknowledged write, and no second writer, on
 * the test stack's replicated pair (scripts/test: STACK_REPLICA=1; scripts/stack
 * failover runs commerce-failover(8)):
 *   - a read-only primary is answered 503 (never 500), /readyz too;
 *   - the replica away longer than the semi-sync timeout while orders are
 *     acknowledged, then the primary lost and the replica back: the promotion
 *     is refused, naming the replica's GTID, its last heartbeat and the gap;
 *     the old primary back, every acknowledged order is there;
 *   - without evidence (the host's metrics out of reach) it is refused
 *     too, and --force promotes, saying what may be lost; the old primary,
 *     started again, takes no writes (not through the workers' database layer,
 *     not straight as their account) and cannot be opened while the new one
 *     takes writes; it rejoins as the new primary's replica, and a planned
 *     failover back (the old primary reachable: fenced, caught up) and a
 *     second rejoin leave the stack as it began.
 * Each test leaves the stack with the first primary opened and the replica
 * replicating from it. */
#include <dirent.h>
#include <mysql.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/rc.h"
#include "lib/client.h"
#include "store/db.h"

static const char *env_req(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set (scripts/test sets it)", name);
    return v;
}

/* A server of the pair by its socket in the state dir: "mysqld" or "replica". */
static const char *sock_of(const char *name)
{
    static char path[2][1024];
    int i = strcmp(name, "mysqld") != 0;
    snprintf(path[i], sizeof(path[i]), "%s/run/%s.sock", env_req("COMMERCE_TEST_STATE_DIR"), name);
    return path[i];
}

/* One integer, or text, from SQL on server NAME as the administrator. */
#define on(name, ...) tc_sql_int_at(sock_of(name), __VA_ARGS__)
#define text_on(name, q, out, cap) tc_sql_text_at(sock_of(name), (out), (cap), "%s", (q))

/* POST /orders of one unit of pid for uid. */
static void order_body(char *buf, size_t cap, int64_t uid, int64_t pid)
{
    snprintf(buf, cap, "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}",
             (long long)uid, (long long)pid);
}

/* Whether server NAME replicates from another (SHOW SLAVE STATUS has a row). */
static int is_replica(const char *name)
{
    MYSQL *my = mysql_init(NULL);
    assert_non_null(my);
    if (!mysql_real_connect(my, NULL, tc_db_admin(), NULL, NULL, 0, sock_of(name), 0) ||
        mysql_query(my, "SHOW SLAVE STATUS") != 0)
        fail_msg("%s: SHOW SLAVE STATUS: %s", name, mysql_error(my));
    MYSQL_RES *res = mysql_store_result(my);
    int rows = res ? (int)mysql_num_rows(res) : 0;
    mysql_free_result(res);
    mysql_close(my);
    return rows > 0;
}

/* The replica (NAME) has everything the primary (the other) has committed. */
static void caught_up(const char *replica, const char *primary)
{
    char pos[512];
    text_on(primary, "SELECT @@gtid_binlog_pos", pos, sizeof(pos));
    assert_int_equal(on(replica, "SELECT MASTER_GTID_WAIT('%s', 30)", pos), 0);
}

static int ready(void)
{
    tc_resp_t *r = tc_get("/readyz");
    int ok = r->status == 200;
    tc_free(r);
    return ok;
}

/* The stack as every test starts and leaves it: the first primary opened
 * and the stable name on it, the replica replicating from it and caught up. */
static int as_it_began(void **state)
{
    (void)state;
    char link[1024], target[64] = "";
    snprintf(link, sizeof(link), "%s/run/db.sock", env_req("COMMERCE_TEST_STATE_DIR"));
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    if (strcmp(target, "mysqld.sock") != 0)
        return -1; /* a failover a test could not undo: later tests would fail */
    if (tc_stack("db-start") != 0 || tc_stack("replica-start") != 0 || tc_stack("nginx-start") != 0)
        return -1;
    on("mysqld", "SET GLOBAL read_only = OFF");
    caught_up("replica", "mysqld");
    TC_WAIT_UNTIL_MS(30000, ready(), "the stack ready again");
    return 0;
}

/* ---- a read-only primary ---------------------------------------------------- */

static void a_read_only_primary_is_503_never_500(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(100, 5);
    char body[160], ra[16];
    (void)state;

    tc_charge(uid, 1000);
    order_body(body, sizeof(body), uid, pid);
    int64_t pids[1] = {pid};
    tc_snapshot_t before = tc_snapshot(uid, 1, pids);
    tc_sql("SET GLOBAL read_only = ON");
    for (int i = 0; i < 8; i++) { /* every worker meets it */
        tc_resp_t *r = tc_post("/orders", body);
        assert_problem(r, 503, "SERVICE_UNAVAILABLE");
        assert_non_null(tc_header(r, "Retry-After", ra, sizeof(ra)));
        tc_free(r);
        char path[96];
        snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
        assert_refused(tc_post(path, "{\"amount\":5}"), 503, "SERVICE_UNAVAILABLE");
        assert_refused(tc_get("/readyz"), 503, "SERVICE_UNAVAILABLE");
        assert_answers(tc_getf("/products/%lld", (long long)pid), 200); /* reads go on */
    }
    tc_snapshot_equal(&before);
    tc_sql("SET GLOBAL read_only = OFF");
    TC_WAIT_UNTIL_MS(10000, ready(), "/readyz 200 once the primary takes writes");
    tc_resp_t *r = tc_post("/orders", body);
    assert_paid(r, 100, 900);
}

/* ---- the replica away, then the primary lost ----------------------------------- */

static void promotion_is_refused_after_the_replica_was_away(void **state)
{
    static char out[16384];
    int64_t uid = tc_new_user(), pid = tc_new_product(10, 1000), ids[6];
    char body[160], held[512];
    (void)state;

    tc_charge(uid, 100000);
    order_body(body, sizeof(body), uid, pid);
    caught_up("replica", "mysqld");
    /* the replica away: the first order waits the semi-sync timeout, then the primary goes
     * on alone, acknowledging orders the replica never gets */
    assert_int_equal(tc_stack("replica-stop"), 0);
    for (int i = 0; i < 6; i++)
        ids[i] = tc_created_id(tc_post("/orders", body), "orderId");
    assert_int_equal(
        tc_sql_int("SELECT VARIABLE_VALUE = 'OFF' FROM information_schema.GLOBAL_STATUS"
                   " WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS'"),
        1);
    /* the primary lost, the replica back */
    assert_int_equal(tc_stack("db-kill"), 0);
    assert_int_equal(tc_stack("replica-start"), 0);
    assert_int_not_equal(tc_stack_out("failover", out, sizeof(out)), 0);
    /* the refusal names the replica's GTID, its last heartbeat, the acknowledged writes after
     * it and the gap, and what to do instead */
    text_on("replica", "SELECT @@gtid_current_pos", held, sizeof(held));
    assert_true(held[0] != '\0');
    static const char *says[] = {"REFUSED: the replica may lack acknowledged writes",
                                 "its last heartbeat; semi-sync was ON",
                                 "writes were acknowledged until",
                                 "gap: ",
                                 "past the semi-sync window of the last acknowledged beat",
                                 "bring the old primary (its disk) back",
                                 "--force"};
    for (size_t i = 0; i < sizeof(says) / sizeof(says[0]); i++)
        if (!strstr(out, says[i]))
            fail_msg("the refusal does not say \"%s\":\n%s", says[i], out);
    char gtid_line[600];
    snprintf(gtid_line, sizeof(gtid_line), "the transactions after %s", held);
    if (!strstr(out, gtid_line))
        fail_msg("the refusal does not name the replica's GTID %s:\n%s", held, out);
    /* it was right: the replica lacks acknowledged orders; and it is still a replica */
    assert_true(on("replica", "SELECT COUNT(*) FROM orders WHERE id = %lld", (long long)ids[5]) ==
                0);
    assert_int_equal(on("replica", "SELECT @@read_only"), 1);
    assert_true(is_replica("replica"));
    /* what to do instead: the old primary's disk back; it is still the primary (the name
     * points at it), every acknowledged order is there, and the replica catches up */
    assert_int_equal(tc_stack("db-start"), 0);
    assert_int_equal(on("mysqld", "SELECT @@read_only"), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(
            on("mysqld", "SELECT COUNT(*) FROM orders WHERE id = %lld", (long long)ids[i]), 1);
    caught_up("replica", "mysqld");
    assert_int_equal(
        on("replica", "SELECT COUNT(*) FROM orders WHERE id = %lld", (long long)ids[5]), 1);
    TC_WAIT_UNTIL_MS(30000, ready(), "the stack ready again on the old primary");
    assert_paid(tc_post("/orders", body), 10, 100000 - 7 * 10);
}

/* ---- --force, and the old primary started again --------------------------------- */

/* commerce-failover (the built binary beside scripts/) with ARGS, started (its
 * output to be read by failover_end); failover_cmd runs it to its end. */
static FILE *failover_start(const char *args)
{
    char line[8192], root[1024];
    snprintf(root, sizeof(root), "%s", env_req("COMMERCE_TEST_STACK"));
    char *slash = strrchr(root, '/');
    if (slash)
        *slash = '\0';
    slash = strrchr(root, '/');
    if (slash)
        *slash = '\0';
    snprintf(line, sizeof(line), "'%s/commerce-failover' --user '%s' %s 2>&1", root, tc_db_admin(),
             args);
    FILE *p = popen(line, "r");
    assert_non_null(p);
    return p;
}

/* ... and its end: its exit status, its output in out. */
static int failover_end(FILE *p, const char *args, char *out, size_t cap)
{
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    fprintf(stderr, "--- commerce-failover %s (exit %d):\n%s", args, rc, out);
    return rc;
}

static int failover_cmd(const char *args, char *out, size_t cap)
{
    return failover_end(failover_start(args), args, out, cap);
}

/* The workers' database layer, as their account, pointed at server NAME. */
static int worker_insert_on(const char *name)
{
    char text[2048], pass[256] = "";
    config_t cfg;

    tc_secret("fcgi-db-password", pass, sizeof(pass));
    snprintf(text, sizeof(text),
             "db_socket=%s\ndb_user=commerce_fcgi\ndb_password=%s\ndb_name=%s\n", sock_of(name),
             pass, env_req("COMMERCE_TEST_DB_NAME"));
    assert_int_equal(config_parse(&cfg, text, NULL, NULL, NULL), 0);
    db_t *db = db_new(&cfg);
    assert_non_null(db);
    int rc = db_exec(db, "INSERT INTO users (name) VALUES ('a second writer')", NULL, NULL, "");
    db_free(db);
    return rc;
}

/* The host's shared metrics file (DIR/run/metrics.LAYOUT) moved aside, or back:
 * the evidence of the acknowledged writes out of reach, as on a worker host
 * that cannot be asked. The workers keep their mapping of it meanwhile. */
static void metrics_file_away(int away)
{
    char run[1024], from[2048], to[2048];
    int moved = 0;
    snprintf(run, sizeof(run), "%s/run", env_req("COMMERCE_TEST_STATE_DIR"));
    DIR *d = opendir(run);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *n = e->d_name;
        if (away ? strncmp(n, "metrics.", 8) != 0 : strncmp(n, "away-metrics.", 13) != 0)
            continue;
        snprintf(from, sizeof(from), "%s/%s", run, n);
        snprintf(to, sizeof(to), "%s/%s", run, away ? "away-" : "");
        strncat(to, away ? n : n + 5, sizeof(to) - strlen(to) - 1);
        assert_int_equal(rename(from, to), 0);
        moved++;
    }
    closedir(d);
    assert_true(moved > 0);
}

static void force_promotes_and_the_old_primary_takes_no_writes(void **state)
{
    static char out[16384];
    int64_t uid = tc_new_user(), users_before;
    char args[3072];
    (void)state;

    tc_charge(uid, 500);
    caught_up("replica", "mysqld");
    /* the primary is lost while a commit waits for an acknowledgement the replica will
     * never send (its IO thread stopped; the relay's heartbeat commits every 100 ms): that
     * commit is in the old primary's binary log, not on the replica, and nobody was told */
    on("replica", "STOP SLAVE IO_THREAD");
    TC_WAIT_UNTIL_MS(10000,
                     tc_sql_int("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                                " WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_WAIT_SESSIONS'") > 0,
                     "a commit waiting for an acknowledgement");
    /* and the worker hosts cannot be asked */
    metrics_file_away(1);
    int killed = tc_stack("db-kill");
    on("replica", "START SLAVE IO_THREAD");
    assert_int_equal(killed, 0);
    int refused = tc_stack_out("failover", out, sizeof(out));
    int forced =
        refused ? tc_stack_out("failover --force", out + strlen(out), sizeof(out) - strlen(out))
                : -1;
    metrics_file_away(0);
    assert_int_not_equal(refused, 0);
    assert_non_null(strstr(out, "REFUSED: cannot prove"));
    assert_int_equal(forced, 0);
    assert_non_null(strstr(out, "--force: promoting anyway; whatever the old primary committed"));
    assert_non_null(strstr(out, "promoted"));
    assert_int_equal(on("replica", "SELECT @@read_only"), 0);
    TC_WAIT_UNTIL_MS(30000, ready(), "the stack ready on the promoted replica");
    tc_charge(uid, 7); /* writes go to the new primary */
    assert_int_equal(
        on("replica", "SELECT balance FROM point WHERE user_id = %lld", (long long)uid), 507);

    /* the old primary started again: read_only, a replica of no one */
    assert_int_equal(tc_stack("db-start"), 0);
    assert_int_equal(on("mysqld", "SELECT @@read_only"), 1);
    assert_false(is_replica("mysqld"));
    users_before = on("mysqld", "SELECT COUNT(*) FROM users");
    /* no second writer: the workers' database layer gets a 503's refusal, not an error */
    assert_int_equal(worker_insert_on("mysqld"), C_READONLY);
    assert_int_equal(on("mysqld", "SELECT COUNT(*) FROM users"), users_before);
    /* and it cannot be opened while the promoted one takes writes */
    snprintf(args, sizeof(args), "--primary-socket '%s' --replica-socket '%s' open",
             sock_of("mysqld"), sock_of("replica"));
    assert_int_equal(failover_cmd(args, out, sizeof(out)) >> 8, 1);
    assert_non_null(strstr(out, "REFUSED: the other server"));
    assert_int_equal(on("mysqld", "SELECT @@read_only"), 1);
    /* the writes keep going to the new primary all along */
    tc_charge(uid, 3);
    assert_int_equal(
        on("replica", "SELECT balance FROM point WHERE user_id = %lld", (long long)uid), 510);

    /* back as it began: the old primary rejoins as the new one's replica (nothing was lost
     * here: it was caught up when killed, and the commit that waited for an acknowledgement
     * was dropped by its crash recovery, as a server that is not the primary starts with
     * init_rpl_role=SLAVE), a planned failover back finds it reachable, fences the other
     * and waits until it has its last commit, the other rejoins */
    assert_int_equal(tc_stack("rejoin"), 0);
    assert_int_equal(on("mysqld", "SELECT balance FROM point WHERE user_id = %lld", (long long)uid),
                     510);
    assert_int_equal(tc_stack_out("failover", out, sizeof(out)), 0);
    assert_non_null(strstr(out,
                           "the old primary was reached and fenced (read_only); the replica has"
                           " its last commit"));
    assert_int_equal(tc_stack("rejoin"), 0);
    TC_WAIT_UNTIL_MS(30000, ready(), "the stack ready on the first primary again");
    tc_charge(uid, 1);
    assert_int_equal(on("mysqld", "SELECT balance FROM point WHERE user_id = %lld", (long long)uid),
                     511);
    caught_up("replica", "mysqld");
    assert_int_equal(
        on("replica", "SELECT balance FROM point WHERE user_id = %lld", (long long)uid), 511);
    assert_int_equal(on("replica", "SELECT @@read_only"), 1);
}

/* ---- a primary that answers ------------------------------------------------------- */

static void a_primary_that_answers_is_never_taken_for_dead(void **state)
{
    static char out[16384];
    char args[3072], port[32] = "", path[1024];
    const char *dir = env_req("COMMERCE_TEST_STATE_DIR");
    (void)state;

    caught_up("replica", "mysqld");
    snprintf(path, sizeof(path), "%s/run/db.port", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(port, sizeof(port), f));
    fclose(f);
    port[strcspn(port, "\n")] = '\0';
    /* the primary up, but its login refused (over TCP the administrator's unix_socket
     * authentication does not apply: access denied), with evidence that alone would let the
     * promotion through: it fails (exit 3) and changes nothing, the primary keeps taking
     * writes and the replica replicating */
    snprintf(args, sizeof(args),
             "--replica-socket '%s' --primary-host 127.0.0.1:%s --metrics-file '%s/run/metrics'"
             " --acked-until 1 promote",
             sock_of("replica"), port, dir);
    assert_int_equal(failover_cmd(args, out, sizeof(out)) >> 8, 3);
    assert_non_null(strstr(out, "the login failed"));
    assert_true(is_replica("replica"));
    assert_int_equal(on("replica", "SELECT @@read_only"), 1);
    assert_int_equal(on("mysqld", "SELECT @@read_only"), 0);

    /* a refused promotion leaves the primary as it found it: the replica behind (its IO
     * thread stopped while the relay's heartbeat commits), the primary fenced by the
     * operator beforehand stays read_only; one that took writes takes them again */
    on("replica", "STOP SLAVE IO_THREAD");
    char before[512], now[512];
    text_on("replica", "SELECT @@gtid_current_pos", before, sizeof(before));
    TC_WAIT_UNTIL_MS(
        10000,
        (text_on("mysqld", "SELECT @@gtid_binlog_pos", now, sizeof(now)), strcmp(now, before) != 0),
        "the primary commits what the replica lacks");
    snprintf(args, sizeof(args), "--replica-socket '%s' --primary-socket '%s' --wait-s 1 promote",
             sock_of("replica"), sock_of("mysqld"));
    on("mysqld", "SET GLOBAL read_only = ON");
    int fenced_first = failover_cmd(args, out, sizeof(out)) >> 8;
    int64_t ro = on("mysqld", "SELECT @@read_only");
    on("mysqld", "SET GLOBAL read_only = OFF");
    int open_first = failover_cmd(args, out + strlen(out), sizeof(out) - strlen(out)) >> 8;
    /* a failure after the fence (the replica's connection lost while it waits for the
     * primary's position: exit 3) opens the primary again too */
    snprintf(args, sizeof(args), "--replica-socket '%s' --primary-socket '%s' --wait-s 60 promote",
             sock_of("replica"), sock_of("mysqld"));
    FILE *running = failover_start(args);
    TC_WAIT_UNTIL_MS(30000,
                     on("replica", "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                                   " WHERE INFO LIKE 'SELECT MASTER_GTID_WAIT%%'") == 1,
                     "commerce-failover waiting for the primary's position");
    int64_t fenced_meanwhile = on("mysqld", "SELECT @@read_only");
    on("replica", "KILL %lld",
       (long long)on("replica", "SELECT ID FROM information_schema.PROCESSLIST"
                                " WHERE INFO LIKE 'SELECT MASTER_GTID_WAIT%%'"));
    int lost = failover_end(running, args, out + strlen(out), sizeof(out) - strlen(out)) >> 8;
    int64_t ro_after_failure = on("mysqld", "SELECT @@read_only");
    on("mysqld", "SET GLOBAL read_only = OFF");
    on("replica", "START SLAVE IO_THREAD");
    assert_int_equal(fenced_meanwhile, 1);
    assert_int_equal(lost, 3);
    assert_int_equal(ro_after_failure, 0);
    assert_int_equal(fenced_first, 1);
    assert_int_equal(ro, 1);
    assert_int_equal(open_first, 1);
    assert_non_null(strstr(out, "the old primary stays read_only, as it was before"));
    assert_non_null(strstr(out, "the old primary takes writes again (read_only = OFF, as it was)"));
    assert_int_equal(on("mysqld", "SELECT @@read_only"), 0);
    assert_true(is_replica("replica"));

    /* a time no int64_t of microseconds holds is a usage error, not a verdict */
    static const char *const bad[] = {"inf", "1e30", "nan", "-1", "99999-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(args, sizeof(args), "--replica-socket '%s' --acked-until '%s' check",
                 sock_of("replica"), bad[i]);
        assert_int_equal(failover_cmd(args, out, sizeof(out)) >> 8, 2);
        assert_non_null(strstr(out, "not a time"));
    }
}

/* ---- replication_policy = durability ------------------------------------------- */

static int availability_again(void **state)
{
    return tc_set_policy("availability") == 0 ? as_it_began(state) : -1;
}

static long keyed_order(const char *body, const char *key, int64_t *order_id)
{
    tc_resp_t *r = tc_post_key("/orders", body, key);
    long st = r->status;
    if (st == 201 && order_id)
        *order_id = tc_int(r, "orderId");
    tc_free(r);
    return st;
}

static void durability_answers_only_what_a_replica_has(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(10, 1000), first = 0, again = 0;
    char body[160], path[96], ra[16];
    (void)state;

    tc_charge(uid, 10000);
    order_body(body, sizeof(body), uid, pid);
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
    assert_int_equal(tc_set_policy("durability"), 0);
    TC_WAIT_UNTIL_MS(30000, ready(), "the workers back with replication_policy=durability");
    /* with the replica there: acknowledged as usual */
    assert_paid(tc_post("/orders", body), 10, 9990);
    assert_answers(tc_post(path, "{\"amount\":10}"), 200);

    /* the replica away: refused at once, 503 with Retry-After, nothing written */
    int64_t pids[1] = {pid};
    assert_int_equal(tc_stack("replica-stop"), 0);
    tc_snapshot_t before = tc_snapshot(uid, 1, pids);
    for (int i = 0; i < 8; i++) {
        tc_resp_t *r = tc_post("/orders", body);
        assert_problem(r, 503, "SERVICE_UNAVAILABLE");
        assert_non_null(tc_header(r, "Retry-After", ra, sizeof(ra)));
        tc_free(r);
        assert_refused(tc_post(path, "{\"amount\":10}"), 503, "SERVICE_UNAVAILABLE");
    }
    tc_snapshot_equal(&before);
    /* back: acknowledged again once it acknowledges */
    assert_int_equal(tc_stack("replica-start"), 0);
    TC_WAIT_UNTIL_MS(30000, keyed_order(body, "dur-back", NULL) == 201,
                     "an order acknowledged with the replica back");

    /* the replica connected but acknowledging nothing: the commit waits the semi-sync
     * timeout and goes through unacknowledged; the answer says the outcome is unknown */
    tc_replica_signal(SIGSTOP);
    tc_resp_t *r = tc_post_key("/orders", body, "dur-unacked");
    tc_replica_signal(SIGCONT);
    assert_problem(r, 503, "OUTCOME_UNKNOWN");
    assert_non_null(strstr(tc_str(r, "detail"), "no replica acknowledged it"));
    tc_free(r);
    /* it committed on the primary (and the replica has it now); the same key gets its
     * answer once a replica acknowledges again */
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM idempotency_key WHERE user_id = %lld"
                                " AND idem_key = 'dur-unacked'",
                                (long long)uid),
                     1);
    TC_WAIT_UNTIL_MS(30000, keyed_order(body, "dur-unacked", &first) == 201,
                     "the unacknowledged order's key answered once the replica is back");
    assert_int_equal(keyed_order(body, "dur-unacked", &again), 201);
    assert_int_equal(first, again);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id = %lld", (long long)uid),
                     3); /* the first, dur-back, dur-unacked: once */
}

int main(void)
{
    tc_replica_sync_reads(0); /* the replica goes away on purpose here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(a_read_only_primary_is_503_never_500, as_it_began),
        cmocka_unit_test_teardown(promotion_is_refused_after_the_replica_was_away, as_it_began),
        cmocka_unit_test_teardown(force_promotes_and_the_old_primary_takes_no_writes, as_it_began),
        cmocka_unit_test_teardown(a_primary_that_answers_is_never_taken_for_dead, as_it_began),
        cmocka_unit_test_teardown(durability_answers_only_what_a_replica_has, availability_again),
    };
    return cmocka_run_group_tests_name("integration/failover", tests, NULL, NULL);
}
