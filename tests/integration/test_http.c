/* The HTTP edge (nginx + worker): routing errors, X-Request-Id, body limits,
 * malformed bodies, and the problem+json shape of every error. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/client.h"

#define WORKER_BODY_CAP 65536

static char path[256];

static const char *charge_path(int64_t uid)
{
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)uid);
    return path;
}

/* How many header lines carry `name`. */
static int header_count(const tc_resp_t *r, const char *name)
{
    size_t nlen = strlen(name);
    int n = 0;

    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0)
            n++;
        p = eol ? eol + 2 : NULL;
    }
    return n;
}

/* RFC 9457 shape: Content-Type application/problem+json and the members
 * type, title, status (= the HTTP status), code and detail. */
static void assert_problem_shape(const tc_resp_t *r)
{
    char ct[128];
    json_object *v;

    if (!tc_header(r, "Content-Type", ct, sizeof(ct)) ||
        strcmp(ct, "application/problem+json") != 0 || !r->json)
        fprintf(stderr, "not problem+json (%ld): %s\n", r->status, r->body);
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    assert_non_null(r->json);
    assert_true(json_object_is_type(r->json, json_type_object));
    static const char *strs[] = {"type", "title", "code", "detail"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        assert_true(json_object_object_get_ex(r->json, strs[i], &v));
        assert_true(json_object_is_type(v, json_type_string));
        assert_true(json_object_get_string_len(v) > 0);
    }
    assert_true(json_object_object_get_ex(r->json, "status", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), r->status);
    /* the site sends it on every answer, its own error pages included */
    assert_non_null(tc_header(r, "X-Content-Type-Options", ct, sizeof(ct)));
    assert_string_equal(ct, "nosniff");
}

/* Both the status/code check and the full shape. */
static void assert_error(const tc_resp_t *r, long status, const char *code)
{
    assert_problem(r, status, code);
    assert_problem_shape(r);
}

/* A valid JSON object of exactly `size` bytes: {"amount":100,"note":"xxx…"}. */
static char *object_of_size(size_t size)
{
    const char *head = "{\"amount\":100,\"note\":\"";
    const char *tail = "\"}";
    size_t hl = strlen(head), tl = strlen(tail);
    char *b = malloc(size + 1);

    assert_non_null(b);
    assert_true(size > hl + tl);
    memcpy(b, head, hl);
    memset(b + hl, 'x', size - hl - tl);
    memcpy(b + size - tl, tail, tl);
    b[size] = '\0';
    return b;
}

/* ---- routing -------------------------------------------------------------- */

static void unknown_route_is_404(void **state)
{
    static const char *paths[] = {
        "/nope",           "/products/1/extra",    "/users",
        "/users/1",        "/users/1/points/",     "/livez/",
        "/admin",          "/_commerce_error/400", "/_commerce_error/404",
        "/USERS/1/points",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        tc_resp_t *r = tc_get(paths[i]);
        assert_error(r, 404, "NOT_FOUND");
        tc_free(r);
    }
    tc_resp_t *r = tc_post("/nope", "{}");
    assert_error(r, 404, "NOT_FOUND");
    tc_free(r);
}

static void wrong_method_is_405_with_allow(void **state)
{
    static const struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"DELETE", "/livez", "GET, HEAD"},
        {"POST", "/readyz", "GET, HEAD"},
        {"GET", "/admin/users", "POST"},
        {"PUT", "/admin/products", "POST"},
        {"GET", "/admin/products/1", "PATCH"},
        {"GET", "/users/1/points/charge", "POST"},
        {"POST", "/users/1/points", "GET, HEAD"},
        {"DELETE", "/products/1", "GET, HEAD"},
        {"POST", "/products", "GET, HEAD"},
        {"TRACE", "/products/1", NULL}, /* refused by nginx itself: any Allow will do */
    };
    char allow[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tc_resp_t *r = tc_req(cases[i].method, cases[i].path, NULL, NULL);
        assert_error(r, 405, "METHOD_NOT_ALLOWED");
        assert_non_null(tc_header(r, "Allow", allow, sizeof(allow)));
        if (cases[i].allow)
            assert_string_equal(allow, cases[i].allow);
        tc_free(r);
    }
}

