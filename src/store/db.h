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
 *
 * Every function returns C_OK or a failure from rc.h: C_RETRY for deadlock,
 * lock wait timeout and snapshot conflicts, C_DOWN when the server cannot be
 * reached (the connection is dropped and re-opened by the next call outside a
 * transaction), C_DUP for a unique key violation (db_exec), C_ERR otherwise. */
#ifndef COMMERCE_DB_H
#define COMMERCE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/util.h"

typedef struct db db_t;
typedef struct db_stmt db_stmt_t;

/* A handle that connects lazily; NULL only when out of memory. */
db_t *db_new(const config_t *cfg);
void db_free(db_t *db);

/* The isolation level of this handle's sessions (default "REPEATABLE READ"),
 * applied at every (re)connect. `level` must be a string constant. */
void db_set_isolation(db_t *db, const char *level);

/* Connect if not connected. */
int db_ensure(db_t *db);

/* Round trip to the server (for /readyz). */
int db_ping(db_t *db);

/* Run a statement that returns no rows. affected / last_id may be NULL. */
int db_exec(db_t *db, const char *sql, uint64_t *affected, uint64_t *last_id, const char *fmt, ...);

/* Run a query and buffer its rows; read them with db_row, then call db_end
 * (always, also after an error from db_row). */
int db_query(db_t *db, db_stmt_t **st, const char *sql, const char *fmt, ...);

/* A query whose answer is one integer: *out from the first row's only
 * column, *found = 0 when there is no row (found may be NULL). */
int db_query_i64(db_t *db, int64_t *out, int *found, const char *sql, const char *fmt, ...);

/* The database's clock, NOW(3), as RFC 3339 UTC with milliseconds
 * (UTIL_TIME_LEN bytes): the one clock for every time a transaction writes. */
int db_now(db_t *db, char *rfc3339);

/* Like db_query for a statement whose only parameters are ids in an
 * `IN (?,?,...)` list, built once per arity with db_in_list_sql for
 * db_ids_arity(n) places: n ids fill them, the last one repeated. Arities are
 * powers of two, so the worker prepares only a few of them. */
#define DB_MAX_IDS 128
int db_query_ids(db_t *db, db_stmt_t **st, const char *sql, const int64_t *ids, int n);
int db_ids_arity(int n);

/* Write "head(?,?,...,?)tail" with n placeholders into buf and return it.
 * Statements are cached by address, so keep one buffer per arity. */
const char *db_in_list_sql(char *buf, size_t cap, const char *head, int n, const char *tail);

/* Next row: 1 with the columns filled in, 0 at the end, or a failure (< 0). */
int db_row(db_stmt_t *st, const char *fmt, ...);

void db_end(db_stmt_t *st);

/* Run fn inside START TRANSACTION ... COMMIT. A C_RETRY from fn or from
 * COMMIT rolls back and runs fn again from the start, after a jittered
 * backoff, up to DB_TX_ATTEMPTS times and only while less than
 * 3 × db_lock_wait_timeout_s have passed since the first attempt began; a
 * lost connection before COMMIT is re-opened and fn run again once (same
 * time rule). Any other failure rolls back and is returned. fn must keep no
 * state across attempts except through arg, which it must reset itself. */
#define DB_TX_ATTEMPTS 8
typedef int (*db_tx_fn)(db_t *db, void *arg);
int db_tx(db_t *db, db_tx_fn fn, void *arg);

/* Attempts used by the last db_tx (1 = no retry); for metrics and tests. */
int db_tx_attempts(const db_t *db);

/* The last C_RETRY came from a lock wait timeout (1205), not a deadlock. */
bool db_last_lock_wait(const db_t *db);

#endif
