/* MariaDB access: one persistent connection per process, prepared statements
 * cached by SQL text, typed parameters and columns described by short format
 * strings, and transactions that retry on transient conflicts.
 *
 * Parameter formats (db_exec, db_query):
 *   'l' int64_t          'n' int64_t, where 0 is sent as NULL (optional ids)
 *   's' const char *     (NUL-terminated; NULL is sent as NULL)
 *   'b' const char *, size_t   (bytes of a known length)
 * Column formats (db_row):
 *   'l' int64_t *        (NULL reads as 0)
 *   's' char *buf, size_t cap   (truncated to cap-1 bytes; NULL reads as "")
 *   't' char *buf        (DATETIME as RFC 3339 UTC with ms, UTIL_TIME_LEN bytes;
 *                         NULL reads as "")
 *   'd' char *buf        (DATE as YYYY-MM-DD, 11 bytes)
 *   'm' char **out       (whole text, malloc'd: the caller frees; NULL reads as NULL)
 *   'T' db_time_t *      (DATETIME in both forms; NULL reads as "")
 *
 * Every function returns C_OK or a failure from rc.h: C_RETRY for deadlock,
 * lock wait timeout and snapshot conflicts, C_DOWN when the server cannot be
 * reached (the connection is dropped and re-opened by the next call outside a
 * transaction), C_DUP for a unique key violation (also the procedures' own
 * 45062), C_SHORT for the procedures' 45025 (a stock would go below zero),
 * C_ERR otherwise. A CALL's trailing results are read and dropped. */
#ifndef COMMERCE_DB_H
#define COMMERCE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/util.h"

typedef struct db db_t;
typedef struct db_stmt db_stmt_t;

/* One statement parameter, for statements whose parameters are built at run
 * time (IN lists, multi-row inserts). Types as in the format strings above. */
typedef struct db_param {
    char type; /* 'l', 'n', 's' or 'b' */
    int64_t i;
    const char *s;
    size_t len; /* 'b' */
} db_param_t;
#define DB_I64(v) ((db_param_t){'l', (v), NULL, 0})
#define DB_ID(v) ((db_param_t){'n', (v), NULL, 0}) /* 0 is sent as NULL */
#define DB_STR(v) ((db_param_t){'s', 0, (v), 0})
#define DB_BYTES(p, n) ((db_param_t){'b', 0, (p), (n)})
/* Most parameters one statement takes. */
#define DB_MAX_PARAMS 272

/* A time from the database as both forms the service uses. */
typedef struct db_time {
    char rfc3339[UTIL_TIME_LEN]; /* "2026-11-21T10:00:00.123Z", for documents */
    char sql[UTIL_TIME_LEN];     /* "2026-11-21 10:00:00.123", for parameters */
} db_time_t;

/* A handle that connects lazily; NULL only when out of memory. */
db_t *db_new(const config_t *cfg);
/* A connection with cfg's settings but to another server as another account
 * (a replica: socket, or host and port; user and password). */
db_t *db_new_to(const config_t *cfg, const char *socket, const char *host, unsigned port,
                const char *user, const char *password);
/* Where it connects (the socket, else the host), for logs. */
const char *db_where(const db_t *db);
void db_free(db_t *db);

/* replication_policy = durability (config_durable): every write transaction
 * on this handle (db_tx) first reads the primary's semi-synchronous state and
 * is refused, C_READONLY, unless semi-sync is ON with a replica acknowledging;
 * after its COMMIT it reads the count of unacknowledged commits again and
 * answers C_UNACKED when it moved (this commit may exist on the primary
 * only). The order procedures do the same themselves (@commerce_durable, set
 * at connect). A server without semi-sync enabled is logged at connect. */
void db_set_durable(db_t *db, bool on);

/* A commit of its own that db_tx_marked makes, in autocommit, after a commit
 * whose answer was lost and whose marker it then found: acknowledged by a
 * replica (Rpl_semi_sync_master_no_tx unchanged across it), it proves that
 * the replica holds the lost one too, since acknowledgements cover every
 * earlier event of the binary log. Without it, nothing proves that: the
 * committing session may have been killed while it waited for the replica
 * (committer_gone), which MariaDB counts as acknowledged. The write must be
 * harmless (commerce-fcgi: idem_barrier, a marker row of no request). */
typedef int (*db_barrier_fn)(db_t *db);
void db_set_barrier(db_t *db, db_barrier_fn fn);

/* The isolation level of this handle's sessions (default "REPEATABLE READ"),
 * applied at every (re)connect. `level` must be a string constant. */
void db_set_isolation(db_t *db, const char *level);

/* How long one read or write on the connection may take (default 30 s; a
 * schema change that rebuilds a table needs longer), from the next connect. */
void db_set_timeout(db_t *db, unsigned seconds);

/* Connect if not connected. */
int db_ensure(db_t *db);

/* Run fn(db, arg) after each connect, before any statement of the caller's:
 * a check the connection must pass (the schema's version: store/schema.h).
 * When fn fails, the connection is closed and db_ensure answers C_DOWN. */
typedef int (*db_connect_fn)(db_t *db, void *arg);
void db_on_connect(db_t *db, db_connect_fn fn, void *arg);

/* Run one statement as text, the way the mariadb client sends it (what
 * cannot be prepared: DDL, CREATE PROCEDURE, a BEGIN NOT ATOMIC block), and
 * read and drop its results. C_OK; C_RETRY for a lock wait timeout or a
 * deadlock; C_DOWN when the connection is lost; C_ERR for any other error.
 * The server's error, if any, goes to *err (may be NULL); nothing is logged. */
