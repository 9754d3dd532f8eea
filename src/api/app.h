/* What every handler reaches through req->app: the configuration and this
 * process's database connection. Nothing else lives in a worker. */
#ifndef COMMERCE_APP_H
#define COMMERCE_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/textbuf.h"
#include "http/auth.h"
#include "http/req.h"
#include "http/router.h"
#include "store/db.h"
#include "store/replicas.h"

typedef struct app {
    config_t cfg;
    db_t *db;             /* the primary */
    replicas_t *replicas; /* catalog reads' replicas, NULL when none */
    auth_t *auth;
} app_t;

static inline app_t *app_of(req_t *r) { return r->app; }
static inline db_t *db_of(req_t *r) { return app_of(r)->db; }

/* Where a catalog read (one that may be a little behind) goes: a fit replica,
 * else the primary. Run `read` on it; when the replica's connection fails
 * during the read, `reset` (may be NULL) undoes what the read built and the
 * read runs again on the primary. Returns read's result. */
int catalog_read(req_t *r, int (*read)(db_t *db, void *arg), void (*reset)(void *arg), void *arg);

/* The route table of the worker. */
const route_t *routes_table(size_t *n);

/* Small json-c builders used by the renderers. */
void jput_i(json_object *o, const char *key, int64_t v);
void jput_s(json_object *o, const char *key, const char *v); /* NULL: JSON null */
void jput_id(json_object *o, const char *key, int64_t v);    /* 0: JSON null */

/* A keyset page: the store is asked for the rows past the cursor, limit + 1
 * of them; the extra one only says that a next page exists, whose cursor is
 * the last shown item's id. Its items are json-c objects (page_begin), or
 * text written straight into the answer (page_begin_text): one or the other. */
typedef struct page {
    json_object *items;
    tb_t text;      /* a text page's answer so far: {"items":[ and its items (p NULL: none) */
    int64_t cursor; /* the query's `cursor` parameter (an id), else its default */
    int64_t limit, count, last_id;
} page_t;

/* Start a page from the query: the positive id `cursor` ("after" or "before";
 * absent: dflt), then ?limit (1..100, default 20). C_OK, or C_REJECT with the
 * 400 naming the parameter; the other cursor given is such a 400 too. */
int page_begin(req_t *r, page_t *pg, const char *cursor, int64_t dflt);

/* The same for a page whose items are written as text (page_push_text): C_ERR
 * when out of memory. */
int page_begin_text(req_t *r, page_t *pg, const char *cursor, int64_t dflt);

/* Empty the page again (a read that failed halfway runs again). */
void page_restart(page_t *pg);

/* For each row: true when it is the look-ahead row (render nothing). */
bool page_skip(page_t *pg);

/* Add a rendered item (ownership passes) whose id is the next cursor. */
void page_push(page_t *pg, json_object *item, int64_t id);

/* Start the next item of a text page, whose id is the next cursor: the text
 * to append the item to, a JSON value (the caller makes room: tb_reserve). */
tb_t *page_push_text(page_t *pg, int64_t id);

/* Move the items into o as `member` ("items" in most lists), and "next"; or,
 * on failure, drop the items. */
void page_finish(page_t *pg, json_object *o, const char *member);
void page_abort(page_t *pg);

/* End the page of a list that belongs to user uid; rc is what the store's
 * listing returned (C_OK or a failure). An empty list of an unknown user is
 * 404 USER_NOT_FOUND.
 * Answers 200 {"items":…,"next":…}, or returns the failure. */
int page_reply_for_user(req_t *r, page_t *pg, int rc, int64_t uid);

/* Answer a text page: 200 {"items":[…],"next":…}, next the last item's id
 * when there is a next page, else `resume` (0: null); C_ERR when its text did
 * not fit in memory. The text is freed either way. */
int page_reply_text(req_t *r, page_t *pg, int64_t resume);

/* 404 USER_NOT_FOUND naming the user. */
int no_user(req_t *r, int64_t id);

#endif
