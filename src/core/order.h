/* Order rules with no I/O: the lines a client may send, the lock order, the
 * price. */
#ifndef COMMERCE_CORE_ORDER_H
#define COMMERCE_CORE_ORDER_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define ORDER_MAX_LINES 100
#define ORDER_MAX_QTY 1000

typedef struct order_req_line {
    int64_t product_id;
    int64_t quantity;
} order_req_line_t;

/* Read the "items" member: an array of 1..100 objects {productId, quantity}
 * with positive ids, quantity 1..1000 and no product twice. Returns 0 and
 * fills lines[0..*n); or -1 with the offending field ("items[2].quantity")
 * and a sentence for people. */
int order_parse_items(json_object *body, order_req_line_t *lines, int *n, char *field, size_t fcap,
                      char *detail, size_t dcap);

/* The product ids of the lines in ascending order: the order in which every
 * transaction locks inventory rows. ids must hold n entries. */
void order_lock_order(const order_req_line_t *lines, int n, int64_t *ids);

/* quantity * unit_price, summed; -1 on overflow (never with the bounds
 * enforced at the edge: 100 lines x 1,000 x 1e9 < 2^63). */
int64_t order_line_amount(int64_t quantity, int64_t unit_price);

#endif
