#include "api/coupons.h"

#include <inttypes.h>

#include "api/app.h"
#include "api/effect.h"
#include "common/rc.h"
#include "store/coupons.h"
#include "store/users.h"

static json_object *render_coupon(const coupon_t *c)
{
    json_object *o = json_object_new_object();
    jput_i(o, "couponId", c->id);
    jput_s(o, "name", c->name);
    jput_s(o, "type", c->type);
    jput_i(o, "value", c->value);
    jput_i(o, "totalQuantity", c->total);
    jput_i(o, "issuedQuantity", c->issued);
    jput_i(o, "remaining", c->total - c->issued);
    jput_s(o, "expiresAt", c->expires_at);
    return o;
}

static json_object *render_user_coupon(const user_coupon_t *u)
{
    json_object *o = json_object_new_object();
    jput_i(o, "couponId", u->coupon.id);
    jput_i(o, "userId", u->user_id);
    jput_s(o, "name", u->coupon.name);
    jput_s(o, "type", u->coupon.type);
    jput_i(o, "value", u->coupon.value);
    jput_s(o, "status", u->status);
    jput_s(o, "issuedAt", u->issued_at);
    jput_s(o, "expiresAt", u->coupon.expires_at);
    jput_id(o, "usedOrderId", u->used_order_id);
    return o;
}

static int no_coupon(req_t *r, int64_t id)
{
    return problem(r, P_COUPON_NOT_FOUND, NULL, "coupon %" PRId64 " does not exist", id);
}

struct coupon_read {
    int64_t id;
    coupon_t c;
    int found;
};

static int coupon_read(db_t *db, void *arg)
{
    struct coupon_read *q = arg;
    return coupons_get(db, q->id, &q->c, &q->found);
}

/* A catalog read: a coupon's terms and how many are left, a moment behind at
 * most (issuing one decides on the primary). */
int coupons_get_h(req_t *r)
{
    struct coupon_read q = {.id = r->ids[0]};
    int rc = catalog_read(r, coupon_read, NULL, &q);
    coupon_t c = q.c;
    int found = q.found;

    if (rc != C_OK)
        return rc;
    return found ? resp_json(r, 200, render_coupon(&c)) : no_coupon(r, r->ids[0]);
}

static int issue_tx(db_t *db, void *arg) { return coupons_issue_tx(db, arg); }

int coupons_issue_h(req_t *r)
{
    struct coupons_issue c = {.coupon_id = r->ids[0]};
    int rc = body_int(r, "userId", 1, INT64_MAX, &c.user_id);

    if (rc != C_OK || (rc = req_acting_for(r, c.user_id)) != C_OK)
        return rc;
    rc = effect_tx(r, c.user_id, issue_tx, &c);
    if (rc == C_OK)
        return resp_json(r, 201, render_user_coupon(&c.result));
    if (rc != DB_REFUSED)
        return rc;
    switch (c.outcome) {
    case ISSUE_NO_USER:
        return no_user(r, c.user_id);
    case ISSUE_NO_COUPON:
        return no_coupon(r, c.coupon_id);
    case ISSUE_EXPIRED:
        return problem(r, P_COUPON_NOT_USABLE, NULL, "coupon %" PRId64 " has expired", c.coupon_id);
    case ISSUE_ALREADY:
        return problem(r, P_COUPON_ALREADY_ISSUED, NULL,
                       "user %" PRId64 " already has coupon %" PRId64, c.user_id, c.coupon_id);
    default:
        return problem(r, P_COUPON_SOLD_OUT, NULL, "coupon %" PRId64 " is sold out", c.coupon_id);
    }
}

static void add_user_coupon(void *arg, const user_coupon_t *u)
{
    json_object_array_add(arg, render_user_coupon(u));
}

int coupons_user_list_h(req_t *r)
{
    json_object *items = json_object_new_array();
    int found = 1, n = 0, rc = coupons_of_user(db_of(r), r->ids[0], add_user_coupon, items, &n);

    if (rc == C_OK && n == 0) /* none: perhaps no such user */
        rc = users_exists(db_of(r), r->ids[0], &found);
    if (rc != C_OK || !found) {
        json_object_put(items);
        return rc != C_OK ? rc : no_user(r, r->ids[0]);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "items", items);
    return resp_json(r, 200, o);
}

static int create_tx(db_t *db, void *arg) { return coupons_create_tx(db, arg); }

int coupons_admin_create_h(req_t *r)
{
    struct coupons_create c = {0};
    const char *type;
    int rc, t;

    if ((rc = body_str(r, "name", COUPON_NAME_CHARS, &c.name)) != C_OK ||
        (rc = body_str(r, "type", 16, &type)) != C_OK)
        return rc;
    if ((t = coupon_type_parse(type)) < 0)
        return invalid(r, "type", "'type' must be FIXED or PERCENT");
    c.type = (enum coupon_type)t;
    if ((rc = body_int(r, "value", 1, c.type == COUPON_PERCENT ? 100 : COUPON_MAX_FIXED,
                       &c.value)) != C_OK ||
        (rc = body_int(r, "totalQuantity", 1, COUPON_MAX_QUANTITY, &c.total)) != C_OK ||
        (rc = body_int(r, "validDays", 1, COUPON_MAX_VALID_DAYS, &c.valid_days)) != C_OK)
        return rc;
    if ((rc = effect_tx(r, 0, create_tx, &c)) != C_OK)
        return rc;
    return resp_json(r, 201, render_coupon(&c.result));
}
