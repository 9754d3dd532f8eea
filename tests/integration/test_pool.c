/* The worker pool: multiwatch always replaces a dead worker (the same slot
 * killed 20 times in quick succession leaves N workers serving), and a
 * rolling restart (scripts/stack workers-restart, the systemd reload path:
 * systemd/commerce-fcgi-roll) drops nothing under steady load. */
#include <setjmp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/client.h"

#define MAXW 64

static const char *state_dir(void)
{
    const char *d = getenv("COMMERCE_TEST_STATE_DIR");
    assert_non_null(d);
    return d;
}

static int workers_wanted(void)
{
    const char *w = getenv("COMMERCE_TEST_WORKERS");
    return w ? atoi(w) : 4;
}

static pid_t multiwatch_pid(void)
{
    char path[512];
    long pid = 0;
    snprintf(path, sizeof(path), "%s/run/fcgi.pid", state_dir());
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    return (pid_t)pid;
}

/* multiwatch's children now: their count. */
static int workers(pid_t mw, pid_t *out)
{
    char path[128];
    int n = 0;
    long p;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)mw, (int)mw);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (n < MAXW && fscanf(f, "%ld", &p) == 1)
        out[n++] = (pid_t)p;
    fclose(f);
    return n;
}

static int has(const pid_t *set, int n, pid_t p)
{
    for (int i = 0; i < n; i++)
        if (set[i] == p)
            return 1;
    return 0;
}

/* Wait (polling /proc, 10 s at most) until the pool is full again without
 * `gone`; the worker that replaced it. */
static pid_t replacement(pid_t mw, int want, const pid_t *before, int nbefore, pid_t gone)
{
    pid_t now[MAXW];
    struct timespec tick = {0, 5 * 1000000L};
    for (int i = 0; i < 2000; i++) {
        int n = workers(mw, now);
        if (n == want && !has(now, n, gone))
            for (int j = 0; j < n; j++)
                if (!has(before, nbefore, now[j]))
                    return now[j];
        nanosleep(&tick, NULL);
    }
    fail_msg("worker %d was not replaced within 10 s", (int)gone);
    return 0;
}

static void same_slot_killed_twenty_times_pool_stays_full(void **state)
{
    pid_t mw = multiwatch_pid(), before[MAXW], now[MAXW];
    int want = workers_wanted();
    (void)state;

    assert_int_equal(workers(mw, before), want);
    pid_t target = before[0];
    for (int i = 0; i < 20; i++) {
        int n = workers(mw, before);
        assert_int_equal(kill(target, SIGKILL), 0);
        target = replacement(mw, want, before, n, target); /* the same slot, reborn */
    }
    assert_int_equal(workers(mw, now), want);
    /* and they serve: every answer 200, and no worker died doing it */
    for (int i = 0; i < 8 * want; i++) {
        tc_resp_t *r = tc_get("/products?limit=1");
        assert_int_equal(r->status, 200);
        tc_free(r);
    }
    assert_int_equal(workers(mw, before), want);
    for (int i = 0; i < want; i++)
        assert_true(has(before, want, now[i]));
}

enum { RESTARTS = 5 };

/* Child 0 restarts the workers RESTARTS times, then says done; the others
 * read, charge and order until then. Exit code: non-2xx answers (capped),
 * 254 when a loader never got a request through. */
static int load_or_restart(int i, void *arg)
{
    tc_load_t *l = arg;
    if (i == 0) {
        int bad = 0;
        for (int k = 0; k < RESTARTS; k++)
            bad |= tc_stack("workers-restart") != 0;
        tc_load_finish(l);
        return bad;
    }
    int64_t uid = l->uids[i - 1];
    char path[96], body[160], key[48];
    int bad = 0, done = 0;
    tc_load_order(l, i, body, sizeof(body));
    for (int k = 0; tc_load_going(l); k++) {
        tc_resp_t *r;
        switch (k % 3) {
        case 0:
            snprintf(path, sizeof(path), "/products/%lld", (long long)l->pid);
            r = tc_get(path);
            break;
        case 1:
            snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
            snprintf(key, sizeof(key), "roll-%d", k);
            r = tc_post_key(path, "{\"amount\":3}", key);
            break;
        default:
            r = tc_post("/orders", body);
            break;
        }
        if (r->status < 200 || r->status > 299) {
            fprintf(stderr, "loader %d: %ld %s\n", i, r->status, r->body ? r->body : "");
            bad++;
        }
        done++;
        tc_free(r);
    }
    return done == 0 ? 254 : bad > 253 ? 253 : bad;
}

