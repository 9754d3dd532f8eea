/* Coupons: creation (admin), reading, first-come issuance, a user's coupons,
 * and coupons in orders, checkout and cancel, against the real stack. Every
 * refusal is checked to have changed nothing, in SQL. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lib/client.h"

#define NOWHERE 999999999999LL /* an id no test creates */

/* user_coupon.status as a number (the ENUM's index) */
#define UC_AVAILABLE 1
#define UC_USED 2

/* ---------------------------------------------------------------------------
 * helpers */

static const char *const json_hdr[] = {"Content-Type: application/json", NULL};

static int64_t issued_of(int64_t cid)
{
    return tc_sql_int("SELECT issued_quantity FROM coupon WHERE id=%lld", (long long)cid);
}

static int64_t user_coupons_of(int64_t cid)
{
    return tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE coupon_id=%lld", (long long)cid);
}

static int64_t has_uc(int64_t cid, int64_t uid)
{
    return tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE coupon_id=%lld AND user_id=%lld",
                      (long long)cid, (long long)uid);
}

static int64_t uc_status(int64_t cid, int64_t uid)
{
    return tc_sql_int("SELECT status+0 FROM user_coupon WHERE coupon_id=%lld AND user_id=%lld",
                      (long long)cid, (long long)uid);
}

/* used_order_id, 0 for NULL */
static int64_t uc_order(int64_t cid, int64_t uid)
{
    return tc_sql_int("SELECT COALESCE(used_order_id, 0) FROM user_coupon"
                      " WHERE coupon_id=%lld AND user_id=%lld",
                      (long long)cid, (long long)uid);
}

static void expire(int64_t cid)
{
    tc_sql("UPDATE coupon SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE id=%lld",
           (long long)cid);
}

static const char *const coupon_keys[] = {"couponId",  "name",          "type",
                                          "value",     "totalQuantity", "issuedQuantity",
                                          "remaining", "expiresAt",     NULL};
static const char *const user_coupon_keys[] = {"couponId",    "userId", "name",     "type",
                                               "value",       "status", "issuedAt", "expiresAt",
                                               "usedOrderId", NULL};

/* Seconds since the epoch of an RFC 3339 UTC time. */
static time_t epoch_of(const char *rfc)
{
    struct tm tm = {0};
    assert_int_equal(sscanf(rfc, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static int name_seq;

/* POST /admin/coupons; returns the response. */
static tc_resp_t *create_coupon(const char *type, int64_t value, int64_t total, int64_t days)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"name\":\"coupon %d\",\"type\":\"%s\",\"value\":%lld,\"totalQuantity\":%lld,"
             "\"validDays\":%lld}",
             ++name_seq, type, (long long)value, (long long)total, (long long)days);
    return tc_admin("POST", "/admin/coupons", body);
}

static void issue_ok(int64_t cid, int64_t uid)
{
    tc_resp_t *r = tc_issue(cid, uid);
    if (r->status != 201)
        fprintf(stderr, "issue -> %ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    tc_free(r);
}

/* An order of one line, with a coupon when cid is not 0. */
static tc_resp_t *order(int64_t uid, int64_t pid, int64_t qty, int64_t cid)
{
    char body[256], coupon[64] = "";
    if (cid)
        snprintf(coupon, sizeof(coupon), ",\"couponId\":%lld", (long long)cid);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":%lld}]%s}",
             (long long)uid, (long long)pid, (long long)qty, coupon);
    return tc_post("/orders", body);
}

static int64_t order_ok(int64_t uid, int64_t pid, int64_t qty, int64_t cid)
{
    return tc_created_id(order(uid, pid, qty, cid), "orderId");
}

static tc_resp_t *cancel(int64_t oid)
{
    char p[128];
    snprintf(p, sizeof(p), "/orders/%lld/cancel", (long long)oid);
    return tc_post(p, "");
}

/* The user coupon for cid in a GET /users/{id}/coupons response (fails when absent). */
static json_object *find_uc(const tc_resp_t *r, int64_t cid)
{
    json_object *items = tc_jget(r->json, "items");
    assert_true(json_object_is_type(items, json_type_array));
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (tc_jint(it, "couponId") == cid)
            return it;
    }
    fail_msg("coupon %lld is not in %s", (long long)cid, r->body);
    return NULL;
}

/* Everything a refused request must leave alone. */
struct snap {
    int64_t uid, pid;
    int64_t stock, balance, history, orders, items, payments, outbox, cart;
    int64_t user_coupons, used, used_sum, issued, coupons;
};

