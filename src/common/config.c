#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

enum key_type { K_STR, K_INT };

struct key {
    const char *name;
    enum key_type type;
    size_t offset;
    size_t size; /* K_STR: buffer size */
    int64_t min, max;
    const char *def;
    int required;
};

#define STR(field, def, req)                                                                       \
    {                                                                                              \
#field, K_STR, offsetof(config_t, field), sizeof(((config_t *)0)->field), 0, 0, def, req   \
    }
#define INT(field, lo, hi, def)                                                                    \
    {                                                                                              \
#field, K_INT, offsetof(config_t, field), sizeof(int64_t), lo, hi, def, 0                  \
    }

static const struct key keys[] = {
    STR(db_socket, "", 0),
    STR(db_host, "", 0),
    INT(db_port, 1, 65535, "3306"),
    INT(db_lock_wait_timeout_s, 1, 10, "5"),
    STR(db_user, "commerce", 1),
    STR(db_password, "", 0),
    STR(db_name, "commerce", 1),
    STR(admin_token, "", 1),
    INT(max_charge, 1, 1000000000000000LL, "10000000"),
    INT(max_balance, 1, 1000000000000000LL, "1000000000"),
    STR(data_platform_url, "", 0),
    STR(time_zone, "Asia/Seoul", 1),
    INT(max_body_bytes, 1024, 16777216, "65536"),
    INT(retry_after_seconds, 1, 3600, "1"),
    INT(idempotency_retention_hours, 24, 24 * 365, "48"),
    INT(relay_batch_size, 1, 1000, "100"),
    INT(relay_poll_ms, 1, 60000, "100"),
    INT(relay_max_attempts, 1, 1000, "10"),
    INT(relay_connect_timeout_ms, 1, 600000, "2000"),
    INT(relay_timeout_ms, 1, 600000, "5000"),
    INT(relay_lease_ms, 1000, 3600000, "30000"),
    INT(relay_retry_base_ms, 1, 3600000, "500"),
    INT(relay_retry_max_ms, 1, 86400000, "300000"),
    INT(relay_retention_hours, 1, 24 * 3650, "168"),
    STR(log_level, "info", 1),
    STR(metrics_file, "", 0),
};

static void reportf(config_report_fn report, void *arg, int *problems, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reportf(config_report_fn report, void *arg, int *problems, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    (*problems)++;
    if (report)
        report(arg, line);
}

static const struct key *find_key(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
            return &keys[i];
    return NULL;
}

/* Store one value; `origin` names where it came from for the report. */
static void set_value(config_t *cfg, const struct key *k, const char *val, size_t len,
                      const char *origin, config_report_fn report, void *arg, int *problems)
{
    char *dst = (char *)cfg + k->offset;

    if (k->type == K_STR) {
        if (len >= k->size) {
            reportf(report, arg, problems, "config: %s (%s): value longer than %zu bytes", k->name,
                    origin, k->size - 1);
            return;
        }
        memcpy(dst, val, len);
        dst[len] = '\0';
        return;
    }

    char buf[32];
    int64_t v;
    if (len >= sizeof(buf)) {
        reportf(report, arg, problems, "config: %s (%s): not an integer", k->name, origin);
        return;
    }
    memcpy(buf, val, len);
    buf[len] = '\0';
    if (util_parse_i64(buf, &v) != 0) {
        reportf(report, arg, problems, "config: %s (%s): '%s' is not an integer", k->name, origin,
                buf);
        return;
    }
    if (v < k->min || v > k->max) {
        reportf(report, arg, problems,
                "config: %s (%s): %" PRId64 " is outside %" PRId64 "..%" PRId64, k->name, origin, v,
                k->min, k->max);
        return;
    }
    memcpy(dst, &v, sizeof(v));
}

static void parse_text(config_t *cfg, const char *text, config_report_fn report, void *arg,
                       int *problems)
{
    int lineno = 0;
    const char *p = text;

    while (p && *p) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        const char *s = p, *e = end, *eq;
        char origin[32];

        lineno++;
        p = eol ? eol + 1 : end;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        snprintf(origin, sizeof(origin), "line %d", lineno);
        eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) {
            reportf(report, arg, problems, "config: line %d: expected key=value", lineno);
            continue;
        }
        const char *ke = eq, *vs = eq + 1;
        while (ke > s && isspace((unsigned char)ke[-1]))
            ke--;
        while (vs < e && isspace((unsigned char)*vs))
            vs++;
        const struct key *k = find_key(s, (size_t)(ke - s));
        if (!k) {
            reportf(report, arg, problems, "config: line %d: unknown key '%.*s'", lineno,
                    (int)(ke - s), s);
            continue;
        }
        set_value(cfg, k, vs, (size_t)(e - vs), origin, report, arg, problems);
    }
}

