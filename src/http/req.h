/* One request and its response. Everything a request allocates hangs off
 * req_t and is released by req_release(), the single teardown point. */
#ifndef COMMERCE_REQ_H
#define COMMERCE_REQ_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/textbuf.h"
#include "http/problem.h"

#define REQ_MAX_PARAMS 4
#define REQ_MAX_OWNED 8

struct app;
struct route;

typedef struct req {
    /* Input. Strings point into the FastCGI parameters or into bufs below. */
    const char *method;
    const char *path;  /* without the query string */
    const char *query; /* after '?', "" when absent */
    const char *content_type;
    const char *request_id;
    const char *idem_key;
    const char *authorization;
    const char *body;
    size_t body_len;
    json_object *json;           /* the parsed body for routes that take one */
    int64_t ids[REQ_MAX_PARAMS]; /* path parameters, in pattern order */
    int nids;
    const struct route *route;
    int64_t user_id; /* the access token's user on user routes; 0 when auth is off */
    struct app *app;
    int64_t started_us;

    /* Output. */
    int status;
    const char *resp_type;
    char *resp; /* request-lifetime storage (req_scratch_copy) */
    size_t resp_len;
    char headers[512]; /* extra "Name: value\r\n" lines */
    size_t headers_len;
    const char *problem_code; /* set by problem(), for logs and metrics */

    /* Owned storage (the path, the body and the response come from the
     * scratch area). */
    void *owned[REQ_MAX_OWNED]; /* malloc'd blocks handed over with req_own */
    int nowned;
    /* The scratch area (the worker's, lent for the request; may be NULL): the
     * request's large working state comes from it, not from statics. */
    unsigned char *scratch;
    size_t scratch_cap, scratch_used;
} req_t;

/* Release everything the request owns (its buffers, the blocks given to
 * req_own, the scratch it used) and zero it for the next one; the scratch
 * area stays lent to it. */
void req_release(req_t *r);

/* n zeroed bytes of request-lifetime storage (aligned for any type): from
 * the scratch area, or malloc'd and owned when it is full or absent. NULL
 * when out of memory. Freed, all at once, by req_release. */
void *req_scratch(req_t *r, size_t n);

/* As req_scratch, but the bytes are not zeroed: for storage the caller fills
 * whole before reading it (a copy, a body read in). */
void *req_scratch_raw(req_t *r, size_t n);

/* A NUL-terminated copy of len bytes of s in request-lifetime storage; NULL
 * when out of memory. */
char *req_scratch_copy(req_t *r, const char *s, size_t len);

/* Hand a malloc'd block to the request: req_release frees it. C_OK, or
 * C_ERR (and the block is freed at once) when the request holds too many. */
int req_own(req_t *r, void *p);

/* Respond with a JSON document; takes ownership of obj (NULL: no body, e.g. 204). */
int resp_json(req_t *r, int status, json_object *obj);

/* Respond with a body the caller already serialised; copies it. */
int resp_raw(req_t *r, int status, const char *type, const char *body, size_t len);

/* Respond with the JSON document b holds, written as text (a text of tb_alloc,
 * freed here). C_ERR, and no response, when it was cut (out of memory). */
int resp_json_text(req_t *r, int status, tb_t *b);

/* Add a response header line. Values with CR or LF are dropped. */
void resp_header(req_t *r, const char *name, const char *value);

/* Record an RFC 9457 problem as the response: the code's status and title
 * from the catalogue (http/problem.h). `field` (may be NULL) names the
 * offending input. Always returns C_REJECT so handlers can `return problem(...)`. */
int problem(req_t *r, problem_code_t code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, with one extra integer member (e.g. "productId" for OUT_OF_STOCK). */
int problem_x(req_t *r, problem_code_t code, const char *xkey, int64_t xval, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* 404 USER_NOT_FOUND: an unknown user, and equally another user's id. */
int problem_user_not_found(req_t *r, int64_t id);

/* A user id from the body (`userId`) must be the token's user: else 403
 * FORBIDDEN (C_REJECT). Always C_OK when auth is off. */
int req_acting_for(req_t *r, int64_t user_id);

/* 400 INVALID_REQUEST naming `field`. */
#define invalid(r, field, ...) problem((r), P_INVALID_REQUEST, (field), __VA_ARGS__)

/* Required integer body field in [min, max]: C_OK, or C_REJECT with a 400. */
int body_int(req_t *r, const char *key, int64_t min, int64_t max, int64_t *out);

/* Optional integer body field: absent or null leaves *present false. */
int body_int_opt(req_t *r, const char *key, int64_t min, int64_t max, int64_t *out, bool *present);

/* Required (or optional) string body field of 1..max_chars characters. */
int body_str(req_t *r, const char *key, size_t max_chars, const char **out);
int body_str_opt(req_t *r, const char *key, size_t max_chars, const char **out, bool *present);

/* Find a query parameter; returns its raw value and length, or NULL. */
const char *query_find(const char *query, const char *name, size_t *len);

/* `limit` in 1..100, default 20. */
int query_limit(req_t *r, int64_t *limit);

/* A positive id cursor (`after` or `before`); absent leaves *out = dflt. */
int query_cursor(req_t *r, const char *name, int64_t dflt, int64_t *out);

/* An optional UTC time (util_parse_time's forms, percent-encoded or not):
 * sql gets its DATETIME(3) literal (UTIL_TIME_LEN bytes), "" when absent.
 * C_OK, or C_REJECT with the 400 naming the parameter. */
int query_time(req_t *r, const char *name, char *sql);

/* Reason phrase for a status code. */
const char *http_reason(int status);

#endif
