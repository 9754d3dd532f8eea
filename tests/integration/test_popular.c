/* Popular products: the commerce-popular batch and GET /products/popular,
 * against the real stack (time_zone=Asia/Seoul, UTC+9, no DST).
 *
 * Orders are placed through the API and then moved in time with SQL
 * (orders.created_at is UTC). Every test uses its own as-of date in 2020, far
 * from the orders other tests create now, and first moves any order already in
 * its window out of the way, so a re-run against the same stack is exact.
 * The batch is ./commerce-popular (tests run from the repo root), run with
 * COMMERCE_CONFIG=$COMMERCE_TEST_STATE_DIR/popular.conf; its exit status is
 * always asserted. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/client.h"

#define BATCH "./commerce-popular"
#define PRICE 100
#define STOCK 1000

/* ---------------------------------------------------------------------------
 * helpers: the batch */

/* Run the batch with these arguments (NULL-terminated, without argv[0]); its
 * exit status, or -1 when it did not exit normally. `quiet` sends its stdout
 * (one summary line per run) to /dev/null. Safe in a tc_parallel child. */
static int batch_argv(const char *const *args, int quiet)
{
    char conf[1024];
    const char *argv[8];
    const char *dir = getenv("COMMERCE_TEST_STATE_DIR");
    int n = 0, st;
    pid_t p;

    snprintf(conf, sizeof(conf), "%s/popular.conf", dir && *dir ? dir : ".");
    argv[n++] = BATCH;
    for (int i = 0; args && args[i] && n < 7; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        setenv("COMMERCE_CONFIG", conf, 1);
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0)
                dup2(fd, 1);
        }
        execv(BATCH, (char *const *)argv);
        perror("exec " BATCH);
        _exit(127);
    }
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static int batch_quiet(const char *as_of, int quiet)
{
    const char *args[] = {"--as-of", as_of, NULL};
    return batch_argv(args, quiet);
}

static int batch(const char *as_of) { return batch_quiet(as_of, 0); }

/* ---------------------------------------------------------------------------
 * helpers: data */

/* A user with enough points for every order of a test. */
static int64_t rich_user(void)
{
    int64_t uid = tc_new_user();
    tc_charge(uid, 10000000);
    return uid;
}

/* Place one PAID order of n lines through the API; its id. */
static int64_t order_n(int64_t uid, int n, const int64_t *pids, const int *qty)
{
    char body[2048];
    size_t len = 0;

    len += (size_t)snprintf(body + len, sizeof(body) - len, "{\"userId\":%lld,\"items\":[",
                            (long long)uid);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len,
                                "%s{\"productId\":%lld,\"quantity\":%d}", i ? "," : "",
                                (long long)pids[i], qty[i]);
    snprintf(body + len, sizeof(body) - len, "]}");
    tc_resp_t *r = tc_post("/orders", body);
    tc_expect_statusf(r, 201, "POST /orders %s", body);
    assert_string_equal(tc_str(r, "status"), "PAID");
    int64_t oid = tc_int(r, "orderId");
    tc_free(r);
    return oid;
}

static int64_t order1(int64_t uid, int64_t pid, int qty) { return order_n(uid, 1, &pid, &qty); }

/* Move an order to a UTC instant ('YYYY-MM-DD HH:MM:SS.fff'). */
static void move_order(int64_t oid, const char *utc)
{
    tc_sql("UPDATE orders SET created_at = '%s' WHERE id = %lld", utc, (long long)oid);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id = %lld AND created_at = '%s'",
                                (long long)oid, utc),
                     1);
}

static int64_t order_at(int64_t uid, int64_t pid, int qty, const char *utc)
{
    int64_t oid = order1(uid, pid, qty);
    move_order(oid, utc);
    return oid;
}

static void cancel(int64_t oid)
{
    char p[128];
    snprintf(p, sizeof(p), "/orders/%lld/cancel", (long long)oid);
    tc_resp_t *r = tc_post(p, "{}");
    tc_expect_statusf(r, 200, "POST %s", p);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    tc_free(r);
}

/* Move every order (of any earlier run or other test) created in the UTC range
 * [lo, hi) far away, so the windows of this program hold only its own orders. */
static void clear_range(const char *lo, const char *hi)
{
    tc_sql("UPDATE orders SET created_at = '1999-01-01 00:00:00.000'"
           " WHERE created_at >= '%s' AND created_at < '%s'",
           lo, hi);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE created_at >= '%s'"
                                " AND created_at < '%s'",
                                lo, hi),
                     0);
}

static int64_t db_now_ms(void) { return tc_sql_int("SELECT FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000)"); }

