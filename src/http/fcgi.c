#include "http/fcgi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "common/util.h"

static const char *param(FCGX_Request *fr, const char *name)
{
    const char *v = FCGX_GetParam(name, fr->envp);
    return v && *v ? v : NULL;
}

/* Echo only ids that cannot break the header block. */
static const char *safe_request_id(const char *id)
{
    if (!id || strlen(id) > 200)
        return NULL;
    for (const char *p = id; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return NULL;
    return id;
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
    r->path_buf = strdup(uri ? uri : "/");
    if (!r->path_buf)
        return C_ERR;
    q = strchr(r->path_buf, '?');
    if (q)
        *q++ = '\0';
    r->path = r->path_buf;
    r->query = q ? q : "";
    r->content_type = param(fr, "CONTENT_TYPE");
    r->request_id = safe_request_id(param(fr, "HTTP_X_REQUEST_ID"));
    r->idem_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", fr->envp);
    r->authorization = param(fr, "HTTP_AUTHORIZATION");

    if (cl && (util_parse_i64(cl, &len) != 0 || len < 0))
        return invalid(r, NULL, "malformed Content-Length");
    if ((uint64_t)len > max_body)
        return problem(r, 413, "PAYLOAD_TOO_LARGE", NULL,
                       "the request body is %lld bytes; the limit is %zu", (long long)len,
                       max_body);
    if (len == 0) {
        r->body = "";
        return C_OK;
    }
    r->body_buf = malloc((size_t)len + 1);
    if (!r->body_buf)
        return C_ERR;
    int got = FCGX_GetStr(r->body_buf, (int)len, fr->in);
    if (got != (int)len)
        return invalid(r, NULL, "the request body is shorter than its Content-Length");
    r->body_buf[len] = '\0';
    r->body = r->body_buf;
    r->body_len = (size_t)len;
    return C_OK;
}

void fcgi_write(const req_t *r, FCGX_Request *fr)
{
    /* libfcgi's own printf knows no size_t; build the head with snprintf. */
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "Status: %d %s\r\n%s%s%s%s%s%sContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n",
                     r->status, http_reason(r->status), r->request_id ? "X-Request-Id: " : "",
                     r->request_id ? r->request_id : "", r->request_id ? "\r\n" : "",
                     r->resp_type ? "Content-Type: " : "", r->resp_type ? r->resp_type : "",
                     r->resp_type ? "\r\n" : "", r->resp_len);
    if (n < 0 || (size_t)n >= sizeof(head))
        n = snprintf(head, sizeof(head), "Status: 500 Internal Server Error\r\n");
    FCGX_PutStr(head, n, fr->out);
    if (r->headers_len)
        FCGX_PutStr(r->headers, (int)r->headers_len, fr->out);
    FCGX_PutS("\r\n", fr->out);
    if (r->resp_len)
        FCGX_PutStr(r->resp, (int)r->resp_len, fr->out);
}