static void livez_and_readyz(void **state)
{
    char ct[128];
    tc_resp_t *r = tc_get("/livez");
    assert_int_equal(r->status, 200);
    assert_non_null(tc_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    assert_string_equal(tc_str(r, "status"), "ok");
    tc_free(r);

    r = tc_get("/readyz");
    assert_int_equal(r->status, 200);
    assert_string_equal(tc_str(r, "status"), "ok");
    tc_free(r);
}

/* GET / points at the explorer, the description and the health checks. */
static void index_points_the_way(void **state)
{
    (void)state;
    tc_resp_t *r = tc_get("/");
    assert_int_equal(r->status, 200);
    assert_string_equal(tc_str(r, "name"), "commerce");
    assert_string_equal(tc_str(r, "docs"), "/docs");
    assert_string_equal(tc_str(r, "openapi"), "/openapi.yaml");
    assert_string_equal(tc_str(r, "livez"), "/livez");
    tc_free(r);
}

/* Malformed JSON says at which byte it went wrong, and changes nothing. */
static void malformed_json_names_the_byte(void **state)
{
    (void)state;
    tc_resp_t *r = tc_admin("POST", "/admin/users", "{\"name\":\"x\",}");
    assert_error(r, 400, "INVALID_REQUEST");
    assert_non_null(strstr(tc_str(r, "detail"), "is not valid JSON (at byte 12)"));
    tc_free(r);
}

/* ---- X-Request-Id --------------------------------------------------------- */

static tc_resp_t *with_id(const char *method, const char *p, const char *body, const char *id,
                          int json)
{
    char h[256];
    const char *hs[] = {h, json ? "Content-Type: application/json" : NULL, NULL};
    snprintf(h, sizeof(h), "X-Request-Id: %s", id);
    return tc_req(method, p, body, hs);
}

static void assert_echoed(const tc_resp_t *r, const char *id)
{
    char got[256];
    if (!tc_header(r, "X-Request-Id", got, sizeof(got)) || strcmp(got, id) != 0)
        fprintf(stderr, "X-Request-Id not echoed (%ld):\n%s\n", r->status, r->headers);
    assert_non_null(tc_header(r, "X-Request-Id", got, sizeof(got)));
    assert_string_equal(got, id);
    assert_int_equal(header_count(r, "X-Request-Id"), 1);
}

static void request_id_is_echoed(void **state)
{
    int64_t uid = tc_new_user();
    const char *charge = charge_path(uid);
    /* errors nginx answers itself (413 over its limit) carry it too */
    char *big = object_of_size(1536 * 1024), *over = object_of_size(70000);
    const struct {
        const char *method, *path, *body, *id;
        int json;
        long status;
        const char *code; /* NULL: a success */
    } cases[] = {
        {"GET", "/livez", NULL, "req-ok-1", 0, 200, NULL},
        {"POST", charge, "{\"amount\":10}", "req.ok:2_A-b", 1, 200, NULL},
        {"GET", "/nope", NULL, "req-404", 0, 404, "NOT_FOUND"},
        {"DELETE", "/livez", NULL, "req-405", 0, 405, "METHOD_NOT_ALLOWED"},
        {"POST", charge, "{\"amount\":0}", "req-400", 1, 400, "INVALID_REQUEST"},
        {"POST", "/admin/users", "{\"name\":\"x\"}", "req-401", 1, 401, "UNAUTHORIZED"},
        {"POST", charge, "{\"amount\":10}", "req-415", 0, 415, "UNSUPPORTED_MEDIA_TYPE"},
        {"GET", "/users/999999999999/points", NULL, "req-user-404", 0, 404, "USER_NOT_FOUND"},
        {"POST", charge, big, "req-413-nginx", 1, 413, "PAYLOAD_TOO_LARGE"},
        {"POST", charge, over, "req-413-worker", 1, 413, "PAYLOAD_TOO_LARGE"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tc_resp_t *r =
            with_id(cases[i].method, cases[i].path, cases[i].body, cases[i].id, cases[i].json);
        tc_expect_statusf(r, cases[i].status, "%s", cases[i].id);
        if (cases[i].code)
            assert_error(r, cases[i].status, cases[i].code);
        assert_echoed(r, cases[i].id);
        tc_free(r);
    }
    free(big);
    free(over);
    assert_int_equal(tc_balance(uid), 10);
}

static void request_id_is_generated_when_not_sent(void **state)
{
    char a[256], b[256];
    tc_resp_t *r1 = tc_get("/livez");
    tc_resp_t *r2 = tc_get("/livez");
    tc_resp_t *r3 = tc_get("/nope");

    assert_int_equal(r1->status, 200);
    assert_non_null(tc_header(r1, "X-Request-Id", a, sizeof(a)));
    assert_non_null(tc_header(r2, "X-Request-Id", b, sizeof(b)));
    assert_true(strlen(a) >= 8);
    assert_true(strlen(b) >= 8);
    assert_string_not_equal(a, b); /* one per request */
    assert_int_equal(header_count(r1, "X-Request-Id"), 1);

    assert_error(r3, 404, "NOT_FOUND");
    assert_non_null(tc_header(r3, "X-Request-Id", a, sizeof(a)));
    assert_true(strlen(a) >= 8);
    tc_free(r1);
    tc_free(r2);
    tc_free(r3);

    /* and on an error nginx answers itself */
    char *big = object_of_size(1536 * 1024);
    tc_resp_t *r = tc_post("/users/1/points/charge", big);
    free(big);
    assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    assert_non_null(tc_header(r, "X-Request-Id", a, sizeof(a)));
    assert_true(strlen(a) >= 8);
    tc_free(r);
}

/* ---- body limits ---------------------------------------------------------- */

static void body_over_the_worker_cap_is_413(void **state)
{
    int64_t uid = tc_new_user();
    char *body = object_of_size(70000);
    tc_resp_t *r = tc_post(charge_path(uid), body);
    free(body);
    assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    tc_free(r);

    body = object_of_size(WORKER_BODY_CAP + 1);
    r = tc_post(charge_path(uid), body);
    free(body);
    assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    tc_free(r);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_history_of(uid), 0);

    /* exactly the cap is read and served (the long unknown member is ignored) */
    body = object_of_size(WORKER_BODY_CAP);
    r = tc_post(charge_path(uid), body);
    free(body);
    tc_expect_statusf(r, 200, "body of exactly %d bytes", WORKER_BODY_CAP);
    assert_int_equal(tc_int(r, "balance"), 100);
    tc_free(r);
    assert_int_equal(tc_balance(uid), 100);
}

static void body_over_nginx_limit_is_413(void **state)
{
    int64_t uid = tc_new_user();
    char *body = object_of_size(1536 * 1024);
    tc_resp_t *r = tc_post(charge_path(uid), body);
    assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    tc_free(r);

    /* also on an admin route, before the token is looked at */
    r = tc_admin("POST", "/admin/users", body);
    assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    tc_free(r);
    free(body);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_history_of(uid), 0);

    /* the service still answers afterwards */
    tc_charge(uid, 5);
    assert_int_equal(tc_balance(uid), 5);
}

