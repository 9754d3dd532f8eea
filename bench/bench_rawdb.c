/* The raw-database limit for POST /orders: the same transaction the worker
 * runs (orders_place + the outbox row, via the same store code and prepared
 * statements), driven by N processes with one connection each, no HTTP, no
 * FastCGI, no JSON parsing. Prints committed transactions/s and latency
 * percentiles of the committed ones; failures are counted apart.
 *
 *   bench_rawdb (--config FILE | --socket S) [--procs N] [--seconds T]
 *               [--users U] [--products P] [--hot ID] [--mode M]
 *
 * --mode sends the same order another way (bench/rawdb_tx.h): proc (the
 * default: the service's two CALLs), proc-plain, batch, batch-exec, prepared.
 *
 * The configuration is the service's own (every setting the worker's store
 * code reads, e.g. db_lock_wait_timeout_s, has its default): --config reads a
 * complete file the way every program does (config_load: its *_file secrets
 * too; bench/run passes the stack's commerce.conf, the workers' account);
 * without it a small built-in text names the socket, root and the commerce
 * database. --socket overrides the socket; COMMERCE_<KEY> environment
 * variables override both, as in every program.
 *
 * Users 1..U and products 1..P must exist with ample balance and stock
 * (bench/run prepares them). --hot makes every order take product ID.
 * proc-plain calls bench_order_write_plain, which bench/run dbside creates
 * (bench/lib/plain_write.py).
 *
 * Output, one line (plus a FLAG line when failures exceed 0.1 % of attempts):
 *   rawdb mode=M procs=N seconds=T elapsed_s=E attempts=A tx=C failed=F tx_per_s=R
 *         p50_ms=X p99_ms=Y fail_retry=.. fail_reject=.. fail_down=.. fail_other=..
 * tx counts commits only; elapsed_s runs from the common start to the end of
 * the last transaction (one started before the deadline is finished). */
#include <getopt.h>
#include <mysql.h>
#include <signal.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/rc.h"
#include "common/util.h"
#include "store/db.h"

#include "rawdb_tx.h"

#define MAX_SAMPLES 2000000
#define MAX_PROCS 256

struct opts {
    const char *socket, *config;
    int procs, seconds, users, products, hot, mode;
};

/* What one client reports to the parent, followed by `commits` latencies. */
struct result {
    int64_t commits;
    int64_t fail_retry, fail_reject, fail_down, fail_other;
    int64_t last_end_us; /* monotonic time its last transaction ended */
};

static struct opts o = {NULL, NULL, 16, 10, 1000, 1000, 0, RAWDB_PROC};
static config_t cfg;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static const char *env_get(const char *name) { return getenv(name); }

static void report_config(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "bench_rawdb: %s\n", line);
}

/* Fill cfg: --config the way the programs read theirs (config_load), else a
 * built-in text; non-zero after printing the problems. */
static int load_config(void)
{
    char text[1024];
    int problems;

    if (o.socket)
        setenv("COMMERCE_DB_SOCKET", o.socket, 1);
    if (o.config) {
        setenv("COMMERCE_CONFIG", o.config, 1);
        problems = config_load(&cfg, CONFIG_TOOL);
    } else {
        /* the stack's administrator: the user running it, by unix_socket authentication */
        const struct passwd *pw = getpwuid(geteuid());
        snprintf(text, sizeof(text), "db_socket=%s\ndb_user=%s\ndb_name=commerce\n", o.socket,
                 pw ? pw->pw_name : "root");
        problems = config_parse(&cfg, text, env_get, report_config, NULL);
    }
    if (problems)
        fprintf(stderr, "bench_rawdb: %d configuration problem(s)\n", problems);
    return problems ? -1 : 0;
}

/* One client: connect, say ready, wait for the start (the go pipe closing),
 * loop for the duration, then write its result and the commit latencies (us). */
