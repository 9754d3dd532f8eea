#include "core/promotion.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void promotion_fmt_time(int64_t us, char *out)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char s[24] = "";

    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, PROMOTION_TIME_LEN, "%s.%06uZ", s, (unsigned)(us % 1000000));
}

bool promotion_safe(enum promotion_verdict v)
{
    return v == PROMOTION_CAUGHT_UP || v == PROMOTION_BEFORE_HEARTBEAT ||
           v == PROMOTION_WITHIN_WINDOW;
}

/* Appends a printf-style line to the report. */
struct report {
    char *p;
    size_t cap, len;
};

static void say(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct report *r, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (r->len + 1 >= r->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(r->p + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->len = r->len + (size_t)n < r->cap ? r->len + (size_t)n : r->cap - 1;
}

/* What the heartbeat says, one line. */
static void say_heartbeat(struct report *r, const promotion_evidence_t *e)
{
    char t[PROMOTION_TIME_LEN];

    promotion_fmt_time(e->hb_us, t);
    if (!e->hb_semi_known)
        say(r,
            "  it holds everything the primary wrote before %s (its last heartbeat; the "
            "primary's semi-sync state then is unknown)\n",
            t);
    else
        say(r,
            "  it holds everything the primary wrote before %s (its last heartbeat; semi-sync "
            "was %s then, %lld replica(s) acknowledging, timeout %lld ms)\n",
            t, e->hb_semi_on ? "ON" : "OFF", (long long)e->hb_clients, (long long)e->hb_timeout_ms);
}

/* The last beat known acknowledged, one line. */
static void say_acked_beat(struct report *r, const promotion_evidence_t *e)
{
    char t[PROMOTION_TIME_LEN];

    promotion_fmt_time(e->hb_acked_us, t);
    say(r,
        "  the last beat known acknowledged by a replica (no commit went unacknowledged across"
        " it) began %s: a commit after it could go out without a replica no sooner than %lld ms"
        " later\n",
        t, (long long)e->hb_timeout_ms);
}

static void say_instead(struct report *r, const promotion_evidence_t *e)
{
    say(r,
        "  the transactions after %s in the old primary's binary log may be lost.\n"
        "Instead: bring the old primary (its disk) back and let this replica catch up from it;"
        " or apply the tail of\nits binary log here (mariadb-binlog --start-position=%s ... |"
        " mariadb). --force promotes anyway and loses them.\n",
        e->replica_pos[0] ? e->replica_pos : "(empty)", e->replica_pos[0] ? e->replica_pos : "''");
}

enum promotion_verdict promotion_decide(const promotion_evidence_t *e, char *why, size_t cap)
{
    struct report r = {why, cap, 0};
    char t[PROMOTION_TIME_LEN];

    if (cap)
        why[0] = '\0';
    if (e->primary_reached) {
        const char *how = e->primary_fenced ? "reached and fenced (read_only)"
                                            : "reached (not fenced: it still takes writes)";
        if (e->caught_up) {
            say(&r, "safe: the old primary was %s; the replica has its last commit (%s)\n", how,
                e->primary_pos[0] ? e->primary_pos : "none");
            return PROMOTION_CAUGHT_UP;
        }
        say(&r,
            "REFUSED: the old primary was %s, but the replica has not reached its last commit:\n"
            "  primary %s, replica %s: the transactions in between would be lost.\n"
            "Instead: let the replica catch up (is it replicating? SHOW SLAVE STATUS), then"
            " promote again.\n",
            how, e->primary_pos[0] ? e->primary_pos : "none",
            e->replica_pos[0] ? e->replica_pos : "none");
        return PROMOTION_BEHIND_PRIMARY;
    }
    if (!e->applied) {
        say(&r, "REFUSED: the replica has not applied every event it received (its SQL thread is"
                " behind or stopped); promoting it now would drop them.\n");
        return PROMOTION_NOT_APPLIED;
    }
    if (!e->hb_found) {
        say(&r, "REFUSED: the replica has no heartbeat row (commerce_heartbeat): nothing says"
                " up to when it holds the primary's writes.\n");
        say_instead(&r, e);
        return PROMOTION_NO_HEARTBEAT;
    }
    if (!e->ack_known) {
        say(&r,
            "REFUSED: cannot prove the replica holds every acknowledged write: it is not"
            " known until when writes were acknowledged (%s).\n",
            e->ack_source[0] ? e->ack_source : "no evidence given");
        say_heartbeat(&r, e);
        say(&r, "  give every worker host's /metrics (--metrics URL, or --metrics-file), or the"
                " time of the last acknowledged write (--acked-until).\n");
        say_instead(&r, e);
        return PROMOTION_NO_ACK_EVIDENCE;
    }
    if (e->ack_us <= 0) {
        say(&r,
            "REFUSED: cannot prove the replica holds every acknowledged write: %s reads 0"
            " (no write acknowledged since its metrics file was made: a host that rebooted"
            " has lost the evidence, /run being tmpfs), which proves nothing.\n",
            e->ack_source[0] ? e->ack_source : "the evidence");
        say_heartbeat(&r, e);
        say(&r, "  give the time of the last acknowledged write (--acked-until).\n");
        say_instead(&r, e);
        return PROMOTION_NO_ACK_EVIDENCE;
    }
    /* The window (rule 2b of promotion.h). It opens at T_A, the start of the
     * last beat known acknowledged by a replica (ON before and after its
     * commit, Rpl_semi_sync_master_no_tx unchanged across it), not at T_hb:
     *  - a replica's acknowledgement covers every commit before it in the
     *    binary log, so every commit before beat A is on a replica;
     *  - a commit written after A began waiting after T_A, and semi-sync goes
     *    OFF (the primary acknowledging alone) only when a commit times out:
     *    no sooner than T_A + timeout;
     *  - until then every acknowledged write was a replica's, and with one
     *    semi-sync replica (this one, rpl_semi_sync_slave_enabled) this one's.
     * From T_hb it would be wrong: a commit that began waiting before the
     * last beat seen can time out just after it, while that beat still
     * recorded ON, and the writes acknowledged alone after it would fall in
     * the window. The margin covers clock difference and the beat period. */
    int64_t margin = e->margin_ms * 1000, window_end = e->hb_acked_us + e->hb_timeout_ms * 1000;
    bool window = e->replica_semi_sync && e->hb_semi_known && e->hb_semi_on && e->hb_clients == 1 &&
                  e->hb_timeout_ms > 0 && e->hb_acked_known;
    promotion_fmt_time(e->ack_us, t);
    if (e->ack_us <= e->hb_us - margin) {
        say(&r, "safe: every acknowledged write precedes the replica's last heartbeat\n");
        say_heartbeat(&r, e);
        say(&r, "  writes were acknowledged until %s (%s)\n", t, e->ack_source);
        return PROMOTION_BEFORE_HEARTBEAT;
    }
    if (window && e->ack_us < window_end - margin) {
        say(&r, "safe: every acknowledged write was acknowledged by this replica (within the"
                " semi-sync timeout after the last acknowledged beat)\n");
        say_heartbeat(&r, e);
        say_acked_beat(&r, e);
        say(&r,
            "  writes were acknowledged until %s (%s), %.3f s after that acknowledged beat,"
            " within %lld ms less a margin of %lld ms\n",
            t, e->ack_source, (double)(e->ack_us - e->hb_acked_us) / 1e6,
            (long long)e->hb_timeout_ms, (long long)e->margin_ms);
        return PROMOTION_WITHIN_WINDOW;
    }
    say(&r, "REFUSED: the replica may lack acknowledged writes\n");
    say_heartbeat(&r, e);
    if (e->hb_acked_known)
        say_acked_beat(&r, e);
    say(&r, "  writes were acknowledged until %s (%s)\n", t, e->ack_source);
    if (window)
        say(&r,
            "  gap: %.3f s of acknowledged writes after that heartbeat, %.3f s past the semi-sync"
            " window of the last acknowledged beat (after it the primary may have gone on"
            " alone)\n",
            (double)(e->ack_us - e->hb_us) / 1e6,
            (double)(e->ack_us - (window_end - margin)) / 1e6);
    else
        say(&r,
            "  gap: %.3f s of acknowledged writes %s, and nothing proves a replica"
            " acknowledged them (%s)\n",
            (double)llabs(e->ack_us - e->hb_us) / 1e6,
            e->ack_us > e->hb_us ? "after that heartbeat"
                                 : "before that heartbeat, within the margin (clocks, the beat's"
                                   " period)",
            !e->replica_semi_sync   ? "this replica does not acknowledge commits:"
                                      " rpl_semi_sync_slave_enabled is OFF"
            : !e->hb_semi_known     ? "semi-sync state unknown"
            : !e->hb_semi_on        ? "semi-sync was OFF: the primary went on alone"
            : e->hb_clients != 1    ? "another replica may have acknowledged them"
            : e->hb_timeout_ms <= 0 ? "no semi-sync timeout"
                                    : "no beat is known acknowledged (the relay had not yet seen"
                                      " one, or runs a release before this rule)");
    say_instead(&r, e);
    return PROMOTION_GAP;
}