typedef struct db_error {
    unsigned code;
    char message[512];
} db_error_t;
int db_run(db_t *db, const char *sql, size_t len, db_error_t *err);

/* Round trip to the server (for /readyz). */
int db_ping(db_t *db);

/* Whether the server takes writes: C_OK with *read_only 0 or 1 (its
 * @@global.read_only: a primary not yet opened, or fenced by a failover), or a
 * failure. */
int db_read_only(db_t *db, int *read_only);

/* Run a statement that returns no rows. affected / last_id may be NULL. */
int db_exec(db_t *db, const char *sql, uint64_t *affected, uint64_t *last_id, const char *fmt, ...);

/* db_exec for a statement whose caller wants only how many rows it changed:
 * *count (0 on a failure). */
int db_exec_count(db_t *db, const char *sql, int *count, const char *fmt, ...);

/* Run a query and buffer its rows; read them with db_row, then call db_end
 * (always, also after an error from db_row). */
int db_query(db_t *db, db_stmt_t **st, const char *sql, const char *fmt, ...);

/* db_exec and db_query with the parameters in an array (n <= DB_MAX_PARAMS). */
int db_exec_params(db_t *db, const char *sql, uint64_t *affected, uint64_t *last_id,
                   const db_param_t *params, int n);
int db_query_params(db_t *db, db_stmt_t **st, const char *sql, const db_param_t *params, int n);

/* A query whose answer is one integer: *out from the first row's only
 * column, *found = 0 when there is no row (found may be NULL). */
int db_query_i64(db_t *db, int64_t *out, int *found, const char *sql, const char *fmt, ...);

/* "head(?,?,...,?)tail" with n placeholders, written into buf; returns buf.
 * Statements are cached by their text (stmt_get), so any buffer will do;
 * callers build each arity's text once and keep it, to save the formatting. */
const char *db_in_list_sql(char *buf, size_t cap, const char *head, int n, const char *tail);

/* The smallest power of two >= n (at most 128): the arities IN lists are
 * prepared in, padded by repeating the last id (an IN list that repeats a
 * value matches the same rows), so a worker prepares only a few of them. */
int db_ids_arity(int n);

/* Next row: DB_ROW with the columns filled in, DB_END at the end, or a
 * failure (a C_* code, < 0). (DB_END is C_OK: the read ended well.) */
enum { DB_END = 0, DB_ROW = 1 };
int db_row(db_stmt_t *st, const char *fmt, ...);

void db_end(db_stmt_t *st);

/* A rule refused what a store function or a transaction body (db_tx_fn) was
 * asked to do: nothing was written, and the function's struct says why (its
 * `outcome`; `v` for an order; `found` and `too_much` for a product patch).
 * db_tx rolls the transaction back and returns it as it is; the api layer
 * turns the reason into a problem. The store writes no problem: rc.h's
 * C_REJECT ("the problem is written") belongs to the http and api layers. */
enum db_refusal { DB_REFUSED = -8 };

/* Run fn inside START TRANSACTION ... COMMIT. A C_RETRY from fn or from
 * COMMIT rolls back and runs fn again from the start, after a jittered
 * backoff, up to DB_TX_ATTEMPTS times and only while less than
 * 3 × db_lock_wait_timeout_s have passed since the first attempt began; a
 * lost connection before COMMIT is re-opened and fn run again once (same
 * time rule). Any other failure, and DB_REFUSED, rolls back and is returned. fn must keep no
 * state across attempts except through arg, which it must reset itself. */
#define DB_TX_ATTEMPTS 8
typedef int (*db_tx_fn)(db_t *db, void *arg);
int db_tx(db_t *db, db_tx_fn fn, void *arg);

/* Whether the marker a transaction wrote (a row unique to the request) is
 * there: C_OK with *found 1 when it is (the transaction committed), 0 when it
 * is not; or a failure. Run outside any transaction. */
typedef int (*db_marker_fn)(db_t *db, void *arg, int *found);

/* db_tx for a transaction that writes a marker: when the connection is lost
 * while it commits, reconnect, wait until the committing session has ended on
 * the server (it is killed if it still runs), and ask `marked`: C_OK when the
 * commit landed, C_DOWN when it did not (nothing changed), C_UNKNOWN when the
 * database could not be asked in time (db_tx's budget for its last attempt
 * plus one lock wait: 4 x db_lock_wait_timeout_s in all, well inside nginx's
 * fastcgi_read_timeout). */
int db_tx_marked(db_t *db, db_tx_fn fn, db_marker_fn marked, void *arg);

/* Statements that start or end db_tx's transaction themselves (a stored
 * procedure with START TRANSACTION or COMMIT inside). Call the first before
 * the statement that starts it (db_tx then sends no START TRANSACTION); call
 * db_tx_committing before the statement that commits (a connection lost
 * during it leaves the outcome unknown, as during COMMIT), and
 * db_tx_committed after it succeeded (db_tx then sends no COMMIT). */
bool db_tx_started_by_statement(db_t *db); /* false: a statement already started it */
void db_tx_committing(db_t *db, bool on);
void db_tx_committed(db_t *db);

/* The last C_RETRY came from a lock wait timeout (1205), not a deadlock. */
bool db_last_lock_wait(const db_t *db);

#endif
