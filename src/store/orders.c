#include "store/orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "common/textbuf.h"
#include "common/util.h"
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

/* Index of product id among the request lines (distinct ids), or -1. */
static int line_of(const order_req_line_t *lines, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (lines[i].product_id == id)
            return i;
    return -1;
}

/* The first round trip of an order: commerce_order_facts (sql/schema.sql)
 * starts the transaction, locks the buyer's point row and reads the clock
 * once the lock is held, locks the user coupon and reads its terms, takes the
 * new order's id, and answers one row per existing product with all of these
 * and the product's name, price and stock (read without a lock: a first look,
 * the update at the end decides). prices[i] and stock[i] stay -1 for a
 * product that does not exist. */
static int read_facts(db_t *db, struct order_place *p, order_facts_t *f, int64_t *prices,
                      int64_t *stock)
{
    static const char sql[] = "CALL commerce_order_facts(?, ?, ?, ?, ?)";
    char ids[ORDER_MAX_LINES * 21 + 3], name[PRODUCT_NAME_CHARS * 4 + 1], type[8];
    tb_t b;
    int64_t balance, available, value, valid, id, pid, price, left;
    db_time_t at;
    db_stmt_t *st;
    int rc;

    /* the ids as a JSON array, for an order of several lines only */
    tb_init(&b, ids, sizeof(ids));
    for (int i = 0; p->n > 1 && i < p->n; i++) {
        tb_put(&b, i ? "," : "[", 1);
        tb_i64(&b, p->lines[i].product_id);
    }
    tb_put(&b, "]", 1);
    for (int i = 0; i < p->n; i++)
        prices[i] = stock[i] = -1;
    *f = (order_facts_t){.n = p->n, .lines = p->lines, .prices = prices, .stock = stock};
    /* it starts the transaction, unless one ran before (a checkout's cart) */
    int64_t begin = db_tx_started_by_statement(db);
    if ((rc = db_query(db, &st, sql, "llnns", begin, p->user_id, p->coupon_id,
                       p->n == 1 ? p->lines[0].product_id : 0, p->n == 1 ? NULL : ids)) != C_OK)
        return rc;
    while ((rc = db_row(st, "lTlllslllls", &balance, &at, &available, &value, &valid, type,
                        sizeof(type), &id, &pid, &price, &left, name, sizeof(name))) == DB_ROW) {
        int i = line_of(p->lines, p->n, pid);
        f->user_found = at.sql[0] != '\0'; /* the time is read with the point row */
        f->balance = balance;
        p->at = at;
        f->coupon = !p->coupon_id        ? ORDER_COUPON_NONE
                    : !type[0]           ? ORDER_COUPON_UNKNOWN
                    : available && valid ? ORDER_COUPON_USABLE
                                         : ORDER_COUPON_UNUSABLE;
        f->coupon_value = value;
        f->coupon_type = strcmp(type, "FIXED") == 0 ? COUPON_FIXED : COUPON_PERCENT;
        p->order->id = id;
        if (i >= 0) {
            prices[i] = price;
            stock[i] = left;
            memcpy(p->order->lines[i].name, name, sizeof(name));
        }
    }
    db_end(st);
    return rc < 0 ? rc : C_OK;
}

int orders_place(db_t *db, struct order_place *p)
{
    int64_t prices[ORDER_MAX_LINES], stock[ORDER_MAX_LINES];
    order_facts_t f;
    order_t *o = p->order;
    int rc;

    memset(o, 0, sizeof(*o) - sizeof(o->lines));
    if ((rc = read_facts(db, p, &f, prices, stock)) != C_OK)
        return rc;
    order_decide(&f, &p->v);
    if (p->v.outcome != ORDER_OK)
        return DB_REFUSED;
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
    return o->id > 0 ? C_OK : C_ERR;
}

/* After commerce_order_write found a line short: that line, from the
 * current stock, as p->v; DB_REFUSED. */
