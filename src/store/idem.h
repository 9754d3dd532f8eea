/* Idempotency keys, stored in the same transaction as the effect they guard,
 * with its response, in one statement at the end of the work.
 *
 * Every keyed effect (charge, order, checkout) first locks its user's point
 * row, and keys are scoped by user: a concurrent request with the same key
 * waits there until the first commits, then does its work, finds the key
 * taken when it stores it (idem_store: C_DUP) and answers the stored
 * response instead (idem_lookup; the transaction is rolled back). A refused
 * request looks the key up too (a retry of a success may be refused now).
 * Only successful responses are stored: a refused request changed nothing,
 * so its retry is simply evaluated again. */
#ifndef COMMERCE_STORE_IDEM_H
#define COMMERCE_STORE_IDEM_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

enum idem_state {
    IDEM_NEW,      /* no stored response: the work's outcome stands */
    IDEM_REPLAY,   /* stored response in status/response */
    IDEM_MISMATCH, /* same key, another request: 422 */
};

struct idem {
    int64_t user_id;
    const char *key;     /* NULL: no key, nothing to store or look up */
    const char *request; /* route + path + body: what a replay must match */
    size_t request_len;
    enum idem_state state; /* out */
    int status;            /* out, REPLAY */
    char *response;        /* out, REPLAY: malloc'd, caller frees */
    size_t response_len;
};

/* Store the key with the effect's response, in the same transaction.
 * C_DUP when the key is taken already. */
int idem_store(db_t *db, const struct idem *ik, int status, const char *body, size_t len);

/* Look the key up (a locking read: the latest committed row) and set
 * ik->state: NEW when absent, else REPLAY or MISMATCH. */
int idem_lookup(db_t *db, struct idem *ik);

/* A key the worker makes for a request that sent none, as the marker of its
 * transaction ("~" and a UUID: 38 bytes with the NUL). */
#define IDEM_MARKER_LEN 38
void idem_new_marker(char out[IDEM_MARKER_LEN]);

/* db_set_barrier's write for the workers: a marker row of no request (user
 * 0, a scope of its own), in autocommit; purged with the other keys. */
int idem_barrier(db_t *db);

/* Whether the key is stored: *found 1 or 0. */
int idem_exists(db_t *db, int64_t user_id, const char *key, int *found);

/* Delete keys older than `hours`, at most `batch` rows; *count gets how many. */
int idem_purge(db_t *db, int64_t hours, int64_t batch, int *count);

#endif
