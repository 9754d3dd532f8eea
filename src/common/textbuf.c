#include "common/textbuf.h"

#include <string.h>

void tb_init(tb_t *b, char *buf, size_t cap)
{
    *b = (tb_t){.p = buf, .len = 0, .cap = cap, .full = false};
    buf[0] = '\0';
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
    const char *run = s;

    tb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t n = 2;

        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c >= 0x20)
                continue;
            esc[1] = 'u';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        tb_put(b, run, (size_t)(s - run));
        tb_put(b, esc, n);
        run = s + 1;
    }
    tb_put(b, run, (size_t)(s - run));
    tb_put(b, "\"", 1);
}
