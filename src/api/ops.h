/* GET /livez, GET /readyz, GET /metrics */
#ifndef COMMERCE_API_OPS_H
#define COMMERCE_API_OPS_H

#include "http/req.h"

/* GET /: where to start (the explorer, the description, the health checks). */
int ops_index_h(req_t *r);
int ops_livez_h(req_t *r);
int ops_readyz_h(req_t *r);
int ops_metrics_h(req_t *r);

#endif
