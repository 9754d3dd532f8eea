/* commerce-failover: promote a MariaDB replica only when it holds every write
 * the service acknowledged, or refuse and say why; open a primary; fence one.
 *
 *   commerce-failover [OPTIONS] check     what a promotion would decide, changing nothing
 *   commerce-failover [OPTIONS] promote   fence the old primary if reachable, decide,
 *                                         then STOP SLAVE, RESET SLAVE ALL, read_only=OFF
 *   commerce-failover [OPTIONS] open      lift read_only on a primary (its first start, or
 *                                         a restart while it is still the primary)
 *   commerce-failover [OPTIONS] fence     set read_only on a primary
 *
 * The rule is core/promotion.c's; this file gathers the evidence (the servers'
 * replication state and GTID positions, the replica's copy of the heartbeat,
 * each worker host's commerce_db_acked_write_timestamp_seconds) and acts.
 * It connects as a MariaDB administrator: the user the option files name
 * ([client] and [commerce-failover] groups; --defaults-file FILE), else the
 * operating system user by unix_socket authentication. Never a password on
 * the command line. Exit status: 0 done (or safe), 1 refused, 2 usage, 3 a
 * server could not be reached or a statement failed. */
#include <curl/curl.h>
#include <errmsg.h>
#include <errno.h>
#include <getopt.h>
#include <mysql.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/metrics.h"
#include "common/util.h"
#include "core/promotion.h"

#define MAX_METRICS 64
enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_FAILED = 3 };

struct opts {
    const char *replica_socket, *replica_host, *primary_socket, *primary_host;
    const char *defaults_file, *user, *database, *acked_until;
    const char *metrics[MAX_METRICS], *metrics_files[MAX_METRICS];
    int nmetrics, nfiles;
    int64_t margin_ms, wait_s;
    bool force;
};

static const char usage[] =
    "usage: commerce-failover [OPTIONS] check | promote | open | fence\n"
    "Promote a MariaDB replica to primary only when it holds every write the commerce service\n"
    "acknowledged (else refuse, naming what may be missing); open a primary; fence one.\n"
    "  check                 gather the evidence and say what a promotion would decide\n"
    "  promote               fence the old primary when it can be reached, decide, promote\n"
    "  open                  lift read_only on --primary (its first start, or a restart while\n"
    "                        it is still the primary; refused when --replica is writable)\n"
    "  fence                 set read_only on --primary\n"
    "  --replica-socket PATH | --replica-host HOST[:PORT]   the replica to promote\n"
    "  --primary-socket PATH | --primary-host HOST[:PORT]   the old primary (when reachable)\n"
    "  --metrics URL         a worker host's /metrics (repeat for every worker host)\n"
    "  --metrics-file PATH   a host's shared metrics file (metrics_file), read directly\n"
    "  --acked-until TIME    the last acknowledged write, as Unix seconds or\n"
    "                        YYYY-MM-DDTHH:MM:SS[.ffffff]Z (instead of, or besides, --metrics)\n"
    "  --margin-ms N         clock difference and heartbeat period allowed for (default 500)\n"
    "  --wait-s N            for the replica to apply or catch up (default 30)\n"
    "  --force               promote (or open) even when refused, saying what may be lost\n"
    "  --defaults-file FILE  MariaDB client options (user, password) for both servers\n"
    "  --user NAME           the administrator account (default: the option files', else\n"
    "                        the operating system user, by unix_socket)\n"
    "  --database NAME       the shop's database (default commerce)";

/* ---- MariaDB ---------------------------------------------------------------- */

/* Connect to a server by socket or HOST[:PORT]; NULL with a message, and
 * *why (may be NULL) the client's error number (0: not a connect error). */
