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
    tc_expect_status(r, 201);
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

/* A user charged with `charge` points (0: none) who holds a coupon of this
 * type and value (one of 10), and a product of `price` (stock 10). */
struct holder {
    int64_t uid, pid, cid;
};

static struct holder holder(int64_t price, const char *type, int64_t value, int64_t charge)
{
    struct holder h = {tc_new_user(), tc_new_product(price, 10), tc_new_coupon(type, value, 10)};
    if (charge)
        tc_charge(h.uid, charge);
    issue_ok(h.cid, h.uid);
    return h;
}

/* The amounts of an order's answer (balance: the user's after it). */
struct amounts {
    int64_t subtotal, discount, total, balance;
};

static void assert_amounts(const tc_resp_t *r, struct amounts a)
{
    assert_int_equal(tc_int(r, "subtotal"), a.subtotal);
    assert_int_equal(tc_int(r, "discount"), a.discount);
    assert_int_equal(tc_int(r, "total"), a.total);
    assert_int_equal(tc_int(r, "balance"), a.balance);
}

/* h's user orders qty of h's product with h's coupon: 201 with these
 * amounts and the coupon; the order id. */
static int64_t order_priced(struct holder h, int64_t qty, struct amounts a)
{
    tc_resp_t *r = order(h.uid, h.pid, qty, h.cid);
    tc_expect_status(r, 201);
    assert_amounts(r, a);
    assert_int_equal(tc_int(r, "couponId"), h.cid);
    int64_t oid = tc_int(r, "orderId");
    tc_free(r);
    return oid;
}

/* The user's balance is `balance`, and the one history row of this type for
 * the order (the latest change) moved `amount` and left that balance. */
static void assert_booked(int64_t uid, int64_t balance, const char *type, int64_t oid,
                          int64_t amount)
{
    assert_int_equal(tc_balance(uid), balance);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='%s' AND order_id=%lld",
                                (long long)uid, type, (long long)oid),
                     1);
    assert_int_equal(tc_sql_int("SELECT amount FROM point_history WHERE user_id=%lld"
                                " AND type='%s' AND order_id=%lld AND balance_after=%lld",
                                (long long)uid, type, (long long)oid, (long long)balance),
                     amount);
}

/* An order of qty with coupon cid is refused (status, code) and changes nothing. */
static void order_refused_at(int64_t uid, int64_t pid, int64_t qty, int64_t cid, long status,
                             const char *code, const char *file, int line)
{
    tc_snapshot_t s = tc_snapshot(uid, 1, &pid);
    tc_resp_t *r = order(uid, pid, qty, cid);
    tc_assert_problem(r, status, code, file, line);
    tc_free(r);
    tc_snapshot_equal_at(&s, file, line);
}
#define assert_order_refused(uid, pid, qty, cid, status, code)                                     \
    order_refused_at((uid), (pid), (qty), (cid), (status), (code), __FILE__, __LINE__)

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

/* ---------------------------------------------------------------------------
 * POST /admin/coupons */

