# shellcheck shell=bash
# The FastCGI worker pools, and the database fault proxy some tests put in front of MariaDB.
# A pool is N commerce-fcgi processes under multiwatch (which replaces any that exits) on one
# FastCGI socket, started by spawn-fcgi through workers-exec.sh; nginx balances over the pools
# (pool 2, STACK_POOLS=2, stands in for a second worker host).
# State-directory files:
#   DIR/run/fcgi.sock, fcgi.pid     pool 1: its socket (0660, nginx's group: nginx's workers
#                                   run as another user) and multiwatch's pid = the pool's
#                                   process group
#   DIR/run/fcgi2.sock, fcgi2.pid   pool 2
#   DIR/log/worker.log              what the workers and multiwatch write
#   DIR/run/dbproxy.sock, dbproxy.pid, dbproxy/   scripts/db-fault-proxy.py's socket, pid and
#                                   control directory; DIR/commerce-proxied.conf the workers'
#                                   configuration through it; DIR/log/dbproxy.log

# pool_file DIR POOL EXT: DIR/run/fcgi.EXT for pool 1, DIR/run/fcgi2.EXT for pool 2 (a second
# pool stands in for a second worker host behind the same nginx upstream).
pool_file() { if [[ ${2:-1} == 1 ]]; then echo "$1/run/fcgi.$3"; else echo "$1/run/fcgi$2.$3"; fi; }

# workers_start DIR N [CONFIG] [POOL]: (re)start N commerce-fcgi workers (of stack_bin) under
# multiwatch on the pool's socket (pool_file), with CONFIG (default DIR/commerce.conf).
# Always restarts, so a rebuilt binary or a new configuration takes effect.
# COMMERCE_WORKER_WRAPPER (optional) prefixes each worker, e.g. "/usr/bin/valgrind --leak-check=full"
# (an absolute path: multiwatch does not search PATH; the value is split on spaces).
workers_start() {
	local dir=$1 n=$2 conf=${3:-$1/commerce.conf} pool=${4:-1} bin
	bin=$(stack_bin "$dir")/commerce-fcgi
	local sock pidfile group=()
	sock=$(pool_file "$dir" "$pool" sock)
	pidfile=$(pool_file "$dir" "$pool" pid)
	[[ -x $bin ]] || die "missing $bin (build failed?)"
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "bad worker count: $n"
	[[ -f $conf ]] || die "missing $conf"
	workers_stop "$dir" "$pool"
	rm -f "$sock"
	# the socket is the owner's and nginx's group's (0660): no other local user reaches the
	# workers past nginx (its allow list guards /admin/ and /metrics). When nginx's workers run
	# as root (nginx_user: a state dir under a private directory) the socket stays root's own:
	# spawn-fcgi refuses group 0, and root needs none.
	local g
	g=$(nginx_group "$dir")
	[[ $(id -u) -eq 0 && $g != root ]] && group=(-G "$g")
	# spawn-fcgi binds the socket, forks, calls setsid (so the pool is one process group whose
	# id is in the pid file) and runs workers-exec.sh, which becomes multiwatch (same pid).
	COMMERCE_CONFIG=$conf COMMERCE_WORKER_LOG=$dir/log/worker.log \
		COMMERCE_WORKER_WRAPPER=${COMMERCE_WORKER_WRAPPER:-} \
		spawn-fcgi -s "$sock" -M 0660 "${group[@]}" -P "$pidfile" -d "$dir" -- \
		"$COMMERCE_ROOT/scripts/lib/workers-exec.sh" "$n" "$bin" >/dev/null ||
		die "spawn-fcgi failed (log: $dir/log/worker.log)"
	# Wait until multiwatch runs (the sh has exec'd) so a stop right after finds it.
	local deadline=$((SECONDS + 5))
	while [[ -z $(pidfile_pid "$pidfile" multiwatch) ]]; do
		((SECONDS < deadline)) || die "worker pool did not start (log: $dir/log/worker.log)"
		sleep 0.05
	done
	log "$n workers on $sock"
}

# workers_roll DIR N [POOL]: replace the pool's workers one at a time
# (systemd/commerce-fcgi-roll), the socket and multiwatch staying; starts the pool when none
# runs.
workers_roll() {
	local dir=$1 mw
	mw=$(pidfile_pid "$(pool_file "$dir" "${3:-1}" pid)" multiwatch)
	if [[ -z $mw ]]; then
		workers_start "$dir" "$2" "" "${3:-1}"
		return
	fi
	"$COMMERCE_ROOT/systemd/commerce-fcgi-roll" "$mw" >&2 || die "rolling restart failed (log: $dir/log/worker.log)"
}

# workers_stop DIR [POOL] [SIGNAL]: multiwatch gets SIGTERM and passes SIGUSR1 on (finish the
# current request, then exit); whatever is left after 15 s is killed. SIGNAL KILL kills the
# whole pool at once (a worker host lost).
workers_stop() {
	local dir=$1 pool=${2:-1} sig=${3:-TERM}
	stop_group "$(pool_file "$dir" "$pool" pid)" "$(stack_bin "$dir")/commerce-fcgi" "$sig" 15
	# a pool killed (KILL) leaves its socket: nginx's connections to it are refused, as to a
	# host that died
	[[ $sig == KILL ]] || rm -f "$(pool_file "$dir" "$pool" sock)"
}

# dbproxy_on DIR N: put scripts/db-fault-proxy.py between the N workers and MariaDB (control dir
# DIR/run/dbproxy, see the script); the workers restart with DIR/commerce-proxied.conf, which
# also shortens their lock wait (and so the time they try to learn a lost commit's outcome) to
# 1 s. dbproxy_off DIR N: the workers back on MariaDB itself, the proxy stopped.
dbproxy_on() {
	local dir=$1 n=$2 sock=$1/run/dbproxy.sock i
	dbproxy_stop "$dir"
	rm -rf "$dir/run/dbproxy"
	daemon_start "$dir" "$dir/run/dbproxy.pid" "$dir/log/dbproxy.log" \
		python3 "$COMMERCE_ROOT/scripts/db-fault-proxy.py" --listen "$sock" \
		--upstream "$(db_socket "$dir")" --control "$dir/run/dbproxy"
	for ((i = 0; i < 100; i++)); do
		[[ -S $sock ]] && break
		[[ -n $(pidfile_pid "$dir/run/dbproxy.pid" db-fault-proxy) ]] ||
			die "db-fault-proxy exited (see $dir/log/dbproxy.log)"
		sleep 0.1
	done
	[[ -S $sock ]] || die "db-fault-proxy did not listen on $sock"
	rm -f "$dir/commerce-proxied.conf"
	install -m 600 /dev/null "$dir/commerce-proxied.conf"
	sed -e "s#^db_socket=.*#db_socket=$sock#" -e "s#^db_lock_wait_timeout_s=.*#db_lock_wait_timeout_s=1#" \
		"$dir/commerce.conf" >"$dir/commerce-proxied.conf"
	workers_start "$dir" "$n" "$dir/commerce-proxied.conf"
	workers_stop "$dir" 2 # every write through the proxy: no second pool meanwhile
}

dbproxy_off() {
	workers_start "$1" "$2"
	[[ ${STACK_POOLS:-1} == 2 ]] && workers_start "$1" "$2" "" 2
	dbproxy_stop "$1"
}

dbproxy_stop() {
	stop_group "$1/run/dbproxy.pid" "db-fault-proxy" TERM 5
}
