#include "migrate/sqlsplit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/rc.h"

enum state { CODE, QUOTE, LINE_COMMENT, BLOCK_COMMENT };

/* Whether a "--" at p starts a comment: MariaDB wants a space or a control
 * character (or the end) after it. */
static bool dash_comment(const char *p, const char *end)
{
    return p + 1 < end && p[0] == '-' && p[1] == '-' &&
           (p + 2 == end || isspace((unsigned char)p[2]) || iscntrl((unsigned char)p[2]));
}

/* A line "DELIMITER X" at p (the start of a line, blanks skipped): the new
 * delimiter's span in *d, *dlen, and the end of the line in *next. */
static bool delimiter_line(const char *p, const char *end, const char **d, size_t *dlen,
                           const char **next)
{
    static const char kw[] = "delimiter";
    size_t k = sizeof(kw) - 1;

    if ((size_t)(end - p) <= k || strncasecmp(p, kw, k) != 0 || (p[k] != ' ' && p[k] != '\t'))
        return false;
    p += k;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    *d = p;
    while (p < end && !isspace((unsigned char)*p))
        p++;
    *dlen = (size_t)(p - *d);
    while (p < end && *p != '\n')
        p++;
    *next = p < end ? p + 1 : p;
    return true;
}

static int add(sql_stmt_t **out, size_t *n, size_t *cap, const char *text, size_t len, int line)
{
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        sql_stmt_t *grown = realloc(*out, c * sizeof(**out));
        if (!grown)
            return C_ERR;
        *out = grown;
        *cap = c;
    }
    (*out)[(*n)++] = (sql_stmt_t){text, len, line};
    return C_OK;
}

int sql_split(const char *text, size_t len, sql_stmt_t **out, size_t *n, char *err, size_t cap)
{
    const char *p = text, *end = text + len, *start = text, *delim = ";";
    size_t dlen = 1, have = 0;
    enum state st = CODE;
    char quote = 0;
    bool code = false, line_start = true;
    int line = 1, code_line = 0, open_line = 0;

    *out = NULL;
    *n = 0;
    while (p < end) {
        if (st == CODE && line_start) {
            const char *q = p, *d, *next;
            size_t l;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (delimiter_line(q, end, &d, &l, &next)) {
                if (code) {
                    snprintf(err, cap, "line %d: DELIMITER inside a statement (begun on line %d)",
                             line, code_line);
                    goto fail;
                }
                if (l == 0 || l > 16 || memchr(d, '\\', l)) {
                    snprintf(err, cap, "line %d: DELIMITER needs a delimiter (1 to 16 characters)",
                             line);
                    goto fail;
                }
                delim = d;
                dlen = l;
                line++;
                p = start = next;
                continue;
            }
        }
        line_start = false;
        char c = *p;
        switch (st) {
        case CODE:
            if (c == '\n') {
                line++;
                line_start = true;
                p++;
            } else if ((size_t)(end - p) >= dlen && memcmp(p, delim, dlen) == 0) {
                if (code && add(out, n, &have, start, (size_t)(p - start), code_line) != C_OK) {
                    snprintf(err, cap, "out of memory");
                    goto fail;
                }
                code = false;
                p += dlen;
                start = p;
            } else if (c == '#' || dash_comment(p, end)) {
                st = LINE_COMMENT;
                p++;
            } else if (c == '/' && p + 1 < end && p[1] == '*') {
                open_line = line;
                if (p + 2 < end && p[2] == '!' && !code) { /* an executable comment is code */
                    code = true;
                    code_line = line;
                    start = p;
                }
                st = BLOCK_COMMENT;
                p += 2;
            } else {
                if (!isspace((unsigned char)c) && !code) {
                    code = true;
                    code_line = line;
                    start = p; /* the comments before the code are not part of it */
                }
                if (c == '\'' || c == '"' || c == '`') {
                    st = QUOTE;
                    quote = c;
                    open_line = line;
                }
                p++;
            }
            break;
        case QUOTE:
            if (c == '\n')
                line++;
            if (c == '\\' && quote != '`' && p + 1 < end) {
                if (p[1] == '\n')
                    line++;
                p += 2;
            } else if (c == quote) {
                if (p + 1 < end && p[1] == quote)
                    p += 2;
                else {
                    st = CODE;
                    p++;
                }
            } else
                p++;
            break;
        case LINE_COMMENT:
            if (c == '\n')
                st = CODE; /* the newline itself is CODE's: a DELIMITER line may follow */
            else
                p++;
            break;
        case BLOCK_COMMENT:
            if (c == '\n')
                line++;
            if (c == '*' && p + 1 < end && p[1] == '/') {
                st = CODE;
                p += 2;
            } else
                p++;
            break;
        }
    }
    if (st == QUOTE || st == BLOCK_COMMENT) {
        snprintf(err, cap, "line %d: %s not closed by the end of the file", open_line,
                 st == QUOTE ? "a quoted string or name" : "a comment");
        goto fail;
    }
    if (code && add(out, n, &have, start, (size_t)(end - start), code_line) != C_OK) {
        snprintf(err, cap, "out of memory");
        goto fail;
    }
    return C_OK;
fail:
    free(*out);
    *out = NULL;
    *n = 0;
    return C_ERR;
}

/* The skeleton's writer: keeps one byte for the NUL. */
struct sk {
    char *buf;
    size_t cap, len;
};

