#include "lib/client.h"

#include "lib/keys.h"

#include <ctype.h>
#include <errno.h>
#include <curl/curl.h>
#include <stdint.h>
#include <errmsg.h>
#include <mysql.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define AUTH_HEADER_CAP 2048

static CURL *curl;
static pid_t curl_pid;
static MYSQL *my;
static pid_t my_pid;
static int in_child;

/* A failed check ends the test. A child of tc_parallel must not unwind into
 * cmocka's runner: it exits. */
static void tc_fail(void) __attribute__((noreturn));
static void tc_fail(void)
{
    if (in_child)
        _exit(255); /* reads back as status -1 */
    fail();         /* does not return (client.h) */
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

struct buf {
    char *p;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct buf *b = arg;
    size_t n = size * nmemb;
    char *q = realloc(b->p, b->len + n + 1);
    if (!q)
        return 0;
    memcpy(q + b->len, ptr, n);
    b->p = q;
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

tc_resp_t *tc_req(const char *method, const char *path, const char *body,
                  const char *const *headers)
{
    return tc_req_at(NULL, method, path, body, headers);
}

/* ---- access tokens --------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

char *tc_key_pem(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", env_or("COMMERCE_TEST_AUTH_DIR", "."), name);
    char *pem = read_text(path);
    if (!pem) {
        fprintf(stderr, "no test key %s\n", path);
        tc_fail();
    }
    return pem;
}

char *tc_claims(int64_t uid, int64_t exp_in)
{
    char *c = malloc(512);
    time_t now = time(NULL);
    assert_non_null(c);
    snprintf(c, 512, "{\"sub\":\"%lld\",\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld}",
             (long long)uid, env_or("COMMERCE_TEST_AUTH_ISSUER", "https://id.test/"),
             env_or("COMMERCE_TEST_AUTH_AUDIENCE", "commerce-test"), (long long)now,
             (long long)(now + exp_in));
    return c;
}

/* Tokens are signed once per user and process (ES256 with the test key). */
#define TOKEN_CACHE 64
static struct {
    int64_t uid;
    pid_t pid;
    char *token;
} tokens[TOKEN_CACHE];
static int token_next;
static char *ec_pem;
static pid_t ec_pid;

const char *tc_token(int64_t uid)
{
    for (int i = 0; i < TOKEN_CACHE; i++)
        if (tokens[i].token && tokens[i].uid == uid && tokens[i].pid == getpid())
            return tokens[i].token;
    if (!ec_pem || ec_pid != getpid()) {
        ec_pem = tc_key_pem("ec.pem");
        ec_pid = getpid();
    }
    char *claims = tc_claims(uid, 3600);
    char *t = tk_sign("ES256", ec_pem, TK_EC_KID, claims);
    free(claims);
    if (!t) {
        fprintf(stderr, "cannot sign a test token\n");
        tc_fail();
    }
    int i = token_next++ % TOKEN_CACHE;
    free(tokens[i].token);
    tokens[i].uid = uid;
    tokens[i].pid = getpid();
    tokens[i].token = t;
    return t;
}

static int auto_token = 1;

void tc_auto_token(int on) { auto_token = on; }

/* A positive id at p (digits up to '/', '?' or the end); 0 when it is not one. */
static int64_t path_id(const char *p)
{
    char *end;
    long long v;
    if (*p < '1' || *p > '9')
        return 0;
    v = strtoll(p, &end, 10);
    return (*end == '\0' || *end == '/' || *end == '?') && v > 0 && v < INT64_MAX ? v : 0;
}

/* The user a request of the existing tests acts for: the path's user, the
 * order's owner, or the body's userId; any valid user (1) where a request
 * is meant to be refused for another reason (a bad id, a missing order). */
static int64_t acting_user(const char *path, const char *body)
{
    int64_t id;

    if (strncmp(path, "/users/", 7) == 0)
        return (id = path_id(path + 7)) ? id : 1;
    if (strncmp(path, "/orders/", 8) == 0) {
        id = path_id(path + 8);
        if (id && tc_sql_int("SELECT COUNT(*) FROM orders WHERE id=%lld", (long long)id))
            return tc_sql_int("SELECT user_id FROM orders WHERE id=%lld", (long long)id);
        return 1;
    }
    if ((strcmp(path, "/orders") == 0 || strncmp(path, "/coupons/", 9) == 0) && body) {
        json_object *o = json_tokener_parse(body), *u = NULL;
        id = 1;
        if (o && json_object_object_get_ex(o, "userId", &u) &&
            json_object_is_type(u, json_type_int) && json_object_get_int64(u) > 0)
            id = json_object_get_int64(u);
        json_object_put(o);
        return id;
    }
    return 0;
}

static int has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return 1;
    return 0;
}

/* "METHOD path" and up to 120 bytes of the body, malloc'd. */
static char *describe(const char *method, const char *path, const char *body)
{
    size_t cap = strlen(method) + strlen(path) + 160;
    char *d = malloc(cap);
    assert_non_null(d);
    snprintf(d, cap, "%s %s%s%.120s%s", method, path, body ? " " : "", body ? body : "",
             body && strlen(body) > 120 ? "..." : "");
    return d;
}

/* ---- catalog reads and the replica ------------------------------------------ */

static MYSQL *replica;
static pid_t replica_pid;
static int replica_sync_on = 1;

void tc_replica_sync_reads(int on) { replica_sync_on = on; }

/* What the workers may read from a replica (src/store/replicas.h): the product
 * list, the popular list, a coupon. */
static int is_catalog_read(const char *method, const char *path)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return 0;
    return strncmp(path, "/coupons/", 9) == 0 || strncmp(path, "/products/popular", 17) == 0 ||
           (strncmp(path, "/products", 9) == 0 && (path[9] == '\0' || path[9] == '?'));
}

