#include "store/orders.h"

#include <stdio.h>
#include <string.h>

#include "common/rc.h"
#include "core/money.h"
#include "store/coupons.h"
#include "store/points.h"

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

/* The statement texts built at run time, one per shape, kept for the life of
 * the process (the statement cache keys them by address). */
#define ARITIES 8 /* IN lists of 1, 2, 4 ... 128 ids */
#define CHUNK 16  /* lines per multi-row insert or stock update */

static int log2i(int a)
{
    int k = 0;
    while ((1 << k) < a)
        k++;
    return k;
}

/* The first statement of an order: lock the buyer's point row and read the
 * database's clock once the lock is held (SYSDATE, not NOW: the statement may
 * have waited), lock the user coupon and read its terms, and read the
 * products' names and prices, in the global lock order. One row per fact:
 *   k=0 point:   a = balance, t = the time
 *   k=1 user coupon: a = 1 when AVAILABLE
 *   k=2 coupon:  a = value, b = 1 while valid, s = type
 *   k=3 product: a = id, b = price, s = name
 *   k=4 stock:   a = product id, b = stock
 * The product and stock reads take no lock (a first look at the stock: the
 * conditional update at the end decides). */
static const char *facts_sql(int arity, int with_coupon)
{
    static char cache[2][ARITIES][2048];
    char *buf = cache[with_coupon][log2i(arity)];

    if (!buf[0]) {
        char list[3 * 128 + 8];
        db_in_list_sql(list, sizeof(list), "", arity, ""); /* "(?,?,...)" */
        snprintf(buf, sizeof(cache[0][0]),
                 "(SELECT 0 AS k, balance AS a, 0 AS b, SYSDATE(3) AS t, '' AS s FROM point"
                 " WHERE user_id = ? FOR UPDATE)%s"
                 " UNION ALL (SELECT 3, id, price, NULL, name FROM product WHERE id IN %s)"
                 " UNION ALL (SELECT 4, product_id, stock, NULL, '' FROM inventory"
                 " WHERE product_id IN %s)",
                 with_coupon
                     ? " UNION ALL (SELECT 1, status = 'AVAILABLE', 0, NULL, '' FROM user_coupon"
                       " WHERE coupon_id = ? AND user_id = ? FOR UPDATE)"
                       " UNION ALL (SELECT 2, value, expires_at > SYSDATE(3), NULL, type"
                       " FROM coupon WHERE id = ?)"
                     : "",
                 list, list);
    }
    return buf;
}

/* Index of product id among the request lines (distinct ids), or -1. */
static int line_of(const order_req_line_t *lines, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (lines[i].product_id == id)
            return i;
    return -1;
}

/* Read the facts of an order; prices[i] stays -1 for a product that does
 * not exist. */
