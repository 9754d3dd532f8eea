/* commerce-relay's work: claim due outbox events and POST them to the data
 * platform, at least once, outside any transaction. */
#ifndef COMMERCE_RELAY_H
#define COMMERCE_RELAY_H

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

/* One round: claim up to relay_batch_size due events and deliver them in
 * order. On the first failed delivery the rest of the batch is given back
 * due in half that event's delay, so before its retry (the platform is
 * unwell; don't hammer it, and one bad event cannot hold up the rest); past half
 * the lease the rest is given back due at once (another relay may take it).
 * *stop is polled between deliveries. Returns the number claimed, or a
 * database failure (< 0). *delivered counts the 2xx answers. */
int relay_round(relay_t *rl, volatile int *stop, int *delivered);

#endif
