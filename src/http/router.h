/* The static route table: method + path pattern -> handler, with flags that
 * are checked before any handler runs. */
#ifndef COMMERCE_ROUTER_H
#define COMMERCE_ROUTER_H

#include <stddef.h>

#include "http/req.h"

enum route_flags {
    R_BODY = 1 << 0,  /* takes a JSON object body (415 / 400 before the handler) */
    R_ADMIN = 1 << 1, /* needs the admin bearer token (401 before anything else) */
    R_IDEM = 1 << 2,  /* honours Idempotency-Key */
};

/* A handler returns C_OK after setting the response, C_REJECT after problem(),
 * or C_DOWN / C_RETRY / C_ERR, which the dispatcher turns into 503 or 500. */
typedef int (*route_fn)(req_t *r);

typedef struct route {
    const char *method;
    const char *pattern; /* "/users/{userId}/points": {name} is a positive id */
    route_fn fn;
    unsigned flags;
    const char *name; /* for metrics and logs */
} route_t;

struct route_match {
    const route_t *route; /* NULL: see status */
    int status;           /* 0 when matched, else 404 or 405 */
    char allow[64];       /* for 405 */
    int nparams;
    const char *param_name[REQ_MAX_PARAMS]; /* points into the pattern, up to '}' */
    size_t param_name_len[REQ_MAX_PARAMS];
    const char *param_val[REQ_MAX_PARAMS]; /* points into the path */
    size_t param_val_len[REQ_MAX_PARAMS];
};

/* Pure lookup, no side effects. */
void router_match(const route_t *routes, size_t n, const char *method, const char *path,
                  struct route_match *m);

/* Match, run the table's checks (404/405, path ids, admin token, media type,
 * JSON body, Idempotency-Key syntax), call the handler and turn its failure
 * codes into responses. Always leaves a response in r. */
void router_dispatch(req_t *r, const route_t *routes, size_t n, const char *admin_token,
                     int retry_after);

#endif
