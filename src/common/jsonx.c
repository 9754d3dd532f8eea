#include "common/jsonx.h"
#include "common/rc.h"

#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (RFC 3629, Unicode table 3-7:
 * no overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static int hex4(const unsigned char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (n < 4)
        return 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = s[k];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* Length of the escape at s (which starts with the backslash), or 0 when it
 * is not one RFC 8259 allows. A \u escape of a UTF-16 surrogate must be a
 * high one followed by a low one (json-c would turn a lone one into U+FFFD). */
static size_t escape_len(const unsigned char *s, size_t n)
{
    unsigned hi, lo;

    if (n < 2)
        return 0;
    if (s[1] != 'u')
        return s[1] && strchr("\"\\/bfnrt", s[1]) ? 2 : 0;
    if (!hex4(s + 2, n - 2, &hi))
        return 0;
    if (hi < 0xd800 || hi > 0xdfff)
        return 6;
    if (hi > 0xdbff || n < 12 || s[6] != '\\' || s[7] != 'u' || !hex4(s + 8, n - 8, &lo) ||
        lo < 0xdc00 || lo > 0xdfff)
        return 0;
    return 12;
}

static size_t digits(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* Length of the RFC 8259 number at s, or 0:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? not followed by a digit. */
static size_t number_len(const unsigned char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !(s[i] >= '0' && s[i] <= '9'))
        return 0;
    i += s[i] == '0' ? 1 : digits(s + i, n - i);
    if (i < n && s[i] == '.') {
        if ((d = digits(s + i + 1, n - i - 1)) == 0)
            return 0;
        i += 1 + d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((d = digits(s + i, n - i)) == 0)
            return 0;
        i += d;
    }
    return i < n && s[i] >= '0' && s[i] <= '9' ? 0 : i;
}

/* json-c's strict mode still takes things RFC 8259 does not: single-quoted
 * keys ({'a':1}), raw control characters inside strings, NaN / Infinity /
 * -Infinity, numbers such as 1. -.5 00 -01 1.e5, lone surrogate escapes
 * (\ud800 becomes U+FFFD), and malformed UTF-8 (it checks only the byte
 * structure, so overlong forms, surrogates and code points past U+10FFFF
 * pass). One linear pass refuses them before json-c sees the buffer: outside
 * strings only structural characters, whitespace, RFC 8259 numbers and the
 * words true, false and null; inside strings no byte below 0x20, only the
 * escapes RFC 8259 has, and only well-formed UTF-8.
 * It also counts member names (strings followed by ':') into *names, for the
 * duplicate check after parsing, refuses a member name with an escaped NUL
 * (json-c would cut the name there: {"amount\u0000x":1} would read as
 * "amount"), and counts nesting: at most max_depth containers (objects and
 * arrays; the scalars inside the innermost do not count). Returns NULL when
 * the buffer may go to json-c, else the reason. */
/* The reason, with the offset it was found at in *at. */
static const char *fail_at(size_t *at, size_t i, const char *why)
{
    *at = i;
    return why;
}

static const char *strict_prescan(const char *buf, size_t len, int max_depth, size_t *names,
                                  size_t *at)
{
    static const char *const words[] = {"true", "false", "null"};
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    int depth = 0;

    while (i < len) {
        unsigned char c = s[i];
        if (c == '"') {
            int nul = 0;
            for (i++; i < len && s[i] != '"';) {
                size_t n;
                if (s[i] < 0x20)
                    return fail_at(at, i, "the request body is not valid JSON");
                if (s[i] == '\\') {
                    if ((n = escape_len(s + i, len - i)) == 0)
                        return fail_at(at, i, "the request body is not valid JSON");
                    if (n == 6 && memcmp(s + i, "\\u0000", 6) == 0)
                        nul = 1;
                    i += n;
                    continue;
                }
                if ((n = utf8_seq(s + i, len - i)) == 0)
                    return fail_at(at, i, "the request body is not valid UTF-8");
                i += n;
            }
            i++; /* the closing quote (or past the end: json-c reports it) */
            size_t j = i;
            while (j < len && s[j] && strchr(" \t\r\n", s[j]))
                j++;
            if (j < len && s[j] == ':') {
                if (nul)
                    return fail_at(at, i, "a JSON member name contains \\u0000");
                (*names)++;
            }
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return fail_at(at, i, "the JSON document is nested too deeply");
            i++;
        } else if (c == '}' || c == ']') {
            depth--;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t n = number_len(s + i, len - i);
            if (n == 0)
                return fail_at(at, i, "the request body is not valid JSON");
            i += n;
        } else if (c >= 'a' && c <= 'z') {
            size_t w, wl = 0;
            for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
                wl = strlen(words[w]);
                if (len - i >= wl && memcmp(buf + i, words[w], wl) == 0)
                    break;
            }
            if (w == sizeof(words) / sizeof(words[0]))
                return fail_at(at, i, "the request body is not valid JSON");
            i += wl;
        } else if (c && strchr(",: \t\r\n", c)) {
            i++;
        } else {
            return fail_at(at, i,
                           c >= 0x80 && utf8_seq(s + i, len - i) == 0
                               ? "the request body is not valid UTF-8"
                               : "the request body is not valid JSON");
        }
    }
    return NULL;
}

