/* The route table machinery: router_match, query_find and router_dispatch,
 * on a small table of our own with dummy handlers (no I/O). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/rc.h"
#include "http/auth.h"
#include "http/req.h"
#include "http/router.h"
#include "lib/keys.h"
#include "store/db.h"

const route_t *routes_table(size_t *n); /* the service's own table (api/routes.c) */

#define TOKEN "right-admin-token"
#define RETRY_AFTER 7

/* What the last handler call saw. */
static struct {
    int calls;
    const char *which;
    int nids;
    int64_t ids[REQ_MAX_PARAMS];
    int had_json;
    int64_t user_id;
} seen;

static int record(req_t *r, const char *which)
{
    seen.calls++;
    seen.which = which;
    seen.nids = r->nids;
    memcpy(seen.ids, r->ids, sizeof(seen.ids));
    seen.had_json = r->json != NULL;
    seen.user_id = r->user_id;
    return resp_json(r, 200, json_object_new_object());
}

static int h_livez(req_t *r) { return record(r, "livez"); }
static int h_list(req_t *r) { return record(r, "list"); }
static int h_popular(req_t *r) { return record(r, "popular"); }
static int h_product(req_t *r) { return record(r, "product"); }
static int h_cart_get(req_t *r) { return record(r, "cart_get"); }
static int h_cart_put(req_t *r) { return record(r, "cart_put"); }
static int h_cart_del(req_t *r) { return record(r, "cart_del"); }
static int h_admin_create(req_t *r) { return record(r, "admin_create"); }
static int h_admin_patch(req_t *r) { return record(r, "admin_patch"); }
static int h_charge(req_t *r) { return record(r, "charge"); }

static int h_down(req_t *r)
{
    seen.calls++;
    resp_header(r, "X-Partial", "dropped"); /* must not survive into the 503 */
    return C_DOWN;
}

static int h_retry(req_t *r)
{
    seen.calls++;
    return C_RETRY;
}

static int h_readonly(req_t *r)
{
    seen.calls++;
    return C_READONLY;
}

static int h_unacked(req_t *r)
{
    seen.calls++;
    return C_UNACKED;
}

static int h_err(req_t *r)
{
    seen.calls++;
    /* a half-built response must be replaced by the 500 */
    resp_json(r, 200, json_object_new_object());
    return C_ERR;
}

static int h_reject(req_t *r)
{
    seen.calls++;
    return problem(r, P_CART_EMPTY, NULL, "nothing in the cart");
}

static int h_refused(req_t *r)
{
    seen.calls++;
    return DB_REFUSED; /* a store refusal the handler forgot to answer */
}

