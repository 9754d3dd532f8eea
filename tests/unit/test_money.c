/* Money rules (overflow, the balance ceiling), strict integer parsing, and
 * the times a query may carry (util_parse_time), and ids (util_uuid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/rc.h"
#include "common/util.h"
#include "core/money.h"

#define UNTOUCHED 424242

/* ---- money_add / money_mul ------------------------------------------------ */

static void add_edges(void **state)
{
    int64_t r = UNTOUCHED;

    assert_true(money_add(1, 2, &r));
    assert_int_equal(r, 3);
    assert_true(money_add(INT64_MAX, 0, &r));
    assert_int_equal(r, INT64_MAX);
    assert_true(money_add(INT64_MAX - 1, 1, &r));
    assert_int_equal(r, INT64_MAX);
    assert_true(money_add(INT64_MIN, INT64_MAX, &r));
    assert_int_equal(r, -1);
    assert_true(money_add(-5, 3, &r));
    assert_int_equal(r, -2);

    r = UNTOUCHED;
    assert_false(money_add(INT64_MAX, 1, &r));
    assert_int_equal(r, UNTOUCHED);
    assert_false(money_add(1, INT64_MAX, &r));
    assert_false(money_add(INT64_MAX, INT64_MAX, &r));
    assert_false(money_add(INT64_MIN, -1, &r));
    assert_false(money_add(INT64_MIN, INT64_MIN, &r));
    assert_int_equal(r, UNTOUCHED);
}

static void mul_edges(void **state)
{
    int64_t r = UNTOUCHED;

    assert_true(money_mul(1500, 3, &r));
    assert_int_equal(r, 4500);
    assert_true(money_mul(0, INT64_MAX, &r));
    assert_int_equal(r, 0);
    assert_true(money_mul(INT64_MAX, 1, &r));
    assert_int_equal(r, INT64_MAX);
    /* floor(sqrt(2^63 - 1)) = 3037000499 */
    assert_true(money_mul(3037000499LL, 3037000499LL, &r));
    assert_int_equal(r, 9223372030926249001LL);
    /* the largest line the service accepts: price ceiling x 1,000 units */
    assert_true(money_mul(MONEY_MAX_PRICE, 1000, &r));
    assert_int_equal(r, 1000000000000LL);

    r = UNTOUCHED;
    assert_false(money_mul(3037000500LL, 3037000500LL, &r));
    assert_false(money_mul(INT64_MAX, 2, &r));
    assert_false(money_mul(INT64_MAX / 2 + 1, 2, &r));
    assert_false(money_mul(-1, 5, &r));
    assert_false(money_mul(5, -1, &r));
    assert_false(money_mul(-1, 0, &r));
    assert_false(money_mul(INT64_MIN, -1, &r));
    assert_int_equal(r, UNTOUCHED);
}

/* ---- money_check_charge --------------------------------------------------- */

static void charge_up_to_the_ceiling(void **state)
{
    int64_t nb = UNTOUCHED;

    assert_int_equal(money_check_charge(0, 5000, 1000000000, &nb), CHARGE_OK);
    assert_int_equal(nb, 5000);
    /* exactly the ceiling is allowed */
    assert_int_equal(money_check_charge(990000000, 10000000, 1000000000, &nb), CHARGE_OK);
    assert_int_equal(nb, 1000000000);
    assert_int_equal(money_check_charge(999999999, 1, 1000000000, &nb), CHARGE_OK);
    assert_int_equal(nb, 1000000000);
}

static void charge_over_the_ceiling_refused(void **state)
{
    int64_t nb = UNTOUCHED;

    assert_int_equal(money_check_charge(1000000000, 1, 1000000000, &nb), CHARGE_OVER_LIMIT);
    assert_int_equal(money_check_charge(990000001, 10000000, 1000000000, &nb), CHARGE_OVER_LIMIT);
    assert_int_equal(money_check_charge(0, 1000000001, 1000000000, &nb), CHARGE_OVER_LIMIT);
    assert_int_equal(nb, UNTOUCHED);
}

static void charge_overflow_refused(void **state)
{
    int64_t nb = UNTOUCHED;

    /* the sum overflows: refused even though the ceiling is INT64_MAX */
    assert_int_equal(money_check_charge(INT64_MAX, 1, INT64_MAX, &nb), CHARGE_OVER_LIMIT);
    assert_int_equal(money_check_charge(1, INT64_MAX, INT64_MAX, &nb), CHARGE_OVER_LIMIT);
    assert_int_equal(money_check_charge(INT64_MAX - 5, 10, INT64_MAX, &nb), CHARGE_OVER_LIMIT);
    assert_int_equal(nb, UNTOUCHED);
    /* one below overflow is fine */
    assert_int_equal(money_check_charge(INT64_MAX - 1, 1, INT64_MAX, &nb), CHARGE_OK);
    assert_int_equal(nb, INT64_MAX);
}