static int orders_stock_refusal(db_t *db, struct order_place *p)
{
    static char sql[ARITIES][1024];
    db_param_t params[128];
    int64_t stock[ORDER_MAX_LINES], id, s, ids[ORDER_MAX_LINES];
    int rc, arity = db_ids_arity(p->n);
    db_stmt_t *st;

    /* The current stock of each line (these rows are locked already by the
     * update that fell short; the transaction is rolled back). */
    order_lock_order(p->lines, p->n, ids);
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
    while ((rc = db_row(st, "ll", &id, &s)) == DB_ROW) {
        int i = line_of(p->lines, p->n, id);
        if (i >= 0)
            stock[i] = s;
    }
    db_end(st);
    if (rc < 0)
        return rc;
    if (!order_stock_verdict(p->lines, p->n, stock, &p->v))
        return C_RETRY; /* every line fits now: a restock came between; run again */
    return DB_REFUSED;
}

void orders_line_json(tb_t *b, const order_line_t *l, const char *const names[5])
{
    tb_put(b, "{", 1);
    tb_key_i64(b, names[0], l->product_id);
    tb_key_str(b, names[1], l->name);
    tb_key_i64(b, names[2], l->quantity);
    tb_key_i64(b, names[3], l->unit_price);
    tb_key_i64(b, names[4], l->amount);
    tb_put(b, "}", 1);
}

/* The order's lines as commerce_order_write takes them, a JSON array of
 * {"p": product, "n": name, "q": quantity, "u": unit price, "a": amount}
 * in the client's order; malloc'd (NULL when out of memory). Written
 * straight into one buffer (common/textbuf.h), not built as a json-c tree. */
static char *items_json(const order_t *o)
{
    static const char *const names[5] = {"p", "n", "q", "u", "a"};
    size_t len;
    tb_t b;

    if (!tb_alloc(&b, 3 + (size_t)o->nlines * ORDERS_LINE_JSON_MAX))
        return NULL;
    tb_put(&b, "[", 1);
    for (int j = 0; j < o->nlines; j++) {
        if (j)
            tb_put(&b, ",", 1);
        orders_line_json(&b, &o->lines[j], names);
    }
    tb_put(&b, "]", 1);
    return tb_take(&b, &len);
}

int orders_write(db_t *db, struct order_place *p, const char *payload, size_t len,
                 const struct idem *ik, int64_t cart_user)
{
    static const char sql[] =
        "CALL commerce_order_write(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    const order_t *o = p->order;
    char *items = items_json(o);
    /* The key's stored response is the document (payload). */
    db_param_t params[15] = {DB_I64(o->id),
                             DB_I64(o->user_id),
                             DB_I64(o->subtotal),
                             DB_I64(o->discount),
                             DB_I64(o->total),
                             DB_ID(o->coupon_id),
                             DB_I64(o->balance),
                             DB_STR(p->at.sql),
                             DB_STR(items),
                             DB_STR(p->event_id),
                             DB_BYTES(payload, len),
                             DB_STR(ik ? ik->key : NULL),
                             ik ? DB_BYTES(ik->request, ik->request_len) : DB_STR(NULL),
                             ik ? DB_BYTES(payload, len) : DB_STR(NULL),
                             DB_ID(cart_user)};
    int rc;

    if (!items)
        return C_ERR;
    util_uuid(p->event_id);
    /* It commits: a connection lost during it leaves the outcome unknown. */
    db_tx_committing(db, true);
    rc = db_exec_params(db, sql, NULL, NULL, params, 15);
    free(items);
    if (rc == C_OK) {
        db_tx_committed(db);
        return C_OK;
    }
    if (rc != C_DOWN)
        db_tx_committing(db, false); /* refused before COMMIT: nothing committed */
    return rc == C_SHORT ? orders_stock_refusal(db, p) : rc;
}

/* The restock statement for a chunk of `arity` lines (padded by repeating
 * the last one): add each line's quantity back. */
static const char *restock_sql(int arity)
{
    static char cache[5][1024];
    char *buf = cache[log2i(arity)];

    if (!buf[0]) {
        char head[800];
        size_t o = (size_t)snprintf(head, sizeof(head),
                                    "UPDATE inventory SET stock = stock + CASE product_id");
        for (int i = 0; i < arity; i++)
            o += (size_t)snprintf(head + o, sizeof(head) - o, " WHEN ? THEN ?");
        snprintf(head + o, sizeof(head) - o, " END, updated_at = NOW(3) WHERE product_id IN ");
        db_in_list_sql(buf, sizeof(cache[0]), head, arity, "");
    }
    return buf;
}

