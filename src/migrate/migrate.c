#include "migrate/migrate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rc.h"
#include "common/revision.h"
#include "common/util.h"
#include "store/schema.h"

/* The record: commerce-migrate's own table, made before the first migration. */
static const char record_ddl[] =
    "CREATE TABLE IF NOT EXISTS " SCHEMA_TABLE " (\n"
    "  id           INT          NOT NULL COMMENT 'NNNN of sql/migrations/NNNN-name.sql',\n"
    "  name         VARCHAR(96)  NOT NULL COMMENT 'the file name without .sql',\n"
    "  checksum     CHAR(64)     CHARACTER SET ascii NOT NULL COMMENT 'SHA-256 of the file',\n"
    "  online       TINYINT(1)   NOT NULL COMMENT 'it may run while orders flow',\n"
    "  breaks_below INT          NULL COMMENT 'a contract step: programs that need an older "
    "schema stop working',\n"
    "  how          ENUM('applied','recognised') NOT NULL COMMENT 'recognised: made by "
    "0.1.0''s schema.sql, recorded without running',\n"
    "  applied_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) COMMENT 'UTC',\n"
    "  applied_by   VARCHAR(200) NOT NULL COMMENT 'the account and the program',\n"
    "  duration_ms  BIGINT       NOT NULL,\n"
    "  PRIMARY KEY (id)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

/* What release 0.1.0's schema.sql leaves in a database, as objects() lists
 * them: migration 0001's objects, with the columns and the index column its
 * upgrade block added last (their presence tells 0.1.0 from its
 * predecessors). */
static const char *const release_010[] = {
    "base table cart_item",
    "base table commerce_heartbeat",
    "base table coupon",
    "base table idempotency_key",
    "base table inventory",
    "base table order_item",
    "base table orders",
    "base table outbox",
    "base table point",
    "base table point_history",
    "base table popular_current",
    "base table popular_item",
    "base table popular_snapshot",
    "base table product",
    "base table user_coupon",
    "base table users",
    "column outbox.claimed_by",
    "column outbox.platform_failed",
    "index orders.orders_created.created_at",
    "index orders.orders_created.status",
    "procedure commerce_order_facts",
    "procedure commerce_order_write",
    "sequence orders_id_seq",
    "view payment",
};
#define RELEASE_010_BASELINE 1 /* the migration it is */

static const char objects_sql[] =
    "SELECT o FROM ("
    " SELECT CONCAT(LOWER(TABLE_TYPE), ' ', TABLE_NAME) AS o FROM information_schema.TABLES"
    "  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '" SCHEMA_TABLE "'"
    " UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME)"
    "  FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
    " UNION ALL SELECT CONCAT('trigger ', TRIGGER_NAME) FROM information_schema.TRIGGERS"
    "  WHERE TRIGGER_SCHEMA = DATABASE()"
    " UNION ALL SELECT CONCAT('column outbox.', COLUMN_NAME) FROM information_schema.COLUMNS"
    "  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'outbox'"
    "  AND COLUMN_NAME IN ('claimed_by', 'platform_failed')"
    " UNION ALL SELECT CONCAT('index ', TABLE_NAME, '.', INDEX_NAME, '.', COLUMN_NAME)"
    "  FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
    "  AND ((TABLE_NAME = 'orders' AND INDEX_NAME = 'orders_created')"
    "  OR INDEX_NAME = 'order_item_product')"
    ") x ORDER BY o";

struct record {
    int id;
    char name[96];
    char checksum[65];
    char how[16];
    char at[32];
    char by[200];
    int64_t ms;
};

/* A database's state, and what the migration files make of it. */
struct state {
    bool table;       /* schema_migration exists */
    struct record *r; /* its rows, by id */
    size_t n;
    int objects;        /* other objects in the database */
    bool recognised;    /* no row, and the objects are 0.1.0's */
    char unknown[1024]; /* no row, objects, not 0.1.0's: how they differ */
    /* what the files make of it */
    int problems;
    int pending; /* files not applied (but for a recognised 0001) */
};

