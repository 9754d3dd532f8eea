/* Coupons and user coupons. */
#ifndef COMMERCE_STORE_COUPONS_H
#define COMMERCE_STORE_COUPONS_H

#include <stdint.h>

#include "common/util.h"
#include "core/coupon.h"
#include "store/db.h"

#define COUPON_NAME_CHARS 100

typedef struct coupon {
    int64_t id;
    char name[COUPON_NAME_CHARS * 4 + 1];
    char type[8];
    int64_t value, total, issued;
    char expires_at[UTIL_TIME_LEN];
} coupon_t;

typedef struct user_coupon {
    coupon_t coupon;
    int64_t user_id;
    char status[12]; /* AVAILABLE, USED, EXPIRED (AVAILABLE past expires_at) */
    char issued_at[UTIL_TIME_LEN];
    int64_t used_order_id; /* 0: none */
} user_coupon_t;

int coupons_get(db_t *db, int64_t id, coupon_t *c, int *found);

struct coupons_create {
    const char *name;
    enum coupon_type type;
    int64_t value, total, valid_days; /* in */
    coupon_t result;                  /* out */
};
int coupons_create_tx(db_t *db, struct coupons_create *c);

enum issue_outcome {
    ISSUE_OK,
    ISSUE_NO_USER,
    ISSUE_NO_COUPON,
    ISSUE_EXPIRED,
    ISSUE_ALREADY,
    ISSUE_SOLD_OUT
};

struct coupons_issue {
    int64_t coupon_id, user_id; /* in */
    enum issue_outcome outcome; /* out */
    user_coupon_t result;       /* out */
};

/* Transaction body of first-come issuance: the user_coupon insert (the
 * primary key refuses a second one per user) and the conditional
 * `issued_quantity = issued_quantity + 1 WHERE issued_quantity <
 * total_quantity` (refuses the (total+1)-th), committed together.
 * DB_REFUSED with c->outcome when a rule refuses. */
int coupons_issue_tx(db_t *db, struct coupons_issue *c);

/* All coupons of a user, newest issue first; *count (may be NULL) gets how many. */
int coupons_of_user(db_t *db, int64_t user_id, void (*each)(void *arg, const user_coupon_t *u),
                    void *arg, int *count);

enum coupon_use { COUPON_USABLE, COUPON_UNKNOWN, COUPON_UNUSABLE };

/* In an order transaction, after the inventory rows: lock the user coupon
 * and tell whether it can be used now; the coupon's type and value. */
int coupons_lock_for_order(db_t *db, int64_t coupon_id, int64_t user_id, enum coupon_use *use,
                           enum coupon_type *type, int64_t *value);

/* Mark the locked user coupon USED by order_id. */
int coupons_mark_used(db_t *db, int64_t coupon_id, int64_t user_id, int64_t order_id,
                      const char *when_sql);

/* In a cancel transaction: lock the user coupon and give it back
 * (AVAILABLE) unless the coupon has expired. */
int coupons_release(db_t *db, int64_t coupon_id, int64_t user_id);

#endif
