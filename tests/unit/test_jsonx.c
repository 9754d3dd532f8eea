/* Strict JSON input: jsonx_parse_object, jsonx_int, jsonx_str; and JSON output
 * without json-c (common/textbuf.h), checked against what json-c writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/jsonx.h"
#include "common/rc.h"
#include "common/textbuf.h"

#define DEPTH 16

/* Parse with the production depth; returns the object or NULL (and the reason). */
static json_object *parse_n(const char *buf, size_t len, const char **why)
{
    json_object *o = (json_object *)1;
    const char *w = NULL;
    size_t at = 0;
    int rc = jsonx_parse_object(buf, len, DEPTH, &o, &w, &at);

    if (rc == 0) {
        assert_non_null(o);
        assert_true(json_object_is_type(o, json_type_object));
    } else {
        assert_int_equal(rc, C_ERR);
        assert_null(o); /* *out is cleared on failure */
        assert_non_null(w);
        assert_true(strlen(w) > 0);
    }
    if (why)
        *why = w;
    return rc == 0 ? o : NULL;
}

static json_object *parse(const char *s, const char **why) { return parse_n(s, strlen(s), why); }

/* Must be refused. */
static void refuse(const char *s, const char *why_expected)
{
    const char *why = NULL;
    json_object *o = parse(s, &why);

    if (o)
        fprintf(stderr, "accepted: [%s]\n", s);
    assert_null(o);
    if (why_expected)
        assert_string_equal(why, why_expected);
}

/* Must be accepted; returns the object (caller puts it). */
static json_object *accept(const char *s)
{
    const char *why = NULL;
    json_object *o = parse(s, &why);

    if (!o)
        fprintf(stderr, "refused: [%s]: %s\n", s, why);
    assert_non_null(o);
    return o;
}

/* ---- jsonx_parse_object --------------------------------------------------- */

static void parse_empty_and_blank(void **state)
{
    refuse("", "the request body is empty");
    refuse(" ", NULL);
    refuse("   \t\r\n  ", NULL);
}

static void parse_not_an_object(void **state)
{
    refuse("[]", "the request body must be a JSON object");
    refuse("[1,2]", "the request body must be a JSON object");
    refuse("\"s\"", "the request body must be a JSON object");
    static const char *const scalars[] = {"1", "1 ", "-5.5 ", "true", "null", "null ", " 5"};
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
        refuse(scalars[i], "the request body must be a JSON object");
}

static void parse_trailing_data(void **state)
{
    refuse("{} x", NULL);
    refuse("{}{}", NULL);
    refuse("{\"a\":1}}", NULL);
    refuse("{\"a\":1} 1", NULL);
    refuse("{}\x0b", NULL); /* vertical tab is not JSON whitespace */

    /* a NUL after the object counts as data */
    const char with_nul[] = "{}\0";
    assert_null(parse_n(with_nul, 3, NULL));
}

static void parse_trailing_whitespace_ok(void **state)
{
    json_object_put(accept("{}"));
    json_object_put(accept("{} "));
    json_object_put(accept("{}\n"));
    json_object_put(accept("  {\"a\":1} \t\r\n "));
    json_object *o = accept("\n{\"a\" : [1, 2, {\"b\": null}] }\r\n");
    assert_int_equal(json_object_object_length(o), 1);
    json_object_put(o);
}

/* A repeated member name is ambiguous (which one counts differs between
 * parsers): refused at any depth, however the name is spelled. */