static void snap_take(struct snap *s, int64_t uid, int64_t pid)
{
    memset(s, 0, sizeof(*s));
    s->uid = uid;
    s->pid = pid;
    s->stock = pid ? tc_stock(pid) : 0;
    s->balance = uid ? tc_balance(uid) : 0;
    s->history = tc_sql_int("SELECT COUNT(*) FROM point_history");
    s->orders = tc_sql_int("SELECT COUNT(*) FROM orders");
    s->items = tc_sql_int("SELECT COUNT(*) FROM order_item");
    s->payments = tc_sql_int("SELECT COUNT(*) FROM payment");
    s->outbox = tc_sql_int("SELECT COUNT(*) FROM outbox");
    s->cart = tc_sql_int("SELECT COUNT(*) FROM cart_item");
    s->user_coupons = tc_sql_int("SELECT COUNT(*) FROM user_coupon");
    s->used = tc_sql_int("SELECT COUNT(*) FROM user_coupon WHERE status = 'USED'");
    s->used_sum = tc_sql_int("SELECT COALESCE(SUM(used_order_id), 0) FROM user_coupon");
    s->issued = tc_sql_int("SELECT COALESCE(SUM(issued_quantity), 0) FROM coupon");
    s->coupons = tc_sql_int("SELECT COUNT(*) FROM coupon");
}

static void snap_check(const struct snap *a, const char *file, int line)
{
    struct snap b;
    snap_take(&b, a->uid, a->pid);
#define SAME(f) tc_assert_same(a->f, b.f, #f, file, line)
    SAME(stock);
    SAME(balance);
    SAME(history);
    SAME(orders);
    SAME(items);
    SAME(payments);
    SAME(outbox);
    SAME(cart);
    SAME(user_coupons);
    SAME(used);
    SAME(used_sum);
    SAME(issued);
    SAME(coupons);
#undef SAME
}
#define assert_unchanged(s) snap_check((s), __FILE__, __LINE__)

/* ---------------------------------------------------------------------------
 * POST /admin/coupons */

static void admin_creates_a_coupon(void **state)
{
    tc_resp_t *r = tc_admin("POST", "/admin/coupons",
                            "{\"name\":\"welcome\",\"type\":\"FIXED\",\"value\":1000,"
                            "\"totalQuantity\":100,\"validDays\":7}");
    time_t now = time(NULL);
    char ct[128], when[32];

    if (r->status != 201)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    tc_assert_keys(r->json, coupon_keys);
    int64_t cid = tc_int(r, "couponId");
    assert_true(cid > 0);
    assert_string_equal(tc_str(r, "name"), "welcome");
    assert_string_equal(tc_str(r, "type"), "FIXED");
    assert_int_equal(tc_int(r, "value"), 1000);
    assert_int_equal(tc_int(r, "totalQuantity"), 100);
    assert_int_equal(tc_int(r, "issuedQuantity"), 0);
    assert_int_equal(tc_int(r, "remaining"), 100);
    const char *exp = tc_str(r, "expiresAt");
    tc_assert_time(exp);
    /* about 7 days from now */
    long long ahead = (long long)(epoch_of(exp) - now);
    if (ahead < 7 * 86400 - 120 || ahead > 7 * 86400 + 120)
        fail_msg("expiresAt %s is %lld s ahead, not about 7 days", exp, ahead);
    /* and it is what the row holds */
    tc_sql_time(exp, when);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM coupon WHERE id=%lld AND name='welcome'"
                                " AND type='FIXED' AND value=1000 AND total_quantity=100"
                                " AND issued_quantity=0 AND expires_at='%s'",
                                (long long)cid, when),
                     1);
    tc_free(r);

    /* the bounds: PERCENT 100, FIXED above 100, one day, one coupon */
    r = create_coupon("PERCENT", 100, 1, 1);
    assert_int_equal(r->status, 201);
    assert_string_equal(tc_str(r, "type"), "PERCENT");
    assert_int_equal(tc_int(r, "value"), 100);
    assert_int_equal(tc_int(r, "totalQuantity"), 1);
    assert_int_equal(tc_int(r, "remaining"), 1);
    ahead = (long long)(epoch_of(tc_str(r, "expiresAt")) - time(NULL));
    if (ahead < 86400 - 120 || ahead > 86400 + 120)
        fail_msg("expiresAt %s is %lld s ahead, not about 1 day", tc_str(r, "expiresAt"), ahead);
    tc_free(r);
    r = create_coupon("FIXED", 101, 5, 30);
    assert_int_equal(r->status, 201);
    assert_int_equal(tc_int(r, "value"), 101);
    ahead = (long long)(epoch_of(tc_str(r, "expiresAt")) - time(NULL));
    if (ahead < 30 * 86400 - 120 || ahead > 30 * 86400 + 120)
        fail_msg("expiresAt %s is %lld s ahead, not about 30 days", tc_str(r, "expiresAt"), ahead);
    tc_free(r);
}

static void admin_create_needs_the_token(void **state)
{
    static const char body[] = "{\"name\":\"x\",\"type\":\"FIXED\",\"value\":1000,"
                               "\"totalQuantity\":100,\"validDays\":7}";
    const char *wrong[] = {"Content-Type: application/json", "Authorization: Bearer nope", NULL};
    const char *basic[] = {"Content-Type: application/json", "Authorization: Basic eDp5", NULL};
    struct snap s;

    snap_take(&s, 0, 0);
    tc_resp_t *r = tc_post("/admin/coupons", body);
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);
    r = tc_req("POST", "/admin/coupons", body, wrong);
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);
    r = tc_req("POST", "/admin/coupons", body, basic);
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);
    assert_unchanged(&s);
}

