/* POST /admin/users, POST /admin/products, PATCH /admin/products/{id} */
#ifndef COMMERCE_API_ADMIN_H
#define COMMERCE_API_ADMIN_H

#include "http/req.h"

int admin_create_user_h(req_t *r);
int admin_create_product_h(req_t *r);
int admin_patch_product_h(req_t *r);

#endif