static void state_free(struct state *s) { free(s->r); }

static int read_records(db_t *db, struct state *s)
{
    static const char sql[] = "SELECT id, name, checksum, how, applied_at, applied_by, duration_ms"
                              " FROM " SCHEMA_TABLE " ORDER BY id";
    db_stmt_t *st;
    int rc = db_query(db, &st, sql, ""), r;
    size_t have = 0;

    if (rc != C_OK)
        return rc;
    for (;;) {
        struct record rec;
        int64_t id = 0;
        memset(&rec, 0, sizeof(rec));
        r = db_row(st, "lsssssl", &id, rec.name, sizeof(rec.name), rec.checksum,
                   sizeof(rec.checksum), rec.how, sizeof(rec.how), rec.at, sizeof(rec.at), rec.by,
                   sizeof(rec.by), &rec.ms);
        if (r != DB_ROW)
            break;
        rec.id = (int)id;
        if (s->n == have) {
            size_t c = have ? have * 2 : 16;
            struct record *grown = realloc(s->r, c * sizeof(*grown));
            if (!grown) {
                r = C_ERR;
                break;
            }
            s->r = grown;
            have = c;
        }
        s->r[s->n++] = rec;
    }
    db_end(st);
    return r < 0 ? r : C_OK;
}

/* Add "what" to the list in buf under its label ("not in it: a, b; missing:
 * c"); *cur is the label written last. */
static void note(char *buf, size_t cap, size_t *used, const char **cur, const char *label,
                 const char *what)
{
    bool same = *cur == label;
    if (*used >= cap)
        return;
    *used +=
        (size_t)snprintf(buf + *used, cap - *used, "%s%s%s%s", *used ? (same ? ", " : "; ") : "",
                         same ? "" : label, same ? "" : ": ", what);
    *cur = label;
}

/* The database's objects against 0.1.0's: s->recognised, or s->unknown. */
static int read_objects(db_t *db, struct state *s)
{
    const size_t nwant = sizeof(release_010) / sizeof(*release_010);
    bool seen[sizeof(release_010) / sizeof(*release_010)] = {false};
    db_stmt_t *st;
    char o[200];
    const char *cur = NULL;
    size_t used = 0;
    int rc = db_query(db, &st, objects_sql, ""), r;

    if (rc != C_OK)
        return rc;
    s->unknown[0] = '\0';
    while ((r = db_row(st, "s", o, sizeof(o))) == DB_ROW) {
        size_t i = 0;
        s->objects++;
        while (i < nwant && strcmp(o, release_010[i]) != 0)
            i++;
        if (i < nwant)
            seen[i] = true;
        else
            note(s->unknown, sizeof(s->unknown), &used, &cur, "not in it", o);
    }
    db_end(st);
    if (r < 0)
        return r;
    for (size_t i = 0; i < nwant; i++)
        if (!seen[i])
            note(s->unknown, sizeof(s->unknown), &used, &cur, "missing", release_010[i]);
    s->recognised = s->objects > 0 && s->unknown[0] == '\0';
    return C_OK;
}

static int read_state(db_t *db, struct state *s)
{
    static const char there[] =
        "SELECT COUNT(*) FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" SCHEMA_TABLE "'";
    int64_t n = 0;
    int rc;

    memset(s, 0, sizeof(*s));
    if ((rc = db_query_i64(db, &n, NULL, there, "")) != C_OK)
        return rc;
    s->table = n > 0;
    if ((s->table && (rc = read_records(db, s)) != C_OK) ||
        (s->n == 0 && (rc = read_objects(db, s)) != C_OK)) {
        state_free(s); /* the records read before the failure */
        s->r = NULL;
        return rc;
    }
    return C_OK;
}

static const struct record *recorded(const struct state *s, int id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].id == id)
            return &s->r[i];
    return NULL;
}