static MYSQL *connect_to(const struct opts *o, const char *sock, const char *hostport,
                         unsigned read_timeout_s, unsigned *why)
{
    char host[256] = "";
    unsigned port = 0, connect_timeout = 3, rw = read_timeout_s;
    MYSQL *my = mysql_init(NULL);

    if (why)
        *why = 0;
    if (!my)
        return NULL;
    if (hostport) {
        const char *colon = strrchr(hostport, ':');
        int64_t p = 3306;
        if (colon && strchr(hostport, ':') == colon && util_parse_i64(colon + 1, &p) == 0 &&
            p > 0 && p < 65536) {
            snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
        } else {
            snprintf(host, sizeof(host), "%s", hostport);
            p = 3306;
        }
        port = (unsigned)p;
    }
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    if (o->defaults_file)
        mysql_options(my, MYSQL_READ_DEFAULT_FILE, o->defaults_file);
    mysql_options(my, MYSQL_READ_DEFAULT_GROUP, "commerce-failover");
    if (!mysql_real_connect(my, sock ? NULL : host, o->user, NULL, NULL, port, sock, 0)) {
        fprintf(stderr, "commerce-failover: cannot connect to %s: %s\n", sock ? sock : hostport,
                mysql_error(my));
        if (why)
            *why = mysql_errno(my);
        mysql_close(my);
        return NULL;
    }
    if (mysql_query(my, "SET time_zone = '+00:00'") != 0) {
        fprintf(stderr, "commerce-failover: %s\n", mysql_error(my));
        mysql_close(my);
        return NULL;
    }
    return my;
}

static int sql(MYSQL *my, const char *q)
{
    if (mysql_query(my, q) == 0) {
        MYSQL_RES *res = mysql_store_result(my);
        mysql_free_result(res);
        return 0;
    }
    fprintf(stderr, "commerce-failover: %s: %s\n", q, mysql_error(my));
    return -1;
}

/* The first column of the first row as text, whole: a failure when there is
 * no row, the value is NULL or it does not fit in cap (a GTID position cut
 * short would name an earlier position: a replica "caught up" too soon). */
