#include "store/db.h"

#include <errno.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/rc.h"
#include "common/util.h"

#define MAX_COLS 32
#define CACHE_SIZE 128

struct db_stmt {
    char *sql; /* its text (a copy): the cache's key, with hash */
    uint64_t hash;
    MYSQL_STMT *st;
    db_t *db;
    uint64_t used; /* the db's tick when last asked for: least recently used goes first */
    bool open;     /* a result is buffered that a caller still reads (until db_end) */
};

struct db {
    const config_t *cfg;
    /* where and as whom: the configuration's db_* keys, or a replica's */
    char socket[256], host[256];
    unsigned port;
    const char *user, *password;
    const char *isolation;
    unsigned rw_timeout; /* s a read or write on the connection may take */
    MYSQL *my;
    int in_tx;
    int pending_begin; /* in db_tx, START TRANSACTION not sent yet */
    int committing;    /* a commit is under way: a lost connection leaves the outcome unknown */
    unsigned long committer; /* the server's id of the connection that was committing */
    int64_t commit_ms;       /* when it began to (monotonic) */
    /* The server this connection reached: its server_id and when it started
     * (Unix s), read at connect; a commit's server, kept with the commit. */
    int64_t server_id, server_started, committer_server_id, committer_started;
    int tx_committed;     /* a statement committed db_tx's transaction */
    log_streak_t down;    /* connections refused in a row: logged once, then summed up */
    log_streak_t refused; /* writes refused in a row (read-only): the same */
    /* replication_policy = durability: a write transaction reads the semi-sync state
     * before it begins and Rpl_semi_sync_master_no_tx again after its COMMIT */
    bool durable;
    bool semi_checked;        /* this attempt read the state before it began */
    int64_t no_tx;            /* Rpl_semi_sync_master_no_tx then */
    db_barrier_fn barrier;    /* db_set_barrier: NULL, none */
    int nopen;                /* results handed out and not yet ended (db_end) */
    unsigned last_errno;      /* of the last failed statement */
    db_connect_fn on_connect; /* run after each connect (db_on_connect) */
    void *on_connect_arg;
    int connecting; /* on_connect runs: its statements use the new connection */
    struct db_stmt cache[CACHE_SIZE];
    int ncache;
    uint64_t tick;
    /* parameter binding scratch: one statement at a time per connection */
    MYSQL_BIND bind[DB_MAX_PARAMS];
    unsigned long lens[DB_MAX_PARAMS];
    my_bool nulls[DB_MAX_PARAMS];
    int64_t ints[DB_MAX_PARAMS];
};

db_t *db_new(const config_t *cfg)
{
    return db_new_to(cfg, cfg->db_socket, cfg->db_host, (unsigned)cfg->db_port, cfg->db_user,
                     cfg->db_password);
}

db_t *db_new_to(const config_t *cfg, const char *socket, const char *host, unsigned port,
                const char *user, const char *password)
{
    db_t *db = calloc(1, sizeof(*db));
    if (db) {
        db->cfg = cfg;
        db->isolation = "REPEATABLE READ";
        db->rw_timeout = 30;
        snprintf(db->socket, sizeof(db->socket), "%s", socket ? socket : "");
        snprintf(db->host, sizeof(db->host), "%s", host ? host : "");
        db->port = port ? port : 3306;
        db->user = user;
        db->password = password;
    }
    return db;
}

const char *db_where(const db_t *db) { return db->socket[0] ? db->socket : db->host; }

void db_set_durable(db_t *db, bool on) { db->durable = on; }

void db_set_barrier(db_t *db, db_barrier_fn fn) { db->barrier = fn; }

void db_set_isolation(db_t *db, const char *level) { db->isolation = level; }

void db_set_timeout(db_t *db, unsigned seconds) { db->rw_timeout = seconds; }

static void db_disconnect(db_t *db)
{
    for (int i = 0; i < db->ncache; i++) {
        mysql_stmt_close(db->cache[i].st);
        db->cache[i].st = NULL; /* a db_stmt_t still held by a caller goes inert */
        free(db->cache[i].sql);
        db->cache[i].sql = NULL;
    }
    db->ncache = 0;
    if (db->my)
        mysql_close(db->my);
    db->my = NULL;
}

void db_free(db_t *db)
{
    if (!db)
        return;
    db_disconnect(db);
    free(db);
}

/* What an error number means, as an rc.h code. */
static int kind_of(unsigned err)
{
    switch (err) {
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_CHECKREAD:
    case 45063: /* commerce_order_write: the order id was taken (the sequence moved on) */
        return C_RETRY;
    case ER_DUP_ENTRY:
    case 45062: /* commerce_order_write: the Idempotency-Key is taken */
        return C_DUP;
    case 45025: /* commerce_order_write: out of stock */
        return C_SHORT;
    case 45503: /* commerce_order_facts, durability: no replica acknowledges */
    case ER_OPTION_PREVENTS_STATEMENT: /* 1290: read_only (a server not opened, or fenced) */
        return C_READONLY;
    case 45504: /* commerce_order_write, durability: committed, not acknowledged in time */
        return C_UNACKED;
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */
        return C_DOWN;
    default:
        return C_ERR;
    }
}