static void admin_create_refuses_bad_input(void **state)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"name\":\"c\",\"type\":\"HALF\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}",
         "type"},
        {"{\"name\":\"c\",\"type\":\"fixed\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}",
         "type"},
        {"{\"name\":\"c\",\"type\":1,\"value\":10,\"totalQuantity\":10,\"validDays\":7}", "type"},
        {"{\"name\":\"c\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}", "type"},
        {"{\"name\":\"c\",\"type\":\"PERCENT\",\"value\":101,\"totalQuantity\":10,\"validDays\":7}",
         "value"},
        {"{\"name\":\"c\",\"type\":\"PERCENT\",\"value\":0,\"totalQuantity\":10,\"validDays\":7}",
         "value"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":0,\"totalQuantity\":10,\"validDays\":7}",
         "value"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":-1,\"totalQuantity\":10,\"validDays\":7}",
         "value"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":\"10\",\"totalQuantity\":10,\"validDays\":"
         "7}",
         "value"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":1.5,\"totalQuantity\":10,\"validDays\":7}",
         "value"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"totalQuantity\":10,\"validDays\":7}", "value"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":0,\"validDays\":7}",
         "totalQuantity"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":-5,\"validDays\":7}",
         "totalQuantity"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":10,\"validDays\":7}", "totalQuantity"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10,\"validDays\":0}",
         "validDays"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10,\"validDays\":-1}",
         "validDays"},
        {"{\"name\":\"c\",\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10}", "validDays"},
        {"{\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}", "name"},
        {"{\"name\":\"   \",\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}",
         "name"},
        {"{\"name\":\"\",\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}",
         "name"},
        {"{\"name\":null,\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}",
         "name"},
        {"{\"name\":5,\"type\":\"FIXED\",\"value\":10,\"totalQuantity\":10,\"validDays\":7}",
         "name"},
    };
    struct snap s;

    snap_take(&s, 0, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tc_resp_t *r = tc_admin("POST", "/admin/coupons", cases[i].body);
        if (r->status != 400)
            fprintf(stderr, "case %zu (%s) -> %ld %s\n", i, cases[i].body, r->status, r->body);
        assert_problem(r, 400, "INVALID_REQUEST");
        if (strcmp(tc_str(r, "field"), cases[i].field) != 0)
            fail_msg("case %zu (%s): field %s, want %s", i, cases[i].body, tc_str(r, "field"),
                     cases[i].field);
        tc_free(r);
    }
    /* not JSON at all */
    tc_resp_t *r = tc_admin("POST", "/admin/coupons", "{\"name\":\"c\",");
    assert_problem(r, 400, "INVALID_REQUEST");
    tc_free(r);
    assert_unchanged(&s);
}

/* ---------------------------------------------------------------------------
 * GET /coupons/{id} */

static void get_coupon(void **state)
{
    tc_resp_t *c = create_coupon("PERCENT", 15, 40, 3);
    assert_int_equal(c->status, 201);
    int64_t cid = tc_int(c, "couponId");

    tc_resp_t *r = tc_getf("/coupons/%lld", (long long)cid);
    assert_int_equal(r->status, 200);
    tc_assert_keys(r->json, coupon_keys);
    assert_int_equal(tc_int(r, "couponId"), cid);
    assert_string_equal(tc_str(r, "name"), tc_str(c, "name"));
    assert_string_equal(tc_str(r, "type"), "PERCENT");
    assert_int_equal(tc_int(r, "value"), 15);
    assert_int_equal(tc_int(r, "totalQuantity"), 40);
    assert_int_equal(tc_int(r, "issuedQuantity"), 0);
    assert_int_equal(tc_int(r, "remaining"), 40);
    assert_string_equal(tc_str(r, "expiresAt"), tc_str(c, "expiresAt"));
    tc_free(r);
    tc_free(c);

    r = tc_getf("/coupons/%lld", NOWHERE);
    assert_problem(r, 404, "COUPON_NOT_FOUND");
    tc_free(r);

    static const char *bad[] = {
        "/coupons/0", "/coupons/-1", "/coupons/abc", "/coupons/1.5", "/coupons/9223372036854775808",
        "/coupons/01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = tc_get(bad[i]);
        if (r->status != 400)
            fprintf(stderr, "%s -> %ld %s\n", bad[i], r->status, r->body);
        assert_problem(r, 400, "INVALID_REQUEST");
        assert_non_null(json_object_object_get(r->json, "field"));
        tc_free(r);
    }
}

/* ---------------------------------------------------------------------------
 * POST /coupons/{id}/issue */

