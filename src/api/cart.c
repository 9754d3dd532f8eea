#include "api/cart.h"

#include <inttypes.h>
#include <string.h>

#include "api/app.h"
#include "api/effect.h"
#include "api/orders.h"
#include "common/rc.h"
#include "store/cart.h"
#include "store/users.h"

struct cart_doc {
    json_object *items;
    int64_t subtotal;
};

static void add_line(void *arg, const cart_line_t *l)
{
    struct cart_doc *d = arg;
    json_object *o = json_object_new_object();
    int64_t amount = order_line_amount(l->quantity, l->product.price);

    jput_i(o, "productId", l->product.id);
    jput_s(o, "name", l->product.name);
    jput_i(o, "price", l->product.price);
    jput_i(o, "stock", l->product.stock);
    jput_i(o, "quantity", l->quantity);
    jput_i(o, "amount", amount);
    json_object_array_add(d->items, o);
    d->subtotal += amount;
}

/* Answer with the cart as it is now. */
static int respond_cart(req_t *r, int64_t uid, int status)
{
    struct cart_doc d = {.items = json_object_new_array()};
    int found = 1, n = 0, rc = cart_list(db_of(r), uid, add_line, &d, &n);

    if (rc == C_OK && n == 0) /* an unknown user has an empty cart too: tell them apart */
        rc = users_exists(db_of(r), uid, &found);
    if (rc != C_OK || !found) {
        json_object_put(d.items);
        return rc != C_OK ? rc : no_user(r, uid);
    }
    json_object *o = json_object_new_object();
    jput_i(o, "userId", uid);
    json_object_object_add(o, "items", d.items);
    jput_i(o, "subtotal", d.subtotal);
    return resp_json(r, status, o);
}

int cart_get_h(req_t *r) { return respond_cart(r, r->ids[0], 200); }

static int put_tx(db_t *db, void *arg) { return cart_put_tx(db, arg); }

int cart_put_h(req_t *r)
{
    struct cart_put c = {.user_id = r->ids[0], .product_id = r->ids[1]};
    int rc = body_int(r, "quantity", 1, ORDER_MAX_QTY, &c.quantity);

    if (rc != C_OK)
        return rc;
    rc = effect_tx(r, c.user_id, put_tx, &c);
    if (rc == DB_REFUSED) {
        if (c.outcome == CART_NO_USER)
            return no_user(r, c.user_id);
        if (c.outcome == CART_NO_PRODUCT)
            return problem(r, P_PRODUCT_NOT_FOUND, NULL, "product %" PRId64 " does not exist",
                           c.product_id);
        return invalid(r, "productId", "a cart holds at most %d products", CART_MAX_LINES);
    }
    if (rc != C_OK)
        return rc;
    return respond_cart(r, c.user_id, 200);
}

struct cart_del {
    int64_t user_id, product_id;
};

static int delete_tx(db_t *db, void *arg)
{
    struct cart_del *d = arg;
    int found, rc = users_exists(db, d->user_id, &found);

    if (rc != C_OK)
        return rc;
    return found ? cart_delete(db, d->user_id, d->product_id) : DB_REFUSED;
}

int cart_delete_h(req_t *r)
{
    struct cart_del d = {.user_id = r->ids[0], .product_id = r->ids[1]};
    int rc = effect_tx(r, d.user_id, delete_tx, &d);

    if (rc == DB_REFUSED)
        return no_user(r, d.user_id);
    return rc != C_OK ? rc : resp_json(r, 204, NULL);
}

struct checkout {
    struct order_place place;
    int empty;
};

static int checkout_work(db_t *db, struct effect *e)
{
    struct checkout *c = e->arg;
    int rc;

    c->empty = 0;
    if ((rc = cart_lock_lines(db, c->place.user_id, c->place.lines, &c->place.n)) != C_OK)
        return rc;
    if (c->place.n == 0) {
        c->empty = 1;
        return DB_REFUSED;
    }
    return orders_place_work(db, e, &c->place);
}

/* The order's write empties the cart in the same transaction. */
static int checkout_write(db_t *db, struct effect *e, const struct idem *ik)
{
    struct checkout *c = e->arg;
    return orders_place_write(db, e, &c->place, ik, c->place.user_id);
}

static int checkout_marked(db_t *db, struct effect *e, int *found)
{
    return orders_place_marked(db, &((struct checkout *)e->arg)->place, found);
}

int cart_checkout_h(req_t *r)
{
    struct checkout *c = req_scratch(r, sizeof(*c));
    struct effect e = {
        .work = checkout_work, .write = checkout_write, .marked = checkout_marked, .arg = c};
    int rc, found;

    if (!c || !(c->place.order = req_scratch(r, sizeof(*c->place.order))))
        return C_ERR;
    c->place.user_id = r->ids[0];
    if ((rc = orders_read_coupon(r, &c->place)) != C_OK)
        return rc;
    rc = effect_run(r, c->place.user_id, &e);
    if (rc == C_OK)
        orders_count(rc, &e, &c->place);
    if (rc != DB_REFUSED)
        return rc;
    if (c->empty) {
        /* An unknown user has an empty cart too: tell them apart. */
        if ((rc = users_exists(db_of(r), c->place.user_id, &found)) != C_OK)
            return rc;
        if (!found)
            return no_user(r, c->place.user_id);
        return problem(r, P_CART_EMPTY, NULL, "the cart of user %" PRId64 " is empty",
                       c->place.user_id);
    }
    rc = orders_place_problem(r, &c->place);
    orders_count(rc, &e, &c->place);
    return rc;
}
