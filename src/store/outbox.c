#include "store/outbox.h"

#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "common/util.h"

int outbox_add(db_t *db, const char *type, int64_t order_id, const char *payload, size_t len,
               const char *occurred_sql, char *event_id)
{
    static const char sql[] =
        "INSERT INTO outbox (event_id, type, order_id, payload, occurred_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?)";
    char id[37];

    util_uuid(id);
    if (event_id)
        memcpy(event_id, id, sizeof(id));
    return db_exec(db, sql, NULL, NULL, "sslbss", id, type, order_id, payload, len, occurred_sql,
                   occurred_sql);
}

/* Up to ID_CHUNK ids a statement, in the arities db_ids_arity gives (8 of them: 1..128). */
#define ID_CHUNK 128
#define ARITIES 8

static int arity_slot(int arity)
{
    int i = 0;
    while ((1 << i) < arity)
        i++;
    return i;
}

/* UPDATE outbox SET <set> WHERE id IN (ids) <where>: `before` parameters
 * first (for SET), the ids, then `after` (for WHERE); ids in chunks of
 * ID_CHUNK, each chunk's list padded to its arity by repeating its last id.
 * sql[ARITIES] is the caller's statement cache (built once per arity). */
static int update_ids(db_t *db, char (*sql)[1024], const char *set, const char *where,
                      const db_param_t *before, int nbefore, const int64_t *ids, int n,
                      const db_param_t *after, int nafter)
{
    for (int from = 0; from < n; from += ID_CHUNK) {
        int rows = n - from < ID_CHUNK ? n - from : ID_CHUNK, arity = db_ids_arity(rows), np = 0;
        db_param_t params[ID_CHUNK + 4];
        char *text = sql[arity_slot(arity)];

        if (!text[0]) {
            char head[512];
            snprintf(head, sizeof(head), "UPDATE outbox SET %s WHERE id IN ", set);
            db_in_list_sql(text, sizeof(sql[0]), head, arity, where);
        }
        for (int i = 0; i < nbefore; i++)
            params[np++] = before[i];
        for (int i = 0; i < arity; i++)
            params[np++] = DB_I64(ids[from + (i < rows ? i : rows - 1)]);
        for (int i = 0; i < nafter; i++)
            params[np++] = after[i];
        int rc = db_exec_params(db, text, NULL, NULL, params, np);
        if (rc != C_OK)
            return rc;
    }
    return C_OK;
}

int outbox_event_exists(db_t *db, const char *event_id, int *found)
{
    static const char sql[] = "SELECT 1 FROM outbox WHERE event_id = ?";
    int64_t one;
    return db_query_i64(db, &one, found, sql, "s", event_id);
}

void outbox_events_free(outbox_event_t *ev, int n)
{
    for (int i = 0; i < n; i++) {
        free(ev[i].payload);
        ev[i].payload = NULL;
    }
}

struct claim {
    const char *by;
    int64_t *ids; /* scratch, max of them */
    int max;
    int64_t lease_ms;
    outbox_event_t *out;
    int n;
};

static int claim_tx(db_t *db, void *arg)
{
    static const char sel[] =
        "SELECT id, event_id, type, order_id, payload, occurred_at, attempts FROM outbox"
        " WHERE status = 'PENDING' AND next_attempt_at <= NOW(3)"
        " ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED";
    static const char until[] = "SELECT NOW(3) + INTERVAL ? * 1000 MICROSECOND";
    static char lease[ARITIES][1024];
    struct claim *c = arg;
    db_time_t token;
    int64_t *ids = c->ids;
    db_stmt_t *st;
    int rc;

    outbox_events_free(c->out, c->n);
    c->n = 0;
    if ((rc = db_query(db, &st, sel, "l", (int64_t)c->max)) != C_OK)
        return rc;
    while (c->n < c->max) {
        outbox_event_t *e = &c->out[c->n];
        rc = db_row(st, "lsslmtl", &e->id, e->event_id, sizeof(e->event_id), e->type,
                    sizeof(e->type), &e->order_id, &e->payload, e->occurred_at, &e->attempts);
        if (rc != DB_ROW)
            break;
        c->n++;
    }
    db_end(st);
    if (rc < 0 || c->n == 0)
        return rc < 0 ? rc : C_OK;
    /* One lease time for the batch, which is also the claim's token: a later
     * claim of these rows can only come after it, so it sets another. */
    if ((rc = db_query(db, &st, until, "l", c->lease_ms)) != C_OK)
        return rc;
    rc = db_row(st, "T", &token);
    db_end(st);
    if (rc != DB_ROW)
        return rc < 0 ? rc : C_ERR;
    for (int i = 0; i < c->n; i++) {
        ids[i] = c->out[i].id;
        memcpy(c->out[i].lease, token.sql, sizeof(c->out[i].lease));
    }
    db_param_t set[2] = {DB_STR(token.sql), DB_STR(c->by)};
    return update_ids(db, lease, "next_attempt_at = ?, claimed_by = ?", "", set, 2, ids, c->n, NULL,
                      0);
}