static MYSQL *db(void);

/* A test reads its own writes: before a catalog read, give the stack's
 * replica (COMMERCE_TEST_REPLICA_SOCKET) up to 5 s to apply what the primary
 * has committed. A replica that is down or stopped is not waited for long:
 * the read then goes to the primary anyway. */
static void replica_sync(void)
{
    const char *sock = getenv("COMMERCE_TEST_REPLICA_SOCKET");
    char pos[1024] = "", q[1200];
    MYSQL_RES *res;
    MYSQL_ROW row;

    if (!sock || !*sock || !replica_sync_on)
        return;
    if (mysql_query(db(), "SELECT @@gtid_binlog_pos") != 0 || !(res = mysql_store_result(my)))
        return;
    row = mysql_fetch_row(res);
    snprintf(pos, sizeof(pos), "%s", row && row[0] ? row[0] : "");
    mysql_free_result(res);
    if (!replica || replica_pid != getpid()) {
        replica = mysql_init(NULL);
        replica_pid = getpid();
        unsigned timeout = 1;
        mysql_options(replica, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        if (!mysql_real_connect(replica, NULL, tc_db_admin(), "", NULL, 0, sock, 0)) {
            mysql_close(replica);
            replica = NULL;
            return;
        }
    }
    snprintf(q, sizeof(q), "SELECT MASTER_GTID_WAIT('%s', 5)", pos);
    if (mysql_query(replica, q) != 0) {
        mysql_close(replica);
        replica = NULL;
        return;
    }
    if ((res = mysql_store_result(replica)))
        mysql_free_result(res);
}

/* "host!ADDRESS" for CURLOPT_INTERFACE, "" for the default (tc_source_address). */
static char source_address[64];

void tc_source_address(const char *ip)
{
    snprintf(source_address, sizeof(source_address), "%s%s", ip ? "host!" : "", ip ? ip : "");
}

tc_resp_t *tc_req_at(const char *base, const char *method, const char *path, const char *body,
                     const char *const *headers)
{
    if (!base) {
        base = env_or("COMMERCE_TEST_URL", "http://127.0.0.1:8080");
        if (is_catalog_read(method, path))
            replica_sync();
    }
    size_t url_len = strlen(base) + strlen(path) + 1;
    char *url = malloc(url_len);
    struct buf bb = {0}, hb = {0};
    struct curl_slist *hl = NULL;
    tc_resp_t *r = calloc(1, sizeof(*r));

    if (!curl || curl_pid != getpid()) {
        /* a forked child must not share its parent's connections */
        curl = curl_easy_init();
        curl_pid = getpid();
    }
    if (!curl || !url || !r) {
        fprintf(stderr, "%s %s: out of memory\n", method, path);
        free(url);
        free(r);
        tc_fail();
    }
    curl_easy_reset(curl);
    snprintf(url, url_len, "%s%s", base, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hb);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (source_address[0])
        curl_easy_setopt(curl, CURLOPT_INTERFACE, source_address);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    int64_t uid = auto_token && !has_header(headers, "Authorization") ? acting_user(path, body) : 0;
    if (uid) {
        char auth[AUTH_HEADER_CAP];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tc_token(uid));
        hl = curl_slist_append(hl, auth);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(curl);
    curl_slist_free_all(hl);
    free(url);
    if (cc != CURLE_OK) {
        fprintf(stderr, "curl %s %s: %s\n", method, path, curl_easy_strerror(cc));
        free(bb.p);
        free(hb.p);
        free(r);
        tc_fail();
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    r->request = describe(method, path, body);
    r->body = bb.p ? bb.p : strdup("");
    r->len = bb.len;
    r->headers = hb.p ? hb.p : strdup("");
    if (r->len)
        r->json = json_tokener_parse(r->body);
    return r;
}

static const char *const json_hdr[] = {"Content-Type: application/json", NULL};

tc_resp_t *tc_get(const char *path) { return tc_req("GET", path, NULL, NULL); }

tc_resp_t *tc_getf(const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        fprintf(stderr, "tc_getf: path too long for its buffer: %s...\n", path);
        tc_fail();
    }
    return tc_get(path);
}

tc_resp_t *tc_post(const char *path, const char *json)
{
    return tc_req("POST", path, json, json_hdr);
}

tc_resp_t *tc_post_key(const char *path, const char *json, const char *idem_key)
{
    char h[512];
    const char *hs[] = {"Content-Type: application/json", h, NULL};
    snprintf(h, sizeof(h), "Idempotency-Key: %s", idem_key);
    return tc_req("POST", path, json, hs);
}

tc_resp_t *tc_admin(const char *method, const char *path, const char *json)
{
    char auth[512];
    const char *hs[] = {"Content-Type: application/json", auth, NULL};
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             env_or("COMMERCE_TEST_ADMIN_TOKEN", "dev-admin-token"));
    return tc_req(method, path, json, hs);
}

