#include "store/schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rc.h"
#include "common/revision.h"

int schema_number(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)name[i]))
            return 0;
    return atoi(name);
}

int schema_read(db_t *db, schema_state_t *s)
{
    static const char there[] =
        "SELECT COUNT(*) FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" SCHEMA_TABLE "'";
    static const char last[] =
        "SELECT l.id, l.name, COALESCE(c.breaks_below, 0), COALESCE(c.name, '')"
        " FROM (SELECT id, name FROM " SCHEMA_TABLE " ORDER BY id DESC LIMIT 1) l"
        " LEFT JOIN (SELECT name, breaks_below FROM " SCHEMA_TABLE
        " WHERE breaks_below IS NOT NULL ORDER BY breaks_below DESC, id LIMIT 1) c ON TRUE";
    int64_t n = 0, id = 0, floor = 0;
    db_stmt_t *st;
    int rc;

    memset(s, 0, sizeof(*s));
    if ((rc = db_query_i64(db, &n, NULL, there, "")) != C_OK || n == 0)
        return rc;
    if ((rc = db_query(db, &st, last, "")) != C_OK)
        return rc;
    rc =
        db_row(st, "lsls", &id, s->name, sizeof(s->name), &floor, s->contract, sizeof(s->contract));
    db_end(st);
    if (rc < 0)
        return rc;
    s->recorded = rc == DB_ROW;
    s->applied = (int)id;
    s->breaks_below = (int)floor;
    return C_OK;
}

int schema_compatible(const schema_state_t *s, const char *need, const char *program,
                      const char *db_name, char *why, size_t cap)
{
    int n = schema_number(need);

    if (!s->recorded) {
        snprintf(why, cap,
                 "%s %s needs schema %s, and database %s has no migration record it can read: "
                 "apply the migrations (commerce-migrate apply), then grants.sql",
                 program, COMMERCE_VERSION, need, db_name);
        return DB_REFUSED;
    }
    if (s->applied < n) {
        snprintf(why, cap,
                 "%s %s needs schema %s, and database %s is at %s: apply %s "
                 "(commerce-migrate apply) before starting it",
                 program, COMMERCE_VERSION, need, db_name, s->name, need);
        return DB_REFUSED;
    }
    if (s->breaks_below > n) {
        snprintf(why, cap,
                 "%s %s needs schema %s, and migration %s of database %s removed what it uses "
                 "(it leaves only programs that need %04d or later): run the release that "
                 "applied it",
                 program, COMMERCE_VERSION, need, s->contract, db_name, s->breaks_below);
        return DB_REFUSED;
    }
    return C_OK;
}

static int guard_check(db_t *db, void *arg)
{
    schema_guard_t *g = arg;
    schema_state_t s;
    int rc = schema_read(db, &s);

    if (rc != C_OK)
        return rc;
    rc = schema_compatible(&s, SCHEMA_NEEDS, g->program, g->db_name, g->why, sizeof(g->why));
    g->refused = rc != C_OK;
    if (g->refused)
        log_error("%s", g->why);
    else
        log_debug("schema %s (this build needs %s)", s.name, SCHEMA_NEEDS);
    return rc;
}

void schema_guard(db_t *db, schema_guard_t *g, const char *program, const char *db_name)
{
    g->program = program;
    g->db_name = db_name;
    g->refused = false;
    g->why[0] = '\0';
    db_on_connect(db, guard_check, g);
}