/* "2020-03-10T01:02:03.456Z" as ms since the epoch; -1 if not that shape. */
static int64_t iso_ms(const char *s)
{
    int y, mo, d, h, mi, se, ms;
    char z;
    struct tm tm = {0};

    if (strlen(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &se, &ms, &z) != 8 ||
        z != 'Z')
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static tc_resp_t *get_popular(void)
{
    tc_resp_t *r = tc_get("/products/popular");
    tc_expect_status(r, 200);
    assert_non_null(r->json);
    static const char *const keys[] = {"from", "to", "days", "computedAt", "items", NULL};
    tc_assert_keys(r->json, keys);
    return r;
}

static json_object *items_of(const tc_resp_t *r)
{
    json_object *items = tc_jget(r->json, "items");
    assert_true(json_object_is_type(items, json_type_array));
    return items;
}

/* The header of the served list is this window. */
static void assert_window(const tc_resp_t *r, const char *from, const char *to)
{
    assert_string_equal(tc_jstr(r->json, "from"), from);
    assert_string_equal(tc_jstr(r->json, "to"), to);
    assert_int_equal(tc_jint(r->json, "days"), 3);
    assert_true(iso_ms(tc_jstr(r->json, "computedAt")) > 0);
}

/* The served items are exactly these products with these units, ranked 1..n,
 * each with the product's live name, price and stock (read back in SQL). */
static void assert_items(const tc_resp_t *r, int n, const int64_t *pids, const int64_t *sold)
{
    static const char *const keys[] = {"rank",  "productId",    "name", "price",
                                       "stock", "soldQuantity", NULL};
    json_object *items = items_of(r);

    if ((int)json_object_array_length(items) != n)
        fprintf(stderr, "expected %d items: %s\n", n, r->body);
    assert_int_equal(json_object_array_length(items), n);
    for (int i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, (size_t)i);
        tc_assert_keys(it, keys);
        if (tc_jint(it, "productId") != pids[i] || tc_jint(it, "soldQuantity") != sold[i])
            fprintf(stderr, "item %d: expected product %lld with %lld sold: %s\n", i,
                    (long long)pids[i], (long long)sold[i], r->body);
        assert_int_equal(tc_jint(it, "rank"), i + 1);
        assert_int_equal(tc_jint(it, "productId"), pids[i]);
        assert_int_equal(tc_jint(it, "soldQuantity"), sold[i]);
        assert_int_equal(
            tc_jint(it, "price"),
            tc_sql_int("SELECT price FROM product WHERE id = %lld", (long long)pids[i]));
        assert_int_equal(tc_jint(it, "stock"), tc_stock(pids[i]));
        assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM product WHERE id = %lld AND name = '%s'",
                                    (long long)pids[i], tc_jstr(it, "name")),
                         1);
    }
}

/* Products created in ascending id order. */
static void new_products(int n, int64_t *pids)
{
    for (int i = 0; i < n; i++) {
        pids[i] = tc_new_product(PRICE + 10 * i, STOCK);
        if (i)
            assert_true(pids[i] > pids[i - 1]);
    }
}

/* A rich user (its id) and n new products (p), the orders of the days
 * [lo, hi) moved out of the way. */
static int64_t fresh_days(const char *lo, const char *hi, int n, int64_t *p)
{
    int64_t uid = rich_user();
    clear_range(lo, hi);
    new_products(n, p);
    return uid;
}

/* The served list is the window from..to with exactly these n items. */
static void assert_popular(const char *from, const char *to, int n, const int64_t *top,
                           const int64_t *sold)
{
    tc_resp_t *r = get_popular();
    assert_window(r, from, to);
    assert_items(r, n, top, sold);
    tc_free(r);
}

/* ---------------------------------------------------------------------------
 * tests */