static int sql_text(MYSQL *my, const char *q, char *out, size_t cap)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    const char *why = NULL;

    out[0] = '\0';
    if (mysql_query(my, q) != 0 || !(res = mysql_store_result(my))) {
        fprintf(stderr, "commerce-failover: %s: %s\n", q, mysql_error(my));
        return -1;
    }
    if (!(row = mysql_fetch_row(res)) || !row[0])
        why = "no value (NULL)";
    else if ((size_t)snprintf(out, cap, "%s", row[0]) >= cap)
        why = "a value longer than this program takes";
    mysql_free_result(res);
    if (why) {
        fprintf(stderr, "commerce-failover: %s: %s\n", q, why);
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static int sql_int(MYSQL *my, const char *q, int64_t *out)
{
    char t[64], *end;
    if (sql_text(my, q, t, sizeof(t)) != 0)
        return -1;
    errno = 0;
    *out = strtoll(t, &end, 10);
    if (end == t || *end || errno) {
        fprintf(stderr, "commerce-failover: %s: not an integer: %s\n", q, t);
        return -1;
    }
    return 0;
}

/* What SHOW SLAVE STATUS says (found = 0: the server replicates from no one). */
struct slave {
    bool found, io_running, sql_running;
    char master[300], master_file[256], exec_file[256], io_error[512], sql_error[512];
    int64_t read_pos, exec_pos;
};

static int slave_status(MYSQL *my, struct slave *s)
{
    MYSQL_RES *res;
    MYSQL_ROW row;

    memset(s, 0, sizeof(*s));
    if (mysql_query(my, "SHOW SLAVE STATUS") != 0 || !(res = mysql_store_result(my))) {
        fprintf(stderr, "commerce-failover: SHOW SLAVE STATUS: %s\n", mysql_error(my));
        return -1;
    }
    if ((row = mysql_fetch_row(res))) {
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        char host[256] = "", port[16] = "";
        s->found = true;
        for (unsigned i = 0; i < mysql_num_fields(res); i++) {
            const char *v = row[i] ? row[i] : "", *n = f[i].name;
            if (!strcmp(n, "Master_Host"))
                snprintf(host, sizeof(host), "%s", v);
            else if (!strcmp(n, "Master_Port"))
                snprintf(port, sizeof(port), "%s", v);
            else if (!strcmp(n, "Slave_IO_Running")) /* Yes, or Connecting: not stopped */
                s->io_running = strcmp(v, "No") != 0;
            else if (!strcmp(n, "Slave_SQL_Running"))
                s->sql_running = !strcmp(v, "Yes");
            else if (!strcmp(n, "Master_Log_File"))
                snprintf(s->master_file, sizeof(s->master_file), "%s", v);
            else if (!strcmp(n, "Read_Master_Log_Pos"))
                s->read_pos = strtoll(v, NULL, 10);
            else if (!strcmp(n, "Relay_Master_Log_File"))
                snprintf(s->exec_file, sizeof(s->exec_file), "%s", v);
            else if (!strcmp(n, "Exec_Master_Log_Pos"))
                s->exec_pos = strtoll(v, NULL, 10);
            else if (!strcmp(n, "Last_IO_Error"))
                snprintf(s->io_error, sizeof(s->io_error), "%s", v);
            else if (!strcmp(n, "Last_SQL_Error"))
                snprintf(s->sql_error, sizeof(s->sql_error), "%s", v);
        }
        snprintf(s->master, sizeof(s->master), "%s:%s", host, port);
    }
    mysql_free_result(res);
    return 0;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Wait (up to wait_s) until the SQL thread has applied every event the IO
 * thread received. 1 applied, 0 not in time, -1 on a failure. */
static int wait_applied(MYSQL *my, int64_t wait_s)
{
    int64_t deadline = util_mono_us() + wait_s * 1000000;
    struct slave s;

    for (;;) {
        if (slave_status(my, &s) != 0)
            return -1;
        if (!s.found || (s.read_pos == s.exec_pos && !strcmp(s.master_file, s.exec_file)))
            return 1;
        if (!s.sql_running && s.sql_error[0]) {
            fprintf(stderr, "commerce-failover: the replica's SQL thread stopped: %s\n",
                    s.sql_error);
            return 0;
        }
        if (util_mono_us() > deadline)
            return 0;
        nap_ms(100);
    }
}

/* The replica's copy of the heartbeat into e (hb_found 0 when there is none). */
static int read_heartbeat(MYSQL *my, const char *database, promotion_evidence_t *e)
{
    char q[512];
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool full = true;

    snprintf(q, sizeof(q),
             "SELECT CAST(UNIX_TIMESTAMP(at) * 1000000 AS INTEGER), semi_sync, semi_sync_clients,"
             " semi_sync_timeout_ms, semi_sync_at = at,"
             " CAST(UNIX_TIMESTAMP(acked_beat_at) * 1000000 AS INTEGER)"
             " FROM `%s`.commerce_heartbeat WHERE id = 1",
             database);
    if (mysql_query(my, q) != 0 && mysql_errno(my) == 1054) { /* a schema before the columns */
        full = false;
        snprintf(q, sizeof(q),
                 "SELECT CAST(UNIX_TIMESTAMP(at) * 1000000 AS INTEGER) FROM `%s`.commerce_heartbeat"
                 " WHERE id = 1",
                 database);
        if (mysql_query(my, q) != 0)
            goto failed;
    } else if (mysql_errno(my)) {
        goto failed;
    }
    if (!(res = mysql_store_result(my)))
        goto failed;
    if ((row = mysql_fetch_row(res)) && row[0]) {
        e->hb_found = true;
        e->hb_us = strtoll(row[0], NULL, 10);
        if (full && row[1] && row[2] && row[3] && row[4] && !strcmp(row[4], "1")) {
            e->hb_semi_known = true;
            e->hb_semi_on = strcmp(row[1], "0") != 0;
            e->hb_clients = strtoll(row[2], NULL, 10);
            e->hb_timeout_ms = strtoll(row[3], NULL, 10);
            if (row[5]) { /* written by a relay that knew of an acknowledged beat */
                e->hb_acked_known = true;
                e->hb_acked_us = strtoll(row[5], NULL, 10);
            }
        }
    }
    mysql_free_result(res);
    return 0;
failed:
    fprintf(stderr, "commerce-failover: the heartbeat: %s\n", mysql_error(my));
    return -1;
}

/* ---- the acknowledged writes ------------------------------------------------- */

/* A scraped /metrics (1 MiB at most). */
static struct body {
    char buf[1 << 20];
    size_t len;
} scraped;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t k = size * n, room = sizeof(b->buf) - 1 - b->len;
    memcpy(b->buf + b->len, p, k < room ? k : room);
    b->len += k < room ? k : room;
    return k;
}

/* commerce_db_acked_write_timestamp_seconds of one host's /metrics, in us:
 * one attempt of at most timeout_ms. */
static int scrape_once(const char *url, long timeout_ms, int64_t *us, bool *shared, char *err,
                       size_t cap)
{
    struct body *b = &scraped;
    CURL *cu = curl_easy_init();
    long status = 0;
    CURLcode cc;
    const char *name = "\ncommerce_db_acked_write_timestamp_seconds ";

    b->len = 0;
    if (!cu)
        return -1;
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, b);
    cc = curl_easy_perform(cu);
    if (cc == CURLE_OK)
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(cu);
    b->buf[b->len] = '\0';
    if (cc != CURLE_OK) {
        snprintf(err, cap, "%s: %s", url, curl_easy_strerror(cc));
        return -1;
    }
    const char *p = strstr(b->buf, name);
    if (status != 200 || !p) {
        snprintf(err, cap, "%s: HTTP %ld%s", url, status, p ? "" : ", no acknowledged-write gauge");
        return -1;
    }
    *us = (int64_t)(strtod(p + strlen(name), NULL) * 1e6 + 0.5);
    /* a process that could not map the host's metrics file shows its own value */
    *shared = strstr(b->buf, "\ncommerce_metrics_shared 1\n") != NULL;
    return 0;
}