/* ---- util_parse_i64 / util_parse_i64n ------------------------------------- */

static void parse_ok(const char *s, int64_t want)
{
    int64_t v = UNTOUCHED;
    int rc = util_parse_i64(s, &v);

    if (rc != 0 || v != want)
        fprintf(stderr, "util_parse_i64(\"%s\") -> %d, %lld\n", s, rc, (long long)v);
    assert_int_equal(rc, C_OK);
    assert_int_equal(v, want);
}

static void parse_bad(const char *s)
{
    int64_t v = UNTOUCHED;
    int rc = util_parse_i64(s, &v);

    if (rc != -1)
        fprintf(stderr, "util_parse_i64(\"%s\") accepted: %lld\n", s, (long long)v);
    assert_int_equal(rc, C_ERR);
    assert_int_equal(v, UNTOUCHED);
}

static void parse_i64_accepts(void **state)
{
    parse_ok("0", 0);
    parse_ok("1", 1);
    parse_ok("-1", -1);
    parse_ok("10", 10);
    parse_ok("1000000000", 1000000000);
    parse_ok("9223372036854775807", INT64_MAX);
    parse_ok("-9223372036854775808", INT64_MIN);
    parse_ok("9223372036854775806", INT64_MAX - 1);
    parse_ok("-9223372036854775807", INT64_MIN + 1);
    parse_ok("1000000000000000000", 1000000000000000000LL); /* 19 digits */
}

static void parse_i64_refuses(void **state)
{
    static const char *bad[] = {
        "",
        "-",
        "-0",
        "01",
        "00",
        "-01",
        "+1",
        "+0",
        " 1",
        "1 ",
        "1\n",
        "\t1",
        "1a",
        "a1",
        "0x10",
        "1e3",
        "1.0",
        "1,000",
        "--1",
        "- 1",
        "9223372036854775808",  /* INT64_MAX + 1 */
        "-9223372036854775809", /* INT64_MIN - 1 */
        "9999999999999999999",  /* 19 digits, too big */
        "10000000000000000000", /* 20 digits */
        "18446744073709551616",
        "00000000000000000001",
        "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i]);
}

static void parse_i64n_uses_only_len_bytes(void **state)
{
    int64_t v = UNTOUCHED;

    assert_int_equal(util_parse_i64n("123", 2, &v), C_OK);
    assert_int_equal(v, 12);
    assert_int_equal(util_parse_i64n("12x", 2, &v), C_OK);
    assert_int_equal(v, 12);
    assert_int_equal(util_parse_i64n("-5&limit=3", 2, &v), C_OK);
    assert_int_equal(v, -5);
    assert_int_equal(util_parse_i64n("9223372036854775807999", 19, &v), C_OK);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(util_parse_i64n("-9223372036854775808/x", 20, &v), 0);
    assert_int_equal(v, INT64_MIN);

    v = UNTOUCHED;
    assert_int_equal(util_parse_i64n("5", 0, &v), -1);
    assert_int_equal(util_parse_i64n("-5", 1, &v), -1);
    assert_int_equal(util_parse_i64n("012", 2, &v), -1);
    assert_int_equal(util_parse_i64n("12x", 3, &v), -1);
    assert_int_equal(util_parse_i64n("92233720368547758089", 20, &v), -1);
    assert_int_equal(util_parse_i64n("9223372036854775808", 19, &v), -1);
    assert_int_equal(util_parse_i64n("-9223372036854775809", 20, &v), -1);
    /* a NUL inside the length is not a digit */
    assert_int_equal(util_parse_i64n("1\0002", 3, &v), -1);
    assert_int_equal(v, UNTOUCHED);
}

static void secret_eq(void **state)
{
    assert_true(util_secret_eq("s3cret-token", "s3cret-token"));
    assert_false(util_secret_eq("s3cret-toke", "s3cret-token"));
    assert_false(util_secret_eq("s3cret-tokenx", "s3cret-token"));
    assert_false(util_secret_eq("s3cret-tokeN", "s3cret-token"));
    assert_false(util_secret_eq("", "s3cret-token"));
    assert_false(util_secret_eq("", "")); /* an empty secret never matches */
    assert_false(util_secret_eq("x", ""));
}

/* ---- util_uuid -------------------------------------------------------------- */

static int uuid_shape_ok(const char *u)
{
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]) || !u[i])
            return 0;
    }
    /* version 7, variant 10xx */
    return u[36] == '\0' && u[14] == '7' && strchr("89ab", u[19]) != NULL;
}

