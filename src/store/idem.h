/* Idempotency keys, stored in the same transaction as the effect they guard.
 *
 * Inside the transaction, idem_begin() inserts the key first. A concurrent
 * request with the same key blocks on the primary key until the first one
 * commits (then finds its stored response) or rolls back (then proceeds).
 * Only successful responses are stored: a refused request changed nothing,
 * so its retry is simply evaluated again. */
#ifndef COMMERCE_STORE_IDEM_H
#define COMMERCE_STORE_IDEM_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

enum idem_state {
    IDEM_NEW,      /* key recorded: do the work, then idem_finish */
    IDEM_REPLAY,   /* stored response in status/response */
    IDEM_MISMATCH, /* same key, another request: 422 */
    IDEM_IN_USE,   /* the first request holds the key past the lock wait: 409 */
};

struct idem {
    int64_t user_id;
    const char *key;     /* NULL: no key, idem_begin does nothing */
    const char *request; /* route + path + body: what a replay must match */
    size_t request_len;
    enum idem_state state; /* out */
    int status;            /* out, REPLAY */
    char *response;        /* out, REPLAY: malloc'd, caller frees */
    size_t response_len;
};

/* Returns C_OK with state NEW (or no key), C_REJECT with state REPLAY,
 * MISMATCH or IN_USE, or a database failure. */
int idem_begin(db_t *db, struct idem *ik);

/* Store the response of the effect, in the same transaction. */
int idem_finish(db_t *db, const struct idem *ik, int status, const char *body, size_t len);

/* Delete keys older than `hours`, at most `batch` rows; returns the count. */
int idem_purge(db_t *db, int64_t hours, int64_t batch);

#endif
