#include "rawdb_tx.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "common/util.h"
#include "core/order.h"
#include "store/db.h"
#include "store/orders.h"

static const char *const mode_names[] = {"proc", "proc-plain", "batch", "batch-exec", "prepared"};
#define NMODES ((int)(sizeof(mode_names) / sizeof(mode_names[0])))

/* The event's document: a fixed one of the usual size (the service stores the order's own). */
static const char payload[] =
    "{\"orderId\":0,\"userId\":0,\"status\":\"PAID\",\"items\":[{\"productId\":1,\"name\":"
    "\"Product 1\",\"quantity\":1,\"unitPrice\":1000,\"amount\":1000}],\"subtotal\":1000,"
    "\"discount\":0,\"total\":1000,\"couponId\":null,\"balance\":0,\"createdAt\":"
    "\"2026-11-21T10:00:00.000Z\",\"cancelledAt\":null}";

/* The statements commerce_order_facts and commerce_order_write run for such
 * an order (sql/migrations/0004-order-procedures-durability.sql), with their
 * parameters as placeholders; the procedures' SELECT ... INTO and the
 * constants they add to the product's row are the client's to keep. */
enum { S_POINT, S_SEQ, S_PRODUCT, S_ORDER, S_ITEM, S_BALANCE, S_HISTORY, S_OUTBOX, S_STOCK, NSTMT };
static const char *const stmt_sql[NSTMT] = {
    "SELECT balance, SYSDATE(3) FROM point WHERE user_id = ? FOR UPDATE",
    "SELECT NEXTVAL(orders_id_seq)",
    "SELECT p.id, p.price, i.stock, p.name FROM product p JOIN inventory i"
    " ON i.product_id = p.id WHERE p.id = ?",
    "INSERT INTO orders (id, user_id, status, payment_status, subtotal, discount, total,"
    " coupon_id, balance_after, created_at) VALUES (?, ?, 'PAID', 'PAID', ?, ?, ?, ?, ?, ?)",
    "INSERT INTO order_item (order_id, line_no, product_id, name, quantity, unit_price, amount)"
    " VALUES (?, 1, ?, ?, ?, ?, ?)",
    "UPDATE point SET balance = ?, updated_at = ? WHERE user_id = ?",
    "INSERT INTO point_history (user_id, type, amount, balance_after, order_id, created_at)"
    " VALUES (?, 'USE', ?, ?, ?, ?)",
    "INSERT INTO outbox (event_id, type, order_id, payload, occurred_at, next_attempt_at)"
    " VALUES (?, 'ORDER_PAID', ?, ?, ?, ?)",
    "UPDATE inventory SET stock = stock - ?, updated_at = ? WHERE product_id = ?",
};

/* One statement of a round trip with its parameters. */
struct call {
    int stmt;
    int n;
    db_param_t p[8];
};

/* The order as read by the first round trip and decided (batch, batch-exec, prepared). */
struct decided {
    int64_t user, product, id, balance, price, stock;
    bool user_found, product_found;
    char at[UTIL_TIME_LEN]; /* the database's clock, read with the point row: a DATETIME(3) */
    char name[PRODUCT_NAME_CHARS * 4 + 1];
    char event[37];
    order_verdict_t v;
};

struct rawdb_tx {
    int mode;
    const config_t *cfg;
    db_t *db;  /* proc, proc-plain, prepared: the service's connection (store/db.h) */
    MYSQL *my; /* batch, batch-exec: one with CLIENT_MULTI_STATEMENTS */
    bool said; /* a failure was printed (once per client) */
    struct order_place p;
    order_t order;
    struct decided d;
    char text[16384]; /* a round trip's text */
};

int rawdb_mode_of(const char *name)
{
    for (int i = 0; i < NMODES; i++)
        if (strcmp(name, mode_names[i]) == 0)
            return i;
    return -1;
}

const char *rawdb_mode_name(int mode)
{
    return mode >= 0 && mode < NMODES ? mode_names[mode] : "?";
}

/* proc: the worker's transaction without the HTTP and JSON around it (the
 * same two round trips and store code). */
static int proc_tx(db_t *db, void *arg)
{
    rawdb_tx_t *t = arg;
    int rc = orders_place(db, &t->p);

    return rc == C_OK ? orders_write(db, &t->p, payload, sizeof(payload) - 1, NULL, 0) : rc;
}

