/* The verified-token cache: the table itself (src/http/tokencache.c), then
 * through auth_check (src/http/auth.c) with real keys and real tokens, where
 * a cached answer must be the answer a full verification gives at the same
 * time. The clock is the `now` each call is given: no sleeps. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/config.h"
#include "http/auth.h"
#include "http/tokencache.h"
#include "http/tokenshare.h"
#include "lib/keys.h"

#define NOW 1800000000LL /* 2027-01-15 */
#define SECRET "0123456789abcdef0123456789abcdef-secret"
#define ISS "https://id.example/realms/shop"
#define AUD "commerce"
#define LEEWAY 30

/* The private keys the auth_check cases sign with (rsa_next: the key a
 * provider rotates to). */
static char *rsa, *ec, *rsa_next;

static int make_keys(void **state)
{
    rsa = tk_private_pem("RSA");
    ec = tk_private_pem("EC");
    rsa_next = tk_private_pem("RSA");
    return rsa && ec && rsa_next ? 0 : -1;
}

static int free_keys(void **state)
{
    free(rsa);
    free(ec);
    free(rsa_next);
    return 0;
}

/* ---- the table ----------------------------------------------------------- */

/* get, with the user it answers (-1 on a miss). */
static int64_t get(tokencache_t *c, const char *token, int64_t now)
{
    int64_t uid = -1;
    return tokencache_get(c, token, strlen(token), now, &uid) ? uid : -1;
}

static void put(tokencache_t *c, const char *token, int64_t uid, int64_t from, int64_t until)
{
    tokencache_put(c, token, strlen(token), uid, from, until);
}

static void a_hit_answers_its_user_inside_its_window(void **state)
{
    tokencache_t *c = tokencache_new(64, 4096);
    struct tokencache_stats s;

    assert_non_null(c);
    assert_int_equal(get(c, "aaa.bbb.ccc", NOW), -1); /* nothing yet */
    put(c, "aaa.bbb.ccc", 42, NOW - 10, NOW + 100);
    assert_int_equal(get(c, "aaa.bbb.ccc", NOW), 42);
    assert_int_equal(get(c, "aaa.bbb.ccc", NOW - 10), 42); /* from is inside */
    assert_int_equal(get(c, "aaa.bbb.ccc", NOW + 99), 42); /* the last second inside */
    assert_int_equal(get(c, "aaa.bbb.cc", NOW), -1);       /* a prefix is another token */
    assert_int_equal(get(c, "aaa.bbb.cccd", NOW), -1);     /* so is a longer one */
    assert_int_equal(get(c, "aaa.bbb.ccC", NOW), -1);      /* and one byte changed */
    tokencache_stats(c, &s);
    assert_int_equal(s.hits, 3);
    assert_int_equal(s.misses, 4);
    assert_int_equal(s.stored, 1);
    assert_int_equal(s.live, 1);
    assert_int_equal(s.slots, 64);
    /* putting the same token again replaces it: one slot, the new facts */
    put(c, "aaa.bbb.ccc", 43, NOW, NOW + 5);
    assert_int_equal(get(c, "aaa.bbb.ccc", NOW), 43);
    tokencache_stats(c, &s);
    assert_int_equal(s.live, 1);
    tokencache_free(c);
}

static void outside_its_window_a_token_is_dropped(void **state)
{
    tokencache_t *c = tokencache_new(64, 4096);
    struct tokencache_stats s;

    put(c, "exp.at.until", 7, NOW - 100, NOW + 100);
    assert_int_equal(get(c, "exp.at.until", NOW + 100), -1); /* until is outside */
    tokencache_stats(c, &s);
    assert_int_equal(s.expired, 1);
    assert_int_equal(s.live, 0);
    /* dropped: an earlier time does not bring it back */
    assert_int_equal(get(c, "exp.at.until", NOW), -1);

    /* before from (a clock set back): dropped too, the full check decides */
    put(c, "nbf.in.future", 8, NOW, NOW + 100);
    assert_int_equal(get(c, "nbf.in.future", NOW - 1), -1);
    assert_int_equal(get(c, "nbf.in.future", NOW), -1);
    tokencache_stats(c, &s);
    assert_int_equal(s.expired, 2);
    tokencache_free(c);
}

/* Sixteen-byte tokens numbered i, all different. */
static const char *tok(int i)
{
    static char t[32];
    snprintf(t, sizeof(t), "tok.%06d.xxxxx", i);
    assert_int_equal(strlen(t), 16);
    return t;
}