/* The same, tried again for up to wait_s: right after the primary died the
 * host's workers may all be busy a few seconds, finding out what became of
 * the commits they had under way (and nginx answers /metrics through them). */
static int scrape(const char *url, int64_t wait_s, int64_t *us, bool *shared, char *err, size_t cap)
{
    int64_t deadline = util_mono_us() + wait_s * 1000000;
    for (;;) {
        int64_t left_ms = (deadline - util_mono_us()) / 1000;
        if (scrape_once(url, left_ms < 10000 ? (left_ms > 1000 ? (long)left_ms : 1000L) : 10000L,
                        us, shared, err, cap) == 0)
            return 0;
        if (util_mono_us() + 1000000 >= deadline)
            return -1;
        fprintf(stderr, "commerce-failover: %s; trying again\n", err);
        nap_ms(1000);
    }
}

/* --acked-until: Unix seconds (a fraction allowed) or YYYY-MM-DDTHH:MM:SS[.f]Z,
 * up to the end of year 9999. */
#define PARSE_TIME_MAX_S 253402300799.0
static int parse_time(const char *s, int64_t *us)
{
    struct tm tm;
    char *end;

    memset(&tm, 0, sizeof(tm));
    double d = strtod(s, &end);
    if (end != s && *end == '\0') {
        if (!(d >= 0 && d <= PARSE_TIME_MAX_S)) /* NaN, inf, 1e30: no int64_t of us */
            return -1;
        *us = (int64_t)(d * 1e6 + 0.5);
        return 0;
    }
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    double frac = 0;
    if (*end == '.') {
        char *after;
        frac = strtod(end, &after);
        end = after;
    }
    if (strcmp(end, "Z") != 0 || !(frac >= 0 && frac < 1))
        return -1;
    time_t secs = timegm(&tm);
    if (secs < 0 || (double)secs > PARSE_TIME_MAX_S)
        return -1;
    *us = (int64_t)secs * 1000000 + (int64_t)(frac * 1e6 + 0.5);
    return 0;
}

/* T_ack: the latest of every source; ack_known only when every one answered
 * with a host's shared gauge. A gauge reading 0 (nothing acknowledged since
 * its metrics file was made: a host rebooted, /run being tmpfs) proves
 * nothing: unknown, unless the operator gives --acked-until. */
