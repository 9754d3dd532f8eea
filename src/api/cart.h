/* GET /users/{id}/cart, PUT and DELETE /users/{id}/cart/items/{productId},
 * POST /users/{id}/cart/checkout */
#ifndef COMMERCE_API_CART_H
#define COMMERCE_API_CART_H

#include "http/req.h"

int cart_get_h(req_t *r);
int cart_put_h(req_t *r);
int cart_delete_h(req_t *r);
int cart_checkout_h(req_t *r);

#endif
