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
#include <sys/stat.h>
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

/* The log file DIR/log/NAME from byte `from` on, malloc'd. */
static char *log_since(const char *name, long from)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/log/%s", getenv("COMMERCE_TEST_STATE_DIR"), name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    char *text = malloc((size_t)(end - from) + 1);
    assert_non_null(text);
    fseek(f, from, SEEK_SET);
    size_t n = fread(text, 1, (size_t)(end - from), f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static long log_size(const char *name)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof(path), "%s/log/%s", getenv("COMMERCE_TEST_STATE_DIR"), name);
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The lines of text that contain `what`, and of those, how many the process
 * with the most of them wrote ("program[pid]" in each line). */
static int lines_with(const char *text, const char *what, int *most_per_process)
{
    static char pids[256][32];
    static int counts[256];
    int n = 0, np = 0;
    *most_per_process = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n'), *end = eol ? eol : p + strlen(p);
        const char *hit = strstr(p, what), *br = strchr(p, '[');
        if (hit && hit < end) {
            n++;
            char pid[32] = "";
            if (br && br < end)
                snprintf(pid, sizeof(pid), "%.*s", (int)strcspn(br, "]"), br);
            int k = 0;
            while (k < np && strcmp(pids[k], pid) != 0)
                k++;
            if (k == np && np < 256) {
                snprintf(pids[np], sizeof(pids[0]), "%s", pid);
                counts[np++] = 0;
            }
            if (k < np && ++counts[k] > *most_per_process)
                *most_per_process = counts[k];
        }
        p = eol ? eol + 1 : NULL;
    }
    return n;
}

static int relay_says_back(long from)
{
    char *t = log_since("relay.log", from);
    int back = strstr(t, "db: reachable again") != NULL;
    free(t);
    return back;
}

/* A database outage fills no journal: a relay or a worker that cannot reach
 * the database logs its first failure, then a summary at most every 10 s
 * ("still failing since ..., N attempts"), then one line when it reaches it
 * again; not a line per attempt (the relay tries 10 times a second). */
static void an_outage_is_logged_once_per_process(void **state)
{
    long relay_from = log_size("relay.log"), worker_from = log_size("worker.log");
    int64_t uid = tc_new_user();
    int workers = atoi(getenv("COMMERCE_TEST_WORKERS") ? getenv("COMMERCE_TEST_WORKERS") : "4");
    (void)state;

    assert_int_equal(tc_stack("db-stop"), 0);
    /* 3 s down (shorter than the 10 s between summaries), every worker asked many times */
    int64_t until = tc_mono_ms() + 3000;
    while (tc_mono_ms() < until)
        for (int i = 0; i < 2 * workers; i++)
            assert_refused(tc_getf("/users/%lld/points", (long long)uid), 503,
                           "SERVICE_UNAVAILABLE");
    assert_int_equal(tc_stack("db-start"), 0);
    TC_WAIT_UNTIL_MS(20000, relay_says_back(relay_from),
                     "the relay saying it reaches the database");
    for (int i = 0; i < 4 * workers; i++)
        assert_answers(tc_getf("/users/%lld/points", (long long)uid), 200);

    int most;
    char *relay = log_since("relay.log", relay_from);
    int n = lines_with(relay, "db: cannot connect", &most);
    if (n != 1)
        fail_msg("the relay logged %d lines of 'db: cannot connect' in a 3 s outage, not 1:\n%s", n,
                 relay);
    assert_int_equal(lines_with(relay, "db: reachable again", &most), 1);
    free(relay);
    char *w = log_since("worker.log", worker_from);
    n = lines_with(w, "db: cannot connect", &most);
    if (most > 1)
        fail_msg("a worker logged 'db: cannot connect' %d times in a 3 s outage (%d lines in all)",
                 most, n);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(database_down_is_503_then_recovers, teardown),
        cmocka_unit_test_teardown(an_outage_is_logged_once_per_process, teardown),
    };
    return cmocka_run_group_tests_name("integration/dbdown", tests, NULL, NULL);
}
