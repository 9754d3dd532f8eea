#include "store/popular.h"

#include <string.h>

#include "common/rc.h"

int popular_build_tx(db_t *db, struct popular_build *b)
{
    static const char lock[] = "SELECT COALESCE(snapshot_id, 0) FROM popular_current"
                               " WHERE id = 1 FOR UPDATE";
    static const char rank[] =
        "SELECT oi.product_id, SUM(oi.quantity) AS sold FROM orders o"
        " JOIN order_item oi ON oi.order_id = o.id"
        " WHERE o.created_at >= ? AND o.created_at < ? AND o.status = 'PAID'"
        " GROUP BY oi.product_id ORDER BY sold DESC, oi.product_id ASC LIMIT 5";
    static const char ins_snap[] =
        "INSERT INTO popular_snapshot (as_of, from_day, to_day, days, computed_at)"
        " VALUES (?, ?, ?, ?, NOW(3))";
    static const char ins_item[] = "INSERT INTO popular_item (snapshot_id, `rank`, product_id,"
                                   " sold_quantity) VALUES (?, ?, ?, ?)";
    static const char point[] = "UPDATE popular_current SET snapshot_id = ? WHERE id = 1";
    static const char prune_items[] = "DELETE FROM popular_item WHERE snapshot_id < ? - 7";
    static const char prune_snaps[] = "DELETE FROM popular_snapshot WHERE id < ? - 7";
    db_stmt_t *st;
    int64_t current = 0;
    uint64_t id = 0;
    int rc;

    b->n = 0;
    int found = 0;
    if ((rc = db_query_i64(db, &current, &found, lock, "")) != C_OK)
        return rc;
    if (!found)
        return C_ERR; /* the schema inserts the row */
    if ((rc = db_query(db, &st, rank, "ss", b->start_utc, b->end_utc)) != C_OK)
        return rc;
    while (b->n < POPULAR_TOP &&
           (rc = db_row(st, "ll", &b->product_id[b->n], &b->sold[b->n])) == DB_ROW)
        b->n++;
    db_end(st);
    if (rc < 0)
        return rc;
    rc = db_exec(db, ins_snap, NULL, &id, "sssl", b->as_of, b->from_day, b->to_day,
                 (int64_t)POPULAR_DAYS);
    if (rc != C_OK)
        return rc;
    b->snapshot_id = (int64_t)id;
    for (int i = 0; i < b->n; i++)
        if ((rc = db_exec(db, ins_item, NULL, NULL, "llll", b->snapshot_id, (int64_t)i + 1,
                          b->product_id[i], b->sold[i])) != C_OK)
            return rc;
    if ((rc = db_exec(db, point, NULL, NULL, "l", b->snapshot_id)) != C_OK ||
        (rc = db_exec(db, prune_items, NULL, NULL, "l", b->snapshot_id)) != C_OK ||
        (rc = db_exec(db, prune_snaps, NULL, NULL, "l", b->snapshot_id)) != C_OK)
        return rc;
    return C_OK;
}

int popular_read(db_t *db, popular_view_t *v)
{
    static const char sql[] =
        "SELECT s.from_day, s.to_day, s.days, s.computed_at, COALESCE(i.`rank`, 0),"
        " COALESCE(i.product_id, 0), COALESCE(p.name, ''), COALESCE(p.price, 0),"
        " COALESCE(inv.stock, 0), COALESCE(i.sold_quantity, 0)"
        " FROM popular_current c JOIN popular_snapshot s ON s.id = c.snapshot_id"
        " LEFT JOIN popular_item i ON i.snapshot_id = s.id"
        " LEFT JOIN product p ON p.id = i.product_id"
        " LEFT JOIN inventory inv ON inv.product_id = i.product_id"
        " WHERE c.id = 1 ORDER BY i.`rank`";
    db_stmt_t *st;
    popular_entry_t e;
    int64_t rank;
    int rc;

    memset(v, 0, sizeof(*v));
    if ((rc = db_query(db, &st, sql, "")) != C_OK)
        return rc;
    while ((rc = db_row(st, "ddltllslll", v->from_day, v->to_day, &v->days, v->computed_at, &rank,
                        &e.product.id, e.product.name, sizeof(e.product.name), &e.product.price,
                        &e.product.stock, &e.sold)) == DB_ROW) {
        v->found = 1;
        if (rank > 0 && v->n < POPULAR_TOP) {
            e.rank = (int)rank;
            v->items[v->n++] = e;
        }
    }
    db_end(st);
    return rc < 0 ? rc : C_OK;
}

int popular_last_success(db_t *db, double *unix_s)
{
    static const char sql[] =
        "SELECT COALESCE(FLOOR(UNIX_TIMESTAMP(s.computed_at) * 1000), 0) FROM popular_current c"
        " LEFT JOIN popular_snapshot s ON s.id = c.snapshot_id WHERE c.id = 1";
    int64_t ms = 0;
    int rc = db_query_i64(db, &ms, NULL, sql, "");
    *unix_s = (double)ms / 1000;
    return rc;
}
