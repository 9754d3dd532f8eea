/* The route table: one row per route, each with exactly one access class
 * (who may call it: see router.h). Literal paths come before patterns that
 * would also match them (/products/popular before /products/{id}).
 * /metrics is public to the worker: the nginx site lets only allow-listed
 * networks reach it (and /admin/). */
#include "api/admin.h"
#include "api/app.h"
#include "api/cart.h"
#include "api/coupons.h"
#include "api/orders.h"
#include "api/outbox.h"
#include "api/ops.h"
#include "api/points.h"
#include "api/products.h"
#include "common/metrics.h"

static const route_t routes[] = {
    {"GET", "/", ops_index_h, ACCESS_PUBLIC, 0, "index"},
    {"GET", "/livez", ops_livez_h, ACCESS_PUBLIC, 0, "livez"},
    {"GET", "/readyz", ops_readyz_h, ACCESS_PUBLIC, 0, "readyz"},
    {"GET", "/metrics", ops_metrics_h, ACCESS_PUBLIC, 0, "metrics"},
    {"GET", "/users/{userId}/points", points_get_h, ACCESS_USER, 0, "points_get"},
    {"POST", "/users/{userId}/points/charge", points_charge_h, ACCESS_USER, R_BODY | R_IDEM,
     "points_charge"},
    {"GET", "/users/{userId}/points/history", points_history_h, ACCESS_USER, 0, "points_history"},
    {"GET", "/products", products_list_h, ACCESS_PUBLIC, 0, "products_list"},
    {"GET", "/products/popular", products_popular_h, ACCESS_PUBLIC, 0, "products_popular"},
    {"GET", "/products/{productId}", products_get_h, ACCESS_PUBLIC, 0, "products_get"},
    {"POST", "/orders", orders_create_h, ACCESS_USER, R_BODY | R_IDEM, "orders_create"},
    {"GET", "/orders/{orderId}", orders_get_h, ACCESS_USER, 0, "orders_get"},
    {"POST", "/orders/{orderId}/cancel", orders_cancel_h, ACCESS_USER, 0, "orders_cancel"},
    {"GET", "/users/{userId}/orders", orders_list_h, ACCESS_USER, 0, "orders_list"},
    {"GET", "/users/{userId}/cart", cart_get_h, ACCESS_USER, 0, "cart_get"},
    {"PUT", "/users/{userId}/cart/items/{productId}", cart_put_h, ACCESS_USER, R_BODY, "cart_put"},
    {"DELETE", "/users/{userId}/cart/items/{productId}", cart_delete_h, ACCESS_USER, 0,
     "cart_delete"},
    {"POST", "/users/{userId}/cart/checkout", cart_checkout_h, ACCESS_USER, R_BODY | R_IDEM,
     "cart_checkout"},
    {"GET", "/coupons/{couponId}", coupons_get_h, ACCESS_PUBLIC, 0, "coupons_get"},
    {"POST", "/coupons/{couponId}/issue", coupons_issue_h, ACCESS_USER, R_BODY, "coupons_issue"},
    {"GET", "/users/{userId}/coupons", coupons_user_list_h, ACCESS_USER, 0, "coupons_user_list"},
    {"POST", "/admin/coupons", coupons_admin_create_h, ACCESS_ADMIN, R_BODY, "admin_coupons"},
    {"GET", "/admin/outbox", outbox_admin_get_h, ACCESS_ADMIN, 0, "admin_outbox"},
    {"POST", "/admin/outbox/replay", outbox_admin_replay_h, ACCESS_ADMIN, R_BODY,
     "admin_outbox_replay"},
    {"POST", "/admin/users", admin_create_user_h, ACCESS_ADMIN, R_BODY, "admin_users"},
    {"POST", "/admin/products", admin_create_product_h, ACCESS_ADMIN, R_BODY, "admin_products"},
    {"PATCH", "/admin/products/{productId}", admin_patch_product_h, ACCESS_ADMIN, R_BODY,
     "admin_patch_product"},
    {"GET", "/admin/orders", orders_admin_list_h, ACCESS_ADMIN, 0, "admin_orders_list"},
    {"GET", "/admin/orders/{orderId}", orders_admin_get_h, ACCESS_ADMIN, 0, "admin_orders_get"},
};

/* GET /metrics keeps a row of counters per route in a file shared by the
 * workers, sized at compile time. */
_Static_assert(sizeof(routes) / sizeof(routes[0]) <= METRICS_ROUTES,
               "more routes than METRICS_ROUTES (common/metrics.h): raise it");

const route_t *routes_table(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