/* proc-plain's write: commerce_order_write with the line as plain parameters
 * (bench_order_write_plain), and what orders_write does about the commit. */
static int plain_write(db_t *db, rawdb_tx_t *t)
{
    static const char sql[] = "CALL bench_order_write_plain(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                              " ?, ?, ?, ?, ?, ?)";
    struct order_place *p = &t->p;
    const order_t *o = &t->order;
    const order_line_t *l = &o->lines[0];
    db_param_t params[19] = {DB_I64(o->id),
                             DB_I64(o->user_id),
                             DB_I64(o->subtotal),
                             DB_I64(o->discount),
                             DB_I64(o->total),
                             DB_ID(o->coupon_id),
                             DB_I64(o->balance),
                             DB_STR(p->at.sql),
                             DB_I64(l->product_id),
                             DB_STR(l->name),
                             DB_I64(l->quantity),
                             DB_I64(l->unit_price),
                             DB_I64(l->amount),
                             DB_STR(p->event_id),
                             DB_BYTES(payload, sizeof(payload) - 1),
                             DB_STR(NULL),
                             DB_STR(NULL),
                             DB_STR(NULL),
                             DB_ID(0)};
    int rc;

    util_uuid(p->event_id);
    db_tx_committing(db, true);
    rc = db_exec_params(db, sql, NULL, NULL, params, 19);
    if (rc == C_OK) {
        db_tx_committed(db);
        return C_OK;
    }
    if (rc != C_DOWN)
        db_tx_committing(db, false);
    return rc == C_SHORT ? DB_REFUSED : rc;
}

/* proc-plain: the same facts, then the write without JSON. */
static int proc_plain_tx(db_t *db, void *arg)
{
    rawdb_tx_t *t = arg;
    int rc = orders_place(db, &t->p);

    return rc == C_OK ? plain_write(db, t) : rc;
}

/* The service's rules on what the first round trip read: C_OK, or DB_REFUSED. */
static int decide(struct decided *d)
{
    order_req_line_t line = {d->product, 1};
    int64_t price = d->product_found ? d->price : -1, stock = d->product_found ? d->stock : -1;
    order_facts_t f = {.n = 1,
                       .lines = &line,
                       .prices = &price,
                       .stock = &stock,
                       .user_found = d->user_found,
                       .balance = d->balance,
                       .coupon = ORDER_COUPON_NONE};

    order_decide(&f, &d->v);
    return d->v.outcome == ORDER_OK && d->id > 0 ? C_OK : DB_REFUSED;
}

/* The writes of a decided order, in the procedure's order: c[0..n). */
static int write_calls(struct decided *d, struct call *c)
{
    const order_verdict_t *v = &d->v;
    int n = 0;

    util_uuid(d->event);
    c[n++] =
        (struct call){S_ORDER,
                      8,
                      {DB_I64(d->id), DB_I64(d->user), DB_I64(v->subtotal), DB_I64(v->discount),
                       DB_I64(v->total), DB_ID(0), DB_I64(v->balance_after), DB_STR(d->at)}};
    c[n++] = (struct call){S_ITEM,
                           6,
                           {DB_I64(d->id), DB_I64(d->product), DB_STR(d->name), DB_I64(1),
                            DB_I64(d->price), DB_I64(v->amounts[0])}};
    if (v->total > 0) {
        c[n++] =
            (struct call){S_BALANCE, 3, {DB_I64(v->balance_after), DB_STR(d->at), DB_I64(d->user)}};
        c[n++] = (struct call){S_HISTORY,
                               5,
                               {DB_I64(d->user), DB_I64(v->total), DB_I64(v->balance_after),
                                DB_I64(d->id), DB_STR(d->at)}};
    }
    c[n++] = (struct call){S_OUTBOX,
                           5,
                           {DB_STR(d->event), DB_I64(d->id), DB_BYTES(payload, sizeof(payload) - 1),
                            DB_STR(d->at), DB_STR(d->at)}};
    c[n++] = (struct call){S_STOCK, 3, {DB_I64(1), DB_STR(d->at), DB_I64(d->product)}};
    return n;
}

/* prepared: the same statements, one round trip each (db_tx sends START
 * TRANSACTION before the first and COMMIT after the last). */