static void sk_put(struct sk *s, char c)
{
    if (s->len + 1 < s->cap)
        s->buf[s->len++] = c;
}

/* Code character c: upper case; white space collapsed, none at the start,
 * none before ',', ')' and '=' and none after '(', ',' and '='. */
static void sk_code(struct sk *s, char c, bool *space)
{
    if (isspace((unsigned char)c)) {
        *space = true;
        return;
    }
    if (*space && s->len > 0 && !strchr(",)=", c) && !strchr("(,=", s->buf[s->len - 1]))
        sk_put(s, ' ');
    *space = false;
    sk_put(s, (char)toupper((unsigned char)c));
}

void sql_skeleton(const char *text, size_t len, char *buf, size_t cap)
{
    struct sk s = {buf, cap, 0};
    const char *p = text, *end = text + len;
    bool space = false;

    if (cap == 0)
        return;
    while (p < end) {
        char c = *p;
        if (c == '\'' || c == '"' || c == '`') {
            char q = c == '`' ? '`' : '\''; /* "text" is a string too: '' */
            sk_code(&s, q, &space);
            p++;
            while (p < end) {
                if (*p == '\\' && c != '`' && p + 1 < end)
                    p += 2;
                else if (*p == c && p + 1 < end && p[1] == c)
                    p += 2;
                else if (*p++ == c)
                    break;
            }
            sk_put(&s, q);
        } else if (c == '#' || dash_comment(p, end)) {
            while (p < end && *p != '\n')
                p++;
            space = true;
        } else if (c == '/' && p + 1 < end && p[1] == '*') {
            if (p + 2 < end && p[2] == '!') { /* executable: its content is code */
                p += 3;
                while (p < end && isdigit((unsigned char)*p))
                    p++;
                space = true;
                continue;
            }
            p += 2;
            while (p + 1 < end && !(p[0] == '*' && p[1] == '/'))
                p++;
            p = p + 1 < end ? p + 2 : end;
            space = true;
        } else if (c == '*' && p + 1 < end && p[1] == '/') {
            p += 2; /* the end of an executable comment */
            space = true;
        } else {
            sk_code(&s, c, &space);
            p++;
        }
    }
    s.buf[s.len] = '\0';
}

/* Whether the words w (upper case, one space between them) start at s[i]
 * on a word boundary. */
static bool words_at(const char *s, size_t i, const char *w)
{
    size_t l = strlen(w);
    if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))
        return false;
    if (strncmp(s + i, w, l) != 0)
        return false;
    return !(isalnum((unsigned char)s[i + l]) || s[i + l] == '_');
}

/* Whether the clause s[from..to) holds the words w. */
static bool clause_has(const char *s, size_t from, size_t to, const char *w)
{
    for (size_t i = from; i < to; i++)
        if (words_at(s, i, w))
            return true;
    return false;
}

int sql_online_ok(const char *text, size_t len, char *err, size_t cap)
{
    static const char *const ddl[] = {
        "ALTER TABLE",           "ALTER ONLINE TABLE",   "ALTER IGNORE TABLE",
        "CREATE INDEX",          "CREATE UNIQUE INDEX",  "CREATE OR REPLACE INDEX",
        "CREATE FULLTEXT INDEX", "CREATE SPATIAL INDEX", "DROP INDEX"};
    static const char *const offline[] = {"LOCK TABLE", "LOCK TABLES", "OPTIMIZE TABLE",
                                          "TRUNCATE TABLE", "FLUSH TABLES"};
    size_t sz = len + 1;
    char *s = calloc(1, sz); /* zeroed: sql_skeleton writes at most len bytes and a NUL */

    if (!s) {
        snprintf(err, cap, "out of memory");
        return C_ERR;
    }
    sql_skeleton(text, len, s, sz);
    int rc = C_OK;
    for (size_t i = 0; s[i] && rc == C_OK; i++) {
        /* TRUNCATE t (TABLE is optional), not the function TRUNCATE(x, d) */
        bool start = i == 0 || s[i - 1] == ';' || (i >= 2 && s[i - 1] == ' ' && s[i - 2] == ';');
        bool truncate = start && words_at(s, i, "TRUNCATE") && s[i + 8] == ' ';
        for (size_t k = 0; k < sizeof(offline) / sizeof(*offline); k++)
            if (words_at(s, i, offline[k]) || (truncate && k == 3)) {
                snprintf(err, cap, "%s takes the table away from the orders", offline[k]);
                rc = C_ERR;
                break;
            }
        for (size_t k = 0; rc == C_OK && k < sizeof(ddl) / sizeof(*ddl); k++) {
            if (!words_at(s, i, ddl[k]))
                continue;
            size_t to = i;
            while (s[to] && s[to] != ';')
                to++;
            bool instant = clause_has(s, i, to, "ALGORITHM=INSTANT");
            bool inplace = clause_has(s, i, to, "ALGORITHM=INPLACE") ||
                           clause_has(s, i, to, "ALGORITHM=NOCOPY");
            if (!instant && !(inplace && clause_has(s, i, to, "LOCK=NONE"))) {
                snprintf(err, cap,
                         "%s without ALGORITHM=INSTANT, or ALGORITHM=INPLACE with LOCK=NONE: "
                         "MariaDB could lock the table while orders wait",
                         ddl[k]);
                rc = C_ERR;
            }
        }
    }
    free(s);
    return rc;
}