/* as-of 2020-01-10: window local 01-07..01-09 = UTC [01-06 15:00, 01-09 15:00). */
static void exact_top_five_with_live_product_fields(void **state)
{
    int64_t p[7];
    int64_t uid = fresh_days("2020-01-01", "2020-01-15", 7, p);
    /* p3 20 (8 + 12 on two days), p6 15 (one line of a two-line order with p2),
     * p1 12, p5 9, p2 7 (3 + 4), p0 3, p4 1: top five p3 p6 p1 p5 p2 */
    order_at(uid, p[3], 8, "2020-01-06 16:00:00.000");
    order_at(uid, p[3], 12, "2020-01-09 10:00:00.000");
    {
        int64_t two[] = {p[2], p[6]};
        int q[] = {3, 15};
        move_order(order_n(uid, 2, two, q), "2020-01-08 00:00:00.000");
    }
    order_at(uid, p[1], 12, "2020-01-07 12:00:00.000");
    order_at(uid, p[5], 5, "2020-01-07 13:00:00.000");
    order_at(uid, p[5], 4, "2020-01-08 13:00:00.000");
    order_at(uid, p[2], 4, "2020-01-09 14:00:00.000");
    order_at(uid, p[0], 3, "2020-01-07 01:00:00.000");
    order_at(uid, p[4], 1, "2020-01-07 02:00:00.000");

    int64_t before = db_now_ms();
    assert_int_equal(batch("2020-01-10"), 0);
    int64_t after = db_now_ms();

    int64_t top[] = {p[3], p[6], p[1], p[5], p[2]};
    int64_t sold[] = {20, 15, 12, 9, 7};
    tc_resp_t *r = get_popular();
    assert_window(r, "2020-01-07", "2020-01-09");
    int64_t computed = iso_ms(tc_jstr(r->json, "computedAt"));
    assert_true(computed >= before && computed <= after);
    assert_items(r, 5, top, sold);
    /* the stock is what is left after the orders, and prices are the products' */
    json_object *items = items_of(r);
    for (int i = 0; i < 5; i++) {
        json_object *it = json_object_array_get_idx(items, (size_t)i);
        assert_int_equal(tc_jint(it, "stock"), STOCK - sold[i]);
        assert_string_equal(tc_jstr(it, "name"), "test product");
    }
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 0), "price"), PRICE + 30);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 4), "price"), PRICE + 20);
    tc_free(r);

    /* live values: restock, rename and reprice after the batch, no re-run */
    char path[128];
    snprintf(path, sizeof(path), "/admin/products/%lld", (long long)p[3]);
    assert_answers(tc_admin("PATCH", path, "{\"restock\":50}"), 200);
    snprintf(path, sizeof(path), "/admin/products/%lld", (long long)p[5]);
    assert_answers(tc_admin("PATCH", path, "{\"name\":\"Popular Lamp\",\"price\":4321}"), 200);

    r = get_popular();
    assert_window(r, "2020-01-07", "2020-01-09");
    assert_int_equal(iso_ms(tc_jstr(r->json, "computedAt")), computed); /* not rebuilt */
    assert_items(r, 5, top, sold);
    items = items_of(r);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 0), "stock"), STOCK - 20 + 50);
    assert_string_equal(tc_jstr(json_object_array_get_idx(items, 3), "name"), "Popular Lamp");
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 3), "price"), 4321);
    assert_int_equal(tc_jint(json_object_array_get_idx(items, 1), "stock"), STOCK - 15);
    tc_free(r);
}

/* as-of 2020-02-10: window UTC [02-06 15:00, 02-09 15:00). */
static void ties_go_to_the_lower_product_id(void **state)
{
    int64_t p[6];
    int64_t uid = fresh_days("2020-02-01", "2020-02-15", 6, p);
    /* placed highest id first: p5 sells 6, everyone else 5 (p0 in two orders);
     * the tie at the cut-off leaves p4 out */
    order_at(uid, p[5], 6, "2020-02-07 01:00:00.000");
    for (int i = 4; i >= 1; i--)
        order_at(uid, p[i], 5, "2020-02-08 01:00:00.000");
    order_at(uid, p[0], 2, "2020-02-09 01:00:00.000");
    order_at(uid, p[0], 3, "2020-02-06 15:30:00.000");

    assert_int_equal(batch("2020-02-10"), 0);
    int64_t top[] = {p[5], p[0], p[1], p[2], p[3]};
    int64_t sold[] = {6, 5, 5, 5, 5};
    assert_popular("2020-02-07", "2020-02-09", 5, top, sold);
}

/* as-of 2020-03-20: window UTC [03-16 15:00, 03-19 15:00). */
static void cancelled_orders_are_not_counted(void **state)
{
    int64_t p[3];
    int64_t uid = fresh_days("2020-03-15", "2020-03-25", 3, p);
    int64_t big = order_at(uid, p[0], 10, "2020-03-17 03:00:00.000"); /* cancelled */
    order_at(uid, p[0], 2, "2020-03-17 04:00:00.000");
    order_at(uid, p[1], 5, "2020-03-18 04:00:00.000");
    int64_t only = order_at(uid, p[2], 30, "2020-03-18 05:00:00.000"); /* cancelled */
    {
        int64_t two[] = {p[1], p[2]}; /* a cancelled two-line order */
        int q[] = {40, 40};
        int64_t oid = order_n(uid, 2, two, q);
        move_order(oid, "2020-03-18 06:00:00.000");
        cancel(oid);
    }
    cancel(big);
    cancel(only);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id = %lld"
                                " AND status = 'CANCELLED' AND created_at >= '2020-03-16 15:00'"
                                " AND created_at < '2020-03-19 15:00'",
                                (long long)uid),
                     3);

    assert_int_equal(batch("2020-03-20"), 0);
    int64_t top[] = {p[1], p[0]};
    int64_t sold[] = {5, 2};
    assert_popular("2020-03-17", "2020-03-19", 2, top, sold);
}

