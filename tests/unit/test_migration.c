/* migrate/sqlsplit.c and migrate/migration.c: a migration file is split into
 * the statements the mariadb client would send (delimiters, strings, comments),
 * its header is read and enforced, an online one may not lock a table, and
 * every file of sql/migrations keeps the rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/rc.h"
#include "migrate/migration.h"
#include "migrate/sqlsplit.h"

/* Split text; the statements as NUL-terminated strings in out[] (n of them). */
static size_t split(const char *text, char out[][256], size_t max)
{
    sql_stmt_t *st;
    size_t n;
    char err[256];

    assert_int_equal(sql_split(text, strlen(text), &st, &n, err, sizeof(err)), C_OK);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++)
        snprintf(out[i], 256, "%.*s", (int)st[i].len, st[i].text);
    free(st);
    return n;
}

static void splits_on_the_delimiter_outside_strings_and_comments(void **state)
{
    char s[8][256];
    (void)state;
    size_t n = split("SELECT 1;\n"
                     "-- a comment; not a statement\n"
                     "SELECT ';', \"a;b\", `c;d`, 'it''s;', 'x\\';y' # tail; comment\n"
                     ";/* block; comment */ SELECT 2 ; \n"
                     "# only comments;\n",
                     s, 8);
    assert_int_equal(n, 3);
    assert_string_equal(s[0], "SELECT 1");
    assert_string_equal(s[1], "SELECT ';', \"a;b\", `c;d`, 'it''s;', 'x\\';y' # tail; comment");
    assert_string_equal(s[2], "SELECT 2");
}

static void delimiter_lines_change_the_delimiter(void **state)
{
    char s[8][256];
    (void)state;
    size_t n = split("CREATE TABLE t (a INT);\n"
                     "DELIMITER //\n"
                     "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\n"
                     "  delimiter ;\n"
                     "INSERT INTO t VALUES (1);\n"
                     "SELECT 3",
                     s, 8);
    assert_int_equal(n, 4);
    assert_string_equal(s[0], "CREATE TABLE t (a INT)");
    assert_non_null(strstr(s[1], "SELECT 1;\n  SELECT 2;\nEND"));
    assert_string_equal(s[2], "INSERT INTO t VALUES (1)");
    assert_string_equal(s[3], "SELECT 3");
}

static void lines_are_counted_to_the_first_code(void **state)
{
    sql_stmt_t *st;
    size_t n;
    char err[256];
    const char *text = "-- header\n\nSELECT\n'a\nb';\n/* c\n*/ SELECT 2;";
    (void)state;
    assert_int_equal(sql_split(text, strlen(text), &st, &n, err, sizeof(err)), C_OK);
    assert_int_equal(n, 2);
    assert_int_equal(st[0].line, 3);
    assert_int_equal(st[1].line, 7);
    free(st);
}

static void open_strings_and_bad_delimiters_are_refused(void **state)
{
    static const char *const bad[] = {
        "SELECT 'open;",
        "SELECT 1; /* open",
        "SELECT 1\nDELIMITER //\nSELECT 2 //",
        "DELIMITER \nSELECT 1;",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        sql_stmt_t *st = NULL;
        size_t n = 9;
        char err[256] = "";
        assert_int_equal(sql_split(bad[i], strlen(bad[i]), &st, &n, err, sizeof(err)), C_ERR);
        assert_null(st);
        assert_int_equal(n, 0);
        assert_true(strlen(err) > 0);
    }
}

static void the_skeleton_is_code_only(void **state)
{
    char out[256];
    const char *text = "alter  table `t` -- why\n  ADD COLUMN c VARCHAR(10) DEFAULT 'a;b' ,"
                       " algorithm = inplace,  LOCK = none /* done */";
    (void)state;
    sql_skeleton(text, strlen(text), out, sizeof(out));
    assert_string_equal(
        out, "ALTER TABLE `` ADD COLUMN C VARCHAR(10) DEFAULT '',ALGORITHM=INPLACE,LOCK=NONE");
}

