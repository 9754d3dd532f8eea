#include "api/orders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "common/jsonx.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rc.h"
#include "common/textbuf.h"
#include "store/outbox.h"

/* The most an order's document takes. */
static size_t text_max(const order_t *o) { return 512 + (size_t)o->nlines * ORDERS_LINE_JSON_MAX; }

/* The document written straight into b (common/textbuf.h), as json-c would
 * write it (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE): the one place it is
 * formatted. */
void orders_text(tb_t *b, const order_t *o)
{
    static const char *const names[5] = {"productId", "name", "quantity", "unitPrice", "amount"};

    if (!tb_reserve(b, text_max(o)))
        return;
    tb_put(b, "{", 1);
    tb_key_i64(b, "orderId", o->id);
    tb_key_i64(b, "userId", o->user_id);
    tb_key_str(b, "status", o->status);
    tb_key(b, "items");
    tb_put(b, "[", 1);
    for (int i = 0; i < o->nlines; i++) {
        if (i)
            tb_put(b, ",", 1);
        orders_line_json(b, &o->lines[i], names);
    }
    tb_put(b, "]", 1);
    tb_key_i64(b, "subtotal", o->subtotal);
    tb_key_i64(b, "discount", o->discount);
    tb_key_i64(b, "total", o->total);
    tb_key_id(b, "couponId", o->coupon_id);
    tb_key_i64(b, "balance", o->balance);
    tb_key_str(b, "createdAt", o->created_at);
    tb_key_str(b, "cancelledAt", o->cancelled_at[0] ? o->cancelled_at : NULL);
    tb_put(b, "}", 1);
}

/* The order's document in a malloc'd buffer of its own (the caller's to
 * free); NULL when out of memory. */
static char *render_text(const order_t *o, size_t *len)
{
    tb_t b;

    if (!tb_alloc(&b, text_max(o) + 1))
        return NULL;
    orders_text(&b, o);
    return tb_take(&b, len);
}

/* Respond with the order's document. */
static int reply(req_t *r, int status, const order_t *o)
{
    size_t len;
    char *text = render_text(o, &len);
    int rc = text ? resp_raw(r, status, "application/json", text, len) : C_ERR;

    free(text);
    return rc;
}

static int no_order(req_t *r, int64_t id)
{
    return problem(r, P_ORDER_NOT_FOUND, NULL, "order %" PRId64 " does not exist", id);
}

int orders_place_work(db_t *db, struct effect *e, struct order_place *p)
{
    size_t len;
    char *text;
    int rc;

    if ((rc = orders_place(db, p)) != C_OK)
        return rc;
    if (!(text = render_text(p->order, &len)))
        return C_ERR;
    effect_respond_text(e, 201, text, len);
    return C_OK;
}

int orders_place_write(db_t *db, struct effect *e, struct order_place *p, const struct idem *ik,
                       int64_t cart_user)
{
    return orders_write(db, p, e->body, e->body_len, ik, cart_user);
}

int orders_place_marked(db_t *db, const struct order_place *p, int *found)
{
    return outbox_event_exists(db, p->event_id, found);
}

int orders_place_problem(req_t *r, const struct order_place *p)
{
    const order_verdict_t *v = &p->v;

    switch (v->outcome) {
    case ORDER_NO_PRODUCT:
        return problem_x(r, P_PRODUCT_NOT_FOUND, "productId", v->bad_id,
                         "product %" PRId64 " does not exist", v->bad_id);
    case ORDER_NO_USER:
        return no_user(r, p->user_id);
    case ORDER_OUT_OF_STOCK:
        return problem_x(r, P_OUT_OF_STOCK, "productId", v->bad_id,
                         "product %" PRId64 " has %" PRId64 " left, %" PRId64 " requested",
                         v->bad_id, v->have, v->want);
    case ORDER_NO_BALANCE:
        return problem(r, P_INSUFFICIENT_BALANCE, NULL,
                       "the balance is %" PRId64 ", the order total is %" PRId64, v->have, v->want);
    case ORDER_COUPON_NOT_FOUND:
        return problem(r, P_COUPON_NOT_FOUND, NULL, "coupon %" PRId64 " does not exist",
                       p->coupon_id);
    case ORDER_COUPON_NOT_USABLE:
        return problem(r, P_COUPON_NOT_USABLE, NULL,
                       "coupon %" PRId64 " is not available to user %" PRId64
                       " (not issued, already used, or expired)",
                       p->coupon_id, p->user_id);
    default:
        return C_ERR;
    }
}

