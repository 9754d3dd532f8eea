/* The production site's rate limits, per client address and per access token
 * (nginx/commerce.conf), in front of the test stack's workers: scripts/check-ratelimit
 * runs the site in a scratch nginx and this program against it, with
 *   COMMERCE_TEST_URL          that nginx (the other COMMERCE_TEST_* are the stack's)
 *   COMMERCE_LIMIT_ADDR_RATE, COMMERCE_LIMIT_ADDR_BURST     the site's per-address limit
 *   COMMERCE_LIMIT_TOKEN_RATE, COMMERCE_LIMIT_TOKEN_BURST   its per-token limit
 * Clients come from several loopback addresses (127.0.0.x). A limit admits its burst at
 * once, then its rate: over a flood that took t seconds it admits at most
 * burst + 1 + rate x t requests, and at least burst + 1; the rest are 429 problem+json
 * RATE_LIMITED with Retry-After. These bounds are what the tests assert, from the time each
 * flood took (measured, never slept). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/client.h"

#define CHILDREN 10
#define EACH 30 /* requests per child: a flood of 300 */

/* The site's numbers, from the environment (group setup). */
static struct {
    int64_t addr_rate, addr_burst, token_rate, token_burst;
} site;

static int64_t limit(const char *name)
{
    const char *v = getenv(name);
    if (!v || atoll(v) < 1) {
        fprintf(stderr, "%s is not set (run through scripts/check-ratelimit)\n", name);
        return -1;
    }
    return atoll(v);
}

static int read_site(void **state)
{
    (void)state;
    site.addr_rate = limit("COMMERCE_LIMIT_ADDR_RATE");
    site.addr_burst = limit("COMMERCE_LIMIT_ADDR_BURST");
    site.token_rate = limit("COMMERCE_LIMIT_TOKEN_RATE");
    site.token_burst = limit("COMMERCE_LIMIT_TOKEN_BURST");
    return site.addr_rate > 0 && site.addr_burst > 0 && site.token_rate > 0 && site.token_burst > 0
               ? 0
               : -1;
}

/* What a flood's children do: `each` GETs of path with the user's token, from an address. */
struct flood {
    const char *addresses[CHILDREN]; /* child i's source address */
    int64_t uid;                     /* 0: no token */
    char path[128];
    int each;
    char auth[2048]; /* the user's one token, signed once for every child (an ES256 signature
                        differs at each signing: another token would be another bucket) */
};

/* A child: its requests; exits with how many were 200 (a 429 must be the site's
 * problem+json with Retry-After, anything else is 255: a failure). */
static int flood_child(int i, void *arg)
{
    const struct flood *f = arg;
    const char *const with[] = {f->auth, NULL};
    char buf[64];
    int ok = 0;

    tc_source_address(f->addresses[i]);
    for (int k = 0; k < f->each; k++) {
        tc_resp_t *r = tc_req("GET", f->path, NULL, f->uid ? with : NULL);
        if (r->status == 200)
            ok++;
        else if (r->status != 429 || !r->json || strcmp(tc_str(r, "code"), "RATE_LIMITED") != 0 ||
                 !tc_header(r, "Retry-After", buf, sizeof(buf)) ||
                 !strstr(r->headers, "application/problem+json"))
            return 255;
        tc_free(r);
    }
    return ok;
}

/* Run a flood; the number of 200s, and the seconds it took in *secs. */
static int run_flood(struct flood *f, double *secs)
{
    int results[CHILDREN], ok = 0;
    int64_t t0 = tc_mono_ms();

    f->each = EACH;
    if (f->uid)
        snprintf(f->auth, sizeof(f->auth), "Authorization: Bearer %s", tc_token(f->uid));
    assert_int_equal(tc_parallel(CHILDREN, flood_child, f, results), 0);
    *secs = (double)(tc_mono_ms() - t0) / 1000.0;
    for (int i = 0; i < CHILDREN; i++) {
        if (results[i] == 255)
            fail_msg("child %d (%s) got an answer other than 200 or the site's 429", i,
                     f->addresses[i]);
        ok += results[i];
    }
    return ok;
}