static void a_full_table_evicts_and_never_grows(void **state)
{
    enum { SLOTS = 64, N = 1000 };
    tokencache_t *c = tokencache_new(SLOTS, 1 << 16);
    struct tokencache_stats s;
    int hits = 0;

    for (int i = 0; i < N; i++)
        put(c, tok(i), 1000 + i, NOW, NOW + 60);
    tokencache_stats(c, &s);
    assert_int_equal(s.stored, N);
    assert_true(s.live <= SLOTS);
    assert_true(s.live >= SLOTS / 2); /* sets fill unevenly, but they fill */
    assert_int_equal(s.evicted, N - s.live);
    /* whatever is still there answers its own user; the rest misses */
    for (int i = 0; i < N; i++) {
        int64_t uid = get(c, tok(i), NOW);
        if (uid != -1) {
            assert_int_equal(uid, 1000 + i);
            hits++;
        }
    }
    assert_int_equal(hits, s.live);
    /* the last one put is always there (its set's most recent) */
    assert_int_equal(get(c, tok(N - 1), NOW), 1000 + N - 1);
    tokencache_free(c);
}

static void the_least_recently_used_of_a_set_goes_first(void **state)
{
    /* one set of TOKENCACHE_WAYS slots: every token lands in it */
    tokencache_t *c = tokencache_new(TOKENCACHE_WAYS, 1 << 16);

    for (int i = 0; i < TOKENCACHE_WAYS; i++)
        put(c, tok(i), i + 1, NOW, NOW + 60);
    assert_int_equal(get(c, tok(0), NOW), 1); /* 0 used again: 1 is now the oldest */
    put(c, tok(100), 101, NOW, NOW + 60);
    assert_int_equal(get(c, tok(1), NOW), -1);
    assert_int_equal(get(c, tok(0), NOW), 1);
    for (int i = 2; i < TOKENCACHE_WAYS; i++)
        assert_int_equal(get(c, tok(i), NOW), i + 1);
    assert_int_equal(get(c, tok(100), NOW), 101);
    tokencache_free(c);
}

/* Tokens in one bucket are told apart by their bytes, never by the bucket or
 * the length: the same length, the same first fifteen bytes, another user. */
static void tokens_in_one_bucket_keep_their_own_users(void **state)
{
    tokencache_t *c = tokencache_new(TOKENCACHE_WAYS, 1 << 16); /* one bucket */
    static const char *same[] = {"tok.000000.xxxxA", "tok.000000.xxxxB", "tok.000000.xxxxC"};

    for (int i = 0; i < 3; i++)
        put(c, same[i], 10 + i, NOW, NOW + 60);
    for (int i = 0; i < 3; i++)
        assert_int_equal(get(c, same[i], NOW), 10 + i);
    assert_int_equal(get(c, "tok.000000.xxxxD", NOW), -1);
    assert_int_equal(get(c, "tok.000000.xxxx", NOW), -1);
    tokencache_free(c);
}

/* A slot whose bytes the ring wrote over is gone: the bytes now there (another
 * token's) never answer with the old slot's user. */
static void bytes_written_over_drop_their_slot(void **state)
{
    /* one set; a ring of 256 bytes holds sixteen 16-byte tokens */
    tokencache_t *c = tokencache_new(TOKENCACHE_WAYS, 256);
    struct tokencache_stats s;

    put(c, tok(0), 1, NOW, NOW + 60); /* slot 0, ring bytes 0..15 */
    for (int i = 1; i <= 16; i++) {
        put(c, tok(i), 1 + i, NOW, NOW + 60);
        assert_int_equal(get(c, tok(0), NOW), i < 16 ? 1 : -1); /* kept recent in its set */
    }
    /* tok(16) went to ring bytes 0..15, over tok(0): the first slot no longer
     * holds anything, and tok(16) answers its own user */
    assert_int_equal(get(c, tok(16), NOW), 17);
    tokencache_stats(c, &s);
    assert_true(s.live <= TOKENCACHE_WAYS);
    /* a token longer than a sixteenth of the ring is not kept */
    put(c, "tok.000017.xxxxxx", 18, NOW, NOW + 60);
    assert_int_equal(get(c, "tok.000017.xxxxxx", NOW), -1);
    tokencache_free(c);
}

static void unusable_sizes_are_refused(void **state)
{
    assert_null(tokencache_new(0, 4096));
    assert_null(tokencache_new(TOKENCACHE_WAYS - 1, 4096));
    assert_null(tokencache_new(64, 8));
    tokencache_free(NULL);
    /* any size works, in whole sets */
    tokencache_t *c = tokencache_new(4 * TOKENCACHE_WAYS + 3, 4096);
    struct tokencache_stats s;
    assert_non_null(c);
    tokencache_stats(c, &s);
    assert_int_equal(s.slots, 4 * TOKENCACHE_WAYS);
    for (int i = 0; i < 100; i++)
        put(c, tok(i), i + 1, NOW, NOW + 60);
    for (int i = 0; i < 100; i++) {
        int64_t uid = get(c, tok(i), NOW);
        assert_true(uid == -1 || uid == i + 1);
    }
    tokencache_free(c);
}

