/* Coupon rules: the discount at its edges (floor, the subtotal cap, no
 * overflow) and the type names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/coupon.h"

/* floor(s * v / 100) in 128 bits, capped to s, with v capped to 100: the
 * rule in API.md computed the obvious way. */
static int64_t exact_percent(int64_t s, int64_t v)
{
    if (v > 100)
        v = 100;
    __int128 d = (__int128)s * v / 100;
    return d < s ? (int64_t)d : s;
}

/* ---- PERCENT ------------------------------------------------------------ */

static void percent_100_is_the_whole_subtotal(void **state)
{
    assert_int_equal(coupon_discount(COUPON_PERCENT, 100, 5000), 5000);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 100, 1999), 1999);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 100, 1), 1);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 100, 101), 101);
}

static void percent_1_floors(void **state)
{
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, 199), 1);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, 99), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, 100), 1);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, 200), 2);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, 1), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 10, 1999), 199);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 10, 9), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 33, 1000), 330);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 33, 101), 33);  /* 33.33 */
    assert_int_equal(coupon_discount(COUPON_PERCENT, 99, 101), 99);  /* 99.99 */
    assert_int_equal(coupon_discount(COUPON_PERCENT, 99, 199), 197); /* 197.01 */
}

static void one_won_subtotal(void **state)
{
    assert_int_equal(coupon_discount(COUPON_PERCENT, 50, 1), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 99, 1), 0);
    assert_int_equal(coupon_discount(COUPON_FIXED, 1000, 1), 1);
    assert_int_equal(coupon_discount(COUPON_FIXED, 1, 1), 1);
}

/* ---- FIXED -------------------------------------------------------------- */

static void fixed_below_equal_above_the_subtotal(void **state)
{
    assert_int_equal(coupon_discount(COUPON_FIXED, 1000, 5000), 1000);
    assert_int_equal(coupon_discount(COUPON_FIXED, 4999, 5000), 4999);
    assert_int_equal(coupon_discount(COUPON_FIXED, 5000, 5000), 5000); /* total 0 */
    assert_int_equal(coupon_discount(COUPON_FIXED, 5001, 5000), 5000); /* capped */
    assert_int_equal(coupon_discount(COUPON_FIXED, 10000, 3000), 3000);
    assert_int_equal(5000 - coupon_discount(COUPON_FIXED, 1000000000, 5000), 0);
    assert_int_equal(coupon_discount(COUPON_FIXED, COUPON_MAX_FIXED, 1), 1);
}

/* ---- zero and nonsense -------------------------------------------------- */

static void zero_subtotal_gives_zero(void **state)
{
    assert_int_equal(coupon_discount(COUPON_FIXED, 1000, 0), 0);
    assert_int_equal(coupon_discount(COUPON_FIXED, 1, 0), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 100, 0), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, 0), 0);
}

static void never_negative(void **state)
{
    /* the header promises "never negative" for any int64 inputs */
    assert_int_equal(coupon_discount(COUPON_FIXED, 0, 5000), 0);
    assert_int_equal(coupon_discount(COUPON_FIXED, -1, 5000), 0);
    assert_int_equal(coupon_discount(COUPON_FIXED, INT64_MIN, 5000), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 0, 5000), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, -10, 5000), 0);
    assert_int_equal(coupon_discount(COUPON_PERCENT, INT64_MIN, INT64_MAX), 0);
}

/* ---- large values ------------------------------------------------------- */

static void int64_max_subtotal_does_not_overflow(void **state)
{
    const int64_t s = INT64_MAX;

    assert_int_equal(coupon_discount(COUPON_PERCENT, 100, s), s);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 100, s), exact_percent(s, 100));
    assert_int_equal(coupon_discount(COUPON_PERCENT, 99, s), exact_percent(s, 99));
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, s), exact_percent(s, 1));
    /* spelled out: 9223372036854775807 * 99 / 100 and / 100 */
    assert_int_equal(coupon_discount(COUPON_PERCENT, 99, s), 9131138316486228048LL);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1, s), 92233720368547758LL);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 50, s), 4611686018427387903LL);
    assert_int_equal(coupon_discount(COUPON_FIXED, INT64_MAX, s), s);
    assert_int_equal(coupon_discount(COUPON_FIXED, INT64_MAX, 1), 1);
    assert_int_equal(coupon_discount(COUPON_FIXED, 1, s), 1);
}