void tc_free(tc_resp_t *r)
{
    if (!r)
        return;
    json_object_put(r->json);
    free(r->body);
    free(r->headers);
    free(r->request);
    free(r);
}

const char *tc_header(const tc_resp_t *r, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = r->headers;

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vl = len - (size_t)(v - p);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            return buf;
        }
        p = eol ? eol + 2 : NULL;
    }
    return NULL;
}

json_object *tc_jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v)) {
        fprintf(stderr, "no member '%s' in %s\n", key, o ? json_object_to_json_string(o) : "-");
        tc_fail();
    }
    return v;
}

int64_t tc_jint(json_object *o, const char *key)
{
    json_object *v = tc_jget(o, key);
    if (!json_object_is_type(v, json_type_int)) {
        fprintf(stderr, "'%s' is not an integer in %s\n", key, json_object_to_json_string(o));
        tc_fail();
    }
    return json_object_get_int64(v);
}

const char *tc_jstr(json_object *o, const char *key)
{
    json_object *v = tc_jget(o, key);
    if (!json_object_is_type(v, json_type_string)) {
        fprintf(stderr, "'%s' is not a string in %s\n", key, json_object_to_json_string(o));
        tc_fail();
    }
    return json_object_get_string(v);
}

void tc_assert_keys(json_object *o, const char *const *keys)
{
    int n = 0;
    if (!json_object_is_type(o, json_type_object)) {
        fprintf(stderr, "not an object: %s\n", o ? json_object_to_json_string(o) : "-");
        tc_fail();
    }
    for (; keys[n]; n++) {
        if (!json_object_object_get_ex(o, keys[n], NULL)) {
            fprintf(stderr, "missing member '%s' in %s\n", keys[n], json_object_to_json_string(o));
            tc_fail();
        }
    }
    if (json_object_object_length(o) != n) {
        fprintf(stderr, "expected exactly %d members, got %d: %s\n", n,
                json_object_object_length(o), json_object_to_json_string(o));
        tc_fail();
    }
}

void tc_assert_time(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    int ok = s && strlen(s) == strlen(pat);
    for (size_t i = 0; ok && pat[i]; i++)
        ok = pat[i] == 'd' ? isdigit((unsigned char)s[i]) != 0 : s[i] == pat[i];
    if (!ok) {
        fprintf(stderr, "not an RFC 3339 UTC millisecond time: %s\n", s ? s : "(null)");
        tc_fail();
    }
}

void tc_sql_time(const char *rfc, char *out)
{
    size_t i = 0;
    for (; rfc[i] && rfc[i] != 'Z'; i++)
        out[i] = rfc[i] == 'T' ? ' ' : rfc[i];
    out[i] = '\0';
}

/* The response's parsed JSON body; a body that is not JSON fails the test. */
static json_object *body_json(const tc_resp_t *r)
{
    if (!r->json) {
        fprintf(stderr, "response is not JSON: %s\n", r->body);
        tc_fail();
    }
    return r->json;
}

int64_t tc_int(const tc_resp_t *r, const char *key) { return tc_jint(body_json(r), key); }

const char *tc_str(const tc_resp_t *r, const char *key) { return tc_jstr(body_json(r), key); }

int tc_is_null(const tc_resp_t *r, const char *key) { return tc_jget(body_json(r), key) == NULL; }

/* 1 (and a line on stderr) when a reading changed, else 0. */
static int report_change(int64_t before, int64_t after, const char *what, const char *file,
                         int line)
{
    if (before == after)
        return 0;
    fprintf(stderr, "%s:%d: %s changed %lld -> %lld\n", file, line, what, (long long)before,
            (long long)after);
    return 1;
}

void tc_expect_status_at(const tc_resp_t *r, long status, const char *file, int line,
                         const char *fmt, ...)
{
    char note[512];
    va_list ap;

    if (r->status == status)
        return;
    va_start(ap, fmt);
    vsnprintf(note, sizeof(note), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: %s%s%s%s: expected %ld, got %ld: %s\n", file, line, r->request,
            *note ? " (" : "", note, *note ? ")" : "", status, r->status, r->body);
    tc_fail();
}

int64_t tc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tc_nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void tc_wait_gave_up(const char *file, int line, int ms, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: gave up after %d s waiting for: ", file, line, ms / 1000);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    tc_fail();
    abort(); /* tc_fail does not return */
}

