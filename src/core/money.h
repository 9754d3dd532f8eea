/* Money rules: integer won, bounds and overflow. Pure, no I/O. */
#ifndef COMMERCE_MONEY_H
#define COMMERCE_MONEY_H

#include <stdbool.h>
#include <stdint.h>

/* Largest price, stock, restock or quantity-times-price the service accepts.
 * Keeps every sum of up to 100 lines far below 2^63. */
#define MONEY_MAX_PRICE 1000000000LL
#define MONEY_MAX_STOCK 1000000000LL

/* a + b into *out; false (and *out untouched) on overflow. */
bool money_add(int64_t a, int64_t b, int64_t *out);

/* a * b into *out; false on overflow. Both must be >= 0. */
bool money_mul(int64_t a, int64_t b, int64_t *out);

/* Outcome of adding `amount` to `balance` under a ceiling. */
enum charge_check { CHARGE_OK, CHARGE_OVER_LIMIT };

/* A charge of `amount` (already validated 1..max_charge) onto `balance`:
 * CHARGE_OVER_LIMIT when the result would exceed max_balance or overflow. */
enum charge_check money_check_charge(int64_t balance, int64_t amount, int64_t max_balance,
                                     int64_t *new_balance);

#endif
