/* commerce-migrate: brings the shop's database schema up to date with the
 * numbered migrations of this release (sql/migrations/NNNN-name.sql), each
 * once, in order, recorded in schema_migration with its checksum and time.
 *
 *   commerce-migrate [--dir DIR] status
 *   commerce-migrate [--dir DIR] [--dry-run] [--offline] [--to NNNN]
 *                    [--lock-wait SECONDS] apply
 *
 * It connects as its own account, commerce_migrate (sql/migrate-account.sql):
 * the only one with DDL rights. The configuration (COMMERCE_CONFIG, else
 * /etc/commerce/commerce.conf) says where the database is; the account is
 * COMMERCE_DB_USER (default commerce_migrate) with the password in
 * COMMERCE_DB_PASSWORD_FILE (default /etc/commerce/credentials/
 * migrate-db-password). See commerce-migrate(8). */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "common/rc.h"
#include "common/util.h"
#include "migrate/migrate.h"
#include "migrate/migration.h"
#include "store/db.h"

#ifndef COMMERCE_MIGRATIONS_DIR
#define COMMERCE_MIGRATIONS_DIR "/usr/share/commerce/sql/migrations"
#endif
#ifndef COMMERCE_CREDENTIALS_DIR
#define COMMERCE_CREDENTIALS_DIR "/etc/commerce/credentials"
#endif

static const char usage[] =
    "usage: commerce-migrate [--dir DIR] status\n"
    "       commerce-migrate [--dir DIR] [--dry-run] [--offline] [--to NNNN]\n"
    "                        [--lock-wait SECONDS] apply\n"
    "Brings the database schema up to date with the numbered migrations in DIR\n"
    "(default " COMMERCE_MIGRATIONS_DIR "), as the account commerce_migrate.\n"
    "  status               what the database has had, what is pending; exit 0 when\n"
    "                       nothing is, 4 when migrations are pending, 3 when apply\n"
    "                       would refuse\n"
    "  apply                apply what is pending, in order, each recorded once run\n"
    "  --dry-run            print what apply would run; change nothing\n"
    "  --offline            the workers, relays and batch are stopped: migrations\n"
    "                       marked \"online: no\" may run too\n"
    "  --to NNNN            apply up to migration NNNN only\n"
    "  --lock-wait SECONDS  how long a statement of an online migration waits for\n"
    "                       a table (default 2; then it is tried again, 5 times)\n"
    "Exit status: 0 done, 1 a database failure, 2 usage, 3 refused (nothing changed).";

/* The account and password of commerce_migrate unless the environment names
 * others: the configuration file is the workers', and its db_user and
 * db_password_file are theirs. */
static void default_account(void)
{
    static const char cred[] = COMMERCE_CREDENTIALS_DIR "/migrate-db-password";

    if (!getenv("COMMERCE_DB_USER"))
        setenv("COMMERCE_DB_USER", "commerce_migrate", 1);
    if (!getenv("COMMERCE_DB_PASSWORD") && !getenv("COMMERCE_DB_PASSWORD_FILE") &&
        access(cred, R_OK) == 0)
        setenv("COMMERCE_DB_PASSWORD_FILE", cred, 1);
}

static int parse_args(int argc, char **argv, const char **dir, const char **cmd, migrate_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int64_t v = 0;
        if (strcmp(a, "--dir") == 0 && i + 1 < argc)
            *dir = argv[++i];
        else if (strcmp(a, "--dry-run") == 0)
            o->dry_run = true;
        else if (strcmp(a, "--offline") == 0)
            o->offline = true;
        else if (strcmp(a, "--to") == 0 && i + 1 < argc && util_parse_i64(argv[++i], &v) == C_OK &&
                 v >= 1 && v <= 9999)
            o->to = (int)v;
        else if (strcmp(a, "--lock-wait") == 0 && i + 1 < argc &&
                 util_parse_i64(argv[++i], &v) == C_OK && v >= 1 && v <= 3600)
            o->lock_wait_s = (int)v;
        else if (!*cmd && (strcmp(a, "status") == 0 || strcmp(a, "apply") == 0))
            *cmd = a;
        else
            return C_ERR;
    }
    if (!*cmd || (strcmp(*cmd, "status") == 0 && (o->dry_run || o->offline || o->to)))
        return C_ERR;
    return C_OK;
}

int main(int argc, char **argv)
{
    const char *dir = COMMERCE_MIGRATIONS_DIR, *cmd = NULL;
    migrate_opts_t o = {.lock_wait_s = 2, .retries = 5};
    migration_set_t set;
    config_t cfg;
    char err[1024];
    db_t *db;
    int rc;

    log_set_name("commerce-migrate");
    if (argc == 2 && cli_standard(argv[1], "commerce-migrate", usage, CONFIG_FOR_MIGRATE))
        return 0;
    if (parse_args(argc, argv, &dir, &cmd, &o) != C_OK) {
        fprintf(stderr, "%s\n", usage);
        return MIGRATE_USAGE;
    }
    if (migrations_load(dir, &set, err, sizeof(err)) != C_OK) {
        log_error("%s", err);
        return MIGRATE_USAGE;
    }
    default_account();
    if (config_load(&cfg, CONFIG_TOOL) != C_OK) {
        log_error("invalid configuration; see the lines above");
        migrations_free(&set);
        return MIGRATE_USAGE;
    }
    log_set_level_name(cfg.log_level);
    log_set_format_name(cfg.log_format);
    o.db_name = cfg.db_name;
    if (mysql_library_init(0, NULL, NULL) != 0 || !(db = db_new(&cfg))) {
        migrations_free(&set);
        return MIGRATE_FAILED;
    }
    db_set_timeout(db, 7 * 24 * 3600); /* a table rebuild takes as long as it takes */
    if (db_ensure(db) != C_OK)
        rc = MIGRATE_FAILED;
    else if (strcmp(cmd, "status") == 0)
        rc = migrate_status(db, &set, &o, stdout);
    else
        rc = migrate_apply(db, &set, &o, stdout);
    db_free(db);
    mysql_library_end();
    migrations_free(&set);
    return rc;
}