int tc_worker_log_has(const char *s)
{
    char path[512], line[4096];
    int found = 0;
    snprintf(path, sizeof(path), "%s/log/worker.log", env_or("COMMERCE_TEST_STATE_DIR", "."));
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, s) != NULL;
    fclose(f);
    return found;
}

int tc_stack(const char *cmd)
{
    char line[2048];
    snprintf(line, sizeof(line), "'%s' '%s' %s", env_or("COMMERCE_TEST_STACK", "scripts/stack"),
             env_or("COMMERCE_TEST_STATE_DIR", "."), cmd);
    fflush(NULL);
    int rc = system(line);
    if (rc != 0)
        fprintf(stderr, "%s -> %d\n", line, rc);
    return rc;
}

int tc_write_policy(const char *policy)
{
    static const char *files[] = {"commerce.conf", "relay.conf"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd),
                 "f='%s/%s' && sed -i '/^replication_policy=/d' \"$f\" && "
                 "echo 'replication_policy=%s' >>\"$f\"",
                 env_or("COMMERCE_TEST_STATE_DIR", "."), files[i], policy);
        if (system(cmd) != 0)
            return -1;
    }
    return 0;
}

int tc_wait_ready(void)
{
    for (int i = 0; i < 300; i++) {
        tc_resp_t *r = tc_get("/readyz");
        long status = r->status;
        tc_free(r);
        if (status == 200)
            return 0;
        tc_nap(100);
    }
    return -1;
}

void tc_replica_signal(int sig)
{
    char path[1024];
    long pid = 0;
    snprintf(path, sizeof(path), "%s/run/replica.pid", env_or("COMMERCE_TEST_STATE_DIR", "."));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = fscanf(f, "%ld", &pid);
    fclose(f);
    assert_int_equal(n, 1);
    assert_int_equal(kill((pid_t)pid, sig), 0);
}

int tc_set_policy(const char *policy)
{
    if (tc_write_policy(policy) || tc_stack("workers-start") || tc_stack("pool2-start") ||
        tc_stack("relay-start"))
        return -1;
    return tc_wait_ready();
}

int tc_stack_out(const char *cmd, char *out, size_t cap)
{
    char line[2048];
    size_t n = 0;
    snprintf(line, sizeof(line), "'%s' '%s' %s 2>&1",
             env_or("COMMERCE_TEST_STACK", "scripts/stack"), env_or("COMMERCE_TEST_STATE_DIR", "."),
             cmd);
    fflush(NULL);
    FILE *p = popen(line, "r");
    if (!p) {
        fprintf(stderr, "%s: %s\n", line, strerror(errno));
        tc_fail();
    }
    while (cap && n + 1 < cap) {
        size_t k = fread(out + n, 1, cap - 1 - n, p);
        if (k == 0)
            break;
        n += k;
    }
    if (cap)
        out[n] = '\0';
    char drain[512];
    while (fread(drain, 1, sizeof(drain), p) > 0)
        ;
    int rc = pclose(p);
    fprintf(stderr, "--- scripts/stack %s (exit %d):\n%s", cmd, rc, cap ? out : "");
    return rc;
}

void tc_assert_problem(const tc_resp_t *r, long status, const char *code, const char *file,
                       int line)
{
    char ct[128];
    json_object *c = NULL;

    if (r->status != status || !tc_header(r, "Content-Type", ct, sizeof(ct)) ||
        strcmp(ct, "application/problem+json") != 0 || !r->json ||
        !json_object_object_get_ex(r->json, "code", &c) ||
        strcmp(json_object_get_string(c), code) != 0) {
        fprintf(stderr, "%s:%d: %s: expected %ld %s, got %ld: %s\n", file, line, r->request, status,
                code, r->status, r->body);
        tc_fail();
    }
    json_object *st = NULL;
    if (!json_object_object_get_ex(r->json, "status", &st) || json_object_get_int(st) != status) {
        fprintf(stderr, "%s:%d: %s: problem status member mismatch: %s\n", file, line, r->request,
                r->body);
        tc_fail();
    }
}

void tc_assert_json_c_text(const tc_resp_t *r, const char *file, int line)
{
    const char *want = r->json
                           ? json_object_to_json_string_ext(
                                 r->json, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                           : "(no JSON document)";

    if (strlen(want) != r->len || strcmp(want, r->body) != 0) {
        fprintf(stderr, "%s:%d: %s: not the text json-c writes for it:\n got  %s\n want %s\n", file,
                line, r->request, r->body, want);
        tc_fail();
    }
}

void tc_assert_orders_page(const tc_resp_t *r, const int64_t *ids, int n, int64_t next,
                           const char *file, int line)
{
    char *want = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&want, &len);

    if (!f)
        tc_fail();
    fputs("{\"items\":[", f);
    for (int i = 0; i < n; i++) {
        tc_resp_t *g = tc_getf("/orders/%lld", (long long)ids[i]);
        tc_expect_status_at(g, 200, file, line, "item %d of the page", i);
        fprintf(f, "%s%s", i ? "," : "", g->body);
        tc_free(g);
    }
    if (next)
        fprintf(f, "],\"next\":%lld}", (long long)next);
    else
        fputs("],\"next\":null}", f);
    fclose(f);
    if (len != r->len || strcmp(want, r->body) != 0) {
        fprintf(stderr, "%s:%d: %s: not its orders' documents byte for byte:\n got  %s\n want %s\n",
                file, line, r->request, r->body, want);
        free(want);
        tc_fail();
    }
    free(want);
}

