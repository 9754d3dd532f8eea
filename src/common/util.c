#include "common/util.h"
#include "common/rc.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int util_parse_i64n(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0, limit;

    if (len > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == len || len - i > 19)
        return C_ERR;
    if (s[i] == '0' && len - i > 1)
        return C_ERR;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return C_ERR;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return C_ERR;
        v = v * 10 + d;
    }
    if (neg && v == 0)
        return C_ERR; /* "-0" */
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return C_OK;
}

int util_parse_i64(const char *s, int64_t *out) { return util_parse_i64n(s, strlen(s), out); }

int util_read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;

    if (!f)
        return C_ERR;
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        errno = ENOMEM;
        return C_ERR;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        int e = ferror(f) ? errno : EFBIG;
        free(buf);
        fclose(f);
        errno = e;
        return C_ERR;
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return C_OK;
}

void util_fmt_time(char *out, int year, int mon, int day, int hour, int min, int sec, int msec)
{
    /* The modulos only bound the widths for the compiler; inputs are in range. */
    snprintf(out, UTIL_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)year % 10000u,
             (unsigned)mon % 100u, (unsigned)day % 100u, (unsigned)hour % 100u,
             (unsigned)min % 100u, (unsigned)sec % 100u, (unsigned)msec % 1000u);
}

bool util_secret_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);

    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[lb ? i % lb : 0]);
    return d == 0 && lb > 0;
}

uint32_t util_rand(uint32_t n)
{
    static unsigned int seed;
    static int seeded;

    if (!seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (unsigned int)(ts.tv_nsec ^ (getpid() << 16));
        seeded = 1;
    }
    return n ? (uint32_t)rand_r(&seed) % n : 0;
}

int64_t util_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void util_time_sql(const char *rfc3339, char *out)
{
    size_t i = 0;
    for (; rfc3339[i] && rfc3339[i] != 'Z' && i + 1 < UTIL_TIME_LEN; i++)
        out[i] = rfc3339[i] == 'T' ? ' ' : rfc3339[i];
    out[i] = '\0';
}

/* The random bytes util_uuid draws from: one getrandom(2) fills it for 256
 * ids, not one per id (an id is not a secret: only unique). A child of fork
 * starts it empty, so that no two processes hand out the same bytes. */
static struct {
    unsigned char b[4096];
    size_t used; /* bytes handed out; sizeof(b) means empty */
    int atfork;
} pool = {.used = sizeof(pool.b)};

static void pool_forget(void) { pool.used = sizeof(pool.b); }

static void random_bytes(unsigned char *out, size_t n)
{
    if (!pool.atfork) {
        pthread_atfork(NULL, NULL, pool_forget);
        pool.atfork = 1;
    }
    if (sizeof(pool.b) - pool.used < n) {
        size_t got = 0;
        while (got < sizeof(pool.b)) {
            ssize_t k = getrandom(pool.b + got, sizeof(pool.b) - got, 0);
            if (k > 0)
                got += (size_t)k;
            else if (errno != EINTR)
                break;
        }
        for (; got < sizeof(pool.b); got++) /* no entropy source: never expected on Linux */
            pool.b[got] = (unsigned char)util_rand(256);
        pool.used = 0;
    }
    memcpy(out, pool.b + pool.used, n);
    pool.used += n;
}

void util_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];

    random_bytes(b, sizeof(b));
    /* version 7 (RFC 9562): the first 48 bits are the Unix time in ms, so
     * ids made in order sort in order and land at the end of an index */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    /* 8-4-4-4-12 hex digits */
    for (size_t i = 0, o = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[36] = '\0';
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int util_parse_time(const char *s, size_t len, char *sql)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, frac = 0;

    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return C_ERR;
    if (len > 10) {
        if (len < 20 || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
            !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec) ||
            s[len - 1] != 'Z')
            return C_ERR;
        size_t i = 19;
        if (s[i] == '.') {
            for (i++; i < len - 1 && frac < 3; i++, frac++) {
                if (s[i] < '0' || s[i] > '9')
                    return C_ERR;
                ms = ms * 10 + (s[i] - '0');
            }
            if (frac == 0)
                return C_ERR;
            for (int k = frac; k < 3; k++)
                ms *= 10;
        }
        if (i != len - 1)
            return C_ERR;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        return C_ERR;
    snprintf(sql, UTIL_TIME_LEN, "%04u-%02u-%02u %02u:%02u:%02u.%03u", (unsigned)y % 10000u,
             (unsigned)mo % 100u, (unsigned)d % 100u, (unsigned)h % 100u, (unsigned)mi % 100u,
             (unsigned)sec % 100u, (unsigned)ms % 1000u);
    return C_OK;
}

void util_errf(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}