static int read_facts(db_t *db, struct order_place *p, order_facts_t *f, int64_t *prices,
                      int64_t *stock)
{
    db_param_t params[4 + 2 * 128];
    int64_t ids[ORDER_MAX_LINES];
    int np = 0, arity, rc;
    int64_t k, a, b;
    char s[PRODUCT_NAME_CHARS * 4 + 1];
    db_time_t t;
    db_stmt_t *st;
    int coupon_seen = 0, user_coupon_ok = 0;

    order_lock_order(p->lines, p->n, ids);
    arity = db_ids_arity(p->n);
    params[np++] = DB_I64(p->user_id);
    if (p->coupon_id) {
        params[np++] = DB_I64(p->coupon_id);
        params[np++] = DB_I64(p->user_id);
        params[np++] = DB_I64(p->coupon_id);
    }
    for (int twice = 0; twice < 2; twice++)
        for (int i = 0; i < arity; i++)
            params[np++] = DB_I64(ids[i < p->n ? i : p->n - 1]);
    for (int i = 0; i < p->n; i++)
        prices[i] = stock[i] = -1;
    *f = (order_facts_t){.n = p->n, .lines = p->lines, .prices = prices, .stock = stock};
    if ((rc = db_query_params(db, &st, facts_sql(arity, p->coupon_id != 0), params, np)) != C_OK)
        return rc;
    while ((rc = db_row(st, "lllTs", &k, &a, &b, &t, s, sizeof(s))) == 1) {
        if (k == 0) {
            f->user_found = true;
            f->balance = a;
            p->at = t;
        } else if (k == 1) {
            user_coupon_ok = a == 1;
        } else if (k == 2) {
            coupon_seen = 1;
            f->coupon_value = a;
            f->coupon_type = strcmp(s, "FIXED") == 0 ? COUPON_FIXED : COUPON_PERCENT;
            user_coupon_ok = user_coupon_ok && b == 1;
        } else if (k == 3) {
            int i = line_of(p->lines, p->n, a);
            if (i >= 0) {
                prices[i] = b;
                memcpy(p->order->lines[i].name, s, sizeof(s));
            }
        } else {
            int i = line_of(p->lines, p->n, a);
            if (i >= 0)
                stock[i] = b;
        }
    }
    db_end(st);
    if (rc < 0)
        return rc;
    f->coupon = !p->coupon_id   ? ORDER_COUPON_NONE
                : !coupon_seen  ? ORDER_COUPON_UNKNOWN
                : user_coupon_ok ? ORDER_COUPON_USABLE
                                 : ORDER_COUPON_UNUSABLE;
    return C_OK;
}

/* "INSERT INTO order_item ... VALUES (?,...),(...)" for rows rows. */
static const char *items_sql(int rows)
{
    static char cache[CHUNK + 1][1024];
    char *buf = cache[rows];

    if (!buf[0]) {
        size_t o = (size_t)snprintf(buf, sizeof(cache[0]),
                                    "INSERT INTO order_item (order_id, line_no, product_id, name,"
                                    " quantity, unit_price, amount) VALUES ");
        for (int i = 0; i < rows; i++)
            o += (size_t)snprintf(buf + o, sizeof(cache[0]) - o, "%s(?,?,?,?,?,?,?)",
                                  i ? "," : "");
    }
    return buf;
}

/* The order's items, in the client's order, CHUNK rows per statement. */
static int insert_items(db_t *db, const order_t *o)
{
    db_param_t params[CHUNK * 7];

    for (int from = 0; from < o->nlines; from += CHUNK) {
        int rows = o->nlines - from < CHUNK ? o->nlines - from : CHUNK, np = 0, rc;
        for (int j = from; j < from + rows; j++) {
            const order_line_t *l = &o->lines[j];
            params[np++] = DB_I64(o->id);
            params[np++] = DB_I64(j + 1);
            params[np++] = DB_I64(l->product_id);
            params[np++] = DB_STR(l->name);
            params[np++] = DB_I64(l->quantity);
            params[np++] = DB_I64(l->unit_price);
            params[np++] = DB_I64(l->amount);
        }
        if ((rc = db_exec_params(db, items_sql(rows), NULL, NULL, params, np)) != C_OK)
            return rc;
    }
    return C_OK;
}