/* kind_of(err), logged; a lost connection is closed (the next call reopens it). */
static int classify(db_t *db, unsigned err, const char *what, const char *msg)
{
    int rc = kind_of(err);

    db->last_errno = err;
    if (rc == C_RETRY)
        log_debug("db: %s: transient %u: %s", what, err, msg);
    else if (rc == C_SHORT)
        log_debug("db: %s: %s", what, msg);
    else if (rc == C_DOWN) {
        log_warn("db: %s: connection lost (%u: %s)", what, err, msg);
        db_disconnect(db);
    } else if (rc == C_READONLY && err == ER_OPTION_PREVENTS_STATEMENT) {
        log_streak_fail(&db->refused, "db: %s takes no writes: %s", db_where(db), msg);
        /* a new connection may reach another server: the stable name may have moved to
         * the promoted one while this connection stayed on the fenced one */
        db_disconnect(db);
    } else if (rc == C_READONLY)
        log_streak_fail(&db->refused,
                        "db: %s: no replica acknowledges commits: writes refused"
                        " (replication_policy=durability)",
                        db_where(db));
    else if (rc == C_UNACKED)
        log_streak_fail(&db->refused,
                        "db: %s: a commit no replica acknowledged in time: answered"
                        " as of unknown outcome (replication_policy=durability)",
                        db_where(db));
    else if (rc == C_ERR)
        log_error("db: %s: error %u: %s", what, err, msg);
    return rc;
}

static int my_fail(db_t *db, const char *what)
{
    return classify(db, mysql_errno(db->my), what, mysql_error(db->my));
}

static int stmt_fail(db_t *db, MYSQL_STMT *st, const char *sql)
{
    return classify(db, mysql_stmt_errno(st), sql, mysql_stmt_error(st));
}

/* Which server this connection reached (for learn_outcome): its server_id
 * and when it started. */
static int read_server(db_t *db)
{
    MYSQL_RES *res;
    MYSQL_ROW row;

    if (mysql_query(db->my,
                    "SELECT @@server_id, UNIX_TIMESTAMP() - (SELECT CAST(VARIABLE_VALUE AS INT)"
                    " FROM information_schema.GLOBAL_STATUS"
                    " WHERE VARIABLE_NAME = 'UPTIME')") != 0 ||
        !(res = mysql_store_result(db->my)))
        return my_fail(db, "server identity");
    row = mysql_fetch_row(res);
    db->server_id = row && row[0] ? strtoll(row[0], NULL, 10) : 0;
    db->server_started = row && row[1] ? strtoll(row[1], NULL, 10) : 0;
    mysql_free_result(res);
    return C_OK;
}

int db_ensure(db_t *db)
{
    const config_t *c = db->cfg;
    unsigned int timeout = 2, rw_timeout = db->rw_timeout;

    if (db->my)
        return C_OK;
    /* Never reconnect in the middle of a transaction, nor while a caller still
     * reads a result: its handle must not come to name a statement the new
     * connection prepares in the same cache slot. */
    if (db->in_tx || db->nopen)
        return C_DOWN;
    db->my = mysql_init(NULL);
    if (!db->my)
        return C_ERR;
    mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(db->my, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_options(db->my, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    mysql_options(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db->my, db->socket[0] ? NULL : db->host, db->user, db->password,
                            c->db_name, db->port, db->socket[0] ? db->socket : NULL,
                            CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS)) {
        log_streak_fail(&db->down, "db: cannot connect to %s: %s", db_where(db),
                        mysql_error(db->my));
        mysql_close(db->my);
        db->my = NULL;
        return C_DOWN;
    }
    /* Times are stored and compared in UTC; isolation is pinned whatever the
     * server default is; a row lock is waited for db_lock_wait_timeout_s at
     * most (the server default, 50 s, would outlast nginx's patience). */
    char iso[96], wait[64];
    snprintf(iso, sizeof(iso), "SET SESSION TRANSACTION ISOLATION LEVEL %s", db->isolation);
    snprintf(wait, sizeof(wait), "SET SESSION innodb_lock_wait_timeout = %lld",
             (long long)c->db_lock_wait_timeout_s);
    if (mysql_query(db->my, "SET time_zone = '+00:00'") || mysql_query(db->my, iso) ||
        mysql_query(db->my, wait))
        return my_fail(db, "session setup");
    log_streak_ok(&db->down, "db: reachable");
    if (db->durable) {
        /* the order procedures check the semi-sync state themselves when this is set */
        int64_t enabled = 1;
        MYSQL_RES *res;
        MYSQL_ROW row;
        if (mysql_query(db->my, "SET @commerce_durable = 1") ||
            mysql_query(db->my, "SELECT @@GLOBAL.rpl_semi_sync_master_enabled") ||
            !(res = mysql_store_result(db->my)))
            return my_fail(db, "session setup");
        if ((row = mysql_fetch_row(res)) && row[0])
            enabled = strtoll(row[0], NULL, 10);
        mysql_free_result(res);
        static bool said;
        if (!enabled && !said)
            log_error("db: replication_policy=durability, but %s does not replicate"
                      " semi-synchronously (rpl_semi_sync_master_enabled is OFF): every write"
                      " will be answered 503",
                      db_where(db));
        said = said || !enabled;
    }
    int rc = read_server(db);
    if (rc == C_OK && db->on_connect && !db->connecting) {
        db->connecting = 1;
        rc = db->on_connect(db, db->on_connect_arg);
        db->connecting = 0;
        if (rc != C_OK && db->my) {
            db_disconnect(db);
            rc = C_DOWN;
        }
    }
    return rc;
}

void db_on_connect(db_t *db, db_connect_fn fn, void *arg)
{
    db->on_connect = fn;
    db->on_connect_arg = arg;
}

int db_run(db_t *db, const char *sql, size_t len, db_error_t *err)
{
    int rc = db_ensure(db), status;

    if (err) {
        err->code = 0;
        err->message[0] = '\0';
    }
    if (rc != C_OK)
        return rc;
    status = mysql_real_query(db->my, sql, (unsigned long)len);
    /* every result of the statement (a CALL, a block), read and dropped */
    while (status == 0) {
        MYSQL_RES *res = mysql_store_result(db->my);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(db->my) != 0)
            break;
        status = mysql_next_result(db->my);
        if (status == -1)
            return C_OK;
    }
    unsigned code = mysql_errno(db->my);
    if (err) {
        err->code = code;
        snprintf(err->message, sizeof(err->message), "%s", mysql_error(db->my));
    }
    rc = kind_of(code);
    if (rc == C_DOWN)
        db_disconnect(db);
    return rc == C_RETRY || rc == C_DOWN ? rc : C_ERR;
}