static const route_t routes[] = {
    {"GET", "/livez", h_livez, ACCESS_PUBLIC, 0, "livez"},
    {"GET", "/products", h_list, ACCESS_PUBLIC, 0, "products_list"},
    {"GET", "/products/popular", h_popular, ACCESS_PUBLIC, 0, "products_popular"},
    {"GET", "/products/{productId}", h_product, ACCESS_PUBLIC, 0, "products_get"},
    {"GET", "/users/{userId}/cart/items/{productId}", h_cart_get, ACCESS_USER, 0, "cart_get"},
    {"PUT", "/users/{userId}/cart/items/{productId}", h_cart_put, ACCESS_USER, R_BODY, "cart_put"},
    {"DELETE", "/users/{userId}/cart/items/{productId}", h_cart_del, ACCESS_USER, 0, "cart_del"},
    {"POST", "/users/{userId}/points/charge", h_charge, ACCESS_USER, R_BODY | R_IDEM, "charge"},
    {"POST", "/admin/products", h_admin_create, ACCESS_ADMIN, R_BODY, "admin_create"},
    {"PATCH", "/admin/products/{productId}", h_admin_patch, ACCESS_ADMIN, R_BODY, "admin_patch"},
    {"GET", "/down", h_down, ACCESS_PUBLIC, 0, "down"},
    {"GET", "/retry", h_retry, ACCESS_PUBLIC, 0, "retry"},
    {"GET", "/readonly", h_readonly, ACCESS_PUBLIC, 0, "readonly"},
    {"GET", "/unacked", h_unacked, ACCESS_PUBLIC, 0, "unacked"},
    {"GET", "/err", h_err, ACCESS_PUBLIC, 0, "err"},
    {"GET", "/reject", h_reject, ACCESS_PUBLIC, 0, "reject"},
    {"GET", "/refused", h_refused, ACCESS_PUBLIC, 0, "refused"},
    {"GET", "/forgotten", h_livez, ACCESS_NONE, 0, "forgotten"}, /* a row without a class */
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const route_t *route_named(const char *name)
{
    for (size_t i = 0; i < NROUTES; i++)
        if (strcmp(routes[i].name, name) == 0)
            return &routes[i];
    return NULL;
}

static int reset(void **state)
{
    memset(&seen, 0, sizeof(seen));
    return 0;
}

/* ---- router_match ------------------------------------------------------- */

static void literal_route_matches(void **state)
{
    struct route_match m;

    router_match(routes, NROUTES, "GET", "/livez", &m);
    assert_ptr_equal(m.route, route_named("livez"));
    assert_int_equal(m.status, 0);
    assert_int_equal(m.nparams, 0);

    router_match(routes, NROUTES, "GET", "/products", &m);
    assert_ptr_equal(m.route, route_named("products_list"));

    /* a literal segment must match whole, not as a prefix */
    router_match(routes, NROUTES, "GET", "/live", &m);
    assert_null(m.route);
    assert_int_equal(m.status, 404);
    router_match(routes, NROUTES, "GET", "/livezz", &m);
    assert_int_equal(m.status, 404);
    router_match(routes, NROUTES, "GET", "/LIVEZ", &m);
    assert_int_equal(m.status, 404);
}

static void param_route_extracts_params(void **state)
{
    struct route_match m;

    router_match(routes, NROUTES, "GET", "/products/42", &m);
    assert_ptr_equal(m.route, route_named("products_get"));
    assert_int_equal(m.nparams, 1);
    assert_int_equal(m.param_name_len[0], strlen("productId"));
    assert_memory_equal(m.param_name[0], "productId", strlen("productId"));
    assert_int_equal(m.param_val_len[0], 2);
    assert_memory_equal(m.param_val[0], "42", 2);

    router_match(routes, NROUTES, "PUT", "/users/12/cart/items/345", &m);
    assert_ptr_equal(m.route, route_named("cart_put"));
    assert_int_equal(m.nparams, 2);
    assert_int_equal(m.param_name_len[0], strlen("userId"));
    assert_memory_equal(m.param_name[0], "userId", strlen("userId"));
    assert_int_equal(m.param_val_len[0], 2);
    assert_memory_equal(m.param_val[0], "12", 2);
    assert_int_equal(m.param_name_len[1], strlen("productId"));
    assert_memory_equal(m.param_name[1], "productId", strlen("productId"));
    assert_int_equal(m.param_val_len[1], 3);
    assert_memory_equal(m.param_val[1], "345", 3);

    /* the matcher takes any non-empty segment; ids are checked by dispatch */
    router_match(routes, NROUTES, "GET", "/products/abc", &m);
    assert_ptr_equal(m.route, route_named("products_get"));
    assert_int_equal(m.param_val_len[0], 3);
    assert_memory_equal(m.param_val[0], "abc", 3);
}

static void literal_listed_first_wins_over_param(void **state)
{
    struct route_match m;

    router_match(routes, NROUTES, "GET", "/products/popular", &m);
    assert_ptr_equal(m.route, route_named("products_popular"));
    assert_int_equal(m.nparams, 0);

    /* and the pattern still serves the other ids */
    router_match(routes, NROUTES, "GET", "/products/7", &m);
    assert_ptr_equal(m.route, route_named("products_get"));
}

/* Each of the n paths is 404 for method, with no Allow list. */
static void all_404(const char *method, const char *const *paths, size_t n)
{
    struct route_match m;

    for (size_t i = 0; i < n; i++) {
        router_match(routes, NROUTES, method, paths[i], &m);
        if (m.status != 404)
            fprintf(stderr, "%s %s -> %d\n", method, paths[i], m.status);
        assert_null(m.route);
        assert_int_equal(m.status, 404);
        assert_string_equal(m.allow, "");
    }
}

static void unknown_path_is_404(void **state)
{
    static const char *const paths[] = {
        "/",
        "",
        "/nope",
        "/products/1/extra",
        "/users/1/cart",
        "/users/1/cart/items",
        "/admin",
        "/admin/products/1/x",
        "/users//cart/items/1",
    };

    all_404("GET", paths, sizeof(paths) / sizeof(paths[0]));
}

static void trailing_slash_and_empty_segment_are_404(void **state)
{
    static const char *const paths[] = {
        "/livez/",
        "/products/",
        "/products/1/",
        "/products//1",
        "//products",
        "/products//",
        "//",
        "/users/1/cart/items/2/",
        "/users/1//cart/items/2",
        "/admin/products/",
    };
    /* also for a method that the path would otherwise allow */
    static const char *const post[] = {"/admin/products/"};

    all_404("GET", paths, sizeof(paths) / sizeof(paths[0]));
    all_404("POST", post, 1);
}

static void wrong_method_is_405_with_allow(void **state)
{
    struct route_match m;

    router_match(routes, NROUTES, "POST", "/livez", &m);
    assert_null(m.route);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD"); /* HEAD is served wherever GET is */

    router_match(routes, NROUTES, "POST", "/users/1/cart/items/2", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD, PUT, DELETE");

    /* HEAD takes the GET route */
    router_match(routes, NROUTES, "HEAD", "/livez", &m);
    assert_non_null(m.route);
    assert_string_equal(m.route->method, "GET");

    router_match(routes, NROUTES, "GET", "/admin/products", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "POST");

    router_match(routes, NROUTES, "GET", "/admin/products/3", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "PATCH");

    /* /products/popular matches both the literal and the pattern (both GET):
     * GET is listed once */
    router_match(routes, NROUTES, "DELETE", "/products/popular", &m);
    assert_int_equal(m.status, 405);
    assert_string_equal(m.allow, "GET, HEAD");

    /* methods are case-sensitive */
    router_match(routes, NROUTES, "get", "/livez", &m);
    assert_int_equal(m.status, 405);
}

/* ---- query_find ---------------------------------------------------------- */

static void query_find_values(void **state)
{
    size_t len = 99;
    const char *v;

    v = query_find("limit=5&after=10", "limit", &len);
    assert_non_null(v);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "5", 1);

    v = query_find("limit=5&after=10", "after", &len);
    assert_non_null(v);
    assert_int_equal(len, 2);
    assert_memory_equal(v, "10", 2);

    /* a name that is a prefix or suffix of another does not match it */
    v = query_find("limitx=1&xlimit=2&limit=3", "limit", &len);
    assert_non_null(v);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "3", 1);
    assert_null(query_find("limitx=1&xlimit=2", "limit", &len));

    /* empty value and bare name are present with length 0 */
    len = 99;
    v = query_find("limit=&after=1", "limit", &len);
    assert_non_null(v);
    assert_int_equal(len, 0);
    len = 99;
    v = query_find("after=1&limit", "limit", &len);
    assert_non_null(v);
    assert_int_equal(len, 0);

    /* empty pairs are skipped; the first occurrence wins */
    v = query_find("&&limit=7&limit=8", "limit", &len);
    assert_non_null(v);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "7", 1);

    assert_null(query_find("", "limit", &len));
    assert_null(query_find(NULL, "limit", &len));
    assert_null(query_find("after=1", "limit", &len));
    assert_null(query_find("lim=1", "limit", &len));
}