static void client(int idx, int ready_fd, int go_fd, int out_fd)
{
    rawdb_tx_t *tx = rawdb_tx_open(&cfg, o.mode);
    int64_t *lat = malloc(sizeof(int64_t) * MAX_SAMPLES);
    int64_t end, t0, t1;
    struct result r;
    char c = tx && lat ? 'r' : 'x';

    if (write(ready_fd, &c, 1) != 1 || c != 'r')
        _exit(1);
    close(ready_fd);
    if (read(go_fd, &c, 1) != 0) /* the parent closes it: everyone starts at once */
        _exit(1);
    memset(&r, 0, sizeof(r));
    srand((unsigned)(getpid() ^ idx));
    t1 = util_mono_us();
    end = t1 + (int64_t)o.seconds * 1000000;
    while (t1 < end && r.commits < MAX_SAMPLES) {
        int64_t user = 1 + rand() % o.users, product = o.hot ? o.hot : 1 + rand() % o.products;
        t0 = util_mono_us();
        int rc = rawdb_tx_order(tx, user, product);
        t1 = util_mono_us();
        if (rc == C_OK)
            lat[r.commits++] = t1 - t0;
        else if (rc == C_RETRY)
            r.fail_retry++;
        else if (rc == DB_REFUSED)
            r.fail_reject++;
        else if (rc == C_DOWN)
            r.fail_down++;
        else
            r.fail_other++;
    }
    r.last_end_us = t1;
    if (write(out_fd, &r, sizeof(r)) != sizeof(r) ||
        write(out_fd, lat, sizeof(int64_t) * (size_t)r.commits) !=
            (ssize_t)(sizeof(int64_t) * (size_t)r.commits))
        _exit(1);
    rawdb_tx_close(tx);
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

static int usage(void)
{
    fprintf(stderr, "usage: bench_rawdb (--config FILE | --socket S) [--procs N] [--seconds T] "
                    "[--users U] [--products P] [--hot ID] [--mode proc|proc-plain|batch|"
                    "batch-exec|prepared]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"socket", 1, 0, 's'},  {"config", 1, 0, 'f'}, {"procs", 1, 0, 'c'},
        {"seconds", 1, 0, 't'}, {"users", 1, 0, 'u'},  {"products", 1, 0, 'p'},
        {"hot", 1, 0, 'h'},     {"mode", 1, 0, 'm'},   {0, 0, 0, 0}};
    int ch, fds[MAX_PROCS], ready[2], go[2], bad = 0;
    pid_t pids[MAX_PROCS];
    int64_t *all, total = 0, start, last_end = 0;
    struct result sum;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 's':
            o.socket = optarg;
            break;
        case 'f':
            o.config = optarg;
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
        case 'm':
            o.mode = rawdb_mode_of(optarg);
            break;
        default:
            return usage();
        }
    }
    if ((!o.socket && !o.config) || optind != argc || o.procs < 1 || o.procs > MAX_PROCS ||
        o.seconds < 1 || o.users < 1 || o.products < 1 || o.hot < 0 || o.mode < 0)
        return usage();
    if (load_config() != 0)
        return 2;
    all = malloc(sizeof(int64_t) * MAX_SAMPLES * 4);
    if (!all || pipe(ready) != 0 || pipe(go) != 0)
        return 1;
    mysql_library_init(0, NULL, NULL);
    for (int i = 0; i < o.procs; i++) {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        pids[i] = fork();
        if (pids[i] < 0)
            return 1;
        if (pids[i] == 0) {
            close(p[0]);
            close(ready[0]);
            close(go[1]);
            client(i, ready[1], go[0], p[1]);
        }
        close(p[1]);
        fds[i] = p[0];
    }
    close(ready[1]);
    close(go[0]);
    /* Every client connected (or failed to), then all start together. */
    for (int i = 0; i < o.procs; i++) {
        char c;
        if (read_all(ready[0], &c, 1) != 0 || c != 'r')
            bad = 1;
    }
    if (bad) {
        fprintf(stderr, "bench_rawdb: a client could not connect\n");
        for (int i = 0; i < o.procs; i++)
            kill(pids[i], SIGTERM);
        for (int i = 0; i < o.procs; i++)
            waitpid(pids[i], NULL, 0);
        return 1;
    }
    start = util_mono_us();
    close(go[1]);
    memset(&sum, 0, sizeof(sum));
    for (int i = 0; i < o.procs; i++) {
        struct result r;
        if (read_all(fds[i], &r, sizeof(r)) || total + r.commits > MAX_SAMPLES * 4 ||
            read_all(fds[i], all + total, sizeof(int64_t) * (size_t)r.commits)) {
            if (!bad)
                fprintf(stderr, "bench_rawdb: client %d failed\n", i);
            bad = 1;
        } else {
            total += r.commits;
            sum.fail_retry += r.fail_retry;
            sum.fail_reject += r.fail_reject;
            sum.fail_down += r.fail_down;
            sum.fail_other += r.fail_other;
            if (r.last_end_us > last_end)
                last_end = r.last_end_us;
        }
        close(fds[i]);
        waitpid(pids[i], NULL, 0);
    }
    if (bad)
        return 1;

    int64_t failed = sum.fail_retry + sum.fail_reject + sum.fail_down + sum.fail_other;
    int64_t attempts = total + failed;
    double elapsed = last_end > start ? (double)(last_end - start) / 1e6 : (double)o.seconds;

    qsort(all, (size_t)total, sizeof(int64_t), cmp_i64);
    printf("rawdb mode=%s procs=%d seconds=%d elapsed_s=%.2f attempts=%lld tx=%lld failed=%lld "
           "tx_per_s=%.0f p50_ms=%.2f p99_ms=%.2f fail_retry=%lld fail_reject=%lld "
           "fail_down=%lld fail_other=%lld\n",
           rawdb_mode_name(o.mode), o.procs, o.seconds, elapsed, (long long)attempts,
           (long long)total, (long long)failed, (double)total / elapsed,
           total ? all[total / 2] / 1000.0 : 0, total ? all[total * 99 / 100] / 1000.0 : 0,
           (long long)sum.fail_retry, (long long)sum.fail_reject, (long long)sum.fail_down,
           (long long)sum.fail_other);
    if (failed * 1000 > attempts)
        printf("FLAG: failures exceed 0.1%% (rawdb: %lld of %lld attempts failed)\n",
               (long long)failed, (long long)attempts);
    free(all);
    mysql_library_end();
    return 0;
}