/* Whether migration m still has to run on the database. */
static bool is_pending(const struct state *s, const migration_t *m)
{
    return !recorded(s, m->id) && !(s->recognised && m->id == RELEASE_010_BASELINE);
}

static const char *kind(const migration_t *m, char *buf, size_t cap)
{
    if (m->breaks_below)
        snprintf(buf, cap, "%s, contract: programs that need less than %04d stop working",
                 m->online ? "online" : "OFFLINE", m->breaks_below);
    else
        snprintf(buf, cap, "%s, expand", m->online ? "online" : "OFFLINE");
    return buf;
}

/* Every problem apply refuses for, printed; their number in s->problems,
 * the pending migrations in s->pending. */
static void judge(struct state *s, const migration_set_t *set, const char *db_name, FILE *out)
{
    int last = s->n ? s->r[s->n - 1].id : 0;

    if (s->n == 0 && s->recognised)
        s->pending++; /* its record */

    if (s->n == 0 && s->objects > 0 && !s->recognised) {
        fprintf(out,
                "refused: database %s has no migration record, and its objects are not the "
                "schema release 0.1.0 made (%s)\n",
                db_name, s->unknown);
        s->problems++;
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct record *r = &s->r[i];
        const migration_t *m = migrations_find(set, r->id);
        if (m && (strcmp(m->checksum, r->checksum) != 0 || strcmp(m->name, r->name) != 0)) {
            fprintf(out,
                    "refused: %s was applied %s UTC as %s (sha256 %.12s…), and the file is now %s "
                    "(sha256 %.12s…): an applied migration is never changed; put the change in "
                    "a new migration\n",
                    r->name, r->at, r->name, r->checksum, m->name, m->checksum);
            s->problems++;
        }
    }
    for (size_t i = 0; i < set->n; i++) {
        const migration_t *m = &set->m[i];
        if (!is_pending(s, m))
            continue;
        s->pending++;
        if (m->id < last) {
            fprintf(out,
                    "refused: %s is pending, but %04d is applied already: migrations run in the "
                    "order of their numbers; renumber it after the last one applied\n",
                    m->name, last);
            s->problems++;
        }
    }
}

int migrate_status(db_t *db, const migration_set_t *set, const migrate_opts_t *o, FILE *out)
{
    struct state s;
    schema_state_t sch;
    char why[512], k[160];
    int rc = read_state(db, &s);

    if (rc == C_OK)
        rc = schema_read(db, &sch);
    if (rc != C_OK) {
        state_free(&s);
        fprintf(out, "cannot read the state of database %s (see above)\n", o->db_name);
        return MIGRATE_FAILED;
    }
    fprintf(out, "database %s: %s\n", o->db_name,
            sch.recorded   ? sch.name
            : s.recognised ? "no migration record; the schema release 0.1.0 made (recognised as "
                             "0001-baseline)"
            : s.objects    ? "no migration record, and objects of an unknown schema"
                           : "empty");
    for (size_t i = 0; i < s.n; i++) {
        const struct record *r = &s.r[i];
        const migration_t *m = migrations_find(set, r->id);
        fprintf(out, "  %-32s %s %s UTC by %s, %lld ms%s\n", r->name, r->how, r->at, r->by,
                (long long)r->ms,
                !m ? " (not in this release: a newer one applied it)"
                : strcmp(m->checksum, r->checksum) ? " (THE FILE HAS CHANGED SINCE)"
                                                   : "");
    }
    for (size_t i = 0; i < set->n; i++) {
        const migration_t *m = &set->m[i];
        if (!recorded(&s, m->id))
            fprintf(out, "  %-32s %s (%s)\n", m->name,
                    is_pending(&s, m) ? "pending" : "recognised, recorded at the next apply",
                    kind(m, k, sizeof(k)));
    }
    judge(&s, set, o->db_name, out);
    if (schema_compatible(&sch, SCHEMA_NEEDS, "commerce-fcgi", o->db_name, why, sizeof(why)) ==
        C_OK)
        fprintf(out, "the programs of release %s (they need %s) run on it\n", COMMERCE_VERSION,
                SCHEMA_NEEDS);
    else
        fprintf(out, "the programs of release %s refuse it as it is: %s\n", COMMERCE_VERSION, why);
    rc = s.problems ? MIGRATE_REFUSED : s.pending ? MIGRATE_PENDING : MIGRATE_OK;
    state_free(&s);
    return rc;
}