void orders_count(int rc, const struct effect *e, const struct order_place *p)
{
    if (rc == C_OK && e->ik.state == IDEM_NEW)
        metrics_order(M_ORDER_PAID);
    else if (rc == C_REJECT && e->ik.state == IDEM_NEW)
        metrics_order(p->v.outcome == ORDER_OUT_OF_STOCK        ? M_ORDER_OUT_OF_STOCK
                      : p->v.outcome == ORDER_NO_BALANCE        ? M_ORDER_INSUFFICIENT_BALANCE
                      : p->v.outcome == ORDER_COUPON_NOT_USABLE ? M_ORDER_COUPON_REJECTED
                      : p->v.outcome == ORDER_COUPON_NOT_FOUND  ? M_ORDER_COUPON_REJECTED
                                                                : M_ORDER_REJECTED_OTHER);
}

int orders_read_coupon(req_t *r, struct order_place *p)
{
    bool present;
    int rc = body_int_opt(r, "couponId", 1, INT64_MAX, &p->coupon_id, &present);
    if (!present)
        p->coupon_id = 0;
    return rc;
}

/* "items[i]", or "items[i].member": the field a refusal of line i names. */
static const char *item_field(char *buf, size_t cap, size_t i, const char *member)
{
    if (member)
        snprintf(buf, cap, "items[%zu].%s", i, member);
    else
        snprintf(buf, cap, "items[%zu]", i);
    return buf;
}

int orders_read_items(req_t *r, order_req_line_t *lines, int *n)
{
    json_object *items = NULL;
    char field[48];
    size_t len;
    enum jx e;

    if (!json_object_object_get_ex(r->json, "items", &items) || items == NULL)
        return invalid(r, "items", "'items' is required");
    if (!json_object_is_type(items, json_type_array))
        return invalid(r, "items", "'items' must be an array");
    len = json_object_array_length(items);
    if (!order_lines_count_ok(len))
        return invalid(r, "items", "an order has 1 to %d lines, not %zu", ORDER_MAX_LINES, len);
    for (size_t i = 0; i < len; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        order_req_line_t *l = &lines[i];

        if (!it || !json_object_is_type(it, json_type_object))
            return invalid(r, item_field(field, sizeof(field), i, NULL),
                           "each line must be an object {productId, quantity}");
        if ((e = jsonx_int(it, "productId", 1, INT64_MAX, &l->product_id)) != JX_OK)
            return invalid(r, item_field(field, sizeof(field), i, "productId"),
                           "'productId' %s: a positive integer id", jsonx_describe(e));
        if ((e = jsonx_int(it, "quantity", 1, ORDER_MAX_QTY, &l->quantity)) != JX_OK)
            return invalid(r, item_field(field, sizeof(field), i, "quantity"),
                           "'quantity' %s: an integer from 1 to %d", jsonx_describe(e),
                           ORDER_MAX_QTY);
        if (order_line_repeats(lines, (int)i) >= 0)
            return invalid(r, item_field(field, sizeof(field), i, "productId"),
                           "product %" PRId64 " appears more than once", l->product_id);
    }
    *n = (int)len;
    return C_OK;
}

static int create_work(db_t *db, struct effect *e) { return orders_place_work(db, e, e->arg); }
static int create_write(db_t *db, struct effect *e, const struct idem *ik)
{
    return orders_place_write(db, e, e->arg, ik, 0);
}
static int create_marked(db_t *db, struct effect *e, int *found)
{
    return orders_place_marked(db, e->arg, found);
}

