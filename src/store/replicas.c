#include "store/replicas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rc.h"
#include "common/util.h"

struct replica {
    db_t *db;
    int64_t checked_ms;    /* when the lag was last read (monotonic) */
    int64_t lag_ms;        /* as then read; INT64_MAX when unknown */
    int64_t down_until_ms; /* left alone until then */
    log_streak_t failing;  /* reads it failed in a row: logged once, then summed up */
};

struct replicas {
    const config_t *cfg;
    struct replica r[REPLICAS_MAX];
    int n, next;
};

static int64_t now_ms(void) { return util_mono_us() / 1000; }

/* Split a comma-separated list; calls add(item) per non-empty item. */
static void each_item(const char *list, replicas_t *rs, void (*add)(replicas_t *, const char *))
{
    char buf[512], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (rs->n < REPLICAS_MAX)
            add(rs, t);
}

static void add_socket(replicas_t *rs, const char *sock)
{
    const config_t *c = rs->cfg;
    db_t *db = db_new_to(c, sock, NULL, 0, c->db_replica_user, c->db_replica_password);
    if (db)
        rs->r[rs->n++] = (struct replica){.db = db, .lag_ms = INT64_MAX};
}

static void add_host(replicas_t *rs, const char *hostport)
{
    const config_t *c = rs->cfg;
    char host[256];
    int64_t port = 3306;
    const char *colon = strrchr(hostport, ':');

    snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - hostport) : (int)strlen(hostport),
             hostport);
    if (colon && util_parse_i64(colon + 1, &port) != C_OK)
        port = 3306;
    db_t *db = db_new_to(c, NULL, host, (unsigned)port, c->db_replica_user, c->db_replica_password);
    if (db)
        rs->r[rs->n++] = (struct replica){.db = db, .lag_ms = INT64_MAX};
}

replicas_t *replicas_new(const config_t *cfg)
{
    replicas_t *rs;

    if (!cfg->db_replica_sockets[0] && !cfg->db_replica_hosts[0])
        return NULL;
    if (!(rs = calloc(1, sizeof(*rs))))
        return NULL;
    rs->cfg = cfg;
    each_item(cfg->db_replica_sockets, rs, add_socket);
    each_item(cfg->db_replica_hosts, rs, add_host);
    if (rs->n == 0) {
        free(rs);
        return NULL;
    }
    log_info("catalog reads may go to %d replica(s) at most %lld ms behind", rs->n,
             (long long)cfg->replica_max_lag_ms);
    return rs;
}

void replicas_free(replicas_t *rs)
{
    if (!rs)
        return;
    for (int i = 0; i < rs->n; i++)
        db_free(rs->r[i].db);
    free(rs);
}

/* Read how far behind the replica is; C_OK, or the connection's failure. */
static int read_lag(struct replica *rep, int64_t now)
{
    static const char sql[] = "SELECT TIMESTAMPDIFF(MICROSECOND, at, NOW(6)) DIV 1000"
                              " FROM commerce_heartbeat WHERE id = 1";
    int64_t lag = 0;
    int found = 0;
    int rc = db_query_i64(rep->db, &lag, &found, sql, "");

    if (rc != C_OK)
        return rc;
    rep->checked_ms = now;
    rep->lag_ms = found ? lag : INT64_MAX; /* no heartbeat yet: not fit */
    return C_OK;
}

db_t *replicas_pick(replicas_t *rs, enum replica_miss *miss)
{
    int64_t now = now_ms();

    *miss = REPLICA_DOWN;
    for (int k = 0; k < rs->n; k++) {
        int i = (rs->next + k) % rs->n;
        struct replica *rep = &rs->r[i];
        if (now < rep->down_until_ms)
            continue;
        if (now - rep->checked_ms >= REPLICAS_CHECK_MS && read_lag(rep, now) != C_OK) {
            rep->down_until_ms = now + REPLICAS_DOWN_MS;
            continue;
        }
        if (rep->lag_ms > rs->cfg->replica_max_lag_ms) {
            *miss = REPLICA_LAGGING;
            continue;
        }
        rs->next = i + 1;
        *miss = REPLICA_HIT;
        log_streak_ok(&rep->failing, "db: reads from a replica");
        return rep->db;
    }
    return NULL;
}

