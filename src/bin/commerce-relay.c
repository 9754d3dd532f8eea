/* commerce-relay: delivers the transactional outbox to the data platform.
 *
 *   commerce-relay                  run (until SIGTERM/SIGINT)
 *   commerce-relay status           backlog counts and the failed events
 *   commerce-relay replay [EVENT]   failed events (all, or one) back to pending
 *
 * Latency: the relay polls for due events every relay_poll_ms (default
 * 100 ms) with one indexed range query, and goes straight on while batches
 * come back full; an event normally reaches the platform within one poll
 * interval plus the HTTP round trip after its order commits. Several relays,
 * on any hosts, can run at once: claims use FOR UPDATE SKIP LOCKED and a
 * lease. Once a minute the relay also purges delivered events older than
 * relay_retention_hours and Idempotency-Keys older than
 * idempotency_retention_hours. */
#include <curl/curl.h>
#include <errno.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rc.h"
#include "common/util.h"
#include "relay/relay.h"
#include "store/db.h"
#include "store/idem.h"
#include "store/outbox.h"
#include "store/replicas.h"
#include "store/schema.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

/* The heartbeat the replicas' lag is measured against (store/replicas.h),
 * written every REPLICAS_BEAT_MS whatever the relay is doing. */
static int64_t last_beat_us;

static void beat(db_t *db)
{
    if (util_mono_us() - last_beat_us >= REPLICAS_BEAT_MS * 1000LL && replicas_beat(db) == C_OK)
        last_beat_us = util_mono_us();
}

/* Sleep ms, beating on time; a signal ends it early (stop is then checked). */
static void nap_ms(db_t *db, int64_t ms)
{
    for (int64_t left = ms; left > 0 && !stop; left -= REPLICAS_BEAT_MS) {
        int64_t step = left < REPLICAS_BEAT_MS ? left : REPLICAS_BEAT_MS;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};
        if (nanosleep(&ts, NULL) != 0)
            return;
        beat(db);
    }
}

static void print_failed(void *arg, const outbox_event_t *e, const char *error)
{
    (void)arg;
    printf("  %s  %-16s order %-8lld attempts %-3lld occurred %s  last error: %s\n", e->event_id,
           e->type, (long long)e->order_id, (long long)e->attempts, e->occurred_at, error);
}

static int cmd_status(db_t *db)
{
    outbox_stats_t s;
    int rc = outbox_stats(db, &s);

    if (rc != C_OK)
        return 1;
    printf("pending %lld (due now %lld), failed %lld, delivered %lld, oldest pending %s\n",
           (long long)s.pending, (long long)s.due, (long long)s.failed, (long long)s.delivered,
           s.oldest_pending[0] ? s.oldest_pending : "-");
    if (s.failed) {
        printf("failed events (replay with: commerce-relay replay [EVENT_ID]):\n");
        if (outbox_failed_list(db, 0, 1000, print_failed, NULL, NULL) != C_OK)
            return 1;
    }
    return 0;
}

static int cmd_replay(db_t *db, const char *event_id)
{
    int n = 0;
    if (outbox_replay(db, event_id, &n) != C_OK)
        return 1;
    printf("%d event(s) back to pending\n", n);
    return event_id && n == 0 ? 1 : 0;
}

/* Once a minute: drop delivered events and idempotency keys past their
 * retention, a bounded batch at a time (the next minute takes the rest). */
static void housekeeping(const config_t *cfg, db_t *db)
{
    int a = 0, b = 0;
    if (outbox_purge_delivered(db, cfg->relay_retention_hours, 10000, &a) == C_OK &&
        idem_purge(db, cfg->idempotency_retention_hours, 10000, &b) == C_OK && (a || b))
        log_info("housekeeping: removed %d delivered events, %d idempotency keys", a, b);
}

static int run(const config_t *cfg, db_t *db)
{
    relay_t *rl = relay_new(cfg, db);
    struct sigaction sa;
    int64_t total = 0, last_log = 0;

    if (!rl)
        return 1;
    metrics_open(cfg->metrics_file); /* its counters in the workers' /metrics on this host */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    log_info("relay %s delivering to %s (batch %lld, poll %lld ms, timeout %lld ms, %lld attempts)",
             relay_id(rl), cfg->data_platform_url, (long long)cfg->relay_batch_size,
             (long long)cfg->relay_poll_ms, (long long)cfg->relay_timeout_ms,
             (long long)cfg->relay_max_attempts);
    while (!stop) {
        int claimed = 0, delivered = 0;
        beat(db);
        int rc = relay_round(rl, &stop, &claimed, &delivered);
        total += delivered;
        if (rc != C_OK)
            nap_ms(db, 1000); /* database unreachable: the events wait in the outbox */
        else if (relay_pause_ms(rl) > 0)
            nap_ms(db, relay_pause_ms(rl)); /* the platform is unwell: probe it again after this */
        else if (claimed < cfg->relay_batch_size)
            nap_ms(db, cfg->relay_poll_ms);
        if (util_mono_us() - last_log > 60 * 1000000LL) {
            housekeeping(cfg, db);
            log_info("delivered %lld events so far", (long long)total);
            last_log = util_mono_us();
        }
    }
    log_info("stopped after delivering %lld events", (long long)total);
    relay_free(rl);
    return 0;
}

static const char usage[] =
    "usage: commerce-relay [status | replay [EVENT_ID]] | --help | --version\n"
    "Without a command: deliver the outbox's order events to the data platform, at least\n"
    "once, until SIGTERM. Any number of relays on any hosts share the work.\n"
    "  status            the backlog and the parked (FAILED) events\n"
    "  replay [EVENT_ID] a parked event (or all of them) back to pending";

int main(int argc, char **argv)
{
    config_t cfg;
    schema_guard_t guard;
    db_t *db;
    int rc;

    log_set_name("commerce-relay");
    if (argc == 2 && cli_standard(argv[1], "commerce-relay", usage, CONFIG_FOR_RELAY))
        return 0;
    if (argc > 3 || (argc >= 2 && strcmp(argv[1], "status") && strcmp(argv[1], "replay")) ||
        (argc == 3 && strcmp(argv[1], "replay"))) {
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    if (config_load(&cfg, argc == 1 ? CONFIG_RELAY : CONFIG_TOOL) != C_OK) {
        log_error("invalid configuration; see the lines above");
        return 2;
    }
    log_set_level_name(cfg.log_level);
    log_set_format_name(cfg.log_format);
    if (mysql_library_init(0, NULL, NULL) || curl_global_init(CURL_GLOBAL_DEFAULT))
        return 1;
    db = db_new(&cfg);
    if (!db)
        return 1;
    db_set_durable(db, config_durable(&cfg));
    /* Claims lock only the rows they take: under REPEATABLE READ the range
     * scan of FOR UPDATE SKIP LOCKED would also take gap locks, and an order
     * inserting its outbox row would wait for the claim to commit. */
    db_set_isolation(db, "READ COMMITTED");
    schema_guard(db, &guard, "commerce-relay", cfg.db_name);
    if (db_ensure(db) != C_OK && guard.refused) /* logged: the migration to apply */
        rc = 1;
    else if (argc == 1)
        rc = run(&cfg, db);
    else if (strcmp(argv[1], "status") == 0)
        rc = cmd_status(db);
    else
        rc = cmd_replay(db, argc == 3 ? argv[2] : NULL);
    db_free(db);
    curl_global_cleanup();
    mysql_library_end();
    return rc;
}
