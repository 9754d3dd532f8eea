#include "http/req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "common/rc.h"
#include "common/textbuf.h"
#include "common/util.h"

void req_release(req_t *r)
{
    unsigned char *scratch = r->scratch;
    size_t cap = r->scratch_cap;

    json_object_put(r->json);
    for (int i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    memset(r, 0, sizeof(*r));
    r->scratch = scratch;
    r->scratch_cap = cap;
}

int req_own(req_t *r, void *p)
{
    if (r->nowned == REQ_MAX_OWNED) {
        free(p);
        return C_ERR;
    }
    r->owned[r->nowned++] = p;
    return C_OK;
}

void *req_scratch_raw(req_t *r, size_t n)
{
    size_t at = (r->scratch_used + 15) & ~(size_t)15;
    void *p;

    if (r->scratch && n <= r->scratch_cap && at <= r->scratch_cap - n) {
        r->scratch_used = at + n;
        return r->scratch + at;
    }
    p = malloc(n ? n : 1);
    return p && req_own(r, p) == C_OK ? p : NULL;
}

void *req_scratch(req_t *r, size_t n)
{
    void *p = req_scratch_raw(r, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *req_scratch_copy(req_t *r, const char *s, size_t len)
{
    char *p = req_scratch_raw(r, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

int resp_raw(req_t *r, int status, const char *type, const char *body, size_t len)
{
    char *copy = NULL;

    if (body && !(copy = req_scratch_copy(r, body, len)))
        return C_ERR;
    r->resp = copy;
    r->resp_len = body ? len : 0;
    r->status = status;
    r->resp_type = type;
    return C_OK;
}

int resp_json_text(req_t *r, int status, tb_t *b)
{
    size_t len;
    char *text = tb_take(b, &len);
    int rc = text ? resp_raw(r, status, "application/json", text, len) : C_ERR;

    free(text);
    *b = (tb_t){0};
    return rc;
}

int resp_json(req_t *r, int status, json_object *obj)
{
    size_t len = 0;
    const char *s;
    int rc;

    if (!obj)
        return resp_raw(r, status, NULL, NULL, 0);
    s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    rc = resp_raw(r, status, "application/json", s, len);
    json_object_put(obj);
    return rc;
}

void resp_header(req_t *r, const char *name, const char *value)
{
    tb_t b;

    if (strpbrk(value, "\r\n"))
        return;
    /* the line whole or not at all */
    tb_init(&b, r->headers + r->headers_len, sizeof(r->headers) - r->headers_len);
    tb_str(&b, name);
    tb_str(&b, ": ");
    tb_str(&b, value);
    tb_str(&b, "\r\n");
    if (!b.full)
        r->headers_len += b.len;
    else
        r->headers[r->headers_len] = '\0';
}

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static int problem_v(req_t *r, problem_code_t which, const char *field, const char *xkey,
                     int64_t xval, const char *fmt, va_list ap)
{
    const problem_def_t *p = problem_def(which);
    int status = p->status;
    const char *code = p->code;
    char detail[512];
    json_object *o = json_object_new_object();

    int n = vsnprintf(detail, sizeof(detail), fmt, ap);
    if (n >= (int)sizeof(detail)) {
        /* cut: drop a multi-byte character the cut left incomplete */
        size_t len = sizeof(detail) - 1, lead = len;
        while (lead > 0 && ((unsigned char)detail[lead - 1] & 0xc0) == 0x80)
            lead--;
        if (lead > 0 && (unsigned char)detail[lead - 1] >= 0xc0) {
            unsigned char c = (unsigned char)detail[lead - 1];
            size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (len - (lead - 1) < need)
                detail[lead - 1] = '\0';
        }
    }
    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(p->title));
    json_object_object_add(o, "status", json_object_new_int(status));
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "detail", json_object_new_string(detail));
    if (field)
        json_object_object_add(o, "field", json_object_new_string(field));
    if (xkey)
        json_object_object_add(o, xkey, json_object_new_int64(xval));

    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, NULL);
    resp_raw(r, status, "application/problem+json", s, strlen(s));
    json_object_put(o);
    r->problem_code = code;
    return C_REJECT;
}

int problem(req_t *r, problem_code_t code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_v(r, code, field, NULL, 0, fmt, ap);
    va_end(ap);
    return C_REJECT;
}

int problem_x(req_t *r, problem_code_t code, const char *xkey, int64_t xval, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_v(r, code, NULL, xkey, xval, fmt, ap);
    va_end(ap);
    return C_REJECT;
}

int problem_user_not_found(req_t *r, int64_t id)
{
    return problem(r, P_USER_NOT_FOUND, NULL, "user %lld does not exist", (long long)id);
}

int req_acting_for(req_t *r, int64_t user_id)
{
    if (!r->user_id || r->user_id == user_id)
        return C_OK;
    return problem(r, P_FORBIDDEN, "userId", "the access token does not act for user %lld",
                   (long long)user_id);
}

static int field_problem(req_t *r, const char *key, enum jx e, int64_t min, int64_t max)
{
    if (e == JX_RANGE && max > min)
        return invalid(r, key, "'%s' must be an integer from %lld to %lld", key, (long long)min,
                       (long long)max);
    if (e == JX_TYPE)
        return invalid(r, key, "'%s' must be an integer", key);
    return invalid(r, key, "'%s' %s", key, jsonx_describe(e));
}

int body_int(req_t *r, const char *key, int64_t min, int64_t max, int64_t *out)
{
    enum jx e = jsonx_int(r->json, key, min, max, out);
    return e == JX_OK ? C_OK : field_problem(r, key, e, min, max);
}

int body_int_opt(req_t *r, const char *key, int64_t min, int64_t max, int64_t *out, bool *present)
{
    json_object *v = NULL;
    enum jx e;

    *present = false;
    if (!json_object_object_get_ex(r->json, key, &v) || v == NULL)
        return C_OK; /* absent or null */
    e = jsonx_int_value(v, min, max, out);
    if (e != JX_OK)
        return field_problem(r, key, e, min, max);
    *present = true;
    return C_OK;
}

int body_str(req_t *r, const char *key, size_t max_chars, const char **out)
{
    enum jx e = jsonx_str(r->json, key, max_chars, out);
    if (e == JX_OK)
        return C_OK;
    if (e == JX_TYPE)
        return invalid(r, key, "'%s' must be a string", key);
    if (e == JX_RANGE)
        return invalid(r, key,
                       "'%s' must be 1 to %zu characters, not blank, without control characters",
                       key, max_chars);
    return invalid(r, key, "'%s' is required", key);
}

int body_str_opt(req_t *r, const char *key, size_t max_chars, const char **out, bool *present)
{
    *present = json_object_object_get_ex(r->json, key, NULL);
    return *present ? body_str(r, key, max_chars, out) : C_OK;
}

const char *query_find(const char *query, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    const char *p = query;

    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > nlen && p[nlen] == '=' && memcmp(p, name, nlen) == 0) {
            *len = seg - nlen - 1;
            return p + nlen + 1;
        }
        if (seg == nlen && memcmp(p, name, nlen) == 0) {
            *len = 0;
            return p + nlen;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int query_limit(req_t *r, int64_t *limit)
{
    size_t len;
    const char *v = query_find(r->query, "limit", &len);

    *limit = 20;
    if (!v)
        return C_OK;
    if (util_parse_i64n(v, len, limit) != C_OK || *limit < 1 || *limit > 100)
        return invalid(r, "limit", "'limit' must be an integer from 1 to 100");
    return C_OK;
}

int query_cursor(req_t *r, const char *name, int64_t dflt, int64_t *out)
{
    size_t len;
    const char *v = query_find(r->query, name, &len);

    *out = dflt;
    if (!v)
        return C_OK;
    if (util_parse_i64n(v, len, out) != C_OK || *out < 1)
        return invalid(r, name, "'%s' must be a positive integer cursor", name);
    return C_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int query_time(req_t *r, const char *name, char *sql)
{
    size_t len, n = 0;
    const char *v = query_find(r->query, name, &len);
    char text[40];

    sql[0] = '\0';
    if (!v)
        return C_OK;
    /* ':' arrives percent-encoded from most clients (%3A) */
    for (size_t i = 0; i < len && n < sizeof(text); n++) {
        int hi = v[i] == '%' && i + 2 < len ? hexval(v[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(v[i + 2]) : -1;
        text[n] = lo >= 0 ? (char)(hi * 16 + lo) : v[i];
        i += lo >= 0 ? 3 : 1;
    }
    if (n == sizeof(text) || util_parse_time(text, n, sql) != C_OK)
        return invalid(r, name,
                       "'%s' must be a UTC time (2026-11-21T10:00:00.000Z) or a date (2026-11-21)",
                       name);
    return C_OK;
}
