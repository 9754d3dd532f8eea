#include "store/coupons.h"

#include <stdio.h>
#include <string.h>

#include "common/rc.h"
#include "store/users.h"

static const char coupon_sel[] =
    "SELECT id, name, type, value, total_quantity, issued_quantity, expires_at FROM coupon"
    " WHERE id = ?";

int coupons_get(db_t *db, int64_t id, coupon_t *c, int *found)
{
    db_stmt_t *st;
    int rc = db_query(db, &st, coupon_sel, "l", id);

    if (rc != C_OK)
        return rc;
    rc = db_row(st, "lsslllt", &c->id, c->name, sizeof(c->name), c->type, sizeof(c->type),
                &c->value, &c->total, &c->issued, c->expires_at);
    db_end(st);
    if (rc < 0)
        return rc;
    *found = rc == DB_ROW;
    return C_OK;
}

int coupons_create_tx(db_t *db, struct coupons_create *c)
{
    static const char sql[] = "INSERT INTO coupon (name, type, value, total_quantity, expires_at)"
                              " VALUES (?, ?, ?, ?, NOW(3) + INTERVAL ? DAY)";
    uint64_t id = 0;
    int found, rc = db_exec(db, sql, NULL, &id,
                            "ssll"
                            "l",
                            c->name, coupon_type_name(c->type), c->value, c->total, c->valid_days);
    if (rc != C_OK)
        return rc;
    rc = coupons_get(db, (int64_t)id, &c->result, &found);
    return rc == C_OK && !found ? C_ERR : rc;
}

static const char user_coupon_sel[] =
    "SELECT c.id, c.name, c.type, c.value, c.total_quantity, c.issued_quantity, c.expires_at,"
    " uc.user_id, IF(uc.status = 'AVAILABLE' AND c.expires_at <= NOW(3), 'EXPIRED', uc.status),"
    " uc.issued_at, uc.used_order_id FROM user_coupon uc JOIN coupon c ON c.id = uc.coupon_id";

#define UC_FMT                                                                                     \
    "lsslllt"                                                                                      \
    "lstl"
#define UC_ARGS(u)                                                                                 \
    &(u)->coupon.id, (u)->coupon.name, sizeof((u)->coupon.name), (u)->coupon.type,                 \
        sizeof((u)->coupon.type), &(u)->coupon.value, &(u)->coupon.total, &(u)->coupon.issued,     \
        (u)->coupon.expires_at, &(u)->user_id, (u)->status, sizeof((u)->status), (u)->issued_at,   \
        &(u)->used_order_id

int coupons_issue_tx(db_t *db, struct coupons_issue *c)
{
    static const char peek[] = "SELECT issued_quantity < total_quantity, expires_at > NOW(3)"
                               " FROM coupon WHERE id = ?";
    static const char ins[] = "INSERT INTO user_coupon (coupon_id, user_id) VALUES (?, ?)";
    static const char take[] =
        "UPDATE coupon SET issued_quantity = issued_quantity + 1 WHERE id = ?"
        " AND issued_quantity < total_quantity AND expires_at > NOW(3)";
    static char one[512];
    db_stmt_t *st;
    int64_t left = 0, valid = 0;
    uint64_t taken = 0;
    int rc, found;

    c->outcome = ISSUE_OK;
    if ((rc = users_exists(db, c->user_id, &found)) != C_OK)
        return rc;
    if (!found) {
        c->outcome = ISSUE_NO_USER;
        return DB_REFUSED;
    }
    /* A plain read first: once sold out, the flood of late requests is
     * refused without touching the (hot) coupon row lock. */
    if ((rc = db_query(db, &st, peek, "l", c->coupon_id)) != C_OK)
        return rc;
    rc = db_row(st, "ll", &left, &valid);
    db_end(st);
    if (rc < 0)
        return rc;
    if (rc == DB_END || !valid) {
        c->outcome = rc == DB_END ? ISSUE_NO_COUPON : ISSUE_EXPIRED;
        return DB_REFUSED;
    }
    rc = db_exec(db, ins, NULL, NULL, "ll", c->coupon_id, c->user_id);
    if (rc == C_DUP) {
        c->outcome = ISSUE_ALREADY;
        return DB_REFUSED;
    }
    if (rc != C_OK)
        return rc;
    if (left)
        rc = db_exec(db, take, &taken, NULL, "l", c->coupon_id);
    if (rc != C_OK)
        return rc;
    if (taken != 1) {
        c->outcome = ISSUE_SOLD_OUT; /* the rollback removes our user_coupon row */
        return DB_REFUSED;
    }
    if (!one[0])
        snprintf(one, sizeof(one), "%s WHERE uc.coupon_id = ? AND uc.user_id = ?", user_coupon_sel);
    if ((rc = db_query(db, &st, one, "ll", c->coupon_id, c->user_id)) != C_OK)
        return rc;
    rc = db_row(st, UC_FMT, UC_ARGS(&c->result));
    db_end(st);
    return rc == DB_ROW ? C_OK : rc < 0 ? rc : C_ERR;
}

