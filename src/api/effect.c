#include "api/effect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "common/rc.h"
#include "http/router.h"

void effect_respond_text(struct effect *e, int status, char *body, size_t len)
{
    free(e->body);
    e->body = body;
    e->body_len = len;
    e->status = status;
}

int effect_respond(struct effect *e, int status, json_object *obj)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *copy = malloc(len + 1);

    if (copy) {
        memcpy(copy, s, len + 1);
        effect_respond_text(e, status, copy, len);
    }
    json_object_put(obj);
    return copy ? C_OK : C_ERR;
}

/* A key whose stored response decides the outcome: DB_REFUSED with ik.state
 * REPLAY or MISMATCH (the transaction rolls back); else `rc` stands. */
static int settled_by_key(db_t *db, struct effect *e, int rc)
{
    int lk = idem_lookup(db, &e->ik);
    if (lk != C_OK)
        return lk;
    return e->ik.state == IDEM_NEW ? rc : DB_REFUSED;
}

/* Generated keys live apart from the clients' keys (scoped by user ids >= 1). */
static int64_t marker_scope(int64_t user_id) { return -user_id; }

static int effect_marked(db_t *db, void *arg, int *found)
{
    struct effect *e = arg;
    return e->marked ? e->marked(db, e, found) : idem_exists(db, e->ik.user_id, e->ik.key, found);
}

static int run_tx(db_t *db, void *arg)
{
    struct effect *e = arg;
    int rc;

    free(e->body);
    e->body = NULL;
    e->body_len = 0;
    e->ik.state = IDEM_NEW;
    rc = e->work(db, e);
    if (rc == DB_REFUSED && e->ik.key && !e->marker[0])
        return settled_by_key(db, e, rc); /* a retry of a success may be refused now */
    if (rc != C_OK)
        return rc;
    if (!e->body)
        return C_ERR;
    rc = e->write(db, e, e->ik.key ? &e->ik : NULL);
    if (rc == C_DUP && e->ik.key && !e->marker[0]) /* a request with this key committed first */
        return settled_by_key(db, e, C_RETRY);
    return rc;
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
    } else if (!e->marked) {
        idem_new_marker(e->marker);
        e->ik.key = e->marker;
        e->ik.user_id = marker_scope(user_id);
        e->ik.request = "";
    }
    rc = db_tx_marked(db_of(r), run_tx, effect_marked, e);
    if (rc == C_OK) {
        rc = resp_raw(r, e->status, "application/json", e->body, e->body_len);
    } else if (rc == DB_REFUSED && e->ik.state == IDEM_REPLAY) {
        rc = resp_raw(r, e->ik.status, "application/json", e->ik.response, e->ik.response_len);
        resp_header(r, "Idempotent-Replayed", "true");
    } else if (rc == DB_REFUSED && e->ik.state == IDEM_MISMATCH) {
        rc = problem(r, P_IDEMPOTENCY_KEY_REUSED, "Idempotency-Key",
                     "this Idempotency-Key was used for a different request");
    }
    /* What it allocated is the request's now: req_release frees it. */
    char *blocks[] = {e->body, e->request, e->ik.response};
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
        if (blocks[i] && req_own(r, blocks[i]) != C_OK && rc == C_OK)
            rc = C_ERR;
    e->body = e->request = e->ik.response = NULL;
    return rc;
}

struct marked_tx {
    db_tx_fn fn;
    void *arg;
    struct idem ik;
    char key[IDEM_MARKER_LEN];
};

static int marked_run(db_t *db, void *arg)
{
    struct marked_tx *m = arg;
    int rc = m->fn(db, m->arg);
    return rc == C_OK ? idem_store(db, &m->ik, 0, "", 0) : rc;
}

static int marked_found(db_t *db, void *arg, int *found)
{
    struct marked_tx *m = arg;
    return idem_exists(db, m->ik.user_id, m->ik.key, found);
}

int effect_tx(req_t *r, int64_t user_id, db_tx_fn fn, void *arg)
{
    struct marked_tx m = {.fn = fn, .arg = arg};

    idem_new_marker(m.key);
    m.ik.key = m.key;
    m.ik.user_id = marker_scope(user_id);
    m.ik.request = "";
    return db_tx_marked(db_of(r), marked_run, marked_found, &m);
}
