/* The data platform feed, end to end: orders write outbox rows, commerce-relay
 * delivers them to the fake data platform (scripts/fake-platform.py), at least
 * once, through platform failures, hangs, a second relay and a relay killed
 * with -9; events parked as FAILED are visible and replayable.
 *
 * Every scenario uses its own user, so its events are exactly the outbox rows
 * of that user's orders; the platform is reset at the start of each. Waiting
 * is polling an observable condition (every 50 ms, bounded), never a sleep
 * standing in for it. */
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/client.h"

#define WAIT_MS 30000
#define MAX_ROWS 256
#define NO_EVENT "00000000-0000-4000-8000-000000000000"

/* ---------------------------------------------------------------------------
 * time and waiting */

#define WAIT_UNTIL(cond, ...) TC_WAIT_UNTIL_MS(WAIT_MS, cond, __VA_ARGS__)

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set (run through scripts/test)\n", name);
        fail();
    }
    return v;
}

/* ---------------------------------------------------------------------------
 * the fake data platform's control API */

/* Forget everything, mode ok; requests held by an earlier "hang" are let go. */
static void platform_reset(void)
{
    json_object_put(tc_platform("POST", "/_reset", "{}"));
    WAIT_UNTIL(tc_platform_state("hanging") == 0, "the platform to let go of held requests");
}

/* {"events":[...]}: caller puts it; events_of() is the array inside. */
static json_object *platform_events(void) { return tc_platform("GET", "/_events", NULL); }

static json_object *events_of(json_object *doc)
{
    json_object *a = NULL;
    assert_true(json_object_object_get_ex(doc, "events", &a));
    assert_true(json_object_is_type(a, json_type_array));
    return a;
}

static json_object *find_event(json_object *events, const char *event_id)
{
    size_t n = json_object_array_length(events);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(events, i), *id = NULL;
        if (json_object_object_get_ex(e, "eventId", &id) &&
            strcmp(json_object_get_string(id), event_id) == 0)
            return e;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------
 * outbox rows, read directly (the client library only returns integers) */

static MYSQL *my;

static MYSQL *db(void)
{
    if (!my) {
        my = mysql_init(NULL);
        if (!mysql_real_connect(my, NULL, tc_db_admin(), "", env("COMMERCE_TEST_DB_NAME"), 0,
                                env("COMMERCE_TEST_DB_SOCKET"), 0)) {
            fprintf(stderr, "test db connect: %s\n", mysql_error(my));
            fail();
        }
        mysql_query(my, "SET time_zone = '+00:00'");
    }
    return my;
}

typedef struct row {
    char event_id[40];
    char type[32];
    int64_t order_id;
    char status[16];
    int64_t attempts;
    char last_error[512];
} row_t;

/* The outbox rows of every order of user uid, oldest first. */
static int user_rows(int64_t uid, row_t *out, int cap)
{
    char q[512];
    MYSQL_RES *res;
    MYSQL_ROW r;
    int n = 0;

    snprintf(q, sizeof(q),
             "SELECT event_id, type, order_id, status, attempts, COALESCE(last_error, '')"
             " FROM outbox WHERE order_id IN (SELECT id FROM orders WHERE user_id = %lld)"
             " ORDER BY id",
             (long long)uid);
    if (mysql_query(db(), q) != 0 || !(res = mysql_store_result(db()))) {
        fprintf(stderr, "sql %s: %s\n", q, mysql_error(db()));
        fail();
    }
    while ((r = mysql_fetch_row(res)) && n < cap) {
        row_t *x = &out[n++];
        snprintf(x->event_id, sizeof(x->event_id), "%s", r[0]);
        snprintf(x->type, sizeof(x->type), "%s", r[1]);
        x->order_id = strtoll(r[2], NULL, 10);
        snprintf(x->status, sizeof(x->status), "%s", r[3]);
        x->attempts = strtoll(r[4], NULL, 10);
        snprintf(x->last_error, sizeof(x->last_error), "%s", r[5]);
    }
    assert_null(r); /* cap was enough */
    mysql_free_result(res);
    return n;
}

/* COUNT(*) of user uid's outbox rows matching an extra condition. */
static int64_t user_count(int64_t uid, const char *cond)
{
    return tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id IN"
                      " (SELECT id FROM orders WHERE user_id = %lld) AND %s",
                      (long long)uid, cond);
}