int coupons_of_user(db_t *db, int64_t user_id, void (*each)(void *arg, const user_coupon_t *u),
                    void *arg, int *count)
{
    static char sql[512];
    db_stmt_t *st;
    user_coupon_t u;
    int rc, n = 0;

    if (!sql[0])
        snprintf(sql, sizeof(sql), "%s WHERE uc.user_id = ? ORDER BY uc.issued_at DESC, c.id DESC",
                 user_coupon_sel);
    if ((rc = db_query(db, &st, sql, "l", user_id)) != C_OK)
        return rc;
    while ((rc = db_row(st, UC_FMT, UC_ARGS(&u))) == DB_ROW) {
        each(arg, &u);
        n++;
    }
    db_end(st);
    if (count)
        *count = n;
    return rc < 0 ? rc : C_OK;
}

/* Lock the user coupon row; *status is "" when there is none. */
static int lock_user_coupon(db_t *db, int64_t coupon_id, int64_t user_id, char *status, size_t cap)
{
    static const char sql[] = "SELECT status FROM user_coupon WHERE coupon_id = ? AND user_id = ?"
                              " FOR UPDATE";
    db_stmt_t *st;
    int rc = db_query(db, &st, sql, "ll", coupon_id, user_id);

    if (rc != C_OK)
        return rc;
    status[0] = '\0';
    rc = db_row(st, "s", status, cap);
    db_end(st);
    return rc < 0 ? rc : C_OK;
}

int coupons_lock_for_order(db_t *db, int64_t coupon_id, int64_t user_id, enum coupon_use *use,
                           enum coupon_type *type, int64_t *value)
{
    /* The coupon row itself is read without a lock: its terms never change,
     * and first-come issuance keeps it hot. */
    static const char terms[] = "SELECT type, value, expires_at > NOW(3) FROM coupon WHERE id = ?";
    char status[12], tname[8] = "";
    int64_t valid = 0;
    db_stmt_t *st;
    int rc;

    if ((rc = lock_user_coupon(db, coupon_id, user_id, status, sizeof(status))) != C_OK)
        return rc;
    if ((rc = db_query(db, &st, terms, "l", coupon_id)) != C_OK)
        return rc;
    rc = db_row(st, "sll", tname, sizeof(tname), value, &valid);
    db_end(st);
    if (rc < 0)
        return rc;
    if (rc == DB_END)
        *use = COUPON_UNKNOWN;
    else if (strcmp(status, "AVAILABLE") != 0 || !valid)
        *use = COUPON_UNUSABLE;
    else
        *use = COUPON_USABLE;
    *type = strcmp(tname, "FIXED") == 0 ? COUPON_FIXED : COUPON_PERCENT;
    return C_OK;
}

int coupons_mark_used(db_t *db, int64_t coupon_id, int64_t user_id, int64_t order_id,
                      const char *when_sql)
{
    static const char sql[] = "UPDATE user_coupon SET status = 'USED', used_order_id = ?,"
                              " used_at = ? WHERE coupon_id = ? AND user_id = ?";
    return db_exec(db, sql, NULL, NULL, "lsll", order_id, when_sql, coupon_id, user_id);
}

int coupons_release(db_t *db, int64_t coupon_id, int64_t user_id)
{
    static const char valid[] = "SELECT expires_at > NOW(3) FROM coupon WHERE id = ?";
    static const char sql[] = "UPDATE user_coupon SET status = 'AVAILABLE', used_order_id = NULL,"
                              " used_at = NULL WHERE coupon_id = ? AND user_id = ?";
    char status[12];
    int64_t ok = 0;
    int rc;

    if ((rc = lock_user_coupon(db, coupon_id, user_id, status, sizeof(status))) != C_OK ||
        (rc = db_query_i64(db, &ok, NULL, valid, "l", coupon_id)) != C_OK)
        return rc;
    /* An expired coupon stays USED: it cannot be used again anyway. */
    return ok ? db_exec(db, sql, NULL, NULL, "ll", coupon_id, user_id) : C_OK;
}
