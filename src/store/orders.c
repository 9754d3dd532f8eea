#include "store/orders.h"

#include <stdio.h>
#include <string.h>

#include "common/rc.h"
#include "core/money.h"
#include "store/coupons.h"
#include "store/points.h"
#include "store/users.h"

static const char order_cols[] =
    "SELECT id, user_id, status, payment_status, subtotal, discount, total, coupon_id,"
    " IF(status = 'CANCELLED', refund_balance_after, balance_after), created_at, cancelled_at"
    " FROM orders";

#define ORDER_ROW_FMT                                                                              \
    "llsslllllt"                                                                                   \
    "t"
#define ORDER_ROW_ARGS(o)                                                                          \
    &(o)->id, &(o)->user_id, (o)->status, sizeof((o)->status), (o)->payment_status,                \
        sizeof((o)->payment_status), &(o)->subtotal, &(o)->discount, &(o)->total, &(o)->coupon_id, \
        &(o)->balance, (o)->created_at, (o)->cancelled_at

static int fail_with(struct order_place *p, enum order_outcome why, int64_t id, int64_t have,
                     int64_t want)
{
    p->outcome = why;
    p->bad_id = id;
    p->have = have;
    p->want = want;
    return C_REJECT;
}

int orders_place(db_t *db, struct order_place *p)
{
    static const char ins_order[] =
        "INSERT INTO orders (user_id, status, payment_status, subtotal, discount, total,"
        " coupon_id, balance_after, created_at) VALUES (?, 'PAID', 'PAID', ?, ?, ?, ?, ?, ?)";
    static const char ins_item[] =
        "INSERT INTO order_item (order_id, line_no, product_id, name, quantity, unit_price,"
        " amount) VALUES (?, ?, ?, ?, ?, ?, ?)";
    static const char ins_pay[] = "INSERT INTO payment (order_id, user_id, amount, status,"
                                  " created_at) VALUES (?, ?, ?, 'PAID', ?)";
    static char names[ORDER_MAX_LINES][PRODUCT_NAME_CHARS * 4 + 1];
    int64_t ids[ORDER_MAX_LINES], stock[ORDER_MAX_LINES], prices[ORDER_MAX_LINES];
    int64_t missing, balance = 0, subtotal = 0, discount = 0;
    order_t *o = p->order;
    char when_sql[UTIL_TIME_LEN];
    uint64_t order_id;
    int found, rc, n = p->n;

    p->outcome = ORDER_OK;
    order_lock_order(p->lines, n, ids);

    /* 1. inventory rows, ascending, in one statement */
    if ((rc = products_lock_stock(db, ids, n, stock, &missing)) != C_OK)
        return rc;
    if (missing)
        return fail_with(p, ORDER_NO_PRODUCT, missing, 0, 0);
    if ((rc = products_prices(db, ids, n, names, prices)) != C_OK)
        return rc;

    /* stock, in lock order, so the product named is deterministic */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (p->lines[j].product_id == ids[i] && p->lines[j].quantity > stock[i])
                return fail_with(p, ORDER_OUT_OF_STOCK, ids[i], stock[i], p->lines[j].quantity);
        }
    }

    memset(o, 0, sizeof(*o) - sizeof(o->lines));
    for (int j = 0; j < n; j++) {
        int i = 0;
        while (ids[i] != p->lines[j].product_id)
            i++;
        order_line_t *l = &o->lines[j];
        l->product_id = ids[i];
        l->quantity = p->lines[j].quantity;
        l->unit_price = prices[i];
        l->amount = order_line_amount(l->quantity, l->unit_price);
        memcpy(l->name, names[i], sizeof(l->name));
        if (l->amount < 0 || !money_add(subtotal, l->amount, &subtotal))
            return C_ERR; /* bounds at the edge make this unreachable */
    }
    o->nlines = n;

    /* 2. the user coupon */
    if (p->coupon_id) {
        enum coupon_use use;
        enum coupon_type type;
        int64_t value = 0;
        rc = coupons_lock_for_order(db, p->coupon_id, p->user_id, &use, &type, &value);
        if (rc != C_OK)
            return rc;
        if (use == COUPON_UNUSABLE) {
            /* An unknown user has no coupons either: say which is wrong. A
             * plain read, so the lock order is unchanged. */
            if ((rc = users_exists(db, p->user_id, &found)) != C_OK)
                return rc;
            if (!found)
                return fail_with(p, ORDER_NO_USER, p->user_id, 0, 0);
        }
        if (use != COUPON_USABLE)
            return fail_with(
                p, use == COUPON_UNKNOWN ? ORDER_COUPON_NOT_FOUND : ORDER_COUPON_NOT_USABLE,
                p->coupon_id, 0, 0);
        discount = coupon_discount(type, value, subtotal);
    }

    /* 3. the point row */
    if ((rc = points_lock(db, p->user_id, &balance, &found)) != C_OK)
        return rc;
    if (!found)
        return fail_with(p, ORDER_NO_USER, p->user_id, 0, 0);
    o->subtotal = subtotal;
    o->discount = discount;
    o->total = subtotal - discount;
    if (balance < o->total)
        return fail_with(p, ORDER_NO_BALANCE, 0, balance, o->total);

    /* take stock and money; record the order */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (p->lines[j].product_id == ids[i] &&
                (rc = products_add_stock(db, ids[i], -p->lines[j].quantity)) != C_OK)
                return rc;
        }
    }
    if ((rc = db_now(db, o->created_at)) != C_OK) /* the one clock: the database's */
        return rc;
    util_time_sql(o->created_at, when_sql);
    o->user_id = p->user_id;
    o->coupon_id = p->coupon_id;
    o->balance = balance - o->total;
    snprintf(o->status, sizeof(o->status), "PAID");
    snprintf(o->payment_status, sizeof(o->payment_status), "PAID");
    rc = db_exec(db, ins_order, NULL, &order_id, "llllnls", o->user_id, o->subtotal, o->discount,
                 o->total, o->coupon_id, o->balance, when_sql);
    if (rc != C_OK)
        return rc;
    o->id = (int64_t)order_id;
    for (int j = 0; j < n; j++) {
        const order_line_t *l = &o->lines[j];
        rc = db_exec(db, ins_item, NULL, NULL, "lllslll", o->id, (int64_t)j + 1, l->product_id,
                     l->name, l->quantity, l->unit_price, l->amount);
        if (rc != C_OK)
            return rc;
    }
    rc = db_exec(db, ins_pay, NULL, NULL, "llls", o->id, o->user_id, o->total, when_sql);
    if (rc == C_OK && o->coupon_id)
        rc = coupons_mark_used(db, o->coupon_id, o->user_id, o->id, when_sql);
    if (rc == C_OK && o->total > 0)
        rc = points_apply(db, o->user_id, o->balance, "USE", o->total, o->id, when_sql);
    return rc;
}

