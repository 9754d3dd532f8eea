/* The one return convention of the project.
 *
 * Every function that can fail returns one of these: C_OK (zero, so that
 * `if (rc != C_OK)` reads naturally) or a negative failure. What it produces
 * goes through out-parameters, counts and "found" flags included (`int
 * *count`, `int *found`). Named exceptions, each with one meaning, all still
 * negative on failure: db_row answers DB_ROW or DB_END; a store function or
 * transaction body that a rule refuses answers DB_REFUSED, the reason in its
 * struct (both store/db.h); config_parse/config_check answer the number of
 * problems they reported. Values that are not outcomes (an index, a length,
 * a discount) are not return codes and keep their own types. */
#ifndef COMMERCE_RC_H
#define COMMERCE_RC_H

enum {
    C_OK = 0,
    C_ERR = -1,     /* internal or unexpected database error: a bug or an outage */
    C_RETRY = -2,   /* transient conflict (deadlock, lock wait timeout, snapshot
                       conflict): roll back and run the whole transaction again */
    C_REJECT = -3,  /* refused, and the problem+json is written in the response (http/, api/:
                       problem() returns it); the store's refusal is DB_REFUSED */
    C_DOWN = -4,    /* the database cannot be reached: answer 503 */
    C_DUP = -5,     /* a unique key refused the row */
    C_SHORT = -6,   /* a stock would go below zero (commerce_order_write refused) */
    C_UNKNOWN = -7, /* the connection was lost while committing and the outcome could not
                       be learned in time: 503 OUTCOME_UNKNOWN (retry with the same key) */
    /* -8 is DB_REFUSED (store/db.h) */
    C_READONLY = -9, /* the database takes no writes now: a read_only server (a primary not
                        opened, or fenced by a failover), or, under replication_policy =
                        durability, no replica acknowledging: 503, nothing changed */
    C_UNACKED = -10, /* committed on the primary, but no replica acknowledged it in time
                        (replication_policy = durability): 503 OUTCOME_UNKNOWN (a failover
                        may lose it; retry with the same key) */
    /* a new code here takes -11 */
};

#endif
