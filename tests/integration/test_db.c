/* The database layer (src/store/db.c) against the test stack's MariaDB: what
 * a caller holding a result open sees when the connection is lost under it,
 * and the statement cache's key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/rc.h"
#include "lib/client.h"
#include "store/db.h"

static config_t cfg;

static int setup(void **state)
{
    char text[1024];
    const char *sock = getenv("COMMERCE_TEST_DB_SOCKET");
    snprintf(text, sizeof(text), "db_socket=%s\ndb_user=%s\ndb_name=%s\n",
             sock ? sock : "/tmp/mysqld.sock", tc_db_admin(),
             getenv("COMMERCE_TEST_DB_NAME") ? getenv("COMMERCE_TEST_DB_NAME") : "commerce");
    return config_parse(&cfg, text, NULL, NULL, NULL) == 0 ? 0 : -1;
}

/* A statement whose result a caller still reads (orders_list reads each
 * order's lines while it holds the orders) must not come to name another
 * statement when the connection is lost and the cache is reset: the layer
 * does not reconnect until every open result is ended. */
static void open_result_survives_a_lost_connection(void **state)
{
    static const char outer_sql[] = "SELECT seq FROM seq_1_to_3 ORDER BY seq";
    static const char id_sql[] = "SELECT CONNECTION_ID()";
    static const char inner_sql[] = "SELECT 42";
    db_t *db = db_new(&cfg);
    db_stmt_t *outer, *inner;
    int64_t cid = 0, v = 0;

    assert_non_null(db);
    assert_int_equal(db_query(db, &outer, outer_sql, ""), C_OK);
    assert_int_equal(db_row(outer, "l", &v), DB_ROW);
    assert_int_equal(v, 1);
    assert_int_equal(db_query_i64(db, &cid, NULL, id_sql, ""), C_OK);
    assert_true(cid > 0);

    tc_sql("KILL CONNECTION %lld", (long long)cid);

    /* the next statement finds the connection gone and may not reconnect */
    assert_int_equal(db_query(db, &inner, inner_sql, ""), C_DOWN);
    /* the open result is inert: no row of another statement */
    assert_int_equal(db_row(outer, "l", &v), C_DOWN);
    db_end(outer);

    /* with nothing open, the next statement reconnects */
    assert_int_equal(db_query(db, &inner, inner_sql, ""), C_OK);
    assert_int_equal(db_row(inner, "l", &v), DB_ROW);
    assert_int_equal(v, 42);
    db_end(inner);
    assert_int_equal(db_query_i64(db, &v, NULL, id_sql, ""), C_OK);
    assert_true(v != cid);
    db_free(db);
}

/* Statements are cached by their text: one buffer holding one text and
 * then another (as a caller building SQL in a reused buffer would) gets each
 * its own statement, and a text seen before in another buffer finds its own. */
static void statement_cache_is_keyed_by_text(void **state)
{
    db_t *db = db_new(&cfg);
    char buf[64], other[64];
    int64_t v = 0;
    (void)state;

    assert_non_null(db);
    for (int round = 0; round < 2; round++)
        for (int i = 1; i <= 5; i++) {
            snprintf(buf, sizeof(buf), "SELECT %d", i);
            assert_int_equal(db_query_i64(db, &v, NULL, buf, ""), C_OK);
            assert_int_equal(v, i);
        }
    snprintf(other, sizeof(other), "SELECT %d", 3);
    assert_int_equal(db_query_i64(db, &v, NULL, other, ""), C_OK);
    assert_int_equal(v, 3);
    db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_result_survives_a_lost_connection),
        cmocka_unit_test(statement_cache_is_keyed_by_text),
    };
    return cmocka_run_group_tests_name("integration/db", tests, setup, NULL);
}
