/* commerce-migrate's work on one database: what it has had (the record in
 * schema_migration, store/schema.h), what is pending, and applying it.
 *
 * A database with no record is either empty (every migration is pending) or
 * one that release 0.1.0's sql/schema.sql made: exactly the objects of that
 * schema, which is migration 0001's. Such a database is recognised: 0001 is
 * recorded without running. Anything else without a record is refused.
 *
 * Refused, with nothing changed: a recorded migration whose file now differs
 * (its checksum), a pending migration numbered below one already applied
 * (merged out of order), an offline migration without the offline flag, and
 * a second commerce-migrate on the same database at once. */
#ifndef COMMERCE_MIGRATE_MIGRATE_H
#define COMMERCE_MIGRATE_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "migrate/migration.h"
#include "store/db.h"

/* The exit statuses of commerce-migrate. */
enum migrate_status {
    MIGRATE_OK = 0,      /* done; status: nothing pending */
    MIGRATE_FAILED = 1,  /* the database failed or could not be reached */
    MIGRATE_USAGE = 2,   /* a bad command line or configuration */
    MIGRATE_REFUSED = 3, /* refused (see above); nothing was changed */
    MIGRATE_PENDING = 4, /* status: migrations are pending */
};

typedef struct migrate_opts {
    const char *db_name; /* for messages */
    bool dry_run;        /* print what apply would do; change nothing */
    bool offline;        /* the workers are stopped: offline migrations may run */
    int to;              /* apply up to this number (0: all) */
    int lock_wait_s;     /* an online statement waits this long for a table */
    int retries;         /* and is run again this many times when it timed out */
} migrate_opts_t;

/* Print the record, what is pending and whether this release's programs run
 * on the schema. MIGRATE_OK, MIGRATE_PENDING, MIGRATE_REFUSED (apply would
 * refuse) or MIGRATE_FAILED. */
int migrate_status(db_t *db, const migration_set_t *set, const migrate_opts_t *o, FILE *out);

/* Apply what is pending, in order, each recorded once it ran (or print it
 * with o->dry_run). A MIGRATE_* status. */
int migrate_apply(db_t *db, const migration_set_t *set, const migrate_opts_t *o, FILE *out);

#endif
