/* Client side of the integration and concurrency tests: HTTP through nginx
 * with libcurl, direct SQL checks with libmariadb, and a fork barrier for
 * many clients at once.
 *
 * Environment (set by scripts/test): COMMERCE_TEST_URL, COMMERCE_TEST_ADMIN_TOKEN,
 * COMMERCE_TEST_DB_SOCKET, COMMERCE_TEST_DB_NAME. */
#ifndef COMMERCE_TEST_CLIENT_H
#define COMMERCE_TEST_CLIENT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka's _fail, behind fail() and fail_msg(), never returns: it jumps out
 * of the test, or exits. Its header does not say so; saying it here lets gcc
 * -fanalyzer follow a failed check to the end of the test. */
void _fail(const char *const file, const int line) __attribute__((noreturn));

typedef struct tc_resp {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    json_object *json; /* parsed body, NULL when not JSON */
    char *headers;     /* raw header block */
    char *request;     /* "METHOD path" and the start of the body sent: for failure messages */
} tc_resp_t;

/* Any request. headers: NULL-terminated array of "Name: value" (may be NULL).
 * body NULL sends none. Content-Type is whatever headers say (none by default). */
tc_resp_t *tc_req(const char *method, const char *path, const char *body,
                  const char *const *headers);
/* The same against another server: base is "http://host:port" (NULL: the stack). */
tc_resp_t *tc_req_at(const char *base, const char *method, const char *path, const char *body,
                     const char *const *headers);

/* Access tokens. Every request without an Authorization header of its own
 * carries the token of the user it acts for (the path's /users/{id}, the
 * order's owner for /orders/{id}, the body's userId for POST /orders and
 * /coupons/{id}/issue), so tests written before authentication keep working;
 * tc_auto_token(0) turns that off. */
void tc_auto_token(int on);
/* The cached ES256 token of uid (valid for an hour), signed with the test key. */
const char *tc_token(int64_t uid);
/* Claims of a token for uid that expires exp_in seconds from now (may be
 * negative), with the test stack's issuer and audience: malloc'd JSON. */
char *tc_claims(int64_t uid, int64_t exp_in);
/* A private test key from COMMERCE_TEST_AUTH_DIR ("ec.pem", "rsa.pem"), malloc'd. */
char *tc_key_pem(const char *name);

/* Catalog reads (the product list, the popular list, a coupon) may be served
 * by the stack's replica, a moment behind: before each, the client waits (5 s
 * at most) for the replica to apply what the primary has, so that a test reads
 * its own writes. tc_replica_sync_reads(0) turns that off (a test of the
 * replica's own behaviour). */
void tc_replica_sync_reads(int on);

/* The local address requests of this process are sent from (a loopback one such as
 * "127.0.0.2" reaches the stack as another client address); NULL: the default. */
void tc_source_address(const char *ip);

/* JSON conveniences: Content-Type: application/json is added. */
tc_resp_t *tc_get(const char *path);
tc_resp_t *tc_post(const char *path, const char *json);
tc_resp_t *tc_post_key(const char *path, const char *json, const char *idem_key);
tc_resp_t *tc_admin(const char *method, const char *path, const char *json);
/* printf-style path */
tc_resp_t *tc_getf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void tc_free(tc_resp_t *r);

/* An order's answer (POST /orders, a checkout): 201 with this total and the
 * user's balance after it; it is freed. */
void tc_assert_paid(tc_resp_t *r, int64_t total, int64_t balance, const char *file, int line);
#define assert_paid(r, total, balance) tc_assert_paid((r), (total), (balance), __FILE__, __LINE__)

/* The response is a replay: Idempotent-Replayed: true. */
int tc_replayed(const tc_resp_t *r);
/* POST body to path with the Idempotency-Key: the answer must be `status`,
 * a replay or not as `replay` says; it is freed. */
void tc_assert_keyed(const char *path, const char *body, const char *key, long status, int replay,
                     const char *file, int line);
#define assert_keyed(path, body, key, status, replay)                                              \
    tc_assert_keyed((path), (body), (key), (status), (replay), __FILE__, __LINE__)

/* Value of a response header (case-insensitive name), copied into buf; NULL when absent. */
const char *tc_header(const tc_resp_t *r, const char *name, char *buf, size_t cap);