/* as-of 2020-03-10 in Asia/Seoul: the window is the local days 03-07..03-09,
 * UTC [2020-03-06 15:00:00.000, 2020-03-09 15:00:00.000). Each edge has its own
 * product; the excluded ones sell far more, so counting any of them shows. */
static void window_edges_are_local_days(void **state)
{
    int64_t p[10];
    int64_t uid = fresh_days("2020-03-01", "2020-03-14", 10, p);
    /* included */
    order_at(uid, p[0], 1, "2020-03-06 15:00:00.000"); /* local 03-07 00:00:00.000, oldest day */
    order_at(uid, p[1], 2, "2020-03-09 14:59:59.999"); /* local 03-09 23:59:59.999, to-day */
    order_at(uid, p[2], 3, "2020-03-06 23:00:00.000"); /* local 03-07 08:00, UTC date 03-06 */
    order_at(uid, p[3], 4, "2020-03-08 12:00:00.000"); /* local 03-08 21:00, middle day */
    /* excluded */
    order_at(uid, p[4], 50, "2020-03-09 15:00:00.000"); /* local 03-10 00:00:00.000, as-of */
    order_at(uid, p[5], 51, "2020-03-06 14:59:59.999"); /* local 03-06 23:59:59.999, as_of-4 */
    order_at(uid, p[6], 52, "2020-03-10 03:00:00.000"); /* local 03-10 12:00, as-of day */
    order_at(uid, p[7], 53, "2020-03-05 20:00:00.000"); /* local 03-06 05:00, as_of-4 */
    order_at(uid, p[8], 54, "2020-03-09 20:00:00.000"); /* local 03-10 05:00, UTC date 03-09 */
    order_at(uid, p[9], 55, "2020-03-06 03:00:00.000"); /* local 03-06 12:00, as_of-4 */

    assert_int_equal(batch("2020-03-10"), 0);
    int64_t top[] = {p[3], p[2], p[1], p[0]};
    int64_t sold[] = {4, 3, 2, 1};
    assert_popular("2020-03-07", "2020-03-09", 4, top, sold);

    /* a day later the as-of day's orders are in and the oldest day is out:
     * window 03-08..03-10 = UTC [03-07 15:00, 03-10 15:00) */
    assert_int_equal(batch("2020-03-11"), 0);
    int64_t top2[] = {p[8], p[6], p[4], p[3], p[1]};
    int64_t sold2[] = {54, 52, 50, 4, 2};
    assert_popular("2020-03-08", "2020-03-10", 5, top2, sold2);
}

