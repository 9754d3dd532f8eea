/* A state-changing request run as one transaction together with its
 * Idempotency-Key: the work, the key row and the stored response commit or
 * roll back together. Used by charge, POST /orders and checkout.
 * In the transaction: work runs the reads and decides, and sets the response;
 * write makes the change with the key row (the response stored with it),
 * the last locks last. */
#ifndef COMMERCE_API_EFFECT_H
#define COMMERCE_API_EFFECT_H

#include <stddef.h>
#include <stdint.h>

#include "http/req.h"
#include "store/db.h"
#include "store/idem.h"

struct effect;
/* Reads, decides and sets the response with effect_respond(). Returns C_OK,
 * DB_REFUSED (outcome kept in arg for the handler) or a database failure.
 * Called again from scratch on a retry. */
typedef int (*effect_work_fn)(db_t *db, struct effect *e);
/* Writes the change and the key row ik (NULL without a key; its response is
 * e->body). Returns C_OK, C_DUP when the key is taken, DB_REFUSED (outcome in
 * arg) or a database failure; it may commit the transaction itself. */
typedef int (*effect_write_fn)(db_t *db, struct effect *e, const struct idem *ik);
/* Whether the effect's own marker row is there (db_marker_fn: *found): for an
 * effect that writes a row unique to the request anyway. Without one, a
 * request that sent no key gets a generated key (idem_new_marker) as its
 * marker. */
typedef int (*effect_marker_fn)(db_t *db, struct effect *e, int *found);

struct effect {
    effect_work_fn work;
    effect_write_fn write;
    effect_marker_fn marked; /* optional */
    void *arg;
    /* set by effect_respond */
    int status;
    char *body; /* owned */
    size_t body_len;
    /* internal */
    struct idem ik;
    char *request;
    char marker[IDEM_MARKER_LEN];
};

/* Serialise obj (taking ownership) as the response of the effect. Returns
 * C_OK or C_ERR. The body can then be reused (e.g. as an outbox payload). */
int effect_respond(struct effect *e, int status, json_object *obj);

/* The same with a document already written: takes the malloc'd body (len
 * bytes, NUL-terminated). */
void effect_respond_text(struct effect *e, int status, char *body, size_t len);

/* Run the effect for `user_id` (the scope of the key). On success, or on a
 * replay (Idempotent-Replayed: true), the response is set and C_OK returned;
 * a key reused for another request answers 422 and returns C_REJECT. A
 * DB_REFUSED comes from work or write and leaves the response to the handler
 * (the outcome is in arg). */
int effect_run(req_t *r, int64_t user_id, struct effect *e);

/* db_tx for a request's transaction that writes no row unique to it: fn's
 * changes and a marker (a generated key, scope marker_scope(user_id)) commit
 * together, so a commit whose answer was lost is still answered truly:
 * C_OK when it landed, C_DOWN when it did not, C_UNKNOWN (503
 * OUTCOME_UNKNOWN) when the database could not be asked in time. */
int effect_tx(req_t *r, int64_t user_id, db_tx_fn fn, void *arg);

#endif