/* ---- router_dispatch ------------------------------------------------------ */

static void req_init(req_t *r, const char *method, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->method = method;
    r->path = path;
    r->query = "";
    r->body = "";
    r->body_len = 0;
}

static void req_body(req_t *r, const char *content_type, const char *body)
{
    r->content_type = content_type;
    r->body = body;
    r->body_len = strlen(body);
}

/* What dispatch checks requests against: no user tokens, unless a test
 * lends its own (and gives it back). */
static const router_env_t no_auth_env = {TOKEN, NULL, RETRY_AFTER};
static const router_env_t *env = &no_auth_env;
static void dispatch(req_t *r) { router_dispatch(r, routes, NROUTES, env); }

/* The response is problem+json with this status and code; returns the
 * parsed body (caller puts it). */
static json_object *expect_problem(const req_t *r, int status, const char *code)
{
    json_object *o, *v;

    if (r->status != status)
        fprintf(stderr, "expected %d %s, got %d: %s\n", status, code, r->status,
                r->resp ? r->resp : "(no body)");
    assert_int_equal(r->status, status);
    assert_non_null(r->resp_type);
    assert_string_equal(r->resp_type, "application/problem+json");
    assert_non_null(r->resp);
    assert_int_equal(strlen(r->resp), r->resp_len);
    o = json_tokener_parse(r->resp);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "code", &v));
    assert_string_equal(json_object_get_string(v), code);
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_int_equal(json_object_get_int(v), status);
    assert_true(json_object_object_get_ex(o, "type", &v));
    assert_true(json_object_object_get_ex(o, "title", &v));
    assert_true(json_object_object_get_ex(o, "detail", &v));
    return o;
}