/* from/to across month, leap-day and year boundaries. */
static void window_dates_cross_month_and_year(void **state)
{
    int64_t p[2];
    int64_t uid = fresh_days("2020-02-25", "2020-03-03", 2, p);
    order_at(uid, p[0], 7, "2020-02-29 14:59:59.999"); /* local 02-29 23:59:59.999 */
    order_at(uid, p[1], 9, "2020-02-29 15:00:00.000"); /* local 03-01: the as-of day */

    assert_int_equal(batch("2020-03-01"), 0);
    tc_resp_t *r = get_popular();
    assert_window(r, "2020-02-27", "2020-02-29");
    int64_t top[] = {p[0]};
    int64_t sold[] = {7};
    assert_items(r, 1, top, sold);
    tc_free(r);

    static const char *const cases[][3] = {
        {"2021-03-01", "2021-02-26", "2021-02-28"},
        {"2020-01-02", "2019-12-30", "2020-01-01"},
        {"2019-01-01", "2018-12-29", "2018-12-31"},
        {"2020-01-03", "2019-12-31", "2020-01-02"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(batch_quiet(cases[i][0], 1), 0);
        r = get_popular();
        assert_window(r, cases[i][1], cases[i][2]);
        tc_free(r);
    }
}

/* as-of 2020-04-10: the same window twice gives the same table. */
static void rerun_gives_the_same_table(void **state)
{
    int64_t p[6];
    int64_t uid = fresh_days("2020-04-05", "2020-04-15", 6, p);
    for (int i = 0; i < 6; i++)
        order_at(uid, p[i], 10 + i, "2020-04-08 00:00:00.000");

    assert_int_equal(batch("2020-04-10"), 0);
    tc_resp_t *a = get_popular();
    assert_window(a, "2020-04-07", "2020-04-09");
    assert_int_equal(json_object_array_length(items_of(a)), 5);
    int64_t ca = iso_ms(tc_jstr(a->json, "computedAt"));

    assert_int_equal(batch("2020-04-10"), 0);
    tc_resp_t *b = get_popular();
    assert_window(b, "2020-04-07", "2020-04-09");
    assert_string_equal(json_object_to_json_string(items_of(a)),
                        json_object_to_json_string(items_of(b)));
    assert_true(iso_ms(tc_jstr(b->json, "computedAt")) >= ca);
    /* and it is the right table */
    int64_t top[] = {p[5], p[4], p[3], p[2], p[1]};
    int64_t sold[] = {15, 14, 13, 12, 11};
    assert_items(b, 5, top, sold);
    tc_free(a);
    tc_free(b);
}

/* as-of 2020-05-10 (two products sold) and 2020-05-20 (nothing sold). */
static void fewer_than_five_and_no_sales(void **state)
{
    int64_t p[2];
    int64_t uid = fresh_days("2020-05-01", "2020-05-25", 2, p);
    order_at(uid, p[1], 3, "2020-05-07 00:00:00.000");
    order_at(uid, p[0], 3, "2020-05-08 00:00:00.000");
    order_at(uid, p[1], 1, "2020-05-09 00:00:00.000");

    assert_int_equal(batch("2020-05-10"), 0);
    tc_resp_t *r = get_popular();
    assert_window(r, "2020-05-07", "2020-05-09");
    int64_t top[] = {p[1], p[0]};
    int64_t sold[] = {4, 3};
    assert_items(r, 2, top, sold);
    tc_free(r);

    assert_int_equal(batch("2020-05-20"), 0);
    assert_popular("2020-05-17", "2020-05-19", 0, NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * rebuilds under readers */

#define READERS 8
#define READS 200
#define REBUILDS 20

struct expect {
    int nlists; /* the lists a reader may see */
    const char *as_of[2], *from[2], *to[2];
    int64_t pid[2][5], sold[2][5];
};

static struct expect ex;

/* 0 if the response is exactly list k of `ex`. */
static int matches(json_object *o, int k)
{
    json_object *v, *items;

    if (!json_object_object_get_ex(o, "from", &v) ||
        strcmp(json_object_get_string(v) ? json_object_get_string(v) : "", ex.from[k]) != 0)
        return 1;
    if (!json_object_object_get_ex(o, "to", &v) ||
        strcmp(json_object_get_string(v) ? json_object_get_string(v) : "", ex.to[k]) != 0)
        return 1;
    if (!json_object_object_get_ex(o, "days", &v) || json_object_get_int64(v) != 3)
        return 1;
    if (!json_object_object_get_ex(o, "items", &items) ||
        !json_object_is_type(items, json_type_array) || json_object_array_length(items) != 5)
        return 2;
    for (int i = 0; i < 5; i++) {
        json_object *it = json_object_array_get_idx(items, (size_t)i);
        json_object *rank, *pid, *sold;
        if (!json_object_object_get_ex(it, "rank", &rank) ||
            !json_object_object_get_ex(it, "productId", &pid) ||
            !json_object_object_get_ex(it, "soldQuantity", &sold) ||
            json_object_get_int64(rank) != i + 1 || json_object_get_int64(pid) != ex.pid[k][i] ||
            json_object_get_int64(sold) != ex.sold[k][i])
            return 3;
    }
    return 0;
}

/* Child 0 rebuilds REBUILDS times (alternating the as-of dates of `ex`) and
 * returns 0 or the first bad exit status; the others read READS times and
 * return 0, 10 + the HTTP status class of a non-200, or 1..3 for a response
 * that is not one whole expected list. */
static int rebuild_or_read(int i, void *arg)
{
    (void)arg;
    if (i == 0) {
        for (int n = 0; n < REBUILDS; n++) {
            int rc = batch_quiet(ex.as_of[n % ex.nlists], 1);
            if (rc != 0) {
                fprintf(stderr, "rebuild %d exited %d\n", n, rc);
                return rc > 0 ? rc : 99;
            }
        }
        return 0;
    }
    for (int n = 0; n < READS; n++) {
        tc_resp_t *r = tc_get("/products/popular");
        int bad;
        if (r->status != 200) {
            fprintf(stderr, "reader %d: GET -> %ld %s\n", i, r->status, r->body);
            bad = 10 + (int)(r->status / 100);
        } else if (!r->json) {
            bad = 4;
        } else {
            bad = matches(r->json, 0);
            for (int k = 1; bad && k < ex.nlists; k++)
                if (!matches(r->json, k))
                    bad = 0;
            if (bad)
                fprintf(stderr, "reader %d: not a whole expected list: %s\n", i, r->body);
        }
        tc_free(r);
        if (bad)
            return bad;
    }
    return 0;
}

/* Six products sold in a window, the top five of which are distinct. */
static void seed_window(int64_t uid, const char *utc, int64_t *top, int64_t *sold)
{
    int64_t p[6];
    new_products(6, p);
    for (int i = 0; i < 6; i++)
        order_at(uid, p[i], 2 + i, utc); /* p5 7 .. p1 3, p0 2 is out */
    for (int i = 0; i < 5; i++) {
        top[i] = p[5 - i];
        sold[i] = 7 - i;
    }
}

static void run_readers_and_rebuilds(void)
{
    int results[READERS + 1];

    assert_int_equal(tc_parallel(READERS + 1, rebuild_or_read, NULL, results), 0);
    for (int i = 0; i <= READERS; i++) {
        if (results[i] != 0)
            fprintf(stderr, "child %d returned %d\n", i, results[i]);
        assert_int_equal(results[i], 0);
    }
    /* rebuilds keep only a few snapshots and leave no orphan items */
    assert_true(tc_sql_int("SELECT COUNT(*) FROM popular_snapshot") < REBUILDS);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM popular_item i LEFT JOIN popular_snapshot s"
                                " ON s.id = i.snapshot_id WHERE s.id IS NULL"),
                     0);
}

/* as-of 2020-06-10: readers only ever see the whole list while the same
 * window is rebuilt 20 times. */
static void reads_during_rebuilds_see_the_whole_list(void **state)
{
    int64_t uid = rich_user();

    clear_range("2020-06-05", "2020-06-15");
    memset(&ex, 0, sizeof(ex));
    ex.nlists = 1;
    ex.as_of[0] = "2020-06-10";
    ex.from[0] = "2020-06-07";
    ex.to[0] = "2020-06-09";
    seed_window(uid, "2020-06-08 03:00:00.000", ex.pid[0], ex.sold[0]);
    assert_int_equal(batch(ex.as_of[0]), 0);
    tc_resp_t *r = get_popular();
    assert_window(r, ex.from[0], ex.to[0]);
    assert_items(r, 5, ex.pid[0], ex.sold[0]);
    tc_free(r);

    run_readers_and_rebuilds();

    r = get_popular();
    assert_window(r, ex.from[0], ex.to[0]);
    assert_items(r, 5, ex.pid[0], ex.sold[0]);
    tc_free(r);
}

/* as-of 2020-06-20 and 2020-06-25 alternately: two different lists; a reader
 * sees one or the other whole, never a header of one with items of the other. */
static void reads_during_alternating_rebuilds_see_one_whole_list(void **state)
{
    int64_t uid = rich_user();

    clear_range("2020-06-15", "2020-06-30");
    memset(&ex, 0, sizeof(ex));
    ex.nlists = 2;
    ex.as_of[0] = "2020-06-20";
    ex.from[0] = "2020-06-17";
    ex.to[0] = "2020-06-19";
    ex.as_of[1] = "2020-06-25";
    ex.from[1] = "2020-06-22";
    ex.to[1] = "2020-06-24";
    seed_window(uid, "2020-06-18 03:00:00.000", ex.pid[0], ex.sold[0]);
    seed_window(uid, "2020-06-23 03:00:00.000", ex.pid[1], ex.sold[1]);
    assert_int_equal(batch(ex.as_of[1]), 0);

    run_readers_and_rebuilds();

    /* the last of the 20 runs was as-of 2020-06-25 */
    tc_resp_t *r = get_popular();
    assert_window(r, ex.from[1], ex.to[1]);
    assert_items(r, 5, ex.pid[1], ex.sold[1]);
    tc_free(r);
}

static const char *concurrent_as_of;

static int run_batch_child(int i, void *arg)
{
    (void)i;
    (void)arg;
    int rc = batch_quiet(concurrent_as_of, 1);
    return rc >= 0 ? rc : 99;
}

/* as-of 2020-07-10: 2, 3 and 4 batches at once all succeed and leave the right list. */
static void concurrent_batches_all_succeed(void **state)
{
    int64_t uid = rich_user(), top[5], sold[5];
    int results[4];

    clear_range("2020-07-05", "2020-07-15");
    seed_window(uid, "2020-07-09 14:00:00.000", top, sold);
    concurrent_as_of = "2020-07-10";
    /* another window is served first, so the concurrent runs must replace it */
    assert_int_equal(batch("2020-05-20"), 0);
    for (int n = 2; n <= 4; n++) {
        int64_t snaps = tc_sql_int("SELECT COALESCE(MAX(id), 0) FROM popular_snapshot");
        assert_int_equal(tc_parallel(n, run_batch_child, NULL, results), 0);
        for (int i = 0; i < n; i++) {
            if (results[i] != 0)
                fprintf(stderr, "%d at once: batch %d exited %d\n", n, i, results[i]);
            assert_int_equal(results[i], 0);
        }
        /* at least one run wrote a snapshot, and the served one is the newest */
        assert_true(tc_sql_int("SELECT COUNT(*) FROM popular_snapshot WHERE id > %lld",
                               (long long)snaps) >= 1);
        assert_int_equal(tc_sql_int("SELECT snapshot_id FROM popular_current WHERE id = 1"),
                         tc_sql_int("SELECT MAX(id) FROM popular_snapshot"));
        tc_resp_t *r = get_popular();
        assert_window(r, "2020-07-07", "2020-07-09");
        assert_items(r, 5, top, sold);
        tc_free(r);
        assert_int_equal(batch("2020-05-20"), 0); /* and back, for the next round */
    }
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM popular_item i LEFT JOIN popular_snapshot s"
                                " ON s.id = i.snapshot_id WHERE s.id IS NULL"),
                     0);
}

