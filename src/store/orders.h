/* Orders: place (stock + balance + payment in one transaction), cancel with
 * refund, read. The transaction bodies here run inside db_tx; the caller
 * adds the idempotency key and the outbox event to the same transaction. */
#ifndef COMMERCE_STORE_ORDERS_H
#define COMMERCE_STORE_ORDERS_H

#include <stdint.h>

#include "common/util.h"
#include "core/order.h"
#include "store/db.h"
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

enum order_outcome {
    ORDER_OK,
    ORDER_NO_PRODUCT, /* bad_id */
    ORDER_NO_USER,
    ORDER_OUT_OF_STOCK, /* bad_id, have, want */
    ORDER_NO_BALANCE,   /* have, want */
    ORDER_NOT_FOUND,
    ORDER_NOT_CANCELLABLE,
    ORDER_COUPON_NOT_FOUND,
    ORDER_COUPON_NOT_USABLE,
};

struct order_place {
    /* in */
    int64_t user_id;
    int n;
    order_req_line_t lines[ORDER_MAX_LINES];
    int64_t coupon_id; /* 0: none */
    /* out */
    enum order_outcome outcome;
    int64_t bad_id, have, want;
    order_t *order; /* caller-provided storage, filled on success */
};

/* Transaction body: lock inventory (ascending, one statement), the user
 * coupon, then the point row;
 * check; take stock and balance; write order, items, payment and the USE
 * history row. C_REJECT with p->outcome when a rule refuses. */
int orders_place(db_t *db, struct order_place *p);

struct order_cancel {
    int64_t order_id;           /* in */
    int64_t user_id;            /* in: the order must be this user's (0: anyone's) */
    enum order_outcome outcome; /* out */
    order_t *order;             /* out: the order after the cancel */
};

/* Transaction body: lock the order row, then inventory (ascending), the user
 * coupon and the point row; restock, give the coupon back, refund, mark
 * CANCELLED/REFUNDED. Another user's order is ORDER_NOT_FOUND, before any
 * change. */
int orders_cancel(db_t *db, struct order_cancel *c);

/* One order with its lines; *found = 0 when unknown. */
int orders_load(db_t *db, int64_t id, order_t *o, int *found);

/* The orders of a user with id < before, newest first, at most limit: each
 * is read into *buf in turn and passed to each(). Returns the count or a
 * failure. */
int orders_list(db_t *db, int64_t user_id, int64_t before, int64_t limit, order_t *buf,
                void (*each)(void *arg, const order_t *o), void *arg);

#endif