/* One column of an event's outbox row as text ("(none)" for no row, "(null)" for NULL). */
static const char *event_col(const char *event_id, const char *col)
{
    static char value[512];
    char q[256];
    MYSQL_RES *res;
    MYSQL_ROW r;

    snprintf(q, sizeof(q), "SELECT %s FROM outbox WHERE event_id = '%s'", col, event_id);
    if (mysql_query(db(), q) != 0 || !(res = mysql_store_result(db()))) {
        fprintf(stderr, "sql %s: %s\n", q, mysql_error(db()));
        fail();
    }
    r = mysql_fetch_row(res);
    snprintf(value, sizeof(value), "%s", !r ? "(none)" : r[0] ? r[0] : "(null)");
    mysql_free_result(res);
    return value;
}

static const char *event_status(const char *event_id) { return event_col(event_id, "status"); }

/* Every one of user uid's n events is DELIVERED in the outbox and present on the platform. */
static int all_delivered(int64_t uid, int64_t n)
{
    row_t rows[MAX_ROWS];
    int k;

    if (user_count(uid, "status = 'DELIVERED'") != n)
        return 0;
    k = user_rows(uid, rows, MAX_ROWS);
    json_object *doc = platform_events(), *ev = events_of(doc);
    int ok = k == n;
    for (int i = 0; ok && i < k; i++)
        ok = find_event(ev, rows[i].event_id) != NULL;
    json_object_put(doc);
    return ok;
}

static void wait_all_delivered(int64_t uid, int64_t n)
{
    WAIT_UNTIL(all_delivered(uid, n),
               "all %lld events of user %lld DELIVERED and on the platform (%lld DELIVERED now)",
               (long long)n, (long long)uid, (long long)user_count(uid, "status = 'DELIVERED'"));
}

/* ---------------------------------------------------------------------------
 * orders */

struct fx {
    int64_t uid, pid;
};

static struct fx fixture(void)
{
    struct fx f;
    f.uid = tc_new_user();
    f.pid = tc_new_product(1000, 100000);
    tc_charge(f.uid, 10000000);
    return f;
}

/* Places an order for qty units; returns its id, and its total in *total. */
static int64_t place(const struct fx *f, int64_t qty, int64_t *total)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":%lld}]}",
             (long long)f->uid, (long long)f->pid, (long long)qty);
    tc_resp_t *r = tc_post("/orders", body);
    tc_expect_status(r, 201);
    int64_t id = tc_int(r, "orderId");
    if (total)
        *total = tc_int(r, "total");
    tc_free(r);
    return id;
}

/* A reset platform told `mode`, and a fresh user (with a product) who places
 * n orders of one unit. */
static struct fx fresh_orders(const char *mode, int n)
{
    platform_reset();
    struct fx f = fixture();
    tc_platform_mode(mode);
    for (int i = 0; i < n; i++)
        place(&f, 1, NULL);
    return f;
}

/* ---------------------------------------------------------------------------
 * the relay processes */

static const char *state_dir(void) { return env("COMMERCE_TEST_STATE_DIR"); }

static void stack(const char *cmd) { assert_int_equal(tc_stack(cmd), 0); }

