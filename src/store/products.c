#include "store/products.h"

#include <string.h>

#include "common/rc.h"
#include "core/money.h"

static const char select_one[] = "SELECT p.id, p.name, p.price, i.stock FROM product p"
                                 " JOIN inventory i ON i.product_id = p.id WHERE p.id = ?";

static int read_one(db_t *db, int64_t id, product_t *p, int *found)
{
    db_stmt_t *st;
    int rc = db_query(db, &st, select_one, "l", id);

    if (rc != C_OK)
        return rc;
    rc = db_row(st, "lsll", &p->id, p->name, sizeof(p->name), &p->price, &p->stock);
    db_end(st);
    if (rc < 0)
        return rc;
    *found = rc == DB_ROW;
    return C_OK;
}

int products_get(db_t *db, int64_t id, product_t *p, int *found)
{
    return read_one(db, id, p, found);
}

int products_list(db_t *db, int64_t after, int64_t limit,
                  void (*each)(void *arg, const product_t *p), void *arg, int *count)
{
    static const char sql[] = "SELECT p.id, p.name, p.price, i.stock FROM product p"
                              " JOIN inventory i ON i.product_id = p.id"
                              " WHERE p.id > ? ORDER BY p.id LIMIT ?";
    db_stmt_t *st;
    product_t p;
    int rc, n = 0;

    rc = db_query(db, &st, sql, "ll", after, limit);
    if (rc != C_OK)
        return rc;
    while ((rc = db_row(st, "lsll", &p.id, p.name, sizeof(p.name), &p.price, &p.stock)) == DB_ROW) {
        each(arg, &p);
        n++;
    }
    db_end(st);
    if (count)
        *count = n;
    return rc < 0 ? rc : C_OK;
}

int products_create_tx(db_t *db, struct products_create *c)
{
    static const char ins_p[] = "INSERT INTO product (name, price) VALUES (?, ?)";
    static const char ins_i[] = "INSERT INTO inventory (product_id, stock) VALUES (?, ?)";
    uint64_t id = 0;
    int rc = db_exec(db, ins_p, NULL, &id, "sl", c->name, c->price);

    if (rc != C_OK)
        return rc;
    c->id = (int64_t)id;
    return db_exec(db, ins_i, NULL, NULL, "ll", c->id, c->stock);
}

int products_patch_tx(db_t *db, struct products_patch *p)
{
    static const char lock[] = "SELECT stock FROM inventory WHERE product_id = ? FOR UPDATE";
    static const char upd_p[] = "UPDATE product SET name = IF(?, ?, name), price = IF(?, ?, price),"
                                " updated_at = NOW(3) WHERE id = ?";
    static const char upd_i[] =
        "UPDATE inventory SET stock = ?, updated_at = NOW(3) WHERE product_id = ?";
    int64_t stock = 0, new_stock;
    int rc;

    p->found = 0;
    p->too_much = 0;
    if ((rc = db_query_i64(db, &stock, &p->found, lock, "l", p->id)) != C_OK)
        return rc;
    if (!p->found)
        return DB_REFUSED;
    if (!money_add(stock, p->restock, &new_stock) || new_stock > MONEY_MAX_STOCK) {
        p->too_much = 1;
        return DB_REFUSED;
    }
    if (p->name || p->has_price) {
        rc = db_exec(db, upd_p, NULL, NULL, "lslll", (int64_t)(p->name != NULL),
                     p->name ? p->name : "", (int64_t)p->has_price, p->price, p->id);
        if (rc != C_OK)
            return rc;
    }
    if (p->restock) {
        rc = db_exec(db, upd_i, NULL, NULL, "ll", new_stock, p->id);
        if (rc != C_OK)
            return rc;
    }
    return read_one(db, p->id, &p->result, &p->found);
}