int db_ping(db_t *db)
{
    int rc = db_ensure(db);
    if (rc != C_OK)
        return rc;
    if (mysql_ping(db->my) != 0 && (rc = my_fail(db, "ping")) != C_OK) {
        if (rc != C_DOWN || (rc = db_ensure(db)) != C_OK)
            return rc;
        if (mysql_ping(db->my) != 0)
            return my_fail(db, "ping");
    }
    return C_OK;
}

int db_read_only(db_t *db, int *read_only)
{
    int64_t v = 0;
    int rc = db_query_i64(db, &v, NULL, "SELECT @@GLOBAL.read_only", "");
    *read_only = rc == C_OK && v != 0;
    return rc;
}

/* A cache slot for a new statement: a free one, else the least recently used
 * one whose result nobody is reading (a caller may hold a header query open
 * while it runs others; evicting that one would hand its slot to another
 * statement under the caller's feet). NULL when every slot is open. */
static struct db_stmt *slot_for_new(db_t *db)
{
    struct db_stmt *lru = NULL;

    if (db->ncache < CACHE_SIZE)
        return &db->cache[db->ncache++];
    for (int i = 0; i < db->ncache; i++)
        if (!db->cache[i].open && (!lru || db->cache[i].used < lru->used))
            lru = &db->cache[i];
    if (lru) {
        /* Not expected: the program has a bounded set of statements (id lists
         * come in a few arities, see db_ids_arity). Said once per process. */
        static bool said;
        if (!said)
            log_warn("db: statement cache full (%d), closing least recently used ones", CACHE_SIZE);
        said = true;
        mysql_stmt_close(lru->st);
        lru->st = NULL;
        free(lru->sql);
        lru->sql = NULL;
    }
    return lru;
}

/* FNV-1a of the statement's text: the cache is keyed by text, so a text
 * built in any buffer (reused or not) finds its own statement. */
static uint64_t text_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int stmt_get(db_t *db, const char *sql, MYSQL_STMT **out)
{
    struct db_stmt *e;
    uint64_t hash = text_hash(sql);
    int rc = db_ensure(db);
    if (rc != C_OK)
        return rc;
    for (int i = 0; i < db->ncache; i++) {
        if (db->cache[i].hash == hash && db->cache[i].sql && strcmp(db->cache[i].sql, sql) == 0) {
            db->cache[i].used = ++db->tick;
            *out = db->cache[i].st;
            return C_OK;
        }
    }
    MYSQL_STMT *st = mysql_stmt_init(db->my);
    if (!st)
        return C_ERR;
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        rc = stmt_fail(db, st, sql);
        mysql_stmt_close(st);
        return rc;
    }
    char *copy = strdup(sql);
    if (!copy || (e = slot_for_new(db)) == NULL) {
        if (copy)
            log_error("db: all %d cached statements have open results", CACHE_SIZE);
        free(copy);
        mysql_stmt_close(st);
        return C_ERR;
    }
    *e = (struct db_stmt){
        .sql = copy, .hash = hash, .st = st, .db = db, .used = ++db->tick, .open = false};
    *out = st;
    return C_OK;
}