/* The flood of one limit (rate, burst) admitted what it may, no more, no less. */
static void assert_limited(int ok, double secs, int64_t rate, int64_t burst, const char *what)
{
    double most = (double)burst + 1 + (double)rate * secs;
    fprintf(stderr, "%s: %d of %d admitted in %.2f s (the limit admits %lld to %.0f)\n", what, ok,
            CHILDREN * EACH, secs, (long long)burst + 1, most);
    if (ok < burst + 1 || ok > most + 1)
        fail_msg("%s: %d admitted, not between %lld and %.0f", what, ok, (long long)burst + 1,
                 most);
}

/* n GETs of path with uid's token from one address (a child of its own): how many were 200. */
static int one_child_gets(const char *address, int64_t uid, const char *path, int n)
{
    struct flood f = {.addresses = {address}, .uid = uid, .each = n};
    int results[1];

    snprintf(f.path, sizeof(f.path), "%s", path);
    snprintf(f.auth, sizeof(f.auth), "Authorization: Bearer %s", tc_token(uid));
    assert_int_equal(tc_parallel(1, flood_child, &f, results), 0);
    return results[0];
}

static void a_flooding_user_does_not_starve_another_from_the_same_address(void **state)
{
    struct flood f = {0};
    double secs;
    (void)state;

    /* the flood is bigger than the address's own burst: without a limit per token, user A
     * would take all the address allows and leave user B nothing */
    assert_true(CHILDREN * EACH > site.addr_burst + 1);
    int64_t a = tc_new_user(), b = tc_new_user();
    f.uid = a;
    snprintf(f.path, sizeof(f.path), "/users/%lld/points", (long long)a);
    for (int i = 0; i < CHILDREN; i++)
        f.addresses[i] = "127.0.0.2";
    int ok = run_flood(&f, &secs);
    assert_limited(ok, secs, site.token_rate, site.token_burst, "user A from 127.0.0.2");

    /* user B, from the same address right after: every request answered */
    char path[128];
    snprintf(path, sizeof(path), "/users/%lld/points", (long long)b);
    int n = (int)(site.token_burst < 20 ? site.token_burst : 20);
    assert_int_equal(one_child_gets("127.0.0.2", b, path, n), n);
}

static void a_user_is_limited_across_addresses(void **state)
{
    static const char *const addresses[CHILDREN] = {
        "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15",
        "127.0.0.16", "127.0.0.17", "127.0.0.18", "127.0.0.19", "127.0.0.20"};
    struct flood f = {0};
    double secs;
    (void)state;

    /* no address sends more than its own burst: only the limit per token can refuse */
    assert_true(EACH <= site.addr_burst + 1);
    int64_t c = tc_new_user(), d = tc_new_user();
    f.uid = c;
    snprintf(f.path, sizeof(f.path), "/users/%lld/points", (long long)c);
    memcpy(f.addresses, addresses, sizeof(addresses));
    int ok = run_flood(&f, &secs);
    assert_limited(ok, secs, site.token_rate, site.token_burst, "user C from 10 addresses");

    /* the addresses themselves are not limited: another user from one of them is answered */
    char path[128];
    snprintf(path, sizeof(path), "/users/%lld/points", (long long)d);
    assert_int_equal(one_child_gets("127.0.0.11", d, path, 5), 5);
}

/* The limit per address still holds for requests without a token (a public route). */
static void the_address_limit_still_holds(void **state)
{
    struct flood f = {0};
    double secs;
    (void)state;

    int64_t pid = tc_new_product(100, 10);
    snprintf(f.path, sizeof(f.path), "/products/%lld", (long long)pid);
    for (int i = 0; i < CHILDREN; i++)
        f.addresses[i] = "127.0.0.3";
    tc_replica_sync_reads(0); /* a catalog read, sent as it is */
    int ok = run_flood(&f, &secs);
    tc_replica_sync_reads(1);
    assert_limited(ok, secs, site.addr_rate, site.addr_burst, "no token from 127.0.0.3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_flooding_user_does_not_starve_another_from_the_same_address),
        cmocka_unit_test(a_user_is_limited_across_addresses),
        cmocka_unit_test(the_address_limit_still_holds),
    };
    return cmocka_run_group_tests_name("limits/user_limits", tests, read_site, NULL);
}
