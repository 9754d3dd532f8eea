/* Popular products: the nightly ranking and what the API serves from it. */
#ifndef COMMERCE_STORE_POPULAR_H
#define COMMERCE_STORE_POPULAR_H

#include <stdint.h>

#include "common/util.h"
#include "store/db.h"
#include "store/products.h"

#define POPULAR_TOP 5
#define POPULAR_DAYS 3

struct popular_build {
    /* in: the window as local dates and its bounds as UTC DATETIME literals */
    char as_of[11], from_day[11], to_day[11];
    char start_utc[UTIL_TIME_LEN], end_utc[UTIL_TIME_LEN];
    /* out */
    int64_t snapshot_id;
    int n;
    int64_t product_id[POPULAR_TOP], sold[POPULAR_TOP];
};

/* Transaction body: lock popular_current (one run at a time across hosts),
 * rank the products by units in PAID orders created in [start, end) (ties by
 * lower id), write a snapshot with its items, repoint popular_current, and
 * keep only the latest few snapshots. */
int popular_build_tx(db_t *db, struct popular_build *b);

typedef struct popular_entry {
    int rank;
    product_t product;
    int64_t sold;
} popular_entry_t;

typedef struct popular_view {
    int found; /* 0: no run yet */
    char from_day[11], to_day[11];
    int64_t days;
    char computed_at[UTIL_TIME_LEN];
    int n;
    popular_entry_t items[POPULAR_TOP];
} popular_view_t;

/* The served list, with live name, price and stock, read in one statement. */
int popular_read(db_t *db, popular_view_t *v);

/* When the current snapshot was computed (Unix seconds), 0 when none yet. */
int popular_last_success(db_t *db, double *unix_s);

#endif