static int load_lines(db_t *db, order_t *o)
{
    static const char sql[] = "SELECT product_id, name, quantity, unit_price, amount"
                              " FROM order_item WHERE order_id = ? ORDER BY line_no";
    db_stmt_t *st;
    int rc;

    o->nlines = 0;
    rc = db_query(db, &st, sql, "l", o->id);
    if (rc != C_OK)
        return rc;
    for (;;) {
        order_line_t *l = &o->lines[o->nlines < ORDER_MAX_LINES ? o->nlines : ORDER_MAX_LINES - 1];
        rc = db_row(st, "lslll", &l->product_id, l->name, sizeof(l->name), &l->quantity,
                    &l->unit_price, &l->amount);
        if (rc != 1)
            break;
        if (o->nlines < ORDER_MAX_LINES)
            o->nlines++;
    }
    db_end(st);
    return rc < 0 ? rc : C_OK;
}

int orders_load(db_t *db, int64_t id, order_t *o, int *found)
{
    static char sql[256];
    db_stmt_t *st;
    int rc;

    if (!sql[0])
        snprintf(sql, sizeof(sql), "%s WHERE id = ?", order_cols);
    rc = db_query(db, &st, sql, "l", id);
    if (rc != C_OK)
        return rc;
    rc = db_row(st, ORDER_ROW_FMT, ORDER_ROW_ARGS(o));
    db_end(st);
    if (rc < 0)
        return rc;
    *found = rc;
    return rc ? load_lines(db, o) : C_OK;
}

