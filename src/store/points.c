#include "store/points.h"

#include "common/rc.h"
#include "core/money.h"

int points_balance(db_t *db, int64_t user_id, int64_t *balance, int *found)
{
    static const char sql[] = "SELECT balance FROM point WHERE user_id = ?";
    return db_query_i64(db, balance, found, sql, "l", user_id);
}

int points_lock(db_t *db, int64_t user_id, int64_t *balance, int *found)
{
    static const char sql[] = "SELECT balance FROM point WHERE user_id = ? FOR UPDATE";
    return db_query_i64(db, balance, found, sql, "l", user_id);
}

int points_apply(db_t *db, int64_t user_id, int64_t new_balance, const char *type, int64_t amount,
                 int64_t order_id, const char *when_sql)
{
    static const char upd[] = "UPDATE point SET balance = ?, updated_at = NOW(3) WHERE user_id = ?";
    static const char ins[] = "INSERT INTO point_history (user_id, type, amount, balance_after,"
                              " order_id, created_at) VALUES (?, ?, ?, ?, ?, COALESCE(?, NOW(3)))";
    int rc = db_exec(db, upd, NULL, NULL, "ll", new_balance, user_id);

    if (rc == C_OK)
        rc = db_exec(db, ins, NULL, NULL, "lsllns", user_id, type, amount, new_balance, order_id,
                     when_sql);
    return rc;
}

int points_charge_check(db_t *db, struct points_charge *c)
{
    static const char sql[] = "SELECT balance, SYSDATE(3) FROM point WHERE user_id = ? FOR UPDATE";
    int64_t balance = 0;
    db_stmt_t *st;
    int rc;

    if ((rc = db_query(db, &st, sql, "l", c->user_id)) != C_OK)
        return rc;
    rc = db_row(st, "lT", &balance, &c->at);
    db_end(st);
    if (rc < 0)
        return rc;
    if (rc == DB_END) {
        c->outcome = CHARGE_NO_USER;
        return DB_REFUSED;
    }
    if (money_check_charge(balance, c->amount, c->max_balance, &c->balance) != CHARGE_OK) {
        c->outcome = CHARGE_TOO_MUCH;
        c->balance = balance;
        return DB_REFUSED;
    }
    c->outcome = CHARGE_DONE;
    return C_OK;
}

int points_charge_apply(db_t *db, const struct points_charge *c)
{
    return points_apply(db, c->user_id, c->balance, "CHARGE", c->amount, 0, c->at.sql);
}

int points_history(db_t *db, int64_t user_id, int64_t before, int64_t limit,
                   void (*each)(void *arg, const point_entry_t *e), void *arg, int *count)
{
    static const char sql[] =
        "SELECT id, type, amount, balance_after, order_id, created_at FROM point_history"
        " WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
    db_stmt_t *st;
    point_entry_t e;
    int rc, n = 0;

    rc = db_query(db, &st, sql, "lll", user_id, before, limit);
    if (rc != C_OK)
        return rc;
    while ((rc = db_row(st, "lslllt", &e.id, e.type, sizeof(e.type), &e.amount, &e.balance_after,
                        &e.order_id, e.created_at)) == DB_ROW) {
        each(arg, &e);
        n++;
    }
    db_end(st);
    if (count)
        *count = n;
    return rc < 0 ? rc : C_OK;
}