/* ---- through auth_check -------------------------------------------------- */

/* An auth handle from the keys' configuration line(s), with the usual claims
 * and LEEWAY. */
static auth_t *make_auth(const char *keys)
{
    config_t cfg;
    char text[1024], err[256] = "";
    auth_t *a;

    snprintf(text, sizeof(text),
             "db_socket=/s\nauth_issuer=" ISS "\nauth_audience=" AUD "\nauth_leeway_s=%d\n%s",
             LEEWAY, keys);
    assert_int_equal(config_parse(&cfg, text, NULL, NULL, NULL), 0);
    if (!(a = auth_new(&cfg, err, sizeof(err))))
        fail_msg("%s", err);
    return a;
}

static auth_t *hs_auth(void) { return make_auth("auth_hs256_secret=" SECRET "\n"); }

/* An auth handle trusting a JWKS of these two keys (private PEMs) by kid,
 * read from a file that is gone once it is read; `more` configuration lines. */
static auth_t *jwks_auth(const char *rsa_key, const char *ec_key, const char *more)
{
    char *jr = tk_jwk(rsa_key, TK_RSA_KID), *je = tk_jwk(ec_key, TK_EC_KID);
    char path[] = "/tmp/test_tokencache.XXXXXX", line[256];
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok = jr && je && f && fprintf(f, "{\"keys\":[%s,%s]}", jr, je) > 0;
    auth_t *a;

    if (f)
        ok = fclose(f) == 0 && ok;
    free(jr);
    free(je);
    if (!ok)
        fail_msg("cannot write the JWKS");
    snprintf(line, sizeof(line), "auth_public_keys_file=%s\n%s", path, more);
    a = make_auth(line);
    unlink(path);
    return a;
}

static int64_t check(const auth_t *a, const char *h, int64_t now)
{
    int64_t uid = -1;
    enum auth_status st = auth_check(a, h, now, &uid);
    if (st != AUTH_OK) {
        assert_int_equal(uid, 0);
        return -(int64_t)st; /* AUTH_BAD_TOKEN, … as negative numbers */
    }
    return uid;
}

static uint64_t hits(const auth_t *a)
{
    struct tokencache_stats s;
    auth_cache_stats(a, &s);
    return s.hits;
}

/* The claims of a token for user uid that expires at exp, with `more`
 * members (",\"nbf\":…") at the end. A static buffer. */
static const char *claims(long long uid, long long exp, const char *more)
{
    static char c[256];
    snprintf(c, sizeof(c),
             "{\"sub\":\"%lld\",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld%s}", uid, exp,
             more);
    return c;
}

/* "Bearer <token>" signed as told (key: a private PEM, or the HS256 secret). */
static char *token(const char *alg, const char *key, const char *kid, const char *claims)
{
    char *h = tk_bearer(alg, key, kid, claims);
    assert_non_null(h);
    return h;
}

static char *hs_token(const char *claims) { return token("HS256", SECRET, NULL, claims); }

static void a_repeated_token_is_a_hit_for_every_algorithm(void **state)
{
    auth_t *hs = hs_auth(), *pk = jwks_auth(rsa, ec, "");
    const char *c = claims(42, NOW + 600, "");
    char *h[] = {hs_token(c), token("RS256", rsa, TK_RSA_KID, c), token("ES256", ec, TK_EC_KID, c)};
    const auth_t *by[] = {hs, pk, pk};

    for (int i = 0; i < 3; i++) {
        uint64_t before = hits(by[i]);
        assert_int_equal(check(by[i], h[i], NOW), 42); /* verified, then kept */
        assert_int_equal(hits(by[i]), before);
        assert_int_equal(check(by[i], h[i], NOW + 1), 42);
        assert_int_equal(hits(by[i]), before + 1);
        /* another spelling of the same header is the same token */
        char other[4096];
        snprintf(other, sizeof(other), "bearer   %s  ", h[i] + 7);
        assert_int_equal(check(by[i], other, NOW), 42);
        assert_int_equal(hits(by[i]), before + 2);
    }
    /* the scheme is still checked before the cache is asked */
    assert_int_equal(check(hs, h[0] + 7, NOW), -AUTH_NOT_BEARER);
    auth_free(hs);
    auth_free(pk);

    /* auth=off has no cache and says so */
    auth_t *off = make_auth("auth=off\n");
    struct tokencache_stats s;
    auth_cache_stats(off, &s);
    assert_int_equal(s.slots, 0);
    auth_free(off);
    /* nor has auth_token_cache=0: every check is a full one, with the same answers */
    off = make_auth("auth_hs256_secret=" SECRET "\nauth_token_cache=0\n");
    for (int i = 0; i < 3; i++)
        assert_int_equal(check(off, h[0], NOW), 42);
    auth_cache_stats(off, &s);
    assert_int_equal(s.slots, 0);
    assert_int_equal(s.hits, 0);
    auth_free(off);
    /* the table is the size configured (one set at the least), and even the
     * smallest keeps an RS256 token */
    off = make_auth("auth_hs256_secret=" SECRET "\nauth_token_cache=100\n");
    auth_cache_stats(off, &s);
    assert_int_equal(s.slots, 100);
    auth_free(off);
    off = jwks_auth(rsa, ec, "auth_token_cache=1\n");
    for (int i = 0; i < 2; i++)
        assert_int_equal(check(off, h[1], NOW), 42);
    auth_cache_stats(off, &s);
    assert_int_equal(s.slots, TOKENCACHE_WAYS);
    assert_int_equal(s.hits, 1);
    auth_free(off);
    for (int i = 0; i < 3; i++)
        free(h[i]);
}

