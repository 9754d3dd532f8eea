#include "common/textbuf.h"

#include <stdlib.h>
#include <string.h>

void tb_init(tb_t *b, char *buf, size_t cap)
{
    *b = (tb_t){.p = buf, .len = 0, .cap = cap, .full = false};
    buf[0] = '\0';
}

bool tb_alloc(tb_t *b, size_t cap)
{
    char *p = malloc(cap);

    if (p)
        tb_init(b, p, cap);
    else
        *b = (tb_t){.full = true};
    return p != NULL;
}

bool tb_reserve(tb_t *b, size_t n)
{
    size_t cap = b->cap * 2;
    char *p;

    if (b->full)
        return false;
    if (n <= b->cap - 1 - b->len)
        return true;
    if (cap < b->len + n + 1)
        cap = b->len + n + 1;
    if (!(p = realloc(b->p, cap))) {
        b->full = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

char *tb_take(tb_t *b, size_t *len)
{
    if (b->full) {
        free(b->p);
        return NULL;
    }
    *len = b->len;
    return b->p;
}

void tb_put(tb_t *b, const char *s, size_t n)
{
    if (n > b->cap - 1 - b->len) {
        n = b->cap - 1 - b->len;
        b->full = true;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tb_str(tb_t *b, const char *s) { tb_put(b, s, strlen(s)); }

void tb_i64(tb_t *b, int64_t v)
{
    char d[21];
    size_t i = sizeof(d);
    /* the magnitude as unsigned: INT64_MIN has no positive twin */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        d[--i] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        d[--i] = '-';
    tb_put(b, d + i, sizeof(d) - i);
}

void tb_json_str(tb_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    /* the characters json-c escapes by a letter, and their letters */
    static const char named[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
    const char *plain = s;

    tb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *k = strchr(named, c);
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

        if (!k && c >= 0x20)
            continue;
        tb_put(b, plain, (size_t)(s - plain));
        if (k)
            esc[1] = letter[k - named];
        tb_put(b, esc, k ? 2 : 6);
        plain = s + 1;
    }
    tb_put(b, plain, (size_t)(s - plain));
    tb_put(b, "\"", 1);
}

void tb_key(tb_t *b, const char *name)
{
    if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
        tb_put(b, ",", 1);
    tb_json_str(b, name);
    tb_put(b, ":", 1);
}

void tb_key_i64(tb_t *b, const char *name, int64_t v)
{
    tb_key(b, name);
    tb_i64(b, v);
}

void tb_key_id(tb_t *b, const char *name, int64_t v)
{
    tb_key(b, name);
    if (v)
        tb_i64(b, v);
    else
        tb_str(b, "null");
}

void tb_key_str(tb_t *b, const char *name, const char *v)
{
    tb_key(b, name);
    if (v)
        tb_json_str(b, v);
    else
        tb_str(b, "null");
}