static void rolling_restarts_under_load_drop_nothing(void **state)
{
    static tc_load_t l;
    pid_t mw = multiwatch_pid(), before[MAXW], after[MAXW];
    int results[TC_LOAD_USERS + 1], want = workers_wanted();
    (void)state;

    tc_load_begin(&l, "roll-done", 1000000, 1000);
    assert_int_equal(workers(mw, before), want);
    assert_int_equal(tc_parallel(TC_LOAD_USERS + 1, load_or_restart, &l, results), 0);
    for (int i = 0; i <= TC_LOAD_USERS; i++)
        assert_int_equal(results[i], 0);
    /* every worker was replaced, by the same multiwatch on the same socket */
    assert_int_equal(multiwatch_pid(), mw);
    assert_int_equal(workers(mw, after), want);
    for (int i = 0; i < want; i++)
        assert_false(has(before, want, after[i]));
    tc_load_books(&l);
}

/* A "worker" that takes each request and dies without an answer (as a worker
 * killed right after its commit would): nginx's 502. A write must then be
 * told OUTCOME_UNKNOWN (it may have been carried out), a read
 * SERVICE_UNAVAILABLE. Run in a child on the pool's socket path. */
static void take_and_drop(const char *sock)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    char buf[4096];

    if (strlen(sock) >= sizeof(a.sun_path))
        _exit(1);
    memcpy(a.sun_path, sock, strlen(sock) + 1);
    unlink(sock);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || chmod(sock, 0666) != 0 ||
        listen(s, 64) != 0)
        _exit(1);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        ssize_t n = read(c, buf, sizeof(buf)); /* the request arrived... */
        (void)n;
        close(c); /* ...and no answer ever comes */
    }
}

static void worker_gone_mid_request_is_unknown_for_writes(void **state)
{
    char sock[512], ra[16];
    int64_t uid = tc_new_user(), pid = tc_new_product(100, 10);
    (void)state;

    tc_charge(uid, 1000);
    snprintf(sock, sizeof(sock), "%s/run/fcgi.sock", state_dir());
    assert_true(strlen(sock) < sizeof(((struct sockaddr_un *)0)->sun_path));
    /* the stand-in is the only worker host: no second pool to pass requests to */
    int pools = getenv("COMMERCE_TEST_POOLS") ? atoi(getenv("COMMERCE_TEST_POOLS")) : 1;
    if (pools == 2)
        assert_int_equal(tc_stack("pool2-stop"), 0);
    assert_int_equal(tc_stack("workers-stop"), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        take_and_drop(sock);
    /* wait for the stand-in to listen (its socket file is new) */
    for (int i = 0; i < 500; i++) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        memcpy(a.sun_path, sock, strlen(sock) + 1);
        int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        if (ok)
            break;
        struct timespec tick = {0, 10 * 1000000L};
        nanosleep(&tick, NULL);
    }
    char body[160];
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}", (long long)uid,
             (long long)pid);
    tc_resp_t *r = tc_post_key("/orders", body, "gone-1");
    assert_problem(r, 503, "OUTCOME_UNKNOWN");
    assert_non_null(tc_header(r, "Retry-After", ra, sizeof(ra)));
    tc_free(r);
    assert_refused(tc_getf("/products/%lld", (long long)pid), 503, "SERVICE_UNAVAILABLE");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(tc_stack("workers-start"), 0);
    if (pools == 2)
        assert_int_equal(tc_stack("pool2-start"), 0);
    /* the real workers are back (nginx gives a host it saw fail fail_timeout before it tries
     * it again: the retry waits between tries, as a client heeding Retry-After does), and
     * the order, which no worker saw, is placed by the retry */
    long st = 0;
    for (int t = 0; t < 100 && st != 201; t++) {
        r = tc_post_key("/orders", body, "gone-1");
        st = r->status;
        tc_free(r);
        if (st != 201) {
            assert_int_equal(st, 503);
            tc_nap(200); /* as a client does: after Retry-After */
        }
    }
    assert_int_equal(st, 201);
    assert_int_equal(tc_orders_of(uid), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_slot_killed_twenty_times_pool_stays_full),
        cmocka_unit_test(rolling_restarts_under_load_drop_nothing),
        cmocka_unit_test(worker_gone_mid_request_is_unknown_for_writes),
    };
    return cmocka_run_group_tests_name("integration/pool", tests, NULL, NULL);
}