int orders_create_h(req_t *r)
{
    struct order_place *p = req_scratch(r, sizeof(*p));
    struct effect e = {
        .work = create_work, .write = create_write, .marked = create_marked, .arg = p};
    int rc;

    /* Not zeroed (85 KiB for 100 lines, every order): orders_place clears the
     * order's head and fills each of its lines before anything reads them. */
    if (!p || !(p->order = req_scratch_raw(r, sizeof(*p->order))))
        return C_ERR;
    if ((rc = body_int(r, "userId", 1, INT64_MAX, &p->user_id)) != C_OK ||
        (rc = req_acting_for(r, p->user_id)) != C_OK || (rc = orders_read_coupon(r, p)) != C_OK ||
        (rc = orders_read_items(r, p->lines, &p->n)) != C_OK)
        return rc;
    rc = effect_run(r, p->user_id, &e);
    if (rc == DB_REFUSED)
        rc = orders_place_problem(r, p); /* C_ERR (a 500) for an outcome it does not know */
    orders_count(rc, &e, p);
    return rc;
}

/* Another user's order is answered as an unknown one (API.md); the worker log says why, at
 * info with the request id, for the developer who wonders. */
static int not_theirs(req_t *r, int64_t order_id, int64_t owner)
{
    log_info("%s %s: answered 404 as if order %" PRId64 " did not exist: it is user %" PRId64
             "'s, and the access token is user %" PRId64 "'s",
             r->method, r->path, order_id, owner, r->user_id);
    return no_order(r, order_id);
}

int orders_get_h(req_t *r)
{
    order_t *o = req_scratch(r, sizeof(*o));
    int found, rc = o ? orders_load(db_of(r), r->ids[0], o, &found) : C_ERR;

    if (rc != C_OK)
        return rc;
    if (!found)
        return no_order(r, r->ids[0]);
    if (r->user_id && o->user_id != r->user_id) /* another's: as unknown */
        return not_theirs(r, r->ids[0], o->user_id);
    return reply(r, 200, o);
}

void orders_page_add(void *arg, const order_t *o)
{
    page_t *pg = arg;
    if (!page_skip(pg))
        orders_text(page_push_text(pg, o->id), o);
}

int orders_list_h(req_t *r)
{
    order_t *buf = req_scratch(r, sizeof(*buf)); /* each order in turn */
    page_t pg;
    int rc = buf ? page_begin_text(r, &pg, "before", INT64_MAX) : C_ERR;

    if (rc != C_OK)
        return rc;
    rc = orders_list(db_of(r), r->ids[0], pg.cursor, pg.limit + 1, buf, orders_page_add, &pg, NULL);
    return page_reply_for_user(r, &pg, rc, r->ids[0]);
}

static int cancel_tx(db_t *db, void *arg)
{
    struct order_cancel *c = arg;
    size_t len;
    int rc;

    if ((rc = orders_cancel(db, c)) != C_OK)
        return rc;
    char *payload = render_text(c->order, &len);
    if (!payload)
        return C_ERR;
    rc = outbox_add(db, "ORDER_CANCELLED", c->order->id, payload, len, c->at.sql, c->event_id);
    free(payload);
    return rc == C_OK ? orders_restock(db, c) : rc; /* the hot rows last */
}

/* The cancel's marker: its ORDER_CANCELLED event. */
static int cancel_marked(db_t *db, void *arg, int *found)
{
    return outbox_event_exists(db, ((struct order_cancel *)arg)->event_id, found);
}

int orders_cancel_h(req_t *r)
{
    struct order_cancel c = {
        .order_id = r->ids[0], .user_id = r->user_id, .order = req_scratch(r, sizeof(order_t))};
    int rc = c.order ? db_tx_marked(db_of(r), cancel_tx, cancel_marked, &c) : C_ERR;

    if (rc == DB_REFUSED && c.outcome == ORDER_NOT_FOUND)
        return c.owner ? not_theirs(r, c.order_id, c.owner) : no_order(r, c.order_id);
    if (rc == DB_REFUSED)
        return problem(r, P_ORDER_NOT_CANCELLABLE, NULL,
                       "order %" PRId64 " is already cancelled; only PAID orders can be cancelled",
                       c.order_id);
    if (rc != C_OK)
        return rc;
    metrics_cancel();
    return reply(r, 200, c.order);
}

int orders_not_found(req_t *r, int64_t id) { return no_order(r, id); }