/* /proc/PID/name into buf (NUL-terminated); its length, -1 when the process is gone. */
static long read_proc(pid_t pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

/* /proc/PID/stat says it runs (not gone, not a zombie). */
static int pid_running(pid_t pid)
{
    char line[512];
    if (read_proc(pid, "stat", line, sizeof(line)) < 0)
        return 0;
    const char *p = strrchr(line, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static int cmdline_has(pid_t pid, const char *what)
{
    char buf[4096];
    long got = read_proc(pid, "cmdline", buf, sizeof(buf));
    if (got < 0)
        return 0;
    size_t n = (size_t)got;
    for (size_t i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = ' ';
    buf[n] = '\0';
    return strstr(buf, what) != NULL;
}

/* The stack's own relay (DIR/run/relay.pid), 0 when it does not run. */
static pid_t stack_relay_pid(void)
{
    char path[1024];
    long pid = 0;
    snprintf(path, sizeof(path), "%s/run/relay.pid", state_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid > 0 && pid_running((pid_t)pid) && cmdline_has((pid_t)pid, "commerce-relay")
               ? (pid_t)pid
               : 0;
}

/* Teardown: whatever a failed scenario left behind, the next one finds the
 * stack's relay running and the platform healthy. */
static int restore_stack(void **state)
{
    (void)state;
    if (!stack_relay_pid()) {
        stack("relay-start");
        WAIT_UNTIL(stack_relay_pid() > 0, "the restarted relay to run");
    }
    json_object_put(tc_platform("POST", "/_mode", "{\"mode\":\"ok\"}"));
    return 0;
}

static pid_t relay2_pid;

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* The log has `what` after offset `from`. */
static int log_has(const char *path, off_t from, const char *what)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    int found = 0;
    if (!f)
        return 0;
    if (fseeko(f, from, SEEK_SET) == 0)
        while (!found && fgets(line, sizeof(line), f))
            found = strstr(line, what) != NULL;
    fclose(f);
    return found;
}

static const char *relay_binary(void)
{
    static char path[1024];
    if (access("./commerce-relay", X_OK) == 0)
        return "./commerce-relay";
    /* COMMERCE_TEST_STACK is ROOT/scripts/stack */
    snprintf(path, sizeof(path), "%s", env("COMMERCE_TEST_STACK"));
    char *s = strrchr(path, '/');
    assert_non_null(s);
    *s = '\0';
    s = strrchr(path, '/');
    assert_non_null(s);
    snprintf(s, sizeof(path) - (size_t)(s - path), "/commerce-relay");
    return path;
}

/* A second commerce-relay on the same configuration; waits until it runs its loop. */
static pid_t relay2_start(void)
{
    char conf[1024], logp[1024];
    const char *bin = relay_binary();

    snprintf(conf, sizeof(conf), "%s/relay.conf", state_dir());
    snprintf(logp, sizeof(logp), "%s/log/relay2.log", state_dir());
    off_t from = file_size(logp);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd < 0 || nul < 0)
            _exit(127);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("COMMERCE_CONFIG", conf, 1);
        setenv("COMMERCE_RELAY_ID", "second-relay", 1); /* two relays, two identities */
        execl(bin, "commerce-relay", (char *)NULL);
        _exit(127);
    }
    relay2_pid = pid;
    WAIT_UNTIL(log_has(logp, from, "delivering to") || waitpid(pid, NULL, WNOHANG) == pid,
               "the second relay to start (%s)", logp);
    if (!pid_running(pid)) {
        relay2_pid = 0;
        fprintf(stderr, "the second relay exited at once; see %s\n", logp);
        fail();
    }
    return pid;
}

static int stop_relay2(void **state)
{
    (void)state;
    if (relay2_pid > 0) {
        kill(relay2_pid, SIGKILL);
        waitpid(relay2_pid, NULL, 0);
        relay2_pid = 0;
    }
    return restore_stack(state);
}

/* ---------------------------------------------------------------------------
 * a. every PAID and CANCELLED order: one event, delivered, carrying the order */

static void paid_and_cancelled_orders_are_delivered(void **state)
{
    enum { N = 6 };
    int64_t ids[N], totals[N];
    int cancelled[N] = {1, 0, 1, 0, 1, 0};
    row_t rows[MAX_ROWS];
    (void)state;

    platform_reset();
    struct fx f = fixture();
    for (int i = 0; i < N; i++)
        ids[i] = place(&f, i + 1, &totals[i]);
    for (int i = 0; i < N; i++) {
        if (!cancelled[i])
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/orders/%lld/cancel", (long long)ids[i]);
        tc_resp_t *r = tc_req("POST", path, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_string_equal(tc_str(r, "status"), "CANCELLED");
        tc_free(r);
    }

    /* exactly one event per paid order and one per cancel, each with its own id */
    for (int i = 0; i < N; i++) {
        assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld AND"
                                    " type='ORDER_PAID'",
                                    (long long)ids[i]),
                         1);
        assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld AND"
                                    " type='ORDER_CANCELLED'",
                                    (long long)ids[i]),
                         cancelled[i]);
        assert_int_equal(
            tc_sql_int("SELECT COUNT(*) FROM outbox WHERE order_id=%lld", (long long)ids[i]),
            1 + cancelled[i]);
    }
    assert_int_equal(user_count(f.uid, "1"), N + 3);
    assert_int_equal(tc_sql_int("SELECT COUNT(DISTINCT event_id) FROM outbox WHERE order_id IN"
                                " (SELECT id FROM orders WHERE user_id=%lld)",
                                (long long)f.uid),
                     N + 3);

    wait_all_delivered(f.uid, N + 3);

    int n = user_rows(f.uid, rows, MAX_ROWS);
    assert_int_equal(n, N + 3);
    json_object *doc = platform_events(), *ev = events_of(doc);
    for (int k = 0; k < n; k++) {
        json_object *e = find_event(ev, rows[k].event_id);
        int i = 0;
        while (i < N && ids[i] != rows[k].order_id)
            i++;
        assert_true(i < N);
        assert_non_null(e);
        assert_string_equal(rows[k].status, "DELIVERED");
        assert_string_equal(tc_jstr(e, "type"), rows[k].type);
        assert_int_equal(tc_jint(e, "orderId"), ids[i]);
        assert_int_equal(tc_jint(e, "total"), totals[i]);
        assert_int_equal(totals[i], (i + 1) * 1000);
        assert_string_equal(tc_jstr(e, "status"),
                            strcmp(rows[k].type, "ORDER_PAID") == 0 ? "PAID" : "CANCELLED");
        assert_true(tc_jint(e, "deliveries") >= 1);
        const char *at = tc_jstr(e, "occurredAt");
        tc_assert_time(at);
    }
    json_object_put(doc);
    /* the platform checks X-Commerce-Signature (HMAC-SHA256 of "t.body" with the
     * stack's data_platform_secret) and refuses a bad one with 401: every event
     * came signed, none was refused */
    assert_int_equal(tc_platform_state("badSignatures"), 0);
    assert_true(tc_platform_state("signed") >= N + 3);
    assert_int_equal(tc_platform_state("signed"), tc_platform_state("received"));

    /* and the check is real: a forged or unsigned delivery is refused */
    static const char forged_ev[] =
        "{\"eventId\":\"forged-1\",\"type\":\"ORDER_PAID\",\"order\":{}}";
    char sig[128];
    snprintf(sig, sizeof(sig), "X-Commerce-Signature: t=%lld,v1=%064d", (long long)time(NULL), 0);
    const char *forged[] = {"Content-Type: application/json", "Idempotency-Key: forged-1", sig,
                            NULL};
    const char *unsigned_[] = {"Content-Type: application/json", "Idempotency-Key: forged-1", NULL};
    int64_t bad = tc_platform_state("badSignatures");
    tc_resp_t *r = tc_req_at(tc_platform_base(), "POST", "/events", forged_ev, forged);
    assert_int_equal(r->status, 401);
    tc_free(r);
    assert_answers(tc_req_at(tc_platform_base(), "POST", "/events", forged_ev, unsigned_), 401);
    assert_int_equal(tc_platform_state("badSignatures"), bad + 2);
}