/* ---- malformed bodies ------------------------------------------------------ */

/* A request line past nginx's buffers (8 KiB): 400 problem+json, as any bad
 * path (the contract has no 414). */
static void overlong_uri_is_400(void **state)
{
    static char uri[20000];
    size_t n = (size_t)snprintf(uri, sizeof(uri), "/products?limit=1&x=");
    memset(uri + n, 'a', sizeof(uri) - n - 1);
    uri[sizeof(uri) - 1] = '\0';
    tc_resp_t *r = tc_get(uri);
    assert_error(r, 400, "INVALID_REQUEST");
    tc_free(r);

    uri[1 + 9000] = '\0';
    memset(uri + 1, 'p', 9000);
    r = tc_get(uri);
    assert_error(r, 400, "INVALID_REQUEST");
    tc_free(r);
}

/* Send `text` as it is on a new connection to the stack's nginx and read the
 * answer until the server closes: what libcurl cannot send (a request line of
 * another HTTP version, a Transfer-Encoding nginx does not implement). */
static tc_resp_t *raw_request(const char *text)
{
    const char *url = getenv("COMMERCE_TEST_URL"), *colon = url ? strrchr(url, ':') : NULL;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    tc_resp_t *r = calloc(1, sizeof(*r));
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ssize_t n;

    if (!colon || !r || !buf || fd < 0)
        fail_msg("raw_request: no URL, memory or socket");
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    r->request = strdup(text);
    char *eoh = strstr(buf, "\r\n\r\n"), *eol = strstr(buf, "\r\n");
    assert_true(eoh && eol && strncmp(buf, "HTTP/1.1 ", 9) == 0);
    r->status = strtol(buf + 9, NULL, 10);
    r->headers = strndup(eol + 2, (size_t)(eoh + 2 - (eol + 2)));
    r->body = strdup(eoh + 4);
    if (!r->body || !r->headers || !r->request)
        fail_msg("raw_request: out of memory");
    r->len = strlen(r->body);
    r->json = json_tokener_parse(r->body);
    free(buf);
    return r;
}

/* What nginx refuses before any worker sees the request (a Transfer-Encoding
 * it does not implement: 501; a request line of HTTP/2.0 on this HTTP/1
 * port: 505) is problem+json like every other error, and a 400: the contract
 * has neither status, and a 5xx would say the service failed. */
