#include "core/coupon.h"

#include <string.h>

int64_t coupon_discount(enum coupon_type type, int64_t value, int64_t subtotal)
{
    int64_t d;

    if (subtotal <= 0 || value <= 0)
        return 0;
    if (type == COUPON_FIXED) {
        d = value;
    } else {
        if (value > 100)
            value = 100;
        /* floor(subtotal * value / 100) without forming the product */
        d = subtotal / 100 * value + subtotal % 100 * value / 100;
    }
    return d < subtotal ? d : subtotal;
}

int coupon_type_parse(const char *s)
{
    if (strcmp(s, "FIXED") == 0)
        return COUPON_FIXED;
    if (strcmp(s, "PERCENT") == 0)
        return COUPON_PERCENT;
    return -1;
}

const char *coupon_type_name(enum coupon_type t) { return t == COUPON_FIXED ? "FIXED" : "PERCENT"; }