/* Print a migration as apply would run it. */
static void print_dry(const migration_t *m, FILE *out)
{
    char k[160];
    fprintf(out, "-- would apply %s (%s), %zu statements:\n", m->name, kind(m, k, sizeof(k)),
            m->nstmts);
    for (size_t i = 0; i < m->nstmts; i++) {
        bool d = memchr(m->stmts[i].text, ';', m->stmts[i].len) != NULL;
        fprintf(out, "%s%.*s%s\n", d ? "DELIMITER //\n" : "", (int)m->stmts[i].len,
                m->stmts[i].text, d ? "\n//\nDELIMITER ;" : ";");
    }
}

static void nap_s(int s)
{
    struct timespec ts = {s, 0};
    nanosleep(&ts, NULL);
}

/* Run the statements of m; C_OK or a failure, explained on out. */
static int run_one(db_t *db, const migration_t *m, const migrate_opts_t *o, FILE *out)
{
    char set[96];
    db_error_t e;
    int rc;

    snprintf(set, sizeof(set), "SET SESSION lock_wait_timeout = %d",
             m->online ? o->lock_wait_s : 31536000);
    if ((rc = db_run(db, set, strlen(set), &e)) != C_OK) {
        fprintf(out, "%s: %s: error %u: %s\n", m->name, set, e.code, e.message);
        return rc;
    }
    for (size_t i = 0; i < m->nstmts; i++) {
        const sql_stmt_t *st = &m->stmts[i];
        for (int attempt = 0;; attempt++) {
            rc = db_run(db, st->text, st->len, &e);
            if (rc != C_RETRY || attempt >= o->retries)
                break;
            fprintf(out, "%s: line %d: %s (error %u); running it again in %d s\n", m->name,
                    st->line, e.message, e.code, attempt + 1);
            fflush(out);
            nap_s(attempt + 1);
        }
        if (rc != C_OK) {
            fprintf(out, "%s: line %d: error %u: %s\n", m->name, st->line, e.code, e.message);
            return rc;
        }
    }
    return C_OK;
}

static int record(db_t *db, const migration_t *m, const char *how, int64_t ms)
{
    static const char sql[] =
        "INSERT INTO " SCHEMA_TABLE " (id, name, checksum, online, breaks_below, how, applied_by,"
        " duration_ms) VALUES (?, ?, ?, ?, ?, ?, CONCAT(CURRENT_USER(), ' (commerce-migrate ', ?,"
        " ')'), ?)";
    return db_exec(db, sql, NULL, NULL, "lsslnssl", (int64_t)m->id, m->name, m->checksum,
                   (int64_t)m->online, (int64_t)m->breaks_below, how, COMMERCE_VERSION, ms);
}

static int lock_database(db_t *db, const migrate_opts_t *o, FILE *out)
{
    int64_t got = 0;
    int rc = db_query_i64(db, &got, NULL,
                          "SELECT GET_LOCK(CONCAT('commerce-migrate:', DATABASE()), 0)", "");
    if (rc != C_OK)
        return MIGRATE_FAILED;
    if (got != 1) {
        fprintf(out, "refused: another commerce-migrate is applying migrations to database %s\n",
                o->db_name);
        return MIGRATE_REFUSED;
    }
    return MIGRATE_OK;
}

