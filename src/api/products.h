/* GET /products, GET /products/{id} */
#ifndef COMMERCE_API_PRODUCTS_H
#define COMMERCE_API_PRODUCTS_H

#include "http/req.h"
#include "store/products.h"

int products_get_h(req_t *r);
int products_list_h(req_t *r);
int products_popular_h(req_t *r); /* GET /products/popular */

/* {"id","name","price","stock"}; shared with the admin routes. */
json_object *products_render(const product_t *p);

#endif
