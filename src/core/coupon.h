/* Coupon rules with no I/O. */
#ifndef COMMERCE_CORE_COUPON_H
#define COMMERCE_CORE_COUPON_H

#include <stdint.h>

enum coupon_type { COUPON_FIXED, COUPON_PERCENT };

#define COUPON_MAX_FIXED 1000000000LL
#define COUPON_MAX_QUANTITY 1000000000LL
#define COUPON_MAX_VALID_DAYS 3650

/* The discount on `subtotal` (>= 0): FIXED takes `value` won off, PERCENT
 * floor(subtotal * value / 100); never more than the subtotal, never
 * negative, no overflow for any int64 inputs. */
int64_t coupon_discount(enum coupon_type type, int64_t value, int64_t subtotal);

/* "FIXED"/"PERCENT" <-> enum; returns -1 for anything else. */
int coupon_type_parse(const char *s);
const char *coupon_type_name(enum coupon_type t);

#endif
