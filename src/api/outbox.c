#include "api/outbox.h"

#include "api/app.h"
#include "api/effect.h"
#include "common/rc.h"
#include "store/outbox.h"

static void add_failed(void *arg, const outbox_event_t *e, const char *error)
{
    page_t *pg = arg;
    if (page_skip(pg))
        return;
    json_object *o = json_object_new_object();
    jput_i(o, "id", e->id);
    jput_s(o, "eventId", e->event_id);
    jput_s(o, "type", e->type);
    jput_i(o, "orderId", e->order_id);
    jput_i(o, "attempts", e->attempts);
    jput_s(o, "occurredAt", e->occurred_at);
    jput_s(o, "lastError", error);
    page_push(pg, o, e->id);
}

/* {"pending","due","failed","delivered","oldestPendingAt","failedEvents":[...],"next"} */
int outbox_admin_get_h(req_t *r)
{
    outbox_stats_t s;
    page_t pg;
    int rc = page_begin(r, &pg, "after", 0);

    if (rc != C_OK)
        return rc;
    if ((rc = outbox_stats(db_of(r), &s)) == C_OK)
        rc = outbox_failed_list(db_of(r), pg.cursor, pg.limit + 1, add_failed, &pg, NULL);
    if (rc != C_OK) {
        page_abort(&pg);
        return rc;
    }
    json_object *o = json_object_new_object();
    jput_i(o, "pending", s.pending);
    jput_i(o, "due", s.due);
    jput_i(o, "failed", s.failed);
    jput_i(o, "delivered", s.delivered);
    jput_s(o, "oldestPendingAt", s.oldest_pending[0] ? s.oldest_pending : NULL);
    page_finish(&pg, o, "failedEvents");
    return resp_json(r, 200, o);
}

struct replay {
    const char *event_id; /* NULL: all */
    int n;                /* out */
};

static int replay_tx(db_t *db, void *arg)
{
    struct replay *p = arg;
    return outbox_replay(db, p->event_id, &p->n);
}

/* Body {} replays every FAILED event; {"eventId":"..."} one of them. */
int outbox_admin_replay_h(req_t *r)
{
    struct replay p = {0};
    const char *event_id = NULL;
    bool one;
    int n, rc = body_str_opt(r, "eventId", 36, &event_id, &one);

    if (rc != C_OK)
        return rc;
    p.event_id = one ? event_id : NULL;
    if ((rc = effect_tx(r, 0, replay_tx, &p)) != C_OK)
        return rc;
    n = p.n;
    if (one && n == 0)
        return problem(r, P_NOT_FOUND, "eventId", "no FAILED event with id %s", event_id);
    json_object *o = json_object_new_object();
    jput_i(o, "replayed", n);
    return resp_json(r, 200, o);
}
