/* Logging: one line per event on stderr (journald or the dev log file), as
 * text or, with log_format=json, one JSON object per line. A line written
 * while a request is served carries its request id. */
#ifndef COMMERCE_LOG_H
#define COMMERCE_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* By name, as the log_level key has it: debug, info, warn, error (else info). */
void log_set_level_name(const char *name);
/* As the log_format key has it: "json", else text. */
void log_set_format_name(const char *name);
void log_set_name(const char *name);
/* The request being served (its X-Request-Id), NULL between requests. The
 * string must live until the next call. */
void log_set_request(const char *request_id);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A failure that repeats while something is down (the database unreachable,
 * read-only): the first one is logged, then at most one summary every
 * LOG_STREAK_SUMMARY_S ("still failing since ..., N attempts"), then one
 * line when it ends; not a line per attempt (a relay tries ten times a
 * second, each worker at every request). One per thing that can fail. */
#define LOG_STREAK_SUMMARY_S 10
typedef struct log_streak {
    int64_t since_wall_us; /* the first failure (Unix us); 0: no streak */
    int64_t last_mono_us;  /* the last line logged about it */
    int64_t attempts;      /* failures since the first */
} log_streak_t;

/* The pure part, for tests: what a failure at these times is to log. */
enum log_streak_say { LOG_STREAK_QUIET, LOG_STREAK_FIRST, LOG_STREAK_SUMMARY };
enum log_streak_say log_streak_next(log_streak_t *s, int64_t mono_us, int64_t wall_us);

/* One more failure of what s watches; msg says what failed (printf-style). */
void log_streak_fail(log_streak_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* It works again: one line ("<what>: ... again after N s, M attempts") when
 * a streak was under way, then s is reset. */
void log_streak_ok(log_streak_t *s, const char *what);

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