static void framing_nginx_does_not_implement_is_400(void **state)
{
    static const char *requests[] = {
        "POST /users/1/points/charge HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n"
        "Connection: close\r\n\r\n0\r\n\r\n",
        "GET /products HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /products HTTP/3.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        tc_resp_t *r = raw_request(requests[i]);
        if (r->status != 400)
            fail_msg("%s: answered %ld: %s", requests[i], r->status, r->body);
        assert_error(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
}

static void deeply_nested_json_is_400(void **state)
{
    int64_t uid = tc_new_user();
    size_t depth = 10000;
    char *body = malloc(depth * 2 + 64);
    assert_non_null(body);
    size_t n = (size_t)sprintf(body, "{\"amount\":");
    memset(body + n, '[', depth);
    n += depth;
    memset(body + n, ']', depth);
    n += depth;
    strcpy(body + n, "}");
    tc_resp_t *r = tc_post(charge_path(uid), body);
    assert_error(r, 400, "INVALID_REQUEST");
    tc_free(r);

    /* unbalanced: only the opening brackets */
    body[strlen("{\"amount\":") + depth] = '\0';
    r = tc_post(charge_path(uid), body);
    assert_error(r, 400, "INVALID_REQUEST");
    tc_free(r);

    /* nested objects too */
    n = 0;
    for (size_t i = 0; i < 2000; i++)
        n += (size_t)sprintf(body + n, "{\"a\":");
    strcpy(body + n, "1");
    r = tc_post(charge_path(uid), body);
    assert_error(r, 400, "INVALID_REQUEST");
    tc_free(r);
    free(body);

    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_history_of(uid), 0);
    tc_charge(uid, 1); /* the worker is still alive */
}

static void invalid_utf8_is_400(void **state)
{
    int64_t uid = tc_new_user();
    static const char *bodies[] = {
        "{\"amount\":100,\"note\":\"\xff\"}",
        "{\"amount\":100,\"note\":\"\xc3\x28\"}",
        "{\"amount\":100,\"note\":\"\xed\xa0\x80\"}", /* UTF-16 surrogate as UTF-8 */
        "{\"amount\":100,\"note\":\"\xc0\xaf\"}",     /* overlong '/' */
        "{\"amount\":100,\"\xfe\":1}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        tc_resp_t *r = tc_post(charge_path(uid), bodies[i]);
        assert_error(r, 400, "INVALID_REQUEST");
        tc_free(r);
    }
    /* the same user name through the admin route */
    struct {
        int64_t users;
    } before = {tc_sql_int("SELECT COUNT(*) FROM users")};
    tc_resp_t *r = tc_admin("POST", "/admin/users", "{\"name\":\"\xe2\x82\"}");
    assert_error(r, 400, "INVALID_REQUEST");
    tc_free(r);
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM users"), before.users);
    assert_int_equal(tc_balance(uid), 0);
    assert_int_equal(tc_history_of(uid), 0);
}

/* Every kind of error the stack gives, in one sweep, has the full shape. */
static void every_error_is_problem_json(void **state)
{
    int64_t uid = tc_new_user();
    const char *text[] = {"Content-Type: text/plain", NULL};
    struct {
        tc_resp_t *r;
        long status;
    } got[16];
    size_t n = 0;

    got[n].r = tc_get("/no/such/route");
    got[n++].status = 404;
    got[n].r = tc_req("PATCH", "/livez", NULL, NULL);
    got[n++].status = 405;
    got[n].r = tc_get("/products/abc");
    got[n++].status = 400;
    got[n].r = tc_get("/products?limit=0");
    got[n++].status = 400;
    got[n].r = tc_post(charge_path(uid), "{\"amount\":");
    got[n++].status = 400;
    got[n].r = tc_post(charge_path(uid), "{\"amount\":-5}");
    got[n++].status = 400;
    got[n].r = tc_req("POST", charge_path(uid), "{\"amount\":5}", text);
    got[n++].status = 415;
    got[n].r = tc_post("/admin/products", "{\"name\":\"p\",\"price\":1,\"stock\":1}");
    got[n++].status = 401;
    got[n].r = tc_get("/users/999999999999/points");
    got[n++].status = 404;
    got[n].r = tc_get("/products/999999999999");
    got[n++].status = 404;
    char *big = object_of_size(70000);
    got[n].r = tc_post(charge_path(uid), big);
    got[n++].status = 413;
    free(big);
    big = object_of_size(1536 * 1024);
    got[n].r = tc_post(charge_path(uid), big);
    got[n++].status = 413;
    free(big);

    for (size_t i = 0; i < n; i++) {
        tc_expect_statusf(got[i].r, got[i].status, "case %zu", i);
        assert_problem_shape(got[i].r);
    }
    for (size_t i = 0; i < n; i++)
        tc_free(got[i].r);
    assert_int_equal(tc_balance(uid), 0);
}

static void head_is_get_without_a_body(void **state)
{
    char len[32], ct[64];
    int64_t pid = tc_new_product(1500, 3);
    tc_resp_t *g = tc_getf("/products/%lld", (long long)pid);
    char route_path[64];
    snprintf(route_path, sizeof(route_path), "/products/%lld", (long long)pid);
    tc_resp_t *h = tc_req("HEAD", route_path, NULL, NULL);
    assert_int_equal(h->status, 200);
    assert_int_equal(h->len, 0);
    assert_non_null(tc_header(h, "Content-Length", len, sizeof(len)));
    assert_int_equal(atoi(len), (int)g->len);
    assert_non_null(tc_header(h, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    tc_free(g);
    tc_free(h);
}

static void no_content_has_no_content_length(void **state)
{
    char v[32], route_path[96];
    int64_t uid = tc_new_user(), pid = tc_new_product(100, 1);
    snprintf(route_path, sizeof(route_path), "/users/%lld/cart/items/%lld", (long long)uid,
             (long long)pid);
    tc_resp_t *r = tc_req("DELETE", route_path, NULL, NULL);
    assert_int_equal(r->status, 204);
    assert_null(tc_header(r, "Content-Length", v, sizeof(v)));
    assert_int_equal(r->len, 0);
    tc_free(r);
}

static void percent_encoded_unreserved_characters_are_decoded(void **state)
{
    int64_t uid = tc_new_user(), pid = tc_new_product(100, 1);
    tc_resp_t *r = tc_getf("/users/%lld/po%%69nts", (long long)uid);
    assert_int_equal(r->status, 200);
    assert_int_equal(tc_int(r, "userId"), uid);
    tc_free(r);
    r = tc_getf("/products/%lld", (long long)pid);
    char plain[512];
    snprintf(plain, sizeof(plain), "%s", r->body);
    tc_free(r);
    /* the id's first digit percent-encoded: the same product */
    char enc[64], digits[32];
    snprintf(digits, sizeof(digits), "%lld", (long long)pid);
    snprintf(enc, sizeof(enc), "/products/%%3%c%s", digits[0], digits + 1);
    r = tc_get(enc);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, plain);
    tc_free(r);
    r = tc_get("/products/%70opular");
    assert_int_equal(r->status, 200);
    assert_non_null(json_object_object_get(r->json, "items"));
    tc_free(r);
    r = tc_get("/products?limit=%32");
    assert_int_equal(r->status, 200);
    assert_int_equal(json_object_array_length(json_object_object_get(r->json, "items")), 2);
    tc_free(r);
    /* a reserved character stays encoded: %2F never splits a segment */
    r = tc_get("/users/1%2Fpoints");
    assert_true(r->status == 400 || r->status == 404);
    assert_problem_shape(r);
    tc_free(r);
}

static void errors_nginx_answers_are_problems_too(void **state)
{
    char rid[160];
    size_t n = 10000;
    char *big = malloc(n + 16);
    assert_non_null(big);
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', n);
    big[7 + n] = '\0';
    const char *hs[] = {big, "X-Request-Id: big-header-1", NULL};
    tc_resp_t *r = tc_req("GET", "/products/1", NULL, hs);
    free(big);
    assert_error(r, 400, "INVALID_REQUEST");
    assert_non_null(tc_header(r, "X-Request-Id", rid, sizeof(rid)));
    tc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_is_get_without_a_body),
        cmocka_unit_test(no_content_has_no_content_length),
        cmocka_unit_test(percent_encoded_unreserved_characters_are_decoded),
        cmocka_unit_test(errors_nginx_answers_are_problems_too),
        cmocka_unit_test(unknown_route_is_404),
        cmocka_unit_test(wrong_method_is_405_with_allow),
        cmocka_unit_test(livez_and_readyz),
        cmocka_unit_test(index_points_the_way),
        cmocka_unit_test(malformed_json_names_the_byte),
        cmocka_unit_test(request_id_is_echoed),
        cmocka_unit_test(request_id_is_generated_when_not_sent),
        cmocka_unit_test(body_over_the_worker_cap_is_413),
        cmocka_unit_test(body_over_nginx_limit_is_413),
        cmocka_unit_test(deeply_nested_json_is_400),
        cmocka_unit_test(overlong_uri_is_400),
        cmocka_unit_test(framing_nginx_does_not_implement_is_400),
        cmocka_unit_test(invalid_utf8_is_400),
        cmocka_unit_test(every_error_is_problem_json),
    };
    return cmocka_run_group_tests_name("integration/http", tests, NULL, NULL);
}
