#include "api/admin.h"

#include <inttypes.h>
#include <stdio.h>

#include "api/app.h"
#include "api/effect.h"
#include "api/products.h"
#include "common/rc.h"
#include "core/money.h"
#include "store/products.h"
#include "store/users.h"

#define USER_NAME_CHARS 100

static int create_user_tx(db_t *db, void *arg) { return users_create_tx(db, arg); }

int admin_create_user_h(req_t *r)
{
    struct users_create u = {0};
    int rc = body_str(r, "name", USER_NAME_CHARS, &u.name);

    if (rc != C_OK)
        return rc;
    if ((rc = effect_tx(r, 0, create_user_tx, &u)) != C_OK)
        return rc;
    json_object *o = json_object_new_object();
    jput_i(o, "userId", u.id);
    jput_s(o, "name", u.name);
    return resp_json(r, 201, o);
}

static int create_product_tx(db_t *db, void *arg) { return products_create_tx(db, arg); }

int admin_create_product_h(req_t *r)
{
    struct products_create c = {0};
    int rc;

    if ((rc = body_str(r, "name", PRODUCT_NAME_CHARS, &c.name)) != C_OK ||
        (rc = body_int(r, "price", 0, MONEY_MAX_PRICE, &c.price)) != C_OK ||
        (rc = body_int(r, "stock", 0, MONEY_MAX_STOCK, &c.stock)) != C_OK)
        return rc;
    if ((rc = effect_tx(r, 0, create_product_tx, &c)) != C_OK)
        return rc;
    product_t p = {.id = c.id, .price = c.price, .stock = c.stock};
    snprintf(p.name, sizeof(p.name), "%s", c.name);
    return resp_json(r, 201, products_render(&p));
}

static int patch_product_tx(db_t *db, void *arg) { return products_patch_tx(db, arg); }

int admin_patch_product_h(req_t *r)
{
    static const char *const fields[] = {"name", "price", "restock"};
    struct products_patch p = {.id = r->ids[0]};
    bool has_name, has_restock;
    int rc;

    /* A product's name, price and stock cannot be unset: null is refused
     * (not taken as "leave as is"), like any other wrong type. */
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_object *v = NULL;
        if (json_object_object_get_ex(r->json, fields[i], &v) && v == NULL)
            return invalid(r, fields[i], "'%s' cannot be null", fields[i]);
    }
    if ((rc = body_str_opt(r, "name", PRODUCT_NAME_CHARS, &p.name, &has_name)) != C_OK ||
        (rc = body_int_opt(r, "price", 0, MONEY_MAX_PRICE, &p.price, &p.has_price)) != C_OK ||
        (rc = body_int_opt(r, "restock", 1, MONEY_MAX_STOCK, &p.restock, &has_restock)) != C_OK)
        return rc;
    if (!has_name)
        p.name = NULL;
    if (!has_name && !p.has_price && !has_restock)
        return invalid(r, NULL, "nothing to change: send at least one of name, price, restock");
    rc = effect_tx(r, 0, patch_product_tx, &p);
    if (rc == DB_REFUSED && !p.found)
        return problem(r, P_PRODUCT_NOT_FOUND, NULL, "product %" PRId64 " does not exist", p.id);
    if (rc == DB_REFUSED)
        return invalid(r, "restock", "restock would take the stock past %lld",
                       (long long)MONEY_MAX_STOCK);
    if (rc != C_OK)
        return rc;
    return resp_json(r, 200, products_render(&p.result));
}
