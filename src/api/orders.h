/* POST /orders, GET /orders/{id}, GET /users/{id}/orders,
 * POST /orders/{id}/cancel */
#ifndef COMMERCE_API_ORDERS_H
#define COMMERCE_API_ORDERS_H

#include "api/effect.h"
#include "http/req.h"
#include "store/orders.h"

int orders_create_h(req_t *r);
int orders_get_h(req_t *r);
int orders_list_h(req_t *r);
int orders_cancel_h(req_t *r);

/* Shared with checkout: the effect of placing an order. Its work decides p
 * and sets the 201 response (the order's document); its write stores the
 * order with its ORDER_PAID event, the key row and the stock, and commits
 * (cart_user: whose cart is emptied with it, 0: none). */
int orders_place_work(db_t *db, struct effect *e, struct order_place *p);
int orders_place_write(db_t *db, struct effect *e, struct order_place *p, const struct idem *ik,
                       int64_t cart_user);
/* Its marker: the ORDER_PAID event the write stored (effect_marker_fn). */
int orders_place_marked(db_t *db, const struct order_place *p, int *found);

/* Turn a refused placement (DB_REFUSED, p->v) into its problem: C_REJECT. */
int orders_place_problem(req_t *r, const struct order_place *p);

/* Count the outcome of a placement in /metrics: rc is the handler's (C_OK, or
 * C_REJECT once orders_place_problem wrote the refusal); new ones only, not
 * replays. */
void orders_count(int rc, const struct effect *e, const struct order_place *p);

/* Read the optional "couponId" of an order or checkout body into p. */
int orders_read_coupon(req_t *r, struct order_place *p);

/* Read the body's "items" into lines[0..*n), as core's rules (core/order.h)
 * allow them: an array of objects {productId, quantity}. C_OK, or C_REJECT
 * with a 400 naming the first thing wrong ("items", "items[2]",
 * "items[2].quantity"). */
int orders_read_items(req_t *r, order_req_line_t *lines, int *n);

/* The order's document, as every order route answers it, appended to b (a
 * text of tb_alloc, grown to fit; b->full when out of memory). */
void orders_text(tb_t *b, const order_t *o);

/* For the listings (orders_list, orders_search): each order as the next item
 * of arg, a page of page_begin_text. */
void orders_page_add(void *arg, const order_t *o);

/* 404 ORDER_NOT_FOUND naming the order: C_REJECT. */
int orders_not_found(req_t *r, int64_t id);

/* GET /admin/orders/{orderId}: the order and where each of its events stands
 * on the way to the data platform; GET /admin/orders: the operator's search
 * (orders_admin.c). */
int orders_admin_get_h(req_t *r);
int orders_admin_list_h(req_t *r);

#endif