static struct db_stmt *stmt_entry(db_t *db, MYSQL_STMT *st)
{
    for (int i = 0; i < db->ncache; i++)
        if (db->cache[i].st == st)
            return &db->cache[i];
    return NULL;
}

static int run(db_t *db, const char *sql, MYSQL_STMT *st, MYSQL_BIND *b, MYSQL_STMT **out);

/* The primary's semi-synchronous replication state: whether it is ON, how many
 * replicas acknowledge, and Rpl_semi_sync_master_no_tx (commits that went
 * unacknowledged). One read of information_schema.GLOBAL_STATUS (about 0.2 ms
 * of the server's CPU: docs/BENCHMARKS.md). */
static int semi_sync_state(db_t *db, int *on, int64_t *clients, int64_t *no_tx)
{
    static const char sql[] =
        "SELECT MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS', VARIABLE_VALUE = 'ON', 0)),"
        " MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS', CAST(VARIABLE_VALUE AS INT), 0)),"
        " MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_NO_TX', CAST(VARIABLE_VALUE AS INT), -1))"
        " FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN"
        " ('RPL_SEMI_SYNC_MASTER_STATUS', 'RPL_SEMI_SYNC_MASTER_CLIENTS',"
        " 'RPL_SEMI_SYNC_MASTER_NO_TX')";
    MYSQL_RES *res;
    MYSQL_ROW row;

    if (mysql_query(db->my, sql) != 0 || !(res = mysql_store_result(db->my)))
        return my_fail(db, "semi-sync state");
    row = mysql_fetch_row(res);
    *on = row && row[0] && strcmp(row[0], "1") == 0;
    *clients = row && row[1] ? strtoll(row[1], NULL, 10) : 0;
    *no_tx = row && row[2] ? strtoll(row[2], NULL, 10) : -1;
    mysql_free_result(res);
    return C_OK;
}

/* Durability, before a write transaction begins: refused (C_READONLY: 503,
 * nothing written) unless semi-sync is ON with a replica acknowledging; and
 * the count of unacknowledged commits, to compare after the COMMIT. */
static int semi_sync_before(db_t *db)
{
    int on = 0, rc;
    int64_t clients = 0;

    if ((rc = semi_sync_state(db, &on, &clients, &db->no_tx)) != C_OK)
        return rc;
    if (!on || clients < 1) {
        log_streak_fail(&db->refused,
                        "db: %s: no replica acknowledges commits (semi-sync %s, %lld replicas):"
                        " writes refused (replication_policy=durability)",
                        db_where(db), on ? "ON" : "OFF", (long long)clients);
        return C_READONLY;
    }
    db->semi_checked = true;
    return C_OK;
}

/* Durability, after a COMMIT: C_OK when no commit went unacknowledged
 * meanwhile (so this one was acknowledged by a replica: a concurrent
 * unacknowledged commit only makes this conservative), else C_UNACKED; when
 * the state cannot be read, C_UNKNOWN (it committed; nothing proves where). */
static int semi_sync_after(db_t *db)
{
    int on = 0;
    int64_t clients = 0, no_tx = -1;

    if (semi_sync_state(db, &on, &clients, &no_tx) != C_OK)
        return C_UNKNOWN;
    if (no_tx == db->no_tx)
        return C_OK;
    log_streak_fail(&db->refused,
                    "db: %s: a commit no replica acknowledged in time: answered as of unknown"
                    " outcome (replication_policy=durability)",
                    db_where(db));
    return C_UNACKED;
}

/* Bind the parameters and execute. */
static int execute(db_t *db, const char *sql, MYSQL_STMT **out, const db_param_t *p, int n)
{
    MYSQL_STMT *st = NULL;
    MYSQL_BIND *b = db->bind;
    int rc;

    if ((rc = stmt_get(db, sql, &st)) != C_OK)
        return rc;
    if (db->in_tx && db->pending_begin) {
        if (db->durable && (rc = semi_sync_before(db)) != C_OK)
            return rc;
        if (mysql_query(db->my, "START TRANSACTION") != 0)
            return my_fail(db, "START TRANSACTION");
        db->pending_begin = 0;
    }
    if (n < 0 || n > DB_MAX_PARAMS || (unsigned long)n != mysql_stmt_param_count(st)) {
        log_error("db: %s: %d parameters given, %lu expected (at most %d)", sql, n,
                  mysql_stmt_param_count(st), DB_MAX_PARAMS);
        return C_ERR;
    }
    memset(b, 0, sizeof(b[0]) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        db->nulls[i] = 0;
        b[i].is_null = &db->nulls[i];
        switch (p[i].type) {
        case 'l':
        case 'n':
            db->ints[i] = p[i].i;
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = &db->ints[i];
            db->nulls[i] = p[i].type == 'n' && p[i].i == 0;
            break;
        case 's':
        case 'b':
            db->lens[i] = p[i].type == 'b' ? (unsigned long)p[i].len : p[i].s ? strlen(p[i].s) : 0;
            b[i].buffer_type = p[i].type == 'b' ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            b[i].buffer = (void *)p[i].s;
            b[i].buffer_length = db->lens[i];
            b[i].length = &db->lens[i];
            db->nulls[i] = p[i].s == NULL;
            break;
        default:
            log_error("db: bad parameter type '%c'", p[i].type);
            return C_ERR;
        }
    }
    return run(db, sql, st, n ? b : NULL, out);
}

