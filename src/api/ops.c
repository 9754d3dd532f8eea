#include "api/ops.h"

#include "api/app.h"
#include "common/metrics.h"
#include "common/rc.h"
#include "store/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ops_livez_h(req_t *r)
{
    json_object *o = json_object_new_object();
    jput_s(o, "status", "ok");
    return resp_json(r, 200, o);
}

int ops_readyz_h(req_t *r)
{
    int rc = db_ping(db_of(r));
    if (rc != C_OK)
        return C_DOWN;
    json_object *o = json_object_new_object();
    jput_s(o, "status", "ok");
    jput_s(o, "database", "ok");
    return resp_json(r, 200, o);
}

int ops_metrics_h(req_t *r)
{
    const char *names[METRICS_ROUTES];
    size_t n;
    const route_t *routes = routes_table(&n);
    outbox_stats_t ob;
    char *text = NULL;
    size_t len = 0;
    int rc;

    for (size_t i = 0; i < n && i < METRICS_ROUTES; i++)
        names[i] = routes[i].name;
    if (metrics_render(&text, &len, names, (int)(n < METRICS_ROUTES ? n : METRICS_ROUTES)) != 0)
        return C_ERR;
    /* The outbox backlog is read from the database at scrape time; without
     * the database the counters are still served. */
    if (outbox_stats(db_of(r), &ob) == C_OK) {
        char extra[768];
        int k = snprintf(extra, sizeof(extra),
                         "# HELP commerce_outbox_events Order events in the outbox by state.\n"
                         "# TYPE commerce_outbox_events gauge\n"
                         "commerce_outbox_events{status=\"pending\"} %lld\n"
                         "commerce_outbox_events{status=\"due\"} %lld\n"
                         "commerce_outbox_events{status=\"failed\"} %lld\n"
                         "commerce_outbox_events{status=\"delivered\"} %lld\n",
                         (long long)ob.pending, (long long)ob.due, (long long)ob.failed,
                         (long long)ob.delivered);
        char *t = realloc(text, len + (size_t)k + 1);
        if (t) {
            memcpy(t + len, extra, (size_t)k + 1);
            text = t;
            len += (size_t)k;
        }
    }
    rc = resp_raw(r, 200, "text/plain; version=0.0.4", text, len);
    free(text);
    return rc;
}