/* ---------------------------------------------------------------------------
 * b. the platform answers 500 for a while: retried, nothing lost */

static void failing_platform_loses_nothing(void **state)
{
    enum { N = 10 };
    (void)state;

    struct fx f = fresh_orders("fail", N);
    WAIT_UNTIL(tc_platform_state("failed") >= N && user_count(f.uid, "attempts >= 1") >= 1,
               "10 refused deliveries (%lld so far)", (long long)tc_platform_state("failed"));
    /* refused, so still pending: neither delivered nor parked */
    assert_int_equal(user_count(f.uid, "status = 'PENDING'"), N);
    assert_int_equal(user_count(f.uid, "last_error = 'HTTP 500'"),
                     user_count(f.uid, "attempts >= 1"));
    assert_int_equal(tc_platform_state("unique"), 0);

    tc_platform_mode("ok");
    wait_all_delivered(f.uid, N);
    assert_int_equal(user_count(f.uid, "status = 'DELIVERED'"), N);
    /* the refused ones were delivered on a later attempt */
    assert_true(user_count(f.uid, "attempts >= 2") >= 1);
    assert_int_equal(user_count(f.uid, "last_error IS NOT NULL"), 0);
}

/* ---------------------------------------------------------------------------
 * c. the platform hangs: orders are not slowed, events follow later */

