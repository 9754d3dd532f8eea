#include "api/ops.h"

#include "api/app.h"
#include "common/rc.h"

int ops_livez_h(req_t *r)
{
    json_object *o = json_object_new_object();
    jput_s(o, "status", "ok");
    return resp_json(r, 200, o);
}

int ops_readyz_h(req_t *r)
{
    int rc = db_ping(db_of(r));
    if (rc != C_OK)
        return C_DOWN;
    json_object *o = json_object_new_object();
    jput_s(o, "status", "ok");
    jput_s(o, "database", "ok");
    return resp_json(r, 200, o);
}