void tc_assert_answers(tc_resp_t *r, long status, const char *file, int line)
{
    tc_expect_status_at(r, status, file, line, "%s", "");
    tc_free(r);
}

void tc_assert_paid(tc_resp_t *r, int64_t total, int64_t balance, const char *file, int line)
{
    tc_expect_status_at(r, 201, file, line, "%s", "");
    if (tc_int(r, "total") != total || tc_int(r, "balance") != balance) {
        fprintf(stderr, "%s:%d: %s: expected total %lld, balance %lld: %s\n", file, line,
                r->request, (long long)total, (long long)balance, r->body);
        tc_fail();
    }
    tc_free(r);
}

int tc_replayed(const tc_resp_t *r)
{
    char v[64];
    return tc_header(r, "Idempotent-Replayed", v, sizeof(v)) && strcmp(v, "true") == 0;
}

void tc_assert_keyed(const char *path, const char *body, const char *key, long status, int replay,
                     const char *file, int line)
{
    tc_resp_t *r = tc_post_key(path, body, key);
    tc_expect_status_at(r, status, file, line, "key %s", key);
    if (tc_replayed(r) != replay) {
        fprintf(stderr, "%s:%d: %s (key %s): %s\n", file, line, r->request, key,
                replay ? "not replayed" : "replayed");
        tc_fail();
    }
    tc_free(r);
}

void tc_assert_refused(tc_resp_t *r, long status, const char *code, const char *file, int line)
{
    tc_assert_problem(r, status, code, file, line);
    tc_free(r);
}

void tc_assert_invalid(tc_resp_t *r, const char *field, const char *file, int line)
{
    json_object *f = NULL;

    tc_assert_problem(r, 400, "INVALID_REQUEST", file, line);
    if (!json_object_object_get_ex(r->json, "field", &f) ||
        !json_object_is_type(f, json_type_string) ||
        (field && strcmp(json_object_get_string(f), field) != 0)) {
        fprintf(stderr, "%s:%d: %s: expected field %s: %s\n", file, line, r->request,
                field ? field : "(any)", r->body);
        tc_fail();
    }
    tc_free(r);
}

const char *tc_db_admin(void)
{
    const struct passwd *pw = getpwuid(geteuid());
    return pw ? pw->pw_name : "root";
}

/* A connection as the administrator to the server on `socket` (the test's
 * database); the test fails when there is none. */
static MYSQL *admin_at(const char *socket)
{
    MYSQL *m = mysql_init(NULL);
    if (!m || !mysql_real_connect(m, NULL, tc_db_admin(), NULL,
                                  env_or("COMMERCE_TEST_DB_NAME", "commerce"), 0, socket, 0)) {
        fprintf(stderr, "%s: %s\n", socket, m ? mysql_error(m) : "out of memory");
        tc_fail();
    }
    return m;
}