static void hanging_platform_does_not_hold_orders(void **state)
{
    enum { N = 20 };
    (void)state;

    struct fx f = fresh_orders("hang", 1); /* gives the relay something to be stuck on */
    WAIT_UNTIL(tc_platform_state("hanging") >= 1, "the relay to be stuck in a request");
    for (int i = 0; i < N; i++)
        place(&f, 1, NULL); /* each asserts 201 */
    /* the orders are all done and the platform has still not answered */
    assert_true(tc_platform_state("hanging") >= 1);
    assert_int_equal(tc_platform_state("received"), 0);
    assert_int_equal(user_count(f.uid, "status = 'PENDING'"), N + 1);
    assert_int_equal(user_count(f.uid, "1"), N + 1);

    tc_platform_mode("ok");
    wait_all_delivered(f.uid, N + 1);
}

/* ---------------------------------------------------------------------------
 * d. two relays at once: every event delivered, none twice */

#define CLIENTS 4
#define PER_CLIENT 25

static struct fx par_fx;

static int place_many(int i, void *arg)
{
    char body[256];
    (void)i;
    (void)arg;
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}",
             (long long)par_fx.uid, (long long)par_fx.pid);
    for (int k = 0; k < PER_CLIENT; k++) {
        tc_resp_t *r = tc_post("/orders", body);
        long st = r->status;
        tc_free(r);
        if (st != 201)
            return tc_status_code(st);
    }
    return 0;
}