int orders_restock(db_t *db, struct order_cancel *c)
{
    const order_t *o = c->order;
    order_req_line_t sorted[ORDER_MAX_LINES] = {{0, 0}};
    int64_t ids[ORDER_MAX_LINES];
    int n = o->nlines;

    /* ascending ids, CHUNK lines a statement: the global lock order */
    for (int i = 0; i < n; i++) {
        sorted[i].product_id = o->lines[i].product_id;
        sorted[i].quantity = o->lines[i].quantity;
    }
    order_lock_order(sorted, n, ids);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (o->lines[j].product_id == ids[i])
                sorted[i] = (order_req_line_t){ids[i], o->lines[j].quantity};
    for (int from = 0; from < n; from += CHUNK) {
        int rows = n - from < CHUNK ? n - from : CHUNK, arity = db_ids_arity(rows), np = 0, rc;
        db_param_t params[CHUNK * 3];

        for (int i = 0; i < arity; i++) {
            const order_req_line_t *l = &sorted[from + (i < rows ? i : rows - 1)];
            params[np++] = DB_I64(l->product_id);
            params[np++] = DB_I64(l->quantity);
        }
        for (int i = 0; i < arity; i++)
            params[np++] = DB_I64(sorted[from + (i < rows ? i : rows - 1)].product_id);
        if ((rc = db_exec_params(db, restock_sql(arity), NULL, NULL, params, np)) != C_OK)
            return rc;
    }
    return C_OK;
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
        if (rc != DB_ROW)
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
    *found = rc == DB_ROW;
    return rc ? load_lines(db, o) : C_OK;
}

/* Read each header row of st, then its lines, and pass the order on; ends st. */
static int each_order(db_t *db, db_stmt_t *st, order_t *buf,
                      void (*each)(void *arg, const order_t *o), void *arg, int *count)
{
    int rc, n = 0;

    /* The header rows stay buffered in their statement while each order's
     * lines are read with another (a primary-key range read per order). */
    while ((rc = db_row(st, ORDER_ROW_FMT, ORDER_ROW_ARGS(buf))) == DB_ROW) {
        if ((rc = load_lines(db, buf)) != C_OK)
            break;
        each(arg, buf);
        n++;
    }
    db_end(st);
    *count = n;
    return rc < 0 ? rc : C_OK;
}

int orders_list(db_t *db, int64_t user_id, int64_t before, int64_t limit, order_t *buf,
                void (*each)(void *arg, const order_t *o), void *arg, int *count)
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
    rc = each_order(db, st, buf, each, arg, &n);
    if (count)
        *count = n;
    return rc;
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
    c->owner = rc == DB_END ? 0 : user_id;
    if (rc == DB_END || (c->user_id && user_id != c->user_id)) {
        c->outcome = ORDER_NOT_FOUND;
        return DB_REFUSED;
    }
    if (strcmp(status, "PAID") != 0) {
        c->outcome = ORDER_NOT_CANCELLABLE;
        return DB_REFUSED;
    }
    if ((rc = orders_load(db, c->order_id, o, &found)) != C_OK)
        return rc;
    /* Then the global order: point -> user coupon -> (inventory, last). */
    if ((rc = db_query(db, &st, lock_point, "l", user_id)) != C_OK)
        return rc;
    rc = db_row(st, "lT", &balance, &c->at);
    db_end(st);
    if (rc != DB_ROW)
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

/* The keyset range of a search: the window [from, to) and the orders after
 * the cursor (at, id) in (created_at DESC, id DESC) order. */
#define SEARCH_RANGE                                                                               \
    "created_at >= ? AND created_at < ? AND (created_at < ? OR (created_at = ? AND id < ?))"

struct hit {
    int64_t id;
    char at[UTIL_TIME_LEN]; /* created_at, SQL form: sorts as the time does */
    char status[12];
};

static int newest_first(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    int c = strcmp(y->at, x->at);
    return c ? c : (y->id > x->id) - (y->id < x->id);
}

/* Up to ORDERS_SEARCH_WINDOW entries of orders_created after the cursor, in
 * the index's own order (created_at, status, id: read backwards, nothing
 * sorted); a full window ends inside the group of its last millisecond,
 * which is left for the next page unless it is all there is (then that
 * group alone, sorted by id: the orders of one millisecond). Into h, sorted
 * newest first; *n of them, *full when the window was full. */
