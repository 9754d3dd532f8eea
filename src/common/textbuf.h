/* Text built into a caller's buffer with no allocation and no printf: the
 * hot path's one formatting path (a response's head, the JSON documents an
 * order writes, the pages that hold them). Appends past the end are dropped
 * and remembered in `full`; the text stays NUL-terminated. Pure, so unit
 * tested directly. */
#ifndef COMMERCE_TEXTBUF_H
#define COMMERCE_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p;    /* the buffer (cap bytes, cap >= 1) */
    size_t len; /* the text's length, without the NUL */
    size_t cap;
    bool full; /* something did not fit: the text is cut */
} tb_t;

/* Start an empty text in buf (cap >= 1 bytes). */
void tb_init(tb_t *b, char *buf, size_t cap);

/* Start an empty text in a new malloc'd buffer of cap (>= 1) bytes; false
 * when out of memory. tb_take hands it over. */
bool tb_alloc(tb_t *b, size_t cap);

/* Room for n more bytes in a text of tb_alloc, its buffer grown (doubled at
 * least) when they would not fit: for a text whose length is not bounded in
 * advance (a page of orders). false, the text kept and marked full, when out
 * of memory. */
bool tb_reserve(tb_t *b, size_t n);

/* The malloc'd text of tb_alloc, the caller's to free, with its length in
 * *len; NULL (and freed) when something did not fit or it was never made. */
char *tb_take(tb_t *b, size_t *len);

/* Append n bytes. */
void tb_put(tb_t *b, const char *s, size_t n);

/* Append a NUL-terminated string. */
void tb_str(tb_t *b, const char *s);

/* Append an integer in decimal. */
void tb_i64(tb_t *b, int64_t v);

/* Append s as a JSON string: quoted, with the escapes json-c writes under
 * JSON_C_TO_STRING_NOSLASHESCAPE (\" \\ \b \f \n \r \t, other control
 * characters as \u00XX; everything else, UTF-8 included, as it is), so that
 * a document built here is byte for byte the one json-c would write. */
void tb_json_str(tb_t *b, const char *s);

/* An object's member name: "name": after a comma unless the text ends with
 * '{' or '[' (the first member). The three after it append the value too:
 * an integer; an id, null when 0; a string, null when NULL. */
void tb_key(tb_t *b, const char *name);
void tb_key_i64(tb_t *b, const char *name, int64_t v);
void tb_key_id(tb_t *b, const char *name, int64_t v);
void tb_key_str(tb_t *b, const char *name, const char *v);

#endif
