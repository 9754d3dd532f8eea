/* relay_backoff_ms: exponential backoff with "equal jitter". For the n-th failed
 * attempt the delay lies in [d/2, d] with d = min(base * 2^(n-1), max); it
 * doubles per attempt until the cap and never overflows, whatever n. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "relay/relay.h"

/* Random inputs that hit the ends of the jitter range and some in between. */
static const uint32_t randoms[] = {0,
                                   1,
                                   2,
                                   3,
                                   7,
                                   24,
                                   25,
                                   26,
                                   49,
                                   50,
                                   51,
                                   1000,
                                   65535,
                                   123456789,
                                   0x7fffffffu,
                                   0x80000000u,
                                   UINT32_MAX - 1,
                                   UINT32_MAX};
#define NRANDOMS (sizeof(randoms) / sizeof(randoms[0]))

/* d = min(base * 2^(n-1), max), computed without overflow. */
static int64_t ceiling(int64_t n, int64_t base, int64_t max)
{
    int64_t d = base;
    for (int64_t i = 1; i < n; i++) {
        if (d >= max)
            break;
        d *= 2;
    }
    return d < max ? d : max;
}

static void assert_in(int64_t v, int64_t lo, int64_t hi, int64_t n, int64_t base, int64_t max,
                      uint32_t rnd)
{
    if (v < lo || v > hi)
        fprintf(stderr,
                "backoff(n=%lld, base=%lld, max=%lld, random=%u) = %lld, want [%lld, %lld]\n",
                (long long)n, (long long)base, (long long)max, rnd, (long long)v, (long long)lo,
                (long long)hi);
    assert_in_range(v, lo, hi);
}

static void first_attempt_is_within_half_base_and_base(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRANDOMS; i++) {
        assert_in(relay_backoff_ms(1, 50, 500, randoms[i]), 25, 50, 1, 50, 500, randoms[i]);
        assert_in(relay_backoff_ms(1, 500, 300000, randoms[i]), 250, 500, 1, 500, 300000,
                  randoms[i]);
        assert_in(relay_backoff_ms(1, 1, 1000, randoms[i]), 0, 1, 1, 1, 1000, randoms[i]);
    }
    /* both ends of the range are reachable: random 0 is the floor, d/2 the top */
    assert_int_equal(relay_backoff_ms(1, 50, 500, 0), 25);
    assert_int_equal(relay_backoff_ms(1, 50, 500, 25), 50);
    assert_int_equal(relay_backoff_ms(1, 500, 300000, 0), 250);
    assert_int_equal(relay_backoff_ms(1, 500, 300000, 250), 500);
    /* the jitter wraps instead of leaving the range */
    assert_int_equal(relay_backoff_ms(1, 50, 500, 26), 25);
}

static void grows_by_doubling_until_the_cap(void **state)
{
    (void)state;
    /* base 500, max 300000: 500, 1000, 2000, ..., 256000, then 300000 */
    int64_t prev_lo = 0;
    for (int64_t n = 1; n <= 10; n++) {
        int64_t d = 500LL << (n - 1);
        int64_t lo = relay_backoff_ms(n, 500, 300000, 0);
        int64_t hi = relay_backoff_ms(n, 500, 300000, (uint32_t)(d / 2));
        assert_int_equal(lo, d / 2);
        assert_int_equal(hi, d);
        if (n > 1)
            assert_int_equal(lo, 2 * prev_lo);
        prev_lo = lo;
    }
    /* attempt 11 would be 512000: capped at 300000 */
    assert_int_equal(relay_backoff_ms(11, 500, 300000, 0), 150000);
    assert_int_equal(relay_backoff_ms(11, 500, 300000, 150000), 300000);

    /* the test stack's relay: base 50, max 500 -> 50, 100, 200, 400, 500, 500 ... */
    assert_int_equal(relay_backoff_ms(2, 50, 500, 0), 50);
    assert_int_equal(relay_backoff_ms(3, 50, 500, 0), 100);
    assert_int_equal(relay_backoff_ms(4, 50, 500, 0), 200);
    assert_int_equal(relay_backoff_ms(4, 50, 500, 200), 400);
    assert_int_equal(relay_backoff_ms(5, 50, 500, 0), 250);
    assert_int_equal(relay_backoff_ms(5, 50, 500, 250), 500);
    assert_int_equal(relay_backoff_ms(6, 50, 500, 250), 500);
}

static void every_attempt_stays_within_its_range(void **state)
{
    static const int64_t cfgs[][2] = {
        {50, 500}, {500, 300000}, {1, 1},      {1, 86400000}, {3600000, 86400000},
        {7, 1000}, {3, 3},        {1000, 999}, /* base above max: capped from the first attempt */
    };
    (void)state;
    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        int64_t base = cfgs[c][0], max = cfgs[c][1];
        for (int64_t n = 1; n <= 70; n++) {
            int64_t d = ceiling(n, base, max);
            for (size_t i = 0; i < NRANDOMS; i++)
                assert_in(relay_backoff_ms(n, base, max, randoms[i]), d / 2, d, n, base, max,
                          randoms[i]);
        }
    }
}