static void parse_duplicate_names(void **state)
{
    static const char dup[] = "a JSON object names the same member twice";
    refuse("{\"amount\":1,\"amount\":1000000}", dup);
    refuse("{\"a\":1,\"b\":2,\"a\":1}", dup);
    refuse("{\"a\":{\"x\":1},\"a\":{\"x\":1}}", dup);
    refuse("{\"items\":[{\"productId\":1,\"productId\":2}]}", dup);
    refuse("{\"o\":{\"p\":{\"q\":1,\"q\" : 2}}}", dup);
    refuse("{\"a\":1,\"\\u0061\":2}", dup); /* "\u0061" is "a" */
    refuse("{\"\":1,\"\":2}", dup);

    /* json-c cuts a member name at an escaped NUL: such names are refused,
     * whether they would collide or pass as another field */
    static const char nul[] = "a JSON member name contains \\u0000";
    refuse("{\"amount\\u0000x\":100}", nul);
    refuse("{\"a\\u0000b\":1,\"a\\u0000c\":2}", nul);
    refuse("{\"o\":{\"\\u0000\":1}}", nul);
    /* as a value it reaches the field checks, which refuse control characters */
    json_object_put(accept("{\"name\":\"a\\u0000b\"}"));

    /* the same name in different objects, or as a value, is fine */
    json_object *o = accept("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}],\"c\":\"a\"}");
    assert_int_equal(json_object_object_length(o), 3);
    json_object_put(o);
    o = accept("{\"k\":\":\", \"v\" : [\"x\" , \"y\"], \"w\":{}}");
    assert_int_equal(json_object_object_length(o), 3);
    json_object_put(o);
}

static void parse_strict_syntax(void **state)
{
    refuse("{'a':1}", NULL);
    refuse("{a:1}", NULL);
    refuse("{\"a\":1,}", NULL);
    refuse("{\"a\":[1,]}", NULL);
    refuse("{\"a\":01}", NULL);
    refuse("{\"a\":NaN}", NULL);
    refuse("{\"a\":Infinity}", NULL);
    refuse("{\"a\":.5}", NULL);
    refuse("{\"a\":1}/*c*/", NULL);
    refuse("{\"a\":-Infinity}", NULL);
    refuse("{\"a\":1,\"b\":NaN}", NULL);
    refuse("{\"a\":nan}", NULL);
    refuse("{\"a\":True}", NULL);
    refuse("{\"a\":\"x\ty\"}", NULL); /* raw control characters in a string */
    refuse("{\"a\":\"x\ny\"}", NULL);
    refuse("{\"a\":\"\x01\"}", NULL);
    refuse("{\"a\x1f\":1}", NULL);
    refuse("{\"a\":'x'}", NULL);
    refuse("{\"a\":1,'b':2}", NULL);
}

/* Numbers exactly as RFC 8259 writes them; json-c alone takes the rest. */
static void parse_number_grammar(void **state)
{
    static const char *const bad[] = {"1.",  "-.5", "00",   "-01", "1.e5", "1e",   "1e+",
                                      "-",   "+1",  "0x10", ".5",  "1.5.", "1ee2", "--1",
                                      "1-2", "0.",  "-0.",  "1E",  "01.5", "-00"};
    static const char *const good[] = {"0",
                                       "-0",
                                       "1",
                                       "-1",
                                       "10",
                                       "1.5",
                                       "-0.5",
                                       "1e5",
                                       "1E+5",
                                       "1e-5",
                                       "0e0",
                                       "0.0",
                                       "1.25e3",
                                       "-9223372036854775808",
                                       "123456789012345678901234567890"};
    char doc[160];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(doc, sizeof(doc), "{\"x\":%s,\"a\":1}", bad[i]);
        refuse(doc, "the request body is not valid JSON");
        snprintf(doc, sizeof(doc), "{\"x\":[%s]}", bad[i]);
        refuse(doc, "the request body is not valid JSON");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(doc, sizeof(doc), "{\"x\":%s,\"y\":[%s, %s]}", good[i], good[i], good[i]);
        json_object_put(accept(doc));
    }
}