void tc_sql_text_at(const char *socket, char *out, size_t cap, const char *fmt, ...)
{
    char q[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    MYSQL *m = admin_at(socket);
    if (mysql_query(m, q) != 0) {
        fprintf(stderr, "%s: %s: %s\n", socket, q, mysql_error(m));
        mysql_close(m);
        tc_fail();
    }
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    snprintf(out, cap, "%s", row && row[0] ? row[0] : "");
    mysql_free_result(res);
    mysql_close(m);
}

void tc_secret(const char *name, char *out, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/secrets/%s", env_or("COMMERCE_TEST_STATE_DIR", "."), name);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(out, (int)cap, f)) {
        fprintf(stderr, "%s: cannot read\n", path);
        if (f)
            fclose(f);
        tc_fail();
    }
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

int64_t tc_sql_int_at(const char *socket, const char *fmt, ...)
{
    char q[4096], v[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    tc_sql_text_at(socket, v, sizeof(v), "%s", q);
    return v[0] ? strtoll(v, NULL, 10) : -1;
}

static MYSQL *db(void)
{
    if (!my || my_pid != getpid()) {
        my = mysql_init(NULL);
        my_pid = getpid();
        if (!mysql_real_connect(my, NULL, tc_db_admin(), "",
                                env_or("COMMERCE_TEST_DB_NAME", "commerce"), 0,
                                env_or("COMMERCE_TEST_DB_SOCKET", "/tmp/mysqld.sock"), 0)) {
            fprintf(stderr, "test db connect: %s\n", mysql_error(my));
            tc_fail();
        }
        mysql_query(my, "SET time_zone = '+00:00'");
    }
    return my;
}

/* mysql_query on the test's connection; a connection the server dropped (a
 * test restarted the database) is opened again and the query sent once more. */
static int query(const char *q)
{
    if (mysql_query(db(), q) == 0)
        return 0;
    unsigned err = mysql_errno(my);
    if (err != CR_SERVER_GONE_ERROR && err != CR_SERVER_LOST)
        return -1;
    mysql_close(my);
    my = NULL;
    return mysql_query(db(), q);
}

void tc_sql(const char *fmt, ...)
{
    char q[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    if (query(q) != 0) {
        fprintf(stderr, "sql %s: %s\n", q, mysql_error(db()));
        tc_fail();
    }
}

/* ---- snapshots ------------------------------------------------------------- */

/* The whole-table readings of a snapshot: what a refused request could touch. */
static const struct {
    const char *what, *sql;
} snap_tables[TC_SNAP_TABLES] = {
    {"users", "SELECT COUNT(*) FROM users"},
    {"point rows", "SELECT COUNT(*) FROM point"},
    {"products", "SELECT COUNT(*) FROM product"},
    {"inventory rows", "SELECT COUNT(*) FROM inventory"},
    {"sum of balances", "SELECT COALESCE(SUM(balance), 0) FROM point"},
    {"sum of stock", "SELECT COALESCE(SUM(stock), 0) FROM inventory"},
    {"point_history rows", "SELECT COUNT(*) FROM point_history"},
    {"orders", "SELECT COUNT(*) FROM orders"},
    {"cancelled orders", "SELECT COUNT(*) FROM orders WHERE status = 'CANCELLED'"},
    {"order_item rows", "SELECT COUNT(*) FROM order_item"},
    {"payment rows", "SELECT COUNT(*) FROM payment"},
    {"outbox rows", "SELECT COUNT(*) FROM outbox"},
    {"idempotency keys", "SELECT COUNT(*) FROM idempotency_key"},
    {"cart_item rows", "SELECT COUNT(*) FROM cart_item"},
    {"coupons", "SELECT COUNT(*) FROM coupon"},
    {"sum of issued quantities", "SELECT COALESCE(SUM(issued_quantity), 0) FROM coupon"},
    {"user_coupon rows", "SELECT COUNT(*) FROM user_coupon"},
    {"used coupons", "SELECT COUNT(*) FROM user_coupon WHERE status = 'USED'"},
    {"sum of used_order_id", "SELECT COALESCE(SUM(used_order_id), 0) FROM user_coupon"},
};

/* Every whole-table reading in one statement (one consistent read). */
static void snap_read_tables(int64_t *out)
{
    char q[4096];
    size_t len = (size_t)snprintf(q, sizeof(q), "SELECT ");
    MYSQL_RES *res;
    MYSQL_ROW row;

    for (int i = 0; i < TC_SNAP_TABLES && len < sizeof(q); i++)
        len +=
            (size_t)snprintf(q + len, sizeof(q) - len, "%s(%s)", i ? ", " : "", snap_tables[i].sql);
    assert_true(len < sizeof(q));
    if (query(q) != 0 || !(res = mysql_store_result(db()))) {
        fprintf(stderr, "sql %s: %s\n", q, mysql_error(db()));
        tc_fail();
    }
    row = mysql_fetch_row(res);
    for (int i = 0; i < TC_SNAP_TABLES; i++)
        out[i] = row && row[i] ? strtoll(row[i], NULL, 10) : -1;
    mysql_free_result(res);
}

tc_snapshot_t tc_snapshot(int64_t uid, int n, const int64_t *pids)
{
    tc_snapshot_t s;
    long long u = (long long)uid;

    memset(&s, 0, sizeof(s));
    if (n < 0 || n > TC_SNAP_PRODUCTS) {
        fprintf(stderr, "tc_snapshot: %d products, at most %d\n", n, TC_SNAP_PRODUCTS);
        tc_fail();
    }
    s.uid = uid;
    s.n = n;
    snap_read_tables(s.tables);
    if (uid) {
        s.balance =
            tc_sql_int("SELECT COALESCE((SELECT balance FROM point WHERE user_id=%lld), -1)", u);
        s.cart_lines = tc_sql_int("SELECT COUNT(*) FROM cart_item WHERE user_id=%lld", u);
    }
    for (int i = 0; i < n; i++) {
        long long p = (long long)(s.pids[i] = pids[i]);
        s.stock[i] = tc_sql_int(
            "SELECT COALESCE((SELECT stock FROM inventory WHERE product_id=%lld), -1)", p);
        if (uid)
            s.cart_qty[i] = tc_sql_int("SELECT COALESCE(SUM(quantity), 0) FROM cart_item"
                                       " WHERE user_id=%lld AND product_id=%lld",
                                       u, p);
    }
    return s;
}

/* The readings of one user and of its products that changed, each reported. */
static int snap_scoped_changes(const tc_snapshot_t *a, const tc_snapshot_t *b, const char *file,
                               int line)
{
    char what[128];
    long long u = (long long)a->uid;
    int changed = 0;

    if (a->uid) {
        snprintf(what, sizeof(what), "balance of user %lld", u);
        changed += report_change(a->balance, b->balance, what, file, line);
        snprintf(what, sizeof(what), "cart lines of user %lld", u);
        changed += report_change(a->cart_lines, b->cart_lines, what, file, line);
    }
    for (int i = 0; i < a->n; i++) {
        long long p = (long long)a->pids[i];
        snprintf(what, sizeof(what), "stock of product %lld", p);
        changed += report_change(a->stock[i], b->stock[i], what, file, line);
        snprintf(what, sizeof(what), "cart quantity of product %lld of user %lld", p, u);
        changed += report_change(a->cart_qty[i], b->cart_qty[i], what, file, line);
    }
    return changed;
}

void tc_snapshot_equal_at(const tc_snapshot_t *before, const char *file, int line)
{
    tc_snapshot_t after = tc_snapshot(before->uid, before->n, before->pids);
    int changed = snap_scoped_changes(before, &after, file, line);

    for (int i = 0; i < TC_SNAP_TABLES; i++)
        changed +=
            report_change(before->tables[i], after.tables[i], snap_tables[i].what, file, line);
    if (changed)
        tc_fail();
}

int64_t tc_stock(int64_t pid)
{
    return tc_sql_int("SELECT stock FROM inventory WHERE product_id=%lld", (long long)pid);
}

int64_t tc_balance(int64_t uid)
{
    return tc_sql_int("SELECT balance FROM point WHERE user_id=%lld", (long long)uid);
}

int64_t tc_orders_of(int64_t uid)
{
    return tc_sql_int("SELECT COUNT(*) FROM orders WHERE user_id=%lld", (long long)uid);
}

int64_t tc_history_of(int64_t uid)
{
    return tc_sql_int("SELECT COUNT(*) FROM point_history WHERE user_id=%lld", (long long)uid);
}

int64_t tc_last_balance_after(int64_t uid)
{
    return tc_sql_int("SELECT balance_after FROM point_history WHERE user_id=%lld"
                      " ORDER BY id DESC LIMIT 1",
                      (long long)uid);
}

int64_t tc_sql_int(const char *fmt, ...)
{
    char q[4096];
    va_list ap;
    MYSQL_RES *res;
    MYSQL_ROW row;
    int64_t v;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    if (query(q) != 0 || !(res = mysql_store_result(db()))) {
        fprintf(stderr, "sql %s: %s\n", q, mysql_error(db()));
        tc_fail();
    }
    row = mysql_fetch_row(res);
    if (!row || !row[0]) {
        mysql_free_result(res);
        fprintf(stderr, "sql %s: no value\n", q);
        tc_fail();
    }
    v = strtoll(row[0], NULL, 10);
    mysql_free_result(res);
    return v;
}

int64_t tc_created_id(tc_resp_t *r, const char *key)
{
    tc_expect_status(r, 201);
    int64_t id = tc_int(r, key);
    tc_free(r);
    return id;
}

int64_t tc_new_user(void)
{
    return tc_created_id(tc_admin("POST", "/admin/users", "{\"name\":\"test user\"}"), "userId");
}

int64_t tc_new_coupon(const char *type, int64_t value, int64_t total)
{
    static int seq;
    char body[256];
    snprintf(body, sizeof(body),
             "{\"name\":\"coupon %d\",\"type\":\"%s\",\"value\":%lld,\"totalQuantity\":%lld,"
             "\"validDays\":7}",
             ++seq, type, (long long)value, (long long)total);
    return tc_created_id(tc_admin("POST", "/admin/coupons", body), "couponId");
}

tc_resp_t *tc_issue(int64_t cid, int64_t uid)
{
    char path[128], body[64];
    snprintf(path, sizeof(path), "/coupons/%lld/issue", (long long)cid);
    snprintf(body, sizeof(body), "{\"userId\":%lld}", (long long)uid);
    return tc_post(path, body);
}

int64_t tc_new_product(int64_t price, int64_t stock)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"test product\",\"price\":%lld,\"stock\":%lld}",
             (long long)price, (long long)stock);
    return tc_created_id(tc_admin("POST", "/admin/products", body), "id");
}

int64_t tc_new_odd_product(int64_t price, int64_t stock)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"name\":\"" TC_ODD_NAME_JSON "\",\"price\":%lld,\"stock\":%lld}", (long long)price,
             (long long)stock);
    return tc_created_id(tc_admin("POST", "/admin/products", body), "id");
}

