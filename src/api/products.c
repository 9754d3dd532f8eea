#include "api/products.h"

#include <inttypes.h>

#include "api/app.h"
#include "common/rc.h"
#include "store/popular.h"

json_object *products_render(const product_t *p)
{
    json_object *o = json_object_new_object();
    jput_i(o, "id", p->id);
    jput_s(o, "name", p->name);
    jput_i(o, "price", p->price);
    jput_i(o, "stock", p->stock);
    return o;
}

int products_get_h(req_t *r)
{
    product_t p;
    int found, rc = products_get(db_of(r), r->ids[0], &p, &found);

    if (rc != C_OK)
        return rc;
    if (!found)
        return problem(r, P_PRODUCT_NOT_FOUND, NULL, "product %" PRId64 " does not exist",
                       r->ids[0]);
    return resp_json(r, 200, products_render(&p));
}

static void add_product(void *arg, const product_t *p)
{
    page_t *pg = arg;
    if (!page_skip(pg))
        page_push(pg, products_render(p), p->id);
}

static int list_read(db_t *db, void *arg)
{
    page_t *pg = arg;
    return products_list(db, pg->cursor, pg->limit + 1, add_product, pg, NULL);
}

/* A replica failed halfway: start the page again. */
static void list_reset(void *arg) { page_restart(arg); }

/* The product list is a catalog read: a replica within the lag bound may
 * serve it (GET /products/{id} stays on the primary: its stock is exact). */
int products_list_h(req_t *r)
{
    page_t pg;
    /* `after` may be any positive id; absent starts at the beginning. */
    int rc = page_begin(r, &pg, "after", 0);

    if (rc != C_OK)
        return rc;
    if ((rc = catalog_read(r, list_read, list_reset, &pg)) != C_OK) {
        page_abort(&pg);
        return rc;
    }
    json_object *o = json_object_new_object();
    page_finish(&pg, o, "items");
    return resp_json(r, 200, o);
}

static int popular_read_into(db_t *db, void *arg) { return popular_read(db, arg); }

/* A catalog read (the list changes once a night). */
int products_popular_h(req_t *r)
{
    popular_view_t *v = req_scratch(r, sizeof(*v));
    int rc = v ? catalog_read(r, popular_read_into, NULL, v) : C_ERR;

    if (rc != C_OK)
        return rc;
    json_object *o = json_object_new_object(), *items = json_object_new_array();
    jput_s(o, "from", v->found ? v->from_day : NULL);
    jput_s(o, "to", v->found ? v->to_day : NULL);
    jput_i(o, "days", v->found ? v->days : POPULAR_DAYS);
    jput_s(o, "computedAt", v->found ? v->computed_at : NULL);
    for (int i = 0; i < v->n; i++) {
        const popular_entry_t *e = &v->items[i];
        json_object *it = json_object_new_object();
        jput_i(it, "rank", e->rank);
        jput_i(it, "productId", e->product.id);
        jput_s(it, "name", e->product.name);
        jput_i(it, "price", e->product.price);
        jput_i(it, "stock", e->product.stock);
        jput_i(it, "soldQuantity", e->sold);
        json_object_array_add(items, it);
    }
    json_object_object_add(o, "items", items);
    return resp_json(r, 200, o);
}