/* Escapes: only those RFC 8259 has; surrogates only as a high + low pair. */
static void parse_escapes(void **state)
{
    static const char *const bad[] = {
        "\\x41",   "\\'",      "\\a",        "\\u12",          "\\u12G4",        "\\ud800",
        "\\udc00", "\\ud800x", "\\ud800\\n", "\\ud800\\u0041", "\\udbff\\udbff", "\\U0041"};
    char doc[64];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(doc, sizeof(doc), "{\"s\":\"a%sb\"}", bad[i]);
        refuse(doc, "the request body is not valid JSON");
    }
    json_object *o =
        accept("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00\\uD83D\\uDE00\"}");
    assert_string_equal(json_object_get_string(json_object_object_get(o, "s")),
                        "\"\\/\b\f\n\r\tA\xc3\xa9\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
    json_object_put(o);
}

/* {"a": followed by `arrays` '[' ... ']' then '}': arrays + 1 levels. */
static char *nested(int arrays)
{
    char *b = malloc((size_t)arrays * 2 + 16);
    size_t n = 0;

    assert_non_null(b);
    n += (size_t)sprintf(b, "{\"a\":");
    for (int i = 0; i < arrays; i++)
        b[n++] = '[';
    for (int i = 0; i < arrays; i++)
        b[n++] = ']';
    b[n++] = '}';
    b[n] = '\0';
    return b;
}

static void parse_depth_limit(void **state)
{
    char *ok = nested(DEPTH - 1); /* 16 levels */
    char *bad = nested(DEPTH);    /* 17 levels */
    char *huge = nested(10000);

    json_object_put(accept(ok));
    refuse(bad, "the JSON document is nested too deeply");
    refuse(huge, "the JSON document is nested too deeply");
    free(ok);
    free(bad);
    free(huge);

    /* nested objects count the same way; the depth counts containers only,
     * so 16 of them hold a scalar as well as an empty one */
    char buf[512];
    for (int depth = DEPTH; depth <= DEPTH + 1; depth++) {
        for (int scalar = 0; scalar <= 1; scalar++) {
            size_t n = 0;
            for (int i = 0; i < depth; i++)
                n += (size_t)sprintf(buf + n, i + 1 < depth || scalar ? "{\"k\":" : "{");
            if (scalar)
                n += (size_t)sprintf(buf + n, "1");
            for (int i = 0; i < depth; i++)
                buf[n++] = '}';
            buf[n] = '\0';
            if (depth == DEPTH)
                json_object_put(accept(buf));
            else
                refuse(buf, "the JSON document is nested too deeply");
        }
    }
    /* 15 arrays in the object, with a number innermost: 16 containers */
    char *arr = nested(DEPTH - 1);
    char *one = malloc(strlen(arr) + 2);
    size_t k = strlen("{\"a\":") + DEPTH - 1;
    sprintf(one, "%.*s1%s", (int)k, arr, arr + k);
    json_object_put(accept(one));
    free(one);
    free(arr);
}

