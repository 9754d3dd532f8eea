/* log.c: a line written while a request is served carries its id; the json
 * format is one JSON object per line that json-c parses back, whatever the
 * message holds; every line, its journald priority prefix included, is one
 * write(2) (linked with -Wl,--wrap=write: __wrap_write sees log.c's writes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "common/log.h"

static char captured[4096];

/* log.c's writes to stderr while `watching`: how many, and how many of them
 * were not exactly one whole line. */
static int watching, writes, broken;

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (watching && fd == 2) {
        const char *nl = memchr(buf, '\n', n);
        writes++;
        if (n == 0 || nl != (const char *)buf + n - 1)
            broken++;
    }
    return __real_write(fd, buf, n);
}

/* Run what() with stderr sent to a temp file; its text in `captured`. */
static void capture(void (*what)(void))
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    what();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, captured, sizeof(captured) - 1);
    captured[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
}

static void text_lines(void)
{
    log_set_request(NULL);
    log_info("before %d", 1);
    log_set_request("req-42.a:b");
    log_warn("during");
    log_debug("not shown at info");
    log_set_request(NULL);
    log_error("after");
}

static void text_line_carries_the_request_id(void **state)
{
    (void)state;
    log_set_name("test");
    log_set_format_name("text");
    log_set_level_name("info");
    capture(text_lines);
    assert_non_null(strstr(captured, " test["));
    assert_non_null(strstr(captured, "] info: before 1\n"));
    assert_non_null(strstr(captured, "] warn: [req-42.a:b] during\n"));
    assert_null(strstr(captured, "not shown"));
    assert_non_null(strstr(captured, "] error: after\n"));
    assert_null(strstr(captured, "[req-42.a:b] after"));
}

static void json_lines(void)
{
    log_set_request("r1");
    log_info("quote \" backslash \\ newline \n tab \t bell \a done");
    log_set_request(NULL);
    log_error("no request");
}

static void json_line_is_one_object(void **state)
{
    (void)state;
    log_set_name("test");
    log_set_format_name("json");
    log_set_level_name("info");
    capture(json_lines);
    log_set_format_name("text");
    size_t first = strcspn(captured, "\n");
    assert_int_equal(captured[first], '\n');
    captured[first] = '\0';
    json_object *a = json_tokener_parse(captured), *b = json_tokener_parse(captured + first + 1),
                *v;
    assert_non_null(a);
    assert_non_null(b);
    assert_true(json_object_object_get_ex(a, "requestId", &v));
    assert_string_equal(json_object_get_string(v), "r1");
    assert_true(json_object_object_get_ex(a, "message", &v));
    assert_string_equal(json_object_get_string(v),
                        "quote \" backslash \\ newline \n tab \t bell \a done");
    assert_true(json_object_object_get_ex(a, "level", &v));
    assert_string_equal(json_object_get_string(v), "info");
    assert_true(json_object_object_get_ex(a, "program", &v));
    assert_string_equal(json_object_get_string(v), "test");
    assert_true(json_object_object_get_ex(a, "time", &v));
    assert_int_equal(strlen(json_object_get_string(v)), 24);
    assert_false(json_object_object_get_ex(b, "requestId", &v));
    assert_true(json_object_object_get_ex(b, "level", &v));
    assert_string_equal(json_object_get_string(v), "error");
    json_object_put(a);
    json_object_put(b);
}

static void journal_lines(void)
{
    log_set_request("r2");
    log_info("one");
    log_set_request(NULL);
    log_error("two");
}

static void journal_line_is_one_write_with_its_priority(void **state)
{
    (void)state;
    setenv("JOURNAL_STREAM", "8:4242", 1);
    log_set_name("test");
    log_set_format_name("text"); /* looks at JOURNAL_STREAM again */
    log_set_level_name("info");
    watching = 1;
    writes = broken = 0;
    capture(journal_lines);
    watching = 0;
    unsetenv("JOURNAL_STREAM");
    log_set_format_name("text");
    assert_int_equal(writes, 2);
    assert_int_equal(broken, 0);
    const char *second = captured + strcspn(captured, "\n") + 1;
    assert_true(strncmp(captured, "<6>", 3) == 0);
    assert_non_null(strstr(captured, "] info: [r2] one\n"));
    assert_true(strncmp(second, "<3>", 3) == 0);
    assert_non_null(strstr(second, "] error: two\n"));
}

/* A repeating failure: its first occurrence is said, then one summary at most
 * every LOG_STREAK_SUMMARY_S, however many attempts fail in between; once it
 * works again the next failure is a first one again. */
static void a_failure_streak_is_said_once_then_summed_up(void **state)
{
    log_streak_t s = {0, 0, 0};
    const int64_t sec = 1000000, t0 = 5 * sec, wall = 1800000000LL * sec;
    (void)state;

    assert_int_equal(log_streak_next(&s, t0, wall), LOG_STREAK_FIRST);
    for (int i = 1; i < 100; i++) /* ten a second for ten seconds */
        assert_int_equal(log_streak_next(&s, t0 + i * sec / 10, wall), LOG_STREAK_QUIET);
    assert_int_equal(log_streak_next(&s, t0 + LOG_STREAK_SUMMARY_S * sec, wall),
                     LOG_STREAK_SUMMARY);
    assert_int_equal(s.attempts, 101);
    assert_int_equal(s.since_wall_us, wall); /* the summary names when it began */
    assert_int_equal(log_streak_next(&s, t0 + (LOG_STREAK_SUMMARY_S + 9) * sec, wall),
                     LOG_STREAK_QUIET);
    assert_int_equal(log_streak_next(&s, t0 + 2 * LOG_STREAK_SUMMARY_S * sec, wall),
                     LOG_STREAK_SUMMARY);
    log_streak_ok(&s, "test: works");
    assert_int_equal(s.since_wall_us, 0);
    assert_int_equal(log_streak_next(&s, t0 + 100 * sec, wall), LOG_STREAK_FIRST);
    assert_int_equal(s.attempts, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_line_carries_the_request_id),
        cmocka_unit_test(json_line_is_one_object),
        cmocka_unit_test(journal_line_is_one_write_with_its_priority),
        cmocka_unit_test(a_failure_streak_is_said_once_then_summed_up),
    };
    return cmocka_run_group_tests_name("unit/log", tests, NULL, NULL);
}