static void acked_writes(const struct opts *o, promotion_evidence_t *e)
{
    char err[sizeof(e->ack_source)], t[PROMOTION_TIME_LEN];
    const char *zero = NULL;

    e->ack_known = o->nmetrics > 0 || o->nfiles > 0 || o->acked_until;
    e->ack_us = 0;
    for (int k = 0; k < o->nfiles + o->nmetrics; k++) {
        bool file = k < o->nfiles, shared = true;
        const char *src = file ? o->metrics_files[k] : o->metrics[k - o->nfiles];
        int64_t us = 0;
        int failed = file ? metrics_read_acked(src, &us)
                          : scrape(src, o->wait_s, &us, &shared, err, sizeof(err));
        if (failed) {
            e->ack_known = false;
            if (file)
                snprintf(e->ack_source, sizeof(e->ack_source), "%s: cannot read: %s", src,
                         strerror(errno));
            else
                snprintf(e->ack_source, sizeof(e->ack_source), "%s", err);
            return;
        }
        if (!shared) {
            e->ack_known = false;
            snprintf(e->ack_source, sizeof(e->ack_source),
                     "%s: its counters are not shared (commerce_metrics_shared is not 1:"
                     " metrics_file unset or unusable), so it shows one process's writes",
                     src);
            return;
        }
        promotion_fmt_time(us, t);
        printf("  %s: writes acknowledged until %s\n", src, us ? t : "never (reads 0)");
        if (!us && !zero)
            zero = src;
        if (us > e->ack_us) {
            e->ack_us = us;
            snprintf(e->ack_source, sizeof(e->ack_source), "%s", src);
        }
    }
    if (o->acked_until) {
        int64_t us = 0;
        if (parse_time(o->acked_until, &us) != 0) { /* main checked it */
            e->ack_known = false;
            snprintf(e->ack_source, sizeof(e->ack_source), "--acked-until %s: not a time",
                     o->acked_until);
            return;
        }
        if (us >= e->ack_us) {
            e->ack_us = us;
            snprintf(e->ack_source, sizeof(e->ack_source), "--acked-until");
        }
    } else if (zero) {
        e->ack_known = false;
        snprintf(e->ack_source, sizeof(e->ack_source),
                 "%s reads 0: nothing acknowledged since its metrics file was made, which proves"
                 " nothing (a host that rebooted lost it: /run is tmpfs)",
                 zero);
    }
    if (!e->ack_known && !e->ack_source[0])
        snprintf(e->ack_source, sizeof(e->ack_source), "no --metrics and no --acked-until given");
}

/* ---- the commands ------------------------------------------------------------ */

/* What a promotion changed before promoting, to undo when it refuses or
 * fails before its own statements. */
struct changes {
    bool fenced;       /* it set read_only = ON on the old primary */
    bool was_writable; /* whose @@read_only was 0 before */
    bool io_stopped;   /* it stopped the replica's IO thread */
};

/* Put back what c says was changed; says what is left. */
static void undo(MYSQL *primary, MYSQL *replica, const struct changes *c)
{
    if (c->fenced && !c->was_writable)
        printf("the old primary stays read_only, as it was before\n");
    else if (c->fenced && sql(primary, "SET GLOBAL read_only = OFF") == 0)
        printf("the old primary takes writes again (read_only = OFF, as it was)\n");
    else if (c->fenced)
        printf("LEFT CHANGED: the old primary stays fenced (read_only = ON); `open` it to let it"
               " take writes again\n");
    if (c->io_stopped && sql(replica, "START SLAVE IO_THREAD") == 0)
        printf("the replica replicates again\n");
    else if (c->io_stopped)
        printf("LEFT CHANGED: the replica's IO thread stays stopped; START SLAVE IO_THREAD on it"
               " to replicate again\n");
}

/* The fenced (or, for check, merely reached) primary: its last commit, and
 * whether the replica reaches it within wait_s. */
static int against_primary(const struct opts *o, MYSQL *primary, MYSQL *replica, bool fence,
                           promotion_evidence_t *e, struct changes *c)
{
    char q[700];
    int64_t got = -1, read_only = 1;

    if (fence) {
        if (sql_int(primary, "SELECT @@GLOBAL.read_only", &read_only) != 0 ||
            sql(primary, "SET GLOBAL read_only = ON") != 0)
            return -1;
        c->fenced = e->primary_fenced = true;
        c->was_writable = read_only == 0;
        printf("fenced the old primary: read_only = ON (it takes no more writes)\n");
    }
    if (sql_text(primary, "SELECT @@GLOBAL.gtid_binlog_pos", e->primary_pos,
                 sizeof(e->primary_pos)) != 0)
        return -1;
    printf("the old primary's last commit: %s; waiting up to %lld s for the replica to reach"
           " it\n",
           e->primary_pos[0] ? e->primary_pos : "(none)", (long long)o->wait_s);
    snprintf(q, sizeof(q), "SELECT MASTER_GTID_WAIT('%s', %lld)", e->primary_pos,
             (long long)o->wait_s);
    if (sql_int(replica, q, &got) != 0)
        return -1;
    e->caught_up = got == 0;
    return 0;
}