static int online(const char *sql)
{
    char err[256];
    return sql_online_ok(sql, strlen(sql), err, sizeof(err));
}

static void online_statements_may_not_lock(void **state)
{
    (void)state;
    assert_int_equal(online("ALTER TABLE t ADD COLUMN c INT NULL, ALGORITHM=INSTANT"), C_OK);
    assert_int_equal(online("alter table t add index i (c), algorithm=inplace, lock=none"), C_OK);
    assert_int_equal(online("CREATE INDEX i ON t (c) ALGORITHM=INPLACE LOCK=NONE"), C_OK);
    assert_int_equal(online("DROP INDEX i ON t ALGORITHM=NOCOPY LOCK=NONE"), C_OK);
    assert_int_equal(online("CREATE TABLE IF NOT EXISTS t (a INT)"), C_OK);
    assert_int_equal(online("SELECT TRUNCATE(1.5, 0)"), C_OK);
    assert_int_equal(online("UPDATE t SET note = 'ALTER TABLE x' WHERE id = 1"), C_OK);

    assert_int_equal(online("ALTER TABLE t ADD COLUMN c INT"), C_ERR);
    assert_int_equal(online("ALTER TABLE t ADD INDEX i (c), ALGORITHM=INPLACE"), C_ERR);
    assert_int_equal(online("ALTER TABLE t ADD INDEX i (c), LOCK=NONE"), C_ERR);
    assert_int_equal(online("ALTER TABLE t FORCE, ALGORITHM=COPY, LOCK=SHARED"), C_ERR);
    assert_int_equal(online("CREATE UNIQUE INDEX i ON t (c)"), C_ERR);
    assert_int_equal(online("DROP INDEX i ON t"), C_ERR);
    assert_int_equal(online("OPTIMIZE TABLE t"), C_ERR);
    assert_int_equal(online("LOCK TABLES t WRITE"), C_ERR);
    assert_int_equal(online("TRUNCATE t"), C_ERR);
    /* inside a block, each ALTER on its own */
    assert_int_equal(online("BEGIN NOT ATOMIC ALTER TABLE a ADD COLUMN x INT, ALGORITHM=INSTANT; "
                            "ALTER TABLE b ADD COLUMN y INT; END"),
                     C_ERR);
}

static int parse(const char *file, const char *text, char *err, size_t cap)
{
    migration_t m;
    int rc = migration_parse(&m, file, strdup(text), strlen(text), err, cap);
    migration_free(&m);
    return rc;
}