int outbox_claim(db_t *db, const char *by, int max, int64_t lease_ms, outbox_event_t *out,
                 int *count)
{
    struct claim c = {by, malloc(sizeof(int64_t) * (size_t)(max > 0 ? max : 1)), max, lease_ms, out,
                      0};
    int rc = c.ids ? db_tx(db, claim_tx, &c) : C_ERR;

    free(c.ids);
    if (rc != C_OK) {
        outbox_events_free(out, c.n);
        return rc;
    }
    *count = c.n;
    return C_OK;
}

#define CLAIM_HOLDS " WHERE id = ? AND status = 'PENDING' AND next_attempt_at = ?"

int outbox_delivered_many(db_t *db, const char *lease, const int64_t *ids, int n)
{
    static char sql[ARITIES][1024];
    db_param_t where[1] = {DB_STR(lease)};
    return update_ids(db, sql,
                      "status = 'DELIVERED', attempts = attempts + 1, delivered_at = NOW(3),"
                      " last_error = NULL, claimed_by = NULL, platform_failed = 0",
                      " AND status = 'PENDING' AND next_attempt_at = ?", NULL, 0, ids, n, where, 1);
}

int outbox_release_many(db_t *db, const char *lease, const int64_t *ids, int n)
{
    static char sql[ARITIES][1024];
    db_param_t where[1] = {DB_STR(lease)};
    return update_ids(db, sql, "next_attempt_at = NOW(3), claimed_by = NULL",
                      " AND status = 'PENDING' AND next_attempt_at = ?", NULL, 0, ids, n, where, 1);
}

int outbox_attempt_failed(db_t *db, const outbox_event_t *e, int64_t delay_ms, int64_t max_attempts,
                          const char *error, bool platform)
{
    static const char sql[] =
        "UPDATE outbox SET status = IF(attempts + 1 >= ?, 'FAILED', 'PENDING'),"
        " attempts = attempts + 1,"
        " next_attempt_at = NOW(3) + INTERVAL ? * 1000 MICROSECOND,"
        " last_error = LEFT(?, 500), claimed_by = NULL, platform_failed = ?" CLAIM_HOLDS;
    return db_exec(db, sql, NULL, NULL, "llslls", max_attempts, delay_ms, error, (int64_t)platform,
                   e->id, e->lease);
}

int outbox_release_claims(db_t *db, const char *by, uint64_t *n)
{
    static const char sql[] = "UPDATE outbox SET next_attempt_at = NOW(3), claimed_by = NULL"
                              " WHERE status = 'PENDING' AND claimed_by = ?";
    return db_exec(db, sql, n, NULL, "s", by);
}

int outbox_platform_back(db_t *db, uint64_t *n)
{
    static const char sql[] =
        "UPDATE outbox SET next_attempt_at = NOW(3), platform_failed = 0"
        " WHERE status = 'PENDING' AND next_attempt_at > NOW(3) AND platform_failed = 1"
        " AND claimed_by IS NULL";
    return db_exec(db, sql, n, NULL, "");
}

int outbox_stats(db_t *db, outbox_stats_t *s)
{
    /* Each count is a range of the (status, next_attempt_at) index; delivered
     * rows are kept only relay_retention_hours, so none of them grows without
     * bound. */
    static const char sql[] =
        "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'PENDING'),"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'PENDING' AND next_attempt_at <= NOW(3)),"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'FAILED'),"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'DELIVERED'),"
        " (SELECT MIN(occurred_at) FROM outbox WHERE status = 'PENDING')";
    db_stmt_t *st;
    int rc = db_query(db, &st, sql, "");

    if (rc != C_OK)
        return rc;
    rc = db_row(st, "llllt", &s->pending, &s->due, &s->failed, &s->delivered, s->oldest_pending);
    db_end(st);
    return rc < 0 ? rc : C_OK;
}