static void issue_gives_the_user_a_coupon(void **state)
{
    int64_t uid = tc_new_user();
    tc_resp_t *c = create_coupon("PERCENT", 10, 100, 7);
    assert_int_equal(c->status, 201);
    int64_t cid = tc_int(c, "couponId");
    time_t now = time(NULL);

    tc_resp_t *r = tc_issue(cid, uid);
    if (r->status != 201)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    tc_assert_keys(r->json, user_coupon_keys);
    assert_int_equal(tc_int(r, "couponId"), cid);
    assert_int_equal(tc_int(r, "userId"), uid);
    assert_string_equal(tc_str(r, "name"), tc_str(c, "name"));
    assert_string_equal(tc_str(r, "type"), "PERCENT");
    assert_int_equal(tc_int(r, "value"), 10);
    assert_string_equal(tc_str(r, "status"), "AVAILABLE");
    tc_assert_time(tc_str(r, "issuedAt"));
    long long age = (long long)(now - epoch_of(tc_str(r, "issuedAt")));
    if (age < -120 || age > 120)
        fail_msg("issuedAt %s is not now", tc_str(r, "issuedAt"));
    assert_string_equal(tc_str(r, "expiresAt"), tc_str(c, "expiresAt"));
    assert_true(tc_is_null(r, "usedOrderId"));
    tc_free(r);
    tc_free(c);

    r = tc_getf("/coupons/%lld", (long long)cid);
    assert_int_equal(tc_int(r, "issuedQuantity"), 1);
    assert_int_equal(tc_int(r, "remaining"), 99);
    tc_free(r);
    assert_int_equal(issued_of(cid), 1);
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, uid), 0);

    /* a second user gets one too */
    issue_ok(cid, tc_new_user());
    assert_int_equal(issued_of(cid), 2);
    assert_int_equal(user_coupons_of(cid), 2);
}

static void second_issue_to_the_same_user_is_refused(void **state)
{
    int64_t uid = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 10);
    issue_ok(cid, uid);

    struct snap s;
    snap_take(&s, uid, 0);
    tc_resp_t *r = tc_issue(cid, uid);
    assert_problem(r, 409, "COUPON_ALREADY_ISSUED");
    tc_free(r);
    assert_unchanged(&s);
    r = tc_getf("/coupons/%lld", (long long)cid);
    assert_int_equal(tc_int(r, "issuedQuantity"), 1);
    assert_int_equal(tc_int(r, "remaining"), 9);
    tc_free(r);
    assert_int_equal(issued_of(cid), 1);
    assert_int_equal(has_uc(cid, uid), 1);
}

static void sold_out(void **state)
{
    int64_t u1 = tc_new_user(), u2 = tc_new_user(), u3 = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 2);
    issue_ok(cid, u1);
    issue_ok(cid, u2);

    struct snap s;
    snap_take(&s, u3, 0);
    tc_resp_t *r = tc_issue(cid, u3);
    assert_problem(r, 409, "COUPON_SOLD_OUT");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(has_uc(cid, u3), 0);
    r = tc_getf("/coupons/%lld", (long long)cid);
    assert_int_equal(tc_int(r, "issuedQuantity"), 2);
    assert_int_equal(tc_int(r, "remaining"), 0);
    tc_free(r);
    assert_int_equal(user_coupons_of(cid), 2);
}

static void issue_unknown_coupon_or_user(void **state)
{
    int64_t uid = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 10);
    struct snap s;

    snap_take(&s, uid, 0);
    tc_resp_t *r = tc_issue(NOWHERE, uid);
    assert_problem(r, 404, "COUPON_NOT_FOUND");
    tc_free(r);
    r = tc_issue(cid, NOWHERE);
    assert_problem(r, 404, "USER_NOT_FOUND");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(issued_of(cid), 0);
    assert_int_equal(user_coupons_of(cid), 0);
}

static void issue_of_an_expired_coupon(void **state)
{
    int64_t uid = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 10);
    expire(cid);

    struct snap s;
    snap_take(&s, uid, 0);
    tc_resp_t *r = tc_issue(cid, uid);
    assert_problem(r, 409, "COUPON_NOT_USABLE");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(issued_of(cid), 0);
    assert_int_equal(has_uc(cid, uid), 0);
}

