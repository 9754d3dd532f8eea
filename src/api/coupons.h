/* GET /coupons/{id}, POST /coupons/{id}/issue, GET /users/{id}/coupons,
 * POST /admin/coupons */
#ifndef COMMERCE_API_COUPONS_H
#define COMMERCE_API_COUPONS_H

#include "http/req.h"

int coupons_get_h(req_t *r);
int coupons_issue_h(req_t *r);
int coupons_user_list_h(req_t *r);
int coupons_admin_create_h(req_t *r);

#endif
