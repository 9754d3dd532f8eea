# shellcheck shell=bash
# bench/lib/peers.sh: the peers (../shared/peers, used where they are, never copied into the
# repo) behind the stack's nginx, for the orders benchmark: their packages and binaries, their
# database `peer`, PHP-FPM, the fcgi-hello responders and the nginx locations
# (bench/lib/peers.conf.in). Owns peers_up and peers_down, and $pdir's contents.
# shellcheck disable=SC2154 # dir, pdir, sock, url, php_launcher, php_children: bench/lib/common.sh

peers=$COMMERCE_ROOT/../shared/peers
PEER_PACKAGES=(php8.2-fpm php8.2-mysql)

# peer_db_reset: (re)create the peers' own database `peer` from their schema.sql.
peer_db_reset() { db_sql "$dir" <"$peers/schema.sql"; }

# php_start: PHP-FPM on a copy of the peer's pool file (@DIR@, @CHILDREN@ replaced). It
# daemonizes or not as that file says; either way it runs in its own session, its master is
# in $pdir/php-fpm.pid, and cleanup stops it.
php_start() {
	local deadline=$((SECONDS + 15)) rc
	bench_render "$peers/php/php-fpm.conf" DIR="$pdir" CHILDREN="$php_children" >"$pdir/php-fpm.conf"
	setsid php-fpm8.2 -R -y "$pdir/php-fpm.conf" </dev/null >>"$pdir/php-fpm.out" 2>&1 &
	php_launcher=$!
	until [[ -n $(pidfile_pid "$pdir/php-fpm.pid" php-fpm) && -S $pdir/php.sock ]]; do
		if ! pid_alive "$php_launcher"; then # daemonized (exit 0) or failed
			rc=0
			wait "$php_launcher" || rc=$?
			((rc == 0)) || die "php-fpm8.2 exited with $rc (log: $pdir/php-fpm.log, $pdir/php-fpm.out)"
		fi
		((SECONDS < deadline)) || die "php-fpm did not start (log: $pdir/php-fpm.log)"
		sleep 0.1
	done
}

# php_stop: stop the PHP-FPM master (SIGTERM: it takes its children along) and its process group.
php_stop() {
	stop_group "$pdir/php-fpm.pid" php-fpm TERM 10
	if [[ -n $php_launcher ]] && pid_alive "$php_launcher" &&
		[[ $(pid_cmdline "$php_launcher") == *php-fpm* ]]; then
		stop_pids TERM 10 "$php_launcher"
	fi
}

# hello_start: two fcgi-hello responders on their own socket (spawn-fcgi -F 2).
hello_start() {
	spawn-fcgi -F 2 -s "$pdir/hello.sock" -M 0666 -P "$pdir/hello.pid" -- "$pdir/hello" >/dev/null ||
		die "spawn-fcgi of fcgi-hello failed"
}

# hello_stop: the responders listed in $pdir/hello.pid that still run $pdir/hello.
hello_stop() {
	local pids=() pid listed
	[[ -r $pdir/hello.pid ]] || return 0
	mapfile -t listed <"$pdir/hello.pid" # spawn-fcgi ends the last pid without a newline
	for pid in "${listed[@]}"; do
		if pid_alive "$pid" && [[ $(pid_cmdline "$pid") == "$pdir/hello"* ]]; then
			pids+=("$pid")
		fi
	done
	# stateless, and libfcgi catches SIGTERM (it would exit after its next request): SIGKILL
	stop_pids KILL 5 "${pids[@]}"
	rm -f "$pdir/hello.pid"
}

# peers_nginx: the peers' locations in the stack's nginx (DIR/nginx.d/ is included in its server
# block), a reload, and a wait until both answer.
peers_nginx() {
	bench_render "$BENCH_DIR/lib/peers.conf.in" PEERS="$peers" SOCK="$sock" PDIR="$pdir" \
		>"$dir/nginx.d/peers.conf"
	nginx_cmd "$dir" -t -q || die "nginx rejects the peers' locations ($dir/nginx.d/peers.conf)"
	nginx_cmd "$dir" -s reload
	wait_http "$url/hello" 15 || die "fcgi-hello does not answer through nginx"
	wait_http "$url/php/products/1" 15 || die "the PHP peer does not answer (log: $pdir/php-fpm.log)"
}

# peers_up: packages, binaries, database, processes and nginx locations of the peers.
peers_up() {
	[[ -f $peers/README.md ]] || die "no peers at $peers"
	peers=$(cd "$peers" && pwd)
	ensure_packages "${PEER_PACKAGES[@]}" # the PHP peer's, for the benchmark only
	mkdir -p "$pdir"
	chmod 755 "$pdir"
	cc -O2 -o "$pdir/hello" "$peers/fcgi-hello/hello.c" -lfcgi
	# shellcheck disable=SC2046 # mariadb_config prints several words
	cc -O2 -o "$pdir/rawdb_min" "$peers/rawdb/rawdb_min.c" $(mariadb_config --cflags --libs) -lpthread
	peer_db_reset
	php_start
	hello_start
	peers_nginx
}

# peers_down: stop whatever of the peers runs (the stack's nginx goes with the stack).
peers_down() {
	[[ -d $pdir ]] || return 0
	php_stop
	hello_stop
}