/* A cached token, altered in any way, is verified afresh and refused. */
static void altered_tokens_are_not_hits(void **state)
{
    auth_t *a = hs_auth();
    char buf[4096];
    char *h = hs_token(claims(5, NOW + 600, ""));
    size_t n = strlen(h);

    assert_int_equal(check(a, h, NOW), 5);
    uint64_t before = hits(a);
    snprintf(buf, sizeof(buf), "%.*s", (int)n - 1, h); /* the signature cut short */
    assert_int_equal(check(a, buf, NOW), -AUTH_BAD_TOKEN);
    snprintf(buf, sizeof(buf), "%s", h);
    buf[n - 1] = buf[n - 1] == 'A' ? 'B' : 'A'; /* its last character changed */
    assert_int_equal(check(a, buf, NOW), -AUTH_BAD_TOKEN);
    snprintf(buf, sizeof(buf), "%sA", h); /* one more */
    assert_int_equal(check(a, buf, NOW), -AUTH_BAD_TOKEN);
    snprintf(buf, sizeof(buf), "%s.x", h); /* another segment */
    assert_int_equal(check(a, buf, NOW), -AUTH_BAD_TOKEN);
    assert_int_equal(hits(a), before);
    /* and the good one still hits */
    assert_int_equal(check(a, h, NOW), 5);
    assert_int_equal(hits(a), before + 1);
    free(h);
    auth_free(a);
}

/* The answer from the cache is the full check's answer at every second
 * around the edges of exp, nbf and iat with the leeway: a warm handle (that
 * verified the token once inside its window) against a cold one. */
static void expiry_and_leeway_answer_as_a_full_check_would(void **state)
{
    static const struct {
        const char *extra; /* more claims */
        long long exp;
        int64_t first; /* a time inside the window, when the warm handle verifies it */
    } cases[] = {
        {"", NOW + 60, NOW},
        {",\"nbf\":1800000100", NOW + 600, NOW + 100},
        {",\"iat\":1800000100", NOW + 600, NOW + 100},
        {",\"nbf\":1800000050,\"iat\":1800000100", NOW + 600, NOW + 100},
        {",\"nbf\":-5", NOW + 60, NOW},
        {"", INT64_MAX - 10, NOW},
    };
    static const int64_t probes[] = {NOW - 31,  NOW - 30,  NOW - 1,   NOW,       NOW + 1,
                                     NOW + 29,  NOW + 30,  NOW + 59,  NOW + 60,  NOW + 69,
                                     NOW + 70,  NOW + 71,  NOW + 89,  NOW + 90,  NOW + 91,
                                     NOW + 100, NOW + 599, NOW + 629, NOW + 630, NOW + 631};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *h = hs_token(claims(9, cases[i].exp, cases[i].extra));
        for (size_t p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
            auth_t *warm = hs_auth(), *cold = hs_auth();
            assert_int_equal(check(warm, h, cases[i].first), 9);
            int64_t want = check(cold, h, probes[p]), got = check(warm, h, probes[p]);
            if (got != want)
                fail_msg("case %zu at now%+lld: cached %lld, full check %lld", i,
                         (long long)(probes[p] - NOW), (long long)got, (long long)want);
            /* and again: a refused token was dropped, not kept */
            assert_int_equal(check(warm, h, probes[p]), want);
            auth_free(warm);
            auth_free(cold);
        }
        free(h);
    }

    /* by hand, the case the issue names: exp + leeway is the first refused second */
    auth_t *a = hs_auth();
    char *h = hs_token(claims(3, NOW + 60, ""));
    struct tokencache_stats s;
    assert_int_equal(check(a, h, NOW), 3);
    assert_int_equal(check(a, h, NOW + 60 + LEEWAY - 1), 3); /* a hit, inside the leeway */
    auth_cache_stats(a, &s);
    assert_int_equal(s.hits, 1);
    assert_int_equal(check(a, h, NOW + 60 + LEEWAY), -AUTH_BAD_TOKEN);
    auth_cache_stats(a, &s);
    assert_int_equal(s.expired, 1); /* dropped from the cache, then refused */
    assert_int_equal(s.live, 0);
    free(h);
    auth_free(a);

    /* leeway 0: exp itself is refused, from the cache too */
    a = make_auth("auth_hs256_secret=" SECRET "\nauth_leeway_s=0\n");
    h = hs_token(claims(3, NOW + 60, ""));
    assert_int_equal(check(a, h, NOW + 59), 3);
    assert_int_equal(check(a, h, NOW + 59), 3);
    assert_int_equal(check(a, h, NOW + 60), -AUTH_BAD_TOKEN);
    free(h);
    auth_free(a);
}

