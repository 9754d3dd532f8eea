/* The transactional outbox: events written in the same transaction as the
 * change they describe, delivered later by commerce-relay. */
#ifndef COMMERCE_STORE_OUTBOX_H
#define COMMERCE_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "store/db.h"

/* Queue one event (type "ORDER_PAID" or "ORDER_CANCELLED") whose payload is
 * the order document. occurred_sql is a DATETIME(3) literal. The event id
 * (a random UUID) is written to event_id (37 bytes) when not NULL. */
int outbox_add(db_t *db, const char *type, int64_t order_id, const char *payload, size_t len,
               const char *occurred_sql, char *event_id);

/* Whether the event is in the outbox: *found 1 or 0. */
int outbox_event_exists(db_t *db, const char *event_id, int *found);

/* --- delivery side (commerce-relay) and operations ----------------------- */

typedef struct outbox_event {
    int64_t id;
    char event_id[40];
    char type[32];
    int64_t order_id;
    char *payload; /* owned: free with outbox_events_free */
    char occurred_at[UTIL_TIME_LEN];
    int64_t attempts;
    char lease[UTIL_TIME_LEN]; /* the claim's token: the next_attempt_at it set (SQL form) */
} outbox_event_t;

/* Claim up to `max` due PENDING events for relay `by`: in one short
 * transaction, select them FOR UPDATE SKIP LOCKED (so relays on other hosts
 * take other rows), push their next_attempt_at `lease_ms` ahead and mark them
 * claimed_by, so that no other relay claims them while this one delivers
 * outside any transaction. A relay that dies leaves its events due again when
 * the lease runs out, or at once when it starts again under the same identity
 * (outbox_release_claims). *count gets how many. */
int outbox_claim(db_t *db, const char *by, int max, int64_t lease_ms, outbox_event_t *out,
                 int *count);
void outbox_events_free(outbox_event_t *ev, int n);

/* The outcomes below change the event only while this relay's claim holds:
 * still PENDING with the lease the claim set. A relay that stalled past its
 * lease (another relay may have delivered the event since, or an operator
 * replayed it) changes nothing. */

/* After a failed attempt: attempts + 1, and either due again in delay_ms or,
 * once attempts reaches max_attempts, parked as FAILED. */
int outbox_attempt_failed(db_t *db, const outbox_event_t *e, int64_t delay_ms, int64_t max_attempts,
                          const char *error, bool platform);

/* After a 2xx: DELIVERED; or given back unattempted, due now. Many events of
 * one claim at once (lease: the claim's token), a few statements a batch. */
int outbox_delivered_many(db_t *db, const char *lease, const int64_t *ids, int n);
int outbox_release_many(db_t *db, const char *lease, const int64_t *ids, int n);

/* A relay starting again: the claims it still holds under its identity (it
 * died while delivering them) are due at once instead of when their lease
 * ends. *n: how many. */
int outbox_release_claims(db_t *db, const char *by, uint64_t *n);

/* The platform answers again: events whose last attempt failed because it was
 * unwell (platform = true above) are due at once, not when their backoff ends.
 * *n: how many. */
int outbox_platform_back(db_t *db, uint64_t *n);

typedef struct outbox_stats {
    int64_t pending, due, failed, delivered;
    char oldest_pending[UTIL_TIME_LEN]; /* "" when none */
} outbox_stats_t;
int outbox_stats(db_t *db, outbox_stats_t *s);

/* For a scrape, which must stay cheap however large the outbox grows: each
 * count reads at most OUTBOX_GAUGE_CAP index entries (a count at the cap means
 * "at least"), and the oldest pending event is looked for among the
 * OUTBOX_GAUGE_OLDEST next due (an undelivered event is due at its
 * occurred_at unless an attempt moved it on, so these hold the oldest but for
 * events in backoff). Non-overlapping states: due (pending, due now), waiting
 * (pending, in backoff or claimed), failed (parked). oldest_age_s is -1 when
 * nothing is pending. */
#define OUTBOX_GAUGE_CAP 100000
#define OUTBOX_GAUGE_OLDEST 1000
typedef struct outbox_gauges {
    int64_t due, waiting, failed;
    double oldest_age_s;
} outbox_gauges_t;
int outbox_gauges(db_t *db, outbox_gauges_t *g);

/* FAILED events with id > after, ascending, at most limit. */
int outbox_failed_list(db_t *db, int64_t after, int64_t limit,
                       void (*each)(void *arg, const outbox_event_t *e, const char *error),
                       void *arg, int *count);

/* One event of an order as an operator sees it: where it stands, by the
 * database's clock. state: "PENDING" (due, or being delivered: claimed_by
 * names the relay), "IN_BACKOFF" (an attempt failed; due again at
 * next_attempt_at), "DELIVERED" or "FAILED" (parked). Times RFC 3339, ""
 * when NULL (next_attempt_at is "" unless PENDING or IN_BACKOFF). */
typedef struct outbox_order_event {
    char event_id[40];
    char type[32];
    char state[16];
    int64_t attempts;
    char last_error[512];
    char occurred_at[UTIL_TIME_LEN], next_attempt_at[UTIL_TIME_LEN], delivered_at[UTIL_TIME_LEN];
    char claimed_by[72];
} outbox_order_event_t;

/* The events of order_id still in the outbox, oldest first (the index
 * outbox_order), at most max of them into out; *count gets how many. */
int outbox_of_order(db_t *db, int64_t order_id, outbox_order_event_t *out, int max, int *count);

/* Delete DELIVERED events older than `hours`, at most `batch`; *count gets how many. */
int outbox_purge_delivered(db_t *db, int64_t hours, int64_t batch, int *count);

/* FAILED -> PENDING, due now, attempts 0: one event (event_id) or all (NULL);
 * *count gets how many. */
int outbox_replay(db_t *db, const char *event_id, int *count);

#endif