/* as-of 2020-08-10 is served; bad arguments exit 2 and change nothing. */
static void bad_as_of_exits_2_and_changes_nothing(void **state)
{
    int64_t uid = rich_user(), top[5], sold[5];

    clear_range("2020-08-05", "2020-08-15");
    seed_window(uid, "2020-08-07 00:00:00.000", top, sold);
    assert_int_equal(batch("2020-08-10"), 0);
    tc_resp_t *before = get_popular();
    assert_window(before, "2020-08-07", "2020-08-09");
    assert_items(before, 5, top, sold);
    int64_t snaps = tc_sql_int("SELECT COUNT(*) FROM popular_snapshot");
    int64_t current = tc_sql_int("SELECT snapshot_id FROM popular_current WHERE id = 1");

    static const char *const bad[] = {
        "2026-02-30", "yesterday",  "2019-02-29", "2020-02-30", "2020-04-31",  "2020-13-01",
        "2020-00-10", "2020-01-00", "2020-01-32", "2020-1-10",  "20200110",    "2020-01-10x",
        "2020-01-1",  "2020/01/10", "10-01-2020", "",           " 2020-01-10", "2020-01-10 ",
        "2020-+1-10", "2020-01-+1", "2020- 1-10", "+2020-01-1", "today",
    };
    int wrong = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = batch(bad[i]);
        if (rc != 2) {
            fprintf(stderr, "--as-of '%s' exited %d, not 2\n", bad[i], rc);
            wrong++;
        }
    }
    static const char *const a1[] = {"--as-of", NULL};
    static const char *const a2[] = {"--asof", "2020-08-10", NULL};
    static const char *const a3[] = {"2020-08-10", NULL};
    static const char *const a4[] = {"--as-of", "2020-08-10", "extra", NULL};
    static const char *const a5[] = {"--force", NULL};
    static const char *const *const args[] = {a1, a2, a3, a4, a5};
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        int rc = batch_argv(args[i], 0);
        if (rc != 2) {
            fprintf(stderr, "arguments %zu exited %d, not 2\n", i, rc);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);

    tc_resp_t *after = get_popular();
    assert_string_equal(after->body, before->body);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM popular_snapshot"), snaps);
    assert_int_equal(tc_sql_int("SELECT snapshot_id FROM popular_current WHERE id = 1"), current);
    tc_free(before);
    tc_free(after);
}