/* Keys rotate by reading the key set again (a worker replaced after the JWKS
 * changed builds a new handle): nothing verified under the old set is
 * answered, and a token of the key that left is refused. */
static void a_rotated_key_set_starts_empty(void **state)
{
    const char *c = claims(77, NOW + 600, "");
    char *old_rs = token("RS256", rsa, TK_RSA_KID, c);
    char *new_rs = token("RS256", rsa_next, TK_RSA_KID, c);
    char *es = token("ES256", ec, TK_EC_KID, c);
    struct tokencache_stats s;

    auth_t *a = jwks_auth(rsa, ec, "");
    assert_int_equal(check(a, old_rs, NOW), 77);
    assert_int_equal(check(a, old_rs, NOW), 77);
    assert_int_equal(check(a, es, NOW), 77);
    assert_int_equal(check(a, new_rs, NOW), -AUTH_BAD_TOKEN); /* not trusted yet */
    auth_cache_stats(a, &s);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.live, 2);

    /* the provider replaced its RSA key under the same kid */
    auth_t *b = jwks_auth(rsa_next, ec, "");
    auth_cache_stats(b, &s);
    assert_int_equal(s.live, 0);
    assert_int_equal(s.stored, 0);
    assert_int_equal(check(b, old_rs, NOW), -AUTH_BAD_TOKEN);
    assert_int_equal(check(b, old_rs, NOW), -AUTH_BAD_TOKEN);
    assert_int_equal(check(b, new_rs, NOW), 77);
    assert_int_equal(check(b, es, NOW), 77); /* the key that stayed: verified afresh */
    auth_cache_stats(b, &s);
    assert_int_equal(s.hits, 0);
    assert_int_equal(s.live, 2);
    auth_free(a);
    auth_free(b);
    free(old_rs);
    free(new_rs);
    free(es);
}

/* More users than the cache holds: every token still answers its own user
 * (from the cache or from a full check), and the table stays its size. */
static void more_tokens_than_slots_all_answer_right(void **state)
{
    enum { N = 6000 };
    auth_t *a = hs_auth();
    struct tokencache_stats s;
    size_t kept = 0;

    /* users 1..N, then N..1: the second pass meets the most recent first */
    for (int round = 0; round < 2; round++) {
        for (int k = 1; k <= N; k++) {
            int i = round == 0 ? k : N + 1 - k;
            char *h = hs_token(claims(i, NOW + 600, ""));
            int64_t uid = check(a, h, NOW);
            if (uid != i)
                fail_msg("round %d: token of user %d answered %lld", round, i, (long long)uid);
            free(h);
        }
        auth_cache_stats(a, &s);
        assert_true(s.live <= s.slots);
        if (round == 0) {
            kept = s.live;
            assert_true(kept >= s.slots / 2);
            assert_int_equal(s.hits, 0);
        }
    }
    assert_true(s.evicted > 0);
    assert_true(s.hits >= kept / 2); /* found again (a miss writes over the oldest) */
    assert_int_equal(s.hits + s.misses, 2 * N);
    auth_free(a);
}

/* ---- the pool's shared table (http/tokenshare.h) ------------------------- */

/* A directory of its own for each case's table file, removed after it. */
static char share_dir[64];

static const char *share_path(void)
{
    static char p[128];
    if (!share_dir[0]) {
        snprintf(share_dir, sizeof(share_dir), "/tmp/test_tokenshare.XXXXXX");
        assert_non_null(mkdtemp(share_dir));
    }
    snprintf(p, sizeof(p), "%s/tokens", share_dir);
    return p;
}

/* The table file of share_path() for a table of `slots` entries. */
static const char *share_file(size_t slots)
{
    static char f[160];
    snprintf(f, sizeof(f), "%s.1.%zu", share_path(), slots);
    return f;
}

