#include "core/order.h"

#include <stdlib.h>
#include <string.h>

#include "core/money.h"

bool order_lines_count_ok(size_t n) { return n >= 1 && n <= ORDER_MAX_LINES; }

int order_line_repeats(const order_req_line_t *lines, int i)
{
    for (int j = 0; j < i; j++)
        if (lines[j].product_id == lines[i].product_id)
            return j;
    return -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void order_lock_order(const order_req_line_t *lines, int n, int64_t *ids)
{
    for (int i = 0; i < n; i++)
        ids[i] = lines[i].product_id;
    qsort(ids, (size_t)n, sizeof(ids[0]), cmp_i64);
}

int64_t order_line_amount(int64_t quantity, int64_t unit_price)
{
    int64_t r;
    return money_mul(quantity, unit_price, &r) ? r : -1;
}

static void refuse(order_verdict_t *v, enum order_outcome why, int64_t id, int64_t have,
                   int64_t want)
{
    v->outcome = why;
    v->bad_id = id;
    v->have = have;
    v->want = want;
}

void order_decide(const order_facts_t *f, order_verdict_t *v)
{
    int64_t missing = 0;

    memset(v, 0, sizeof(*v));
    for (int i = 0; i < f->n; i++)
        if (f->prices[i] < 0 && (!missing || f->lines[i].product_id < missing))
            missing = f->lines[i].product_id;
    if (missing) {
        refuse(v, ORDER_NO_PRODUCT, missing, 0, 0);
        return;
    }
    if (order_stock_verdict(f->lines, f->n, f->stock, v))
        return;
    if (f->coupon == ORDER_COUPON_UNKNOWN) {
        refuse(v, ORDER_COUPON_NOT_FOUND, 0, 0, 0);
        return;
    }
    if (!f->user_found) {
        refuse(v, ORDER_NO_USER, 0, 0, 0);
        return;
    }
    if (f->coupon == ORDER_COUPON_UNUSABLE) {
        refuse(v, ORDER_COUPON_NOT_USABLE, 0, 0, 0);
        return;
    }
    for (int i = 0; i < f->n; i++) {
        v->amounts[i] = order_line_amount(f->lines[i].quantity, f->prices[i]);
        /* bounds at the edge make both failures unreachable */
        if (v->amounts[i] < 0 || !money_add(v->subtotal, v->amounts[i], &v->subtotal)) {
            refuse(v, ORDER_NO_BALANCE, 0, f->balance, INT64_MAX);
            return;
        }
    }
    if (f->coupon == ORDER_COUPON_USABLE)
        v->discount = coupon_discount(f->coupon_type, f->coupon_value, v->subtotal);
    v->total = v->subtotal - v->discount;
    if (f->balance < v->total) {
        refuse(v, ORDER_NO_BALANCE, 0, f->balance, v->total);
        return;
    }
    v->balance_after = f->balance - v->total;
    v->outcome = ORDER_OK;
}

bool order_stock_verdict(const order_req_line_t *lines, int n, const int64_t *stock,
                         order_verdict_t *v)
{
    int short_line = -1;

    for (int i = 0; i < n; i++)
        if (lines[i].quantity > stock[i] &&
            (short_line < 0 || lines[i].product_id < lines[short_line].product_id))
            short_line = i;
    if (short_line < 0)
        return false;
    refuse(v, ORDER_OUT_OF_STOCK, lines[short_line].product_id, stock[short_line],
           lines[short_line].quantity);
    return true;
}
