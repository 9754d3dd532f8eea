/* Strict JSON input for request bodies, on top of json-c.
 *
 * Everything here is pure (no I/O), so it is unit tested directly. */
#ifndef COMMERCE_JSONX_H
#define COMMERCE_JSONX_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Outcome of reading one field. */
enum jx {
    JX_OK = 0,
    JX_ABSENT, /* key not present (or JSON null where allowed) */
    JX_TYPE,   /* present but of the wrong type (e.g. "100", 1.5, true, null, {}) */
    JX_RANGE,  /* right type, outside the allowed bounds (incl. past 2^63) */
};

/* Parse a request body that must be exactly one JSON object: strict syntax,
 * valid UTF-8, nesting at most `max_depth`, nothing but whitespace after it.
 * On success C_OK and *out (caller owns it, json_object_put).
 * On failure C_ERR, a short reason for people in `why` and in *at the
 * byte offset (from 0) where the body went wrong, or JSONX_NO_OFFSET when the
 * fault is the whole document's (empty, duplicate names). */
#define JSONX_NO_OFFSET ((size_t)-1)
int jsonx_parse_object(const char *buf, size_t len, int max_depth, json_object **out,
                       const char **why, size_t *at);

/* An integer field in [min, max]. Only JSON integers count: 1.0, 1e3, "1",
 * true and null are JX_TYPE. */
enum jx jsonx_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out);

/* An integer value (not a field) in [min, max]. */
enum jx jsonx_int_value(json_object *v, int64_t min, int64_t max, int64_t *out);

/* A string field of 1..max_chars Unicode characters (after trimming nothing),
 * without control characters or NUL. *out points into obj. */
enum jx jsonx_str(json_object *obj, const char *key, size_t max_chars, const char **out);

/* Human words for a jx outcome, for the problem detail. */
const char *jsonx_describe(enum jx e);

#endif