static void expect_field(json_object *o, const char *field)
{
    json_object *v = NULL;

    if (field) {
        assert_true(json_object_object_get_ex(o, "field", &v));
        assert_string_equal(json_object_get_string(v), field);
    } else {
        assert_false(json_object_object_get_ex(o, "field", &v));
    }
}

/* Dispatch r and expect the problem status/code, naming `field` when it is
 * not NULL. r stays for more checks: the caller releases it. */
static void dispatch_refused(req_t *r, int status, const char *code, const char *field)
{
    dispatch(r);
    if (r->status != status)
        fprintf(stderr, "%s %s (type [%s], authorization [%s], key [%s], body [%.*s])\n", r->method,
                r->path, r->content_type ? r->content_type : "(none)",
                r->authorization ? r->authorization : "(none)",
                r->idem_key ? r->idem_key : "(none)", (int)r->body_len, r->body);
    json_object *o = expect_problem(r, status, code);
    if (field)
        expect_field(o, field);
    json_object_put(o);
}

static void has_header(const req_t *r, const char *line)
{
    if (!strstr(r->headers, line))
        fprintf(stderr, "headers lack \"%s\": [%s]\n", line, r->headers);
    assert_non_null(strstr(r->headers, line));
}

static void dispatch_calls_handler_with_ids(void **state)
{
    req_t r;

    req_init(&r, "GET", "/products/42");
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.which, "product");
    assert_int_equal(seen.nids, 1);
    assert_int_equal(seen.ids[0], 42);
    assert_ptr_equal(r.route, route_named("products_get"));
    req_release(&r);

    req_init(&r, "GET", "/users/9223372036854775807/cart/items/1");
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen.calls, 2);
    assert_string_equal(seen.which, "cart_get");
    assert_int_equal(seen.nids, 2);
    assert_int_equal(seen.ids[0], INT64_MAX);
    assert_int_equal(seen.ids[1], 1);
    req_release(&r);

    req_init(&r, "GET", "/products/popular");
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(seen.which, "popular");
    assert_int_equal(seen.nids, 0);
    req_release(&r);
}

static void dispatch_404(void **state)
{
    req_t r;

    req_init(&r, "GET", "/nope");
    dispatch(&r);
    json_object *o = expect_problem(&r, 404, "NOT_FOUND");
    expect_field(o, NULL);
    json_object_put(o);
    assert_null(strstr(r.headers, "Allow:"));
    assert_int_equal(seen.calls, 0);
    req_release(&r);

    req_init(&r, "GET", "/products/");
    dispatch_refused(&r, 404, "NOT_FOUND", NULL);
    assert_int_equal(seen.calls, 0);
    req_release(&r);
}

static void dispatch_405_sets_allow_header(void **state)
{
    req_t r;

    req_init(&r, "POST", "/users/1/cart/items/2");
    dispatch_refused(&r, 405, "METHOD_NOT_ALLOWED", NULL);
    has_header(&r, "Allow: GET, HEAD, PUT, DELETE\r\n");
    assert_int_equal(seen.calls, 0);
    req_release(&r);

    req_init(&r, "DELETE", "/livez");
    dispatch_refused(&r, 405, "METHOD_NOT_ALLOWED", NULL);
    has_header(&r, "Allow: GET, HEAD\r\n");
    req_release(&r);
    assert_int_equal(seen.calls, 0);
}

