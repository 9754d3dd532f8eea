/* Configuration: defaults, the key=value file, COMMERCE_* overrides and the
 * start-up validation, with a stub getenv and a collecting report callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"

/* ---- stub environment ----------------------------------------------------- */

#define MAX_ENV 8
static struct {
    const char *name, *value;
} env[MAX_ENV];
static int nenv;
static int env_lookups;

static const char *stub_getenv(const char *name)
{
    env_lookups++;
    for (int i = 0; i < nenv; i++)
        if (strcmp(env[i].name, name) == 0)
            return env[i].value;
    return NULL;
}

static void setenv_stub(const char *name, const char *value)
{
    assert_true(nenv < MAX_ENV);
    env[nenv].name = name;
    env[nenv].value = value;
    nenv++;
}

/* ---- collecting report ---------------------------------------------------- */

#define MAX_LINES 16
struct report {
    int n;
    char lines[MAX_LINES][512];
};

static void collect(void *arg, const char *line)
{
    struct report *rep = arg;

    assert_non_null(line);
    assert_true(strlen(line) > 0);
    assert_null(strchr(line, '\n')); /* one complete line per problem */
    if (rep->n < MAX_LINES)
        snprintf(rep->lines[rep->n], sizeof(rep->lines[0]), "%s", line);
    rep->n++;
}

static struct report rep;
static config_t cfg;

static int reset(void **state)
{
    memset(env, 0, sizeof(env));
    nenv = 0;
    env_lookups = 0;
    memset(&rep, 0, sizeof(rep));
    memset(&cfg, 0xa5, sizeof(cfg)); /* config_parse must set everything */
    return 0;
}

static int parse(const char *text)
{
    int problems = config_parse(&cfg, text, stub_getenv, collect, &rep);
    /* the return value is the number of lines reported */
    assert_int_equal(problems, rep.n);
    return problems;
}

/* Exactly one reported line contains every one of the given words. */
static void reported_once(const char *w1, const char *w2)
{
    int hits = 0;

    for (int i = 0; i < rep.n && i < MAX_LINES; i++)
        if (strstr(rep.lines[i], w1) && (!w2 || strstr(rep.lines[i], w2)))
            hits++;
    if (hits != 1) {
        fprintf(stderr, "want one line with '%s'%s%s, got %d of %d:\n", w1, w2 ? " and '" : "",
                w2 ? w2 : "", hits, rep.n);
        for (int i = 0; i < rep.n && i < MAX_LINES; i++)
            fprintf(stderr, "  %s\n", rep.lines[i]);
    }
    assert_int_equal(hits, 1);
}

static void no_problems(int problems)
{
    if (problems != 0)
        for (int i = 0; i < rep.n && i < MAX_LINES; i++)
            fprintf(stderr, "unexpected: %s\n", rep.lines[i]);
    assert_int_equal(problems, 0);
}

#define MINIMAL "db_socket=/run/mysqld/mysqld.sock\nadmin_token=s3cret-token\n"

/* ---- tests ---------------------------------------------------------------- */

static void defaults(void **state)
{
    no_problems(parse(MINIMAL));
    assert_string_equal(cfg.db_socket, "/run/mysqld/mysqld.sock");
    assert_string_equal(cfg.db_host, "");
    assert_int_equal(cfg.db_port, 3306);
    assert_string_equal(cfg.db_user, "commerce");
    assert_string_equal(cfg.db_password, "");
    assert_string_equal(cfg.db_name, "commerce");
    assert_string_equal(cfg.admin_token, "s3cret-token");
    assert_int_equal(cfg.max_charge, 10000000);
    assert_int_equal(cfg.max_balance, 1000000000);
    assert_string_equal(cfg.data_platform_url, "");
    assert_string_equal(cfg.time_zone, "Asia/Seoul");
    assert_int_equal(cfg.max_body_bytes, 65536);
    assert_int_equal(cfg.retry_after_seconds, 1);
    assert_int_equal(cfg.idempotency_retention_hours, 48);
    assert_int_equal(cfg.relay_batch_size, 100);
    assert_int_equal(cfg.relay_poll_ms, 100);
    assert_int_equal(cfg.relay_max_attempts, 10);
    assert_int_equal(cfg.relay_connect_timeout_ms, 2000);
    assert_int_equal(cfg.relay_timeout_ms, 5000);
    assert_string_equal(cfg.log_level, "info");
    /* every key was looked up in the environment */
    assert_true(env_lookups >= 20);
}

