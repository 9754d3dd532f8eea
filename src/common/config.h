/* Configuration: a key=value file plus COMMERCE_* environment overrides.
 *
 * The file path comes from COMMERCE_CONFIG, else COMMERCE_DEFAULT_CONFIG.
 * Every key is described once in the table in config.c (name, type, bounds,
 * default); config_load() checks all of them and reports one line per problem. */
#ifndef COMMERCE_CONFIG_H
#define COMMERCE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef COMMERCE_DEFAULT_CONFIG
#define COMMERCE_DEFAULT_CONFIG "/etc/commerce/commerce.conf"
#endif

typedef struct config {
    char db_socket[256];
    char db_host[256];
    int64_t db_port;
    int64_t db_lock_wait_timeout_s;
    char db_user[80];
    char db_password[256];
    char db_password_file[256];
    char db_name[80];
    char db_replica_sockets[512]; /* comma-separated */
    char db_replica_hosts[512];   /* comma-separated host[:port] */
    char db_replica_user[80];
    char db_replica_password[256];
    char db_replica_password_file[256];
    int64_t replica_max_lag_ms;
    char replication_policy[16]; /* "availability" or "durability" */
    char admin_token[256];
    char admin_token_file[256];
    char auth[8]; /* "on" or "off" */
    char auth_public_keys_file[256];
    char auth_hs256_secret[512];
    char auth_hs256_secret_file[256];
    char auth_issuer[256];
    char auth_audience[256];
    int64_t auth_leeway_s;
    char auth_user_claim[64];
    int64_t auth_token_cache; /* verified tokens a worker remembers; 0: none */
    int64_t max_charge;
    int64_t max_balance;
    char data_platform_url[512];
    char data_platform_secret[512];
    char data_platform_secret_file[256];
    int64_t relay_allow_insecure;
    char time_zone[64];
    int64_t max_body_bytes;
    int64_t retry_after_seconds;
    int64_t idempotency_retention_hours;
    int64_t relay_batch_size;
    int64_t relay_poll_ms;
    int64_t relay_max_attempts;
    int64_t relay_connect_timeout_ms;
    int64_t relay_timeout_ms;
    int64_t relay_lease_ms;
    int64_t relay_retry_base_ms;
    int64_t relay_retry_max_ms;
    int64_t relay_probe_max_ms;
    int64_t relay_parallel;
    char relay_id[64];
    int64_t relay_retention_hours;
    char log_level[16];
    char log_format[8];
    char metrics_file[256];
    /* Not keys: what config_parse saw. The first secret key the file text
     * set ("" when none), so config_load can refuse a file others can read. */
    char file_secret[32];
} config_t;

/* The programs, for the requirements only one of them has. */
enum config_role {
    CONFIG_WORKER, /* commerce-fcgi: admin_token, and a token key unless auth=off */
    CONFIG_RELAY,  /* commerce-relay delivering: data_platform_url */
    CONFIG_TOOL,   /* commerce-relay status|replay, commerce-popular, commerce-migrate: the
                      database only */
};

/* Looks up an environment variable; getenv in production, a stub in tests. */
typedef const char *(*config_getenv_fn)(const char *name);

/* Called once per problem with a complete, human-readable line. */
typedef void (*config_report_fn)(void *arg, const char *line);

/* Fill cfg with defaults, then the settings in `text` (file contents, may be
 * NULL), then environment overrides (COMMERCE_<KEY in upper case>), then
 * validate. Returns the number of problems reported (0 means cfg is usable). */
int config_parse(config_t *cfg, const char *text, config_getenv_fn env, config_report_fn report,
                 void *report_arg);

/* The requirements of one program on a parsed configuration (see enum
 * config_role); reports like config_parse and returns the number of problems. */
int config_check(const config_t *cfg, enum config_role role, config_report_fn report,
                 void *report_arg);

/* Whether user routes run without tokens (auth=off: development only). */
int config_auth_off(const config_t *cfg);

/* Whether a write is acknowledged only once a replica has it
 * (replication_policy=durability), rather than the primary going on alone
 * while no replica acknowledges (availability, the default). */
int config_durable(const config_t *cfg);

/* Read the file named by COMMERCE_CONFIG (or the default; a missing default
 * file is not an error when the environment supplies everything), call
 * config_parse with getenv, read the secrets named by the *_file keys, refuse
 * a file that holds a secret and is readable by others, then config_check
 * for `role`. Problems go to stderr, one line each, followed by a line naming
 * the file used (or tried). C_OK when usable, else C_ERR. */
int config_load(config_t *cfg, enum config_role role);

/* Which program reads a key (a mask). */
#define CONFIG_FOR_FCGI 1u
#define CONFIG_FOR_RELAY 2u
#define CONFIG_FOR_POPULAR 4u
#define CONFIG_FOR_MIGRATE 8u

/* The name of key i of the table, NULL past the last. */
const char *config_key(size_t i);

/* List the keys `program` reads, with their defaults, for --help. */
void config_help(FILE *out, unsigned program);

/* The path config_load reads: COMMERCE_CONFIG, else the compiled-in default. */
const char *config_path(void);

#endif