static int prepared_tx(db_t *db, void *arg)
{
    rawdb_tx_t *t = arg;
    struct decided *d = &t->d;
    db_param_t user = DB_I64(d->user), product = DB_I64(d->product);
    struct call c[6];
    db_stmt_t *st;
    db_time_t at;
    int64_t pid;
    uint64_t stocked = 0;
    int rc, n;

    if ((rc = db_query_params(db, &st, stmt_sql[S_POINT], &user, 1)) != C_OK)
        return rc;
    rc = db_row(st, "lT", &d->balance, &at);
    db_end(st);
    if (rc < 0)
        return rc;
    if ((d->user_found = rc == DB_ROW))
        memcpy(d->at, at.sql, sizeof(d->at));
    if ((rc = db_query_i64(db, &d->id, NULL, stmt_sql[S_SEQ], "")) != C_OK ||
        (rc = db_query_params(db, &st, stmt_sql[S_PRODUCT], &product, 1)) != C_OK)
        return rc;
    rc = db_row(st, "llls", &pid, &d->price, &d->stock, d->name, sizeof(d->name));
    db_end(st);
    if (rc < 0)
        return rc;
    d->product_found = rc == DB_ROW;
    if ((rc = decide(d)) != C_OK)
        return rc;
    n = write_calls(d, c);
    for (int i = 0; i < n && rc == C_OK; i++)
        rc = db_exec_params(db, stmt_sql[c[i].stmt], &stocked, NULL, c[i].p, c[i].n);
    /* the last one is the stock: no row, no such product (the procedure signals 45025) */
    return rc == C_OK && stocked == 0 ? DB_REFUSED : rc;
}

/* What an error means for an order, as an rc.h code: a conflict to run
 * again, the inventory's CHECK (stock >= 0), any client-side error (the
 * connection is not to be used again), else C_ERR. */
static int my_kind(unsigned err)
{
    if (err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT)
        return C_RETRY;
    if (err == ER_CONSTRAINT_FAILED)
        return C_SHORT;
    return err >= CR_MIN_ERROR && err <= CR_MAX_ERROR ? C_DOWN : C_ERR;
}

/* The failure of the last statement on t->my, said once per client; a lost
 * connection is closed (the next order opens another). */
static int my_fail(rawdb_tx_t *t, const char *what)
{
    int rc = my_kind(mysql_errno(t->my));

    if (!t->said && rc != C_RETRY && rc != C_SHORT)
        fprintf(stderr, "bench_rawdb %s: %s: %u: %s\n", rawdb_mode_name(t->mode), what,
                mysql_errno(t->my), mysql_error(t->my));
    t->said = t->said || (rc != C_RETRY && rc != C_SHORT);
    if (rc == C_DOWN) {
        mysql_close(t->my);
        t->my = NULL;
    }
    return rc;
}

/* Send a text of one or more statements in one round trip and read every
 * result: the result sets in sets[0..nsets) (the caller frees them; any more
 * are dropped), and *affected the rows the statement numbered `which`
 * changed (when affected is not NULL). */
static int run_text(rawdb_tx_t *t, size_t len, MYSQL_RES **sets, int nsets, int which,
                    uint64_t *affected)
{
    int status = mysql_real_query(t->my, t->text, (unsigned long)len), k = 0;

    for (int i = 0; status == 0; i++) {
        MYSQL_RES *res = mysql_store_result(t->my);
        if (res && k < nsets)
            sets[k++] = res;
        else if (res)
            mysql_free_result(res);
        else if (mysql_field_count(t->my) != 0)
            break;
        else if (affected && i == which)
            *affected = mysql_affected_rows(t->my);
        status = mysql_next_result(t->my);
        if (status == -1)
            return C_OK;
    }
    return my_fail(t, "statement");
}

/* One parameter as an SQL literal at t->text + *o: a number, NULL, or a
 * quoted and escaped string. Non-zero when it does not fit. */
