/* commerce-relay's work: claim due outbox events and POST them to the data
 * platform, at least once, outside any transaction. */
#ifndef COMMERCE_RELAY_H
#define COMMERCE_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "store/db.h"

typedef struct relay relay_t;

/* NULL when out of memory or libcurl cannot start. */
relay_t *relay_new(const config_t *cfg, db_t *db);
void relay_free(relay_t *rl);

/* Exponential backoff with "equal jitter" for the n-th failed attempt (n >= 1):
 * a random delay in [d/2, d] where d = min(base * 2^(n-1), max). Pure. */
int64_t relay_backoff_ms(int64_t n, int64_t base_ms, int64_t max_ms, uint32_t random);

/* The X-Commerce-Signature value of a delivery made at Unix time t:
 * "t=<t>,v1=<lower-case hex HMAC-SHA256 of "<t>.<body>" keyed with secret>".
 * A receiver recomputes it over the raw body it got and compares in constant
 * time, and refuses a t too far from its clock (replays). out holds
 * RELAY_SIGNATURE_LEN bytes. Pure. */
#define RELAY_SIGNATURE_LEN 96
void relay_sign(const char *secret, int64_t t, const char *body, size_t len, char *out);

/* The pause before the next probe of a platform that failed `down` times in a
 * row with no delivery since: base, doubling, at most max; 0 when down is 0.
 * Pure. */
int64_t relay_probe_ms(int down, int64_t base_ms, int64_t max_ms);

/* This relay's pause before its next round (relay_probe_ms of its state). */
int64_t relay_pause_ms(const relay_t *rl);

/* Its identity in claims (outbox.claimed_by): relay_id, else the host name. */
const char *relay_id(const relay_t *rl);

/* One round: claim up to relay_batch_size due events and deliver them in
 * order. The first round of a process first takes back the claims its
 * identity still holds (a relay that died and restarted delivers them at
 * once). An event the platform refuses (a 4xx other than 408/429) backs off
 * on its own (relay_backoff_ms) and the batch goes on. When the platform is
 * unwell (no answer, 5xx, 408, 429), the event backs off too, the untried rest
 * is given back due at once, and the relay counts the platform down: its
 * caller waits relay_pause_ms before the next round, which probes the
 * platform with the next due event. The first delivery after that makes the
 * events that failed because of the outage due at once, so the backlog drains
 * at full speed. Past half the lease the rest of a batch is given back due
 * at once (another relay may take it). *stop is polled between deliveries.
 * C_OK or a database failure; *claimed gets the events claimed, *delivered
 * the 2xx answers. */
int relay_round(relay_t *rl, volatile sig_atomic_t *stop, int *claimed, int *delivered);

#endif
