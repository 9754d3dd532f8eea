#include "common/config.h"
#include "common/rc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
    int secret;        /* K_STR: never in a file others can read; NAME_file may hold it */
    unsigned programs; /* which programs read it (CONFIG_FOR_*) */
};

#define F CONFIG_FOR_FCGI
#define R CONFIG_FOR_RELAY
#define P CONFIG_FOR_POPULAR
#define M CONFIG_FOR_MIGRATE
#define ALL (F | R | P | M)

/* A row each (clang-format cannot lay out a macro that is a braced initializer). */
/* clang-format off */
#define STR(field, def, req, who)                                                                  \
    {#field, K_STR, offsetof(config_t, field), sizeof(((config_t *)0)->field), 0, 0, def, req, 0, who}
#define SECRET(field, who)                                                                         \
    {#field, K_STR, offsetof(config_t, field), sizeof(((config_t *)0)->field), 0, 0, "", 0, 1, who}
#define INT(field, lo, hi, def, who)                                                               \
    {#field, K_INT, offsetof(config_t, field), sizeof(int64_t), lo, hi, def, 0, 0, who}
/* clang-format on */

static const struct key keys[] = {
    STR(db_socket, "", 0, ALL),
    STR(db_host, "", 0, ALL),
    INT(db_port, 1, 65535, "3306", ALL),
    INT(db_lock_wait_timeout_s, 1, 10, "5", ALL),
    STR(db_user, "commerce", 1, ALL),
    SECRET(db_password, ALL),
    STR(db_password_file, "", 0, ALL),
    STR(db_name, "commerce", 1, ALL),
    STR(db_replica_sockets, "", 0, F),
    STR(db_replica_hosts, "", 0, F),
    STR(db_replica_user, "commerce_read", 1, F),
    SECRET(db_replica_password, F),
    STR(db_replica_password_file, "", 0, F),
    INT(replica_max_lag_ms, 1, 3600000, "1000", F),
    STR(replication_policy, "availability", 1, F | R),
    SECRET(admin_token, F),
    STR(admin_token_file, "", 0, F),
    STR(auth, "on", 1, F),
    STR(auth_public_keys_file, "", 0, F),
    SECRET(auth_hs256_secret, F),
    STR(auth_hs256_secret_file, "", 0, F),
    STR(auth_issuer, "", 0, F),
    STR(auth_audience, "", 0, F),
    INT(auth_leeway_s, 0, 300, "30", F),
    STR(auth_user_claim, "sub", 1, F),
    INT(auth_token_cache, 0, 65536, "4096", F),
    INT(max_charge, 1, 1000000000000000LL, "10000000", F),
    INT(max_balance, 1, 1000000000000000LL, "1000000000", F),
    STR(data_platform_url, "", 0, R),
    SECRET(data_platform_secret, R),
    STR(data_platform_secret_file, "", 0, R),
    INT(relay_allow_insecure, 0, 1, "0", R),
    STR(time_zone, "Asia/Seoul", 1, P),
    INT(max_body_bytes, 1024, 16777216, "65536", F),
    INT(retry_after_seconds, 1, 3600, "1", F),
    INT(idempotency_retention_hours, 24, 24 * 365, "48", R),
    INT(relay_batch_size, 1, 1000, "100", R),
    INT(relay_poll_ms, 1, 60000, "100", R),
    INT(relay_max_attempts, 1, 1000, "10", R),
    INT(relay_connect_timeout_ms, 1, 600000, "2000", R),
    INT(relay_timeout_ms, 1, 600000, "5000", R),
    INT(relay_lease_ms, 1000, 3600000, "30000", R),
    INT(relay_retry_base_ms, 1, 3600000, "500", R),
    INT(relay_retry_max_ms, 1, 86400000, "300000", R),
    INT(relay_probe_max_ms, 1, 60000, "1000", R),
    INT(relay_parallel, 1, 32, "8", R),
    STR(relay_id, "", 0, R),
    INT(relay_retention_hours, 1, 24 * 3650, "168", R),
    STR(log_level, "info", 1, ALL),
    STR(log_format, "text", 1, ALL),
    STR(metrics_file, "", 0, F | R),
};
#undef F
#undef R
#undef P
#undef M
#undef ALL

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
    if (util_parse_i64(buf, &v) != C_OK) {
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
        if (k->secret && e > vs && !cfg->file_secret[0])
            snprintf(cfg->file_secret, sizeof(cfg->file_secret), "%s", k->name);
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
    if (cfg->max_charge > cfg->max_balance)
        reportf(report, arg, &problems, "config: max_charge: larger than max_balance");
    if (strcmp(cfg->log_format, "text") && strcmp(cfg->log_format, "json"))
        reportf(report, arg, &problems, "config: log_format: '%s' is not text or json",
                cfg->log_format);
    if (strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
        strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error"))
        reportf(report, arg, &problems, "config: log_level: '%s' is not debug, info, warn or error",
                cfg->log_level);
    if (strcmp(cfg->replication_policy, "availability") &&
        strcmp(cfg->replication_policy, "durability"))
        reportf(report, arg, &problems,
                "config: replication_policy: '%s' is not availability or durability",
                cfg->replication_policy);
    if (strcmp(cfg->auth, "on") && strcmp(cfg->auth, "off"))
        reportf(report, arg, &problems, "config: auth: '%s' is not on or off", cfg->auth);
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

int config_auth_off(const config_t *cfg) { return strcmp(cfg->auth, "off") == 0; }

int config_durable(const config_t *cfg)
{
    return strcmp(cfg->replication_policy, "durability") == 0;
}

/* Is the host libcurl would connect to for this URL a loopback address
 * (127.0.0.0/8, ::1, localhost)? Asked of libcurl's own URL parser, so that
 * user info ("http://127.0.0.1@host/"), odd numeric forms and the like are
 * read exactly as the relay's requests will be. */
static int loopback_url(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    struct in_addr a4;
    int ok = 0;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
        if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
            ok = 1;
        else if (inet_pton(AF_INET, host, &a4) == 1)
            ok = (ntohl(a4.s_addr) >> 24) == 127;
    }
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

int config_check(const config_t *cfg, enum config_role role, config_report_fn report, void *arg)
{
    int problems = 0;

    if (role == CONFIG_WORKER) {
        if (!cfg->admin_token[0])
            reportf(report, arg, &problems,
                    "config: admin_token (or admin_token_file): required by commerce-fcgi");
        else if (strlen(cfg->admin_token) < 8)
            reportf(report, arg, &problems, "config: admin_token: shorter than 8 characters");
        if (!config_auth_off(cfg)) {
            if (!cfg->auth_public_keys_file[0] && !cfg->auth_hs256_secret[0])
                reportf(report, arg, &problems,
                        "config: auth: no token key: set auth_public_keys_file or "
                        "auth_hs256_secret(_file), or auth=off for development only");
            if (cfg->auth_hs256_secret[0] && strlen(cfg->auth_hs256_secret) < 32)
                reportf(report, arg, &problems, "config: auth_hs256_secret: shorter than 32 bytes");
            if (cfg->auth_public_keys_file[0] && cfg->auth_hs256_secret[0])
                reportf(report, arg, &problems,
                        "config: auth_hs256_secret: not with auth_public_keys_file (a public key "
                        "must never be usable as an HMAC secret)");
            if (!cfg->auth_issuer[0])
                reportf(report, arg, &problems, "config: auth_issuer: required when auth is on");
            if (!cfg->auth_audience[0])
                reportf(report, arg, &problems, "config: auth_audience: required when auth is on");
        }
    }
    if (role == CONFIG_RELAY) {
        if (!cfg->data_platform_url[0])
            reportf(report, arg, &problems, "config: data_platform_url: required by the relay");
        else if (strncmp(cfg->data_platform_url, "http://", 7) == 0 &&
                 !loopback_url(cfg->data_platform_url) && !cfg->relay_allow_insecure)
            reportf(report, arg, &problems,
                    "config: data_platform_url: plain http:// to a host other than loopback; use "
                    "https:// (or relay_allow_insecure=1)");
    }
    return problems;
}

static void report_stderr(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

static const char *env_get(const char *name) { return getenv(name); }

const char *config_path(void)
{
    const char *path = getenv("COMMERCE_CONFIG");
    return path && *path ? path : COMMERCE_DEFAULT_CONFIG;
}

/* The secret keys a file may hold instead of the configuration. */
static const struct {
    size_t value, file, cap;
    const char *name;
} secret_files[] = {
/* clang-format off */
#define SF(k) {offsetof(config_t, k), offsetof(config_t, k##_file), sizeof(((config_t *)0)->k), #k}
    SF(db_password),
    SF(db_replica_password),
    SF(admin_token),
    SF(auth_hs256_secret),
    SF(data_platform_secret),
#undef SF
    /* clang-format on */
};

/* Read the secrets named by the *_file keys (once, at start). A secret file
 * must not be readable by others; one trailing newline is not part of it. */
static void read_secret_files(config_t *cfg, int *problems)
{
    for (size_t i = 0; i < sizeof(secret_files) / sizeof(secret_files[0]); i++) {
        char *value = (char *)cfg + secret_files[i].value;
        const char *file = (const char *)cfg + secret_files[i].file;
        struct stat st;
        char *text = NULL;
        size_t len = 0;

        if (!file[0])
            continue;
        if (value[0]) {
            reportf(report_stderr, NULL, problems, "config: %s and %s_file: set only one of them",
                    secret_files[i].name, secret_files[i].name);
            continue;
        }
        if (stat(file, &st) != 0 ||
            util_read_file(file, secret_files[i].cap, &text, &len) != C_OK) {
            reportf(report_stderr, NULL, problems, "config: %s_file: %s: %s", secret_files[i].name,
                    file, strerror(errno));
            continue;
        }
        if (st.st_mode & S_IROTH)
            reportf(report_stderr, NULL, problems,
                    "config: %s_file: %s is readable by others (chmod o-r %s)",
                    secret_files[i].name, file, file);
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        if (len >= secret_files[i].cap || strlen(text) != len)
            reportf(report_stderr, NULL, problems,
                    "config: %s_file: %s: must be one line of at most %zu bytes",
                    secret_files[i].name, file, secret_files[i].cap - 1);
        else
            memcpy(value, text, len + 1);
        free(text);
    }
}

int config_load(config_t *cfg, enum config_role role)
{
    const char *path = config_path(), *env_path = getenv("COMMERCE_CONFIG");
    int explicit_path = env_path && *env_path;
    char *text = NULL;
    int problems = 0, found = 1;
    struct stat st;

    if (util_read_file(path, 1 << 20, &text, NULL) != C_OK) {
        if (explicit_path || errno != ENOENT) {
            fprintf(stderr, "config: %s: cannot read: %s\n", path, strerror(errno));
            return C_ERR;
        }
        found = 0;
    }
    problems = config_parse(cfg, text, env_get, report_stderr, NULL);
    free(text);
    if (found && cfg->file_secret[0] && stat(path, &st) == 0 && (st.st_mode & S_IROTH))
        reportf(report_stderr, NULL, &problems,
                "config: %s holds %s but is readable by others (chmod o-r %s)", path,
                cfg->file_secret, path);
    read_secret_files(cfg, &problems);
    problems += config_check(cfg, role, report_stderr, NULL);
    if (problems)
        fprintf(stderr,
                found ? "config: the file was %s (COMMERCE_CONFIG%s)\n"
                      : "config: no file at %s (COMMERCE_CONFIG%s); the environment "
                        "alone is not enough\n",
                path, explicit_path ? "" : " unset: the compiled-in default");
    return problems ? C_ERR : C_OK;
}

const char *config_key(size_t i)
{
    return i < sizeof(keys) / sizeof(keys[0]) ? keys[i].name : NULL;
}

void config_help(FILE *out, unsigned program)
{
    fprintf(out,
            "Configuration keys it reads (file %s; COMMERCE_<KEY> in the environment"
            " overrides; commerce.conf(5)):\n",
            config_path());
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        if (!(k->programs & program))
            continue;
        if (k->secret)
            fprintf(out, "  %-30s secret: the file %s_file names, or the environment\n", k->name,
                    k->name);
        else if (k->def[0])
            fprintf(out, "  %-30s default %s\n", k->name, k->def);
        else
            fprintf(out, "  %-30s no default\n", k->name);
    }
}
