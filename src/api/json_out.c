#include "api/app.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "store/users.h"

void jput_i(json_object *o, const char *key, int64_t v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
}

void jput_s(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

void jput_id(json_object *o, const char *key, int64_t v)
{
    json_object_object_add(o, key, v ? json_object_new_int64(v) : NULL);
}

/* A text page: its head, the room it starts with (20 small orders), and the
 * most its end takes: ],"next": with 20 digits and }. */
#define PAGE_TEXT_HEAD "{\"items\":["
#define PAGE_TEXT_CAP 16384
#define PAGE_TEXT_TAIL_MAX 32

/* The query's cursor and limit into pg, which holds no items yet. */
static int page_open(req_t *r, page_t *pg, const char *cursor, int64_t dflt)
{
    int asc = strcmp(cursor, "after") == 0;
    const char *other = asc ? "before" : "after";
    size_t len;
    int rc;

    *pg = (page_t){0};
    /* The other direction's cursor would be ignored, and the client would page
     * from the start without knowing: refused instead (API.md). */
    if (query_find(r->query, other, &len))
        return invalid(r, other,
                       "'%s' is not a cursor of this list, which is %s: page it with '%s'", other,
                       asc ? "in ascending order" : "newest first", cursor);
    if ((rc = query_cursor(r, cursor, dflt, &pg->cursor)) != C_OK)
        return rc;
    return query_limit(r, &pg->limit);
}

int page_begin(req_t *r, page_t *pg, const char *cursor, int64_t dflt)
{
    int rc = page_open(r, pg, cursor, dflt);

    if (rc == C_OK)
        pg->items = json_object_new_array();
    return rc;
}

int page_begin_text(req_t *r, page_t *pg, const char *cursor, int64_t dflt)
{
    int rc = page_open(r, pg, cursor, dflt);

    if (rc != C_OK)
        return rc;
    if (!tb_alloc(&pg->text, PAGE_TEXT_CAP))
        return C_ERR;
    tb_str(&pg->text, PAGE_TEXT_HEAD);
    return C_OK;
}

void page_restart(page_t *pg)
{
    if (pg->text.p) {
        tb_init(&pg->text, pg->text.p, pg->text.cap);
        tb_str(&pg->text, PAGE_TEXT_HEAD);
    } else {
        json_object_put(pg->items);
        pg->items = json_object_new_array();
    }
    pg->count = pg->last_id = 0;
}

bool page_skip(page_t *pg) { return pg->count++ >= pg->limit; }

void page_push(page_t *pg, json_object *item, int64_t id)
{
    json_object_array_add(pg->items, item);
    pg->last_id = id;
}

tb_t *page_push_text(page_t *pg, int64_t id)
{
    if (pg->text.len > strlen(PAGE_TEXT_HEAD) && tb_reserve(&pg->text, 1))
        tb_put(&pg->text, ",", 1);
    pg->last_id = id;
    return &pg->text;
}

void page_finish(page_t *pg, json_object *o, const char *member)
{
    json_object_object_add(o, member, pg->items);
    jput_id(o, "next", pg->count > pg->limit ? pg->last_id : 0);
    pg->items = NULL;
}

void page_abort(page_t *pg)
{
    json_object_put(pg->items);
    pg->items = NULL;
    free(pg->text.p);
    pg->text = (tb_t){0};
}

int page_reply_text(req_t *r, page_t *pg, int64_t resume)
{
    if (tb_reserve(&pg->text, PAGE_TEXT_TAIL_MAX)) {
        tb_put(&pg->text, "]", 1);
        tb_key_id(&pg->text, "next", pg->count > pg->limit ? pg->last_id : resume);
        tb_put(&pg->text, "}", 1);
    }
    return resp_json_text(r, 200, &pg->text);
}

int page_reply_for_user(req_t *r, page_t *pg, int rc, int64_t uid)
{
    int found = 1;

    if (rc == C_OK && pg->count == 0) /* an empty page: perhaps no such user */
        rc = users_exists(db_of(r), uid, &found);
    if (rc != C_OK || !found) {
        page_abort(pg);
        return rc != C_OK ? rc : no_user(r, uid);
    }
    if (pg->text.p)
        return page_reply_text(r, pg, 0);
    json_object *o = json_object_new_object();
    page_finish(pg, o, "items");
    return resp_json(r, 200, o);
}

int no_user(req_t *r, int64_t id) { return problem_user_not_found(r, id); }
