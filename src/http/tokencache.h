/* A worker's table of access tokens that have already verified, so that a
 * token seen again costs a hash and a comparison instead of base64, two JSON
 * parses and a signature check (src/http/auth.c owns one per key set).
 *
 * The table knows nothing of JWTs: it maps a token's exact bytes to the user
 * they verified as and to the window [from, until) of Unix times in which
 * they verify (exp, nbf and iat with the leeway already applied). It is
 * bounded: a fixed number of slots, set-associative (TOKENCACHE_WAYS slots a
 * set, the set chosen by a 64-bit hash of the bytes, the least
 * recently used slot of a full set replaced), and the tokens' bytes in a ring
 * of fixed size whose overwritten bytes drop their slots. It never grows and
 * allocates nothing after tokencache_new. A hit is trusted only when the whole
 * token equals the stored bytes: two tokens in one set, or with one hash, are
 * told apart by their bytes. Not thread-safe: one table per process. */
#ifndef COMMERCE_TOKENCACHE_H
#define COMMERCE_TOKENCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKENCACHE_WAYS 4

typedef struct tokencache tokencache_t;

struct tokencache_stats {
    uint64_t hits, misses;
    uint64_t stored;      /* tokens put in */
    uint64_t evicted;     /* live slots replaced to make room in a full set (tokens whose bytes
                           * the ring wrote over are dropped too, uncounted: see live) */
    uint64_t expired;     /* found outside their window: dropped, and a miss */
    size_t live;          /* slots holding a token now */
    size_t slots;         /* the table's fixed size */
    uint64_t shared_hits; /* misses here answered from the pool's shared table (auth_share) */
};

/* A table of `slots` slots (at least TOKENCACHE_WAYS; rounded down to a
 * multiple of it) and a ring of `ring_bytes` (at least 16) for the tokens'
 * bytes. NULL when out of memory or the sizes are not usable. Freed (and
 * wiped) by tokencache_free. */
tokencache_t *tokencache_new(size_t slots, size_t ring_bytes);
void tokencache_free(tokencache_t *c);

/* Whether token (len bytes) is in the table and its window holds now: then
 * *user_id is its user. A token found outside its window is dropped. */
bool tokencache_get(tokencache_t *c, const char *token, size_t len, int64_t now, int64_t *user_id);

/* Remember that token verifies as user_id for from <= now < until. A token
 * longer than a sixteenth of the ring is not kept (tokencache_get then misses
 * it); one already there is replaced. */
void tokencache_put(tokencache_t *c, const char *token, size_t len, int64_t user_id, int64_t from,
                    int64_t until);

void tokencache_stats(const tokencache_t *c, struct tokencache_stats *out);

#endif
