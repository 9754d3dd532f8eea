/* The migration files: sql/migrations/NNNN-name.sql, applied in the order of
 * NNNN, each once. A file opens with its header, comment lines:
 *
 *   -- online: yes                      it runs while orders flow (the rule of
 *                                       sql_online_ok holds for every statement)
 *   -- online: no: WHY                  it cannot; commerce-migrate refuses it
 *                                       unless told the workers are stopped
 *   -- step: expand                     the programs of the previous release
 *                                       still work on the schema after it
 *   -- step: contract NNNN              after it, only programs that need
 *                                       schema NNNN or later work
 *   -- what it changes and why (at least one line; instead of the step line,
 *      an expand step may say "Expand step" here)
 *
 * in that block of comment lines at the top, the online line first. Then SQL
 * as the mariadb client reads it (sqlsplit.h), safe to run again after a
 * partial failure. */
#ifndef COMMERCE_MIGRATE_MIGRATION_H
#define COMMERCE_MIGRATE_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/sqlsplit.h"

typedef struct migration {
    int id;        /* NNNN */
    char name[96]; /* the file name without ".sql": "0001-baseline" */
    char *text;    /* the whole file (owned) */
    size_t len;
    char checksum[65];     /* SHA-256 of the file, hex */
    bool online;           /* "-- online: yes" */
    char offline_why[200]; /* "-- online: no: WHY" */
    int breaks_below;      /* "-- step: contract NNNN": NNNN; 0 for an expand step */
    sql_stmt_t *stmts;     /* spans of text (owned array) */
    size_t nstmts;
} migration_t;

typedef struct migration_set {
    migration_t *m; /* by id, ascending */
    size_t n;
} migration_set_t;

/* Parse one file: its name (NNNN-name.sql, lower case letters, digits and
 * dashes), the header, the statements, and for an online one the rule of
 * sql_online_ok. Takes ownership of text (malloc'd) also on failure. C_OK, or
 * C_ERR with the problem in err (the file and line named). */
int migration_parse(migration_t *m, const char *file, char *text, size_t len, char *err,
                    size_t cap);
void migration_free(migration_t *m);

/* Read every *.sql file of dir (other files are left alone), in the order of
 * their numbers; two files with one number are refused. C_OK, or C_ERR with
 * the problem in err; set is empty after a failure. */
int migrations_load(const char *dir, migration_set_t *set, char *err, size_t cap);
void migrations_free(migration_set_t *set);

/* The migration numbered id, or NULL. */
const migration_t *migrations_find(const migration_set_t *set, int id);

#endif