static void admin_creates_a_coupon(void **state)
{
    tc_resp_t *r = tc_admin("POST", "/admin/coupons",
                            "{\"name\":\"welcome\",\"type\":\"FIXED\",\"value\":1000,"
                            "\"totalQuantity\":100,\"validDays\":7}");
    time_t now = time(NULL);
    char ct[128], when[32];

    tc_expect_status(r, 201);
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
    tc_snapshot_t s = tc_snapshot(0, 0, NULL);
    tc_resp_t *r = tc_post("/admin/coupons", body);
    assert_problem(r, 401, "UNAUTHORIZED");
    tc_free(r);
    assert_refused(tc_req("POST", "/admin/coupons", body, wrong), 401, "UNAUTHORIZED");
    assert_refused(tc_req("POST", "/admin/coupons", body, basic), 401, "UNAUTHORIZED");
    tc_snapshot_equal(&s);
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
    tc_snapshot_t s = tc_snapshot(0, 0, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tc_resp_t *r = tc_admin("POST", "/admin/coupons", cases[i].body);
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
    tc_snapshot_equal(&s);
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

    assert_refused(tc_getf("/coupons/%lld", NOWHERE), 404, "COUPON_NOT_FOUND");

    static const char *bad[] = {
        "/coupons/0", "/coupons/-1", "/coupons/abc", "/coupons/1.5", "/coupons/9223372036854775808",
        "/coupons/01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = tc_get(bad[i]);
        assert_invalid(r, NULL);
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
    tc_expect_status(r, 201);
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

/* Issuing cid to uid is refused (status, code) and changes nothing. */
static void issue_refused_at(int64_t cid, int64_t uid, long status, const char *code,
                             const char *file, int line)
{
    tc_snapshot_t s = tc_snapshot(uid, 0, NULL);
    tc_assert_refused(tc_issue(cid, uid), status, code, file, line);
    tc_snapshot_equal_at(&s, file, line);
}
#define assert_issue_refused(cid, uid, status, code)                                               \
    issue_refused_at((cid), (uid), (status), (code), __FILE__, __LINE__)

/* GET /coupons/{cid} tells these issued and remaining quantities. */
static void assert_coupon_left(int64_t cid, int64_t issued, int64_t remaining)
{
    tc_resp_t *r = tc_getf("/coupons/%lld", (long long)cid);
    tc_expect_status(r, 200);
    assert_int_equal(tc_int(r, "issuedQuantity"), issued);
    assert_int_equal(tc_int(r, "remaining"), remaining);
    tc_free(r);
}

static void second_issue_to_the_same_user_is_refused(void **state)
{
    int64_t uid = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 10);
    issue_ok(cid, uid);

    assert_issue_refused(cid, uid, 409, "COUPON_ALREADY_ISSUED");
    assert_coupon_left(cid, 1, 9);
    assert_int_equal(issued_of(cid), 1);
    assert_int_equal(has_uc(cid, uid), 1);
}

static void sold_out(void **state)
{
    int64_t u1 = tc_new_user(), u2 = tc_new_user(), u3 = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 2);
    issue_ok(cid, u1);
    issue_ok(cid, u2);

    assert_issue_refused(cid, u3, 409, "COUPON_SOLD_OUT");
    assert_int_equal(has_uc(cid, u3), 0);
    assert_coupon_left(cid, 2, 0);
    assert_int_equal(user_coupons_of(cid), 2);
}

static void issue_unknown_coupon_or_user(void **state)
{
    int64_t uid = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 10);
    assert_issue_refused(NOWHERE, uid, 404, "COUPON_NOT_FOUND");
    assert_issue_refused(cid, NOWHERE, 404, "USER_NOT_FOUND");
    assert_int_equal(issued_of(cid), 0);
    assert_int_equal(user_coupons_of(cid), 0);
}

static void issue_of_an_expired_coupon(void **state)
{
    int64_t uid = tc_new_user();
    int64_t cid = tc_new_coupon("FIXED", 500, 10);
    expire(cid);

    assert_issue_refused(cid, uid, 409, "COUPON_NOT_USABLE");
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
    tc_snapshot_t s;

    snprintf(path, sizeof(path), "/coupons/%lld/issue", (long long)cid);
    s = tc_snapshot(uid, 0, NULL);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_invalid(tc_post(path, bodies[i]), "userId");
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
    assert_refused(tc_post("/coupons/abc/issue", "{\"userId\":1}"), 400, "INVALID_REQUEST");
    /* not JSON */
    const char *text[] = {"Content-Type: text/plain", NULL};
    char body[64];
    snprintf(body, sizeof(body), "{\"userId\":%lld}", (long long)uid);
    assert_refused(tc_req("POST", path, body, text), 415, "UNSUPPORTED_MEDIA_TYPE");
    tc_snapshot_equal(&s);
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

    assert_refused(tc_getf("/users/%lld/coupons", NOWHERE), 404, "USER_NOT_FOUND");
    assert_refused(tc_get("/users/0/coupons"), 400, "INVALID_REQUEST");
}

/* ---------------------------------------------------------------------------
 * coupons in orders */

static void fixed_1000_on_5000(void **state)
{
    struct holder h = holder(2500, "FIXED", 1000, 10000);
    int64_t uid = h.uid, pid = h.pid, cid = h.cid;
    int64_t oid = order_priced(h, 2, (struct amounts){5000, 1000, 4000, 6000});

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
    tc_resp_t *r = tc_getf("/orders/%lld", (long long)oid);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "discount"), 1000);
    assert_int_equal(tc_int(r, "total"), 4000);
    assert_int_equal(tc_int(r, "couponId"), cid);
    tc_free(r);
}

static void percent_10_on_1999_floors(void **state)
{
    struct holder h = holder(1999, "PERCENT", 10, 5000);
    int64_t uid = h.uid, cid = h.cid;
    int64_t oid = order_priced(h, 1, (struct amounts){1999, 199, 1800, 3200});
    assert_booked(uid, 3200, "USE", oid, 1800);
    assert_int_equal(uc_order(cid, uid), oid);
}