static void dispatch_bad_ids_are_400_naming_the_param(void **state)
{
    static const char *bad[] = {
        "0",  "-1", "abc", "9223372036854775808",  "01",   "1.5", "+1", "1e3",
        " 1", "-0", "00",  "99999999999999999999", "0x10", "1a",
    };
    /* the bad id between before and after, and the parameter it is */
    static const struct {
        const char *method, *before, *after, *param;
    } at[] = {
        {"GET", "/products/", "", "productId"},
        {"GET", "/users/", "/cart/items/5", "userId"},       /* first parameter bad */
        {"DELETE", "/users/5/cart/items/", "", "productId"}, /* second parameter bad */
    };
    char path[128];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (size_t j = 0; j < sizeof(at) / sizeof(at[0]); j++) {
            req_t r;

            snprintf(path, sizeof(path), "%s%s%s", at[j].before, bad[i], at[j].after);
            req_init(&r, at[j].method, path);
            dispatch_refused(&r, 400, "INVALID_REQUEST", at[j].param);
            req_release(&r);
        }
    }
    assert_int_equal(seen.calls, 0);
}

static void dispatch_admin_needs_the_bearer_token(void **state)
{
    static const char *wrong[] = {
        NULL,
        "Bearer wrong-token",
        "Bearer " TOKEN "x",
        "Bearer right-admin-toke",
        "Bearer ",
        "Bearer",
        "Basic " TOKEN,
        "Basic cmlnaHQtYWRtaW4tdG9rZW4=",
        TOKEN,
        "BearerX " TOKEN,
        "Token " TOKEN,
    };
    const char *body = "{\"name\":\"x\"}";

    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        req_t r;

        req_init(&r, "POST", "/admin/products");
        req_body(&r, "application/json", body);
        r.authorization = wrong[i];
        dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
        /* RFC 6750: an error code only for a Bearer token that is wrong, none when
         * there is no token or another scheme */
        has_header(&r,
                   wrong[i] && strncmp(wrong[i], "Bearer ", 7) == 0
                       ? "WWW-Authenticate: Bearer realm=\"commerce\", error=\"invalid_token\"\r\n"
                       : "WWW-Authenticate: Bearer realm=\"commerce\"\r\n");
        if (wrong[i] && strncmp(wrong[i], "Bearer", 6) != 0)
            assert_non_null(strstr(r.resp, "does not use the Bearer scheme"));
        req_release(&r);
    }
    assert_int_equal(seen.calls, 0);

    /* 401 comes before anything else the route checks: path ids (router.h:
     * the access class first), media type, body */
    req_t r;
    req_init(&r, "PATCH", "/admin/products/abc");
    req_body(&r, "application/json", body);
    dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
    req_release(&r);
    req_init(&r, "PATCH", "/admin/products/0");
    req_body(&r, "application/json", body);
    r.authorization = "Bearer wrong-token";
    dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
    req_release(&r);
    assert_int_equal(seen.calls, 0);

    req_init(&r, "POST", "/admin/products");
    req_body(&r, "text/plain", "not json");
    dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
    req_release(&r);
    assert_int_equal(seen.calls, 0);

    req_init(&r, "POST", "/admin/products");
    req_body(&r, "application/json", body);
    r.authorization = "Bearer " TOKEN;
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.which, "admin_create");
    assert_true(seen.had_json);
    assert_null(strstr(r.headers, "WWW-Authenticate"));
    req_release(&r);

    /* with the right token, a bad id is a 400 naming it */
    req_init(&r, "PATCH", "/admin/products/0");
    req_body(&r, "application/json", body);
    r.authorization = "Bearer " TOKEN;
    dispatch_refused(&r, 400, "INVALID_REQUEST", "productId");
    req_release(&r);
    assert_int_equal(seen.calls, 1);

    /* the scheme is case-insensitive (RFC 9110) */
    req_init(&r, "PATCH", "/admin/products/3");
    req_body(&r, "application/json", body);
    r.authorization = "bearer " TOKEN;
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen.calls, 2);
    assert_string_equal(seen.which, "admin_patch");
    assert_int_equal(seen.ids[0], 3);
    req_release(&r);
}

