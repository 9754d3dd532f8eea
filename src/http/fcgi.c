#include "http/fcgi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "common/textbuf.h"
#include "common/util.h"

static const char *param(FCGX_Request *fr, const char *name)
{
    const char *v = FCGX_GetParam(name, fr->envp);
    return v && *v ? v : NULL;
}

/* The contract's request id: 1..128 characters of A-Za-z0-9._:- (nginx
 * replaces anything else with its own; a worker reached another way agrees). */
static const char *safe_request_id(const char *id)
{
    size_t n = 0;

    if (!id)
        return NULL;
    for (; id[n]; n++) {
        char c = id[n];
        if (n == 128 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-'))
            return NULL;
    }
    return n ? id : NULL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decode %XX where XX is an unreserved character (RFC 3986 section 2.3: A-Z a-z
 * 0-9 - . _ ~), in place: such URIs are equivalent to the decoded ones.
 * Reserved characters (%2F, %3F, %26...) stay encoded, so segments and
 * parameters keep their boundaries. */
static void decode_unreserved(char *s)
{
    char *w = s;
    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
            char c = (char)(hi * 16 + lo);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~') {
                *w++ = c;
                p += 2;
                continue;
            }
        }
        *w++ = *p;
    }
    *w = '\0';
}

int fcgi_read(req_t *r, FCGX_Request *fr, size_t max_body)
{
    const char *uri = param(fr, "REQUEST_URI");
    const char *cl = param(fr, "CONTENT_LENGTH");
    int64_t len = 0;
    char *q;

    r->method = param(fr, "REQUEST_METHOD");
    if (!r->method)
        r->method = "GET";
    if (!uri)
        uri = "/";
    size_t ulen = strlen(uri);
    char *path = req_scratch_copy(r, uri, ulen);
    if (!path)
        return C_ERR;
    decode_unreserved(path);
    q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    r->path = path;
    r->query = q ? q : "";
    r->content_type = param(fr, "CONTENT_TYPE");
    r->request_id = safe_request_id(param(fr, "HTTP_X_REQUEST_ID"));
    r->idem_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", fr->envp);
    r->authorization = param(fr, "HTTP_AUTHORIZATION");

    if (cl && (util_parse_i64(cl, &len) != C_OK || len < 0))
        return invalid(r, NULL, "malformed Content-Length");
    if ((uint64_t)len > max_body)
        return problem(r, P_PAYLOAD_TOO_LARGE, NULL,
                       "the request body is %lld bytes; the limit is %zu", (long long)len,
                       max_body);
    if (len == 0) {
        r->body = "";
        return C_OK;
    }
    char *body = req_scratch_raw(r, (size_t)len + 1);
    if (!body)
        return C_ERR;
    int got = FCGX_GetStr(body, (int)len, fr->in);
    if (got != (int)len)
        return invalid(r, NULL, "the request body is shorter than its Content-Length");
    body[len] = '\0';
    r->body = body;
    r->body_len = (size_t)len;
    return C_OK;
}

void fcgi_write(const req_t *r, FCGX_Request *fr)
{
    /* The head in one piece (common/textbuf.h: no printf), then the body:
     * libfcgi buffers both and writes the response, its end of stream and
     * its end of request in one write(2) when they fit its 8 KiB. */
    char head[1024 + sizeof(r->headers)];
    tb_t b;
    int head_only = strcmp(r->method ? r->method : "", "HEAD") == 0;

    tb_init(&b, head, sizeof(head));
    tb_str(&b, "Status: ");
    tb_i64(&b, r->status);
    tb_put(&b, " ", 1);
    tb_str(&b, http_reason(r->status));
    tb_str(&b, "\r\nCache-Control: no-store\r\n");
    if (r->request_id) {
        tb_str(&b, "X-Request-Id: ");
        tb_str(&b, r->request_id);
        tb_str(&b, "\r\n");
    }
    if (r->resp_type) {
        tb_str(&b, "Content-Type: ");
        tb_str(&b, r->resp_type);
        tb_str(&b, "\r\n");
    }
    if (r->status != 204) { /* RFC 9110: no Content-Length on a 204 */
        tb_str(&b, "Content-Length: ");
        tb_i64(&b, (int64_t)r->resp_len);
        tb_str(&b, "\r\n");
    }
    tb_put(&b, r->headers, r->headers_len);
    tb_str(&b, "\r\n");
    FCGX_PutStr(head, (int)b.len, fr->out);
    if (r->resp_len && !head_only) /* HEAD: the GET's headers, no body */
        FCGX_PutStr(r->resp, (int)r->resp_len, fr->out);
}