/* A connect error that says the server is not there (down, its host
 * unreachable, gone during the handshake): only then may a promotion go by
 * the evidence. Any other (access denied, too many connections, ...) is a
 * server that may well be up and taking writes. */
static bool unreachable(unsigned err)
{
    return err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR || err == CR_SERVER_GONE_ERROR ||
           err == CR_SERVER_LOST || err == CR_SERVER_LOST_EXTENDED;
}

/* The promotion's own statements; on a failure, says what is left. */
static int promote(MYSQL *primary, MYSQL *replica, const struct changes *c)
{
    static const char *const steps[] = {"STOP SLAVE", "RESET SLAVE ALL",
                                        "SET GLOBAL read_only = OFF"};
    static const char *const left[] = {
        NULL,
        "the replica's replication is stopped but not forgotten (START SLAVE resumes it)",
        "the replica replicates from no one but is still read_only (`open` it to finish)",
    };

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (sql(replica, steps[i]) == 0)
            continue;
        if (i == 0) { /* nothing of the promotion happened */
            undo(primary, replica, c);
        } else {
            printf("LEFT CHANGED: the promotion stopped part-way: %s", left[i]);
            printf(c->fenced ? "; the old primary stays fenced (read_only = ON)\n" : "\n");
        }
        return -1;
    }
    return 0;
}

static int cmd_promote(const struct opts *o, bool act)
{
    promotion_evidence_t e;
    struct changes c = {false, false, false};
    struct slave s;
    char why[8192];
    int64_t read_only = 1, semi = 0;
    MYSQL *replica, *primary = NULL;
    int rc = EXIT_FAILED;

    memset(&e, 0, sizeof(e));
    e.margin_ms = o->margin_ms;
    if (!o->replica_socket && !o->replica_host) {
        fprintf(stderr, "commerce-failover: %s needs --replica-socket or --replica-host\n",
                act ? "promote" : "check");
        return EXIT_USAGE;
    }
    if (!(replica =
              connect_to(o, o->replica_socket, o->replica_host, (unsigned)o->wait_s + 30, NULL)))
        return EXIT_FAILED;
    if (slave_status(replica, &s) != 0 || sql_int(replica, "SELECT @@GLOBAL.read_only", &read_only))
        goto out;
    if (!s.found) {
        if (!read_only) {
            printf("the server is a primary already (it replicates from no one and takes"
                   " writes): nothing to promote\n");
            rc = EXIT_DONE;
        } else {
            printf("REFUSED: the server replicates from no one, so nothing says what it lacks"
                   " (an old primary?); `open` a lone primary, or make it a replica first\n");
            rc = EXIT_REFUSED;
        }
        goto out;
    }
    printf("replica: replicating from %s (IO thread %s, SQL thread %s)\n", s.master,
           s.io_running ? "on" : "stopped", s.sql_running ? "running" : "stopped");
    if (o->primary_socket || o->primary_host) {
        unsigned err = 0;
        primary = connect_to(o, o->primary_socket, o->primary_host, (unsigned)o->wait_s + 30, &err);
        if (!primary && !unreachable(err)) {
            printf("FAILED: the old primary answered but the login failed (error %u, above): it"
                   " may be up and taking writes, so nothing is decided and nothing was changed."
                   " Fix the account (--defaults-file, --user), or leave out --primary-... once"
                   " it is known down\n",
                   err);
            goto out;
        }
        if (!primary)
            printf("the old primary cannot be reached: deciding on the evidence\n");
    }
    if (primary) {
        e.primary_reached = true;
        if (against_primary(o, primary, replica, act, &e, &c) != 0)
            goto failed;
    } else {
        if (act && s.io_running) {
            if (sql(replica, "STOP SLAVE IO_THREAD") != 0)
                goto failed;
            c.io_stopped = true;
        }
        int applied = wait_applied(replica, o->wait_s);
        if (applied < 0)
            goto failed;
        e.applied = applied == 1;
        if (read_heartbeat(replica, o->database, &e) != 0 ||
            sql_int(replica,
                    "SELECT COUNT(*) FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME"
                    " = 'RPL_SEMI_SYNC_SLAVE_ENABLED' AND VARIABLE_VALUE = 'ON'",
                    &semi) != 0)
            goto failed;
        e.replica_semi_sync = semi > 0;
        acked_writes(o, &e);
    }
    if (sql_text(replica, "SELECT @@GLOBAL.gtid_current_pos", e.replica_pos,
                 sizeof(e.replica_pos)) != 0)
        goto failed;
    enum promotion_verdict v = promotion_decide(&e, why, sizeof(why));
    fputs(why, stdout);
    if (!promotion_safe(v) && !(act && o->force)) {
        rc = EXIT_REFUSED;
        undo(primary, replica, &c); /* refused: both servers as they were */
        goto out;
    }
    if (!act) {
        rc = EXIT_DONE;
        goto out;
    }
    if (!promotion_safe(v))
        printf("--force: promoting anyway; whatever the old primary committed after %s is lost\n",
               e.replica_pos[0] ? e.replica_pos : "(nothing)");
    if (promote(primary, replica, &c) != 0)
        goto out;
    printf("promoted: the replica is the primary now (replication stopped and forgotten,"
           " read_only = OFF).\nPoint the programs' stable name (DNS, virtual IP) at it;"
           " keep the old primary fenced.\n");
    rc = EXIT_DONE;
    goto out;
failed: /* a statement failed before anything was decided: put back what was changed */
    undo(primary, replica, &c);
out:
    if (primary)
        mysql_close(primary);
    mysql_close(replica);
    return rc;
}

