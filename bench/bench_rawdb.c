/* The raw-database limit for POST /orders: the same transaction the worker
 * runs (orders_place + the outbox row, via the same store code and prepared
 * statements), driven by N processes with one connection each, no HTTP, no
 * FastCGI, no JSON parsing. Prints transactions/s and latency percentiles.
 *
 *   bench_rawdb --socket S [--procs N] [--seconds T] [--users U]
 *               [--products P] [--hot ID]
 *
 * Users 1..U and products 1..P must exist with ample balance and stock
 * (bench/run prepares them). --hot makes every order take product ID. */
#include <getopt.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/rc.h"
#include "common/util.h"
#include "store/db.h"
#include "store/orders.h"
#include "store/outbox.h"

#define MAX_SAMPLES 2000000

struct opts {
    const char *socket;
    int procs, seconds, users, products, hot;
};

static struct opts o = {NULL, 16, 10, 1000, 1000, 0};
static order_t order_buf;

static int place_tx(db_t *db, void *arg)
{
    static const char payload[] =
        "{\"orderId\":0,\"userId\":0,\"status\":\"PAID\",\"items\":[{\"productId\":1,\"name\":"
        "\"Product 1\",\"quantity\":1,\"unitPrice\":1000,\"amount\":1000}],\"subtotal\":1000,"
        "\"discount\":0,\"total\":1000,\"couponId\":null,\"balance\":0,\"createdAt\":"
        "\"2026-11-21T10:00:00.000Z\",\"cancelledAt\":null}";
    struct order_place *p = arg;
    char when[UTIL_TIME_LEN];
    int rc = orders_place(db, p);

    if (rc != C_OK)
        return rc;
    util_time_sql(p->order->created_at, when);
    return outbox_add(db, "ORDER_PAID", p->order->id, payload, sizeof(payload) - 1, when, NULL);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One client: loop for the duration, write "count" then the latencies (us). */
static void client(int idx, int fd)
{
    config_t cfg;
    db_t *db;
    int64_t *lat = malloc(sizeof(int64_t) * MAX_SAMPLES);
    int64_t n = 0, fails = 0, end;
    struct order_place p;

    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.db_socket, sizeof(cfg.db_socket), "%s", o.socket);
    snprintf(cfg.db_user, sizeof(cfg.db_user), "root");
    snprintf(cfg.db_name, sizeof(cfg.db_name), "commerce");
    db = db_new(&cfg);
    if (!db || !lat || db_ensure(db) != C_OK)
        _exit(1);
    srand((unsigned)(getpid() ^ idx));
    end = util_mono_us() + (int64_t)o.seconds * 1000000;
    while (util_mono_us() < end && n < MAX_SAMPLES) {
        memset(&p, 0, sizeof(p));
        p.user_id = 1 + rand() % o.users;
        p.n = 1;
        p.lines[0].product_id = o.hot ? o.hot : 1 + rand() % o.products;
        p.lines[0].quantity = 1;
        p.order = &order_buf;
        int64_t t0 = util_mono_us();
        if (db_tx(db, place_tx, &p) != C_OK)
            fails++;
        lat[n++] = util_mono_us() - t0;
    }
    if (write(fd, &n, sizeof(n)) != sizeof(n) ||
        write(fd, &fails, sizeof(fails)) != sizeof(fails) ||
        write(fd, lat, sizeof(int64_t) * (size_t)n) != (ssize_t)(sizeof(int64_t) * (size_t)n))
        _exit(1);
    db_free(db);
    free(lat);
    _exit(0);
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t r = read(fd, p, len);
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"socket", 1, 0, 's'}, {"procs", 1, 0, 'c'},    {"seconds", 1, 0, 't'},
        {"users", 1, 0, 'u'},  {"products", 1, 0, 'p'}, {"hot", 1, 0, 'h'},
        {0, 0, 0, 0}};
    int ch, fds[256];
    pid_t pids[256];
    int64_t *all, total = 0, fails = 0;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 's':
            o.socket = optarg;
            break;
        case 'c':
            o.procs = atoi(optarg);
            break;
        case 't':
            o.seconds = atoi(optarg);
            break;
        case 'u':
            o.users = atoi(optarg);
            break;
        case 'p':
            o.products = atoi(optarg);
            break;
        case 'h':
            o.hot = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (!o.socket || o.procs < 1 || o.procs > 256 || o.seconds < 1 || o.users < 1 ||
        o.products < 1) {
        fprintf(stderr, "usage: bench_rawdb --socket S [--procs N] [--seconds T] [--users U] "
                        "[--products P] [--hot ID]\n");
        return 2;
    }
    mysql_library_init(0, NULL, NULL);
    for (int i = 0; i < o.procs; i++) {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        pids[i] = fork();
        if (pids[i] == 0) {
            close(p[0]);
            client(i, p[1]);
        }
        close(p[1]);
        fds[i] = p[0];
    }
    all = malloc(sizeof(int64_t) * MAX_SAMPLES * 4);
    for (int i = 0; i < o.procs; i++) {
        int64_t n, f;
        if (read_all(fds[i], &n, sizeof(n)) || read_all(fds[i], &f, sizeof(f)) ||
            total + n > MAX_SAMPLES * 4 ||
            read_all(fds[i], all + total, sizeof(int64_t) * (size_t)n)) {
            fprintf(stderr, "client %d failed\n", i);
            return 1;
        }
        total += n;
        fails += f;
        close(fds[i]);
        waitpid(pids[i], NULL, 0);
    }
    qsort(all, (size_t)total, sizeof(int64_t), cmp_i64);
    printf("rawdb procs=%d seconds=%d tx=%lld failed=%lld tx_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
           o.procs, o.seconds, (long long)total, (long long)fails, (double)total / o.seconds,
           total ? all[total / 2] / 1000.0 : 0, total ? all[total * 99 / 100] / 1000.0 : 0);
    free(all);
    mysql_library_end();
    return 0;
}
