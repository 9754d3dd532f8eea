/* What every handler reaches through req->app: the configuration and this
 * process's database connection. Nothing else lives in a worker. */
#ifndef COMMERCE_APP_H
#define COMMERCE_APP_H

#include <stddef.h>

#include "common/config.h"
#include "http/req.h"
#include "http/router.h"
#include "store/db.h"

typedef struct app {
    config_t cfg;
    db_t *db;
} app_t;

static inline app_t *app_of(req_t *r) { return r->app; }
static inline db_t *db_of(req_t *r) { return app_of(r)->db; }

/* The route table of the worker. */
const route_t *routes_table(size_t *n);

/* Small json-c builders used by the renderers. */
void jput_i(json_object *o, const char *key, int64_t v);
void jput_s(json_object *o, const char *key, const char *v); /* NULL: JSON null */
void jput_id(json_object *o, const char *key, int64_t v);    /* 0: JSON null */

#endif
