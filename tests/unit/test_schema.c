/* store/schema.c: which schemas a program of this build runs on. Older than
 * SCHEMA_NEEDS, or without a record: refused, naming the migration to apply.
 * Newer: runs, unless a contract step left only newer programs working. And
 * SCHEMA_NEEDS names a migration of sql/migrations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/rc.h"
#include "store/schema.h"

static int check(const schema_state_t *s, const char *need, char *why)
{
    return schema_compatible(s, need, "commerce-fcgi", "shop", why, 512);
}

static void no_record_is_refused(void **state)
{
    schema_state_t s = {0};
    char why[512];
    (void)state;
    assert_int_equal(check(&s, "0001-baseline", why), DB_REFUSED);
    assert_non_null(strstr(why, "commerce-fcgi"));
    assert_non_null(strstr(why, "0001-baseline"));
    assert_non_null(strstr(why, "commerce-migrate apply"));
    assert_non_null(strstr(why, "shop"));
}

static void an_older_schema_is_refused_naming_the_migration(void **state)
{
    schema_state_t s = {.recorded = true, .applied = 2, .name = "0002-b"};
    char why[512];
    (void)state;
    assert_int_equal(check(&s, "0003-c", why), DB_REFUSED);
    assert_non_null(strstr(why, "is at 0002-b: apply 0003-c"));
}

static void the_same_or_a_newer_expanded_schema_runs(void **state)
{
    schema_state_t s = {.recorded = true, .applied = 3, .name = "0003-c"};
    char why[512];
    (void)state;
    assert_int_equal(check(&s, "0003-c", why), C_OK);
    assert_int_equal(check(&s, "0001-a", why), C_OK);
    /* a contract step that leaves programs needing 0002 or later */
    s.breaks_below = 2;
    snprintf(s.contract, sizeof(s.contract), "0003-c");
    assert_int_equal(check(&s, "0002-b", why), C_OK);
    assert_int_equal(check(&s, "0003-c", why), C_OK);
}

static void a_schema_contracted_past_the_program_is_refused(void **state)
{
    schema_state_t s = {
        .recorded = true, .applied = 5, .name = "0005-e", .breaks_below = 4, .contract = "0005-e"};
    char why[512];
    (void)state;
    assert_int_equal(check(&s, "0003-c", why), DB_REFUSED);
    assert_non_null(strstr(why, "migration 0005-e"));
    assert_non_null(strstr(why, "0004 or later"));
}

static void numbers(void **state)
{
    (void)state;
    assert_int_equal(schema_number("0007-x"), 7);
    assert_int_equal(schema_number("0120-failover"), 120);
    assert_int_equal(schema_number("x"), 0);
    assert_int_equal(schema_number(""), 0);
}

/* SCHEMA_NEEDS names a file of sql/migrations. */
static void the_need_is_a_migration(void **state)
{
    char path[1024];
    const char *src = getenv("srcdir"); /* automake's test environment */
    (void)state;
    snprintf(path, sizeof(path), "%s/sql/migrations/%s.sql", src ? src : ".", SCHEMA_NEEDS);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("SCHEMA_NEEDS is %s, and there is no %s", SCHEMA_NEEDS, path);
    fclose(f);
    assert_true(schema_number(SCHEMA_NEEDS) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_record_is_refused),
        cmocka_unit_test(an_older_schema_is_refused_naming_the_migration),
        cmocka_unit_test(the_same_or_a_newer_expanded_schema_runs),
        cmocka_unit_test(a_schema_contracted_past_the_program_is_refused),
        cmocka_unit_test(numbers),
        cmocka_unit_test(the_need_is_a_migration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
