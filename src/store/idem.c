#include "store/idem.h"

#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "common/util.h"

int idem_store(db_t *db, const struct idem *ik, int status, const char *body, size_t len)
{
    static const char sql[] = "INSERT INTO idempotency_key (user_id, idem_key, request,"
                              " status_code, response) VALUES (?, ?, ?, ?, ?)";
    return db_exec(db, sql, NULL, NULL, "lsblb", ik->user_id, ik->key, ik->request, ik->request_len,
                   (int64_t)status, body, len);
}

int idem_lookup(db_t *db, struct idem *ik)
{
    static const char sql[] = "SELECT request, status_code, response FROM idempotency_key"
                              " WHERE user_id = ? AND idem_key = ? LOCK IN SHARE MODE";
    db_stmt_t *st;
    char *req = NULL;
    int64_t status = 0;
    int rc;

    free(ik->response);
    ik->response = NULL;
    ik->state = IDEM_NEW;
    if ((rc = db_query(db, &st, sql, "ls", ik->user_id, ik->key)) != C_OK)
        return rc;
    rc = db_row(st, "mlm", &req, &status, &ik->response);
    db_end(st);
    if (rc != DB_ROW) {
        free(req);
        return rc; /* DB_END: no such key (C_OK), or the failure */
    }
    if (!req || strlen(req) != ik->request_len || memcmp(req, ik->request, ik->request_len) != 0)
        ik->state = IDEM_MISMATCH;
    else
        ik->state = IDEM_REPLAY;
    free(req);
    ik->status = (int)status;
    ik->response_len = ik->response ? strlen(ik->response) : 0;
    return C_OK;
}

void idem_new_marker(char out[IDEM_MARKER_LEN])
{
    out[0] = '~';
    util_uuid(out + 1);
}

int idem_barrier(db_t *db)
{
    char key[IDEM_MARKER_LEN];
    struct idem ik = {.user_id = 0, .key = key, .request = "", .request_len = 0};

    idem_new_marker(key);
    return idem_store(db, &ik, 0, "", 0);
}

int idem_exists(db_t *db, int64_t user_id, const char *key, int *found)
{
    static const char sql[] = "SELECT 1 FROM idempotency_key WHERE user_id = ? AND idem_key = ?";
    int64_t one;
    return db_query_i64(db, &one, found, sql, "ls", user_id, key);
}

int idem_purge(db_t *db, int64_t hours, int64_t batch, int *count)
{
    static const char sql[] = "DELETE FROM idempotency_key"
                              " WHERE created_at < NOW(3) - INTERVAL ? HOUR LIMIT ?";
    return db_exec_count(db, sql, count, "ll", hours, batch);
}
