/* The cart: lines of (user, product, quantity) that check out into an order. */
#ifndef COMMERCE_STORE_CART_H
#define COMMERCE_STORE_CART_H

#include <stdint.h>

#include "core/order.h"
#include "store/db.h"
#include "store/products.h"

#define CART_MAX_LINES ORDER_MAX_LINES

typedef struct cart_line {
    product_t product; /* live name, price and stock */
    int64_t quantity;
} cart_line_t;

/* The user's lines, oldest first; *count (may be NULL) gets how many. */
int cart_list(db_t *db, int64_t user_id, void (*each)(void *arg, const cart_line_t *l), void *arg,
              int *count);

enum cart_outcome { CART_OK, CART_NO_USER, CART_NO_PRODUCT, CART_FULL };

struct cart_put {
    int64_t user_id, product_id, quantity; /* in */
    enum cart_outcome outcome;             /* out */
};

/* Transaction body: add the line or set its quantity. The user row is
 * locked so that concurrent edits of one cart respect CART_MAX_LINES.
 * DB_REFUSED with c->outcome when the user or the product is unknown or the
 * cart is full. */
int cart_put_tx(db_t *db, struct cart_put *c);

/* Remove a line (absent is fine). */
int cart_delete(db_t *db, int64_t user_id, int64_t product_id);

/* Inside a checkout transaction: lock the user's lines and read them. */
int cart_lock_lines(db_t *db, int64_t user_id, order_req_line_t *lines, int *n);

/* Inside a checkout transaction: remove the lines that were ordered. */
int cart_clear(db_t *db, int64_t user_id);

#endif
