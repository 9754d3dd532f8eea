/* Order rules with no I/O: the lines a client may send, the lock order, the
 * price. No JSON here: the api layer reads the request into lines
 * (orders_read_items) and these rules decide. */
#ifndef COMMERCE_CORE_ORDER_H
#define COMMERCE_CORE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/coupon.h"

/* The lines a client may send: 1 to ORDER_MAX_LINES of them, each a product
 * id from 1 and a quantity from 1 to ORDER_MAX_QTY, no product twice. The
 * api layer asks these line by line, in the client's order, so that a
 * refusal names the first thing wrong. */
#define ORDER_MAX_LINES 100
#define ORDER_MAX_QTY 1000

typedef struct order_req_line {
    int64_t product_id;
    int64_t quantity;
} order_req_line_t;

/* Whether an order may have n lines. */
bool order_lines_count_ok(size_t n);

/* The earlier line (index < i) with the product of lines[i], or -1 when none
 * has it. */
int order_line_repeats(const order_req_line_t *lines, int i);

/* The product ids of the lines in ascending order: the order in which every
 * transaction locks inventory rows. ids must hold n entries. */
void order_lock_order(const order_req_line_t *lines, int n, int64_t *ids);

/* quantity * unit_price; -1 on overflow (never with the bounds enforced at
 * the edge: 100 lines x 1,000 x 1e9 < 2^63). */
int64_t order_line_amount(int64_t quantity, int64_t unit_price);

/* What an order (or a cancel) comes to. */
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

/* The coupon of an order as the store found it. */
enum order_coupon {
    ORDER_COUPON_NONE,     /* the order names none */
    ORDER_COUPON_UNKNOWN,  /* no such coupon */
    ORDER_COUPON_UNUSABLE, /* not issued to the buyer, used, or expired */
    ORDER_COUPON_USABLE,
};

/* Everything the rules look at, read by the store under the order's locks
 * (the buyer's balance) or from one snapshot (prices, coupon terms). */
typedef struct order_facts {
    int n;
    const order_req_line_t *lines; /* as the client sent them */
    const int64_t *prices;         /* per line; -1: no such product */
    const int64_t *stock;          /* per line, as read without a lock */
    bool user_found;
    int64_t balance;
    enum order_coupon coupon;
    enum coupon_type coupon_type;
    int64_t coupon_value;
} order_facts_t;

/* The rules' answer. */
typedef struct order_verdict {
    enum order_outcome outcome;
    int64_t bad_id, have, want;       /* what a refusal names */
    int64_t amounts[ORDER_MAX_LINES]; /* per line: quantity x unit price */
    int64_t subtotal, discount, total;
    int64_t balance_after; /* balance - total */
} order_verdict_t;

/* Decide an order from its facts. The first refusal that applies, in this
 * order: a product that does not exist (the lowest id), a line short of
 * stock (the lowest id), a coupon that does not exist, an unknown buyer, a
 * coupon that cannot be used, a balance below the total. The stock read is
 * only a first look: the store takes the stock last, with conditional
 * updates, and asks order_stock_verdict when those fall short. Pure. */
void order_decide(const order_facts_t *f, order_verdict_t *v);

/* When the stock update took fewer rows than the order has lines: the line
 * that is short, given each line's current stock (lowest product id first),
 * as ORDER_OUT_OF_STOCK with bad_id, have (the stock) and want. Returns
 * false when no line is short (the update raced nothing: not expected). */
bool order_stock_verdict(const order_req_line_t *lines, int n, const int64_t *stock,
                         order_verdict_t *v);

#endif