static void two_relays_deliver_each_event_once(void **state)
{
    int results[CLIENTS];
    row_t rows[MAX_ROWS];
    char mine[32], theirs[32];
    (void)state;

    platform_reset();
    pid_t main_pid = stack_relay_pid();
    assert_true(main_pid > 0);
    pid_t pid = relay2_start();
    par_fx = fixture();

    assert_int_equal(tc_parallel(CLIENTS, place_many, NULL, results), 0);
    for (int i = 0; i < CLIENTS; i++) {
        if (results[i])
            fprintf(stderr, "client %d got %ld\n", i, tc_code_status(results[i]));
        assert_int_equal(results[i], 0);
    }
    assert_int_equal(user_count(par_fx.uid, "1"), CLIENTS * PER_CLIENT);
    wait_all_delivered(par_fx.uid, CLIENTS * PER_CLIENT);

    int n = user_rows(par_fx.uid, rows, MAX_ROWS);
    assert_int_equal(n, CLIENTS * PER_CLIENT);
    snprintf(mine, sizeof(mine), ":%d", (int)pid);
    snprintf(theirs, sizeof(theirs), ":%d", (int)main_pid);
    int by_second = 0, by_first = 0, dup = 0;
    json_object *doc = platform_events(), *ev = events_of(doc);
    for (int k = 0; k < n; k++) {
        json_object *e = find_event(ev, rows[k].event_id);
        assert_non_null(e);
        if (tc_jint(e, "deliveries") != 1) {
            fprintf(stderr, "event %s (order %lld) delivered %lld times by %s\n", rows[k].event_id,
                    (long long)rows[k].order_id, (long long)tc_jint(e, "deliveries"),
                    json_object_to_json_string(tc_jget(e, "relays")));
            dup++;
        }
        json_object *relays = tc_jget(e, "relays");
        assert_int_equal(json_object_array_length(relays), tc_jint(e, "deliveries"));
        const char *who = json_object_get_string(json_object_array_get_idx(relays, 0));
        size_t wl = strlen(who);
        if (wl >= strlen(mine) && strcmp(who + wl - strlen(mine), mine) == 0)
            by_second++;
        else if (wl >= strlen(theirs) && strcmp(who + wl - strlen(theirs), theirs) == 0)
            by_first++;
    }
    json_object_put(doc);
    fprintf(stderr, "stack relay delivered %d, second relay %d\n", by_first, by_second);
    assert_int_equal(dup, 0);
    /* both took part, or the test proved nothing about double claims */
    assert_int_equal(by_first + by_second, n);
    assert_true(by_first > 0);
    assert_true(by_second > 0);

    /* SIGTERM: the second relay finishes its round and exits 0 */
    int st = 0;
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    relay2_pid = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---------------------------------------------------------------------------
 * e. kill -9 of the relay in the middle of a batch: nothing lost */

static void relay_killed_mid_batch_loses_nothing(void **state)
{
    enum { N = 30 };
    (void)state;

    struct fx f = fresh_orders("hang", N);
    WAIT_UNTIL(tc_platform_state("hanging") >= 1, "the relay to be inside a request");
    pid_t pid = stack_relay_pid();
    assert_true(pid > 0);
    /* claimed (leased) and not delivered: the relay holds part of the batch */
    assert_int_equal(user_count(f.uid, "status = 'DELIVERED'"), 0);
    int64_t claimed = user_count(f.uid, "claimed_by IS NOT NULL");
    assert_true(claimed >= 1);
    /* the end of the earliest lease the dead relay holds */
    int64_t lease_ms = tc_sql_int("SELECT FLOOR(UNIX_TIMESTAMP(MIN(next_attempt_at)) * 1000)"
                                  " FROM outbox WHERE claimed_by IS NOT NULL AND order_id IN"
                                  " (SELECT id FROM orders WHERE user_id = %lld)",
                                  (long long)f.uid);
    assert_int_equal(kill(pid, SIGKILL), 0);
    WAIT_UNTIL(!pid_running(pid), "relay %d to die", (int)pid);

    tc_platform_mode("ok");
    stack("relay-start");
    /* the pid file is written before the new process has exec'd the relay */
    WAIT_UNTIL(stack_relay_pid() > 0, "the restarted relay to run");
    assert_true(stack_relay_pid() != pid);
    wait_all_delivered(f.uid, N); /* at least once: duplicates are allowed here */
    assert_true(tc_platform_state("unique") >= N);
    /* the restarted relay (the same identity) took its claims back at once:
     * every event it had claimed went out before that lease would have ended */
    char cond[96];
    snprintf(cond, sizeof(cond), "UNIX_TIMESTAMP(delivered_at) * 1000 < %lld", (long long)lease_ms);
    assert_int_equal(user_count(f.uid, cond), N);
    assert_int_equal(user_count(f.uid, "claimed_by IS NOT NULL"), 0);
}

/* ---------------------------------------------------------------------------
 * f. parked as FAILED after the last attempt, visible, replayable */

/* The failedEvents entry for event_id on GET /admin/outbox (following `next`), or NULL;
 * *failed gets the failed count. Caller puts the entry. */
static json_object *admin_failed_entry(const char *event_id, int64_t *failed)
{
    char path[128];
    int64_t after = 0;

    for (int page = 0; page < 1000; page++) {
        if (after)
            snprintf(path, sizeof(path), "/admin/outbox?limit=100&after=%lld", (long long)after);
        else
            snprintf(path, sizeof(path), "/admin/outbox?limit=100");
        tc_resp_t *r = tc_admin("GET", path, NULL);
        assert_int_equal(r->status, 200);
        if (page == 0)
            *failed = tc_int(r, "failed");
        json_object *list = tc_jget(r->json, "failedEvents");
        size_t n = json_object_array_length(list);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(list, i);
            if (strcmp(tc_jstr(e, "eventId"), event_id) == 0) {
                json_object_get(e);
                tc_free(r);
                return e;
            }
        }
        after = tc_is_null(r, "next") ? 0 : tc_int(r, "next");
        tc_free(r);
        if (!after)
            break;
    }
    return NULL;
}

