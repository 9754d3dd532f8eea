#include "store/users.h"

#include "common/rc.h"

int users_create_tx(db_t *db, struct users_create *u)
{
    static const char ins_user[] = "INSERT INTO users (name) VALUES (?)";
    static const char ins_point[] = "INSERT INTO point (user_id, balance) VALUES (?, 0)";
    uint64_t id = 0;
    int rc = db_exec(db, ins_user, NULL, &id, "s", u->name);

    if (rc != C_OK)
        return rc;
    u->id = (int64_t)id;
    return db_exec(db, ins_point, NULL, NULL, "l", u->id);
}

int users_exists(db_t *db, int64_t id, int *found)
{
    static const char sql[] = "SELECT id FROM users WHERE id = ?";
    int64_t got;
    return db_query_i64(db, &got, found, sql, "l", id);
}
