/* commerce-popular: the nightly batch that ranks the top 5 products by units
 * sold in PAID orders over the 3 full days before its as-of date, in the
 * configured time zone, and swaps the served list atomically.
 *
 *   commerce-popular [--as-of YYYY-MM-DD [--force]]   (default: today in time_zone)
 *
 * A day after today is refused (exit 2) unless --force: its window would hold
 * days that have not happened, and the list it made would replace the one
 * served.
 *
 * Safe to re-run (same window, same list) and to run on two hosts at once
 * (the runs serialise on the popular_current row). Its cost is the orders of
 * the window, read through the orders(created_at, status) index: it does not
 * grow with the total order history. */
#include <ctype.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/rc.h"
#include "common/util.h"
#include "store/db.h"
#include "store/popular.h"
#include "store/schema.h"

static int parse_date(const char *s, struct tm *tm)
{
    int y, m, d;
    char tail;

    memset(tm, 0, sizeof(*tm));
    for (int i = 0; i < 10; i++)
        if (!s[i] || (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i])))
            return -1; /* exactly YYYY-MM-DD: no sign, space or short field */
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
        y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    tm->tm_year = y - 1900;
    tm->tm_mon = m - 1;
    tm->tm_mday = d;
    tm->tm_hour = 12; /* date arithmetic at noon is immune to DST shifts */
    tm->tm_isdst = -1;
    struct tm check = *tm;
    if (mktime(&check) == (time_t)-1 || check.tm_mday != d || check.tm_mon != m - 1)
        return -1; /* 2026-02-30 and the like */
    return 0;
}

/* The local date `days` after *base, as YYYY-MM-DD, and the UTC instant of
 * its local midnight as a DATETIME literal. */
static void day_at(const struct tm *base, int days, char date[11], char utc[UTIL_TIME_LEN])
{
    struct tm t = *base, mid, g;
    time_t at;

    t.tm_mday += days;
    t.tm_hour = 12;
    t.tm_isdst = -1;
    mktime(&t);
    snprintf(date, 11, "%04u-%02u-%02u", (unsigned)(t.tm_year + 1900) % 10000u,
             (unsigned)(t.tm_mon + 1) % 100u, (unsigned)t.tm_mday % 100u);
    mid = t;
    mid.tm_hour = mid.tm_min = mid.tm_sec = 0;
    mid.tm_isdst = -1;
    at = mktime(&mid);
    gmtime_r(&at, &g);
    snprintf(utc, UTIL_TIME_LEN, "%04u-%02u-%02u %02u:%02u:%02u.000",
             (unsigned)(g.tm_year + 1900) % 10000u, (unsigned)(g.tm_mon + 1) % 100u,
             (unsigned)g.tm_mday % 100u, (unsigned)g.tm_hour % 100u, (unsigned)g.tm_min % 100u,
             (unsigned)g.tm_sec % 100u);
}

static int build_tx(db_t *db, void *arg) { return popular_build_tx(db, arg); }

static const char usage[] =
    "usage: commerce-popular [--as-of YYYY-MM-DD [--force]] | --help | --version\n"
    "Rebuilds the top 5 products of the 3 full days before today (or --as-of) in the\n"
    "configured time_zone, and points the API at the new list; prints one summary line.\n"
    "Run nightly (commerce-popular.timer or /etc/cron.d/commerce); a re-run is harmless.\n"
    "  --as-of DATE    the day to compute the list for (default: today)\n"
    "  --force         build it even when DATE is after today (refused otherwise: the\n"
    "                  list served would count days that have not happened)";

int main(int argc, char **argv)
{
    struct popular_build b;
    schema_guard_t guard;
    const char *as_of = NULL;
    int force = 0;
    char zone[128];
    config_t cfg;
    struct tm base;
    db_t *db;
    int rc;

    log_set_name("commerce-popular");
    if (argc == 2 && cli_standard(argv[1], "commerce-popular", usage, CONFIG_FOR_POPULAR))
        return 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--as-of") == 0 && i + 1 < argc && !as_of)
            as_of = argv[++i];
        else if (strcmp(argv[i], "--force") == 0 && !force)
            force = 1;
        else {
            fprintf(stderr, "%s\n", usage);
            return 2;
        }
    }
    if (force && !as_of) {
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    if (config_load(&cfg, CONFIG_TOOL) != C_OK) {
        log_error("invalid configuration; see the lines above");
        return 2;
    }
    log_set_level_name(cfg.log_level);
    log_set_format_name(cfg.log_format);
    snprintf(zone, sizeof(zone), "/usr/share/zoneinfo/%s", cfg.time_zone);
    if (strstr(cfg.time_zone, "..") || access(zone, R_OK) != 0) {
        log_error("config: time_zone: unknown zone '%s' (no %s)", cfg.time_zone, zone);
        return 2;
    }
    setenv("TZ", cfg.time_zone, 1);
    tzset();
    time_t now = time(NULL);
    struct tm today;
    localtime_r(&now, &today);
    if (as_of) {
        if (parse_date(as_of, &base) != 0) {
            log_error("--as-of: '%s' is not a date YYYY-MM-DD", as_of);
            return 2;
        }
        if (!force && (base.tm_year != today.tm_year ? base.tm_year > today.tm_year
                       : base.tm_mon != today.tm_mon ? base.tm_mon > today.tm_mon
                                                     : base.tm_mday > today.tm_mday)) {
            log_error("--as-of: %s is after today (%04d-%02d-%02d in %s): its window would hold"
                      " days that have not happened, and its list would replace the one served;"
                      " add --force to build it all the same",
                      as_of, today.tm_year + 1900, today.tm_mon + 1, today.tm_mday, cfg.time_zone);
            return 2;
        }
    } else {
        base = today;
    }
    memset(&b, 0, sizeof(b));
    day_at(&base, 0, b.as_of, b.end_utc);
    day_at(&base, -POPULAR_DAYS, b.from_day, b.start_utc);
    day_at(&base, -1, b.to_day, zone); /* to_day: the last full day; zone is scratch */

    if (mysql_library_init(0, NULL, NULL) != 0 || !(db = db_new(&cfg)))
        return 1;
    schema_guard(db, &guard, "commerce-popular", cfg.db_name);
    if (db_ensure(db) != C_OK && guard.refused) /* logged: the migration to apply */
        rc = C_DOWN;
    else
        rc = db_tx(db, build_tx, &b);
    if (rc == C_OK) {
        printf("popular products as of %s (%s..%s, %s, UTC [%s, %s)): snapshot %lld,", b.as_of,
               b.from_day, b.to_day, cfg.time_zone, b.start_utc, b.end_utc,
               (long long)b.snapshot_id);
        for (int i = 0; i < b.n; i++)
            printf(" #%d product %lld (%lld sold)", i + 1, (long long)b.product_id[i],
                   (long long)b.sold[i]);
        printf("%s\n", b.n ? "" : " no sales");
    } else if (!guard.refused) {
        log_error("rebuild failed (%d); the served list is unchanged", rc);
    }
    db_free(db);
    mysql_library_end();
    return rc == C_OK ? 0 : 1;
}
