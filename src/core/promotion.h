/* Whether a replica may be promoted without losing an acknowledged write: the
 * rule of commerce-failover(8), on the evidence it gathered, with no I/O.
 *
 * A commit the service acknowledged (a 2xx to a write, an event the data
 * platform accepted) is on a replica when the replica holds everything the
 * primary wrote to its binary log before it. Evidence, strongest first:
 *   1. The old primary could be reached: it was fenced (read_only) and the
 *      replica has reached its @@gtid_binlog_pos. Nothing is missing.
 *   2. Otherwise the replica's copy of the heartbeat (commerce_heartbeat,
 *      written on the primary every 100 ms with the primary's semi-sync state)
 *      says the replica held everything up to T_hb, the moment that beat began.
 *      T_ack is the latest write any host acknowledged (its metrics gauge, or
 *      the operator's word; a gauge reading 0 proves nothing: refused). Safe when
 *        a. T_ack <= T_hb - margin: every acknowledged commit was written to
 *           the binary log before the beat, which the replica has; or
 *        b. T_ack < T_A + timeout - margin, where T_A is the start of the last
 *           beat known acknowledged by a replica: the relay reads
 *           Rpl_semi_sync_master_status and _no_tx before and after each beat's
 *           commit, and when semi-sync stayed ON and no commit went
 *           unacknowledged across it, the next beat records its time
 *           (acked_beat_at; any other session's unacknowledged commit meanwhile
 *           only makes this conservative). Why: an acknowledgement covers
 *           every commit before it in the binary log, so the commits before
 *           that beat are on a replica; a commit written after it began waiting
 *           after T_A, so the primary can go on alone (semi-sync OFF, after a
 *           timeout) no sooner than T_A + timeout; until then every write it
 *           acknowledged was acknowledged by a replica. It must be this one:
 *           the replica has rpl_semi_sync_slave_enabled ON and the last beat it
 *           holds saw semi-sync ON with exactly one replica acknowledging.
 *           (Not T_hb + timeout: a commit that began waiting before the last
 *           beat seen can time out just after it, while that beat still
 *           recorded ON.)
 *      margin covers the hosts' clock difference and the heartbeat's period.
 * Anything else is refused, saying what is missing and how far behind the
 * replica may be. */
#ifndef COMMERCE_CORE_PROMOTION_H
#define COMMERCE_CORE_PROMOTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct promotion_evidence {
    /* the replica */
    char replica_pos[512];  /* its @@gtid_current_pos */
    bool applied;           /* it applied every event it received */
    bool replica_semi_sync; /* it acknowledges (@@rpl_semi_sync_slave_enabled) */
    /* the old primary, when it could be reached (then fenced) */
    bool primary_reached;
    bool primary_fenced;   /* set read_only first (a promotion; a check changes nothing) */
    char primary_pos[512]; /* its @@gtid_binlog_pos */
    bool caught_up;        /* the replica reached primary_pos */
    /* the replica's copy of the heartbeat */
    bool hb_found;
    int64_t hb_us;         /* T_hb: the beat's `at` (Unix us) */
    bool hb_semi_known;    /* the same beat wrote the semi-sync state (semi_sync_at = at) */
    bool hb_semi_on;       /* Rpl_semi_sync_master_status then */
    int64_t hb_clients;    /* Rpl_semi_sync_master_clients then */
    int64_t hb_timeout_ms; /* rpl_semi_sync_master_timeout then */
    bool hb_acked_known;   /* the beat names the last beat known acknowledged */
    int64_t hb_acked_us;   /* T_A: that beat's `at` (acked_beat_at; Unix us) */
    /* the latest acknowledged write */
    bool ack_known;       /* every source answered (a host's gauge, or the operator) */
    int64_t ack_us;       /* T_ack (Unix us); 0: no write acknowledged */
    char ack_source[256]; /* where it came from, for the report */
    int64_t margin_ms;
} promotion_evidence_t;

enum promotion_verdict {
    PROMOTION_CAUGHT_UP,        /* 1: has the fenced primary's last commit */
    PROMOTION_BEFORE_HEARTBEAT, /* 2a */
    PROMOTION_WITHIN_WINDOW,    /* 2b */
    PROMOTION_BEHIND_PRIMARY,   /* refused: the reachable primary has commits it lacks */
    PROMOTION_NOT_APPLIED,      /* refused: it has not applied what it received */
    PROMOTION_NO_HEARTBEAT,     /* refused: no heartbeat row to go by */
    PROMOTION_NO_ACK_EVIDENCE,  /* refused: cannot prove until when writes were acknowledged */
    PROMOTION_GAP,              /* refused: writes acknowledged after what it provably holds */
};

/* The verdict on e; *why gets a report of one or more lines (what the
 * evidence says, and when refused, what may be missing and what to do
 * instead). */
enum promotion_verdict promotion_decide(const promotion_evidence_t *e, char *why, size_t cap);

/* Whether the verdict lets the replica be promoted. */
bool promotion_safe(enum promotion_verdict v);

/* "2026-12-05T22:40:01.123456Z" of a Unix time in us (>= 0). */
#define PROMOTION_TIME_LEN 48
void promotion_fmt_time(int64_t us, char *out);

#endif
