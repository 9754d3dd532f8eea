#include "migrate/migration.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rc.h"
#include "common/util.h"

#define MAX_FILE (4u << 20)

void migration_free(migration_t *m)
{
    free(m->text);
    free(m->stmts);
    memset(m, 0, sizeof(*m));
}

/* NNNN-name.sql: the number in *id and the name without ".sql". */
static bool file_name_ok(const char *file, int *id, char *name, size_t cap)
{
    size_t l = strlen(file);

    if (l < 10 || l - 4 >= cap || strcmp(file + l - 4, ".sql") != 0 || file[4] != '-')
        return false;
    for (size_t i = 0; i < 4; i++)
        if (!isdigit((unsigned char)file[i]))
            return false;
    for (size_t i = 5; i < l - 4; i++)
        if (!(islower((unsigned char)file[i]) || isdigit((unsigned char)file[i]) || file[i] == '-'))
            return false;
    *id = atoi(file);
    memcpy(name, file, l - 4);
    name[l - 4] = '\0';
    return *id > 0;
}

/* The header's lines: the leading block of "--" lines. */
static int parse_header(migration_t *m, const char *file, char *err, size_t cap)
{
    const char *p = m->text, *end = m->text + m->len;
    int n = 0, described = 0, step = 0;
    bool says_expand = false, says_contract = false; /* in its words */

    while (p < end && strncmp(p, "--", 2) == 0) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t l = (size_t)((eol ? eol : end) - p);
        char line[256];
        snprintf(line, sizeof(line), "%.*s", (int)(l < sizeof(line) ? l : sizeof(line) - 1), p);
        for (size_t k = strlen(line); k > 0 && isspace((unsigned char)line[k - 1]); k--)
            line[k - 1] = '\0';
        n++;
        if (n == 1) {
            if (strcmp(line, "-- online: yes") == 0)
                m->online = true;
            else if (strncmp(line, "-- online: no: ", 15) == 0 && line[15])
                snprintf(m->offline_why, sizeof(m->offline_why), "%.199s", line + 15);
            else {
                snprintf(err, cap,
                         "%s: line 1 must be \"-- online: yes\" or \"-- online: no: WHY\"", file);
                return C_ERR;
            }
        } else if (strncmp(line, "-- step:", 8) == 0) {
            int floor = strncmp(line, "-- step: contract ", 18) == 0 && strlen(line) == 22 &&
                                strspn(line + 18, "0123456789") == 4
                            ? atoi(line + 18)
                            : 0;
            if (strcmp(line, "-- step: expand") == 0)
                m->breaks_below = 0;
            else if (floor >= 1 && floor <= m->id)
                m->breaks_below = floor;
            else {
                snprintf(err, cap,
                         "%s: line %d: \"-- step: expand\" or \"-- step: contract NNNN\" (NNNN: "
                         "the oldest schema the programs may still need, at most %04d)",
                         file, n, m->id);
                return C_ERR;
            }
            step++;
        } else if (strspn(line, "- ") < strlen(line)) {
            described++;
            says_expand = says_expand || strcasestr(line, "expand step");
            says_contract = says_contract || strcasestr(line, "contract step");
        }
        p = eol ? eol + 1 : end;
    }
    /* Without a "-- step:" line, a description that calls it an expand step says enough;
     * a contract step must name the schema it leaves working. */
    if (step > 1 || !described || (step == 0 && (!says_expand || says_contract))) {
        snprintf(err, cap,
                 "%s: the header (the comment lines at the top) needs a line saying what the "
                 "migration changes and why, and one \"-- step: expand\" or \"-- step: contract "
                 "NNNN\" line (an expand step may say \"Expand step\" in its description instead)",
                 file);
        return C_ERR;
    }
    return C_OK;
}

static void sha256_hex(const char *text, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    out[0] = '\0';
    if (EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) != 1)
        return;
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int migration_parse(migration_t *m, const char *file, char *text, size_t len, char *err, size_t cap)
{
    char why[256];

    memset(m, 0, sizeof(*m));
    m->text = text;
    m->len = len;
    if (!file_name_ok(file, &m->id, m->name, sizeof(m->name))) {
        snprintf(err, cap,
                 "%s: not a migration's name (NNNN-name.sql: a number above 0000, "
                 "then lower-case letters, digits and dashes)",
                 file);
        return C_ERR;
    }
    if (parse_header(m, file, err, cap) != C_OK)
        return C_ERR;
    if (sql_split(text, len, &m->stmts, &m->nstmts, why, sizeof(why)) != C_OK) {
        snprintf(err, cap, "%s: %s", file, why);
        return C_ERR;
    }
    if (m->nstmts == 0) {
        snprintf(err, cap, "%s: no statement", file);
        return C_ERR;
    }
    for (size_t i = 0; m->online && i < m->nstmts; i++)
        if (sql_online_ok(m->stmts[i].text, m->stmts[i].len, why, sizeof(why)) != C_OK) {
            snprintf(err, cap, "%s: line %d: %s (the migration says \"-- online: yes\")", file,
                     m->stmts[i].line, why);
            return C_ERR;
        }
    sha256_hex(text, len, m->checksum);
    return C_OK;
}

static int by_id(const void *a, const void *b)
{
    return ((const migration_t *)a)->id - ((const migration_t *)b)->id;
}

void migrations_free(migration_set_t *set)
{
    for (size_t i = 0; i < set->n; i++)
        migration_free(&set->m[i]);
    free(set->m);
    set->m = NULL;
    set->n = 0;
}

int migrations_load(const char *dir, migration_set_t *set, char *err, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t have = 0;
    int rc = C_OK;

    set->m = NULL;
    set->n = 0;
    if (!d) {
        snprintf(err, cap, "%s: %s", dir, strerror(errno));
        return C_ERR;
    }
    while (rc == C_OK && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char path[4096], *text = NULL;
        size_t len = 0;
        if (l < 4 || strcmp(e->d_name + l - 4, ".sql") != 0)
            continue;
        if (set->n == have) {
            size_t c = have ? have * 2 : 16;
            migration_t *grown = realloc(set->m, c * sizeof(*grown));
            if (!grown) {
                snprintf(err, cap, "out of memory");
                rc = C_ERR;
                break;
            }
            set->m = grown;
            have = c;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (util_read_file(path, MAX_FILE, &text, &len) != C_OK) {
            snprintf(err, cap, "%s: %s", path, strerror(errno));
            rc = C_ERR;
        } else if (migration_parse(&set->m[set->n], e->d_name, text, len, err, cap) != C_OK) {
            migration_free(&set->m[set->n]);
            rc = C_ERR;
        } else
            set->n++;
    }
    closedir(d);
    if (rc == C_OK && set->n > 1) {
        qsort(set->m, set->n, sizeof(*set->m), by_id);
        for (size_t i = 1; i < set->n; i++)
            if (set->m[i].id == set->m[i - 1].id) {
                snprintf(err, cap, "%s and %s carry one number: renumber one of them",
                         set->m[i - 1].name, set->m[i].name);
                rc = C_ERR;
            }
    }
    if (rc != C_OK)
        migrations_free(set);
    return rc;
}

const migration_t *migrations_find(const migration_set_t *set, int id)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->m[i].id == id)
            return &set->m[i];
    return NULL;
}
