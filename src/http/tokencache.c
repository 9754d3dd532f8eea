#include "http/tokencache.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t pos;    /* where the token's bytes start in the ring's stream */
    uint32_t len;    /* 0: empty */
    int64_t user_id; /* what the token verified as */
    int64_t from;    /* the window in which it verifies: from <= now < until */
    int64_t until;
    uint64_t used; /* c->tick when last stored or hit (least recently used goes first) */
};

struct tokencache {
    struct slot *slots;
    size_t nsets;        /* slots / TOKENCACHE_WAYS */
    unsigned char *ring; /* the tokens' bytes, written in a circle */
    size_t cap;          /* its size */
    uint64_t head;       /* bytes ever written into it (its stream's end) */
    uint64_t tick;
    struct tokencache_stats st;
};

tokencache_t *tokencache_new(size_t slots, size_t ring_bytes)
{
    tokencache_t *c;

    if (slots < TOKENCACHE_WAYS || ring_bytes < 16)
        return NULL;
    slots -= slots % TOKENCACHE_WAYS;
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->slots = calloc(slots, sizeof(*c->slots));
    c->ring = malloc(ring_bytes);
    if (!c->slots || !c->ring) {
        tokencache_free(c);
        return NULL;
    }
    c->nsets = slots / TOKENCACHE_WAYS;
    c->cap = ring_bytes;
    c->st.slots = slots;
    return c;
}

void tokencache_free(tokencache_t *c)
{
    if (!c)
        return;
    if (c->ring) /* bearer tokens: credentials, wiped like the keys */
        OPENSSL_cleanse(c->ring, c->head < c->cap ? (size_t)c->head : c->cap);
    free(c->ring);
    free(c->slots);
    free(c);
}

/* The set of a token: FNV-1a over its bytes taken eight at a time (a byte at
 * a time costs a multiply per byte, a third of a hit for an RS256 token), then
 * MurmurHash3's finaliser, so that every bit of the token moves the low bits
 * the set is chosen by. Only spreads tokens: a hit compares the bytes. */
static struct slot *set_of(const tokencache_t *c, const char *token, size_t len)
{
    uint64_t h = 14695981039346656037ULL ^ len, w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, token + i, 8);
        h = (h ^ w) * 1099511628211ULL;
    }
    for (; i < len; i++)
        h = (h ^ (unsigned char)token[i]) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return &c->slots[(size_t)(h % c->nsets) * TOKENCACHE_WAYS];
}

/* A slot holds a token while its bytes are still in the ring (not yet
 * written over since it was stored). */
static bool live(const tokencache_t *c, const struct slot *s)
{
    return s->len != 0 && c->head - s->pos <= c->cap;
}

/* The live slot of set that holds exactly these bytes, or NULL. The bytes are
 * compared in constant time: how long a forged token takes to miss must not
 * tell how much of it matches another user's token in the same set. */
static struct slot *find(const tokencache_t *c, struct slot *set, const char *token, size_t len)
{
    for (int w = 0; w < TOKENCACHE_WAYS; w++) {
        struct slot *s = &set[w];
        if (s->len == len && live(c, s) &&
            CRYPTO_memcmp(c->ring + s->pos % c->cap, token, len) == 0)
            return s;
    }
    return NULL;
}

bool tokencache_get(tokencache_t *c, const char *token, size_t len, int64_t now, int64_t *user_id)
{
    struct slot *s = find(c, set_of(c, token, len), token, len);

    if (s && (now < s->from || now >= s->until)) {
        s->len = 0;
        c->st.expired++;
        s = NULL;
    }
    if (!s) {
        c->st.misses++;
        return false;
    }
    s->used = ++c->tick;
    c->st.hits++;
    *user_id = s->user_id;
    return true;
}

void tokencache_put(tokencache_t *c, const char *token, size_t len, int64_t user_id, int64_t from,
                    int64_t until)
{
    struct slot *set, *s;
    size_t off;

    if (len == 0 || len > c->cap / 16)
        return;
    set = set_of(c, token, len);
    s = find(c, set, token, len);
    for (int w = 0; !s && w < TOKENCACHE_WAYS; w++) /* a free slot */
        if (!live(c, &set[w]))
            s = &set[w];
    if (!s) { /* the set is full: its least recently used token goes */
        s = &set[0];
        for (int w = 1; w < TOKENCACHE_WAYS; w++)
            if (set[w].used < s->used)
                s = &set[w];
        c->st.evicted++;
    }
    off = (size_t)(c->head % c->cap);
    if (off + len > c->cap) { /* never split a token across the ring's end */
        c->head += c->cap - off;
        off = 0;
    }
    memcpy(c->ring + off, token, len);
    s->pos = c->head;
    c->head += len;
    s->len = (uint32_t)len;
    s->user_id = user_id;
    s->from = from;
    s->until = until;
    s->used = ++c->tick;
    c->st.stored++;
}

void tokencache_stats(const tokencache_t *c, struct tokencache_stats *out)
{
    *out = c->st;
    out->live = 0;
    for (size_t i = 0; i < c->nsets * TOKENCACHE_WAYS; i++)
        out->live += live(c, &c->slots[i]);
}
