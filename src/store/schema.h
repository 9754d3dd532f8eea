/* The schema version: which migrations (sql/migrations/NNNN-name.sql) a
 * database has had, as commerce-migrate records them in schema_migration, and
 * whether a program of this build may run on it.
 *
 * SCHEMA_NEEDS is the last migration the code of this build relies on. Raise
 * it in the commit whose code starts to use what a new migration adds. A
 * program refuses a database where that migration is not applied yet
 * (migrate, then roll the programs), and one where a contract step removed
 * what it uses: a migration "-- step: contract NNNN" leaves working only the
 * programs whose SCHEMA_NEEDS is NNNN or later. Any other newer schema works:
 * expand steps keep the previous release's programs working. */
#ifndef COMMERCE_STORE_SCHEMA_H
#define COMMERCE_STORE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"

#define SCHEMA_NEEDS "0005-heartbeat-acked-beat"

/* The table commerce-migrate keeps its record in. */
#define SCHEMA_TABLE "schema_migration"

/* What a database's record says. */
typedef struct schema_state {
    bool recorded;     /* the table is there (and readable) and holds a row */
    int applied;       /* the last migration applied: its number */
    char name[96];     /* and its name */
    int breaks_below;  /* the highest "contract NNNN" applied (0: none) */
    char contract[96]; /* the migration that set it */
} schema_state_t;

/* Read the record (as any account with SELECT on it; an account that may
 * not read it sees none). C_OK or a db.h failure. */
int schema_read(db_t *db, schema_state_t *s);

/* The number of a migration's name ("0007-x" -> 7); 0 when it has none. */
int schema_number(const char *name);

/* Whether `program` of this build (needing migration `need`, a name) runs
 * on a database in state s: C_OK, or DB_REFUSED with a line for the operator
 * in why, naming the database `db_name` and the migration to apply. */
int schema_compatible(const schema_state_t *s, const char *need, const char *program,
                      const char *db_name, char *why, size_t cap);

/* The check every program makes: from now on, each time db connects, read
 * the record and refuse an incompatible schema (db_ensure fails with C_DOWN,
 * the reason is logged and kept in the guard, which must outlive db). */
typedef struct schema_guard {
    const char *program;
    const char *db_name;
    bool refused; /* the last connect found the schema incompatible */
    char why[512];
} schema_guard_t;
void schema_guard(db_t *db, schema_guard_t *g, const char *program, const char *db_name);

#endif