int outbox_gauges(db_t *db, outbox_gauges_t *g)
{
    static const char sql[] =
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM outbox"
        "  WHERE status = 'PENDING' AND next_attempt_at <= NOW(3) LIMIT 100000) t),"
        " (SELECT COUNT(*) FROM (SELECT 1 FROM outbox"
        "  WHERE status = 'PENDING' AND next_attempt_at > NOW(3) LIMIT 100000) t),"
        " (SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE status = 'FAILED' LIMIT 100000) t),"
        " COALESCE((SELECT TIMESTAMPDIFF(MICROSECOND, MIN(occurred_at), NOW(3)) FROM"
        "  (SELECT occurred_at FROM outbox WHERE status = 'PENDING'"
        "   ORDER BY next_attempt_at LIMIT 1000) o), -1000000)";
    _Static_assert(OUTBOX_GAUGE_CAP == 100000 && OUTBOX_GAUGE_OLDEST == 1000,
                   "the limits are spelled out in the SQL");
    int64_t age_us = -1;
    db_stmt_t *st;
    int rc = db_query(db, &st, sql, "");

    if (rc != C_OK)
        return rc;
    rc = db_row(st, "llll", &g->due, &g->waiting, &g->failed, &age_us);
    db_end(st);
    g->oldest_age_s = age_us < 0 ? -1 : (double)age_us / 1e6;
    return rc < 0 ? rc : C_OK;
}

int outbox_failed_list(db_t *db, int64_t after, int64_t limit,
                       void (*each)(void *arg, const outbox_event_t *e, const char *error),
                       void *arg, int *count)
{
    static const char sql[] =
        "SELECT id, event_id, type, order_id, occurred_at, attempts, COALESCE(last_error, '')"
        " FROM outbox WHERE status = 'FAILED' AND id > ? ORDER BY id LIMIT ?";
    db_stmt_t *st;
    outbox_event_t e;
    char err[512];
    int rc, n = 0;

    memset(&e, 0, sizeof(e));
    if ((rc = db_query(db, &st, sql, "ll", after, limit)) != C_OK)
        return rc;
    while (
        (rc = db_row(st, "lssltls", &e.id, e.event_id, sizeof(e.event_id), e.type, sizeof(e.type),
                     &e.order_id, e.occurred_at, &e.attempts, err, sizeof(err))) == DB_ROW) {
        each(arg, &e, err);
        n++;
    }
    db_end(st);
    if (count)
        *count = n;
    return rc < 0 ? rc : C_OK;
}

int outbox_replay(db_t *db, const char *event_id, int *count)
{
    static const char one[] = "UPDATE outbox SET status = 'PENDING', attempts = 0,"
                              " next_attempt_at = NOW(3) WHERE status = 'FAILED' AND event_id = ?";
    static const char all[] = "UPDATE outbox SET status = 'PENDING', attempts = 0,"
                              " next_attempt_at = NOW(3) WHERE status = 'FAILED'";
    return event_id ? db_exec_count(db, one, count, "s", event_id)
                    : db_exec_count(db, all, count, "");
}

int outbox_purge_delivered(db_t *db, int64_t hours, int64_t batch, int *count)
{
    static const char sql[] = "DELETE FROM outbox WHERE status = 'DELIVERED'"
                              " AND delivered_at < NOW(3) - INTERVAL ? HOUR LIMIT ?";
    return db_exec_count(db, sql, count, "ll", hours, batch);
}

int outbox_of_order(db_t *db, int64_t order_id, outbox_order_event_t *out, int max, int *count)
{
    static const char sql[] =
        "SELECT event_id, type,"
        " CASE WHEN status <> 'PENDING' THEN status"
        "  WHEN claimed_by IS NULL AND next_attempt_at > NOW(3) THEN 'IN_BACKOFF'"
        "  ELSE 'PENDING' END,"
        " attempts, COALESCE(last_error, ''), occurred_at,"
        " IF(status = 'PENDING', next_attempt_at, NULL), delivered_at, COALESCE(claimed_by, '')"
        " FROM outbox WHERE order_id = ? ORDER BY id";
    db_stmt_t *st;
    int rc, n = 0;

    if ((rc = db_query(db, &st, sql, "l", order_id)) != C_OK)
        return rc;
    for (;;) {
        outbox_order_event_t *e = &out[n < max ? n : max - 1];
        rc = db_row(st, "ssslsttts", e->event_id, sizeof(e->event_id), e->type, sizeof(e->type),
                    e->state, sizeof(e->state), &e->attempts, e->last_error, sizeof(e->last_error),
                    e->occurred_at, e->next_attempt_at, e->delivered_at, e->claimed_by,
                    sizeof(e->claimed_by));
        if (rc != DB_ROW)
            break;
        if (n < max)
            n++;
    }
    db_end(st);
    *count = n;
    return rc < 0 ? rc : C_OK;
}