/* The parameters of a format string (see db.h) from a va_list. */
static int params_of(const char *fmt, va_list ap, db_param_t *p)
{
    int n = 0;

    for (; fmt[n]; n++) {
        if (n == DB_MAX_PARAMS)
            return -1;
        p[n].type = fmt[n];
        p[n].i = 0;
        p[n].s = NULL;
        p[n].len = 0;
        switch (fmt[n]) {
        case 'l':
        case 'n':
            p[n].i = va_arg(ap, int64_t);
            break;
        case 's':
            p[n].s = va_arg(ap, const char *);
            break;
        case 'b':
            p[n].s = va_arg(ap, const char *);
            p[n].len = va_arg(ap, size_t);
            break;
        default:
            return -1;
        }
    }
    return n;
}

static int run(db_t *db, const char *sql, MYSQL_STMT *st, MYSQL_BIND *b, MYSQL_STMT **out)
{
    mysql_stmt_free_result(st);
    if ((b && mysql_stmt_bind_param(st, b)) || mysql_stmt_execute(st))
        return stmt_fail(db, st, sql);
    *out = st;
    return C_OK;
}

/* Read and drop the results a CALL sends after its own (its final status). */
static int drain(db_t *db, const char *sql, MYSQL_STMT *st)
{
    while (mysql_stmt_more_results(st)) {
        int r = mysql_stmt_next_result(st);
        if (r > 0)
            return stmt_fail(db, st, sql);
        if (r < 0)
            break;
        mysql_stmt_free_result(st);
    }
    return C_OK;
}

/* Outside a transaction a statement that found the connection gone (a
 * server restart while this worker was idle) runs once more on a new one. */
static int retry_down(const db_t *db, int rc, int tries)
{
    return (rc == C_DOWN || rc == C_READONLY) && !db->in_tx && tries == 0;
}

/* execute() with the outside-a-transaction retry on a fresh connection. */
static int execute_retry(db_t *db, const char *sql, MYSQL_STMT **st, const db_param_t *p, int n)
{
    int rc;

    for (int tries = 0;; tries++) {
        rc = execute(db, sql, st, p, n);
        if (!retry_down(db, rc, tries))
            return rc;
    }
}

int db_exec_params(db_t *db, const char *sql, uint64_t *affected, uint64_t *last_id,
                   const db_param_t *params, int n)
{
    MYSQL_STMT *st = NULL;
    int rc = execute_retry(db, sql, &st, params, n);

    if (rc != C_OK)
        return rc;
    log_streak_ok(&db->refused, "db: writes accepted");
    if (affected)
        *affected = mysql_stmt_affected_rows(st);
    if (last_id)
        *last_id = mysql_stmt_insert_id(st);
    return drain(db, sql, st);
}

static int exec_v(db_t *db, const char *sql, uint64_t *affected, uint64_t *last_id, const char *fmt,
                  va_list ap)
{
    db_param_t p[DB_MAX_PARAMS];
    int n = params_of(fmt, ap, p);

    if (n < 0) {
        log_error("db: bad parameter format \"%s\"", fmt);
        return C_ERR;
    }
    return db_exec_params(db, sql, affected, last_id, p, n);
}

int db_exec(db_t *db, const char *sql, uint64_t *affected, uint64_t *last_id, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = exec_v(db, sql, affected, last_id, fmt, ap);
    va_end(ap);
    return rc;
}

int db_exec_count(db_t *db, const char *sql, int *count, const char *fmt, ...)
{
    uint64_t n = 0;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = exec_v(db, sql, &n, NULL, fmt, ap);
    va_end(ap);
    *count = rc == C_OK ? (int)n : 0;
    return rc;
}

/* Buffer the executed statement's result and hand out its cache entry, marked
 * open until db_end. */
static int opened(db_t *db, const char *sql, MYSQL_STMT *st, db_stmt_t **out)
{
    if (mysql_stmt_store_result(st) != 0)
        return stmt_fail(db, st, sql);
    if ((*out = stmt_entry(db, st)) == NULL)
        return C_ERR;
    if (!(*out)->open)
        db->nopen++;
    (*out)->open = true;
    return C_OK;
}

int db_query_params(db_t *db, db_stmt_t **out, const char *sql, const db_param_t *params, int n)
{
    MYSQL_STMT *st = NULL;
    int rc = execute_retry(db, sql, &st, params, n);

    if (rc != C_OK)
        return rc;
    return opened(db, sql, st, out);
}

static int query_v(db_t *db, db_stmt_t **out, const char *sql, const char *fmt, va_list ap)
{
    db_param_t p[DB_MAX_PARAMS];
    int n = params_of(fmt, ap, p);

    if (n < 0) {
        log_error("db: bad parameter format \"%s\"", fmt);
        return C_ERR;
    }
    return db_query_params(db, out, sql, p, n);
}