static void dispatch_body_needs_json_content_type(void **state)
{
    static const char *bad[] = {
        NULL,
        "",
        "text/plain",
        "application/jsonp",
        "application/x-www-form-urlencoded",
        "application/json-patch+json",
        "json",
        "application/problem+json",
    };
    static const char *good[] = {
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=UTF-8",
    };
    req_t r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req_init(&r, "PUT", "/users/1/cart/items/2");
        req_body(&r, bad[i], "{\"quantity\":1}");
        dispatch_refused(&r, 415, "UNSUPPORTED_MEDIA_TYPE", NULL);
        req_release(&r);
    }
    assert_int_equal(seen.calls, 0);

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        req_init(&r, "PUT", "/users/1/cart/items/2");
        req_body(&r, good[i], "{\"quantity\":1}");
        dispatch(&r);
        if (r.status != 200)
            fprintf(stderr, "content type [%s] -> %d\n", good[i], r.status);
        assert_int_equal(r.status, 200);
        req_release(&r);
    }
    assert_int_equal(seen.calls, 4);
    assert_true(seen.had_json);

    /* a route without R_BODY ignores the content type and the body */
    req_init(&r, "DELETE", "/users/1/cart/items/2");
    req_body(&r, "text/plain", "whatever");
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_false(seen.had_json);
    req_release(&r);
}

static void dispatch_invalid_json_is_400(void **state)
{
    static const char *bad[] = {
        "",
        "   ",
        "{",
        "{\"quantity\":1",
        "[1]",
        "1",
        "\"s\"",
        "null",
        "{} x",
        "{}{}",
        "{'quantity':1}",
        "{quantity:1}",
        "{\"quantity\":1,}",
        "{\"q\":\"\xff\"}",
        "{\"q\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
        "{\"quantity\":1,\"x\":NaN}",
        "{\"quantity\":1,\"x\":-Infinity}",
        "{\"quantity\":1,\"note\":\"a\tb\"}",
    };
    req_t r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req_init(&r, "PUT", "/users/1/cart/items/2");
        req_body(&r, "application/json", bad[i]);
        dispatch_refused(&r, 400, "INVALID_REQUEST", NULL);
        assert_null(r.json);
        req_release(&r);
    }
    assert_int_equal(seen.calls, 0);

    /* a body with a NUL inside is not a JSON object either */
    req_init(&r, "PUT", "/users/1/cart/items/2");
    r.content_type = "application/json";
    r.body = "{}\0{}";
    r.body_len = 5;
    dispatch_refused(&r, 400, "INVALID_REQUEST", NULL);
    req_release(&r);
    assert_int_equal(seen.calls, 0);
}

static void dispatch_idempotency_key_syntax(void **state)
{
    char long_key[300];
    const char *bad[] = {"", "tab\there", "\x7f", "caf\xc3\xa9", long_key};
    req_t r;

    memset(long_key, 'k', 256);
    long_key[256] = '\0';
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req_init(&r, "POST", "/users/1/points/charge");
        req_body(&r, "application/json", "{\"amount\":1}");
        r.idem_key = bad[i];
        dispatch_refused(&r, 400, "INVALID_REQUEST", "Idempotency-Key");
        req_release(&r);
    }
    assert_int_equal(seen.calls, 0);

    /* printable ASCII includes the space */
    req_init(&r, "POST", "/users/1/points/charge");
    req_body(&r, "application/json", "{\"amount\":1}");
    r.idem_key = "has space";
    dispatch(&r);
    assert_int_equal(r.status, 200);
    req_release(&r);

    long_key[255] = '\0';
    req_init(&r, "POST", "/users/1/points/charge");
    req_body(&r, "application/json", "{\"amount\":1}");
    r.idem_key = long_key;
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen.calls, 2);
    req_release(&r);
}