int config_parse(config_t *cfg, const char *text, config_getenv_fn env, config_report_fn report,
                 void *arg)
{
    int problems = 0;
    size_t n = sizeof(keys) / sizeof(keys[0]);

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < n; i++)
        set_value(cfg, &keys[i], keys[i].def, strlen(keys[i].def), "default", report, arg,
                  &problems);
    parse_text(cfg, text, report, arg, &problems);
    for (size_t i = 0; env && i < n; i++) {
        char name[64] = "COMMERCE_";
        size_t o = strlen(name);
        for (const char *c = keys[i].name; *c && o + 1 < sizeof(name); c++)
            name[o++] = (char)toupper((unsigned char)*c);
        name[o] = '\0';
        const char *v = env(name);
        if (v)
            set_value(cfg, &keys[i], v, strlen(v), name, report, arg, &problems);
    }
    for (size_t i = 0; i < n; i++)
        if (keys[i].required && keys[i].type == K_STR && ((char *)cfg + keys[i].offset)[0] == '\0')
            reportf(report, arg, &problems, "config: %s: required but empty", keys[i].name);
    if (cfg->db_socket[0] == '\0' && cfg->db_host[0] == '\0')
        reportf(report, arg, &problems, "config: db_socket or db_host: one of them is required");
    if (cfg->admin_token[0] && strlen(cfg->admin_token) < 8)
        reportf(report, arg, &problems, "config: admin_token: shorter than 8 characters");
    if (cfg->max_charge > cfg->max_balance)
        reportf(report, arg, &problems, "config: max_charge: larger than max_balance");
    if (strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
        strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error"))
        reportf(report, arg, &problems, "config: log_level: '%s' is not debug, info, warn or error",
                cfg->log_level);
    if (cfg->relay_lease_ms <= 2 * (cfg->relay_timeout_ms + cfg->relay_connect_timeout_ms))
        reportf(report, arg, &problems,
                "config: relay_lease_ms: must exceed twice relay_timeout_ms + "
                "relay_connect_timeout_ms");
    if (cfg->data_platform_url[0] && strncmp(cfg->data_platform_url, "http://", 7) &&
        strncmp(cfg->data_platform_url, "https://", 8))
        reportf(report, arg, &problems,
                "config: data_platform_url: must start with http:// or https://");
    return problems;
}

static void report_stderr(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

static const char *env_get(const char *name) { return getenv(name); }

int config_load(config_t *cfg)
{
    const char *path = getenv("COMMERCE_CONFIG");
    int explicit_path = path && *path;
    char *text = NULL;
    int problems;

    if (!explicit_path)
        path = COMMERCE_DEFAULT_CONFIG;
    if (util_read_file(path, 1 << 20, &text, NULL) != 0) {
        if (explicit_path || errno != ENOENT) {
            fprintf(stderr, "config: %s: cannot read: %s\n", path, strerror(errno));
            return 1;
        }
    }
    problems = config_parse(cfg, text, env_get, report_stderr, NULL);
    free(text);
    return problems;
}
