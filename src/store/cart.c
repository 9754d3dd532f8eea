#include "store/cart.h"

#include "common/rc.h"

int cart_list(db_t *db, int64_t user_id, void (*each)(void *arg, const cart_line_t *l), void *arg,
              int *count)
{
    static const char sql[] =
        "SELECT p.id, p.name, p.price, i.stock, c.quantity FROM cart_item c"
        " JOIN product p ON p.id = c.product_id JOIN inventory i ON i.product_id = c.product_id"
        " WHERE c.user_id = ? ORDER BY c.added_at, c.product_id";
    db_stmt_t *st;
    cart_line_t l;
    int rc, n = 0;

    rc = db_query(db, &st, sql, "l", user_id);
    if (rc != C_OK)
        return rc;
    while ((rc = db_row(st, "lslll", &l.product.id, l.product.name, sizeof(l.product.name),
                        &l.product.price, &l.product.stock, &l.quantity)) == DB_ROW) {
        each(arg, &l);
        n++;
    }
    db_end(st);
    if (count)
        *count = n;
    return rc < 0 ? rc : C_OK;
}

int cart_put_tx(db_t *db, struct cart_put *c)
{
    static const char lock_user[] = "SELECT id FROM users WHERE id = ? FOR UPDATE";
    static const char product[] = "SELECT id FROM product WHERE id = ?";
    static const char count[] = "SELECT COUNT(*) FROM cart_item WHERE user_id = ?"
                                " AND product_id <> ?";
    static const char upsert[] =
        "INSERT INTO cart_item (user_id, product_id, quantity) VALUES (?, ?, ?)"
        " ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), updated_at = NOW(3)";
    int64_t v = 0;
    int found, rc;

    c->outcome = CART_OK;
    if ((rc = db_query_i64(db, &v, &found, lock_user, "l", c->user_id)) != C_OK)
        return rc;
    if (!found) {
        c->outcome = CART_NO_USER;
        return DB_REFUSED;
    }
    if ((rc = db_query_i64(db, &v, &found, product, "l", c->product_id)) != C_OK)
        return rc;
    if (!found) {
        c->outcome = CART_NO_PRODUCT;
        return DB_REFUSED;
    }
    if ((rc = db_query_i64(db, &v, NULL, count, "ll", c->user_id, c->product_id)) != C_OK)
        return rc;
    if (v >= CART_MAX_LINES) {
        c->outcome = CART_FULL;
        return DB_REFUSED;
    }
    return db_exec(db, upsert, NULL, NULL, "lll", c->user_id, c->product_id, c->quantity);
}

int cart_delete(db_t *db, int64_t user_id, int64_t product_id)
{
    static const char sql[] = "DELETE FROM cart_item WHERE user_id = ? AND product_id = ?";
    return db_exec(db, sql, NULL, NULL, "ll", user_id, product_id);
}

int cart_lock_lines(db_t *db, int64_t user_id, order_req_line_t *lines, int *n)
{
    static const char sql[] = "SELECT product_id, quantity FROM cart_item WHERE user_id = ?"
                              " ORDER BY added_at, product_id FOR UPDATE";
    db_stmt_t *st;
    int64_t pid, qty;
    int rc;

    *n = 0;
    rc = db_query(db, &st, sql, "l", user_id);
    if (rc != C_OK)
        return rc;
    while ((rc = db_row(st, "ll", &pid, &qty)) == DB_ROW) {
        if (*n < CART_MAX_LINES) {
            lines[*n].product_id = pid;
            lines[*n].quantity = qty;
            (*n)++;
        }
    }
    db_end(st);
    return rc < 0 ? rc : C_OK;
}

int cart_clear(db_t *db, int64_t user_id)
{
    static const char sql[] = "DELETE FROM cart_item WHERE user_id = ?";
    return db_exec(db, sql, NULL, NULL, "l", user_id);
}