static void issue_refuses_bad_bodies(void **state)
{
    static const char *bodies[] = {
        "{\"userId\":\"1\"}", "{}",
        "{\"userId\":0}",     "{\"userId\":-1}",
        "{\"userId\":1.5}",   "{\"userId\":null}",
        "{\"userId\":true}",  "{\"userId\":9223372036854775808}",
        "{\"user\":1}",
    };
    int64_t uid = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 10);
    char path[128];
    struct snap s;

    snprintf(path, sizeof(path), "/coupons/%lld/issue", (long long)cid);
    snap_take(&s, uid, 0);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        tc_resp_t *r = tc_post(path, bodies[i]);
        if (r->status != 400)
            fprintf(stderr, "body %s -> %ld %s\n", bodies[i], r->status, r->body);
        assert_problem(r, 400, "INVALID_REQUEST");
        assert_string_equal(tc_str(r, "field"), "userId");
        tc_free(r);
    }
    static const char *malformed[] = {"", "[1]", "{\"userId\":1", "userId=1"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        tc_resp_t *r = tc_post(path, malformed[i]);
        assert_problem(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
    /* a bad coupon id in the path */
    tc_resp_t *r = tc_post("/coupons/0/issue", "{\"userId\":1}");
    assert_problem(r, 400, "INVALID_REQUEST");
    tc_free(r);
    r = tc_post("/coupons/abc/issue", "{\"userId\":1}");
    assert_problem(r, 400, "INVALID_REQUEST");
    tc_free(r);
    /* not JSON */
    const char *text[] = {"Content-Type: text/plain", NULL};
    char body[64];
    snprintf(body, sizeof(body), "{\"userId\":%lld}", (long long)uid);
    r = tc_req("POST", path, body, text);
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(issued_of(cid), 0);
}

/* ---------------------------------------------------------------------------
 * GET /users/{id}/coupons */

static void a_users_coupons(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(5000, 10);
    int64_t avail = tc_new_coupon("PERCENT", 20, 10), gone = tc_new_coupon("FIXED", 300, 10),
            used = tc_new_coupon("FIXED", 1000, 10), other = tc_new_coupon("FIXED", 700, 10);
    tc_charge(uid, 10000);
    issue_ok(avail, uid);
    issue_ok(gone, uid);
    issue_ok(used, uid);
    issue_ok(other, tc_new_user()); /* someone else's: not listed */
    expire(gone);
    int64_t oid = order_ok(uid, pid, 1, used);

    tc_resp_t *r = tc_getf("/users/%lld/coupons", (long long)uid);
    assert_int_equal(r->status, 200);
    json_object *items = tc_jget(r->json, "items");
    assert_int_equal(json_object_array_length(items), 3);
    for (size_t i = 0; i < 3; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        tc_assert_keys(it, user_coupon_keys);
        assert_int_equal(tc_jint(it, "userId"), uid);
        tc_assert_time(tc_jstr(it, "issuedAt"));
        tc_assert_time(tc_jstr(it, "expiresAt"));
        assert_true(tc_jint(it, "couponId") != other);
    }
    json_object *a = find_uc(r, avail), *g = find_uc(r, gone), *u = find_uc(r, used);
    assert_string_equal(tc_jstr(a, "status"), "AVAILABLE");
    assert_string_equal(tc_jstr(a, "type"), "PERCENT");
    assert_int_equal(tc_jint(a, "value"), 20);
    assert_null(tc_jget(a, "usedOrderId"));
    assert_string_equal(tc_jstr(g, "status"), "EXPIRED");
    assert_string_equal(tc_jstr(g, "type"), "FIXED");
    assert_int_equal(tc_jint(g, "value"), 300);
    assert_null(tc_jget(g, "usedOrderId"));
    assert_string_equal(tc_jstr(u, "status"), "USED");
    assert_int_equal(tc_jint(u, "value"), 1000);
    assert_int_equal(tc_jint(u, "usedOrderId"), oid);
    tc_free(r);

    /* a user with none: an empty list */
    int64_t none = tc_new_user();
    r = tc_getf("/users/%lld/coupons", (long long)none);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_object_array_length(tc_jget(r->json, "items")), 0);
    tc_free(r);

    r = tc_getf("/users/%lld/coupons", NOWHERE);
    assert_problem(r, 404, "USER_NOT_FOUND");
    tc_free(r);
    r = tc_get("/users/0/coupons");
    assert_problem(r, 400, "INVALID_REQUEST");
    tc_free(r);
}

/* ---------------------------------------------------------------------------
 * coupons in orders */

static void fixed_1000_on_5000(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2500, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 10000);
    issue_ok(cid, uid);

    tc_resp_t *r = order(uid, pid, 2, cid);
    if (r->status != 201)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    int64_t oid = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "subtotal"), 5000);
    assert_int_equal(tc_int(r, "discount"), 1000);
    assert_int_equal(tc_int(r, "total"), 4000);
    assert_int_equal(tc_int(r, "couponId"), cid);
    assert_int_equal(tc_int(r, "balance"), 6000);
    tc_free(r);

    assert_int_equal(tc_balance(uid), 6000);
    assert_int_equal(tc_stock(pid), 8);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='USE' AND amount=4000 AND balance_after=6000"
                                " AND order_id=%lld",
                                (long long)uid, (long long)oid),
                     1);
    assert_int_equal(tc_history_of(uid), 2);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld AND subtotal=5000"
                                " AND discount=1000 AND total=4000 AND coupon_id=%lld",
                                (long long)oid, (long long)cid),
                     1);
    assert_int_equal(tc_sql_int("SELECT amount FROM payment WHERE order_id=%lld", (long long)oid),
                     4000);
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), oid);
    assert_int_equal(tc_sql_int("SELECT used_at IS NOT NULL FROM user_coupon WHERE coupon_id=%lld"
                                " AND user_id=%lld",
                                (long long)cid, (long long)uid),
                     1);

    /* GET /orders/{id} tells the same */
    r = tc_getf("/orders/%lld", (long long)oid);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "discount"), 1000);
    assert_int_equal(tc_int(r, "total"), 4000);
    assert_int_equal(tc_int(r, "couponId"), cid);
    tc_free(r);
}

