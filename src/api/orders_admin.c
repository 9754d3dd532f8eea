/* The operator's view of orders: one order with where each of its events
 * stands on the way to the data platform, and the search over all orders. */
#include "api/orders.h"

#include <string.h>

#include "api/app.h"
#include "common/rc.h"
#include "common/textbuf.h"
#include "common/util.h"
#include "store/outbox.h"

/* An order has one ORDER_PAID event and at most one ORDER_CANCELLED. */
#define ORDER_EVENTS 4

struct view {
    int64_t id;
    order_t order;
    int found, nev;
    outbox_order_event_t ev[ORDER_EVENTS];
};

/* One snapshot: the order and its events as of the same moment. */
static int view_tx(db_t *db, void *arg)
{
    struct view *v = arg;
    int rc;

    v->nev = 0;
    if ((rc = orders_load(db, v->id, &v->order, &v->found)) != C_OK || !v->found)
        return rc;
    return outbox_of_order(db, v->id, v->ev, ORDER_EVENTS, &v->nev);
}

static json_object *render_event(const outbox_order_event_t *e)
{
    json_object *o = json_object_new_object();
    jput_s(o, "eventId", e->event_id);
    jput_s(o, "type", e->type);
    jput_s(o, "state", e->state);
    jput_i(o, "attempts", e->attempts);
    jput_s(o, "lastError", e->last_error[0] ? e->last_error : NULL);
    jput_s(o, "occurredAt", e->occurred_at);
    jput_s(o, "nextAttemptAt", e->next_attempt_at[0] ? e->next_attempt_at : NULL);
    jput_s(o, "deliveredAt", e->delivered_at[0] ? e->delivered_at : NULL);
    jput_s(o, "claimedBy", e->claimed_by[0] ? e->claimed_by : NULL);
    json_object_object_add(o, "purged", json_object_new_boolean(0));
    return o;
}

/* An event the order must have had (the order's transaction and its cancel
 * write them) that is no longer in the outbox: the relay deletes only
 * delivered events, after relay_retention_hours. Its time is the order's
 * (or the cancel's): both are written at the same instant. */
static json_object *purged_event(const char *type, const char *occurred_at)
{
    json_object *o = json_object_new_object();
    jput_s(o, "eventId", NULL);
    jput_s(o, "type", type);
    jput_s(o, "state", "DELIVERED");
    jput_s(o, "attempts", NULL);
    jput_s(o, "lastError", NULL);
    jput_s(o, "occurredAt", occurred_at);
    jput_s(o, "nextAttemptAt", NULL);
    jput_s(o, "deliveredAt", NULL);
    jput_s(o, "claimedBy", NULL);
    json_object_object_add(o, "purged", json_object_new_boolean(1));
    return o;
}

/* Its events in the order they happened, each kind found or inferred. */
static json_object *render_events(const struct view *v)
{
    static const char *const kinds[] = {"ORDER_PAID", "ORDER_CANCELLED"};
    json_object *a = json_object_new_array();

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        int seen = 0;
        for (int i = 0; i < v->nev; i++)
            if (strcmp(v->ev[i].type, kinds[k]) == 0) {
                json_object_array_add(a, render_event(&v->ev[i]));
                seen = 1;
            }
        if (seen || (k == 1 && !v->order.cancelled_at[0]))
            continue;
        json_object_array_add(
            a, purged_event(kinds[k], k == 0 ? v->order.created_at : v->order.cancelled_at));
    }
    return a;
}

/* {"order":{…},"events":[…]}: the order's document as its text, the events
 * as json-c writes every answer. */
int orders_admin_get_h(req_t *r)
{
    struct view *v = req_scratch(r, sizeof(*v));
    json_object *events;
    const char *etext;
    size_t elen;
    tb_t b;
    int rc;

    if (!v)
        return C_ERR;
    v->id = r->ids[0];
    if ((rc = db_tx(db_of(r), view_tx, v)) != C_OK)
        return rc;
    if (!v->found)
        return orders_not_found(r, v->id);
    if (!tb_alloc(&b, 4096))
        return C_ERR;
    events = render_events(v);
    etext = json_object_to_json_string_length(
        events, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &elen);
    tb_put(&b, "{", 1);
    tb_key(&b, "order");
    orders_text(&b, &v->order);
    if (etext && tb_reserve(&b, elen + 16)) {
        tb_key(&b, "events");
        tb_put(&b, etext, elen);
        tb_put(&b, "}", 1);
    } else {
        b.full = true; /* out of memory: a 500 */
    }
    json_object_put(events);
    return resp_json_text(r, 200, &b);
}

/* The optional filters: userId, status, from, to. */
static int read_query(req_t *r, struct orders_query *q)
{
    size_t len;
    const char *v;
    int rc;

    if ((v = query_find(r->query, "userId", &len)) &&
        (util_parse_i64n(v, len, &q->user_id) != C_OK || q->user_id < 1))
        return invalid(r, "userId", "'userId' must be a positive integer");
    if ((v = query_find(r->query, "status", &len))) {
        if (len == 4 && memcmp(v, "PAID", 4) == 0)
            q->status = "PAID";
        else if (len == 9 && memcmp(v, "CANCELLED", 9) == 0)
            q->status = "CANCELLED";
        else
            return invalid(r, "status", "'status' must be PAID or CANCELLED");
    }
    if ((rc = query_time(r, "from", q->from)) != C_OK || (rc = query_time(r, "to", q->to)) != C_OK)
        return rc;
    if (q->from[0] && q->to[0] && strcmp(q->from, q->to) >= 0)
        return invalid(r, "to", "'to' must be later than 'from'");
    return C_OK;
}

/* {"items":[order…],"next":…}: newest first (createdAt, then orderId). A
 * page over every user reads a bounded window of the index: with filters
 * that match few orders it may hold fewer than `limit` and still have a next. */
int orders_admin_list_h(req_t *r)
{
    struct orders_query q = {0};
    order_t *buf = req_scratch(r, sizeof(*buf)); /* each order in turn */
    page_t pg;
    int rc, found = 1;

    if (!buf)
        return C_ERR;
    if ((rc = read_query(r, &q)) != C_OK || (rc = page_begin_text(r, &pg, "before", 0)) != C_OK)
        return rc;
    q.before = pg.cursor;
    q.limit = pg.limit + 1;
    rc = orders_search(db_of(r), &q, buf, orders_page_add, &pg, &found);
    if (rc == C_OK && !found) {
        page_abort(&pg);
        return invalid(r, "before", "'before' names no order");
    }
    if (q.user_id)
        return page_reply_for_user(r, &pg, rc, q.user_id);
    if (rc != C_OK) {
        page_abort(&pg);
        return rc;
    }
    /* With no next order in the page, the window's end: the filters matched
     * few in it (0: the end of the orders). */
    return page_reply_text(r, &pg, q.resume);
}