/* Rpl_semi_sync_master_no_tx while Rpl_semi_sync_master_status is ON and
 * rpl_semi_sync_master_wait_no_slave is ON; -1 otherwise (or when semi-sync
 * is not loaded). Without wait_no_slave the primary turns semi-sync OFF the
 * moment its last replica disconnects, not a timeout later, and the window
 * commerce-failover(8) opens at an acknowledged beat would not hold: no beat
 * is then taken as acknowledged. */
static const char no_tx_sql[] =
    "SELECT IF(@@GLOBAL.rpl_semi_sync_master_wait_no_slave, COALESCE(IF(MAX(IF(VARIABLE_NAME ="
    " 'RPL_SEMI_SYNC_MASTER_STATUS', VARIABLE_VALUE = 'ON', 0)), MAX(IF(VARIABLE_NAME ="
    " 'RPL_SEMI_SYNC_MASTER_NO_TX', CAST(VARIABLE_VALUE AS INT), NULL)), -1), -1), -1)"
    " FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN"
    " ('RPL_SEMI_SYNC_MASTER_STATUS', 'RPL_SEMI_SYNC_MASTER_NO_TX')";

static int semi_sync_no_tx(db_t *primary, int64_t *no_tx)
{
    return db_query_i64(primary, no_tx, NULL, no_tx_sql, "");
}

int replicas_beat(db_t *primary)
{
    /* The beat's time is taken first: the state is read after it, and the
     * commit comes after both (commerce-failover(8) relies on that order).
     * acked_beat_at is the last beat of this session whose commit a replica
     * is known to have acknowledged: semi-sync ON before and after it and
     * no commit unacknowledged in between (another session's included:
     * conservative). Session variables: a new connection (perhaps to
     * another server) starts again from NULL. */
    static const char at[] = "SET @commerce_beat_at = NOW(6)";
    static const char sql[] =
        "UPDATE commerce_heartbeat SET at = COALESCE(@commerce_beat_at, NOW(6)),"
        " semi_sync_at = COALESCE(@commerce_beat_at, NOW(6)),"
        " semi_sync = (SELECT VARIABLE_VALUE = 'ON' FROM information_schema.GLOBAL_STATUS"
        " WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS'),"
        " semi_sync_clients = (SELECT CAST(VARIABLE_VALUE AS INT)"
        " FROM information_schema.GLOBAL_STATUS"
        " WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS'),"
        " semi_sync_timeout_ms = @@GLOBAL.rpl_semi_sync_master_timeout,"
        " acked_beat_at = @commerce_acked_at WHERE id = 1";
    static const char acked[] = "SET @commerce_acked_at = @commerce_beat_at";
    int64_t before = -1, after = -1;
    int rc;

    if ((rc = db_exec(primary, at, NULL, NULL, "")) != C_OK ||
        (rc = semi_sync_no_tx(primary, &before)) != C_OK ||
        (rc = db_exec(primary, sql, NULL, NULL, "")) != C_OK ||
        (rc = semi_sync_no_tx(primary, &after)) != C_OK)
        return rc;
    if (before >= 0 && after == before)
        return db_exec(primary, acked, NULL, NULL, "");
    return C_OK;
}

void replicas_failed(replicas_t *rs, db_t *db)
{
    for (int i = 0; i < rs->n; i++)
        if (rs->r[i].db == db) {
            rs->r[i].down_until_ms = now_ms() + REPLICAS_DOWN_MS;
            log_streak_fail(&rs->r[i].failing,
                            "db: replica %s failed a read; reading from the primary for %d ms",
                            db_where(db), REPLICAS_DOWN_MS);
        }
}