static void parked_event_is_listed_and_replayed(void **state)
{
    row_t rows[4];
    int64_t failed = 0, total = 0;
    json_object *entry;
    char body[128];
    (void)state;

    platform_reset();
    struct fx f = fixture();
    tc_platform_mode("fail");
    int64_t oid = place(&f, 3, &total);
    WAIT_UNTIL(user_count(f.uid, "attempts >= 1") == 1, "the first refused attempt");
    assert_int_equal(user_rows(f.uid, rows, 4), 1);
    const char *id = rows[0].event_id;
    /* one attempt short of relay_max_attempts (50): the next refusal parks it */
    tc_sql("UPDATE outbox SET attempts = 49 WHERE event_id = '%s' AND status = 'PENDING'", id);
    WAIT_UNTIL(strcmp(event_status(id), "FAILED") == 0, "event %s to be parked (%s)", id,
               event_status(id));
    assert_int_equal(tc_sql_int("SELECT attempts FROM outbox WHERE event_id='%s'", id), 50);

    entry = admin_failed_entry(id, &failed);
    assert_non_null(entry);
    assert_true(failed >= 1);
    assert_string_equal(tc_jstr(entry, "lastError"), "HTTP 500");
    assert_string_equal(tc_jstr(entry, "type"), "ORDER_PAID");
    assert_int_equal(tc_jint(entry, "orderId"), oid);
    assert_int_equal(tc_jint(entry, "attempts"), 50);
    tc_assert_time(tc_jstr(entry, "occurredAt"));
    json_object_put(entry);

    /* the platform is well again, but a parked event waits for a replay */
    tc_platform_mode("ok");
    assert_string_equal(event_status(id), "FAILED");

    /* no token, a wrong token: 401, nothing replayed */
    snprintf(body, sizeof(body), "{\"eventId\":\"%s\"}", id);
    tc_resp_t *r = tc_post("/admin/outbox/replay", body);
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);
    const char *wrong[] = {"Content-Type: application/json", "Authorization: Bearer nope", NULL};
    assert_refused(tc_req("POST", "/admin/outbox/replay", body, wrong), 401, "UNAUTHORIZED");
    assert_refused(tc_get("/admin/outbox"), 401, "UNAUTHORIZED");
    assert_string_equal(event_status(id), "FAILED");

    /* unknown event id: 404 */
    assert_refused(tc_admin("POST", "/admin/outbox/replay", "{\"eventId\":\"" NO_EVENT "\"}"), 404,
                   "NOT_FOUND");
    assert_refused(tc_admin("POST", "/admin/outbox/replay", "{\"eventId\":42}"), 400,
                   "INVALID_REQUEST");
    assert_string_equal(event_status(id), "FAILED");

    r = tc_admin("POST", "/admin/outbox/replay", body);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "replayed"), 1);
    tc_free(r);
    wait_all_delivered(f.uid, 1);

    json_object *doc = platform_events(), *e = find_event(events_of(doc), id);
    assert_non_null(e);
    assert_int_equal(tc_jint(e, "orderId"), oid);
    assert_int_equal(tc_jint(e, "total"), total);
    json_object_put(doc);

    /* no longer parked: not listed, and a second replay finds nothing */
    assert_null(admin_failed_entry(id, &failed));
    assert_refused(tc_admin("POST", "/admin/outbox/replay", body), 404, "NOT_FOUND");
}

