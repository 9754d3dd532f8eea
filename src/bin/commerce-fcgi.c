/* commerce-fcgi: the FastCGI worker. Accepts on fd 0 (spawn-fcgi or systemd
 * StandardInput=socket), one request at a time, one database connection.
 * SIGTERM or SIGUSR1: finish the current request, then exit 0. */
#include <errno.h>
#include <fcgiapp.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/app.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rc.h"
#include "common/util.h"
#include "http/fcgi.h"
#include "http/router.h"
#include "store/idem.h"
#include "store/schema.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
    FCGX_ShutdownPending();
}

/* A fatal signal says so in the log before the worker dies of it (multiwatch
 * replaces it; scripts/test counts these lines as crashes). Only
 * async-signal-safe calls. */
static void on_crash(int sig)
{
    char msg[] = "commerce-fcgi: crashed: fatal signal 00\n";
    size_t n = sizeof(msg) - 1;
    msg[n - 3] = (char)('0' + sig / 10 % 10);
    msg[n - 2] = (char)('0' + sig % 10);
    ssize_t w = write(2, msg, n);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void)
{
    struct sigaction sa;
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        sigaction(fatal[i], &sa, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked accept() must return */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static void serve(app_t *app, FCGX_Request *fr, const route_t *routes, size_t nroutes)
{
    const router_env_t env = {app->cfg.admin_token, app->auth, (int)app->cfg.retry_after_seconds};
    /* The scratch area lent to each request in turn (one at a time per
     * worker); req_release gives it back empty. 256 KiB: an order's working
     * state and its document with room to spare. */
    static unsigned char scratch[256 * 1024];
    req_t r;

    memset(&r, 0, sizeof(r));
    r.scratch = scratch;
    r.scratch_cap = sizeof(scratch);
    r.app = app;
    r.started_us = util_mono_us();
    int rc = fcgi_read(&r, fr, (size_t)app->cfg.max_body_bytes);
    log_set_request(r.request_id); /* every line logged for it carries its id */
    if (rc == C_OK)
        router_dispatch(&r, routes, nroutes, &env);
    else if (rc != C_REJECT)
        problem(&r, P_INTERNAL_ERROR, NULL, "internal error");
    metrics_request(r.route ? (int)(r.route - routes) : METRICS_ROUTES, r.status,
                    util_mono_us() - r.started_us);
    /* a write the client is told succeeded (commerce-failover's evidence) */
    if (r.status >= 200 && r.status < 300 && strcmp(r.method, "GET") != 0 &&
        strcmp(r.method, "HEAD") != 0)
        metrics_acked_write(util_wall_us());
    if (r.status >= 500 && r.status != 503)
        log_error("%s %s -> %d", r.method, r.path, r.status);
    fcgi_write(&r, fr);
    req_release(&r);
    log_set_request(NULL);
}

/* Whether the listening socket (fd 0) is a unix socket. */
static int listening_on_unix(void)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);

    return getsockname(0, (struct sockaddr *)&sa, &len) == 0 && sa.ss_family == AF_UNIX;
}

/* A worker that cannot start exits with `code`; under a supervisor (fd 0 is
 * the listening socket) only after a second, so that multiwatch, which always
 * replaces a worker, does not fork it in a tight loop. */
static int start_failed(int code)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);

    if (getsockname(0, (struct sockaddr *)&sa, &len) == 0)
        sleep(1);
    return code;
}

static const char usage[] =
    "usage: commerce-fcgi [--help | --version]\n"
    "The commerce FastCGI worker: serves the HTTP API one request at a time on the listening\n"
    "socket it gets as fd 0 (spawn-fcgi and multiwatch, or systemd StandardInput=socket),\n"
    "with one MariaDB connection. SIGTERM or SIGUSR1: finish the current request, then exit.";

int main(int argc, char **argv)
{
    app_t app;
    schema_guard_t guard;
    FCGX_Request fr;
    size_t nroutes;
    const route_t *routes = routes_table(&nroutes);

    char err[512];

    log_set_name("commerce-fcgi");
    if (argc > 1) {
        if (argc == 2 && cli_standard(argv[1], "commerce-fcgi", usage, CONFIG_FOR_FCGI))
            return 0;
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    if (config_load(&app.cfg, CONFIG_WORKER) != C_OK) {
        log_error("invalid configuration; see the lines above");
        return start_failed(2);
    }
    log_set_level_name(app.cfg.log_level);
    log_set_format_name(app.cfg.log_format);
    if ((app.auth = auth_new(&app.cfg, err, sizeof(err))) == NULL) {
        log_error("config: %s", err);
        return start_failed(2);
    }
    if (!auth_enabled(app.auth))
        log_warn("auth=off: user routes need no access token and act for any user; "
                 "for development only, never in production");
    if (mysql_library_init(0, NULL, NULL) != 0 || FCGX_Init() != 0) {
        log_error("library initialisation failed");
        return start_failed(1);
    }
    metrics_open(app.cfg.metrics_file);
    /* verified tokens shared by the pool, beside the shared counters */
    if (app.cfg.metrics_file[0]) {
        char path[512];
        snprintf(path, sizeof(path), "%s-tokens", app.cfg.metrics_file);
        if (auth_share(app.auth, path, err, sizeof(err)) != 0)
            log_warn("auth: %s; verified tokens kept per worker", err);
    }
    app.db = db_new(&app.cfg);
    if (!app.db)
        return 1;
    db_set_durable(app.db, config_durable(&app.cfg));
    db_set_barrier(app.db, idem_barrier);
    app.replicas = replicas_new(&app.cfg); /* NULL: no replicas, every read on the primary */
    schema_guard(app.db, &guard, "commerce-fcgi", app.cfg.db_name);
    if (db_ensure(app.db) != C_OK) {
        if (guard.refused) /* logged: the migration to apply */
            return start_failed(1);
        log_warn("database not reachable at start; answering 503 until it is");
    }
    install_signals();
    /* libfcgi closes a connection with a lingering close (shutdown, then
     * wait for the peer's EOF) so that TCP cannot reset a response away; on a
     * unix socket nothing can, and the wait is a sleep and a wakeup per
     * request: close at once (FCGX_Detach skips the linger). */
    int quick_close = listening_on_unix();
    FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
    log_info("ready");
    while (!stop_requested) {
        if (FCGX_Accept_r(&fr) < 0) {
            if (errno == EINTR && !stop_requested)
                continue;
            break;
        }
        serve(&app, &fr, routes, nroutes);
        if (quick_close)
            FCGX_Detach(&fr);
        FCGX_Finish_r(&fr);
    }
    FCGX_Free(&fr, 1);
    replicas_free(app.replicas);
    db_free(app.db);
    auth_free(app.auth);
    mysql_library_end();
    log_info("stopped");
    return 0;
}