static int apply_pending(db_t *db, const migration_set_t *set, struct state *s,
                         const migrate_opts_t *o, FILE *out)
{
    db_error_t e;
    int done = 0;

    if (!s->table && db_run(db, record_ddl, strlen(record_ddl), &e) != C_OK) {
        fprintf(out, "creating %s: error %u: %s\n", SCHEMA_TABLE, e.code, e.message);
        return MIGRATE_FAILED;
    }
    if (s->n == 0 && s->recognised) {
        const migration_t *m = migrations_find(set, RELEASE_010_BASELINE);
        if (!m || record(db, m, "recognised", 0) != C_OK)
            return MIGRATE_FAILED;
        fprintf(out, "%s: recognised (the schema release 0.1.0 made), recorded\n", m->name);
    }
    for (size_t i = 0; i < set->n; i++) {
        const migration_t *m = &set->m[i];
        char k[160];
        if (!is_pending(s, m) || (o->to && m->id > o->to))
            continue;
        fprintf(out, "%s: applying (%s, %zu statements)\n", m->name, kind(m, k, sizeof(k)),
                m->nstmts);
        fflush(out);
        int64_t t0 = util_mono_us();
        int rc = run_one(db, m, o, out);
        int64_t ms = (util_mono_us() - t0) / 1000;
        if (rc == C_OK && (rc = record(db, m, "applied", ms)) != C_OK)
            fprintf(out, "%s: ran, but recording it failed (see above)\n", m->name);
        if (rc != C_OK) {
            fprintf(out,
                    "%s: failed after %lld ms; %d applied before it. Every migration is safe to "
                    "run again: fix the cause, then apply again\n",
                    m->name, (long long)ms, done);
            return MIGRATE_FAILED;
        }
        fprintf(out, "%s: applied in %lld ms\n", m->name, (long long)ms);
        done++;
    }
    return MIGRATE_OK;
}

int migrate_apply(db_t *db, const migration_set_t *set, const migrate_opts_t *o, FILE *out)
{
    struct state s;
    int rc = o->dry_run ? MIGRATE_OK : lock_database(db, o, out), offline = 0;

    if (rc != MIGRATE_OK)
        return rc;
    if (read_state(db, &s) != C_OK) {
        fprintf(out, "cannot read the state of database %s (see above)\n", o->db_name);
        return MIGRATE_FAILED;
    }
    judge(&s, set, o->db_name, out);
    if (s.problems) {
        state_free(&s);
        return MIGRATE_REFUSED;
    }
    for (size_t i = 0; i < set->n; i++) {
        const migration_t *m = &set->m[i];
        if (is_pending(&s, m) && (!o->to || m->id <= o->to) && !m->online && !o->offline) {
            fprintf(out,
                    "refused: %s cannot run while orders flow (%s); stop the workers, relays "
                    "and the batch, then apply with --offline\n",
                    m->name, m->offline_why);
            offline++;
        }
    }
    if (offline) {
        state_free(&s);
        return MIGRATE_REFUSED;
    }
    if (o->dry_run) {
        if (!s.table)
            fprintf(out, "-- would create %s:\n%s;\n", SCHEMA_TABLE, record_ddl);
        if (s.n == 0 && s.recognised)
            fprintf(out, "-- would record 0001-baseline as recognised (the schema 0.1.0 made)\n");
        for (size_t i = 0; i < set->n; i++)
            if (is_pending(&s, &set->m[i]) && (!o->to || set->m[i].id <= o->to))
                print_dry(&set->m[i], out);
        state_free(&s);
        return MIGRATE_OK;
    }
    rc = apply_pending(db, set, &s, o, out);
    state_free(&s);
    if (rc == MIGRATE_OK) {
        schema_state_t sch;
        if (schema_read(db, &sch) != C_OK)
            return MIGRATE_FAILED;
        fprintf(out, "database %s: %s%s\n", o->db_name, sch.recorded ? sch.name : "empty",
                sch.applied == (set->n ? set->m[set->n - 1].id : 0) ? ", up to date" : "");
    }
    return rc;
}