/* An as-of day after today (in Asia/Seoul) is refused with exit 2 and the
 * served list stays; --force builds it. Two days ahead: after today on both
 * sides of a Seoul midnight the test may straddle. */
static void a_future_as_of_needs_force(void **state)
{
    int64_t uid = rich_user(), top[5], sold[5];
    char future[11], last_day[11];
    time_t t = time(NULL) + 9 * 3600 + 2 * 86400, y = t - 86400; /* Seoul wall clock */
    struct tm g;

    gmtime_r(&t, &g);
    strftime(future, sizeof(future), "%Y-%m-%d", &g);
    gmtime_r(&y, &g);
    strftime(last_day, sizeof(last_day), "%Y-%m-%d", &g);
    clear_range("2020-09-05", "2020-09-15");
    seed_window(uid, "2020-09-07 00:00:00.000", top, sold);
    assert_int_equal(batch("2020-09-10"), 0);
    tc_resp_t *before = get_popular();
    assert_window(before, "2020-09-07", "2020-09-09");
    int64_t snaps = tc_sql_int("SELECT COUNT(*) FROM popular_snapshot");

    assert_int_equal(batch(future), 2);
    tc_resp_t *after = get_popular();
    assert_string_equal(after->body, before->body);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM popular_snapshot"), snaps);
    tc_free(after);

    const char *forced[] = {"--as-of", future, "--force", NULL};
    assert_int_equal(batch_argv(forced, 0), 0);
    after = get_popular();
    assert_string_equal(tc_jstr(after->json, "to"), last_day);
    tc_free(after);

    /* the list as the other tests leave it: a past window */
    assert_int_equal(batch("2020-09-10"), 0);
    after = get_popular();
    assert_window(after, "2020-09-07", "2020-09-09");
    tc_free(after);
    tc_free(before);
}