int orders_list(db_t *db, int64_t user_id, int64_t before, int64_t limit, order_t *buf,
                void (*each)(void *arg, const order_t *o), void *arg)
{
    static char sql[256];
    db_stmt_t *st;
    int rc, n = 0;

    if (!sql[0])
        snprintf(sql, sizeof(sql), "%s WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                 order_cols);
    rc = db_query(db, &st, sql, "lll", user_id, before, limit);
    if (rc != C_OK)
        return rc;
    /* The header rows stay buffered in their statement while each order's
     * lines are read with another (a primary-key range read per order). */
    while ((rc = db_row(st, ORDER_ROW_FMT, ORDER_ROW_ARGS(buf))) == 1) {
        if ((rc = load_lines(db, buf)) != C_OK)
            break;
        each(arg, buf);
        n++;
    }
    db_end(st);
    return rc < 0 ? rc : n;
}

int orders_cancel(db_t *db, struct order_cancel *c)
{
    static const char lock_order[] =
        "SELECT user_id, status, total FROM orders WHERE id = ? FOR UPDATE";
    static const char upd_order[] =
        "UPDATE orders SET status = 'CANCELLED', payment_status = 'REFUNDED',"
        " cancelled_at = ?, refund_balance_after = ? WHERE id = ?";
    static const char upd_pay[] =
        "UPDATE payment SET status = 'REFUNDED', refunded_at = ? WHERE order_id = ?";
    order_t *o = c->order;
    db_stmt_t *st;
    int64_t user_id = 0, total = 0, balance = 0, missing;
    int64_t ids[ORDER_MAX_LINES], stock[ORDER_MAX_LINES];
    order_req_line_t req[ORDER_MAX_LINES];
    char status[12], now[UTIL_TIME_LEN], now_sql[UTIL_TIME_LEN];
    int rc, found;

    c->outcome = ORDER_OK;
    /* The order row first: concurrent cancels of one order queue here. */
    rc = db_query(db, &st, lock_order, "l", c->order_id);
    if (rc != C_OK)
        return rc;
    rc = db_row(st, "lsl", &user_id, status, sizeof(status), &total);
    db_end(st);
    if (rc < 0)
        return rc;
    if (rc == 0 || (c->user_id && user_id != c->user_id)) {
        c->outcome = ORDER_NOT_FOUND;
        return C_REJECT;
    }
    if (strcmp(status, "PAID") != 0) {
        c->outcome = ORDER_NOT_CANCELLABLE;
        return C_REJECT;
    }
    if ((rc = orders_load(db, c->order_id, o, &found)) != C_OK)
        return rc;
    for (int i = 0; i < o->nlines; i++) {
        req[i].product_id = o->lines[i].product_id;
        req[i].quantity = o->lines[i].quantity;
    }
    /* Then the global order: inventory ascending -> user coupon -> point. */
    order_lock_order(req, o->nlines, ids);
    if ((rc = products_lock_stock(db, ids, o->nlines, stock, &missing)) != C_OK)
        return rc;
    for (int i = 0; i < o->nlines; i++)
        for (int j = 0; j < o->nlines; j++)
            if (req[j].product_id == ids[i] && stock[i] >= 0 &&
                (rc = products_add_stock(db, ids[i], req[j].quantity)) != C_OK)
                return rc;
    if (o->coupon_id && (rc = coupons_release(db, o->coupon_id, user_id)) != C_OK)
        return rc;
    if ((rc = points_lock(db, user_id, &balance, &found)) != C_OK)
        return rc;
    /* A refund returns the user's own money: it may pass max_balance. */
    if (!money_add(balance, total, &balance))
        return C_ERR;
    if ((rc = db_now(db, now)) != C_OK)
        return rc;
    util_time_sql(now, now_sql);
    if (total > 0 &&
        (rc = points_apply(db, user_id, balance, "REFUND", total, c->order_id, now_sql)) != C_OK)
        return rc;
    if ((rc = db_exec(db, upd_order, NULL, NULL, "sll", now_sql, balance, c->order_id)) != C_OK ||
        (rc = db_exec(db, upd_pay, NULL, NULL, "sl", now_sql, c->order_id)) != C_OK)
        return rc;
    snprintf(o->status, sizeof(o->status), "CANCELLED");
    snprintf(o->payment_status, sizeof(o->payment_status), "REFUNDED");
    memcpy(o->cancelled_at, now, sizeof(now));
    o->balance = balance;
    return C_OK;
}
