/* core/promotion.c: the promotion rule of commerce-failover(8) on its evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/promotion.h"

#define S 1000000LL
#define T_HB (1800000000LL * S) /* the replica's last heartbeat */

/* A semi-sync replica that applied everything, a heartbeat with semi-sync ON
 * (one replica, 2 s timeout) whose previous beat, 100 ms before it, is known
 * acknowledged; writes acknowledged until `ack_us`, margin 500 ms. */
static promotion_evidence_t evidence(int64_t ack_us)
{
    promotion_evidence_t e;
    memset(&e, 0, sizeof(e));
    strcpy(e.replica_pos, "0-1-4711");
    e.applied = true;
    e.replica_semi_sync = true;
    e.hb_found = true;
    e.hb_us = T_HB;
    e.hb_semi_known = e.hb_semi_on = true;
    e.hb_clients = 1;
    e.hb_timeout_ms = 2000;
    e.hb_acked_known = true;
    e.hb_acked_us = T_HB - 100 * 1000;
    e.ack_known = true;
    e.ack_us = ack_us;
    strcpy(e.ack_source, "http://w1/metrics");
    e.margin_ms = 500;
    return e;
}

static enum promotion_verdict decide(const promotion_evidence_t *e, char *why)
{
    return promotion_decide(e, why, 4096);
}

static void a_reached_primary_decides_alone(void **state)
{
    char why[4096];
    promotion_evidence_t e = evidence(T_HB + 60 * S); /* a gap that no longer matters */
    (void)state;

    e.primary_reached = e.primary_fenced = true;
    strcpy(e.primary_pos, "0-1-4800");
    e.caught_up = true;
    assert_int_equal(decide(&e, why), PROMOTION_CAUGHT_UP);
    assert_true(promotion_safe(PROMOTION_CAUGHT_UP));
    e.caught_up = false;
    assert_int_equal(decide(&e, why), PROMOTION_BEHIND_PRIMARY);
    assert_false(promotion_safe(PROMOTION_BEHIND_PRIMARY));
    /* it names both positions */
    assert_non_null(strstr(why, "0-1-4800"));
    assert_non_null(strstr(why, "0-1-4711"));
}

static void writes_before_the_heartbeat_are_safe(void **state)
{
    char why[4096];
    (void)state;

    promotion_evidence_t e = evidence(T_HB - 500 * 1000);
    assert_int_equal(decide(&e, why), PROMOTION_BEFORE_HEARTBEAT);
    /* also with semi-sync OFF then: they were all before it */
    e.hb_semi_on = false;
    assert_int_equal(decide(&e, why), PROMOTION_BEFORE_HEARTBEAT);
}

static void writes_within_the_semi_sync_window_are_safe(void **state)
{
    char why[4096];
    (void)state;

    /* the healthy failover: the primary dies ~100 ms after the last beat */
    promotion_evidence_t e = evidence(T_HB + 100 * 1000);
    assert_int_equal(decide(&e, why), PROMOTION_WITHIN_WINDOW);
    /* up to the timeout less the margin after the last beat known acknowledged (100 ms
     * before the last one seen), not beyond */
    e.ack_us = T_HB + 1399 * 1000;
    assert_int_equal(decide(&e, why), PROMOTION_WITHIN_WINDOW);
    e.ack_us = T_HB + 1400 * 1000;
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
}

/* The review's case: timeout 5 s, the replica stalls at t0 while commit C waits from t0.
 * A beat at t0 + 4 s still sees semi-sync ON (C has not timed out yet); C times out at
 * t0 + 5 s and order D is answered at t0 + 5.1 s without the replica. The replica then
 * drains its backlog up to that beat and the primary dies. The last beat known
 * acknowledged is the one before t0: the window ends 5 s after it, before D. */
static void the_window_starts_at_the_last_beat_known_acknowledged(void **state)
{
    char why[4096];
    (void)state;

    promotion_evidence_t e = evidence(T_HB + 1100 * 1000); /* D */
    e.hb_timeout_ms = 5000;
    e.hb_acked_us = T_HB - 4000 * 1000; /* t0: no beat after it was acknowledged */
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
    assert_non_null(strstr(why, "acknowledged beat"));
    /* the same acknowledgement time with the beat before the last acknowledged: safe */
    e.hb_acked_us = T_HB - 100 * 1000;
    assert_int_equal(decide(&e, why), PROMOTION_WITHIN_WINDOW);
    /* no beat known acknowledged (a relay before this rule, or one just started) */
    e.hb_acked_known = false;
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
    /* a replica that does not acknowledge (rpl_semi_sync_slave_enabled OFF) */
    e = evidence(T_HB + 100 * 1000);
    e.replica_semi_sync = false;
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
    assert_non_null(strstr(why, "rpl_semi_sync_slave_enabled"));
}

