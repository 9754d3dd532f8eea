/* catalog_read (api/app.h): a catalog read on a fit replica, else the primary. */
#include "api/app.h"
#include "common/metrics.h"
#include "common/rc.h"

int catalog_read(req_t *r, int (*read)(db_t *db, void *arg), void (*reset)(void *arg), void *arg)
{
    app_t *app = app_of(r);
    enum replica_miss miss = REPLICA_DOWN;
    db_t *db = app->replicas ? replicas_pick(app->replicas, &miss) : NULL;
    int rc;

    if (!db) {
        if (app->replicas)
            metrics_catalog_read(miss == REPLICA_LAGGING ? M_READ_PRIMARY_LAG
                                                         : M_READ_PRIMARY_DOWN);
        return read(app->db, arg);
    }
    if ((rc = read(db, arg)) != C_DOWN) {
        metrics_catalog_read(M_READ_REPLICA);
        return rc;
    }
    replicas_failed(app->replicas, db);
    if (reset)
        reset(arg);
    metrics_catalog_read(M_READ_PRIMARY_RETRY);
    return read(app->db, arg);
}
