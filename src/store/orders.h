/* Orders: place (stock + balance + payment in one transaction), cancel with
 * refund, read. The transaction bodies here run inside db_tx; the caller
 * adds the outbox event and the idempotency key to the same transaction,
 * between the first part and the last. The decisions are core's
 * (order_decide); this file only reads and writes. */
#ifndef COMMERCE_STORE_ORDERS_H
#define COMMERCE_STORE_ORDERS_H

#include <stdint.h>

#include "common/textbuf.h"
#include "common/util.h"
#include "core/order.h"
#include "store/db.h"
#include "store/idem.h"
#include "store/products.h"

typedef struct order_line {
    int64_t product_id, quantity, unit_price, amount;
    char name[PRODUCT_NAME_CHARS * 4 + 1];
} order_line_t;

typedef struct order {
    int64_t id, user_id;
    char status[12];         /* PAID, CANCELLED */
    char payment_status[12]; /* PAID, REFUNDED */
    int64_t subtotal, discount, total;
    int64_t coupon_id; /* 0: none */
    int64_t balance;   /* after the payment, or after the refund once cancelled */
    char created_at[UTIL_TIME_LEN];
    char cancelled_at[UTIL_TIME_LEN]; /* "" while not cancelled */
    int nlines;
    order_line_t lines[ORDER_MAX_LINES];
} order_t;

/* One line as a JSON object with the member names given for product,
 * name, quantity, unit price and amount, appended to b (the order's document
 * and commerce_order_write's items both write it). At most
 * ORDERS_LINE_JSON_MAX bytes: names of up to 16 bytes, every byte of the
 * line's name escaped (\u00XX). */
#define ORDERS_LINE_JSON_MAX (5 * 24 + 4 * 20 + 2 + 6 * (PRODUCT_NAME_CHARS * 4 + 1))
void orders_line_json(tb_t *b, const order_line_t *l, const char *const names[5]);

/* The global lock order, which every transaction that touches these rows
 * follows (order, cancel, checkout, charge, restock, coupon use):
 *     the buyer's point row -> the user coupon -> inventory rows (ascending ids)
 * A cancel first locks its order row (concurrent cancels of one order queue
 * there), a checkout first its cart lines: rows no other transaction takes
 * after these. Inventory comes last, taken by a conditional update just
 * before COMMIT, so a hot product is locked only for the end of a
 * transaction, not for all of it. */

struct order_place {
    /* in */
    int64_t user_id;
    int n;
    order_req_line_t lines[ORDER_MAX_LINES];
    int64_t coupon_id; /* 0: none */
    /* out */
    order_verdict_t v; /* outcome (ORDER_OK or the refusal) and the totals */
    order_t *order;    /* caller-provided storage: the order it comes to */
    db_time_t at;      /* the order's time (the database's clock) */
    char event_id[37]; /* its ORDER_PAID event: the transaction's marker (outbox_event_exists) */
};

/* An order is two round trips, each one stored procedure (sql/schema.sql).
 *
 * orders_place, the transaction's first statement (commerce_order_facts):
 * start the transaction, lock the buyer's point row (reading the database's
 * clock) and the user coupon, read the coupon's terms, the prices, a first
 * look at the stock and the new order's id; then decide (order_decide) and
 * fill p->order. Nothing is written. DB_REFUSED with p->v when a rule refuses. */
int orders_place(db_t *db, struct order_place *p);

/* orders_write, its last (commerce_order_write): the order, its items, the
 * balance with its USE history row, the coupon's USED mark, the ORDER_PAID
 * event (payload: the order's document), the emptied cart (cart_user, 0:
 * none), the Idempotency-Key with the document as its response (ik may be
 * NULL), then the stock of every line, ascending, and COMMIT. C_OK when
 * committed; C_DUP when the key is taken; DB_REFUSED with ORDER_OUT_OF_STOCK
 * in p->v when a line is short (the caller rolls back). */
int orders_write(db_t *db, struct order_place *p, const char *payload, size_t len,
                 const struct idem *ik, int64_t cart_user);

struct order_cancel {
    int64_t order_id;           /* in */
    int64_t user_id;            /* in: the order must be this user's (0: anyone's) */
    enum order_outcome outcome; /* out */
    int64_t owner;              /* out: the order's user (0: no such order) */
    order_t *order;             /* out: the order after the cancel */
    db_time_t at;               /* out: the cancel's time */
    char event_id[37];          /* out: its ORDER_CANCELLED event (the caller stores it) */
};

/* Transaction body, first part: lock the order row, then the point row, the
 * user coupon; refund (REFUND history row), give the coupon back, mark the
 * order CANCELLED/REFUNDED. Another user's order is ORDER_NOT_FOUND, an
 * order that is not PAID ORDER_NOT_CANCELLABLE (DB_REFUSED with c->outcome),
 * before any change. */
int orders_cancel(db_t *db, struct order_cancel *c);

/* The last part, just before COMMIT: put the stock back (ascending ids). */
int orders_restock(db_t *db, struct order_cancel *c);

/* One order with its lines; *found = 0 when unknown. */
int orders_load(db_t *db, int64_t id, order_t *o, int *found);

/* The orders of a user with id < before, newest first, at most limit: each
 * is read into *buf in turn and passed to each(); *count (may be NULL) gets
 * how many. */
int orders_list(db_t *db, int64_t user_id, int64_t before, int64_t limit, order_t *buf,
                void (*each)(void *arg, const order_t *o), void *arg, int *count);

/* The operator's search (GET /admin/orders): orders newest first, by
 * created_at then id, both descending, filtered; a keyset page after the
 * order `before`. It uses only the indexes the order path keeps anyway:
 *   - for one user, orders_user (user_id, id): that user's orders in the
 *     window, sorted (a user has few);
 *   - for every user, orders_created (created_at, status) read backwards in
 *     its own order, at most ORDERS_SEARCH_WINDOW entries a page: a filter
 *     that matches few orders ends a page early (resume says where the next
 *     one starts), never reads the whole table.
 * Each order is read into *buf in turn and passed to each(). */
#define ORDERS_SEARCH_WINDOW 1000
struct orders_query {
    int64_t user_id;          /* 0: every user */
    const char *status;       /* "PAID", "CANCELLED" or NULL: any */
    char from[UTIL_TIME_LEN]; /* created_at >= from (DATETIME(3) literal; "": no bound) */
    char to[UTIL_TIME_LEN];   /* created_at < to ("": no bound) */
    int64_t before;           /* the previous page's last order (0: the first page) */
    int64_t limit;            /* orders to read (a page's limit + 1, the look-ahead) */
    int64_t resume;           /* out: fewer than limit read because the window ended:
                                 the order the next page starts after (0: the end) */
};

/* C_OK with *before_found 0 (and nothing read) when `before` names no order. */
int orders_search(db_t *db, struct orders_query *q, order_t *buf,
                  void (*each)(void *arg, const order_t *o), void *arg, int *before_found);

#endif