static void percent_10_on_1999_floors(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(1999, 10);
    int64_t cid = tc_new_coupon("PERCENT", 10, 10);
    tc_charge(uid, 5000);
    issue_ok(cid, uid);

    tc_resp_t *r = order(uid, pid, 1, cid);
    assert_int_equal(r->status, 201);
    int64_t oid = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "subtotal"), 1999);
    assert_int_equal(tc_int(r, "discount"), 199);
    assert_int_equal(tc_int(r, "total"), 1800);
    assert_int_equal(tc_int(r, "balance"), 3200);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 3200);
    assert_int_equal(tc_sql_int("SELECT amount FROM point_history WHERE user_id=%lld"
                                " AND type='USE' AND order_id=%lld",
                                (long long)uid, (long long)oid),
                     1800);
    assert_int_equal(uc_order(cid, uid), oid);
}

static void fixed_above_the_subtotal_makes_it_free(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(1500, 10);
    int64_t cid = tc_new_coupon("FIXED", 10000, 10);
    tc_charge(uid, 700);
    issue_ok(cid, uid);
    int64_t hist = tc_history_of(uid);

    tc_resp_t *r = order(uid, pid, 2, cid);
    if (r->status != 201)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    int64_t oid = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "subtotal"), 3000);
    assert_int_equal(tc_int(r, "discount"), 3000); /* never more than the subtotal */
    assert_int_equal(tc_int(r, "total"), 0);
    assert_int_equal(tc_int(r, "balance"), 700);
    tc_free(r);

    assert_int_equal(tc_balance(uid), 700);
    assert_int_equal(tc_stock(pid), 8);
    /* a zero-amount change writes no history */
    assert_int_equal(tc_history_of(uid), hist);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM point_history WHERE order_id=%lld", (long long)oid), 0);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld AND discount=3000"
                                " AND total=0",
                                (long long)oid),
                     1);
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), oid);
    /* the latest history row still tells the balance */
    assert_int_equal(tc_sql_int("SELECT balance_after FROM point_history WHERE user_id=%lld"
                                " ORDER BY id DESC LIMIT 1",
                                (long long)uid),
                     700);
}

static void percent_100_needs_no_balance(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(1999, 10); /* never charged */
    int64_t cid = tc_new_coupon("PERCENT", 100, 10);
    issue_ok(cid, uid);

    tc_resp_t *r = order(uid, pid, 3, cid);
    if (r->status != 201)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    int64_t oid = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "subtotal"), 5997);
    assert_int_equal(tc_int(r, "discount"), 5997);
    assert_int_equal(tc_int(r, "total"), 0);
    assert_int_equal(tc_int(r, "balance"), 0);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_history_of(uid), 0);
    assert_int_equal(tc_stock(pid), 7);
    assert_int_equal(uc_order(cid, uid), oid);

    /* cancelling it refunds nothing and writes no history either */
    r = cancel(oid);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "balance"), 0);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_history_of(uid), 0);
    assert_int_equal(tc_stock(pid), 10);
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
}

/* The balance check is against the discounted total; a refusal leaves the
 * coupon available. */
static void balance_is_checked_against_the_discounted_total(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2500, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 3999);
    issue_ok(cid, uid);

    struct snap s;
    snap_take(&s, uid, pid);
    tc_resp_t *r = order(uid, pid, 2, cid); /* 5000 - 1000 = 4000 > 3999 */
    assert_problem(r, 409, "INSUFFICIENT_BALANCE");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, uid), 0);

    tc_charge(uid, 1); /* exactly the discounted total */
    r = order(uid, pid, 2, cid);
    assert_int_equal(r->status, 201);
    assert_int_equal(tc_int(r, "total"), 4000);
    assert_int_equal(tc_int(r, "balance"), 0);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(uc_status(cid, uid), UC_USED);
}

/* A retry with the same Idempotency-Key replays the order; it does not
 * try the (now used) coupon again. */
static void idempotent_replay_of_an_order_with_a_coupon(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2500, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    char body[256], v[64];
    tc_charge(uid, 10000);
    issue_ok(cid, uid);
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":2}],"
             "\"couponId\":%lld}",
             (long long)uid, (long long)pid, (long long)cid);

    tc_resp_t *r = tc_post_key("/orders", body, "coupon-replay-1");
    assert_int_equal(r->status, 201);
    int64_t oid = tc_int(r, "orderId");
    char *first = strdup(r->body);
    tc_free(r);

    struct snap s;
    snap_take(&s, uid, pid);
    r = tc_post_key("/orders", body, "coupon-replay-1");
    if (r->status != 201)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    assert_non_null(tc_header(r, "Idempotent-Replayed", v, sizeof(v)));
    assert_string_equal(v, "true");
    assert_string_equal(r->body, first);
    tc_free(r);
    free(first);
    assert_unchanged(&s);
    assert_int_equal(uc_order(cid, uid), oid);
    assert_int_equal(tc_balance(uid), 6000);
}