static void parse_invalid_utf8(void **state)
{
    static const char *bad[] = {
        "{\"a\":\"\xff\"}",
        "{\"a\":\"\xc3\x28\"}",         /* bad continuation byte */
        "{\"a\":\"\xe2\x82\"}",         /* truncated 3-byte sequence */
        "{\"a\":\"\x80\"}",             /* lone continuation byte */
        "{\"\xfe\":1}",                 /* in a key */
        "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
        "{\"a\":\"\xe0\x80\xaf\"}",     /* overlong, 3 bytes */
        "{\"a\":\"\xf0\x80\x80\xaf\"}", /* overlong, 4 bytes */
        "{\"a\":\"\xed\xa0\x80\"}",     /* a UTF-16 surrogate encoded as UTF-8 */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* past U+10FFFF */
        "{\"a\":\"\xf5\x80\x80\x80\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refuse(bad[i], "the request body is not valid UTF-8");

    json_object *o = accept("{\"a\":\"\xea\xb0\x80\xf0\x9f\x98\x80\"}"); /* 가😀 */
    json_object_put(o);
}

static void parse_truncated(void **state)
{
    refuse("{", "the JSON document is incomplete");
    refuse("{\"a\"", "the JSON document is incomplete");
    refuse("{\"a\":", "the JSON document is incomplete");
    refuse("{\"a\":1", "the JSON document is incomplete");
    refuse("{\"a\":\"xy", "the JSON document is incomplete");
    refuse("{\"a\":[1,2", "the JSON document is incomplete");

    /* a length shorter than the buffer cuts the document */
    const char *full = "{\"a\":1}";
    assert_null(parse_n(full, strlen(full) - 1, NULL));
}

/* ---- jsonx_int ------------------------------------------------------------ */

static json_object *ints;

static int ints_setup(void **state)
{
    const char *doc =
        "{\"str\":\"100\",\"frac\":1.5,\"one_dot_zero\":1.0,\"exp\":1e3,\"t\":true,\"f\":false,"
        "\"nul\":null,\"obj\":{},\"arr\":[1],\"zero\":0,\"neg_zero\":-0,\"one\":1,\"ten\":10,"
        "\"eleven\":11,\"minus_one\":-1,"
        "\"i64max\":9223372036854775807,\"past_max\":9223372036854775808,"
        "\"u64max\":18446744073709551615,\"past_u64\":18446744073709551616,"
        "\"huge\":99999999999999999999999,\"past_min\":-9223372036854775809,"
        "\"huge_neg\":-99999999999999999999999}";
    const char *why = NULL;
    size_t at;

    if (jsonx_parse_object(doc, strlen(doc), DEPTH, &ints, &why, &at) != 0) {
        fprintf(stderr, "setup: %s\n", why);
        return -1;
    }
    return 0;
}

static int ints_teardown(void **state)
{
    json_object_put(ints);
    ints = NULL;
    return 0;
}

static void expect_int(const char *key, int64_t min, int64_t max, enum jx want, int64_t want_v)
{
    int64_t v = 12345;
    enum jx got = jsonx_int(ints, key, min, max, &v);

    if (got != want)
        fprintf(stderr, "%s in [%lld, %lld]: got %d, want %d\n", key, (long long)min,
                (long long)max, got, want);
    assert_int_equal(got, want);
    if (want == JX_OK)
        assert_int_equal(v, want_v);
    else
        assert_int_equal(v, 12345); /* untouched */
}

static void int_wrong_types(void **state)
{
    static const char *keys[] = {"str", "frac", "one_dot_zero", "exp", "t",
                                 "f",   "nul",  "obj",          "arr"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        expect_int(keys[i], INT64_MIN, INT64_MAX, JX_TYPE, 0);
}

static void int_absent(void **state)
{
    expect_int("nope", 0, 10, JX_ABSENT, 0);
    expect_int("", 0, 10, JX_ABSENT, 0);
}

static void int_bounds(void **state)
{
    expect_int("one", 1, 10, JX_OK, 1);
    expect_int("ten", 1, 10, JX_OK, 10);
    expect_int("zero", 1, 10, JX_RANGE, 0);
    expect_int("eleven", 1, 10, JX_RANGE, 0);
    expect_int("minus_one", 0, 10, JX_RANGE, 0);
    expect_int("minus_one", -1, 10, JX_OK, -1);
    expect_int("zero", 0, 0, JX_OK, 0);
    expect_int("neg_zero", 0, 10, JX_OK, 0);
    expect_int("neg_zero", 1, 10, JX_RANGE, 0);
}

static void int_64bit_edges(void **state)
{
    expect_int("i64max", 0, INT64_MAX, JX_OK, INT64_MAX);
    expect_int("i64max", 0, INT64_MAX - 1, JX_RANGE, 0);
    expect_int("i64max", 1, 1000000000, JX_RANGE, 0);
    expect_int("past_max", 0, INT64_MAX, JX_RANGE, 0);
    expect_int("past_max", INT64_MIN, INT64_MAX, JX_RANGE, 0);
    expect_int("u64max", INT64_MIN, INT64_MAX, JX_RANGE, 0);
    expect_int("past_u64", INT64_MIN, INT64_MAX, JX_RANGE, 0);
    expect_int("huge", INT64_MIN, INT64_MAX, JX_RANGE, 0);
    expect_int("huge", 0, 10, JX_RANGE, 0);
    expect_int("past_min", 0, INT64_MAX, JX_RANGE, 0);
    expect_int("huge_neg", 0, INT64_MAX, JX_RANGE, 0);
}

/* Past -2^63 must not read as -2^63 even when the bounds allow every int64
 * (jsonx.h: JX_RANGE "incl. past 2^63"). */
static void int_below_int64_min_is_range(void **state)
{
    expect_int("past_min", INT64_MIN, INT64_MAX, JX_RANGE, 0);
    expect_int("huge_neg", INT64_MIN, INT64_MAX, JX_RANGE, 0);
}

static void int_value_direct(void **state)
{
    int64_t v = 0;
    json_object *n = json_object_new_int64(-42);
    json_object *d = json_object_new_double(2.0);
    json_object *s = json_object_new_string("5");

    assert_int_equal(jsonx_int_value(n, -100, 100, &v), JX_OK);
    assert_int_equal(v, -42);
    assert_int_equal(jsonx_int_value(n, 0, 100, &v), JX_RANGE);
    assert_int_equal(jsonx_int_value(d, 0, 100, &v), JX_TYPE);
    assert_int_equal(jsonx_int_value(s, 0, 100, &v), JX_TYPE);
    assert_int_equal(jsonx_int_value(NULL, 0, 100, &v), JX_TYPE);
    json_object_put(n);
    json_object_put(d);
    json_object_put(s);
}

/* ---- jsonx_str ------------------------------------------------------------ */

static enum jx str_of(const char *doc, const char *key, size_t max_chars, const char **out)
{
    json_object *o = accept(doc);
    const char *s = NULL;
    enum jx e = jsonx_str(o, key, max_chars, &s);

    if (e == JX_OK) {
        assert_non_null(s);
        if (out)
            *out = strdup(s);
    } else {
        assert_null(s); /* untouched */
        if (out)
            *out = NULL;
    }
    json_object_put(o);
    return e;
}

static void str_empty_and_blank(void **state)
{
    assert_int_equal(str_of("{\"n\":\"\"}", "n", 10, NULL), JX_RANGE);
    assert_int_equal(str_of("{\"n\":\" \"}", "n", 10, NULL), JX_RANGE);
    assert_int_equal(str_of("{\"n\":\"     \"}", "n", 10, NULL), JX_RANGE);
    /* blank made of other whitespace: tabs and newlines are control characters */
    assert_int_equal(str_of("{\"n\":\" \\t \"}", "n", 10, NULL), JX_RANGE);
    assert_int_equal(str_of("{\"n\":\"\\n\"}", "n", 10, NULL), JX_RANGE);

    /* surrounding spaces are kept, not trimmed */
    const char *s = NULL;
    assert_int_equal(str_of("{\"n\":\" kim \"}", "n", 10, &s), JX_OK);
    assert_string_equal(s, " kim ");
    free((void *)s);
}

static void str_control_characters(void **state)
{
    static const char *bad[] = {
        "{\"n\":\"a\\u0000b\"}", /* escaped NUL */
        "{\"n\":\"\\u0000\"}",
        "{\"n\":\"a\\tb\"}",
        "{\"n\":\"a\\nb\"}",
        "{\"n\":\"a\\rb\"}",
        "{\"n\":\"a\\u001fb\"}",
        "{\"n\":\"a\\u007fb\"}", /* DEL */
        "{\"n\":\"a\x7f"
        "b\"}",
        "{\"n\":\"\\u001b[31mred\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum jx e = str_of(bad[i], "n", 100, NULL);
        if (e != JX_RANGE)
            fprintf(stderr, "%s -> %d\n", bad[i], e);
        assert_int_equal(e, JX_RANGE);
    }
    /* printable escapes are fine */
    const char *s = NULL;
    assert_int_equal(str_of("{\"n\":\"a\\\"b\\\\c\\/d\\u0041\"}", "n", 100, &s), JX_OK);
    assert_string_equal(s, "a\"b\\c/dA");
    free((void *)s);
}

static void str_counts_characters_not_bytes(void **state)
{
    const char *s = NULL;

    /* 가나다: 3 characters, 9 bytes */
    assert_int_equal(str_of("{\"n\":\"\xea\xb0\x80\xeb\x82\x98\xeb\x8b\xa4\"}", "n", 3, &s), JX_OK);
    assert_string_equal(s, "\xea\xb0\x80\xeb\x82\x98\xeb\x8b\xa4"); /* the 9 bytes */
    free((void *)s);
    /* 가나다라: one over */
    assert_int_equal(
        str_of("{\"n\":\"\xea\xb0\x80\xeb\x82\x98\xeb\x8b\xa4\xeb\x9d\xbc\"}", "n", 3, NULL),
        JX_RANGE);
    /* the same characters sent as \u escapes */
    assert_int_equal(str_of("{\"n\":\"\\uac00\\ub098\\ub2e4\"}", "n", 3, NULL), JX_OK);
    assert_int_equal(str_of("{\"n\":\"\\uac00\\ub098\\ub2e4\\ub77c\"}", "n", 3, NULL), JX_RANGE);
    /* a 4-byte character (emoji, a surrogate pair when escaped) is one */
    assert_int_equal(str_of("{\"n\":\"\xf0\x9f\x98\x80\"}", "n", 1, NULL), JX_OK);
    assert_int_equal(str_of("{\"n\":\"\\ud83d\\ude00\"}", "n", 1, NULL), JX_OK);
    assert_int_equal(str_of("{\"n\":\"\xf0\x9f\x98\x80x\"}", "n", 1, NULL), JX_RANGE);
    /* ASCII: exactly max, one over */
    assert_int_equal(str_of("{\"n\":\"abcde\"}", "n", 5, NULL), JX_OK);
    assert_int_equal(str_of("{\"n\":\"abcdef\"}", "n", 5, NULL), JX_RANGE);
}

static void str_exact_max_200_korean(void **state)
{
    /* 200 Korean characters (600 bytes) fit a 200-character limit; 201 do not */
    char doc[1024];
    size_t n = (size_t)sprintf(doc, "{\"n\":\"");
    for (int i = 0; i < 200; i++) {
        memcpy(doc + n, "\xed\x95\x9c", 3); /* 한 */
        n += 3;
    }
    strcpy(doc + n, "\"}");
    assert_int_equal(str_of(doc, "n", 200, NULL), JX_OK);
    assert_int_equal(str_of(doc, "n", 199, NULL), JX_RANGE);
    memcpy(doc + n, "\xed\x95\x9c\"}", 6);
    assert_int_equal(str_of(doc, "n", 200, NULL), JX_RANGE);
}

static void str_wrong_type_and_absent(void **state)
{
    assert_int_equal(str_of("{\"n\":1}", "n", 10, NULL), JX_TYPE);
    assert_int_equal(str_of("{\"n\":null}", "n", 10, NULL), JX_TYPE);
    assert_int_equal(str_of("{\"n\":true}", "n", 10, NULL), JX_TYPE);
    assert_int_equal(str_of("{\"n\":[\"a\"]}", "n", 10, NULL), JX_TYPE);
    assert_int_equal(str_of("{\"n\":{}}", "n", 10, NULL), JX_TYPE);
    assert_int_equal(str_of("{\"m\":\"a\"}", "n", 10, NULL), JX_ABSENT);
}

static void describe_every_outcome(void **state)
{
    assert_string_equal(jsonx_describe(JX_ABSENT), "is required");
    assert_string_equal(jsonx_describe(JX_TYPE), "has the wrong type");
    assert_string_equal(jsonx_describe(JX_RANGE), "is out of range");
    assert_string_equal(jsonx_describe(JX_OK), "ok");
}

/* A failure names the byte where the body went wrong. */
static size_t fails_at(const char *doc)
{
    json_object *o = NULL;
    const char *why = NULL;
    size_t at = 0;
    assert_int_equal(jsonx_parse_object(doc, strlen(doc), DEPTH, &o, &why, &at), C_ERR);
    assert_null(o);
    return at;
}

static void parse_failure_says_where(void **state)
{
    (void)state;
    assert_int_equal(fails_at("{\"a\":1,}"), 7);       /* json-c stops at the '}' */
    assert_int_equal(fails_at("{\"a\":tru}"), 5);      /* not a word */
    assert_int_equal(fails_at("{\"a\":01}"), 5);       /* a leading zero */
    assert_int_equal(fails_at("{\"a\":\"x\ty\"}"), 7); /* a raw tab inside a string */
    assert_int_equal(fails_at("{\"a\":1} x"), 8);      /* after the document */
    assert_int_equal(fails_at("  [1]"), 2);            /* not an object */
    assert_int_equal(fails_at("{\"a\":\"\xff\"}"), 6); /* not UTF-8 */
    assert_int_equal(fails_at(""), JSONX_NO_OFFSET);   /* empty: no place */
    assert_int_equal(fails_at("{\"a\":1,\"a\":2}"), JSONX_NO_OFFSET); /* a repeated name */
}

/* ---- textbuf: the hot path's text, byte for byte what json-c writes ---- */

static void textbuf_json_str_as_json_c(void **state)
{
    static const char *const cases[] = {
        "",           "plain",        "quote \" and backslash \\", "a/b",
        "\b\f\n\r\t", "\x01\x1f\x7f", "Ol\xc3\xa9 \xea\xb0\x80",   "</script>",
        "tab\tend",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[256];
        tb_t b;
        json_object *o = json_object_new_string(cases[i]);
        const char *want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
        tb_init(&b, buf, sizeof(buf));
        tb_json_str(&b, cases[i]);
        assert_false(b.full);
        assert_string_equal(buf, want);
        assert_int_equal(b.len, strlen(want));
        json_object_put(o);
    }
}

static void textbuf_ints(void **state)
{
    static const int64_t cases[] = {0, 1, -1, 9, 10, 1234567890, INT64_MAX, INT64_MIN};
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        tb_t b;
        json_object *o = json_object_new_int64(cases[i]);
        tb_init(&b, buf, sizeof(buf));
        tb_i64(&b, cases[i]);
        assert_string_equal(buf, json_object_to_json_string(o));
        json_object_put(o);
    }
}

/* What does not fit is cut and said: the text stays terminated within cap. */
static void textbuf_full(void **state)
{
    char buf[8];
    tb_t b;

    (void)state;
    tb_init(&b, buf, sizeof(buf));
    tb_str(&b, "abc");
    tb_i64(&b, 1234);
    assert_false(b.full);
    assert_string_equal(buf, "abc1234");
    tb_str(&b, "x");
    assert_true(b.full);
    assert_string_equal(buf, "abc1234");
    tb_init(&b, buf, sizeof(buf));
    tb_json_str(&b, "\n\n\n\n");
    assert_true(b.full);
    assert_int_equal(b.len, 7);
    assert_int_equal(buf[7], '\0');
}

/* Members as json-c writes an object's, in a buffer tb_alloc made. */
static void textbuf_members_as_json_c(void **state)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    size_t len;
    tb_t b;

    (void)state;
    json_object_object_add(o, "id", json_object_new_int64(7));
    json_object_object_add(o, "none", NULL);
    json_object_object_add(o, "name", json_object_new_string("a \"b\""));
    json_object_object_add(o, "gone", NULL);
    json_object_array_add(a, json_object_new_int64(1));
    json_object_object_add(o, "list", a);
    json_object_object_add(o, "coupon", json_object_new_int64(3));
    assert_true(tb_alloc(&b, 256));
    tb_put(&b, "{", 1);
    tb_key_i64(&b, "id", 7);
    tb_key_id(&b, "none", 0);
    tb_key_str(&b, "name", "a \"b\"");
    tb_key_str(&b, "gone", NULL);
    tb_key(&b, "list");
    tb_str(&b, "[1]");
    tb_key_id(&b, "coupon", 3);
    tb_put(&b, "}", 1);
    char *text = tb_take(&b, &len);
    assert_non_null(text);
    assert_string_equal(text, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    assert_int_equal(len, strlen(text));
    free(text);
    json_object_put(o);
    /* too small: tb_take says so and frees it */
    assert_true(tb_alloc(&b, 4));
    tb_key_i64(&b, "id", 7);
    assert_null(tb_take(&b, &len));
}

/* tb_reserve grows a tb_alloc text to fit what is asked, keeps what it holds,
 * and refuses once the text is cut. */
static void textbuf_reserve_grows(void **state)
{
    size_t len, cap;
    tb_t b;

    (void)state;
    assert_true(tb_alloc(&b, 4));
    tb_str(&b, "abc");
    cap = b.cap;
    assert_true(tb_reserve(&b, 0)); /* room enough: the buffer stays */
    assert_int_equal(b.cap, cap);
    assert_true(tb_reserve(&b, 1)); /* doubled */
    assert_int_equal(b.cap, 2 * cap);
    assert_true(tb_reserve(&b, 1000)); /* more than double: what is asked */
    assert_int_equal(b.cap, 3 + 1000 + 1);
    for (int i = 0; i < 100; i++)
        tb_str(&b, "0123456789");
    assert_false(b.full);
    assert_int_equal(b.len, 1003);
    assert_memory_equal(b.p, "abc0123456789", 13);
    tb_str(&b, "!"); /* past the room reserved: cut */
    assert_true(b.full);
    assert_false(tb_reserve(&b, 1));
    assert_null(tb_take(&b, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_failure_says_where),
        cmocka_unit_test(parse_empty_and_blank),
        cmocka_unit_test(parse_not_an_object),
        cmocka_unit_test(parse_trailing_data),
        cmocka_unit_test(parse_trailing_whitespace_ok),
        cmocka_unit_test(parse_strict_syntax),
        cmocka_unit_test(parse_duplicate_names),
        cmocka_unit_test(parse_number_grammar),
        cmocka_unit_test(parse_escapes),
        cmocka_unit_test(parse_depth_limit),
        cmocka_unit_test(parse_invalid_utf8),
        cmocka_unit_test(parse_truncated),
        cmocka_unit_test_setup_teardown(int_wrong_types, ints_setup, ints_teardown),
        cmocka_unit_test_setup_teardown(int_absent, ints_setup, ints_teardown),
        cmocka_unit_test_setup_teardown(int_bounds, ints_setup, ints_teardown),
        cmocka_unit_test_setup_teardown(int_64bit_edges, ints_setup, ints_teardown),
        cmocka_unit_test_setup_teardown(int_below_int64_min_is_range, ints_setup, ints_teardown),
        cmocka_unit_test(int_value_direct),
        cmocka_unit_test(str_empty_and_blank),
        cmocka_unit_test(str_control_characters),
        cmocka_unit_test(str_counts_characters_not_bytes),
        cmocka_unit_test(str_exact_max_200_korean),
        cmocka_unit_test(str_wrong_type_and_absent),
        cmocka_unit_test(describe_every_outcome),
        cmocka_unit_test(textbuf_json_str_as_json_c),
        cmocka_unit_test(textbuf_ints),
        cmocka_unit_test(textbuf_full),
        cmocka_unit_test(textbuf_members_as_json_c),
        cmocka_unit_test(textbuf_reserve_grows),
    };
    return cmocka_run_group_tests_name("unit/jsonx", tests, NULL, NULL);
}
