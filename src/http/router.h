/* The static route table: method + path pattern -> handler, with flags that
 * are checked before any handler runs. */
#ifndef COMMERCE_ROUTER_H
#define COMMERCE_ROUTER_H

#include <stddef.h>

#include "http/auth.h"
#include "http/req.h"

/* Who may call a route: exactly one class per row. ACCESS_NONE (a row that
 * forgot) is refused at run time and fails the route-table unit test. */
enum route_access {
    ACCESS_NONE = 0,
    ACCESS_PUBLIC, /* anyone (nginx may still restrict it by network: /metrics) */
    ACCESS_USER,   /* an end user's access token (Bearer JWT); acts only as that user */
    ACCESS_ADMIN,  /* the admin bearer token from the configuration */
};

enum route_flags {
    R_BODY = 1 << 0, /* takes a JSON object body (415 / 400 before the handler) */
    R_IDEM = 1 << 1, /* honours Idempotency-Key */
};

/* A handler returns C_OK after setting the response, C_REJECT after problem(),
 * or C_DOWN / C_RETRY / C_ERR, which the dispatcher turns into 503 or 500. */
typedef int (*route_fn)(req_t *r);

typedef struct route {
    const char *method;
    const char *pattern; /* "/users/{userId}/points": {name} is a positive id */
    route_fn fn;
    enum route_access access;
    unsigned flags;
    const char *name; /* for metrics and logs */
} route_t;

/* What the dispatcher checks requests against. */
typedef struct router_env {
    const char *admin_token;
    const auth_t *auth; /* end-user tokens; disabled: user routes act for anyone */
    int retry_after;    /* seconds, for 503 */
} router_env_t;

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

/* Match, run the table's checks in this order: 404/405; the route's access
 * class (401 without the admin token or a valid user token); path ids (400);
 * a {userId} other than the token's user (404 USER_NOT_FOUND, as if unknown);
 * Idempotency-Key syntax, media type and JSON body (400/415). Then call the
 * handler (r->user_id is the token's user, 0 with auth off) and turn its
 * failure codes into responses. Always leaves a response in r. */
void router_dispatch(req_t *r, const route_t *routes, size_t n, const router_env_t *env);

#endif