/* The server --primary-... names, for CMD: NULL with *rc the exit status
 * when it is not named or cannot be reached. */
static MYSQL *the_primary(const struct opts *o, const char *cmd, int *rc)
{
    MYSQL *my;

    if (!o->primary_socket && !o->primary_host) {
        fprintf(stderr, "commerce-failover: %s needs --primary-socket or --primary-host\n", cmd);
        *rc = EXIT_USAGE;
        return NULL;
    }
    if (!(my = connect_to(o, o->primary_socket, o->primary_host, 30, NULL)))
        *rc = EXIT_FAILED;
    return my;
}

static int cmd_open(const struct opts *o)
{
    struct slave s;
    int64_t peer_ro = 1;
    MYSQL *my, *peer;
    int rc = EXIT_FAILED;

    if (!(my = the_primary(o, "open", &rc)))
        return rc;
    if (slave_status(my, &s) != 0)
        goto out;
    if (s.found) {
        printf("REFUSED: the server is a replica of %s; promote it instead\n", s.master);
        rc = EXIT_REFUSED;
        goto out;
    }
    if (o->replica_socket || o->replica_host) {
        peer = connect_to(o, o->replica_socket, o->replica_host, 30, NULL);
        if (!peer && !o->force) {
            printf("REFUSED: cannot make sure the other server (%s) takes no writes; once it is"
                   " known down, open without --replica-... (or with --force)\n",
                   o->replica_socket ? o->replica_socket : o->replica_host);
            rc = EXIT_REFUSED;
            goto out;
        }
        if (peer) {
            int failed = sql_int(peer, "SELECT @@GLOBAL.read_only", &peer_ro);
            mysql_close(peer);
            if (failed)
                goto out;
            if (!peer_ro && !o->force) {
                printf("REFUSED: the other server (%s) takes writes: it was promoted, and two"
                       " writable primaries would split the shop. Make this one its replica"
                       " instead\n",
                       o->replica_socket ? o->replica_socket : o->replica_host);
                rc = EXIT_REFUSED;
                goto out;
            }
        }
    }
    if (sql(my, "SET GLOBAL read_only = OFF") != 0)
        goto out;
    printf("opened: the server takes writes (read_only = OFF)\n");
    rc = EXIT_DONE;
out:
    mysql_close(my);
    return rc;
}

static int cmd_fence(const struct opts *o)
{
    char pos[512];
    MYSQL *my;
    int rc = EXIT_FAILED;

    if (!(my = the_primary(o, "fence", &rc)))
        return rc;
    if (sql(my, "SET GLOBAL read_only = ON") == 0 &&
        sql_text(my, "SELECT @@GLOBAL.gtid_binlog_pos", pos, sizeof(pos)) == 0) {
        printf("fenced: read_only = ON; its last commit: %s\n", pos[0] ? pos : "(none)");
        rc = EXIT_DONE;
    }
    mysql_close(my);
    return rc;
}

