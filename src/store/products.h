/* Products: the catalogue row (product) and its stock (inventory). */
#ifndef COMMERCE_STORE_PRODUCTS_H
#define COMMERCE_STORE_PRODUCTS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

#define PRODUCT_NAME_CHARS 200

typedef struct product {
    int64_t id;
    char name[PRODUCT_NAME_CHARS * 4 + 1];
    int64_t price;
    int64_t stock;
} product_t;

/* One product with its stock as of now; *found = 0 when unknown. */
int products_get(db_t *db, int64_t id, product_t *p, int *found);

/* Products with id > after, ascending, at most `limit`; *count (may be NULL) gets how many. */
int products_list(db_t *db, int64_t after, int64_t limit,
                  void (*each)(void *arg, const product_t *p), void *arg, int *count);

struct products_create {
    const char *name;
    int64_t price, stock; /* in */
    int64_t id;           /* out */
};
int products_create_tx(db_t *db, struct products_create *c);

struct products_patch {
    int64_t id;
    const char *name; /* NULL: keep */
    bool has_price;
    int64_t price;
    int64_t restock;  /* 0: none */
    int found;        /* out */
    int too_much;     /* out: stock + restock past MONEY_MAX_STOCK */
    product_t result; /* out */
};
/* Locks the inventory row (a restock takes no other lock), applies the
 * change and reads the product back. DB_REFUSED with found/too_much set. */
int products_patch_tx(db_t *db, struct products_patch *p);

#endif