/* Remove the case's directory and every table file (or link) in it. */
static int share_cleanup(void **state)
{
    char f[320];
    DIR *d;
    struct dirent *e;

    if (!share_dir[0])
        return 0;
    if ((d = opendir(share_dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(f, sizeof(f), "%s/%s", share_dir, e->d_name);
            unlink(f);
        }
        closedir(d);
    }
    rmdir(share_dir);
    share_dir[0] = '\0';
    return 0;
}

static tokenshare_t *share_open(size_t slots)
{
    char err[256] = "";
    tokenshare_t *t = tokenshare_open(share_path(), slots, err, sizeof(err));
    if (!t)
        fail_msg("%s", err);
    return t;
}

/* A key whose first eight bytes (which choose the set) are `set` and whose
 * other bytes are `n`. */
static void share_key_of(unsigned char k[TOKENSHARE_KEY], uint64_t set, unsigned n)
{
    memset(k, (int)(n & 0xff), TOKENSHARE_KEY);
    memcpy(k, &set, 8);
    memcpy(k + 8, &n, sizeof(n));
}

static int64_t share_get(tokenshare_t *t, const unsigned char *k, int64_t now)
{
    int64_t uid = -1, from = 0, until = 0;
    return tokenshare_get(t, k, now, &uid, &from, &until) ? uid : -1;
}

static void the_shared_table_answers_every_handle_on_its_file(void **state)
{
    tokenshare_t *one = share_open(64), *two = share_open(64);
    unsigned char k[TOKENSHARE_KEY], other[TOKENSHARE_KEY];
    int64_t uid = 0, from = 0, until = 0;

    share_key_of(k, 5, 1);
    share_key_of(other, 5, 2);
    assert_int_equal(share_get(two, k, NOW), -1);
    tokenshare_put(one, k, NOW, 42, NOW - 10, NOW + 100);
    assert_true(tokenshare_get(two, k, NOW, &uid, &from, &until)); /* another process's view */
    assert_int_equal(uid, 42);
    assert_int_equal(from, NOW - 10);
    assert_int_equal(until, NOW + 100);
    assert_int_equal(share_get(two, k, NOW - 11), -1);  /* before its window */
    assert_int_equal(share_get(two, k, NOW + 100), -1); /* the first second refused */
    assert_int_equal(share_get(two, other, NOW), -1);   /* same set, another key */
    tokenshare_put(two, k, NOW, 43, NOW, NOW + 200);    /* the same key again: replaced */
    assert_int_equal(share_get(one, k, NOW), 43);
    tokenshare_close(one);
    tokenshare_close(two);
}

static void a_full_set_replaces_the_entry_whose_window_ends_first(void **state)
{
    tokenshare_t *t = share_open(64);
    unsigned char k[TOKENSHARE_WAYS + 1][TOKENSHARE_KEY];

    for (unsigned i = 0; i <= TOKENSHARE_WAYS; i++)
        share_key_of(k[i], 9, i + 1);
    /* windows ending at +100, +400, +300, +200 */
    for (unsigned i = 0; i < TOKENSHARE_WAYS; i++)
        tokenshare_put(t, k[i], NOW, 100 + i, NOW, NOW + 100 * (((i * 3) % 4) + 1));
    for (unsigned i = 0; i < TOKENSHARE_WAYS; i++)
        assert_int_equal(share_get(t, k[i], NOW), 100 + i);
    tokenshare_put(t, k[TOKENSHARE_WAYS], NOW, 999, NOW, NOW + 500);
    assert_int_equal(share_get(t, k[TOKENSHARE_WAYS], NOW), 999);
    assert_int_equal(share_get(t, k[0], NOW), -1); /* its window (+100) ended first */
    assert_int_equal(share_get(t, k[1], NOW), 101);
    assert_int_equal(share_get(t, k[2], NOW), 102);
    assert_int_equal(share_get(t, k[3], NOW), 103);
    /* at +250 k[3]'s window (+200) is over: its entry is taken before any live one's */
    tokenshare_put(t, k[0], NOW + 250, 100, NOW, NOW + 600);
    assert_int_equal(share_get(t, k[0], NOW + 250), 100);
    assert_int_equal(share_get(t, k[1], NOW + 250), 101);
    assert_int_equal(share_get(t, k[2], NOW + 250), 102);
    assert_int_equal(share_get(t, k[3], NOW + 150), -1);
    assert_int_equal(share_get(t, k[TOKENSHARE_WAYS], NOW + 250), 999);
    tokenshare_close(t);
}

/* The first entry's sequence number in the file (set 0, way 0). */
static void set_first_seq(uint64_t seq)
{
    int fd = open(share_file(64), O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &seq, sizeof(seq), 64), (ssize_t)sizeof(seq));
    close(fd);
}