/* ---- main -------------------------------------------------------------------- */

/* One more --metrics or --metrics-file. */
static int add_source(const char **list, int *n, const char *arg, const char *option)
{
    if (*n == MAX_METRICS) {
        fprintf(stderr, "commerce-failover: more than %d %s\n", MAX_METRICS, option);
        return -1;
    }
    list[(*n)++] = arg;
    return 0;
}

static int number(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    return util_parse_i64(s, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"replica-socket", required_argument, NULL, 'r'},
        {"replica-host", required_argument, NULL, 'R'},
        {"primary-socket", required_argument, NULL, 'p'},
        {"primary-host", required_argument, NULL, 'P'},
        {"metrics", required_argument, NULL, 'm'},
        {"metrics-file", required_argument, NULL, 'M'},
        {"acked-until", required_argument, NULL, 'a'},
        {"margin-ms", required_argument, NULL, 'g'},
        {"wait-s", required_argument, NULL, 'w'},
        {"force", no_argument, NULL, 'f'},
        {"defaults-file", required_argument, NULL, 'd'},
        {"user", required_argument, NULL, 'u'},
        {"database", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {.database = "commerce", .margin_ms = 500, .wait_s = 30};
    int c, rc;

    if (argc == 2 && cli_standard(argv[1], "commerce-failover", usage, 0))
        return EXIT_DONE;
    while ((c = getopt_long(argc, argv, "hV", longs, NULL)) != -1) {
        switch (c) {
        case 'r':
            o.replica_socket = optarg;
            break;
        case 'R':
            o.replica_host = optarg;
            break;
        case 'p':
            o.primary_socket = optarg;
            break;
        case 'P':
            o.primary_host = optarg;
            break;
        case 'a': {
            int64_t us;
            if (parse_time(optarg, &us) != 0) {
                fprintf(stderr,
                        "commerce-failover: --acked-until %s: not a time (Unix seconds, or"
                        " YYYY-MM-DDTHH:MM:SS[.ffffff]Z, up to year 9999)\n",
                        optarg);
                goto bad;
            }
            o.acked_until = optarg;
            break;
        }
        case 'f':
            o.force = true;
            break;
        case 'd':
            o.defaults_file = optarg;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'D':
            o.database = optarg;
            break;
        case 'm':
            if (add_source(o.metrics, &o.nmetrics, optarg, "--metrics") != 0)
                return EXIT_USAGE;
            break;
        case 'M':
            if (add_source(o.metrics_files, &o.nfiles, optarg, "--metrics-file") != 0)
                return EXIT_USAGE;
            break;
        case 'g':
            if (number(optarg, 0, 600000, &o.margin_ms) != 0)
                goto bad;
            break;
        case 'w':
            if (number(optarg, 0, 3600, &o.wait_s) != 0)
                goto bad;
            break;
        case 'h':
        case 'V':
            cli_standard(c == 'h' ? "--help" : "--version", "commerce-failover", usage, 0);
            return EXIT_DONE;
        default:
            goto bad;
        }
    }
    if (optind != argc - 1)
        goto bad;
    if (strchr(o.database, '`')) {
        fprintf(stderr, "commerce-failover: --database: a name without a backquote\n");
        return EXIT_USAGE;
    }
    if (mysql_library_init(0, NULL, NULL) || curl_global_init(CURL_GLOBAL_DEFAULT))
        return EXIT_FAILED;
    const char *cmd = argv[optind];
    if (!strcmp(cmd, "check"))
        rc = cmd_promote(&o, false);
    else if (!strcmp(cmd, "promote"))
        rc = cmd_promote(&o, true);
    else if (!strcmp(cmd, "open"))
        rc = cmd_open(&o);
    else if (!strcmp(cmd, "fence"))
        rc = cmd_fence(&o);
    else
        rc = -1;
    curl_global_cleanup();
    mysql_library_end();
    if (rc >= 0)
        return rc;
bad:
    fprintf(stderr, "%s\n", usage);
    return EXIT_USAGE;
}
