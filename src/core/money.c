#include "core/money.h"

bool money_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

bool money_mul(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

enum charge_check money_check_charge(int64_t balance, int64_t amount, int64_t max_balance,
                                     int64_t *new_balance)
{
    int64_t r;
    if (!money_add(balance, amount, &r) || r > max_balance)
        return CHARGE_OVER_LIMIT;
    *new_balance = r;
    return CHARGE_OK;
}
