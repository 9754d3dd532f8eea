/* Users: created by the admin API, each with a point row of balance 0. */
#ifndef COMMERCE_STORE_USERS_H
#define COMMERCE_STORE_USERS_H

#include <stdint.h>

#include "store/db.h"

struct users_create {
    const char *name; /* in */
    int64_t id;       /* out */
};

/* Transaction body: the user row and its point row. */
int users_create_tx(db_t *db, struct users_create *u);

/* *found = 1 when the user exists. */
int users_exists(db_t *db, int64_t id, int *found);

#endif