/* Before the batch has ever run (no current snapshot): 200, an empty list,
 * the window members null. The current pointer is restored afterwards. */
static void before_any_run_the_list_is_empty(void **state)
{
    int64_t current = tc_sql_int("SELECT COALESCE(snapshot_id, 0) FROM popular_current"
                                 " WHERE id = 1");
    tc_sql("UPDATE popular_current SET snapshot_id = NULL WHERE id = 1");
    tc_resp_t *r = get_popular();
    int ok = json_object_array_length(items_of(r)) == 0 && tc_jint(r->json, "days") == 3 &&
             tc_is_null(r, "from") && tc_is_null(r, "to") && tc_is_null(r, "computedAt");
    if (!ok)
        fprintf(stderr, "never-run list: %s\n", r->body);
    tc_free(r);
    if (current)
        tc_sql("UPDATE popular_current SET snapshot_id = %lld WHERE id = 1", (long long)current);
    assert_true(ok);
}

/* Without --as-of the as-of date is today in Asia/Seoul. */
static void default_as_of_is_today_in_seoul(void **state)
{
    char to[2][11], from[2][11];
    for (int k = 0; k < 2; k++) {
        time_t t = time(NULL) + 9 * 3600; /* Seoul wall clock, no DST */
        struct tm g;
        time_t y = t - 86400, f = t - 3 * 86400;
        gmtime_r(&y, &g);
        strftime(to[k], sizeof(to[k]), "%Y-%m-%d", &g);
        gmtime_r(&f, &g);
        strftime(from[k], sizeof(from[k]), "%Y-%m-%d", &g);
        if (k == 0)
            assert_int_equal(batch_argv(NULL, 0), 0);
    }
    tc_resp_t *r = get_popular();
    const char *gf = tc_jstr(r->json, "from"), *gt = tc_jstr(r->json, "to");
    int ok = 0;
    for (int k = 0; k < 2; k++) /* a run across Seoul midnight may see either day */
        ok |= strcmp(gf, from[k]) == 0 && strcmp(gt, to[k]) == 0;
    if (!ok)
        fprintf(stderr, "expected %s..%s: %s\n", from[0], to[0], r->body);
    assert_true(ok);
    assert_int_equal(tc_jint(r->json, "days"), 3);
    assert_true(json_object_array_length(items_of(r)) <= 5);
    tc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(before_any_run_the_list_is_empty),
        cmocka_unit_test(exact_top_five_with_live_product_fields),
        cmocka_unit_test(ties_go_to_the_lower_product_id),
        cmocka_unit_test(cancelled_orders_are_not_counted),
        cmocka_unit_test(window_edges_are_local_days),
        cmocka_unit_test(window_dates_cross_month_and_year),
        cmocka_unit_test(rerun_gives_the_same_table),
        cmocka_unit_test(fewer_than_five_and_no_sales),
        cmocka_unit_test(reads_during_rebuilds_see_the_whole_list),
        cmocka_unit_test(reads_during_alternating_rebuilds_see_one_whole_list),
        cmocka_unit_test(concurrent_batches_all_succeed),
        cmocka_unit_test(bad_as_of_exits_2_and_changes_nothing),
        cmocka_unit_test(a_future_as_of_needs_force),
        cmocka_unit_test(default_as_of_is_today_in_seoul),
    };
    return cmocka_run_group_tests_name("integration/popular", tests, NULL, NULL);
}
