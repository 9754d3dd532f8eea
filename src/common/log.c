#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_LVL_INFO;
static bool json;
static const char *prog_name = "commerce";
static const char *request;
static const char *const names[] = {"debug", "info", "warn", "error"};
/* Under systemd (JOURNAL_STREAM set) each line starts with its syslog
 * priority, "<3>", which journald takes off and keeps as the entry's
 * priority, so `journalctl -p err` finds the errors. */
static const int priorities[] = {7, 6, 4, 3};
static int journal = -1;

void log_set_level_name(const char *name)
{
    min_level = LOG_LVL_INFO;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            min_level = (enum log_level)i;
}

/* The format, and whether journald reads the lines (JOURNAL_STREAM, looked
 * at again by the next line). */
void log_set_format_name(const char *name)
{
    json = strcmp(name, "json") == 0;
    journal = -1;
}

void log_set_name(const char *name) { prog_name = name; }

void log_set_request(const char *request_id) { request = request_id; }

/* s as the inside of a JSON string, cut to fit; returns the length written. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

/* Write the whole line with one write(2): lines of processes that share
 * stderr (the workers of a pool) never interleave within a line. */
static void put_line(const char *line, size_t len)
{
    while (len > 0) {
        ssize_t k = write(STDERR_FILENO, line, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return; /* nowhere to say it */
        line += k;
        len -= (size_t)k;
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[1024], esc[2048], stamp[96], line[3072];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    size_t n = 0;

    if (level < min_level)
        return;
    if (journal < 0)
        journal = getenv("JOURNAL_STREAM") != NULL;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (journal)
        n = (size_t)snprintf(line, sizeof(line), "<%d>", priorities[level]);
    if (!json) {
        snprintf(line + n, sizeof(line) - n, "%s %s[%d] %s: %s%s%s%s\n", stamp, prog_name,
                 (int)getpid(), names[level], request ? "[" : "", request ? request : "",
                 request ? "] " : "", msg);
    } else {
        json_escape(esc, sizeof(esc), msg);
        /* the request id is [A-Za-z0-9._:-] (http/fcgi.c): nothing to escape */
        snprintf(line + n, sizeof(line) - n,
                 "{\"time\":\"%s\",\"level\":\"%s\",\"program\":\"%s\",\"pid\":%d%s%s%s,"
                 "\"message\":\"%s\"}\n",
                 stamp, names[level], prog_name, (int)getpid(), request ? ",\"requestId\":\"" : "",
                 request ? request : "", request ? "\"" : "", esc);
    }
    n = strlen(line);
    if (line[n - 1] != '\n') /* cut to fit: still one line */
        line[n - 1] = '\n';
    put_line(line, n);
}

enum log_streak_say log_streak_next(log_streak_t *s, int64_t mono_us, int64_t wall_us)
{
    s->attempts++;
    if (!s->since_wall_us) {
        s->since_wall_us = wall_us > 0 ? wall_us : 1;
        s->last_mono_us = mono_us;
        s->attempts = 1;
        return LOG_STREAK_FIRST;
    }
    if (mono_us - s->last_mono_us < LOG_STREAK_SUMMARY_S * 1000000LL)
        return LOG_STREAK_QUIET;
    s->last_mono_us = mono_us;
    return LOG_STREAK_SUMMARY;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-11-21T10:00:00Z" of a Unix time in us. */
static void stamp_of(int64_t us, char *out, size_t cap)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void log_streak_fail(log_streak_t *s, const char *fmt, ...)
{
    char msg[768], since[32];
    va_list ap;

    switch (log_streak_next(s, mono_us(), wall_us())) {
    case LOG_STREAK_QUIET:
        return;
    case LOG_STREAK_FIRST:
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_warn("%s", msg);
        return;
    case LOG_STREAK_SUMMARY:
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        stamp_of(s->since_wall_us, since, sizeof(since));
        log_warn("%s (still failing since %s, %lld attempts)", msg, since, (long long)s->attempts);
        return;
    }
}

void log_streak_ok(log_streak_t *s, const char *what)
{
    if (!s->since_wall_us)
        return;
    log_info("%s again after %.1f s (%lld failed attempts)", what,
             (double)(wall_us() - s->since_wall_us) / 1e6, (long long)s->attempts);
    *s = (log_streak_t){0, 0, 0};
}