static void the_window_needs_semi_sync_on_with_this_replica_alone(void **state)
{
    char why[4096];
    (void)state;

    promotion_evidence_t e = evidence(T_HB + 100 * 1000);
    e.hb_semi_on = false; /* the primary was going on alone already */
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
    assert_non_null(strstr(why, "OFF"));
    e = evidence(T_HB + 100 * 1000);
    e.hb_clients = 2; /* another replica could have acknowledged them */
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
    assert_non_null(strstr(why, "another replica"));
    e = evidence(T_HB + 100 * 1000);
    e.hb_semi_known = false; /* an older relay wrote the beat */
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
    /* and the margin is subtracted from a plain comparison too */
    e.ack_us = T_HB - 400 * 1000;
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
}

/* The drill's case: the replica away longer than the timeout while orders
 * were acknowledged, then the primary lost. The refusal names the gap. */
static void a_gap_is_refused_and_named(void **state)
{
    char why[4096];
    (void)state;

    promotion_evidence_t e = evidence(T_HB + 8753 * 1000);
    assert_int_equal(decide(&e, why), PROMOTION_GAP);
    assert_false(promotion_safe(PROMOTION_GAP));
    assert_non_null(strstr(why, "REFUSED"));
    assert_non_null(strstr(why, "0-1-4711"));                    /* the GTID it holds */
    assert_non_null(strstr(why, "2027-01-15T08:00:00.000000Z")); /* T_hb */
    assert_non_null(strstr(why, "2027-01-15T08:00:08.753000Z")); /* T_ack */
    assert_non_null(strstr(why, "8.753 s"));                     /* the gap */
    assert_non_null(strstr(why, "7.353 s past"));                /* past the window */
    assert_non_null(strstr(why, "old primary"));                 /* what to do instead */
    assert_non_null(strstr(why, "--force"));
}

static void missing_evidence_is_refused(void **state)
{
    char why[4096];
    (void)state;

    promotion_evidence_t e = evidence(T_HB);
    e.ack_known = false;
    strcpy(e.ack_source, "http://w2/metrics: connection refused");
    assert_int_equal(decide(&e, why), PROMOTION_NO_ACK_EVIDENCE);
    assert_non_null(strstr(why, "connection refused"));
    /* a gauge that reads 0 (a host rebooted: /run is tmpfs) proves nothing */
    e = evidence(0);
    assert_int_equal(decide(&e, why), PROMOTION_NO_ACK_EVIDENCE);
    e.hb_semi_known = false;
    assert_int_equal(decide(&e, why), PROMOTION_NO_ACK_EVIDENCE);
    e = evidence(T_HB);
    e.hb_found = false;
    assert_int_equal(decide(&e, why), PROMOTION_NO_HEARTBEAT);
    e = evidence(T_HB);
    e.applied = false;
    assert_int_equal(decide(&e, why), PROMOTION_NOT_APPLIED);
}

static void a_short_buffer_stays_a_string(void **state)
{
    char why[16];
    (void)state;
    promotion_evidence_t e = evidence(T_HB + 60 * S);
    assert_int_equal(promotion_decide(&e, why, sizeof(why)), PROMOTION_GAP);
    assert_true(strlen(why) < sizeof(why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_reached_primary_decides_alone),
        cmocka_unit_test(writes_before_the_heartbeat_are_safe),
        cmocka_unit_test(writes_within_the_semi_sync_window_are_safe),
        cmocka_unit_test(the_window_needs_semi_sync_on_with_this_replica_alone),
        cmocka_unit_test(the_window_starts_at_the_last_beat_known_acknowledged),
        cmocka_unit_test(a_gap_is_refused_and_named),
        cmocka_unit_test(missing_evidence_is_refused),
        cmocka_unit_test(a_short_buffer_stays_a_string),
    };
    return cmocka_run_group_tests_name("unit/promotion", tests, NULL, NULL);
}