static int put_literal(rawdb_tx_t *t, size_t *o, const db_param_t *p)
{
    size_t cap = sizeof(t->text) - *o, len;

    if ((p->type == 'l' || p->type == 'n') && !(p->type == 'n' && p->i == 0)) {
        len = (size_t)snprintf(t->text + *o, cap, "%lld", (long long)p->i);
    } else if (p->type == 'n' || !p->s) {
        len = (size_t)snprintf(t->text + *o, cap, "NULL");
    } else {
        size_t n = p->type == 'b' ? p->len : strlen(p->s);
        if (2 * n + 3 > cap)
            return -1;
        t->text[*o] = '\'';
        len = 1 + mysql_real_escape_string(t->my, t->text + *o + 1, p->s, (unsigned long)n);
        t->text[*o + len++] = '\'';
        t->text[*o + len] = '\0';
    }
    if (len >= cap)
        return -1;
    *o += len;
    return 0;
}

/* Append raw text at t->text + *o. Non-zero when it does not fit. */
static int put(rawdb_tx_t *t, size_t *o, const char *s)
{
    size_t len = strlen(s);

    if (len >= sizeof(t->text) - *o)
        return -1;
    memcpy(t->text + *o, s, len + 1);
    *o += len;
    return 0;
}

/* Append one statement and "; " for the text modes: batch, the statement
 * with its literals in place of the placeholders; batch-exec, EXECUTE of the
 * statement PREPAREd at connect, USING the literals. */
static int put_call(rawdb_tx_t *t, size_t *o, const struct call *c)
{
    const char *s = stmt_sql[c->stmt];
    char name[32];
    int i = 0;

    if (t->mode == RAWDB_BATCH_EXEC) {
        snprintf(name, sizeof(name), "EXECUTE rawdb_s%d", c->stmt);
        if (put(t, o, name))
            return -1;
        for (i = 0; i < c->n; i++)
            if (put(t, o, i ? ", " : " USING ") || put_literal(t, o, &c->p[i]))
                return -1;
        return put(t, o, "; ");
    }
    for (;;) {
        size_t run = strcspn(s, "?");
        if (run >= sizeof(t->text) - *o)
            return -1;
        memcpy(t->text + *o, s, run);
        *o += run;
        t->text[*o] = '\0';
        s += run;
        if (!*s)
            break;
        if (i == c->n || put_literal(t, o, &c->p[i++]))
            return -1;
        s++;
    }
    return i == c->n ? put(t, o, "; ") : -1;
}

/* A text mode's connection: the session the service's has (store/db.c
 * db_ensure), and for batch-exec its statements PREPAREd. C_OK or C_DOWN. */
