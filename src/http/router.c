#include "http/router.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/rc.h"
#include "common/util.h"

#define MAX_JSON_DEPTH 16

/* Does `path` fit `pattern`? Fills the parameters when it does. */
static int match_path(const char *pattern, const char *path, struct route_match *m)
{
    const char *p = pattern, *s = path;
    int np = 0;

    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t slen = se ? (size_t)(se - s) : strlen(s);
        if (plen > 1 && p[0] == '{' && p[plen - 1] == '}') {
            if (slen == 0 || np == REQ_MAX_PARAMS)
                return 0;
            m->param_name[np] = p + 1;
            m->param_name_len[np] = plen - 2;
            m->param_val[np] = s;
            m->param_val_len[np] = slen;
            np++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen;
        s += slen;
    }
    if (*p || *s)
        return 0;
    m->nparams = np;
    return 1;
}

void router_match(const route_t *routes, size_t n, const char *method, const char *path,
                  struct route_match *m)
{
    size_t alen = 0;

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        struct route_match tmp;
        memset(&tmp, 0, sizeof(tmp));
        if (!match_path(routes[i].pattern, path, &tmp))
            continue;
        /* HEAD is GET without the body (fcgi_write leaves it out). */
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            *m = tmp;
            m->route = &routes[i];
            return;
        }
        /* A literal route listed earlier wins over a pattern for the same
         * path (e.g. /products/popular vs /products/{id}); only collect
         * methods for 405 when no route matches at all. */
        const char *name = strcmp(routes[i].method, "GET") == 0 ? "GET, HEAD" : routes[i].method;
        if (!strstr(m->allow, routes[i].method) && alen + strlen(name) + 3 < sizeof(m->allow))
            alen += (size_t)snprintf(m->allow + alen, sizeof(m->allow) - alen, "%s%s",
                                     alen ? ", " : "", name);
    }
    m->status = alen ? 405 : 404;
}

/* Whether a client string can go into a problem detail as it is: printable
 * ASCII and short (no raw bytes that would make the JSON body invalid UTF-8). */
static int printable(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 0x20 || s[n] > 0x7e || n >= 200)
            return 0;
    return 1;
}

