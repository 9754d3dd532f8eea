#include "api/ops.h"

#include "api/app.h"
#include "common/metrics.h"
#include "common/rc.h"
#include "common/revision.h"
#include "store/outbox.h"
#include "store/popular.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ops_index_h(req_t *r)
{
    json_object *o = json_object_new_object();
    jput_s(o, "name", "commerce");
    jput_s(o, "version", COMMERCE_VERSION);
    jput_s(o, "docs", "/docs");
    jput_s(o, "openapi", "/openapi.yaml");
    jput_s(o, "livez", "/livez");
    jput_s(o, "readyz", "/readyz");
    return resp_json(r, 200, o);
}

int ops_livez_h(req_t *r)
{
    json_object *o = json_object_new_object();
    jput_s(o, "status", "ok");
    return resp_json(r, 200, o);
}

int ops_readyz_h(req_t *r)
{
    int read_only = 0, rc = db_ping(db_of(r));
    if (rc != C_OK)
        return C_DOWN;
    /* a primary that takes no writes (not opened yet, or fenced by a failover) is not ready */
    if ((rc = db_read_only(db_of(r), &read_only)) != C_OK)
        return rc == C_DOWN ? C_DOWN : C_ERR;
    if (read_only)
        return C_READONLY;
    json_object *o = json_object_new_object();
    jput_s(o, "status", "ok");
    jput_s(o, "database", "ok");
    return resp_json(r, 200, o);
}

/* Appends to the malloc'd text; on failure the text is left as it was. */
static void append(char **text, size_t *len, const char *more, int k)
{
    char *t = k > 0 ? realloc(*text, *len + (size_t)k + 1) : NULL;
    if (t) {
        memcpy(t + *len, more, (size_t)k + 1);
        *text = t;
        *len += (size_t)k;
    }
}

int ops_metrics_h(req_t *r)
{
    const char *names[METRICS_ROUTES];
    size_t n;
    const route_t *routes = routes_table(&n);
    outbox_gauges_t g;
    double popular = 0;
    char *text = NULL, extra[1536];
    size_t len = 0;
    int rc;

    for (size_t i = 0; i < n; i++) /* n <= METRICS_ROUTES: routes.c asserts it */
        names[i] = routes[i].name;
    if (metrics_render(&text, &len, names, (int)n) != C_OK)
        return C_ERR;
    /* The outbox and the popular batch are read from the database at scrape
     * time, with bounded indexed queries; without the database the counters
     * are still served. */
    if (outbox_gauges(db_of(r), &g) == C_OK) {
        int k = snprintf(
            extra, sizeof(extra),
            "# HELP commerce_outbox_events Order events in the outbox by state (each count stops"
            " at %d).\n"
            "# TYPE commerce_outbox_events gauge\n"
            "commerce_outbox_events{state=\"due\"} %lld\n"
            "commerce_outbox_events{state=\"waiting\"} %lld\n"
            "commerce_outbox_events{state=\"failed\"} %lld\n"
            "# HELP commerce_outbox_oldest_pending_age_seconds Age of the oldest undelivered event"
            " (0 when none).\n"
            "# TYPE commerce_outbox_oldest_pending_age_seconds gauge\n"
            "commerce_outbox_oldest_pending_age_seconds %.3f\n",
            OUTBOX_GAUGE_CAP, (long long)g.due, (long long)g.waiting, (long long)g.failed,
            g.oldest_age_s < 0 ? 0.0 : g.oldest_age_s);
        append(&text, &len, extra, k);
    }
    if (popular_last_success(db_of(r), &popular) == C_OK) {
        int k = snprintf(extra, sizeof(extra),
                         "# HELP commerce_popular_last_success_timestamp_seconds When the current"
                         " popular-products list was computed (0: never).\n"
                         "# TYPE commerce_popular_last_success_timestamp_seconds gauge\n"
                         "commerce_popular_last_success_timestamp_seconds %.3f\n",
                         popular);
        append(&text, &len, extra, k);
    }
    rc = resp_raw(r, 200, "text/plain; version=0.0.4", text, len);
    free(text);
    return rc;
}
