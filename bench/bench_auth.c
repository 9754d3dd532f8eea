/* The cost of verifying one access token in a worker (auth_check), for HS256,
 * RS256 and ES256, without and with the verified-token cache: one process,
 * one core, no HTTP, no database. Prints figures; asserts nothing about time.
 *
 *   bench_auth [--iterations N]        (default 100000)
 *
 * Per algorithm, a fresh key (RSA 2048, EC P-256, or a 39-byte HS256 secret)
 * and one token of ordinary claims (sub, iss, aud, exp an hour ahead), then
 * checks of the same Authorization value on three handles:
 *   full    auth_token_cache=0: base64, libjwt's parse, the signature, json-c
 *           on the claims, every time (the cost before the cache);
 *   miss    a cache of 4 slots and 64 tokens in turn: every check misses, then
 *           stores (the cache's cost on top of the full check);
 *   cached  the default cache, warm: every check is a hit;
 *   shared  a cache of 4 slots on the pool's shared table (auth_share) that
 *           another handle filled with the 64 tokens: every check misses its
 *           own table and is answered by the shared one (SHA-256 of the key
 *           set's digest and the token, a lookup, a store in its own table).
 * cached and shared run N checks; full and miss run N, or as many as fill about 3 s of
 * CPU when fewer (a public-key check costs hundreds of microseconds), at least
 * 1,000: their counts are printed. A last line prices ES256 with a JWKS that
 * lists an RSA key first (auth_check tries the keys in turn), as the test
 * stack's does. Output, one line each (CPU time of this process, per check):
 *   auth alg=A keys=K token_bytes=B full_n=N full_us=F miss_n=N miss_us=M
 *        cached_n=N cached_us=C shared_us=S speedup=F/C
 * Every check must answer the token's user, or the run stops. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/util.h"
#include "http/auth.h"
#include "lib/keys.h"

#define SECRET "bench-secret-0123456789abcdef0123456789"
#define ISS "https://id.example/bench"
#define AUD "commerce"
#define POOL 64

static char dir[64] = "";

static void die(const char *what)
{
    fprintf(stderr, "bench_auth: %s\n", what);
    exit(1);
}

static double cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* An auth handle for alg: key is the private PEM (RS256, ES256) whose public
 * half goes into a JWKS file as kid k1, after first's (kid k0) when not NULL,
 * or NULL for HS256; cache is auth_token_cache. */
static auth_t *handle(const char *key, const char *first, int cache)
{
    char text[4096], err[256] = "", keys[256] = "auth_hs256_secret=" SECRET;
    config_t cfg;
    auth_t *a;

    if (key) {
        char *jwk = tk_jwk(key, "k1"), *j0 = first ? tk_jwk(first, "k0") : NULL, path[128];
        FILE *f;
        snprintf(path, sizeof(path), "%s/jwks.json", dir);
        if (!jwk || (first && !j0) || !(f = fopen(path, "w")))
            die("cannot write the JWKS");
        fprintf(f, "{\"keys\":[%s%s%s]}", j0 ? j0 : "", j0 ? "," : "", jwk);
        fclose(f);
        free(jwk);
        free(j0);
        snprintf(keys, sizeof(keys), "auth_public_keys_file=%s", path);
    }
    snprintf(text, sizeof(text),
             "db_socket=/s\nauth_issuer=" ISS "\nauth_audience=" AUD "\n%s\nauth_token_cache=%d\n",
             keys, cache);
    if (config_parse(&cfg, text, NULL, NULL, NULL) != 0 || !(a = auth_new(&cfg, err, sizeof(err))))
        die(err[0] ? err : "configuration refused");
    return a;
}

/* CPU microseconds per check of headers[i % n], each of which must verify. */
static double run(const auth_t *a, char **headers, int n, long iterations, int64_t now)
{
    double t0 = cpu_us();
    for (long i = 0; i < iterations; i++) {
        int64_t uid = 0;
        if (auth_check(a, headers[i % n], now, &uid) != AUTH_OK || uid != 42 + i % n)
            die("a token did not verify");
    }
    return (cpu_us() - t0) / (double)iterations;
}

