/* Logging: one line per event on stderr (journald or the dev log file), as
 * text or, with log_format=json, one JSON object per line. A line written
 * while a request is served carries its request id. */
#ifndef COMMERCE_LOG_H
#define COMMERCE_LOG_H

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

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
