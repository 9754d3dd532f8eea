/* Who on this host can reach the stack: its owner and nginx's workers, no
 * other local user (the dev and test stacks run on shared machines).
 *   - every socket under DIR/run (MariaDB's, the worker pools') is out of
 *     reach of a user who is neither the owner nor in nginx's group: a worker
 *     socket would let them call /admin past nginx's allow list, MariaDB's
 *     the database;
 *   - MariaDB has no account without a password: its administrators are root
 *     and the stack's owner by unix_socket authentication (the socket's peer),
 *     so root over TCP 127.0.0.1 (where the primary listens for its replica)
 *     is refused; the same on the replica;
 *   - the log directory (the fake platform's events hold balances) is the
 *     owner's alone. */
#include <dirent.h>
#include <errmsg.h>
#include <limits.h>
#include <mysql.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "lib/client.h"

static const char *state_dir(void)
{
    const char *d = getenv("COMMERCE_TEST_STATE_DIR");
    if (!d || !*d)
        fail_msg("COMMERCE_TEST_STATE_DIR is not set (scripts/test sets it)");
    return d;
}

/* Whether a user who is neither the owner nor in the group of any directory
 * on the way could open path: every directory above it searchable by others,
 * and the file itself `others_need` (S_IWOTH to connect to a socket, S_IROTH
 * to read a file) for others. */
static int others_reach(const char *path, mode_t others_need)
{
    char p[PATH_MAX];
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    if (!(st.st_mode & others_need))
        return 0;
    snprintf(p, sizeof(p), "%s", path);
    for (char *slash = strrchr(p, '/'); slash && slash > p; slash = strrchr(p, '/')) {
        *slash = '\0';
        assert_int_equal(stat(p, &st), 0);
        if (!(st.st_mode & S_IXOTH))
            return 0;
    }
    return 1;
}

static void no_other_user_reaches_a_socket(void **state)
{
    char run[1024], path[PATH_MAX];
    int sockets = 0;
    (void)state;

    snprintf(run, sizeof(run), "%s/run", state_dir());
    DIR *d = opendir(run);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", run, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        sockets++;
        if (others_reach(path, S_IWOTH))
            fail_msg("any local user can connect to %s", path);
        /* nor is the socket itself open to others, were a directory opened up */
        if (strstr(e->d_name, "fcgi") && (st.st_mode & S_IRWXO))
            fail_msg("%s is mode %o: others may connect", path, (unsigned)(st.st_mode & 07777));
    }
    closedir(d);
    /* the primary's, the replica's and the two pools' at least (scripts/test's stack) */
    assert_true(sockets >= 4);
}

static void the_log_directory_is_the_owners(void **state)
{
    char log[PATH_MAX];
    struct stat st;
    (void)state;

    snprintf(log, sizeof(log), "%s/log", state_dir());
    assert_int_equal(stat(log, &st), 0);
    if (st.st_mode & S_IRWXO)
        fail_msg("%s is mode %o: others may read the logs", log, (unsigned)(st.st_mode & 07777));
    snprintf(log, sizeof(log), "%s/log/platform-events.jsonl", state_dir());
    assert_false(others_reach(log, S_IROTH));
}

/* Accounts anyone could use: not locked, and with an empty password (a
 * password-less account matches any client that names it). */
#define NO_PASSWORD                                                                                \
    "SELECT COUNT(*) FROM mysql.global_priv WHERE COALESCE(JSON_EXTRACT(Priv, "                    \
    "'$.account_locked'),"                                                                         \
    " 'false') <> 'true' AND COALESCE(JSON_VALUE(Priv, '$.plugin'), 'mysql_native_password')"      \
    " IN ('mysql_native_password', 'mysql_old_password')"                                          \
    " AND COALESCE(JSON_VALUE(Priv, '$.authentication_string'), '') = ''"

static void no_database_account_without_a_password(void **state)
{
    const char *replica = getenv("COMMERCE_TEST_REPLICA_SOCKET");
    (void)state;

    assert_int_equal(tc_sql_int(NO_PASSWORD), 0);
    /* root only as root, over the socket */
    assert_int_equal(tc_sql_int("SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'root'"
                                " AND (Host <> 'localhost' OR Priv NOT LIKE '%%unix_socket%%')"),
                     0);
    if (replica && *replica)
        assert_int_equal(tc_sql_int_at(replica, NO_PASSWORD), 0);
}

static void root_over_tcp_is_refused(void **state)
{
    char path[PATH_MAX], port[16] = "";
    (void)state;

    /* the primary's loopback port, there for its replica */
    snprintf(path, sizeof(path), "%s/run/db.port", state_dir());
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(port, sizeof(port), f));
    fclose(f);
    MYSQL *my = mysql_init(NULL);
    assert_non_null(my);
    if (mysql_real_connect(my, "127.0.0.1", "root", "", NULL, (unsigned)atoi(port), NULL, 0))
        fail_msg("root without a password got in over TCP 127.0.0.1:%s", port);
    /* refused by the server (access denied), not unreachable */
    assert_int_equal(mysql_errno(my), 1045);
    mysql_close(my);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_other_user_reaches_a_socket),
        cmocka_unit_test(the_log_directory_is_the_owners),
        cmocka_unit_test(no_database_account_without_a_password),
        cmocka_unit_test(root_over_tcp_is_refused),
    };
    return cmocka_run_group_tests_name("integration/access", tests, NULL, NULL);
}