static void fixed_above_the_subtotal_makes_it_free(void **state)
{
    struct holder h = holder(1500, "FIXED", 10000, 700);
    int64_t uid = h.uid, pid = h.pid, cid = h.cid;
    int64_t hist = tc_history_of(uid);
    /* the discount is never more than the subtotal */
    int64_t oid = order_priced(h, 2, (struct amounts){3000, 3000, 0, 700});

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
    assert_int_equal(tc_last_balance_after(uid), 700);
}

static void percent_100_needs_no_balance(void **state)
{
    struct holder h = holder(1999, "PERCENT", 100, 0); /* never charged */
    int64_t uid = h.uid, pid = h.pid, cid = h.cid;
    int64_t oid = order_priced(h, 3, (struct amounts){5997, 5997, 0, 0});
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_history_of(uid), 0);
    assert_int_equal(tc_stock(pid), 7);
    assert_int_equal(uc_order(cid, uid), oid);

    /* cancelling it refunds nothing and writes no history either */
    tc_resp_t *r = cancel(oid);
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
    struct holder h = holder(2500, "FIXED", 1000, 3999);
    int64_t uid = h.uid, pid = h.pid, cid = h.cid;

    /* 5000 - 1000 = 4000 > 3999 */
    assert_order_refused(uid, pid, 2, cid, 409, "INSUFFICIENT_BALANCE");
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, uid), 0);

    tc_charge(uid, 1); /* exactly the discounted total */
    tc_resp_t *r = order(uid, pid, 2, cid);
    tc_expect_status(r, 201);
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
    struct holder h = holder(2500, "FIXED", 1000, 10000);
    int64_t uid = h.uid, pid = h.pid, cid = h.cid;
    char body[256], v[64];
    snprintf(body, sizeof(body),
             "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":2}],"
             "\"couponId\":%lld}",
             (long long)uid, (long long)pid, (long long)cid);

    tc_resp_t *r = tc_post_key("/orders", body, "coupon-replay-1");
    tc_expect_status(r, 201);
    int64_t oid = tc_int(r, "orderId");
    char *first = strdup(r->body);
    tc_free(r);

    tc_snapshot_t s = tc_snapshot(uid, 1, &pid);
    r = tc_post_key("/orders", body, "coupon-replay-1");
    tc_expect_status(r, 201);
    assert_non_null(tc_header(r, "Idempotent-Replayed", v, sizeof(v)));
    assert_string_equal(v, "true");
    assert_string_equal(r->body, first);
    tc_free(r);
    free(first);
    tc_snapshot_equal(&s);
    assert_int_equal(uc_order(cid, uid), oid);
    assert_int_equal(tc_balance(uid), 6000);
}

static void a_used_coupon_is_not_usable(void **state)
{
    struct holder h = holder(2000, "FIXED", 1000, 20000);
    int64_t uid = h.uid, cid = h.cid;
    int64_t first = order_ok(uid, h.pid, 1, cid);

    assert_order_refused(uid, h.pid, 1, cid, 409, "COUPON_NOT_USABLE");
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), first);
}

static void an_expired_coupon_is_not_usable(void **state)
{
    struct holder h = holder(2000, "FIXED", 1000, 20000);
    int64_t uid = h.uid, cid = h.cid;
    expire(cid);

    assert_order_refused(uid, h.pid, 1, cid, 409, "COUPON_NOT_USABLE");
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, uid), 0);
}

static void someone_elses_coupon_is_not_usable(void **state)
{
    int64_t uid = tc_new_user(), owner = tc_new_user(), pid = tc_new_product(2000, 10);
    int64_t cid = tc_new_coupon("FIXED", 1000, 10), never = tc_new_coupon("FIXED", 1000, 10);
    tc_charge(uid, 20000);
    issue_ok(cid, owner);

    assert_order_refused(uid, pid, 1, cid, 409, "COUPON_NOT_USABLE");
    /* a coupon issued to nobody */
    assert_order_refused(uid, pid, 1, never, 409, "COUPON_NOT_USABLE");
    assert_int_equal(has_uc(cid, uid), 0);
    assert_int_equal(has_uc(never, uid), 0);
    assert_int_equal(uc_status(cid, owner), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, owner), 0);
}

