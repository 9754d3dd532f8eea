#include "store/outbox.h"

#include <string.h>

#include "common/util.h"

int outbox_add(db_t *db, const char *type, int64_t order_id, const char *payload, size_t len,
               const char *occurred_sql, char *event_id)
{
    static const char sql[] =
        "INSERT INTO outbox (event_id, type, order_id, payload, occurred_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?)";
    char id[37];

    util_uuid(id);
    if (event_id)
        memcpy(event_id, id, sizeof(id));
    return db_exec(db, sql, NULL, NULL, "sslbss", id, type, order_id, payload, len, occurred_sql,
                   occurred_sql);
}