void tc_odd_line_names(int64_t order_id)
{
    tc_sql("UPDATE order_item SET name = CONCAT(name, CHAR(1, 8, 9, 10, 12, 13, 31, 127 USING "
           "utf8mb4)) WHERE order_id = %lld",
           (long long)order_id);
}

void tc_charge(int64_t user_id, int64_t amount)
{
    char path[128], body[128];
    snprintf(path, sizeof(path), "/users/%lld/points/charge", (long long)user_id);
    snprintf(body, sizeof(body), "{\"amount\":%lld}", (long long)amount);
    tc_resp_t *r = tc_post(path, body);
    tc_expect_status(r, 200);
    tc_free(r);
}

void tc_grant(int64_t user_id, int64_t amount)
{
    long long u = (long long)user_id, a = (long long)amount;
    tc_sql("UPDATE point SET balance = balance + %lld WHERE user_id = %lld", a, u);
    tc_sql("INSERT INTO point_history (user_id, type, amount, balance_after)"
           " SELECT user_id, 'CHARGE', %lld, balance FROM point WHERE user_id = %lld",
           a, u);
}

int tc_status_code(long status)
{
    if (status >= 200 && status < 450)
        return (int)(status - 200);
    if (status >= 500 && status <= 504)
        return (int)(status - 500 + 250);
    return 255;
}

