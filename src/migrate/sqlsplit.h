/* SQL text as the mariadb command-line client reads it: a migration file
 * split into the statements the client would send, one at a time, and the
 * rule that keeps a migration marked online from locking a table.
 *
 * The client's reading: statements end at the delimiter (";", changed by a
 * line "DELIMITER //"), except inside 'strings', "strings", `names` and
 * comments (-- to the end of the line, # to the end of the line, and C-style
 * comments). A statement that holds only comments is not sent; text after
 * the last delimiter is a statement of its own. Pure functions: no I/O. */
#ifndef COMMERCE_MIGRATE_SQLSPLIT_H
#define COMMERCE_MIGRATE_SQLSPLIT_H

#include <stddef.h>

/* One statement: a span of the text it was split from (not NUL-terminated)
 * from its first code to its last (the comments before it and the white
 * space after it left out), and the line its first code is on (1-based). */
typedef struct sql_stmt {
    const char *text;
    size_t len;
    int line;
} sql_stmt_t;

/* Split text[0..len) into statements. C_OK with *out (malloc'd, the caller
 * frees it; NULL when there are none) and *n; C_ERR with a message in err (a
 * string or comment left open, a DELIMITER line inside a statement, an empty
 * delimiter) or when out of memory. The spans point into text. */
int sql_split(const char *text, size_t len, sql_stmt_t **out, size_t *n, char *err, size_t cap);

/* The statement's code in one canonical form, for rules that look at it:
 * upper case, comments dropped (an executable comment's content kept),
 * every string literal as '' and every `name` as ``, runs of white space as
 * one space, none before "," ")" "=" and none after "(" "," "=". Written to buf (cap
 * bytes, truncated). */
void sql_skeleton(const char *text, size_t len, char *buf, size_t cap);

/* The rule of an online migration (one that runs while orders flow): every
 * ALTER TABLE, CREATE INDEX and DROP INDEX says ALGORITHM=INSTANT, or
 * ALGORITHM=INPLACE (or NOCOPY) with LOCK=NONE, so that MariaDB refuses it
 * rather than lock the table; and nothing takes a table away (LOCK TABLES,
 * OPTIMIZE, TRUNCATE). C_OK when the statement keeps it, else C_ERR with
 * why in err. */
int sql_online_ok(const char *text, size_t len, char *err, size_t cap);

#endif