static void a_used_coupon_is_not_usable(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2000, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 20000);
    issue_ok(cid, uid);
    int64_t first = order_ok(uid, pid, 1, cid);

    struct snap s;
    snap_take(&s, uid, pid);
    tc_resp_t *r = order(uid, pid, 1, cid);
    assert_problem(r, 409, "COUPON_NOT_USABLE");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), first);
}

static void an_expired_coupon_is_not_usable(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2000, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 20000);
    issue_ok(cid, uid);
    expire(cid);

    struct snap s;
    snap_take(&s, uid, pid);
    tc_resp_t *r = order(uid, pid, 1, cid);
    assert_problem(r, 409, "COUPON_NOT_USABLE");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, uid), 0);
}

static void someone_elses_coupon_is_not_usable(void **state)
{
    int64_t uid = tc_new_user(), owner = tc_new_user(), pid = tc_new_product(2000, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10), never = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 20000);
    issue_ok(cid, owner);

    struct snap s;
    snap_take(&s, uid, pid);
    tc_resp_t *r = order(uid, pid, 1, cid);
    assert_problem(r, 409, "COUPON_NOT_USABLE");
    tc_free(r);
    /* a coupon issued to nobody */
    r = order(uid, pid, 1, never);
    assert_problem(r, 409, "COUPON_NOT_USABLE");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(has_uc(cid, uid), 0);
    assert_int_equal(has_uc(never, uid), 0);
    assert_int_equal(uc_status(cid, owner), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, owner), 0);
}

static void an_unknown_coupon_in_an_order(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2000, 10);
    tc_charge(uid, 20000);

    struct snap s;
    snap_take(&s, uid, pid);
    tc_resp_t *r = order(uid, pid, 1, NOWHERE);
    assert_problem(r, 404, "COUPON_NOT_FOUND");
    tc_free(r);
    /* a bad couponId is a 400 naming it */
    char body[256];
    static const char *bad[] = {"0", "-1", "\"1\"", "1.5", "true", "9223372036854775808"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}],"
                 "\"couponId\":%s}",
                 (long long)uid, (long long)pid, bad[i]);
        r = tc_post("/orders", body);
        if (r->status != 400)
            fprintf(stderr, "couponId %s -> %ld %s\n", bad[i], r->status, r->body);
        assert_problem(r, 400, "INVALID_REQUEST");
        assert_string_equal(tc_str(r, "field"), "couponId");
        tc_free(r);
    }
    assert_unchanged(&s);
}

/* ---------------------------------------------------------------------------
 * checkout and cancel */

static tc_resp_t *put_cart(int64_t uid, int64_t pid, int64_t qty)
{
    char path[128], body[64];
    snprintf(path, sizeof(path), "/users/%lld/cart/items/%lld", (long long)uid, (long long)pid);
    snprintf(body, sizeof(body), "{\"quantity\":%lld}", (long long)qty);
    return tc_req("PUT", path, body, json_hdr);
}

static tc_resp_t *checkout(int64_t uid, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "/users/%lld/cart/checkout", (long long)uid);
    return tc_post(path, body);
}

static void checkout_applies_the_coupon(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(1250, 10);
    int64_t cid = tc_new_coupon("PERCENT", 30, 10), foreign = tc_new_coupon("FIXED", 100, 10);
    char body[64];
    tc_charge(uid, 10000);
    issue_ok(cid, uid);
    issue_ok(foreign, tc_new_user());
    tc_resp_t *r = put_cart(uid, pid, 3);
    assert_int_equal(r->status, 200);
    tc_free(r);

    /* someone else's coupon: refused, the cart is kept */
    struct snap s;
    snap_take(&s, uid, pid);
    snprintf(body, sizeof(body), "{\"couponId\":%lld}", (long long)foreign);
    r = checkout(uid, body);
    assert_problem(r, 409, "COUPON_NOT_USABLE");
    tc_free(r);
    assert_unchanged(&s);

    snprintf(body, sizeof(body), "{\"couponId\":%lld}", (long long)cid);
    r = checkout(uid, body);
    if (r->status != 201)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    int64_t oid = tc_int(r, "orderId");
    assert_int_equal(tc_int(r, "subtotal"), 3750);
    assert_int_equal(tc_int(r, "discount"), 1125);
    assert_int_equal(tc_int(r, "total"), 2625);
    assert_int_equal(tc_int(r, "couponId"), cid);
    assert_int_equal(tc_int(r, "balance"), 7375);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 7375);
    assert_int_equal(tc_stock(pid), 7);
    assert_int_equal(
        tc_sql_int("SELECT COUNT(*) FROM cart_item WHERE user_id=%lld", (long long)uid), 0);
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), oid);
}