static void large_attempt_counts_are_capped_without_overflow(void **state)
{
    static const int64_t ns[] = {31, 32, 33, 62, 63, 64, 65, 100, 1000, 1000000, INT64_MAX};
    (void)state;
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        for (size_t i = 0; i < NRANDOMS; i++) {
            assert_in(relay_backoff_ms(ns[k], 50, 500, randoms[i]), 250, 500, ns[k], 50, 500,
                      randoms[i]);
            assert_in(relay_backoff_ms(ns[k], 500, 300000, randoms[i]), 150000, 300000, ns[k], 500,
                      300000, randoms[i]);
            /* the configuration's extremes: base 1 ms, max one day */
            assert_in(relay_backoff_ms(ns[k], 1, 86400000, randoms[i]), 43200000, 86400000, ns[k],
                      1, 86400000, randoms[i]);
            assert_in(relay_backoff_ms(ns[k], 3600000, 86400000, randoms[i]), 43200000, 86400000,
                      ns[k], 3600000, 86400000, randoms[i]);
        }
        /* the cap itself is reachable, and so is half of it */
        assert_int_equal(relay_backoff_ms(ns[k], 500, 300000, 0), 150000);
        assert_int_equal(relay_backoff_ms(ns[k], 500, 300000, 150000), 300000);
    }
    assert_int_equal(relay_backoff_ms(1000, 50, 500, 0), 250);
    assert_int_equal(relay_backoff_ms(1000, 50, 500, 250), 500);
}

static void random_extremes(void **state)
{
    (void)state;
    for (int64_t n = 1; n <= 1000; n++) {
        int64_t d = ceiling(n, 50, 500);
        int64_t a = relay_backoff_ms(n, 50, 500, 0);
        int64_t b = relay_backoff_ms(n, 50, 500, UINT32_MAX);
        assert_int_equal(a, d / 2); /* random 0: exactly the lower bound */
        assert_in(b, d / 2, d, n, 50, 500, UINT32_MAX);
        b = relay_backoff_ms(n, 1, 86400000, UINT32_MAX);
        d = ceiling(n, 1, 86400000);
        assert_in(b, d / 2, d, n, 1, 86400000, UINT32_MAX);
    }
}

static void pure_same_inputs_same_output(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRANDOMS; i++)
        assert_int_equal(relay_backoff_ms(7, 50, 500, randoms[i]),
                         relay_backoff_ms(7, 50, 500, randoms[i]));
}

/* The delivery signature, against values computed independently (Python's
 * hmac module over the same bytes). */
static void signature_is_hmac_sha256_of_time_dot_body(void **state)
{
    static const char body[] = "{\"eventId\":\"e1\"}";
    char sig[RELAY_SIGNATURE_LEN];

    relay_sign("whsec_test_0123456789", 1700000000, body, strlen(body), sig);
    assert_string_equal(sig, "t=1700000000,v1="
                             "0e1c172fc76f7c3b335bde0616c524609222747e580e634170b811eccba18eff");
    /* the time is part of what is signed */
    relay_sign("whsec_test_0123456789", 1700000001, body, strlen(body), sig);
    assert_string_equal(sig, "t=1700000001,v1="
                             "3306b0deebd4e38fa4e9f8e0641af0b6bd4e116a9aef0593e1985820eadd39c3");
    /* another secret, another signature */
    relay_sign("whsec_test_012345678", 1700000000, body, strlen(body), sig);
    assert_null(strstr(sig, "0e1c172fc76f"));
}

/* relay_probe_ms: the pause before probing a platform that failed `down`
 * times in a row: none while it is up, base then doubling, never past max. */
static void probe_pause_doubles_to_its_bound(void **state)
{
    (void)state;
    assert_int_equal(relay_probe_ms(0, 500, 1000), 0);
    assert_int_equal(relay_probe_ms(1, 500, 1000), 500);
    assert_int_equal(relay_probe_ms(2, 500, 1000), 1000);
    assert_int_equal(relay_probe_ms(3, 500, 1000), 1000);
    assert_int_equal(relay_probe_ms(1000000, 500, 1000), 1000);
    assert_int_equal(relay_probe_ms(1, 5000, 1000), 1000); /* a base above the bound */
    assert_int_equal(relay_probe_ms(4, 100, 60000), 800);
    assert_int_equal(relay_probe_ms(64, 1, 60000), 60000); /* no overflow */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_attempt_is_within_half_base_and_base),
        cmocka_unit_test(grows_by_doubling_until_the_cap),
        cmocka_unit_test(every_attempt_stays_within_its_range),
        cmocka_unit_test(large_attempt_counts_are_capped_without_overflow),
        cmocka_unit_test(random_extremes),
        cmocka_unit_test(pure_same_inputs_same_output),
        cmocka_unit_test(signature_is_hmac_sha256_of_time_dot_body),
        cmocka_unit_test(probe_pause_doubles_to_its_bound),
    };
    return cmocka_run_group_tests_name("unit/relay", tests, NULL, NULL);
}
