/* The transactional outbox: events written in the same transaction as the
 * change they describe, delivered later by commerce-relay. */
#ifndef COMMERCE_STORE_OUTBOX_H
#define COMMERCE_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

/* Queue one event (type "ORDER_PAID" or "ORDER_CANCELLED") whose payload is
 * the order document. occurred_sql is a DATETIME(3) literal. The event id
 * (a random UUID) is written to event_id (37 bytes) when not NULL. */
int outbox_add(db_t *db, const char *type, int64_t order_id, const char *payload, size_t len,
               const char *occurred_sql, char *event_id);

#endif
