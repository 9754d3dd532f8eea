/* Process-shared counters for GET /metrics.
 *
 * The workers (and relays) of one host map the same file (config
 * metrics_file, with the layout's version appended: a new layout never reads
 * an old one's counters) and add to its counters with atomic operations, so a
 * scrape through any worker sees the whole host. Without the file each
 * process counts alone. */
#ifndef COMMERCE_METRICS_H
#define COMMERCE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Route table rows it counts at most (api/routes.c asserts the table fits at
 * compile time); index METRICS_ROUTES is "no route". Raising it is a new
 * layout of the shared file (METRICS_LAYOUT, metrics.c). */
#define METRICS_ROUTES 48

/* What became of an order placement (POST /orders, checkout). */
enum metrics_order {
    M_ORDER_PAID,
    M_ORDER_OUT_OF_STOCK,
    M_ORDER_INSUFFICIENT_BALANCE,
    M_ORDER_COUPON_REJECTED,
    M_ORDER_REJECTED_OTHER,
    M_ORDER_OUTCOMES
};

/* What became of one delivery attempt of the relay. */
enum metrics_delivery {
    M_DELIVERED,
    M_PLATFORM_FAILED, /* no answer, 5xx, 408, 429: retried */
    M_REFUSED,         /* another 4xx: the event backs off alone */
    M_PARKED,          /* the last allowed attempt failed: FAILED, replay by hand */
    M_DELIVERY_OUTCOMES
};

/* Where a catalog read went (only when replicas are configured). */
enum metrics_read {
    M_READ_REPLICA,       /* served by a replica */
    M_READ_PRIMARY_DOWN,  /* no replica answered: the primary served it */
    M_READ_PRIMARY_LAG,   /* every replica that answered was too far behind */
    M_READ_PRIMARY_RETRY, /* a replica failed during the read: the primary served it */
    M_READ_OUTCOMES
};

/* A write acknowledged to a client (a 2xx to POST, PUT, PATCH or DELETE) or
 * to the data platform (a delivered event) at `wall_us` (Unix us): the
 * host's gauge commerce_db_acked_write_timestamp_seconds keeps the latest.
 * commerce-failover compares it with a replica's last heartbeat: a replica
 * that provably held everything up to then holds every acknowledged write.
 * One relaxed atomic max. */
void metrics_acked_write(int64_t wall_us);

/* The gauge of acknowledged writes of the shared file at `path` (as
 * metrics_file names it), read without a worker: *wall_us, 0 when none.
 * C_OK, or C_ERR when the file cannot be read (no host's counters there). */
int metrics_read_acked(const char *path, int64_t *wall_us);

/* Map the shared file (created and sized on first use); "" or failure
 * falls back to private memory. C_OK when shared, else C_ERR. */
int metrics_open(const char *path);

/* Count one request: route index (or METRICS_ROUTES), HTTP status, latency. */
void metrics_request(int route, int status, int64_t micros);

void metrics_order(enum metrics_order outcome);
void metrics_cancel(void);
void metrics_delivery(enum metrics_delivery outcome);
void metrics_catalog_read(enum metrics_read where);

/* Append the Prometheus text of the counters to a malloc'd buffer.
 * route_names[i] names route index i (n of them). C_OK or C_ERR. */
int metrics_render(char **buf, size_t *len, const char *const *route_names, int n);

#endif