int db_query(db_t *db, db_stmt_t **out, const char *sql, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = query_v(db, out, sql, fmt, ap);
    va_end(ap);
    return rc;
}

int db_query_i64(db_t *db, int64_t *out, int *found, const char *sql, const char *fmt, ...)
{
    db_stmt_t *st;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = query_v(db, &st, sql, fmt, ap);
    va_end(ap);
    if (rc != C_OK)
        return rc;
    rc = db_row(st, "l", out);
    db_end(st);
    if (rc < 0)
        return rc;
    if (found)
        *found = rc == DB_ROW;
    return C_OK;
}

int db_ids_arity(int n)
{
    int a = 1;
    while (a < n && a < 128)
        a *= 2;
    return a;
}

const char *db_in_list_sql(char *buf, size_t cap, const char *head, int n, const char *tail)
{
    size_t o = (size_t)snprintf(buf, cap, "%s(", head);
    for (int i = 0; i < n && o + 3 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ",?" : "?");
    snprintf(buf + o, cap - o, ")%s", tail);
    return buf;
}

/* One column of a row being read: its format letter (db.h), where the caller
 * wants it, and what the fetch fills in before it gets there. */
struct col {
    char type;
    void *dst;
    size_t cap;    /* 's': the caller's buffer size */
    MYSQL_TIME tm; /* 't', 'T', 'd' */
    unsigned long len;
    my_bool null;
};

/* Bind c for the fetch: C_OK, or C_ERR for a letter db_row does not know. */
static int col_bind(struct col *c, MYSQL_BIND *b)
{
    memset(b, 0, sizeof(*b));
    b->is_null = &c->null;
    b->length = &c->len;
    switch (c->type) {
    case 'l':
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = c->dst;
        return C_OK;
    case 's':
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = c->dst;
        b->buffer_length = c->cap ? c->cap - 1 : 0;
        return C_OK;
    case 't':
    case 'T':
    case 'd':
        b->buffer_type = c->type == 'd' ? MYSQL_TYPE_DATE : MYSQL_TYPE_DATETIME;
        b->buffer = &c->tm;
        return C_OK;
    case 'm':
        b->buffer_type = MYSQL_TYPE_STRING; /* no buffer: only its length; col_malloc reads it */
        return C_OK;
    default:
        return C_ERR;
    }
}

/* 's': NUL-terminated in the caller's buffer, cut to cap - 1 bytes. */
static void col_text(const struct col *c)
{
    char *buf = c->dst;
    size_t len = c->null ? 0 : c->len;

    if (c->cap == 0)
        return;
    buf[len < c->cap - 1 ? len : c->cap - 1] = '\0';
}

/* 't': a DATETIME as RFC 3339 UTC with ms into out (UTIL_TIME_LEN bytes);
 * "" for NULL. */
static void col_datetime(const struct col *c, char *out)
{
    const MYSQL_TIME *tm = &c->tm;

    if (c->null)
        out[0] = '\0';
    else
        util_fmt_time(out, (int)tm->year, (int)tm->month, (int)tm->day, (int)tm->hour,
                      (int)tm->minute, (int)tm->second, (int)(tm->second_part / 1000));
}

/* 'T': a DATETIME in both forms; both "" for NULL. */
static void col_db_time(const struct col *c)
{
    db_time_t *t = c->dst;

    col_datetime(c, t->rfc3339);
    if (c->null)
        t->sql[0] = '\0';
    else
        util_time_sql(t->rfc3339, t->sql);
}

/* 'd': a DATE as YYYY-MM-DD (11 bytes); "" for NULL. */
static void col_date(const struct col *c)
{
    const MYSQL_TIME *tm = &c->tm;
    char *out = c->dst;

    if (c->null)
        out[0] = '\0';
    else
        snprintf(out, 11, "%04u-%02u-%02u", tm->year % 10000, tm->month % 100, tm->day % 100);
}

/* 'm': the whole text, malloc'd into *dst (NULL for NULL). C_OK, or a
 * failure with *dst NULL. */
static int col_malloc(db_stmt_t *s, const struct col *c, unsigned i)
{
    char **out = c->dst;
    MYSQL_BIND one;

    *out = NULL;
    if (c->null)
        return C_OK;
    if (!(*out = malloc(c->len + 1)))
        return C_ERR;
    (*out)[c->len] = '\0';
    if (c->len == 0)
        return C_OK;
    memset(&one, 0, sizeof(one));
    one.buffer_type = MYSQL_TYPE_STRING;
    one.buffer = *out;
    one.buffer_length = c->len;
    if (mysql_stmt_fetch_column(s->st, &one, i, 0) == 0)
        return C_OK;
    free(*out);
    *out = NULL;
    return stmt_fail(s->db, s->st, s->sql);
}

