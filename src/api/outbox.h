/* GET /admin/outbox, POST /admin/outbox/replay: the operator's view of the
 * data platform feed. */
#ifndef COMMERCE_API_OUTBOX_H
#define COMMERCE_API_OUTBOX_H

#include "http/req.h"

int outbox_admin_get_h(req_t *r);
int outbox_admin_replay_h(req_t *r);

#endif