long tc_code_status(int code)
{
    if (code >= 0 && code < 250)
        return code + 200;
    if (code >= 250 && code <= 254)
        return code - 250 + 500;
    return -1;
}

int tc_parallel(int n, int (*fn)(int i, void *arg), void *arg, int *results)
{
    int go[2];
    pid_t *pids = calloc((size_t)n, sizeof(pid_t));
    int failed = 0;

    if (!pids || pipe(go) != 0) {
        free(pids);
        return -1;
    }
    fflush(NULL);
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) {
            failed = 1;
            n = i;
            break;
        }
        if (p == 0) {
            char c;
            close(go[1]);
            in_child = 1;
            /* blocks until the parent closes the write end: all start together */
            while (read(go[0], &c, 1) > 0)
                ;
            _exit(fn(i, arg) & 0xff);
        }
        pids[i] = p;
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st)) {
            failed = 1;
            results[i] = -1;
            continue;
        }
        results[i] = WEXITSTATUS(st);
    }
    free(pids);
    return failed ? -1 : 0;
}

void tc_load_begin(tc_load_t *l, const char *name, int64_t stock, int64_t charge)
{
    const char *dir = getenv("COMMERCE_TEST_STATE_DIR");

    if (!dir || !*dir) {
        fprintf(stderr, "COMMERCE_TEST_STATE_DIR is not set (scripts/test sets it)\n");
        tc_fail();
    }
    snprintf(l->done, sizeof(l->done), "%s/run/%s", dir, name);
    unlink(l->done);
    l->stock = stock;
    l->pid = tc_new_product(1, stock);
    for (int i = 0; i < TC_LOAD_USERS; i++) {
        l->uids[i] = tc_new_user();
        tc_charge(l->uids[i], charge);
    }
}

void tc_load_finish(const tc_load_t *l)
{
    FILE *f = fopen(l->done, "w");
    if (f)
        fclose(f);
}

int tc_load_going(const tc_load_t *l) { return access(l->done, F_OK) != 0; }

void tc_load_order(const tc_load_t *l, int i, char *body, size_t cap)
{
    snprintf(body, cap, "{\"userId\":%lld,\"items\":[{\"productId\":%lld,\"quantity\":1}]}",
             (long long)l->uids[i - 1], (long long)l->pid);
}

void tc_load_books(const tc_load_t *l)
{
    int64_t sold = 0;

    for (int i = 0; i < TC_LOAD_USERS; i++) {
        assert_int_equal(tc_balance(l->uids[i]),
                         tc_sql_int("SELECT SUM(IF(type = 'USE', -amount, amount))"
                                    " FROM point_history WHERE user_id = %lld",
                                    (long long)l->uids[i]));
        sold += tc_orders_of(l->uids[i]);
    }
    assert_int_equal(tc_stock(l->pid), l->stock - sold);
    unlink(l->done);
}

/* http://host:port of COMMERCE_TEST_PLATFORM_URL (which ends in /events) */
const char *tc_platform_base(void)
{
    static char base[512];
    const char *u = getenv("COMMERCE_TEST_PLATFORM_URL");

    if (!u || !*u) {
        fprintf(stderr, "COMMERCE_TEST_PLATFORM_URL is not set (run through scripts/test)\n");
        tc_fail();
    }
    const char *host = strstr(u, "://");
    const char *slash = strchr(host ? host + 3 : u, '/');
    snprintf(base, sizeof(base), "%.*s", slash ? (int)(slash - u) : (int)strlen(u), u);
    return base;
}

json_object *tc_platform(const char *method, const char *path, const char *body)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    tc_resp_t *r = tc_req_at(tc_platform_base(), method, path, body, body ? json : NULL);

    tc_expect_statusf(r, 200, "platform %s %s", method, path);
    if (!r->json) {
        fprintf(stderr, "platform %s %s: not JSON: %s\n", method, path, r->body);
        tc_fail();
    }
    json_object *o = json_object_get(r->json);
    tc_free(r);
    return o;
}

void tc_platform_mode(const char *mode)
{
    char body[64];
    snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", mode);
    json_object_put(tc_platform("POST", "/_mode", body));
}

int64_t tc_platform_state(const char *key)
{
    json_object *o = tc_platform("GET", "/_state", NULL);
    int64_t n = tc_jint(o, key);
    json_object_put(o);
    return n;
}
