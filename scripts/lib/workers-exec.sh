#!/bin/sh
# workers-exec.sh N BINARY: what spawn-fcgi runs for a worker pool (workers_start, workers.sh).
# spawn-fcgi has bound the FastCGI socket (our stdin), called setsid and pointed stdout and
# stderr at /dev/null: send them to the worker log (COMMERCE_WORKER_LOG) instead, then become
# multiwatch (the same pid, the one in the pool's pid file), which keeps N copies of BINARY
# running, each prefixed with COMMERCE_WORKER_WRAPPER when set (split on spaces).
set -eu
exec >>"$COMMERCE_WORKER_LOG" 2>&1
# shellcheck disable=SC2086 # the wrapper is a command prefix
exec /usr/bin/multiwatch -f "$1" -r 2000000000 -t 0 -- ${COMMERCE_WORKER_WRAPPER:-} "$2"
