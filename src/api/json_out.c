#include "api/app.h"

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