int orders_place(db_t *db, struct order_place *p)
{
    static const char ins_order[] =
        "INSERT INTO orders (user_id, status, payment_status, subtotal, discount, total,"
        " coupon_id, balance_after, created_at) VALUES (?, 'PAID', 'PAID', ?, ?, ?, ?, ?, ?)";
    int64_t prices[ORDER_MAX_LINES], stock[ORDER_MAX_LINES];
    order_facts_t f;
    order_t *o = p->order;
    uint64_t order_id;
    int rc;

    memset(o, 0, sizeof(*o) - sizeof(o->lines));
    if ((rc = read_facts(db, p, &f, prices, stock)) != C_OK)
        return rc;
    order_decide(&f, &p->v);
    if (p->v.outcome != ORDER_OK)
        return C_REJECT;

    for (int j = 0; j < p->n; j++) {
        order_line_t *l = &o->lines[j];
        l->product_id = p->lines[j].product_id;
        l->quantity = p->lines[j].quantity;
        l->unit_price = prices[j];
        l->amount = p->v.amounts[j];
    }
    o->nlines = p->n;
    o->user_id = p->user_id;
    o->coupon_id = p->coupon_id;
    o->subtotal = p->v.subtotal;
    o->discount = p->v.discount;
    o->total = p->v.total;
    o->balance = p->v.balance_after;
    memcpy(o->created_at, p->at.rfc3339, sizeof(o->created_at));
    snprintf(o->status, sizeof(o->status), "PAID");
    snprintf(o->payment_status, sizeof(o->payment_status), "PAID");

    rc = db_exec(db, ins_order, NULL, &order_id, "llllnls", o->user_id, o->subtotal, o->discount,
                 o->total, o->coupon_id, o->balance, p->at.sql);
    if (rc != C_OK)
        return rc;
    o->id = (int64_t)order_id;
    if ((rc = insert_items(db, o)) != C_OK)
        return rc;
    /* A zero-won order moves no money: no history row. */
    if (o->total > 0 &&
        (rc = points_apply(db, o->user_id, o->balance, "USE", o->total, o->id, p->at.sql)) != C_OK)
        return rc;
    if (o->coupon_id)
        rc = coupons_mark_used(db, o->coupon_id, o->user_id, o->id, p->at.sql);
    return rc;
}

/* The stock statement for a chunk of `arity` lines (padded by repeating the
 * last one): subtract each line's quantity where the stock allows
 * (take > 0), or add it back (take < 0, unconditionally). */
static const char *stock_sql(int arity, int take)
{
    static char cache[2][5][2048];
    char *buf = cache[take > 0][log2i(arity)];

    if (!buf[0]) {
        char cases[800];
        size_t o = (size_t)snprintf(cases, sizeof(cases), "CASE product_id");
        for (int i = 0; i < arity; i++)
            o += (size_t)snprintf(cases + o, sizeof(cases) - o, " WHEN ? THEN ?");
        snprintf(cases + o, sizeof(cases) - o, " END");
        char head[1024];
        snprintf(head, sizeof(head),
                 "UPDATE inventory SET stock = stock %s %s, updated_at = NOW(3)"
                 " WHERE product_id IN ",
                 take > 0 ? "-" : "+", cases);
        db_in_list_sql(buf, sizeof(cache[0][0]), head, arity,
                       take > 0 ? "" : ""); /* the condition follows */
        if (take > 0) {
            size_t len = strlen(buf);
            snprintf(buf + len, sizeof(cache[0][0]) - len, " AND stock >= %s", cases);
        }
    }
    return buf;
}

/* Move the stock of the lines, chunk by chunk in ascending id order: take
 * (sign 1) or give back (sign -1). *short_by is set when a take found a
 * line short (fewer rows changed than lines). */
static int move_stock(db_t *db, const order_req_line_t *lines, int n, int sign, int *short_by)
{
    order_req_line_t sorted[ORDER_MAX_LINES];
    int64_t ids[ORDER_MAX_LINES];

    *short_by = 0;
    order_lock_order(lines, n, ids);
    for (int i = 0; i < n; i++)
        sorted[i] = lines[line_of(lines, n, ids[i])];
    for (int from = 0; from < n; from += CHUNK) {
        int rows = n - from < CHUNK ? n - from : CHUNK, arity = db_ids_arity(rows), np = 0, rc;
        db_param_t params[CHUNK * 5];
        uint64_t changed = 0;

        for (int i = 0; i < arity; i++) {
            const order_req_line_t *l = &sorted[from + (i < rows ? i : rows - 1)];
            params[np++] = DB_I64(l->product_id);
            params[np++] = DB_I64(l->quantity);
        }
        for (int i = 0; i < arity; i++)
            params[np++] = DB_I64(sorted[from + (i < rows ? i : rows - 1)].product_id);
        if (sign > 0)
            for (int i = 0; i < 2 * arity; i++)
                params[np++] = params[i];
        rc = db_exec_params(db, stock_sql(arity, sign), &changed, NULL, params, np);
        if (rc != C_OK)
            return rc;
        if (changed != (uint64_t)rows) {
            *short_by = rows - (int)changed;
            return C_OK;
        }
    }
    return C_OK;
}

