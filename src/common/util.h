/* Small pure helpers shared by every binary. */
#ifndef COMMERCE_UTIL_H
#define COMMERCE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict decimal integer: optional '-', then 1..19 digits, nothing else
 * (no spaces, no '+', no leading zeros beyond a lone "0"). C_OK and *out, or
 * C_ERR on a syntax error or overflow. */
int util_parse_i64(const char *s, int64_t *out);

/* Same, for a string of known length (not NUL-terminated). */
int util_parse_i64n(const char *s, size_t len, int64_t *out);

/* Read a whole file of at most `max` bytes into a NUL-terminated buffer the
 * caller frees. C_OK, or C_ERR with errno set. */
int util_read_file(const char *path, size_t max, char **out, size_t *len);

/* Format a UTC time as RFC 3339 with milliseconds: "2026-11-21T10:00:00.123Z".
 * `out` must hold at least UTIL_TIME_LEN bytes. */
#define UTIL_TIME_LEN 32
void util_fmt_time(char *out, int year, int mon, int day, int hour, int min, int sec, int msec);

/* Compare two strings in time that depends only on their lengths. */
bool util_secret_eq(const char *a, const char *b);

/* Random number in [0, n) from a per-process generator seeded at first use
 * (for jitter; not for secrets). */
uint32_t util_rand(uint32_t n);

/* Monotonic clock in microseconds. */
int64_t util_mono_us(void);

/* Wall clock (Unix time) in microseconds. */
int64_t util_wall_us(void);

/* "2026-11-21T10:00:00.123Z" -> "2026-11-21 10:00:00.123" (a DATETIME(3)
 * literal); out holds UTIL_TIME_LEN bytes. */
void util_time_sql(const char *rfc3339, char *out);

/* A time-ordered (version 7) UUID as 36 characters plus NUL: 48 bits of
 * Unix milliseconds, then 74 random bits. */
void util_uuid(char out[37]);

/* A UTC time as a client may write it in a query: "2026-11-21" (midnight),
 * "2026-11-21T10:00:00Z" or with 1 to 3 fraction digits ("…00.123Z"), from
 * the year 1000 on (DATETIME's range). C_OK with the DATETIME(3) literal
 * "2026-11-21 10:00:00.123" in sql (UTIL_TIME_LEN bytes), or C_ERR. */
int util_parse_time(const char *s, size_t len, char *sql);

/* A one-line reason into err (cap bytes), printf-style, for the callers that
 * hand their caller an error text. */
void util_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