/* Members of the JSON body (aborts the test when missing or of another type). */
int64_t tc_int(const tc_resp_t *r, const char *key);
const char *tc_str(const tc_resp_t *r, const char *key);
int tc_is_null(const tc_resp_t *r, const char *key);

/* Members of any JSON object, with the same failure rule. */
json_object *tc_jget(json_object *o, const char *key);
int64_t tc_jint(json_object *o, const char *key);
const char *tc_jstr(json_object *o, const char *key);
/* The object has exactly these members (NULL-terminated list). */
void tc_assert_keys(json_object *o, const char *const *keys);
/* RFC 3339, UTC, milliseconds, as the API writes times: 2026-11-21T10:00:00.123Z */
void tc_assert_time(const char *s);
/* "2026-11-21T10:00:00.123Z" -> "2026-11-21 10:00:00.123" for SQL; out holds 24 bytes. */
void tc_sql_time(const char *rfc, char *out);

/* The body is, byte for byte, the text json-c writes for the document it holds, as the
 * service writes every JSON answer (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE:
 * no spaces, json-c's escapes, "/" as it is); else the test fails at the caller's file:line. */
void tc_assert_json_c_text(const tc_resp_t *r, const char *file, int line);
#define assert_json_c_text(r) tc_assert_json_c_text((r), __FILE__, __LINE__)

/* The body is, byte for byte, the page of orders {"items":[…],"next":…} whose item i is
 * the body GET /orders/{ids[i]} answers (with the order's owner's token), next null when 0;
 * else the test fails at the caller's file:line. */
void tc_assert_orders_page(const tc_resp_t *r, const int64_t *ids, int n, int64_t next,
                           const char *file, int line);
#define assert_orders_page(r, ids, n, next)                                                        \
    tc_assert_orders_page((r), (ids), (n), (next), __FILE__, __LINE__)

/* Assert status, problem+json content type and `code`. */
void tc_assert_problem(const tc_resp_t *r, long status, const char *code, const char *file,
                       int line);
#define assert_problem(r, status, code) tc_assert_problem((r), (status), (code), __FILE__, __LINE__)
/* The same for a response not needed any further: it is freed. */
void tc_assert_refused(tc_resp_t *r, long status, const char *code, const char *file, int line);
#define assert_refused(r, status, code) tc_assert_refused((r), (status), (code), __FILE__, __LINE__)
/* 400 INVALID_REQUEST whose `field` member names `field` (NULL: any field);
 * the response is freed. */
void tc_assert_invalid(tc_resp_t *r, const char *field, const char *file, int line);
#define assert_invalid(r, field) tc_assert_invalid((r), (field), __FILE__, __LINE__)

/* The stacks' database administrator: the account of the user who runs the
 * stack (root when root does), which MariaDB authenticates by the unix
 * socket's peer (unix_socket): no password, and only over the socket. */
const char *tc_db_admin(void);

/* Single integer from SQL (printf-style). Aborts on error or no row. */
int64_t tc_sql_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a statement with no result. */
void tc_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A secret of the stack (DIR/secrets/NAME, e.g. "fcgi-db-password"), one line, into out. */
void tc_secret(const char *name, char *out, size_t cap);
/* SQL on another server (the replica, the pair's other server) by its socket, as the
 * administrator, in the test's database: the first column of the first row as an
 * integer (-1 for NULL, no row, or a statement without a result), or as text ("" for
 * those) into out. The test fails when the server cannot be reached or refuses it. */