int orders_take_stock(db_t *db, struct order_place *p)
{
    static char sql[ARITIES][1024];
    db_param_t params[128];
    int64_t stock[ORDER_MAX_LINES], id, s, ids[ORDER_MAX_LINES];
    int short_by, rc, arity;
    db_stmt_t *st;

    if ((rc = move_stock(db, p->lines, p->n, 1, &short_by)) != C_OK || !short_by)
        return rc;
    /* Short: the current stock of each line, for the refusal (these rows are
     * locked by the update already; the transaction is rolled back). */
    order_lock_order(p->lines, p->n, ids);
    arity = db_ids_arity(p->n);
    for (int i = 0; i < arity; i++)
        params[i] = DB_I64(ids[i < p->n ? i : p->n - 1]);
    if (!sql[log2i(arity)][0])
        db_in_list_sql(sql[log2i(arity)], sizeof(sql[0]),
                       "SELECT product_id, stock FROM inventory WHERE product_id IN ", arity,
                       " FOR UPDATE");
    for (int i = 0; i < p->n; i++)
        stock[i] = 0;
    if ((rc = db_query_params(db, &st, sql[log2i(arity)], params, arity)) != C_OK)
        return rc;
    while ((rc = db_row(st, "ll", &id, &s)) == 1) {
        int i = line_of(p->lines, p->n, id);
        if (i >= 0)
            stock[i] = s;
    }
    db_end(st);
    if (rc < 0)
        return rc;
    if (!order_stock_verdict(p->lines, p->n, stock, &p->v))
        return C_RETRY; /* every line fits now: the update raced a restock; run again */
    return C_REJECT;
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
    static const char lock_point[] =
        "SELECT balance, SYSDATE(3) FROM point WHERE user_id = ? FOR UPDATE";
    static const char upd_order[] =
        "UPDATE orders SET status = 'CANCELLED', payment_status = 'REFUNDED',"
        " cancelled_at = ?, refund_balance_after = ? WHERE id = ?";
    order_t *o = c->order;
    db_stmt_t *st;
    int64_t user_id = 0, total = 0, balance = 0;
    char status[12];
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
    /* Then the global order: point -> user coupon -> (inventory, last). */
    if ((rc = db_query(db, &st, lock_point, "l", user_id)) != C_OK)
        return rc;
    rc = db_row(st, "lT", &balance, &c->at);
    db_end(st);
    if (rc != 1)
        return rc < 0 ? rc : C_ERR; /* an order's buyer always has a point row */
    if (o->coupon_id && (rc = coupons_release(db, o->coupon_id, user_id)) != C_OK)
        return rc;
    /* A refund returns the user's own money: it may pass max_balance. */
    if (!money_add(balance, total, &balance))
        return C_ERR;
    if (total > 0 &&
        (rc = points_apply(db, user_id, balance, "REFUND", total, c->order_id, c->at.sql)) != C_OK)
        return rc;
    if ((rc = db_exec(db, upd_order, NULL, NULL, "sll", c->at.sql, balance, c->order_id)) != C_OK)
        return rc;
    snprintf(o->status, sizeof(o->status), "CANCELLED");
    snprintf(o->payment_status, sizeof(o->payment_status), "REFUNDED");
    memcpy(o->cancelled_at, c->at.rfc3339, sizeof(o->cancelled_at));
    o->balance = balance;
    return C_OK;
}

int orders_restock(db_t *db, struct order_cancel *c)
{
    order_req_line_t lines[ORDER_MAX_LINES];
    int short_by;

    for (int i = 0; i < c->order->nlines; i++) {
        lines[i].product_id = c->order->lines[i].product_id;
        lines[i].quantity = c->order->lines[i].quantity;
    }
    return move_stock(db, lines, c->order->nlines, -1, &short_by);
}