/* The fetched column in the caller's form. */
static int col_finish(db_stmt_t *s, const struct col *c, unsigned i)
{
    switch (c->type) {
    case 'l':
        if (c->null)
            *(int64_t *)c->dst = 0;
        return C_OK;
    case 's':
        col_text(c);
        return C_OK;
    case 't':
        col_datetime(c, c->dst);
        return C_OK;
    case 'T':
        col_db_time(c);
        return C_OK;
    case 'd':
        col_date(c);
        return C_OK;
    default: /* 'm' (col_bind knows no other letter) */
        return col_malloc(s, c, i);
    }
}

int db_row(db_stmt_t *s, const char *fmt, ...)
{
    MYSQL_BIND b[MAX_COLS];
    struct col cols[MAX_COLS];
    size_t n = strlen(fmt);
    va_list ap;
    int rc = C_OK;

    if (!s->st)
        return C_DOWN;
    if (n > MAX_COLS || n != mysql_stmt_field_count(s->st)) {
        log_error("db: %s: %zu columns read, %u returned", s->sql, n,
                  mysql_stmt_field_count(s->st));
        return C_ERR;
    }
    va_start(ap, fmt);
    for (size_t i = 0; i < n && rc == C_OK; i++) {
        cols[i] = (struct col){.type = fmt[i], .dst = va_arg(ap, void *)};
        if (fmt[i] == 's')
            cols[i].cap = va_arg(ap, size_t);
        if ((rc = col_bind(&cols[i], &b[i])) != C_OK)
            log_error("db: bad column format '%c'", fmt[i]);
    }
    va_end(ap);
    if (rc != C_OK)
        return rc;
    if (mysql_stmt_bind_result(s->st, b))
        return stmt_fail(s->db, s->st, s->sql);
    switch (mysql_stmt_fetch(s->st)) {
    case 0:
    case MYSQL_DATA_TRUNCATED: /* a text longer than its buffer ('s' cuts it, 'm' reads it) */
        break;
    case MYSQL_NO_DATA:
        return DB_END;
    default: /* 1: an error */
        return stmt_fail(s->db, s->st, s->sql);
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = col_finish(s, &cols[i], (unsigned)i)) != C_OK)
            return rc;
    return DB_ROW;
}

void db_end(db_stmt_t *s)
{
    if (s && s->open) {
        s->open = false;
        s->db->nopen--;
    }
    if (s && s->st) {
        mysql_stmt_free_result(s->st);
        if (drain(s->db, s->sql, s->st) != C_OK)
            log_warn("db: %s: its trailing results failed", s->sql);
    }
}