int64_t tc_sql_int_at(const char *socket, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tc_sql_text_at(const char *socket, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The response must have this status, else the test fails at the caller's
 * file:line, printing the request, the status and the body. tc_expect_statusf
 * adds a printf-style note for what the request does not show (a header it
 * sent, a case's index). Safe in a tc_parallel child. */
void tc_expect_status_at(const tc_resp_t *r, long status, const char *file, int line,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define tc_expect_status(r, status) tc_expect_status_at((r), (status), __FILE__, __LINE__, "%s", "")
#define tc_expect_statusf(r, status, ...)                                                          \
    tc_expect_status_at((r), (status), __FILE__, __LINE__, __VA_ARGS__)
/* The same for a response not needed any further: it is freed. */
void tc_assert_answers(tc_resp_t *r, long status, const char *file, int line);
#define assert_answers(r, status) tc_assert_answers((r), (status), __FILE__, __LINE__)

/* A reading of every row a refused request must not change, taken before it
 * and compared after it: the counts of users, point, product, inventory,
 * point_history, orders (and cancelled ones), order_item, payment, outbox,
 * idempotency_key, cart_item, coupon, user_coupon (and used ones, and the sum
 * of their order ids), the sums of balances, stock and issued quantities;
 * and, for uid (0: none), its balance and cart lines; for each of the n
 * products in pids, its stock and uid's cart quantity of it. */
#define TC_SNAP_PRODUCTS 4
#define TC_SNAP_TABLES 19
typedef struct tc_snapshot {
    int64_t uid;
    int n;
    int64_t pids[TC_SNAP_PRODUCTS];
    int64_t tables[TC_SNAP_TABLES];
    int64_t balance, cart_lines;
    int64_t stock[TC_SNAP_PRODUCTS], cart_qty[TC_SNAP_PRODUCTS];
} tc_snapshot_t;

tc_snapshot_t tc_snapshot(int64_t uid, int n, const int64_t *pids);
/* Reads again what `before` read; fails at the caller's file:line listing
 * every reading that changed (before -> after). */
void tc_snapshot_equal_at(const tc_snapshot_t *before, const char *file, int line);
#define tc_snapshot_equal(before) tc_snapshot_equal_at((before), __FILE__, __LINE__)

/* Readings straight from the database. */
int64_t tc_stock(int64_t pid);              /* Stock of a product, read from inventory. */
int64_t tc_balance(int64_t uid);            /* Balance of a user, read from point. */
int64_t tc_orders_of(int64_t uid);          /* Number of orders of a user. */
int64_t tc_history_of(int64_t uid);         /* Number of point_history rows of a user. */
int64_t tc_last_balance_after(int64_t uid); /* balance_after of the user's latest history row. */

/* Waiting for an observable condition, never a sleep standing in for it:
 * TC_WAIT_UNTIL_MS polls cond every TC_POLL_MS and fails the test after ms
 * milliseconds, saying what it waited for (printf-style arguments). */
#define TC_POLL_MS 50
int64_t tc_mono_ms(void);
void tc_nap(int ms);
void tc_wait_gave_up(const char *file, int line, int ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
#define TC_WAIT_UNTIL_MS(ms, cond, ...)                                                            \
    do {                                                                                           \
        int64_t tc_deadline_ = tc_mono_ms() + (ms);                                                \
        while (!(cond)) {                                                                          \
            if (tc_mono_ms() > tc_deadline_)                                                       \
                tc_wait_gave_up(__FILE__, __LINE__, (ms), __VA_ARGS__);                            \
            tc_nap(TC_POLL_MS);                                                                    \
        }                                                                                          \
    } while (0)

/* Whether the workers' log (STATE_DIR/log/worker.log) has a line containing s. */
int tc_worker_log_has(const char *s);

/* Run `scripts/stack STATE_DIR cmd` on the test's own stack (db-stop,
 * workers-restart, relay-start, …); its exit status, 0 when it worked. */
int tc_stack(const char *cmd);
/* The same, its output (stdout and stderr) into out (cap bytes, NUL-terminated;
 * also copied to stderr for the test's log); its exit status. */
int tc_stack_out(const char *cmd, char *out, size_t cap);

/* Set replication_policy (availability or durability) in the workers' and the
 * relay's configuration files (the stack writes the key only when
 * STACK_REPLICATION_POLICY chose one); 0 when it worked. */
int tc_write_policy(const char *policy);
/* Wait until /readyz answers 200 (30 s at most); 0 when it did. */
int tc_wait_ready(void);
/* tc_write_policy, then restart the workers (both pools) and the relay and
 * wait until they are ready; 0 when it worked. */
int tc_set_policy(const char *policy);
/* Signal the test stack's replica mariadbd: SIGSTOP (connected, but
 * acknowledging nothing) or SIGCONT; fails the test when it cannot. */
void tc_replica_signal(int sig);

/* The fake data platform the stack's relay delivers to (scripts/fake-platform.py),
 * through its control API at the host of COMMERCE_TEST_PLATFORM_URL: a request that
 * must answer 200 with JSON (the document, which the caller puts); its mode ("ok",
 * "fail", "hang"); an integer member of GET /_state. tc_platform_base: its
 * http://host:port. */
const char *tc_platform_base(void);
json_object *tc_platform(const char *method, const char *path, const char *body);
void tc_platform_mode(const char *mode);
int64_t tc_platform_state(const char *key);

/* The response must be 201 (else the test fails, showing the body): the
 * integer member `key` of its body. Frees r. */
int64_t tc_created_id(tc_resp_t *r, const char *key);

/* Fixtures made through the admin API. */
int64_t tc_new_user(void);
int64_t tc_new_product(int64_t price, int64_t stock);
/* A product whose name has what the escaping of a JSON string treats but the API takes:
 * a quote, a backslash, "/", "<", UTF-8 of two, three and four bytes. TC_ODD_NAME_JSON is
 * the name as a JSON string holds it, without its quotes: how the request writes it, and
 * how every answer does (json-c's escapes, "/" as it is). */
#define TC_ODD_NAME_JSON                                                                           \
    "Caf\xc3\xa9 \\\"A/B\\\" \\\\ </p> \xec\xa0\x9c\xec\xa3\xbc \xf0\x9f\x8d\x8a"
int64_t tc_new_odd_product(int64_t price, int64_t stock);
/* Append control characters (\x01 \b \t \n \f \r \x1f and DEL) to the names of an order's
 * lines, in SQL: the API refuses them in a name, but a document escapes whatever the rows
 * hold. TC_ODD_CONTROLS_JSON is how a JSON string writes them. */
#define TC_ODD_CONTROLS_JSON "\\u0001\\b\\t\\n\\f\\r\\u001f\x7f"
void tc_odd_line_names(int64_t order_id);
void tc_charge(int64_t user_id, int64_t amount);
/* Adds amount to a balance straight in SQL (past what a charge may add, to
 * reach the balance limit), with the CHARGE history row that keeps the books:
 * every balance is the sum of its history (scripts/check-restore checks it). */
void tc_grant(int64_t user_id, int64_t amount);
/* A coupon valid for 7 days (type FIXED or PERCENT); its id. */
int64_t tc_new_coupon(const char *type, int64_t value, int64_t total);
/* POST /coupons/{cid}/issue for uid; the response (safe in a tc_parallel child). */
tc_resp_t *tc_issue(int64_t cid, int64_t uid);

/* In a child, only tc_req-style calls are safe: a failure there exits 255
 * instead of unwinding into cmocka. Run fn(i, arg) in n child processes that start together (they
 * block on a pipe until all are forked). Each child's return value (0..255) is stored in
 * results[i]. Returns 0 when every child exited normally. */
int tc_parallel(int n, int (*fn)(int i, void *arg), void *arg, int *results);

/* A load under a disruption (test_pool, test_scale): TC_LOAD_USERS users
 * ordering one product (price 1), run by tc_parallel children 1..TC_LOAD_USERS
 * until child 0, which disrupts the stack, says it is done. */
#define TC_LOAD_USERS 6
typedef struct tc_load {
    int64_t uids[TC_LOAD_USERS], pid, stock;
    char done[512]; /* the flag file child 0 makes when it is done */
} tc_load_t;
/* The product with `stock`, the users with `charge` points each, and the flag
 * `name` under the stack's run dir (cleared). */
void tc_load_begin(tc_load_t *l, const char *name, int64_t stock, int64_t charge);
/* Child 0: done, the loaders stop. Whether the loaders are to go on. */
void tc_load_finish(const tc_load_t *l);
int tc_load_going(const tc_load_t *l);
/* The POST /orders body of child i (1..TC_LOAD_USERS): one of the product. */
void tc_load_order(const tc_load_t *l, int i, char *body, size_t cap);
/* Afterwards, the books hold: each balance is its history, the stock its
 * orders. The flag is removed. */
void tc_load_books(const tc_load_t *l);

/* Encode an HTTP status as a child exit code and back (200..599 -> 0..255). */
int tc_status_code(long status);
long tc_code_status(int code);

#endif