static void cancel_gives_the_coupon_back(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2500, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 10000);
    issue_ok(cid, uid);
    int64_t oid = order_ok(uid, pid, 2, cid);
    assert_int_equal(tc_balance(uid), 6000);

    tc_resp_t *r = cancel(oid);
    if (r->status != 200)
        fprintf(stderr, "%ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 200);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    assert_int_equal(tc_int(r, "discount"), 1000);
    assert_int_equal(tc_int(r, "total"), 4000);
    assert_int_equal(tc_int(r, "couponId"), cid);
    assert_int_equal(tc_int(r, "balance"), 10000);
    tc_free(r);

    /* the refund is the discounted total */
    assert_int_equal(tc_balance(uid), 10000);
    assert_int_equal(tc_stock(pid), 10);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='REFUND'",
                                (long long)uid),
                     1);
    assert_int_equal(tc_sql_int("SELECT amount FROM point_history WHERE user_id=%lld"
                                " AND type='REFUND' AND order_id=%lld AND balance_after=10000",
                                (long long)uid, (long long)oid),
                     4000);
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, uid), 0);
    assert_int_equal(tc_sql_int("SELECT used_at IS NULL FROM user_coupon WHERE coupon_id=%lld"
                                " AND user_id=%lld",
                                (long long)cid, (long long)uid),
                     1);

    r = tc_getf("/users/%lld/coupons", (long long)uid);
    assert_int_equal(r->status, 200);
    json_object *u = find_uc(r, cid);
    assert_string_equal(tc_jstr(u, "status"), "AVAILABLE");
    assert_null(tc_jget(u, "usedOrderId"));
    tc_free(r);

    /* and it can be used again */
    r = order(uid, pid, 1, cid);
    assert_int_equal(r->status, 201);
    assert_int_equal(tc_int(r, "discount"), 1000);
    assert_int_equal(tc_int(r, "total"), 1500);
    int64_t again = tc_int(r, "orderId");
    tc_free(r);
    assert_int_equal(uc_order(cid, uid), again);
    assert_int_equal(tc_balance(uid), 8500);
}

/* Cancelling an already cancelled order again must not touch the coupon,
 * which another order may be using by now. */
static void second_cancel_leaves_the_reused_coupon_alone(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2500, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 10000);
    issue_ok(cid, uid);
    int64_t first = order_ok(uid, pid, 2, cid);
    tc_resp_t *r = cancel(first);
    assert_int_equal(r->status, 200);
    tc_free(r);
    int64_t second = order_ok(uid, pid, 1, cid);
    assert_int_equal(uc_order(cid, uid), second);

    struct snap s;
    snap_take(&s, uid, pid);
    r = cancel(first);
    assert_problem(r, 409, "ORDER_NOT_CANCELLABLE");
    tc_free(r);
    assert_unchanged(&s);
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), second);
}

static void cancel_after_expiry_keeps_the_coupon_used(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2500, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 10000);
    issue_ok(cid, uid);
    int64_t oid = order_ok(uid, pid, 2, cid);
    expire(cid);

    tc_resp_t *r = cancel(oid);
    assert_int_equal(r->status, 200);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    assert_int_equal(tc_int(r, "balance"), 10000);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 10000);
    assert_int_equal(tc_sql_int("SELECT amount FROM point_history WHERE user_id=%lld"
                                " AND type='REFUND' AND order_id=%lld",
                                (long long)uid, (long long)oid),
                     4000);
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), oid);

    r = tc_getf("/users/%lld/coupons", (long long)uid);
    json_object *u = find_uc(r, cid);
    assert_string_equal(tc_jstr(u, "status"), "USED");
    assert_int_equal(tc_jint(u, "usedOrderId"), oid);
    tc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admin_creates_a_coupon),
        cmocka_unit_test(admin_create_needs_the_token),
        cmocka_unit_test(admin_create_refuses_bad_input),
        cmocka_unit_test(get_coupon),
        cmocka_unit_test(issue_gives_the_user_a_coupon),
        cmocka_unit_test(second_issue_to_the_same_user_is_refused),
        cmocka_unit_test(sold_out),
        cmocka_unit_test(issue_unknown_coupon_or_user),
        cmocka_unit_test(issue_of_an_expired_coupon),
        cmocka_unit_test(issue_refuses_bad_bodies),
        cmocka_unit_test(a_users_coupons),
        cmocka_unit_test(fixed_1000_on_5000),
        cmocka_unit_test(percent_10_on_1999_floors),
        cmocka_unit_test(fixed_above_the_subtotal_makes_it_free),
        cmocka_unit_test(percent_100_needs_no_balance),
        cmocka_unit_test(balance_is_checked_against_the_discounted_total),
        cmocka_unit_test(idempotent_replay_of_an_order_with_a_coupon),
        cmocka_unit_test(a_used_coupon_is_not_usable),
        cmocka_unit_test(an_expired_coupon_is_not_usable),
        cmocka_unit_test(someone_elses_coupon_is_not_usable),
        cmocka_unit_test(an_unknown_coupon_in_an_order),
        cmocka_unit_test(checkout_applies_the_coupon),
        cmocka_unit_test(cancel_gives_the_coupon_back),
        cmocka_unit_test(second_cancel_leaves_the_reused_coupon_alone),
        cmocka_unit_test(cancel_after_expiry_keeps_the_coupon_used),
    };
    return cmocka_run_group_tests_name("integration/coupons", tests, NULL, NULL);
}
