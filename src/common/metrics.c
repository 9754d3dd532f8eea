#include "common/metrics.h"
#include "common/rc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/revision.h" /* COMMERCE_VERSION, COMMERCE_REVISION */

static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
                               409, 413, 415, 422, 429, 500, 503, 0};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))
static const int64_t bounds_us[] = {1000,   2500,   5000,   10000,   25000,   50000,
                                    100000, 250000, 500000, 1000000, 2500000, 5000000};
#define NBUCKET (sizeof(bounds_us) / sizeof(bounds_us[0]))
static const char *const order_names[] = {"paid", "out_of_stock", "insufficient_balance",
                                          "coupon_rejected", "rejected_other"};
static const char *const read_names[] = {"replica", "primary_replica_down",
                                         "primary_replica_lagging", "primary_replica_failed"};
static const char *const delivery_names[] = {"delivered", "platform_failed", "refused", "parked"};

/* The file layout: only counters, all starting at zero (a new file is zero
 * filled), so there is nothing to initialise and no race between workers.
 * Change METRICS_LAYOUT with it: the file name carries it. */
#define METRICS_LAYOUT 5
struct shm {
    uint64_t requests[METRICS_ROUTES + 1][NSTATUS];
    uint64_t buckets[METRICS_ROUTES + 1][NBUCKET + 1]; /* last: +Inf */
    uint64_t sum_us[METRICS_ROUTES + 1];
    uint64_t orders[M_ORDER_OUTCOMES];
    uint64_t cancels;
    uint64_t deliveries[M_DELIVERY_OUTCOMES];
    uint64_t reads[M_READ_OUTCOMES];
    uint64_t acked_write_us; /* a gauge: the latest acknowledged write (Unix us) */
};

static struct shm private_shm;
static struct shm *m = &private_shm;

int metrics_open(const char *path)
{
    struct stat st;
    int fd;
    void *p;

    char file[512];

    if (!path || !*path)
        return C_ERR;
    snprintf(file, sizeof(file), "%s.%d", path, METRICS_LAYOUT);
    fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || fstat(fd, &st) != 0 ||
        (st.st_size < (off_t)sizeof(struct shm) && ftruncate(fd, sizeof(struct shm)) != 0)) {
        log_warn("metrics: %s unusable; counting per process", file);
        if (fd >= 0)
            close(fd);
        return C_ERR;
    }
    p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        log_warn("metrics: cannot map %s; counting per process", file);
        return C_ERR;
    }
    m = p;
    return C_OK;
}

static void add(uint64_t *c, uint64_t v) { __atomic_fetch_add(c, v, __ATOMIC_RELAXED); }