/* run, for at most `most` checks: as many as fill about 3 s, at least 1,000
 * (or `most` when fewer); *count says how many ran. */
static double run_timed(const auth_t *a, char **headers, int n, long most, int64_t now, long *count)
{
    double each = run(a, headers, n, 100, now);
    *count = (long)(3e6 / each);
    *count = *count < 1000 ? 1000 : *count > most ? most : *count;
    return run(a, headers, n, *count, now);
}

static void bench(const char *alg, int behind_rsa, long iterations)
{
    const char *type = strcmp(alg, "RS256") == 0 ? "RSA" : strcmp(alg, "ES256") == 0 ? "EC" : NULL;
    char *key = type ? tk_private_pem(type) : NULL, *pool[POOL], claims[256];
    char *rsa = behind_rsa ? tk_private_pem("RSA") : NULL;
    int64_t now = (int64_t)time(NULL);
    auth_t *full, *miss, *cached, *feeder, *shared;
    char share[128], err[256] = "";
    long nf, nm;

    if ((type && !key) || (behind_rsa && !rsa))
        die("cannot make a key");
    for (int i = 0; i < POOL; i++) {
        snprintf(claims, sizeof(claims),
                 "{\"sub\":\"%d\",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}", 42 + i,
                 (long long)now + 3600);
        if (!(pool[i] = tk_bearer(alg, key ? key : SECRET, type ? "k1" : NULL, claims)))
            die("cannot sign a token");
    }
    full = handle(key, rsa, 0);
    miss = handle(key, rsa, 4);
    cached = handle(key, rsa, 4096);
    run(cached, pool, 1, 1, now); /* the token is now cached */
    feeder = handle(key, rsa, 4);
    shared = handle(key, rsa, 4);
    snprintf(share, sizeof(share), "%s/tokens-%s-%d", dir, alg, behind_rsa);
    if (auth_share(feeder, share, err, sizeof(err)) != 0 ||
        auth_share(shared, share, err, sizeof(err)) != 0)
        die(err);
    run(feeder, pool, POOL, POOL, now); /* the 64 tokens are now in the shared table */
    double f = run_timed(full, pool, 1, iterations, now, &nf);
    double m = run_timed(miss, pool, POOL, iterations, now, &nm);
    double c = run(cached, pool, 1, iterations, now);
    double sh = run(shared, pool, POOL, iterations, now);
    printf("auth alg=%s keys=%s token_bytes=%zu full_n=%ld full_us=%.2f miss_n=%ld miss_us=%.2f "
           "cached_n=%ld cached_us=%.3f shared_us=%.3f speedup=%.0f\n",
           alg,
           !type        ? "secret"
           : behind_rsa ? "RSA,EC"
                        : type,
           strlen(pool[0]) - 7, nf, f, nm, m, iterations, c, sh, f / c);
    fflush(stdout);
    auth_free(full);
    auth_free(miss);
    auth_free(cached);
    auth_free(feeder);
    auth_free(shared);
    for (int i = 0; i < POOL; i++)
        free(pool[i]);
    free(key);
    free(rsa);
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {{"iterations", required_argument, NULL, 'n'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    long iterations = 100000;
    int64_t n;
    int ch;
    char cmd[96];

    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (ch == 'n' && util_parse_i64(optarg, &n) == 0 && n > 0)
            iterations = (long)n;
        else {
            fprintf(stderr, "usage: bench_auth [--iterations N]\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    snprintf(dir, sizeof(dir), "%s/bench_auth.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        die("cannot make a temporary directory");
    bench("HS256", 0, iterations);
    bench("RS256", 0, iterations);
    bench("ES256", 0, iterations);
    bench("ES256", 1, iterations);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
