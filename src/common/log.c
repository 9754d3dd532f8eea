#include "common/log.h"

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

void log_set_format_name(const char *name) { json = strcmp(name, "json") == 0; }

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

void log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[1024], esc[2048], stamp[96];
    struct timespec ts;
    struct tm tm;
    va_list ap;

    if (level < min_level)
        return;
    if (journal < 0)
        journal = getenv("JOURNAL_STREAM") != NULL;
    if (journal)
        fprintf(stderr, "<%d>", priorities[level]);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!json) {
        if (request)
            fprintf(stderr, "%s %s[%d] %s: [%s] %s\n", stamp, prog_name, (int)getpid(),
                    names[level], request, msg);
        else
            fprintf(stderr, "%s %s[%d] %s: %s\n", stamp, prog_name, (int)getpid(), names[level],
                    msg);
        return;
    }
    json_escape(esc, sizeof(esc), msg);
    /* the request id is [A-Za-z0-9._:-] (http/fcgi.c): nothing to escape */
    fprintf(stderr,
            "{\"time\":\"%s\",\"level\":\"%s\",\"program\":\"%s\",\"pid\":%d%s%s%s,"
            "\"message\":\"%s\"}\n",
            stamp, names[level], prog_name, (int)getpid(), request ? ",\"requestId\":\"" : "",
            request ? request : "", request ? "\"" : "", esc);
}