static int is_json_type(const char *ct)
{
    size_t n = strlen("application/json");
    if (!ct || strncasecmp(ct, "application/json", n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static int check_idem_key(req_t *r)
{
    const char *k = r->idem_key;
    size_t len;

    if (!k)
        return C_OK;
    len = strlen(k);
    if (len < 1 || len > 255)
        return invalid(r, "Idempotency-Key",
                       "Idempotency-Key must be 1 to 255 printable ASCII characters");
    for (size_t i = 0; i < len; i++)
        if (k[i] < 0x20 || k[i] > 0x7e)
            return invalid(r, "Idempotency-Key",
                           "Idempotency-Key must be 1 to 255 printable ASCII characters");
    return C_OK;
}

/* The detail of a 401 for an Authorization header of another scheme (a bare
 * token, Basic…): RFC 6750 sends no error code then. */
#define NOT_BEARER                                                                                 \
    "the Authorization header does not use the Bearer scheme: send Authorization: Bearer <token>"

static int check_admin(req_t *r, const char *token)
{
    const char *a = r->authorization;
    enum auth_status scheme = auth_scheme(a);
    if (scheme == AUTH_OK) {
        a += 7;
        while (*a == ' ')
            a++;
        if (util_secret_eq(a, token))
            return C_OK;
    }
    resp_header(r, "WWW-Authenticate",
                scheme == AUTH_OK ? "Bearer realm=\"commerce\", error=\"invalid_token\""
                                  : "Bearer realm=\"commerce\"");
    return problem(r, P_UNAUTHORIZED, NULL,
                   scheme == AUTH_NOT_BEARER ? NOT_BEARER
                                             : "this route needs the admin bearer token");
}

/* An end user's token (RFC 6750): none, or one that does not verify, is 401. */
static int check_user(req_t *r, const auth_t *auth)
{
    struct timespec now;
    enum auth_status st;

    if (!auth_enabled(auth))
        return C_OK;
    clock_gettime(CLOCK_REALTIME, &now);
    st = auth_check(auth, r->authorization, (int64_t)now.tv_sec, &r->user_id);
    if (st == AUTH_OK)
        return C_OK;
    if (st == AUTH_NO_TOKEN || st == AUTH_NOT_BEARER) {
        resp_header(r, "WWW-Authenticate", "Bearer realm=\"commerce\"");
        return problem(r, P_UNAUTHORIZED, NULL,
                       st == AUTH_NOT_BEARER
                           ? NOT_BEARER
                           : "this route needs an access token: Authorization: Bearer <token>");
    }
    resp_header(r, "WWW-Authenticate", "Bearer realm=\"commerce\", error=\"invalid_token\"");
    return problem(r, P_UNAUTHORIZED, NULL,
                   "the access token is invalid, expired or not meant for this service");
}

static int check_access(req_t *r, const route_t *rt, const router_env_t *env)
{
    switch (rt->access) {
    case ACCESS_PUBLIC:
        return C_OK;
    case ACCESS_USER:
        return check_user(r, env->auth);
    case ACCESS_ADMIN:
        return check_admin(r, env->admin_token);
    case ACCESS_NONE:
        break;
    }
    log_error("route %s has no access class: refused", rt->name);
    return problem(r, P_UNAUTHORIZED, NULL, "this route is not open to anyone");
}

static int prepare(req_t *r, const struct route_match *m, const router_env_t *env)
{
    const route_t *rt = m->route;
    const char *why;
    size_t at;

    if (check_access(r, rt, env) != C_OK)
        return C_REJECT;
    for (int i = 0; i < m->nparams; i++) {
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)m->param_name_len[i], m->param_name[i]);
        if (util_parse_i64n(m->param_val[i], m->param_val_len[i], &r->ids[i]) != C_OK ||
            r->ids[i] < 1) {
            return invalid(r, name, "path parameter '%s' must be a positive 64-bit integer", name);
        }
    }
    r->nids = m->nparams;
    /* A user acts only as themself: another user's id is answered exactly as
     * an unknown one (no enumeration); the worker log says why, at info with
     * the request id, for the developer who wonders. */
    for (int i = 0; i < m->nparams && r->user_id; i++)
        if (m->param_name_len[i] == 6 && memcmp(m->param_name[i], "userId", 6) == 0 &&
            r->ids[i] != r->user_id) {
            log_info("%s %s: answered 404 as if user %" PRId64 " did not exist: the access token"
                     " is user %" PRId64 "'s",
                     r->method, r->path, r->ids[i], r->user_id);
            return problem_user_not_found(r, r->ids[i]);
        }
    if (rt->flags & R_IDEM && check_idem_key(r) != C_OK)
        return C_REJECT;
    if (rt->flags & R_BODY) {
        if (!is_json_type(r->content_type))
            return problem(r, P_UNSUPPORTED_MEDIA_TYPE, NULL,
                           "the request body must be sent as Content-Type: application/json");
        if (jsonx_parse_object(r->body, r->body_len, MAX_JSON_DEPTH, &r->json, &why, &at) != C_OK)
            return at == JSONX_NO_OFFSET ? invalid(r, NULL, "%s", why)
                                         : invalid(r, NULL, "%s (at byte %zu)", why, at);
    }
    return C_OK;
}

void router_dispatch(req_t *r, const route_t *routes, size_t n, const router_env_t *env)
{
    struct route_match m;
    int rc;

    router_match(routes, n, r->method, r->path, &m);
    if (!m.route) {
        if (m.status == 405) {
            resp_header(r, "Allow", m.allow);
            problem(r, P_METHOD_NOT_ALLOWED, NULL, "%s is not allowed here; allowed: %s", r->method,
                    m.allow);
        } else {
            problem(r, P_NOT_FOUND, NULL, "no route for %s %s", r->method,
                    printable(r->path) ? r->path : "(this path)");
        }
        return;
    }
    r->route = m.route;
    if (prepare(r, &m, env) != C_OK)
        return;

    rc = m.route->fn(r);
    if (rc == C_OK || rc == C_REJECT)
        return;
    if (rc == C_DOWN || rc == C_RETRY || rc == C_UNKNOWN || rc == C_READONLY || rc == C_UNACKED) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", env->retry_after);
        r->headers_len = 0;
        r->headers[0] = '\0';
        resp_header(r, "Retry-After", ra);
        if (rc == C_UNKNOWN)
            problem(r, P_OUTCOME_UNKNOWN, NULL,
                    "the database went away while committing and could not be asked whether it"
                    " did; retry with the same Idempotency-Key");
        else if (rc == C_UNACKED)
            problem(r, P_OUTCOME_UNKNOWN, NULL,
                    "committed on the primary, but no replica acknowledged it in time, so a"
                    " failover could lose it; retry with the same Idempotency-Key");
        else
            problem(r, P_SERVICE_UNAVAILABLE, NULL,
                    rc == C_DOWN       ? "the database is unreachable; nothing was changed; try"
                                         " again shortly"
                    : rc == C_READONLY ? "the database takes no writes now (read-only, or no"
                                         " replica acknowledges them); nothing was changed; try"
                                         " again shortly"
                                       : "the service is busy; nothing was changed; try again"
                                         " shortly");
        return;
    }
    log_error("%s %s: internal error", r->method, r->path);
    problem(r, P_INTERNAL_ERROR, NULL, "internal error");
}
