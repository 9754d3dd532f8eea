/* commerce-token: development only (never installed). Prints HS256 access
 * tokens signed with the configuration's auth_hs256_secret, for the dev
 * stack's example calls (scripts/dev-token) and the benchmarks.
 *
 *   commerce-token USER_ID [SECONDS]     one token for USER_ID (default 3600 s)
 *   commerce-token --bulk N [SECONDS]    N lines: the tokens of users 1..N
 *
 * The configuration comes from COMMERCE_CONFIG like every program's. In
 * production an identity provider issues tokens; the service only checks them. */
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/rc.h"
#include "common/util.h"

static int print_token(const config_t *cfg, int64_t uid, int64_t seconds, time_t now)
{
    char uid_s[32];
    jwt_t *jwt = NULL;
    char *tok = NULL;

    snprintf(uid_s, sizeof(uid_s), "%lld", (long long)uid);
    if (jwt_new(&jwt) == 0 && jwt_add_grant(jwt, cfg->auth_user_claim, uid_s) == 0 &&
        jwt_add_grant(jwt, "iss", cfg->auth_issuer) == 0 &&
        jwt_add_grant(jwt, "aud", cfg->auth_audience) == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now + seconds)) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->auth_hs256_secret,
                    (int)strlen(cfg->auth_hs256_secret)) == 0)
        tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    if (!tok)
        return -1;
    puts(tok);
    free(tok);
    return 0;
}

int main(int argc, char **argv)
{
    config_t cfg;
    int bulk = argc >= 2 && strcmp(argv[1], "--bulk") == 0;
    int64_t n = 0, seconds = 3600;
    time_t now = time(NULL);

    if (argc < 2 + bulk || argc > 3 + bulk || util_parse_i64(argv[1 + bulk], &n) != C_OK || n < 1 ||
        (argc == 3 + bulk && (util_parse_i64(argv[2 + bulk], &seconds) != C_OK || seconds < 1))) {
        fprintf(stderr, "usage: commerce-token USER_ID [SECONDS] | commerce-token --bulk N "
                        "[SECONDS]\n");
        return 2;
    }
    if (config_load(&cfg, CONFIG_TOOL) != C_OK)
        return 2;
    if (!cfg.auth_hs256_secret[0] || !cfg.auth_issuer[0] || !cfg.auth_audience[0]) {
        fprintf(stderr,
                "commerce-token: the configuration (%s) has no auth_hs256_secret, "
                "auth_issuer and auth_audience: it signs HS256 dev tokens only\n",
                config_path());
        return 2;
    }
    for (int64_t uid = bulk ? 1 : n; uid <= n; uid++)
        if (print_token(&cfg, uid, seconds, now) != 0) {
            fprintf(stderr, "commerce-token: libjwt could not sign\n");
            return 1;
        }
    return 0;
}
