#include "store/idem.h"

#include <stdlib.h>
#include <string.h>

#include "common/rc.h"

int idem_begin(db_t *db, struct idem *ik)
{
    static const char ins[] = "INSERT INTO idempotency_key (user_id, idem_key, request,"
                              " status_code, response) VALUES (?, ?, ?, 0, '')";
    static const char sel[] = "SELECT request, status_code, response FROM idempotency_key"
                              " WHERE user_id = ? AND idem_key = ? LOCK IN SHARE MODE";
    db_stmt_t *st;
    char *req = NULL;
    int64_t status = 0;
    int rc;

    free(ik->response);
    ik->response = NULL;
    ik->state = IDEM_NEW;
    if (!ik->key)
        return C_OK;
    rc = db_exec(db, ins, NULL, NULL, "lsb", ik->user_id, ik->key, ik->request, ik->request_len);
    if (rc == C_RETRY && db_last_lock_wait(db)) {
        /* Waited a whole lock wait for the first request: do not queue up
         * behind it again. */
        ik->state = IDEM_IN_USE;
        return C_REJECT;
    }
    if (rc == C_RETRY)
        return rc; /* a deadlock among waiters after the holder rolled back: run again */
    if (rc != C_DUP)
        return rc;
    rc = db_query(db, &st, sel, "ls", ik->user_id, ik->key);
    if (rc != C_OK)
        return rc;
    rc = db_row(st, "mlm", &req, &status, &ik->response);
    db_end(st);
    if (rc < 0) {
        free(req);
        return rc;
    }
    if (rc == 0) {
        /* The holder rolled back between our insert and this read. */
        free(req);
        return C_RETRY;
    }
    if (!req || strlen(req) != ik->request_len || memcmp(req, ik->request, ik->request_len) != 0)
        ik->state = IDEM_MISMATCH;
    else if (status == 0)
        ik->state = IDEM_IN_USE;
    else
        ik->state = IDEM_REPLAY;
    free(req);
    ik->status = (int)status;
    ik->response_len = ik->response ? strlen(ik->response) : 0;
    return C_REJECT;
}

int idem_finish(db_t *db, const struct idem *ik, int status, const char *body, size_t len)
{
    static const char sql[] = "UPDATE idempotency_key SET status_code = ?, response = ?"
                              " WHERE user_id = ? AND idem_key = ?";
    if (!ik->key)
        return C_OK;
    return db_exec(db, sql, NULL, NULL, "lbls", (int64_t)status, body, len, ik->user_id, ik->key);
}

int idem_purge(db_t *db, int64_t hours, int64_t batch)
{
    static const char sql[] = "DELETE FROM idempotency_key"
                              " WHERE created_at < NOW(3) - INTERVAL ? HOUR LIMIT ?";
    uint64_t n = 0;
    int rc = db_exec(db, sql, &n, NULL, "ll", hours, batch);
    return rc == C_OK ? (int)n : rc;
}
