/* GET /users/{id}/points, POST /users/{id}/points/charge,
 * GET /users/{id}/points/history */
#ifndef COMMERCE_API_POINTS_H
#define COMMERCE_API_POINTS_H

#include "http/req.h"

int points_get_h(req_t *r);
int points_charge_h(req_t *r);
int points_history_h(req_t *r);

#endif