static void an_entry_a_writer_holds_is_neither_read_nor_written(void **state)
{
    tokenshare_t *t = share_open(64);
    unsigned char k[TOKENSHARE_KEY];

    share_key_of(k, 0, 1); /* set 0: its first free way is the file's first entry */
    tokenshare_put(t, k, NOW, 7, NOW, NOW + 100);
    assert_int_equal(share_get(t, k, NOW), 7);
    set_first_seq(3); /* odd: a writer is in it (or was killed in it) */
    assert_int_equal(share_get(t, k, NOW), -1);
    tokenshare_put(t, k, NOW, 8, NOW, NOW + 100); /* skipped */
    set_first_seq(4);
    assert_int_equal(share_get(t, k, NOW), 7);
    tokenshare_close(t);
}

static void unusable_shared_files_are_refused(void **state)
{
    char err[256], f[160], l[160];
    tokenshare_t *t = share_open(64), *other = share_open(128);

    tokenshare_close(t);
    tokenshare_close(other); /* another size: a file of its own */
    snprintf(f, sizeof(f), "%s", share_file(64));
    assert_int_equal(truncate(share_file(128), 4096), 0); /* cut short */
    assert_null(tokenshare_open(share_path(), 128, err, sizeof(err)));
    assert_non_null(strstr(err, "not a table of this layout and size"));
    assert_null(tokenshare_open(share_path(), 100, err, sizeof(err))); /* not a power of 2 */
    assert_int_equal(chmod(f, 0644), 0);                               /* others may read it */
    assert_null(tokenshare_open(share_path(), 64, err, sizeof(err)));
    assert_int_equal(chmod(f, 0600), 0);
    snprintf(l, sizeof(l), "%s/link.1.64", share_dir);
    assert_int_equal(symlink(f, l), 0);
    snprintf(l, sizeof(l), "%s/link", share_dir);
    assert_null(tokenshare_open(l, 64, err, sizeof(err))); /* a symlink is not followed */
    t = share_open(64);                                    /* the file itself still is */
    tokenshare_close(t);
}

/* Two processes writing and reading the keys of one set at once: every hit
 * answers the user and window that key was put with, never a mix. */
