#include "core/order.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/jsonx.h"
#include "core/money.h"

int order_parse_items(json_object *body, order_req_line_t *lines, int *n, char *field, size_t fcap,
                      char *detail, size_t dcap)
{
    json_object *items = NULL;
    size_t len;

    if (!json_object_object_get_ex(body, "items", &items) || items == NULL) {
        snprintf(field, fcap, "items");
        snprintf(detail, dcap, "'items' is required");
        return -1;
    }
    if (!json_object_is_type(items, json_type_array)) {
        snprintf(field, fcap, "items");
        snprintf(detail, dcap, "'items' must be an array");
        return -1;
    }
    len = json_object_array_length(items);
    if (len < 1 || len > ORDER_MAX_LINES) {
        snprintf(field, fcap, "items");
        snprintf(detail, dcap, "an order has 1 to %d lines, not %zu", ORDER_MAX_LINES, len);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        enum jx e;

        if (!it || !json_object_is_type(it, json_type_object)) {
            snprintf(field, fcap, "items[%zu]", i);
            snprintf(detail, dcap, "each line must be an object {productId, quantity}");
            return -1;
        }
        e = jsonx_int(it, "productId", 1, INT64_MAX, &lines[i].product_id);
        if (e != JX_OK) {
            snprintf(field, fcap, "items[%zu].productId", i);
            snprintf(detail, dcap, "'productId' %s: a positive integer id", jsonx_describe(e));
            return -1;
        }
        e = jsonx_int(it, "quantity", 1, ORDER_MAX_QTY, &lines[i].quantity);
        if (e != JX_OK) {
            snprintf(field, fcap, "items[%zu].quantity", i);
            snprintf(detail, dcap, "'quantity' %s: an integer from 1 to %d", jsonx_describe(e),
                     ORDER_MAX_QTY);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (lines[j].product_id == lines[i].product_id) {
                snprintf(field, fcap, "items[%zu].productId", i);
                snprintf(detail, dcap, "product %lld appears more than once",
                         (long long)lines[i].product_id);
                return -1;
            }
        }
    }
    *n = (int)len;
    return 0;
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
