#include "api/app.h"

#include <inttypes.h>
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

int page_begin(req_t *r, page_t *pg, const char *cursor, int64_t dflt)
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
    if ((rc = query_cursor(r, cursor, dflt, &pg->cursor)) != C_OK ||
        (rc = query_limit(r, &pg->limit)) != C_OK)
        return rc;
    pg->items = json_object_new_array();
    return C_OK;
}

void page_restart(page_t *pg)
{
    json_object_put(pg->items);
    pg->items = json_object_new_array();
    pg->count = pg->last_id = 0;
}

bool page_skip(page_t *pg) { return pg->count++ >= pg->limit; }

void page_push(page_t *pg, json_object *item, int64_t id)
{
    json_object_array_add(pg->items, item);
    pg->last_id = id;
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
    json_object *o = json_object_new_object();
    page_finish(pg, o, "items");
    return resp_json(r, 200, o);
}

int no_user(req_t *r, int64_t id) { return problem_user_not_found(r, id); }
