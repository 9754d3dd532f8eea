# shellcheck shell=bash
# The stack library: every script, test and benchmark sources this file (source it; do not run
# it). It loads the parts in scripts/lib/, one file per concern (HACKING.md has the map):
#   packages.sh  Debian packages, promtool, the build
#   proc.sh      processes (start-stop-daemon, pgrep), ports, readiness
#   config.sh    the state directory's layout, secrets, the programs' configuration files
#   db.sh        the MariaDB primary: init, start, stop, schema, accounts, demo data
#   replica.sh   the replica and the failover
#   workers.sh   the FastCGI worker pools (spawn-fcgi + multiwatch), the db fault proxy
#   feed.sh      commerce-relay and the fake data platform
#   nginx.sh     nginx in front of the pools
#   presets.sh   the named parameter sets (dev, test, bench, faults)
#   stack.sh     the stack's life: up, down, status, logs, env; the test harness's helpers
#   browser.sh   the browser tests: Debian's chromium and puppeteer-core (tests/browser)
#   upgrade.sh   the upgrade drill's releases: a previous one built from history, installed
#   shop.sh      the demo storefront at /shop on a development stack
#
# A "stack" lives entirely in one state directory DIR (each part's header lists its files). Only
# its owner and nginx's workers get in (state_prepare: DIR and DIR/run 0710 with nginx's group,
# the worker sockets 0660, the logs 0750); MariaDB's administrators are root and the owner by
# unix_socket authentication (db_admin), and no account is without a password:
#   DIR/mysql/                the primary's datadir (DIR/mysql.initialized marks a complete init)
#   DIR/replica/mysql/        the replica's (STACK_REPLICA=1)
#   DIR/run/                  sockets and pid files:
#     db.sock                 the stable name clients use: a symlink to the current primary
#     mysqld.sock, mysqld.pid           the primary (no TCP unless it feeds a replica: db.port)
#     replica.sock, replica.pid         the replica
#     fcgi.sock, fcgi.pid               worker pool 1 (the pid: multiwatch = the pool's group)
#     fcgi2.sock, fcgi2.pid             worker pool 2 (STACK_POOLS=2)
#     nginx.pid, relay.pid, platform.pid   nginx's master, commerce-relay, the fake platform
#     dbproxy.sock, dbproxy.pid, dbproxy/  scripts/db-fault-proxy.py (tests only)
#     metrics                 the workers' shared metrics file
#   DIR/log/                  mysqld.err, replica.err, worker.log, nginx-error.log,
#                             nginx-access.log, relay.log, platform.log, platform-events.jsonl
#   DIR/nginx/, DIR/nginx.d/  nginx's temp paths; more locations for its server block
#   DIR/docs/                 the docs nginx serves (/docs, /openapi.yaml): copies, never the
#                             repository, which may be private (the dev preset's page has a token)
#   DIR/nginx.conf            rendered from nginx/dev.conf.in
#   DIR/commerce-console.conf the operator console's locations (nginx/commerce-console.conf)
#   DIR/www/console/, DIR/www/shop/   copies of the pages nginx serves (nginx.sh, shop.sh)
#   DIR/nginx.d/shop.conf     the demo storefront and its session, 0600 (shop.sh)
#   DIR/commerce.conf         the workers' configuration (COMMERCE_CONFIG of commerce-fcgi)
#   DIR/relay.conf, DIR/popular.conf   commerce-relay's and commerce-popular's
#   DIR/secrets/              0700: the database passwords, the admin token, the HS256 token
#                             secret, the platform's signing secret
#   DIR/auth/                 the test stack's token keys (jwks.json and private PEMs)
#   DIR/stack.env             the parameters the stack was started with (read by scripts/stack)
#   DIR/migrate.conf          commerce-migrate's configuration (the DDL account)
#   DIR/bin/, DIR/sql/, DIR/old/   the upgrade drill's installed release and the previous one
#
# Every *_start is idempotent and survives a previous crash: it finds what runs from the same DIR
# (by pid file checked against the command line, or by the exact --datadir argument), reuses a
# healthy MariaDB, restarts workers and nginx, and clears stale pid files and sockets.

# Strict mode also for callers that forgot it.
set -euo pipefail

COMMERCE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMERCE_DB_NAME=commerce

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# shellcheck source=scripts/lib/packages.sh
source "$COMMERCE_ROOT/scripts/lib/packages.sh"
# shellcheck source=scripts/lib/proc.sh
source "$COMMERCE_ROOT/scripts/lib/proc.sh"
# shellcheck source=scripts/lib/config.sh
source "$COMMERCE_ROOT/scripts/lib/config.sh"
# shellcheck source=scripts/lib/db.sh
source "$COMMERCE_ROOT/scripts/lib/db.sh"
# shellcheck source=scripts/lib/replica.sh
source "$COMMERCE_ROOT/scripts/lib/replica.sh"
# shellcheck source=scripts/lib/workers.sh
source "$COMMERCE_ROOT/scripts/lib/workers.sh"
# shellcheck source=scripts/lib/feed.sh
source "$COMMERCE_ROOT/scripts/lib/feed.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$COMMERCE_ROOT/scripts/lib/nginx.sh"
# shellcheck source=scripts/lib/presets.sh
source "$COMMERCE_ROOT/scripts/lib/presets.sh"
# shellcheck source=scripts/lib/stack.sh
source "$COMMERCE_ROOT/scripts/lib/stack.sh"
# shellcheck source=scripts/lib/browser.sh
source "$COMMERCE_ROOT/scripts/lib/browser.sh"
# shellcheck source=scripts/lib/upgrade.sh
source "$COMMERCE_ROOT/scripts/lib/upgrade.sh"
# shellcheck source=scripts/lib/shop.sh
source "$COMMERCE_ROOT/scripts/lib/shop.sh"