static void backoff(int attempt)
{
    /* full jitter: a random wait of 0.5 ms plus up to 2^attempt ms (2, 4, ... 64 ms) */
    unsigned cap_us = 1000u << (attempt < 6 ? attempt : 6);
    struct timespec ts = {0, (long)(500 + util_rand(cap_us)) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool db_last_lock_wait(const db_t *db) { return db->last_errno == ER_LOCK_WAIT_TIMEOUT; }

bool db_tx_started_by_statement(db_t *db)
{
    bool pending = db->in_tx && db->pending_begin;
    db->pending_begin = 0;
    return pending;
}
void db_tx_committing(db_t *db, bool on)
{
    db->committing = on;
    db->committer = on && db->my ? mysql_thread_id(db->my) : 0;
    db->commit_ms = mono_ms();
    db->committer_server_id = db->server_id;
    db->committer_started = db->server_started;
}
void db_tx_committed(db_t *db) { db->tx_committed = 1; }

/* The session that was committing may still be at work on the server (a
 * client that goes away does not stop a running COMMIT or CALL): end it and
 * wait until it is gone, so that the marker then tells the final truth. A
 * session sees and may kill its own account's sessions. Another server (a
 * replica promoted since) or the same one started again has none of it, and
 * may have given its id to another session: nothing to wait for then.
 * C_OK once gone, C_RETRY while it is still there. */
static int committer_gone(db_t *db)
{
    static const char alive[] = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?";
    char kill[48];
    int64_t n = 0;
    int rc;

    if (!db->committer)
        return C_OK;
    if (db->server_id != db->committer_server_id ||
        llabs(db->server_started - db->committer_started) > 2) {
        db->committer = 0;
        return C_OK;
    }
    snprintf(kill, sizeof(kill), "KILL %lu", db->committer);
    if (mysql_query(db->my, kill) != 0 && mysql_errno(db->my) != ER_NO_SUCH_THREAD)
        return my_fail(db, "KILL");
    if ((rc = db_query_i64(db, &n, NULL, alive, "l", (int64_t)db->committer)) != C_OK)
        return rc;
    if (n)
        return C_RETRY;
    db->committer = 0;
    return C_OK;
}

/* After a commit whose answer was lost and whose marker was found: whether a
 * replica is proven to hold it (db_set_barrier). C_OK: the barrier commit was
 * acknowledged with semi-sync ON; C_UNACKED: not proven (semi-sync OFF, no
 * replica connected, no barrier, or the barrier went unacknowledged: it
 * waited out the timeout, after which the primary acknowledges alone and
 * commerce-failover's window is closed); C_UNKNOWN: the state could not be
 * read or the barrier not written. */
static int ack_barrier(db_t *db)
{
    int on = 0;
    int64_t clients = 0, before = -1, after = -1;

    if (!db->barrier)
        return C_UNACKED;
    if (semi_sync_state(db, &on, &clients, &before) != C_OK)
        return C_UNKNOWN;
    if (!on || clients < 1 || before < 0)
        return C_UNACKED;
    if (db->barrier(db) != C_OK || semi_sync_state(db, &on, &clients, &after) != C_OK)
        return C_UNKNOWN;
    return on && after == before ? C_OK : C_UNACKED;
}

/* After a commit whose answer was lost: reconnect, wait for the committing
 * session to end, and ask the marker; until the deadline (monotonic ms). */
static int learn_outcome(db_t *db, db_marker_fn marked, void *arg, int64_t deadline)
{
    for (;;) {
        int found = 0, rc = db_ensure(db);
        if (rc == C_OK)
            rc = committer_gone(db);
        if (rc == C_OK && (rc = marked(db, arg, &found)) == C_OK && found) {
            /* The committing session may have been killed while it waited
             * for the replica, which MariaDB counts as acknowledged: only a
             * barrier acknowledged after it proves a replica has the commit.
             * Not proven: durability answers 503 OUTCOME_UNKNOWN (the retry
             * with its key is refused until semi-sync is ON again, which
             * MariaDB turns on only once the replica has caught up);
             * availability answers the success, the primary having gone on
             * alone (the barrier waited out the timeout, or semi-sync was
             * OFF), which commerce-failover's window no longer covers. */
            int b = ack_barrier(db);
            if (b == C_OK) {
                log_warn("db: the connection was lost while committing; the commit had landed,"
                         " and a replica has it");
                return C_OK;
            }
            if (b == C_UNKNOWN) {
                log_error("db: the connection was lost while committing; the commit had landed,"
                          " and whether a replica has it is unknown");
                return C_UNKNOWN;
            }
            log_warn("db: the connection was lost while committing; the commit had landed%s",
                     db->durable ? ", and nothing proves a replica has it" : "");
            return db->durable ? C_UNACKED : C_OK;
        }
        if (rc == C_OK) {
            log_warn("db: the connection was lost while committing; nothing was committed");
            return C_DOWN;
        }
        if ((rc != C_DOWN && rc != C_RETRY) || mono_ms() >= deadline) {
            log_error("db: the connection was lost while committing; the outcome is unknown");
            return C_UNKNOWN;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int db_tx(db_t *db, db_tx_fn fn, void *arg) { return db_tx_marked(db, fn, NULL, arg); }

int db_tx_marked(db_t *db, db_tx_fn fn, db_marker_fn marked, void *arg)
{
    int reconnected = 0;
    /* No attempt starts after this: with one attempt bounded by the read
     * timeout, the caller always has the final outcome well before nginx
     * gives up on the request (and a 503 it answers means nothing happened). */
    int64_t wait_ms = 1000 * db->cfg->db_lock_wait_timeout_s, last_start = mono_ms() + 3 * wait_ms;

    for (int attempt = 1;; attempt++) {
        int rc = db_ensure(db);

        db_tx_committing(db, false);
        db->tx_committed = 0;
        db->semi_checked = false;
        if (rc == C_OK) {
            /* START TRANSACTION goes out with the first statement (or that
             * statement starts the transaction itself) */
            db->in_tx = db->pending_begin = 1;
            rc = fn(db, arg);
            if (rc == C_OK && !db->tx_committed && !db->pending_begin) {
                db_tx_committing(db, true);
                if (db->my == NULL)
                    rc = C_DOWN;
                else if (mysql_commit(db->my) != 0)
                    rc = my_fail(db, "COMMIT");
                else if (db->durable && db->semi_checked)
                    rc = semi_sync_after(db);
            }
            db->in_tx = db->pending_begin = 0;
        }
        if (rc == C_OK) {
            log_streak_ok(&db->refused, "db: writes accepted");
            return C_OK;
        }
        if (rc == C_DOWN && db->committing && marked) /* a budget of one more attempt */
            return learn_outcome(db, marked, arg,
                                 (mono_ms() > last_start ? mono_ms() : last_start) + wait_ms);
        if (db->my && !db->tx_committed && mysql_rollback(db->my) != 0)
            my_fail(db, "ROLLBACK");
        if (rc == C_RETRY && attempt < DB_TX_ATTEMPTS && mono_ms() < last_start) {
            backoff(attempt);
            continue;
        }
        if ((rc == C_DOWN || rc == C_READONLY) && (!db->committing || rc == C_READONLY) &&
            !reconnected && mono_ms() < last_start) {
            /* The server rolled the transaction back when the connection
             * went (or refused it, read-only: COMMIT included); run it once
             * more on a fresh connection, which may reach the new primary. */
            reconnected = 1;
            continue;
        }
        if (rc == C_RETRY)
            log_warn("db: transaction still conflicting after %d attempts (%s)", attempt,
                     attempt < DB_TX_ATTEMPTS ? "out of time" : "out of attempts");
        return rc;
    }
}