static void dispatch_down_is_503_with_retry_after(void **state)
{
    req_t r;
    char line[64];

    req_init(&r, "GET", "/down");
    dispatch(&r);
    assert_int_equal(seen.calls, 1);
    json_object_put(expect_problem(&r, 503, "SERVICE_UNAVAILABLE"));
    snprintf(line, sizeof(line), "Retry-After: %d\r\n", RETRY_AFTER);
    has_header(&r, line);
    assert_null(strstr(r.headers, "X-Partial"));
    req_release(&r);

    req_init(&r, "GET", "/retry");
    dispatch(&r);
    assert_int_equal(seen.calls, 2);
    json_object_put(expect_problem(&r, 503, "SERVICE_UNAVAILABLE"));
    has_header(&r, line);
    req_release(&r);

    /* a read-only primary (not opened, or fenced by a failover) is a 503, never a 500 */
    req_init(&r, "GET", "/readonly");
    dispatch(&r);
    json_object_put(expect_problem(&r, 503, "SERVICE_UNAVAILABLE"));
    has_header(&r, line);
    req_release(&r);

    /* committed on the primary alone (durability): the outcome is not promised */
    req_init(&r, "GET", "/unacked");
    dispatch(&r);
    json_object_put(expect_problem(&r, 503, "OUTCOME_UNKNOWN"));
    has_header(&r, line);
    req_release(&r);
    assert_int_equal(seen.calls, 4);
}

static void dispatch_err_is_500(void **state)
{
    req_t r;

    req_init(&r, "GET", "/err");
    dispatch_refused(&r, 500, "INTERNAL_ERROR", NULL);
    assert_null(strstr(r.headers, "Retry-After"));
    req_release(&r);
    /* a store refusal the handler did not answer is a bug, not an empty response */
    req_init(&r, "GET", "/refused");
    dispatch_refused(&r, 500, "INTERNAL_ERROR", NULL);
    req_release(&r);
    assert_int_equal(seen.calls, 2);
}

static void dispatch_reject_keeps_the_handlers_problem(void **state)
{
    req_t r;

    req_init(&r, "GET", "/reject");
    dispatch_refused(&r, 409, "CART_EMPTY", NULL);
    assert_string_equal(r.problem_code, "CART_EMPTY");
    req_release(&r);
    assert_int_equal(seen.calls, 1);
}

static void dispatch_route_without_class_is_refused(void **state)
{
    req_t r;

    req_init(&r, "GET", "/forgotten");
    dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
    assert_int_equal(seen.calls, 0);
    req_release(&r);
}

#define SECRET "0123456789abcdef0123456789abcdef-router"

/* A user token signed with SECRET for uid, valid for an hour. */
static char *user_token(int64_t uid)
{
    char claims[256], *h;
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"%lld\",\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":%lld}", (long long)uid,
             (long long)time(NULL) + 3600);
    h = tk_bearer("HS256", SECRET, NULL, claims);
    assert_non_null(h);
    return h;
}

static void dispatch_user_routes_need_the_users_token(void **state)
{
    config_t cfg;
    char err[256];
    auth_t *auth;
    req_t r;

    assert_int_equal(config_parse(&cfg,
                                  "db_socket=/s\nauth_hs256_secret=" SECRET
                                  "\nauth_issuer=iss\nauth_audience=aud\n",
                                  NULL, NULL, NULL),
                     0);
    auth = auth_new(&cfg, err, sizeof(err));
    assert_non_null(auth);
    const router_env_t with_auth = {TOKEN, auth, RETRY_AFTER};
    char *t1 = user_token(1), *t2 = user_token(2);

    env = &with_auth;

    /* no token: 401 with the bare challenge, before the path's ids */
    req_init(&r, "PUT", "/users/1/cart/items/2");
    req_body(&r, "application/json", "{\"quantity\":1}");
    dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
    has_header(&r, "WWW-Authenticate: Bearer realm=\"commerce\"\r\n");
    req_release(&r);
    req_init(&r, "DELETE", "/users/abc/cart/items/2");
    dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
    req_release(&r);

    /* a token that does not verify: 401 invalid_token */
    static const char *bad[] = {"Bearer x.y.z", "Bearer ", "Bearer a.b", "Bearer " TOKEN};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req_init(&r, "DELETE", "/users/1/cart/items/2");
        r.authorization = bad[i];
        dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
        has_header(&r, "error=\"invalid_token\"");
        req_release(&r);
    }
    assert_int_equal(seen.calls, 0);

    /* another user's id is answered as an unknown user, before the body */
    req_init(&r, "PUT", "/users/1/cart/items/2");
    req_body(&r, "text/plain", "not json");
    r.authorization = t2;
    dispatch_refused(&r, 404, "USER_NOT_FOUND", NULL);
    req_release(&r);
    assert_int_equal(seen.calls, 0);

    /* a bad id with a good token is 400 */
    req_init(&r, "DELETE", "/users/0/cart/items/2");
    r.authorization = t1;
    dispatch_refused(&r, 400, "INVALID_REQUEST", NULL);
    req_release(&r);

    /* the user's own route: the handler runs, knowing the user */
    req_init(&r, "PUT", "/users/1/cart/items/2");
    req_body(&r, "application/json", "{\"quantity\":1}");
    r.authorization = t1;
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.user_id, 1);
    req_release(&r);

    /* public routes need nothing; admin routes do not take a user token */
    req_init(&r, "GET", "/products/5");
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_int_equal(seen.user_id, 0);
    req_release(&r);
    req_init(&r, "POST", "/admin/products");
    req_body(&r, "application/json", "{}");
    r.authorization = t1;
    dispatch_refused(&r, 401, "UNAUTHORIZED", NULL);
    req_release(&r);

    env = &no_auth_env;
    free(t1);
    free(t2);
    auth_free(auth);
}