static void concurrent_writers_never_mix_entries(void **state)
{
    enum { KEYS = 12, ROUNDS = 200000 };
    tokenshare_t *t = share_open(64);
    pid_t pid[2];

    for (int p = 0; p < 2; p++) {
        if ((pid[p] = fork()) == 0) {
            unsigned char k[TOKENSHARE_KEY];
            for (unsigned r = 0; r < ROUNDS; r++) {
                unsigned n = (r * 7 + (unsigned)p * 5) % KEYS + 1;
                int64_t uid, from, until;
                share_key_of(k, 3, n);
                if (r % 2 == (unsigned)p)
                    tokenshare_put(t, k, NOW, 1000 + n, NOW - n, NOW + 1000 * n);
                else if (tokenshare_get(t, k, NOW, &uid, &from, &until) &&
                         (uid != 1000 + n || from != NOW - n || until != NOW + 1000 * n))
                    _exit(1);
            }
            _exit(0);
        }
        assert_true(pid[p] > 0);
    }
    for (int p = 0; p < 2; p++) {
        int st = -1;
        assert_int_equal(waitpid(pid[p], &st, 0), pid[p]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    tokenshare_close(t);
}

static uint64_t shared_hits(const auth_t *a)
{
    struct tokencache_stats s;
    auth_cache_stats(a, &s);
    return s.shared_hits;
}

static void share_auth(auth_t *a)
{
    char err[256] = "";
    if (auth_share(a, share_path(), err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

/* Two workers of one pool: a token the first verified is the second's
 * without a check of its own, while its window holds; and then the second's
 * own table holds it too. */
static void a_token_one_worker_verified_is_taken_by_another(void **state)
{
    auth_t *one = hs_auth(), *two = hs_auth();
    char *h = hs_token(claims(77, NOW + 600, ""));

    share_auth(one);
    share_auth(two);
    assert_int_equal(check(one, h, NOW), 77);
    assert_int_equal(shared_hits(one), 0);
    assert_int_equal(check(two, h, NOW), 77);
    assert_int_equal(shared_hits(two), 1);
    assert_int_equal(hits(two), 0);
    assert_int_equal(check(two, h, NOW), 77);
    assert_int_equal(hits(two), 1); /* its own table now */
    /* past exp + leeway: refused, as a full check refuses it */
    auth_t *three = hs_auth();
    share_auth(three);
    assert_int_equal(check(three, h, NOW + 600 + LEEWAY), -AUTH_BAD_TOKEN);
    assert_int_equal(shared_hits(three), 0);
    auth_free(one);
    auth_free(two);
    auth_free(three);
    free(h);
}

/* A file the worker cannot use (here: a directory that does not exist), or no
 * table of its own (auth_token_cache=0): no sharing, and every token answers
 * as before, from a full check. */
static void without_a_usable_shared_file_tokens_answer_as_before(void **state)
{
    char *h = hs_token(claims(77, NOW + 600, ""));
    char err[256] = "";
    auth_t *a = hs_auth();
    auth_t *uncached = make_auth("auth_hs256_secret=" SECRET "\nauth_token_cache=0\n");

    assert_int_equal(auth_share(a, "/nonexistent-dir/tokens", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/tokens"));
    assert_int_equal(check(a, h, NOW), 77);
    assert_int_equal(check(a, h, NOW), 77);
    assert_int_equal(hits(a), 1); /* its own table still works */
    assert_int_equal(shared_hits(a), 0);
    assert_int_equal(check(a, h, NOW + 600 + LEEWAY), -AUTH_BAD_TOKEN);
    assert_int_equal(auth_share(uncached, share_path(), err, sizeof(err)), 0);
    assert_int_equal(check(uncached, h, NOW), 77);
    assert_int_equal(check(uncached, h, NOW), 77);
    assert_int_equal(hits(uncached) + shared_hits(uncached), 0);
    auth_free(a);
    auth_free(uncached);
    free(h);
}

/* Workers whose keys or claim rules differ share the file but never each
 * other's answers: a key rotated away is refused by the worker that has the
 * new key set, however the old set's workers answered. */
static void other_keys_or_rules_never_take_a_shared_answer(void **state)
{
    const char *c = claims(77, NOW + 600, "");
    char *old_rs = token("RS256", rsa, TK_RSA_KID, c);
    char *es = token("ES256", ec, TK_EC_KID, c);
    char *hs = hs_token(c);
    auth_t *before = jwks_auth(rsa, ec, ""), *after = jwks_auth(rsa_next, ec, "");
    auth_t *hs_a = hs_auth();
    auth_t *hs_other = make_auth("auth_hs256_secret=" SECRET "-but-another-one\n");
    auth_t *hs_claim = make_auth("auth_hs256_secret=" SECRET "\nauth_user_claim=uid\n");

    share_auth(before);
    share_auth(after);
    share_auth(hs_a);
    share_auth(hs_other);
    share_auth(hs_claim);
    assert_int_equal(check(before, old_rs, NOW), 77);
    assert_int_equal(check(before, es, NOW), 77);
    assert_int_equal(check(after, old_rs, NOW), -AUTH_BAD_TOKEN);
    assert_int_equal(check(after, es, NOW), 77); /* verified afresh */
    assert_int_equal(shared_hits(after), 0);
    assert_int_equal(check(hs_a, hs, NOW), 77);
    assert_int_equal(check(hs_other, hs, NOW), -AUTH_BAD_TOKEN);
    assert_int_equal(check(hs_claim, hs, NOW), -AUTH_BAD_TOKEN); /* no "uid" claim */
    assert_int_equal(shared_hits(hs_other) + shared_hits(hs_claim), 0);
    auth_free(before);
    auth_free(after);
    auth_free(hs_a);
    auth_free(hs_other);
    auth_free(hs_claim);
    free(old_rs);
    free(es);
    free(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_hit_answers_its_user_inside_its_window),
        cmocka_unit_test(outside_its_window_a_token_is_dropped),
        cmocka_unit_test(a_full_table_evicts_and_never_grows),
        cmocka_unit_test(the_least_recently_used_of_a_set_goes_first),
        cmocka_unit_test(tokens_in_one_bucket_keep_their_own_users),
        cmocka_unit_test(bytes_written_over_drop_their_slot),
        cmocka_unit_test(unusable_sizes_are_refused),
        cmocka_unit_test(a_repeated_token_is_a_hit_for_every_algorithm),
        cmocka_unit_test(altered_tokens_are_not_hits),
        cmocka_unit_test(expiry_and_leeway_answer_as_a_full_check_would),
        cmocka_unit_test(a_rotated_key_set_starts_empty),
        cmocka_unit_test(more_tokens_than_slots_all_answer_right),
        cmocka_unit_test_teardown(the_shared_table_answers_every_handle_on_its_file, share_cleanup),
        cmocka_unit_test_teardown(a_full_set_replaces_the_entry_whose_window_ends_first,
                                  share_cleanup),
        cmocka_unit_test_teardown(an_entry_a_writer_holds_is_neither_read_nor_written,
                                  share_cleanup),
        cmocka_unit_test_teardown(unusable_shared_files_are_refused, share_cleanup),
        cmocka_unit_test_teardown(concurrent_writers_never_mix_entries, share_cleanup),
        cmocka_unit_test_teardown(a_token_one_worker_verified_is_taken_by_another, share_cleanup),
        cmocka_unit_test_teardown(other_keys_or_rules_never_take_a_shared_answer, share_cleanup),
        cmocka_unit_test_teardown(without_a_usable_shared_file_tokens_answer_as_before,
                                  share_cleanup),
    };
    return cmocka_run_group_tests_name("unit/tokencache", tests, make_keys, free_keys);
}
