#include "api/points.h"

#include <inttypes.h>

#include "api/app.h"
#include "api/effect.h"
#include "common/rc.h"
#include "store/points.h"

int points_get_h(req_t *r)
{
    int64_t uid = r->ids[0], balance = 0;
    int found, rc = points_balance(db_of(r), uid, &balance, &found);

    if (rc != C_OK)
        return rc;
    if (!found)
        return no_user(r, uid);
    json_object *o = json_object_new_object();
    jput_i(o, "userId", uid);
    jput_i(o, "balance", balance);
    return resp_json(r, 200, o);
}

static int charge_work(db_t *db, struct effect *e)
{
    struct points_charge *c = e->arg;
    int rc = points_charge_check(db, c);

    if (rc != C_OK)
        return rc;
    json_object *o = json_object_new_object();
    jput_i(o, "userId", c->user_id);
    jput_i(o, "balance", c->balance);
    jput_i(o, "charged", c->amount);
    return effect_respond(e, 200, o);
}

static int charge_write(db_t *db, struct effect *e, const struct idem *ik)
{
    int rc = points_charge_apply(db, e->arg);
    return rc == C_OK && ik ? idem_store(db, ik, e->status, e->body, e->body_len) : rc;
}

int points_charge_h(req_t *r)
{
    app_t *app = app_of(r);
    struct points_charge c = {.user_id = r->ids[0], .max_balance = app->cfg.max_balance};
    struct effect e = {.work = charge_work, .write = charge_write, .arg = &c};
    int rc = body_int(r, "amount", 1, app->cfg.max_charge, &c.amount);

    if (rc != C_OK)
        return rc;
    rc = effect_run(r, c.user_id, &e);
    if (rc != DB_REFUSED)
        return rc;
    if (c.outcome == CHARGE_NO_USER)
        return no_user(r, c.user_id);
    return problem(r, P_BALANCE_LIMIT_EXCEEDED, NULL,
                   "balance %" PRId64 " + %" PRId64 " would exceed the maximum %" PRId64, c.balance,
                   c.amount, c.max_balance);
}

static void add_entry(void *arg, const point_entry_t *e)
{
    page_t *pg = arg;
    if (page_skip(pg))
        return;
    json_object *o = json_object_new_object();
    jput_i(o, "id", e->id);
    jput_s(o, "type", e->type);
    jput_i(o, "amount", e->amount);
    jput_i(o, "balanceAfter", e->balance_after);
    jput_id(o, "orderId", e->order_id);
    jput_s(o, "createdAt", e->created_at);
    page_push(pg, o, e->id);
}

int points_history_h(req_t *r)
{
    page_t pg;
    int rc = page_begin(r, &pg, "before", INT64_MAX);

    if (rc != C_OK)
        return rc;
    rc = points_history(db_of(r), r->ids[0], pg.cursor, pg.limit + 1, add_entry, &pg, NULL);
    return page_reply_for_user(r, &pg, rc, r->ids[0]);
}