static void file_values(void **state)
{
    no_problems(parse("db_host=db.internal\n"
                      "db_port=3307\n"
                      "db_user=shop\n"
                      "db_password=p=w d\n" /* everything after the first '=' */
                      "db_name=shop_db\n"
                      "admin_token=0123456789abcdef\n"
                      "max_charge=500\n"
                      "max_balance=1000\n"
                      "data_platform_url=https://dp.example/events\n"
                      "time_zone=UTC\n"
                      "max_body_bytes=1024\n"
                      "retry_after_seconds=3600\n"
                      "idempotency_retention_hours=24\n"
                      "relay_batch_size=1000\n"
                      "relay_poll_ms=60000\n"
                      "relay_max_attempts=1\n"
                      "relay_connect_timeout_ms=1\n"
                      "relay_timeout_ms=600000\n"
                      "relay_lease_ms=1200003\n"
                      "log_level=debug")); /* last line without a newline */
    assert_string_equal(cfg.db_socket, "");
    assert_string_equal(cfg.db_host, "db.internal");
    assert_int_equal(cfg.db_port, 3307);
    assert_string_equal(cfg.db_user, "shop");
    assert_string_equal(cfg.db_password, "p=w d");
    assert_string_equal(cfg.db_name, "shop_db");
    assert_string_equal(cfg.admin_token, "0123456789abcdef");
    assert_int_equal(cfg.max_charge, 500);
    assert_int_equal(cfg.max_balance, 1000);
    assert_string_equal(cfg.data_platform_url, "https://dp.example/events");
    assert_string_equal(cfg.time_zone, "UTC");
    assert_int_equal(cfg.max_body_bytes, 1024);
    assert_int_equal(cfg.retry_after_seconds, 3600);
    assert_int_equal(cfg.idempotency_retention_hours, 24);
    assert_int_equal(cfg.relay_batch_size, 1000);
    assert_int_equal(cfg.relay_poll_ms, 60000);
    assert_int_equal(cfg.relay_max_attempts, 1);
    assert_int_equal(cfg.relay_connect_timeout_ms, 1);
    assert_int_equal(cfg.relay_timeout_ms, 600000);
    assert_string_equal(cfg.log_level, "debug");
}

static void comments_blank_lines_and_spaces(void **state)
{
    no_problems(parse("# commerce configuration\n"
                      "\n"
                      "   \n"
                      "\t# indented comment\n"
                      "  db_socket   =   /tmp/my.sock  \n"
                      "admin_token=s3cret-token\r\n"
                      "db_port\t=\t4000\r\n"
                      "#db_port=5000\n"
                      "\n"));
    assert_string_equal(cfg.db_socket, "/tmp/my.sock");
    assert_string_equal(cfg.admin_token, "s3cret-token");
    assert_int_equal(cfg.db_port, 4000);
}

static void later_file_line_wins(void **state)
{
    no_problems(parse(MINIMAL "db_port=1000\ndb_port=2000\n"));
    assert_int_equal(cfg.db_port, 2000);
}

static void no_file_at_all(void **state)
{
    setenv_stub("COMMERCE_DB_SOCKET", "/s.sock");
    setenv_stub("COMMERCE_ADMIN_TOKEN", "env-admin-token");
    no_problems(parse(NULL));
    assert_string_equal(cfg.db_socket, "/s.sock");
    assert_string_equal(cfg.admin_token, "env-admin-token");
    assert_int_equal(cfg.db_port, 3306);
}