/* The service's own table: every route has exactly one class, and the
 * classes are the contract's ("Who may call what" in API.md). */
static void service_routes_each_have_one_access_class(void **state)
{
    static const char *const public_routes[] = {"GET /products",
                                                "GET /products/{productId}",
                                                "GET /products/popular",
                                                "GET /coupons/{couponId}",
                                                "GET /livez",
                                                "GET /readyz",
                                                "GET /metrics",
                                                "GET /"};
    size_t n;
    const route_t *t = routes_table(&n);

    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        char name[160];
        int is_public = 0;
        snprintf(name, sizeof(name), "%s %s", t[i].method, t[i].pattern);
        for (size_t j = 0; j < sizeof(public_routes) / sizeof(public_routes[0]); j++)
            is_public |= strcmp(name, public_routes[j]) == 0;
        if (t[i].access != ACCESS_PUBLIC && t[i].access != ACCESS_USER &&
            t[i].access != ACCESS_ADMIN)
            fail_msg("route %s has no access class", name);
        if (strncmp(t[i].pattern, "/admin/", 7) == 0)
            assert_int_equal(t[i].access, ACCESS_ADMIN);
        else if (is_public)
            assert_int_equal(t[i].access, ACCESS_PUBLIC);
        else if (t[i].access != ACCESS_USER)
            fail_msg("route %s acts for a user but is not ACCESS_USER", name);
    }
}

static void req_release_zeroes_the_request(void **state)
{
    req_t r;

    req_init(&r, "PUT", "/users/1/cart/items/2");
    req_body(&r, "application/json", "{\"quantity\":1}");
    dispatch(&r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    assert_non_null(r.resp);
    req_release(&r);
    assert_null(r.json);
    assert_null(r.resp);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.headers_len, 0);
    assert_null(r.method);
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(literal_route_matches),
        T(param_route_extracts_params),
        T(literal_listed_first_wins_over_param),
        T(unknown_path_is_404),
        T(trailing_slash_and_empty_segment_are_404),
        T(wrong_method_is_405_with_allow),
        T(query_find_values),
        T(dispatch_calls_handler_with_ids),
        T(dispatch_404),
        T(dispatch_405_sets_allow_header),
        T(dispatch_bad_ids_are_400_naming_the_param),
        T(dispatch_admin_needs_the_bearer_token),
        T(dispatch_body_needs_json_content_type),
        T(dispatch_invalid_json_is_400),
        T(dispatch_idempotency_key_syntax),
        T(dispatch_down_is_503_with_retry_after),
        T(dispatch_err_is_500),
        T(dispatch_reject_keeps_the_handlers_problem),
        T(req_release_zeroes_the_request),
        T(dispatch_route_without_class_is_refused),
        T(dispatch_user_routes_need_the_users_token),
        T(service_routes_each_have_one_access_class),
    };
    return cmocka_run_group_tests_name("unit/router", tests, NULL, NULL);
}