static int text_connect(rawdb_tx_t *t)
{
    const config_t *c = t->cfg;
    unsigned timeout = 2, rw_timeout = 30;
    size_t o = 0;
    int rc;

    if (t->my)
        return C_OK;
    if (!(t->my = mysql_init(NULL)))
        return C_DOWN;
    mysql_options(t->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(t->my, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_options(t->my, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    mysql_options(t->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(t->my, c->db_socket[0] ? NULL : c->db_host, c->db_user, c->db_password,
                            c->db_name, (unsigned)c->db_port, c->db_socket[0] ? c->db_socket : NULL,
                            CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS)) {
        fprintf(stderr, "bench_rawdb: cannot connect: %s\n", mysql_error(t->my));
        mysql_close(t->my);
        t->my = NULL;
        return C_DOWN;
    }
    snprintf(t->text, sizeof(t->text),
             "SET time_zone = '+00:00'; SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;"
             " SET SESSION innodb_lock_wait_timeout = %lld; ",
             (long long)c->db_lock_wait_timeout_s);
    o = strlen(t->text);
    for (int i = 0; t->mode == RAWDB_BATCH_EXEC && i < NSTMT; i++) {
        char head[40];
        db_param_t text = DB_STR(stmt_sql[i]);
        snprintf(head, sizeof(head), "PREPARE rawdb_s%d FROM ", i);
        if (put(t, &o, head) || put_literal(t, &o, &text) || put(t, &o, "; "))
            return C_ERR;
    }
    if ((rc = run_text(t, o - 2, NULL, 0, -1, NULL)) != C_OK && t->my) { /* without the last "; " */
        mysql_close(t->my);
        t->my = NULL;
    }
    return rc == C_OK ? C_OK : C_DOWN;
}

/* The first row of a result set, or NULL. */
static MYSQL_ROW first_row(MYSQL_RES *res) { return res ? mysql_fetch_row(res) : NULL; }

/* The facts of a batch's first round trip, from its three result sets. */
static void text_facts(struct decided *d, MYSQL_RES **sets)
{
    MYSQL_ROW r;

    d->user_found = d->product_found = false;
    d->id = 0;
    if ((r = first_row(sets[0])) && r[0] && r[1]) {
        d->user_found = true;
        d->balance = strtoll(r[0], NULL, 10);
        snprintf(d->at, sizeof(d->at), "%s", r[1]);
    }
    if ((r = first_row(sets[1])) && r[0])
        d->id = strtoll(r[0], NULL, 10);
    if ((r = first_row(sets[2])) && r[1] && r[2] && r[3]) {
        d->product_found = true;
        d->price = strtoll(r[1], NULL, 10);
        d->stock = strtoll(r[2], NULL, 10);
        snprintf(d->name, sizeof(d->name), "%s", r[3]);
    }
}

/* batch, batch-exec: two round trips; the transaction rolled back after a
 * failure (a multi-statement text stops at the first statement that fails,
 * so the COMMIT at its end runs only when every write did). */
static int text_order(rawdb_tx_t *t)
{
    struct decided *d = &t->d;
    MYSQL_RES *sets[3] = {NULL, NULL, NULL};
    struct call c[6] = {{S_POINT, 1, {DB_I64(d->user)}},
                        {S_SEQ, 0, {DB_I64(0)}},
                        {S_PRODUCT, 1, {DB_I64(d->product)}}};
    uint64_t stocked = 1;
    size_t o = 0;
    int rc, n;

    if ((rc = text_connect(t)) != C_OK)
        return rc;
    if (put(t, &o, "START TRANSACTION; ") || put_call(t, &o, &c[0]) || put_call(t, &o, &c[1]) ||
        put_call(t, &o, &c[2]))
        return C_ERR;
    rc = run_text(t, o - 2, sets, 3, -1, NULL); /* without the last "; " */
    if (rc == C_OK) {
        text_facts(d, sets);
        rc = decide(d);
    }
    for (int i = 0; i < 3; i++)
        mysql_free_result(sets[i]);
    if (rc == C_OK) {
        n = write_calls(d, c);
        o = 0;
        for (int i = 0; i < n && rc == C_OK; i++)
            rc = put_call(t, &o, &c[i]) ? C_ERR : C_OK;
        if (rc == C_OK && put(t, &o, "COMMIT"))
            rc = C_ERR;
        if (rc == C_OK)
            rc = run_text(t, o, NULL, 0, n - 1, &stocked);
        /* committed already: not expected (the product was there; none is ever deleted) */
        if (rc == C_OK && stocked == 0)
            rc = C_ERR;
    }
    if (rc != C_OK && t->my && mysql_query(t->my, "ROLLBACK") != 0)
        my_fail(t, "ROLLBACK");
    return rc == C_SHORT ? DB_REFUSED : rc;
}

rawdb_tx_t *rawdb_tx_open(const config_t *cfg, int mode)
{
    rawdb_tx_t *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->mode = mode;
    t->cfg = cfg;
    if (mode == RAWDB_BATCH || mode == RAWDB_BATCH_EXEC) {
        if (text_connect(t) == C_OK)
            return t;
    } else if ((t->db = db_new(cfg)) && db_ensure(t->db) == C_OK) {
        return t;
    }
    rawdb_tx_close(t);
    return NULL;
}

int rawdb_tx_order(rawdb_tx_t *t, int64_t user, int64_t product)
{
    switch (t->mode) {
    case RAWDB_PROC:
    case RAWDB_PROC_PLAIN:
        memset(&t->p, 0, sizeof(t->p));
        t->p.user_id = user;
        t->p.n = 1;
        t->p.lines[0] = (order_req_line_t){product, 1};
        t->p.order = &t->order;
        return db_tx(t->db, t->mode == RAWDB_PROC ? proc_tx : proc_plain_tx, t);
    case RAWDB_PREPARED:
        t->d.user = user;
        t->d.product = product;
        return db_tx(t->db, prepared_tx, t);
    default:
        t->d.user = user;
        t->d.product = product;
        return text_order(t);
    }
}

void rawdb_tx_close(rawdb_tx_t *t)
{
    if (!t)
        return;
    db_free(t->db);
    if (t->my)
        mysql_close(t->my);
    free(t);
}
