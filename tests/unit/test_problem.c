/* The problem catalogue (src/http/problem.h) is the one list of codes, and the
 * documents say the same: every code of it appears in docs/openapi.yaml and
 * in README.md; every code the spec lists (its ErrorCode enum and table)
 * exists in it with the same status; and the spec's operations are exactly
 * the route table's. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/problem.h"
#include "http/router.h"

const route_t *routes_table(size_t *n);

static char *slurp(const char *name)
{
    char path[1024];
    const char *dir = getenv("srcdir"); /* automake's test environment */
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The catalogue entry named `code` (a word of its own in the text), or NULL. */
static const problem_def_t *find(const char *code, size_t len)
{
    for (int c = 0; c < P_COUNT; c++) {
        const problem_def_t *d = problem_def((problem_code_t)c);
        if (strlen(d->code) == len && strncmp(d->code, code, len) == 0)
            return d;
    }
    return NULL;
}

/* Whether `word` occurs in text as a word of its own (not inside a longer code). */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; (p = strstr(p, word)); p += n) {
        char before = p > text ? p[-1] : ' ', after = p[n];
        if (!(isupper((unsigned char)before) || before == '_') &&
            !(isupper((unsigned char)after) || after == '_'))
            return 1;
    }
    return 0;
}

static void catalogue_is_well_formed(void **state)
{
    (void)state;
    for (int c = 0; c < P_COUNT; c++) {
        const problem_def_t *d = problem_def((problem_code_t)c);
        assert_true(d->status >= 400 && d->status <= 599);
        assert_true(strlen(d->title) > 0);
        for (int o = 0; o < c; o++)
            assert_string_not_equal(d->code, problem_def((problem_code_t)o)->code);
    }
    /* out of range: the internal error's entry, never a wild read */
    assert_string_equal(problem_def(P_COUNT)->code, "INTERNAL_ERROR");
}

static void every_code_is_documented(void **state)
{
    char *spec = slurp("docs/openapi.yaml"), *readme = slurp("docs/API.md");
    (void)state;
    for (int c = 0; c < P_COUNT; c++) {
        const char *code = problem_def((problem_code_t)c)->code;
        if (!has_word(spec, code))
            fail_msg("%s is not in docs/openapi.yaml", code);
        if (!has_word(readme, code))
            fail_msg("%s is not in docs/API.md", code);
    }
    free(spec);
    free(readme);
}

/* The spec's ErrorCode: its table rows "| 409 | A, B (+x) | when |" and its
 * enum "- CODE" lines. */
static void every_spec_code_is_in_the_catalogue(void **state)
{
    char *spec = slurp("docs/openapi.yaml");
    char *at = strstr(spec, "\n    ErrorCode:\n");
    int rows = 0, listed = 0;
    (void)state;

    assert_non_null(at);
    for (char *line = at + 1; *line;) {
        char *eol = strchr(line, '\n');
        if (!eol)
            break;
        *eol = '\0';
        int status;
        char cell[256];
        if (sscanf(line, " | %d | %255[^|]|", &status, cell) == 2) {
            for (char *p = cell; *p;) {
                size_t n = 0;
                while (isupper((unsigned char)p[n]) || p[n] == '_')
                    n++;
                if (n >= 3) {
                    const problem_def_t *d = find(p, n);
                    if (!d)
                        fail_msg("the spec's %.*s is not in the catalogue", (int)n, p);
                    if (d->status != status)
                        fail_msg("%s: %d in the spec, %d in the catalogue", d->code, status,
                                 d->status);
                    rows++;
                }
                p += n ? n : 1;
            }
        } else if (strncmp(line, "        - ", 10) == 0) {
            const char *code = line + 10;
            if (!find(code, strlen(code)))
                fail_msg("the spec's enum value %s is not in the catalogue", code);
            listed++;
        } else if (line[0] && line[0] != ' ' ? 1
                                             : strncmp(line, "    ", 4) == 0 && line[4] != ' ') {
            if (line != at + 1)
                break; /* the next schema */
        }
        line = eol + 1;
    }
    assert_int_equal(listed, P_COUNT); /* the enum lists the whole catalogue */
    assert_true(rows >= P_COUNT);
    free(spec);
}

/* Every route of the table is an operation of the spec, and back. */
static void spec_operations_are_the_route_table(void **state)
{
    char *spec = slurp("docs/openapi.yaml"), path[256] = "";
    size_t nroutes, ops = 0;
    const route_t *routes = routes_table(&nroutes);
    int in_paths = 0;
    (void)state;

    for (char *line = spec; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        if (strcmp(line, "paths:") == 0)
            in_paths = 1;
        else if (in_paths && line[0] && line[0] != ' ' && line[0] != '#')
            break; /* components: the end of paths */
        else if (in_paths && strncmp(line, "  /", 3) == 0)
            snprintf(path, sizeof(path), "%.*s", (int)(strlen(line) - 3), line + 2);
        else if (in_paths && path[0]) {
            static const char *const methods[] = {"get", "post", "put", "patch", "delete"};
            for (size_t m = 0; m < 5; m++) {
                char want[16];
                snprintf(want, sizeof(want), "    %s:", methods[m]);
                if (strcmp(line, want) != 0)
                    continue;
                size_t i;
                for (i = 0; i < nroutes; i++)
                    if (strcasecmp(routes[i].method, methods[m]) == 0 &&
                        strcmp(routes[i].pattern, path) == 0)
                        break;
                if (i == nroutes)
                    fail_msg("the spec's %s %s is not in the route table", methods[m], path);
                ops++;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    assert_int_equal(ops, nroutes); /* and no route is missing from the spec */
    free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogue_is_well_formed),
        cmocka_unit_test(every_code_is_documented),
        cmocka_unit_test(every_spec_code_is_in_the_catalogue),
        cmocka_unit_test(spec_operations_are_the_route_table),
    };
    return cmocka_run_group_tests_name("unit/problem", tests, NULL, NULL);
}