static void env_overrides_file(void **state)
{
    setenv_stub("COMMERCE_DB_PORT", "3308");
    setenv_stub("COMMERCE_ADMIN_TOKEN", "from-the-environment");
    setenv_stub("COMMERCE_MAX_CHARGE", "777");
    setenv_stub("COMMERCE_LOG_LEVEL", "warn");
    no_problems(parse(MINIMAL "db_port=3307\nmax_charge=555\nlog_level=error\n"));
    assert_int_equal(cfg.db_port, 3308);
    assert_string_equal(cfg.admin_token, "from-the-environment");
    assert_int_equal(cfg.max_charge, 777);
    assert_string_equal(cfg.log_level, "warn");
    /* keys not in the environment keep the file's value */
    assert_string_equal(cfg.db_socket, "/run/mysqld/mysqld.sock");
}

static void env_names_are_upper_case_only(void **state)
{
    setenv_stub("commerce_db_port", "1");
    setenv_stub("DB_PORT", "2");
    setenv_stub("COMMERCE_db_port", "3");
    no_problems(parse(MINIMAL));
    assert_int_equal(cfg.db_port, 3306);
}

static void unknown_key_reported(void **state)
{
    int p = parse(MINIMAL "colour=blue\n");
    assert_int_equal(p, 1);
    reported_once("colour", "line 3");
}

static void line_without_equals_reported(void **state)
{
    int p = parse(MINIMAL "just some words\n");
    assert_int_equal(p, 1);
    reported_once("line 3", NULL);
}

static void non_integer_reported(void **state)
{
    static const char *bad[] = {"abc",  "12x", "1.5",       "+5",
                                "0x10", "",    "3306 3306", "99999999999999999999999999999999"};
    char text[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reset(state);
        snprintf(text, sizeof(text), MINIMAL "db_port=%s\n", bad[i]);
        int p = parse(text);
        if (p != 1)
            fprintf(stderr, "db_port=%s -> %d problems\n", bad[i], p);
        assert_int_equal(p, 1);
        reported_once("db_port", "integer");
        assert_int_equal(cfg.db_port, 3306); /* the default stays */
    }
    /* in the environment too, naming the key */
    reset(state);
    setenv_stub("COMMERCE_RELAY_POLL_MS", "fast");
    assert_int_equal(parse(MINIMAL), 1);
    reported_once("relay_poll_ms", "integer");
}

static void out_of_range_reported(void **state)
{
    static const struct {
        const char *line, *key;
    } bad[] = {
        {"db_port=0", "db_port"},
        {"db_port=65536", "db_port"},
        {"db_port=-1", "db_port"},
        {"max_body_bytes=1023", "max_body_bytes"},
        {"max_body_bytes=16777217", "max_body_bytes"},
        {"retry_after_seconds=0", "retry_after_seconds"},
        {"idempotency_retention_hours=23", "idempotency_retention_hours"},
        {"relay_batch_size=1001", "relay_batch_size"},
        {"max_charge=0", "max_charge"},
        {"max_balance=1000000000000001", "max_balance"},
    };
    char text[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reset(state);
        snprintf(text, sizeof(text), MINIMAL "%s\n", bad[i].line);
        int p = parse(text);
        if (p != 1)
            fprintf(stderr, "%s -> %d problems\n", bad[i].line, p);
        assert_int_equal(p, 1);
        reported_once(bad[i].key, "outside");
    }
    /* the edges themselves are fine */
    reset(state);
    no_problems(parse(MINIMAL "db_port=1\nmax_body_bytes=16777216\n"));
    assert_int_equal(cfg.db_port, 1);
    assert_int_equal(cfg.max_body_bytes, 16777216);
    reset(state);
    no_problems(parse(MINIMAL "db_port=65535\nmax_body_bytes=1024\n"));
    assert_int_equal(cfg.db_port, 65535);
}