static void an_unknown_coupon_in_an_order(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(2000, 10);
    tc_charge(uid, 20000);

    assert_order_refused(uid, pid, 1, NOWHERE, 404, "COUPON_NOT_FOUND");
    /* a bad couponId is a 400 naming it */
    tc_snapshot_t s = tc_snapshot(uid, 1, &pid);
    char body[256];
    static const char *bad[] = {"0", "-1", "\"1\"", "1.5", "true", "9223372036854775808"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}],"
                 "\"couponId\":%s}",
                 (long long)uid, (long long)pid, bad[i]);
        assert_invalid(tc_post("/orders", body), "couponId");
    }
    tc_snapshot_equal(&s);
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
    tc_expect_status(r, 200);
    tc_free(r);

    /* someone else's coupon: refused, the cart is kept */
    tc_snapshot_t s = tc_snapshot(uid, 1, &pid);
    snprintf(body, sizeof(body), "{\"couponId\":%lld}", (long long)foreign);
    assert_refused(checkout(uid, body), 409, "COUPON_NOT_USABLE");
    tc_snapshot_equal(&s);

    snprintf(body, sizeof(body), "{\"couponId\":%lld}", (long long)cid);
    r = checkout(uid, body);
    tc_expect_status(r, 201);
    int64_t oid = tc_int(r, "orderId");
    assert_amounts(r, (struct amounts){3750, 1125, 2625, 7375});
    assert_int_equal(tc_int(r, "couponId"), cid);
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
    struct holder h = holder(2500, "FIXED", 1000, 10000);
    int64_t uid = h.uid, pid = h.pid, cid = h.cid;
    int64_t oid = order_ok(uid, pid, 2, cid);
    assert_int_equal(tc_balance(uid), 6000);

    tc_resp_t *r = cancel(oid);
    tc_expect_status(r, 200);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    assert_int_equal(tc_int(r, "discount"), 1000);
    assert_int_equal(tc_int(r, "total"), 4000);
    assert_int_equal(tc_int(r, "couponId"), cid);
    assert_int_equal(tc_int(r, "balance"), 10000);
    tc_free(r);

    /* the refund is the discounted total */
    assert_booked(uid, 10000, "REFUND", oid, 4000);
    assert_int_equal(tc_stock(pid), 10);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld"
                                " AND type='REFUND'",
                                (long long)uid),
                     1);
    assert_int_equal(uc_status(cid, uid), UC_AVAILABLE);
    assert_int_equal(uc_order(cid, uid), 0);
    assert_int_equal(tc_sql_int("SELECT used_at IS NULL FROM user_coupon WHERE coupon_id=%lld"
                                " AND user_id=%lld",
                                (long long)cid, (long long)uid),
                     1);

    r = tc_getf("/users/%lld/coupons", (long long)uid);
    tc_expect_status(r, 200);
    json_object *u = find_uc(r, cid);
    assert_string_equal(tc_jstr(u, "status"), "AVAILABLE");
    assert_null(tc_jget(u, "usedOrderId"));
    tc_free(r);

    /* and it can be used again */
    r = order(uid, pid, 1, cid);
    tc_expect_status(r, 201);
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
    struct holder h = holder(2500, "FIXED", 1000, 10000);
    int64_t uid = h.uid, pid = h.pid, cid = h.cid;
    int64_t first = order_ok(uid, pid, 2, cid);
    tc_resp_t *r = cancel(first);
    tc_expect_status(r, 200);
    tc_free(r);
    int64_t second = order_ok(uid, pid, 1, cid);
    assert_int_equal(uc_order(cid, uid), second);

    tc_snapshot_t s = tc_snapshot(uid, 1, &pid);
    assert_refused(cancel(first), 409, "ORDER_NOT_CANCELLABLE");
    tc_snapshot_equal(&s);
    assert_int_equal(uc_status(cid, uid), UC_USED);
    assert_int_equal(uc_order(cid, uid), second);
}

static void cancel_after_expiry_keeps_the_coupon_used(void **state)
{
    struct holder h = holder(2500, "FIXED", 1000, 10000);
    int64_t uid = h.uid, cid = h.cid;
    int64_t oid = order_ok(uid, h.pid, 2, cid);
    expire(cid);

    tc_resp_t *r = cancel(oid);
    tc_expect_status(r, 200);
    assert_string_equal(tc_str(r, "status"), "CANCELLED");
    assert_int_equal(tc_int(r, "balance"), 10000);
    tc_free(r);
    assert_booked(uid, 10000, "REFUND", oid, 4000);
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