/* Members in every object of the tree. json-c keeps one member per name, so
 * this equals the prescan's count of names exactly when no object repeats a
 * name (a repeated name loses at least its own member, and the value it
 * replaced takes its members along). Depth is bounded by the tokener's. */
static size_t tree_members(json_object *o)
{
    size_t n = 0;

    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, v)
        {
            (void)key;
            n += 1 + tree_members(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t len = json_object_array_length(o);
        for (size_t i = 0; i < len; i++)
            n += tree_members(json_object_array_get_idx(o, i));
    }
    return n;
}

int jsonx_parse_object(const char *buf, size_t len, int max_depth, json_object **out,
                       const char **why, size_t *at)
{
    size_t names = 0;
    json_tokener *tok;
    json_object *obj;
    size_t used;

    *out = NULL;
    *at = JSONX_NO_OFFSET;
    if (len == 0) {
        *why = "the request body is empty";
        return C_ERR;
    }
    if (len > (size_t)INT32_MAX) {
        *why = "the request body is too large";
        return C_ERR;
    }
    if ((*why = strict_prescan(buf, len, max_depth, &names, at)) != NULL)
        return C_ERR;
    size_t first = 0;
    while (first < len &&
           (buf[first] == ' ' || buf[first] == '\t' || buf[first] == '\n' || buf[first] == '\r'))
        first++;
    if (first < len && buf[first] != '{') {
        *at = first;
        *why = "the request body must be a JSON object";
        return C_ERR;
    }
    /* json-c counts a level for the scalars inside the innermost container
     * too; the prescan has bounded the containers already. */
    tok = json_tokener_new_ex(max_depth + 1);
    if (!tok) {
        *why = "out of memory";
        return C_ERR;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    if (err != json_tokener_success || !obj) {
        json_object_put(obj);
        *at = used;
        switch (err) {
        case json_tokener_continue:
            *why = "the JSON document is incomplete";
            break;
        case json_tokener_error_depth:
            *why = "the JSON document is nested too deeply";
            break;
        case json_tokener_error_parse_utf8_string:
            *why = "the request body is not valid UTF-8";
            break;
        default:
            *why = "the request body is not valid JSON";
            break;
        }
        return C_ERR;
    }
    for (size_t i = used; i < len; i++) {
        char c = buf[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            json_object_put(obj);
            *at = i;
            *why = "unexpected data after the JSON document";
            return C_ERR;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        *why = "the request body must be a JSON object";
        return C_ERR;
    }
    if (tree_members(obj) != names) {
        json_object_put(obj);
        *why = "a JSON object names the same member twice";
        return C_ERR;
    }
    *out = obj;
    return C_OK;
}

enum jx jsonx_int_value(json_object *v, int64_t min, int64_t max, int64_t *out)
{
    int64_t x;

    if (!v || !json_object_is_type(v, json_type_int))
        return JX_TYPE;
    x = json_object_get_int64(v);
    /* json-c keeps integers above INT64_MAX as uint64 (saturating past 2^64);
     * get_int64 clamps them to INT64_MAX, so look at the unsigned value too. */
    if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
        return JX_RANGE;
    /* json-c saturates integers below -2^63 to INT64_MIN, so that value is
     * ambiguous: refuse it (no field of the API goes near it). */
    if (x == INT64_MIN || x < min || x > max)
        return JX_RANGE;
    *out = x;
    return JX_OK;
}

enum jx jsonx_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return JX_ABSENT;
    return jsonx_int_value(v, min, max, out);
}

enum jx jsonx_str(json_object *obj, const char *key, size_t max_chars, const char **out)
{
    json_object *v;
    const unsigned char *s;
    size_t len, chars = 0;

    if (!json_object_object_get_ex(obj, key, &v))
        return JX_ABSENT;
    if (!json_object_is_type(v, json_type_string))
        return JX_TYPE;
    s = (const unsigned char *)json_object_get_string(v);
    len = (size_t)json_object_get_string_len(v);
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return JX_RANGE; /* control characters, including an escaped NUL */
        if ((s[i] & 0xc0) != 0x80)
            chars++;
    }
    if (chars == 0 || chars > max_chars)
        return JX_RANGE;
    /* Reject names that are only spaces. */
    size_t i = 0;
    while (i < len && s[i] == ' ')
        i++;
    if (i == len)
        return JX_RANGE;
    *out = (const char *)s;
    return JX_OK;
}

const char *jsonx_describe(enum jx e)
{
    switch (e) {
    case JX_OK:
        return "ok";
    case JX_ABSENT:
        return "is required";
    case JX_TYPE:
        return "has the wrong type";
    case JX_RANGE:
        return "is out of range";
    }
    return "is invalid";
}