/* ---------------------------------------------------------------------------
 * g. an event the platform rejects (400) must not hold back the ones behind it.
 * Its payload is made unparsable; it is first in line, another event is right
 * behind it. While the rejected one is still being retried (15 attempts left),
 * the other must get through. */

static void rejected_event_does_not_hold_back_the_others(void **state)
{
    row_t rows[4];
    (void)state;

    platform_reset();
    struct fx f = fixture();
    stack("relay-stop");
    int64_t bad_order = place(&f, 1, NULL);
    int64_t good_order = place(&f, 2, NULL);
    assert_int_equal(user_rows(f.uid, rows, 4), 2);
    assert_int_equal(rows[0].order_id, bad_order);
    assert_int_equal(rows[1].order_id, good_order);
    char bad[40], good[40];
    snprintf(bad, sizeof(bad), "%s", rows[0].event_id);
    snprintf(good, sizeof(good), "%s", rows[1].event_id);
    tc_sql("UPDATE outbox SET payload = CONCAT('x', payload), attempts = 35,"
           " next_attempt_at = NOW(3) - INTERVAL 2 SECOND WHERE event_id = '%s'",
           bad);
    tc_sql("UPDATE outbox SET next_attempt_at = NOW(3) - INTERVAL 1 SECOND WHERE event_id = '%s'",
           good);
    stack("relay-start");
    WAIT_UNTIL(stack_relay_pid() > 0, "the restarted relay to run");

    WAIT_UNTIL(strcmp(event_status(good), "DELIVERED") == 0 ||
                   strcmp(event_status(bad), "FAILED") == 0,
               "event %s delivered or event %s parked", good, bad);
    const char *good_then = strcmp(event_status(good), "DELIVERED") == 0 ? "DELIVERED" : "PENDING";
    const char *bad_then = strcmp(event_status(bad), "FAILED") == 0 ? "FAILED" : "PENDING";
    if (strcmp(bad_then, "FAILED") == 0)
        fprintf(stderr,
                "the rejected event %s was retried to the end (parked) while %s (%s)"
                " waited behind it: head-of-line blocking\n",
                bad, good, good_then);
    assert_string_equal(bad_then, "PENDING");
    assert_string_equal(good_then, "DELIVERED");

    /* the rejected one is retried to the end and parked with the platform's answer */
    WAIT_UNTIL(strcmp(event_status(bad), "FAILED") == 0, "event %s to be parked", bad);
    assert_string_equal(event_col(bad, "last_error"), "HTTP 400");
    assert_string_equal(event_col(bad, "attempts"), "50");

    /* clean up: mend it and replay it */
    tc_sql("UPDATE outbox SET payload = SUBSTRING(payload, 2) WHERE event_id = '%s'", bad);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM outbox WHERE event_id='%s' AND"
                                " payload LIKE '{%%'",
                                bad),
                     1);
    char body[128];
    snprintf(body, sizeof(body), "{\"eventId\":\"%s\"}", bad);
    tc_resp_t *r = tc_admin("POST", "/admin/outbox/replay", body);
    assert_int_equal(r->status, 200);
    tc_free(r);
    wait_all_delivered(f.uid, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(paid_and_cancelled_orders_are_delivered, restore_stack),
        cmocka_unit_test_teardown(failing_platform_loses_nothing, restore_stack),
        cmocka_unit_test_teardown(hanging_platform_does_not_hold_orders, restore_stack),
        cmocka_unit_test_teardown(two_relays_deliver_each_event_once, stop_relay2),
        cmocka_unit_test_teardown(relay_killed_mid_batch_loses_nothing, restore_stack),
        cmocka_unit_test_teardown(parked_event_is_listed_and_replayed, restore_stack),
        cmocka_unit_test_teardown(rejected_event_does_not_hold_back_the_others, restore_stack),
    };
    int rc = cmocka_run_group_tests_name("integration/feed", tests, NULL, NULL);
    if (my)
        mysql_close(my);
    return rc;
}