static void string_too_long_reported(void **state)
{
    char text[512];
    char longval[100];

    memset(longval, 'x', 80); /* db_name holds 79 bytes */
    longval[80] = '\0';
    snprintf(text, sizeof(text), MINIMAL "db_name=%s\n", longval);
    assert_int_equal(parse(text), 1);
    reported_once("db_name", NULL);
    assert_string_equal(cfg.db_name, "commerce");

    reset(state);
    longval[79] = '\0';
    snprintf(text, sizeof(text), MINIMAL "db_name=%s\n", longval);
    no_problems(parse(text));
    assert_int_equal(strlen(cfg.db_name), 79);
}

/* config_check for one program, collecting into rep (after a parse). */
static int check(enum config_role role)
{
    int before = rep.n, problems = config_check(&cfg, role, collect, &rep);
    assert_int_equal(problems, rep.n - before);
    return problems;
}

#define AUTH_KEYS                                                                                  \
    "auth_hs256_secret=0123456789abcdef0123456789abcdef\nauth_issuer=https://id.example/\n"        \
    "auth_audience=commerce\n"

static void missing_admin_token_reported(void **state)
{
    /* only the worker needs it: the relay and the batch run without */
    no_problems(parse("db_socket=/s.sock\n" AUTH_KEYS));
    assert_int_equal(check(CONFIG_TOOL), 0);
    assert_int_equal(check(CONFIG_WORKER), 1);
    reported_once("admin_token", NULL);

    reset(state);
    no_problems(parse("db_socket=/s.sock\nadmin_token=\n" AUTH_KEYS));
    assert_int_equal(check(CONFIG_WORKER), 1);
    reported_once("admin_token", NULL);

    reset(state);
    no_problems(parse("db_socket=/s.sock\nadmin_token=short\n" AUTH_KEYS));
    assert_int_equal(check(CONFIG_WORKER), 1);
    reported_once("admin_token", "8");

    reset(state);
    no_problems(parse(MINIMAL AUTH_KEYS));
    assert_int_equal(check(CONFIG_WORKER), 0);
}

static void worker_needs_a_token_key_unless_auth_off(void **state)
{
    no_problems(parse(MINIMAL));
    assert_string_equal(cfg.auth, "on");
    assert_int_equal(cfg.auth_leeway_s, 30);
    assert_string_equal(cfg.auth_user_claim, "sub");
    assert_int_equal(check(CONFIG_WORKER), 3); /* no key, no issuer, no audience */
    reported_once("auth", "auth=off");
    reported_once("auth_issuer", NULL);
    reported_once("auth_audience", NULL);

    reset(state);
    no_problems(parse(MINIMAL "auth=off\n"));
    assert_true(config_auth_off(&cfg));
    assert_int_equal(check(CONFIG_WORKER), 0);

    reset(state);
    assert_int_equal(parse(MINIMAL "auth=maybe\n"), 1);
    reported_once("auth", "maybe");

    /* an HS256 secret shorter than 32 bytes */
    reset(state);
    no_problems(parse(MINIMAL "auth_hs256_secret=0123456789abcdef0123456789abcde\n"
                              "auth_issuer=i\nauth_audience=a\n"));
    assert_int_equal(check(CONFIG_WORKER), 1);
    reported_once("auth_hs256_secret", "32");

    /* never HS256 next to public keys */
    reset(state);
    no_problems(parse(MINIMAL AUTH_KEYS "auth_public_keys_file=/etc/commerce/jwks.json\n"));
    assert_int_equal(check(CONFIG_WORKER), 1);
    reported_once("auth_hs256_secret", "auth_public_keys_file");

    reset(state);
    no_problems(parse(MINIMAL "auth_public_keys_file=/etc/commerce/jwks.json\n"
                              "auth_issuer=i\nauth_audience=a\nauth_leeway_s=0\n"
                              "auth_user_claim=shop_user_id\n"));
    assert_int_equal(check(CONFIG_WORKER), 0);
    assert_int_equal(cfg.auth_leeway_s, 0);
    assert_string_equal(cfg.auth_user_claim, "shop_user_id");

    reset(state);
    assert_int_equal(parse(MINIMAL "auth_leeway_s=301\n"), 1);
    reported_once("auth_leeway_s", "outside");
}