static int search_window(db_t *db, const char *from, const char *to, const db_time_t *at,
                         int64_t before, struct hit *h, int *n, bool *full)
{
    static const char window[] =
        "SELECT id, created_at, status FROM orders FORCE INDEX (orders_created) WHERE " SEARCH_RANGE
        " ORDER BY created_at DESC, status DESC, id DESC LIMIT ?";
    static const char group[] = "SELECT id, created_at, status FROM orders FORCE INDEX"
                                " (orders_created) WHERE created_at = ? AND id < ?"
                                " ORDER BY id DESC LIMIT ?";
    db_time_t t;
    db_stmt_t *st;
    int rc, k = 0;

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            rc = db_query(db, &st, window, "ssssll", from, to, at->sql, at->sql, before,
                          (int64_t)ORDERS_SEARCH_WINDOW);
        else
            rc = db_query(db, &st, group, "sll", h[0].at,
                          strcmp(h[0].at, at->sql) == 0 ? before : INT64_MAX,
                          (int64_t)ORDERS_SEARCH_WINDOW);
        if (rc != C_OK)
            return rc;
        k = 0;
        while (k < ORDERS_SEARCH_WINDOW &&
               (rc = db_row(st, "lTs", &h[k].id, &t, h[k].status, sizeof(h[k].status))) == DB_ROW)
            memcpy(h[k++].at, t.sql, sizeof(h[0].at));
        db_end(st);
        if (rc < 0)
            return rc;
        *full = k == ORDERS_SEARCH_WINDOW;
        if (!*full || pass == 1 || strcmp(h[0].at, h[k - 1].at) != 0)
            break;
    }
    if (*full && strcmp(h[0].at, h[k - 1].at) != 0)
        while (strcmp(h[k - 1].at, h[ORDERS_SEARCH_WINDOW - 1].at) == 0)
            k--; /* the last millisecond, perhaps cut short: the next page's */
    qsort(h, (size_t)k, sizeof(*h), newest_first);
    *n = k;
    return C_OK;
}

int orders_search(db_t *db, struct orders_query *q, order_t *buf,
                  void (*each)(void *arg, const order_t *o), void *arg, int *before_found)
{
    static char sql[512];
    db_time_t at = {.sql = "9999-12-31 23:59:59.999"};
    int64_t before = q->before ? q->before : INT64_MAX;
    const char *from = q->from[0] ? q->from : "1000-01-01 00:00:00.000";
    const char *to = q->to[0] ? q->to : "9999-12-31 23:59:59.999";
    db_stmt_t *st;
    int rc, n;

    if (!sql[0])
        snprintf(sql, sizeof(sql),
                 "%s WHERE user_id = ? AND status IN (?, ?) AND " SEARCH_RANGE
                 " ORDER BY created_at DESC, id DESC LIMIT ?",
                 order_cols);
    q->resume = 0;
    *before_found = 1;
    if (q->before) {
        static const char cursor[] = "SELECT created_at FROM orders WHERE id = ?";
        if ((rc = db_query(db, &st, cursor, "l", q->before)) != C_OK)
            return rc;
        rc = db_row(st, "T", &at);
        db_end(st);
        if (rc < 0)
            return rc;
        if (rc == DB_END) {
            *before_found = 0;
            return C_OK;
        }
    }
    if (q->user_id) {
        const char *s1 = q->status ? q->status : "PAID", *s2 = q->status ? s1 : "CANCELLED";
        rc = db_query(db, &st, sql, "lssssssll", q->user_id, s1, s2, from, to, at.sql, at.sql,
                      before, q->limit);
        return rc == C_OK ? each_order(db, st, buf, each, arg, &n) : rc;
    }
    struct hit *h = malloc(sizeof(*h) * ORDERS_SEARCH_WINDOW);
    bool full = false;
    int64_t taken = 0;
    if (!h)
        return C_ERR;
    rc = search_window(db, from, to, &at, before, h, &n, &full);
    for (int i = 0; rc == C_OK && i < n && taken < q->limit; i++) {
        int found;
        if (q->status && strcmp(h[i].status, q->status) != 0)
            continue;
        if ((rc = orders_load(db, h[i].id, buf, &found)) == C_OK && found) {
            each(arg, buf);
            taken++;
        }
    }
    if (rc == C_OK && taken < q->limit && full && n > 0)
        q->resume = h[n - 1].id;
    free(h);
    return rc;
}