/* Ids come from a pool of random bytes refilled every 256 ids: every one well
 * formed and none repeated across refills; a forked child draws fresh bytes,
 * not its parent's next ones. */
static void uuid_unique(void **state)
{
    enum { N = 1000 };
    static char ids[N][37];
    char parent_next[37], child_next[37];
    int fd[2];

    (void)state;
    for (int i = 0; i < N; i++) {
        util_uuid(ids[i]);
        assert_true(uuid_shape_ok(ids[i]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i] + 14, ids[j] + 14); /* the random part */
    }
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        util_uuid(child_next);
        _exit(write(fd[1], child_next, 37) == 37 ? 0 : 1);
    }
    util_uuid(parent_next);
    assert_int_equal(read(fd[0], child_next, 37), 37);
    waitpid(pid, NULL, 0);
    close(fd[0]);
    close(fd[1]);
    assert_true(uuid_shape_ok(child_next));
    assert_string_not_equal(parent_next + 14, child_next + 14);
}

/* ---- util_parse_time ------------------------------------------------------ */

static const char *parsed(const char *s)
{
    static char sql[UTIL_TIME_LEN];
    return util_parse_time(s, strlen(s), sql) == C_OK ? sql : "refused";
}

static void parse_time_accepts(void **state)
{
    (void)state;
    assert_string_equal(parsed("2026-11-21"), "2026-11-21 00:00:00.000");
    assert_string_equal(parsed("2026-11-21T10:00:00Z"), "2026-11-21 10:00:00.000");
    assert_string_equal(parsed("2026-11-21T10:00:00.1Z"), "2026-11-21 10:00:00.100");
    assert_string_equal(parsed("2026-11-21T10:00:00.12Z"), "2026-11-21 10:00:00.120");
    assert_string_equal(parsed("2026-11-21T23:59:59.999Z"), "2026-11-21 23:59:59.999");
    assert_string_equal(parsed("2024-02-29"), "2024-02-29 00:00:00.000");
    assert_string_equal(parsed("2000-02-29"), "2000-02-29 00:00:00.000");
    assert_string_equal(parsed("1000-01-01"), "1000-01-01 00:00:00.000");
    /* only len bytes count */
    char sql[UTIL_TIME_LEN];
    assert_int_equal(util_parse_time("2026-11-21junk", 10, sql), C_OK);
    assert_string_equal(sql, "2026-11-21 00:00:00.000");
}

static void parse_time_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        "2026",
        "2026-11",
        "2026-1-21",
        "26-11-21",
        "2026/11/21",
        "2026-11-21T",
        "2026-11-21T10:00Z",
        "2026-11-21T10:00:00",
        "2026-11-21 10:00:00Z",
        "2026-11-21T10:00:00+01:00",
        "2026-11-21T10:00:00.Z",
        "2026-11-21T10:00:00.1234Z",
        "2026-11-21T10:00:00.12aZ",
        "2026-11-21T24:00:00Z",
        "2026-11-21T10:60:00Z",
        "2026-11-21T10:00:60Z",
        "2026-13-01",
        "2026-00-10",
        "2026-11-00",
        "2026-11-31",
        "2026-02-29",
        "1900-02-29",
        "0999-12-31",
        "2026-11-21Z",
        "+026-11-21",
        "2026-11-2x",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strcmp(parsed(bad[i]), "refused") != 0)
            fail_msg("util_parse_time accepted \"%s\" as %s", bad[i], parsed(bad[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_edges),
        cmocka_unit_test(mul_edges),
        cmocka_unit_test(charge_up_to_the_ceiling),
        cmocka_unit_test(charge_over_the_ceiling_refused),
        cmocka_unit_test(charge_overflow_refused),
        cmocka_unit_test(parse_i64_accepts),
        cmocka_unit_test(parse_i64_refuses),
        cmocka_unit_test(parse_i64n_uses_only_len_bytes),
        cmocka_unit_test(secret_eq),
        cmocka_unit_test(uuid_unique),
        cmocka_unit_test(parse_time_accepts),
        cmocka_unit_test(parse_time_refuses),
    };
    return cmocka_run_group_tests_name("unit/money", tests, NULL, NULL);
}