/* Every percentage against subtotals around the places where a naive
 * formula goes wrong (multiples of 100, the 2^63 edge). */
static void every_percent_matches_128_bit_arithmetic(void **state)
{
    static const int64_t subtotals[] = {
        1,
        2,
        49,
        50,
        99,
        100,
        101,
        199,
        200,
        1999,
        5000,
        9999,
        10001,
        123456789,
        1000000000000LL,
        92233720368547758LL,
        92233720368547759LL,
        INT64_MAX / 100 * 100 - 1,
        INT64_MAX / 100 * 100,
        INT64_MAX / 100 * 100 + 1,
        INT64_MAX - 99,
        INT64_MAX - 1,
        INT64_MAX,
    };
    for (size_t i = 0; i < sizeof(subtotals) / sizeof(subtotals[0]); i++) {
        int64_t s = subtotals[i];
        for (int64_t v = 1; v <= 100; v++) {
            int64_t d = coupon_discount(COUPON_PERCENT, v, s);
            if (d != exact_percent(s, v))
                fprintf(stderr, "PERCENT %lld of %lld: got %lld, want %lld\n", (long long)v,
                        (long long)s, (long long)d, (long long)exact_percent(s, v));
            assert_int_equal(d, exact_percent(s, v));
            assert_true(d >= 0 && d <= s);
        }
    }
}

static void value_above_100_is_treated_as_100(void **state)
{
    assert_int_equal(coupon_discount(COUPON_PERCENT, 101, 5000), 5000);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 150, 1999), 1999);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 1000, 1), 1);
    assert_int_equal(coupon_discount(COUPON_PERCENT, INT64_MAX, 12345), 12345);
    assert_int_equal(coupon_discount(COUPON_PERCENT, INT64_MAX, INT64_MAX), INT64_MAX);
    assert_int_equal(coupon_discount(COUPON_PERCENT, 101, INT64_MAX),
                     coupon_discount(COUPON_PERCENT, 100, INT64_MAX));
}

/* ---- type names --------------------------------------------------------- */

static void type_parse_and_name(void **state)
{
    static const char *bad[] = {"",       "fixed",  "percent",    "Fixed",  "HALF",
                                "FIXED ", " FIXED", "PERCENTAGE", "PERCEN", "FIX",
                                "FIXEDX", "0",      "1"};

    assert_int_equal(coupon_type_parse("FIXED"), COUPON_FIXED);
    assert_int_equal(coupon_type_parse("PERCENT"), COUPON_PERCENT);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (coupon_type_parse(bad[i]) != -1)
            fprintf(stderr, "'%s' parsed as a type\n", bad[i]);
        assert_int_equal(coupon_type_parse(bad[i]), -1);
    }
    assert_string_equal(coupon_type_name(COUPON_FIXED), "FIXED");
    assert_string_equal(coupon_type_name(COUPON_PERCENT), "PERCENT");
    /* round trip */
    assert_int_equal(coupon_type_parse(coupon_type_name(COUPON_FIXED)), COUPON_FIXED);
    assert_int_equal(coupon_type_parse(coupon_type_name(COUPON_PERCENT)), COUPON_PERCENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percent_100_is_the_whole_subtotal),
        cmocka_unit_test(percent_1_floors),
        cmocka_unit_test(one_won_subtotal),
        cmocka_unit_test(fixed_below_equal_above_the_subtotal),
        cmocka_unit_test(zero_subtotal_gives_zero),
        cmocka_unit_test(never_negative),
        cmocka_unit_test(int64_max_subtotal_does_not_overflow),
        cmocka_unit_test(every_percent_matches_128_bit_arithmetic),
        cmocka_unit_test(value_above_100_is_treated_as_100),
        cmocka_unit_test(type_parse_and_name),
    };
    return cmocka_run_group_tests_name("unit/coupon", tests, NULL, NULL);
}