static void relay_refuses_plain_http_off_loopback(void **state)
{
    static const char *ok[] = {"http://127.0.0.1:8099/events", "http://localhost/x",
                               "http://127.10.0.1/", "http://[::1]:80/e",
                               "https://dp.example/events"};
    /* user info before the host: libcurl connects to the host after the '@' */
    static const char *bad[] = {"http://dp.example/events",
                                "http://127.0.0.1.evil.com/",
                                "http://10.0.0.1/",
                                "http://localhost.evil/",
                                "http://[::2]/",
                                "http://127.0.0.1:1@example.invalid/events",
                                "http://localhost@example.invalid/",
                                "http://127.0.0.1@[::2]/"};
    char text[256];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        reset(state);
        snprintf(text, sizeof(text), MINIMAL "data_platform_url=%s\n", ok[i]);
        no_problems(parse(text));
        if (check(CONFIG_RELAY) != 0)
            fail_msg("refused %s", ok[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reset(state);
        snprintf(text, sizeof(text), MINIMAL "data_platform_url=%s\n", bad[i]);
        no_problems(parse(text));
        if (check(CONFIG_RELAY) != 1)
            fail_msg("accepted %s", bad[i]);
        reported_once("data_platform_url", "https");
        reset(state);
        snprintf(text, sizeof(text), MINIMAL "data_platform_url=%s\nrelay_allow_insecure=1\n",
                 bad[i]);
        no_problems(parse(text));
        assert_int_equal(check(CONFIG_RELAY), 0);
    }
    reset(state);
    no_problems(parse(MINIMAL));
    assert_int_equal(check(CONFIG_RELAY), 1);
    reported_once("data_platform_url", "required");
    assert_int_equal(check(CONFIG_TOOL), 0); /* status and replay need no URL */
}

static void file_secrets_are_noted_for_the_mode_check(void **state)
{
    no_problems(parse("db_socket=/s\n"));
    assert_string_equal(cfg.file_secret, "");
    reset(state);
    no_problems(parse("db_socket=/s\ndb_password_file=/run/credentials/x/db\n"));
    assert_string_equal(cfg.file_secret, ""); /* a path is not a secret */
    reset(state);
    no_problems(parse("db_socket=/s\ndb_password=\nadmin_token=0123456789\n"));
    assert_string_equal(cfg.file_secret, "admin_token");
    /* from the environment, the file holds none */
    reset(state);
    setenv_stub("COMMERCE_DB_PASSWORD", "pw");
    no_problems(parse("db_socket=/s\n"));
    assert_string_equal(cfg.file_secret, "");
    assert_string_equal(cfg.db_password, "pw");
}

static void no_database_address_reported(void **state)
{
    assert_int_equal(parse("admin_token=s3cret-token\n"), 1);
    reported_once("db_socket", "db_host");

    reset(state);
    no_problems(parse("admin_token=s3cret-token\ndb_host=127.0.0.1\n"));
    reset(state);
    no_problems(parse("admin_token=s3cret-token\ndb_socket=/s\n"));
}

static void max_charge_above_max_balance_reported(void **state)
{
    assert_int_equal(parse(MINIMAL "max_charge=2000\nmax_balance=1000\n"), 1);
    reported_once("max_charge", "max_balance");

    reset(state);
    no_problems(parse(MINIMAL "max_charge=1000\nmax_balance=1000\n"));

    /* the environment can cause it too */
    reset(state);
    setenv_stub("COMMERCE_MAX_BALANCE", "5");
    assert_int_equal(parse(MINIMAL), 1);
    reported_once("max_charge", "max_balance");
}

static void replication_policy_is_availability_or_durability(void **state)
{
    no_problems(parse(MINIMAL));
    assert_string_equal(cfg.replication_policy, "availability"); /* the default */
    assert_false(config_durable(&cfg));
    reset(state);
    no_problems(parse(MINIMAL "replication_policy=durability\n"));
    assert_true(config_durable(&cfg));
    reset(state);
    assert_int_equal(parse(MINIMAL "replication_policy=sync\n"), 1);
    reported_once("replication_policy", "sync");
}

static void bad_log_level_and_url_reported(void **state)
{
    assert_int_equal(parse(MINIMAL "log_level=verbose\n"), 1);
    reported_once("log_level", "verbose");

    reset(state);
    assert_int_equal(parse(MINIMAL "data_platform_url=ftp://x/\n"), 1);
    reported_once("data_platform_url", NULL);

    reset(state);
    no_problems(parse(MINIMAL "data_platform_url=http://127.0.0.1:9/events\n"));
}

static void several_problems_several_lines(void **state)
{
    setenv_stub("COMMERCE_RETRY_AFTER_SECONDS", "0");
    int p = parse("# nothing about the database\n"
                  "colour=blue\n"
                  "db_port=abc\n"
                  "relay_timeout_ms=0\n"
                  "log_level=loud\n");
    assert_int_equal(p, 6);
    reported_once("colour", NULL);
    reported_once("db_port", NULL);
    reported_once("relay_timeout_ms", NULL);
    reported_once("retry_after_seconds", NULL);
    reported_once("db_socket", "db_host");
    reported_once("log_level", NULL);
}

static void null_report_still_counts(void **state)
{
    assert_int_equal(config_parse(&cfg, "colour=blue\n", stub_getenv, NULL, NULL), 2);
    assert_int_equal(config_parse(&cfg, MINIMAL, NULL, NULL, NULL), 0);
}

/* The shipped /etc/commerce/commerce.conf (conf/commerce.conf) parses, holds
 * no secret, and names every key of the table (set, or commented out with its
 * default), so it documents them all. */
static void shipped_config_parses_and_names_every_key(void **state)
{
    char path[1024], text[16384];
    const char *dir = getenv("srcdir"); /* automake's test environment */
    (void)state;

    snprintf(path, sizeof(path), "%s/conf/commerce.conf", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(text) - 1);
    text[n] = '\0';
    no_problems(parse(text));
    assert_string_equal(cfg.file_secret, "");
    for (size_t i = 0; config_key(i); i++) {
        char set[80], commented[80], file_key[80];
        int secret = 0;
        /* a secret is never in the file: its NAME_file key is */
        snprintf(file_key, sizeof(file_key), "%s_file", config_key(i));
        for (size_t j = 0; config_key(j); j++)
            secret |= strcmp(config_key(j), file_key) == 0;
        if (secret)
            continue;
        snprintf(set, sizeof(set), "\n%s=", config_key(i));
        snprintf(commented, sizeof(commented), "\n#%s=", config_key(i));
        if (!strstr(text, set) && !strstr(text, commented))
            fail_msg("conf/commerce.conf does not name %s", config_key(i));
    }
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(defaults),
        T(file_values),
        T(comments_blank_lines_and_spaces),
        T(later_file_line_wins),
        T(no_file_at_all),
        T(env_overrides_file),
        T(env_names_are_upper_case_only),
        T(unknown_key_reported),
        T(line_without_equals_reported),
        T(non_integer_reported),
        T(out_of_range_reported),
        T(string_too_long_reported),
        T(missing_admin_token_reported),
        T(worker_needs_a_token_key_unless_auth_off),
        T(relay_refuses_plain_http_off_loopback),
        T(replication_policy_is_availability_or_durability),
        T(file_secrets_are_noted_for_the_mode_check),
        T(no_database_address_reported),
        T(max_charge_above_max_balance_reported),
        T(bad_log_level_and_url_reported),
        T(several_problems_several_lines),
        T(null_report_still_counts),
        T(shipped_config_parses_and_names_every_key),
    };
    return cmocka_run_group_tests_name("unit/config", tests, NULL, NULL);
}
