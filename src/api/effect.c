#include "api/effect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "common/rc.h"
#include "http/router.h"

int effect_respond(struct effect *e, int status, json_object *obj)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *copy = malloc(len + 1);

    if (copy) {
        memcpy(copy, s, len + 1);
        free(e->body);
        e->body = copy;
        e->body_len = len;
        e->status = status;
    }
    json_object_put(obj);
    return copy ? C_OK : C_ERR;
}

static int effect_tx(db_t *db, void *arg)
{
    struct effect *e = arg;
    int rc;

    free(e->body);
    e->body = NULL;
    e->body_len = 0;
    if ((rc = idem_begin(db, &e->ik)) != C_OK)
        return rc;
    if ((rc = e->work(db, e)) != C_OK)
        return rc;
    if (!e->body)
        return C_ERR;
    return idem_finish(db, &e->ik, e->status, e->body, e->body_len);
}

int effect_run(req_t *r, int64_t user_id, struct effect *e)
{
    int rc;

    e->ik.user_id = user_id;
    e->ik.key = r->idem_key;
    if (r->idem_key) {
        /* What a replay must match: the route, the path and the body bytes. */
        size_t cap = strlen(r->route->name) + strlen(r->path) + r->body_len + 3;
        e->request = malloc(cap);
        if (!e->request)
            return C_ERR;
        int n = snprintf(e->request, cap, "%s\n%s\n", r->route->name, r->path);
        memcpy(e->request + n, r->body, r->body_len);
        e->request[(size_t)n + r->body_len] = '\0';
        e->ik.request = e->request;
        e->ik.request_len = (size_t)n + r->body_len;
    }
    rc = db_tx(db_of(r), effect_tx, e);
    if (rc == C_OK) {
        rc = resp_raw(r, e->status, "application/json", e->body, e->body_len);
    } else if (rc == C_REJECT && e->ik.state == IDEM_REPLAY) {
        rc = resp_raw(r, e->ik.status, "application/json", e->ik.response, e->ik.response_len);
        resp_header(r, "Idempotent-Replayed", "true");
    } else if (rc == C_REJECT && e->ik.state == IDEM_MISMATCH) {
        problem(r, 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key",
                "this Idempotency-Key was used for a different request");
    } else if (rc == C_REJECT && e->ik.state == IDEM_IN_USE) {
        problem(r, 409, "IDEMPOTENCY_KEY_IN_USE", "Idempotency-Key",
                "a request with this Idempotency-Key is still being processed");
    }
    free(e->body);
    free(e->request);
    free(e->ik.response);
    e->body = e->request = e->ik.response = NULL;
    return rc;
}