static void the_header_is_required(void **state)
{
    char err[512];
    (void)state;
    assert_int_equal(parse("0002-a.sql",
                           "-- online: yes\n-- step: expand\n-- adds t.\nCREATE TABLE t (a INT);",
                           err, sizeof(err)),
                     C_OK);
    assert_int_equal(parse("0002-a.sql",
                           "-- online: no: rebuilds orders\n-- step: contract 0002\n-- drops x\n"
                           "ALTER TABLE t DROP COLUMN x;",
                           err, sizeof(err)),
                     C_OK);
    /* the online line first */
    assert_int_equal(
        parse("0002-a.sql", "-- step: expand\n-- online: yes\n-- x\nSELECT 1;", err, sizeof(err)),
        C_ERR);
    assert_non_null(strstr(err, "line 1"));
    /* offline says why */
    assert_int_equal(
        parse("0002-a.sql", "-- online: no\n-- step: expand\n-- x\nSELECT 1;", err, sizeof(err)),
        C_ERR);
    /* a step, and a description */
    assert_int_equal(parse("0002-a.sql", "-- online: yes\n-- adds t\nSELECT 1;", err, sizeof(err)),
                     C_ERR);
    assert_int_equal(
        parse("0002-a.sql", "-- online: yes\n-- step: expand\nSELECT 1;", err, sizeof(err)), C_ERR);
    /* an expand step may say so in its words; a contract step needs its line */
    assert_int_equal(parse("0002-a.sql",
                           "-- online: yes\n-- adds t. Expand step: nothing old uses it.\n"
                           "CREATE TABLE t (a INT);",
                           err, sizeof(err)),
                     C_OK);
    assert_int_equal(parse("0002-a.sql",
                           "-- online: yes\n-- drops t. Contract step: 0.1 used it.\n"
                           "DROP TABLE t;",
                           err, sizeof(err)),
                     C_ERR);
    assert_int_equal(parse("0002-a.sql",
                           "-- online: yes\n-- step: expand\n-- step: expand\n-- x\nSELECT 1;", err,
                           sizeof(err)),
                     C_ERR);
    /* a contract names a schema no later than itself */
    assert_int_equal(parse("0002-a.sql", "-- online: yes\n-- step: contract 0003\n-- x\nSELECT 1;",
                           err, sizeof(err)),
                     C_ERR);
    /* the name */
    assert_int_equal(
        parse("0002_a.sql", "-- online: yes\n-- step: expand\n-- x\nSELECT 1;", err, sizeof(err)),
        C_ERR);
    assert_int_equal(
        parse("0000-a.sql", "-- online: yes\n-- step: expand\n-- x\nSELECT 1;", err, sizeof(err)),
        C_ERR);
    assert_int_equal(
        parse("0002-Big.sql", "-- online: yes\n-- step: expand\n-- x\nSELECT 1;", err, sizeof(err)),
        C_ERR);
    /* online means online */
    assert_int_equal(parse("0002-a.sql",
                           "-- online: yes\n-- step: expand\n-- x\nSELECT 1;\n"
                           "ALTER TABLE orders ADD INDEX i (user_id);",
                           err, sizeof(err)),
                     C_ERR);
    assert_non_null(strstr(err, "line 5"));
}

static void the_header_is_parsed(void **state)
{
    migration_t m;
    char err[512];
    const char *text = "-- online: no: rebuilds orders\n-- step: contract 0004\n-- drops x\n"
                       "ALTER TABLE t DROP COLUMN x;\nSELECT 1;";
    (void)state;
    assert_int_equal(
        migration_parse(&m, "0007-drop-x.sql", strdup(text), strlen(text), err, sizeof(err)), C_OK);
    assert_int_equal(m.id, 7);
    assert_string_equal(m.name, "0007-drop-x");
    assert_false(m.online);
    assert_string_equal(m.offline_why, "rebuilds orders");
    assert_int_equal(m.breaks_below, 4);
    assert_int_equal(m.nstmts, 2);
    assert_int_equal(strlen(m.checksum), 64);
    migration_free(&m);
}

/* Every migration in the repository keeps the rules (commerce-migrate would
 * refuse the directory otherwise), and the numbers run 0001, 0002, ... */
static void the_repository_migrations_load(void **state)
{
    migration_set_t set;
    char dir[1024], err[1024] = "";
    const char *src = getenv("srcdir"); /* automake's test environment */
    (void)state;
    snprintf(dir, sizeof(dir), "%s/sql/migrations", src ? src : ".");
    if (migrations_load(dir, &set, err, sizeof(err)) != C_OK)
        fail_msg("%s", err);
    assert_true(set.n >= 1);
    for (size_t i = 0; i < set.n; i++)
        assert_int_equal(set.m[i].id, (int)i + 1);
    assert_string_equal(set.m[0].name, "0001-baseline");
    assert_non_null(migrations_find(&set, 1));
    assert_null(migrations_find(&set, 9999));
    migrations_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splits_on_the_delimiter_outside_strings_and_comments),
        cmocka_unit_test(delimiter_lines_change_the_delimiter),
        cmocka_unit_test(lines_are_counted_to_the_first_code),
        cmocka_unit_test(open_strings_and_bad_delimiters_are_refused),
        cmocka_unit_test(the_skeleton_is_code_only),
        cmocka_unit_test(online_statements_may_not_lock),
        cmocka_unit_test(the_header_is_required),
        cmocka_unit_test(the_header_is_parsed),
        cmocka_unit_test(the_repository_migrations_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
