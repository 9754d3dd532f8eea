/* The point (balance) aggregate: point row + point_history rows. */
#ifndef COMMERCE_STORE_POINTS_H
#define COMMERCE_STORE_POINTS_H

#include <stdint.h>

#include "common/util.h"
#include "store/db.h"

typedef struct point_entry {
    int64_t id;
    char type[8]; /* CHARGE, USE, REFUND */
    int64_t amount;
    int64_t balance_after;
    int64_t order_id; /* 0 when none */
    char created_at[UTIL_TIME_LEN];
} point_entry_t;

/* Balance of a user; *found = 0 for an unknown user. */
int points_balance(db_t *db, int64_t user_id, int64_t *balance, int *found);

enum charge_outcome { CHARGE_DONE, CHARGE_NO_USER, CHARGE_TOO_MUCH };

struct points_charge {
    int64_t user_id, amount, max_balance; /* in */
    enum charge_outcome outcome;          /* out */
    int64_t balance;                      /* out: balance after the charge */
    db_time_t at;                         /* out: the charge's time */
};

/* A charge transaction (inside db_tx) in two parts: lock the point row
 * (with the database's clock) and check the ceiling (DB_REFUSED with
 * c->outcome set when a rule refuses); then set the balance and write one
 * CHARGE history row. */
int points_charge_check(db_t *db, struct points_charge *c);
int points_charge_apply(db_t *db, const struct points_charge *c);

/* Set a locked balance and write its history row, created at when_sql (a
 * DATETIME literal) or now when NULL; for charges, orders and refunds inside
 * their own transactions. The caller has locked the row. */
int points_apply(db_t *db, int64_t user_id, int64_t new_balance, const char *type, int64_t amount,
                 int64_t order_id, const char *when_sql);

/* Lock the point row of a user: *found = 0 when absent. */
int points_lock(db_t *db, int64_t user_id, int64_t *balance, int *found);

/* History newest first, ids below `before`; calls each() per row; *count
 * (may be NULL) gets how many. */
int points_history(db_t *db, int64_t user_id, int64_t before, int64_t limit,
                   void (*each)(void *arg, const point_entry_t *e), void *arg, int *count);

#endif