static uint64_t get(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

void metrics_request(int route, int status, int64_t micros)
{
    size_t s = NSTATUS - 1, b = NBUCKET;

    if (route < 0 || route > METRICS_ROUTES)
        route = METRICS_ROUTES;
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (statuses[i] == status)
            s = i;
    for (size_t i = 0; i < NBUCKET; i++)
        if (micros <= bounds_us[i]) {
            b = i;
            break;
        }
    add(&m->requests[route][s], 1);
    add(&m->buckets[route][b], 1);
    add(&m->sum_us[route], (uint64_t)(micros > 0 ? micros : 0));
}

void metrics_order(enum metrics_order outcome)
{
    if (outcome < M_ORDER_OUTCOMES)
        add(&m->orders[outcome], 1);
}

void metrics_cancel(void) { add(&m->cancels, 1); }

void metrics_catalog_read(enum metrics_read where)
{
    if (where < M_READ_OUTCOMES)
        add(&m->reads[where], 1);
}

void metrics_delivery(enum metrics_delivery outcome)
{
    if (outcome < M_DELIVERY_OUTCOMES)
        add(&m->deliveries[outcome], 1);
}

void metrics_acked_write(int64_t wall_us)
{
    uint64_t v = wall_us > 0 ? (uint64_t)wall_us : 0,
             cur = __atomic_load_n(&m->acked_write_us, __ATOMIC_RELAXED);
    while (cur < v && !__atomic_compare_exchange_n(&m->acked_write_us, &cur, v, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

int metrics_read_acked(const char *path, int64_t *wall_us)
{
    char file[512];
    struct stat st;
    int fd;
    void *p;

    snprintf(file, sizeof(file), "%s.%d", path, METRICS_LAYOUT);
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return C_ERR;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct shm) ||
        (p = mmap(NULL, sizeof(struct shm), PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        close(fd);
        return C_ERR;
    }
    close(fd);
    *wall_us = (int64_t)__atomic_load_n(&((const struct shm *)p)->acked_write_us, __ATOMIC_RELAXED);
    munmap(p, sizeof(struct shm));
    return C_OK;
}

struct out {
    char *p;
    size_t len, cap;
    int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = o->cap - o->len;
        va_start(ap, fmt);
        int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if (o->p && (size_t)n < room) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap ? o->cap * 2 : 8192) + (size_t)n;
        char *q = realloc(o->p, cap);
        if (!q) {
            o->failed = 1;
            return;
        }
        o->p = q;
        o->cap = cap;
    }
}

/* One counter family with one label: HELP and TYPE, then a sample per name. */
static void put_labelled(struct out *o, const char *name, const char *help, const char *label,
                         const char *const *names, const uint64_t *counters, int n)
{
    put(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int i = 0; i < n; i++)
        put(o, "%s{%s=\"%s\"} %llu\n", name, label, names[i],
            (unsigned long long)get(&counters[i]));
}

static const char *route_name(int r, const char *const *route_names, int n)
{
    return r < n ? route_names[r] : r == METRICS_ROUTES ? "none" : NULL;
}

int metrics_render(char **buf, size_t *len, const char *const *route_names, int n)
{
    struct out o = {0};

    put(&o,
        "# HELP commerce_build_info The running build.\n"
        "# TYPE commerce_build_info gauge\n"
        "commerce_build_info{version=\"%s\",revision=\"%s\"} 1\n",
        COMMERCE_VERSION, COMMERCE_REVISION);
    put(&o, "# HELP commerce_http_requests_total HTTP requests by route and status.\n"
            "# TYPE commerce_http_requests_total counter\n");
    for (int r = 0; r <= METRICS_ROUTES; r++) {
        const char *name = route_name(r, route_names, n);
        if (!name)
            continue;
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t v = get(&m->requests[r][s]);
            if (!v)
                continue;
            if (statuses[s])
                put(&o, "commerce_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", name,
                    statuses[s], (unsigned long long)v);
            else
                put(&o, "commerce_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", name,
                    (unsigned long long)v);
        }
    }
    put(&o, "# HELP commerce_http_request_duration_seconds Time in the worker per request, by"
            " route.\n"
            "# TYPE commerce_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= METRICS_ROUTES; r++) {
        const char *name = route_name(r, route_names, n);
        uint64_t cum = 0, b[NBUCKET + 1];
        for (size_t i = 0; i <= NBUCKET; i++)
            cum += b[i] = get(&m->buckets[r][i]);
        if (!name || !cum)
            continue;
        cum = 0;
        for (size_t i = 0; i < NBUCKET; i++) {
            cum += b[i];
            put(&o, "commerce_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                name, (double)bounds_us[i] / 1e6, (unsigned long long)cum);
        }
        cum += b[NBUCKET];
        put(&o, "commerce_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
            name, (unsigned long long)cum);
        put(&o, "commerce_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
            (double)get(&m->sum_us[r]) / 1e6);
        /* _count is the +Inf bucket as printed, so the two agree even while
         * other workers count concurrently. */
        put(&o, "commerce_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
            (unsigned long long)cum);
    }
    put_labelled(&o, "commerce_orders_total",
                 "Order placements (POST /orders, checkout) by outcome.", "outcome", order_names,
                 m->orders, M_ORDER_OUTCOMES);
    put(&o,
        "# HELP commerce_order_cancels_total Orders cancelled (and refunded).\n"
        "# TYPE commerce_order_cancels_total counter\n"
        "commerce_order_cancels_total %llu\n",
        (unsigned long long)get(&m->cancels));
    put_labelled(&o, "commerce_relay_deliveries_total",
                 "Delivery attempts of this host's relays, by outcome.", "outcome", delivery_names,
                 m->deliveries, M_DELIVERY_OUTCOMES);
    put_labelled(&o, "commerce_catalog_reads_total",
                 "Catalog reads (product list, popular list, a coupon) when replicas are"
                 " configured, by where they were served.",
                 "served", read_names, m->reads, M_READ_OUTCOMES);
    uint64_t acked = get(&m->acked_write_us);
    put(&o,
        "# HELP commerce_db_acked_write_timestamp_seconds When a worker or relay of this host last"
        " acknowledged a write to a client or the data platform (0: none since the metrics file"
        " was made).\n"
        "# TYPE commerce_db_acked_write_timestamp_seconds gauge\n"
        "commerce_db_acked_write_timestamp_seconds %llu.%06llu\n",
        (unsigned long long)(acked / 1000000), (unsigned long long)(acked % 1000000));
    put(&o,
        "# HELP commerce_metrics_shared 1 when this process counts in the host's shared metrics"
        " file (metrics_file), 0 when it counts alone: then every value here is one process's"
        " (commerce-failover refuses such an acknowledged-write gauge).\n"
        "# TYPE commerce_metrics_shared gauge\n"
        "commerce_metrics_shared %d\n",
        m != &private_shm);
    if (o.failed) {
        free(o.p);
        return C_ERR;
    }
    *buf = o.p;
    *len = o.len;
    return C_OK;
}
