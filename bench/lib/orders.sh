# shellcheck shell=bash
# bench/lib/orders.sh: `bench/run orders`, the service against its peers (bench/lib/peers.sh)
# behind the same nginx on the same MariaDB, twice in the same run: POST /orders (random
# product, one hot product) and GET /products/{id}, each measured for the service, the PHP
# peer, the raw floor (rawdb_min), the service's own transaction (bench_rawdb) and fcgi-hello,
# with the server's counters read around the random runs. Owns the runs and the rounds; the
# figures they make are bench/lib/report.sh's.
# shellcheck disable=SC2154 # dir, pdir, sock, url, o_*, products, php_children, peers: common.sh, peers.sh

# The counters of the per-order line (SHOW GLOBAL STATUS).
STATUS_VARS=(Questions Com_stmt_execute Com_stmt_prepare Com_select Com_insert Com_update
	Com_begin Com_commit Com_rollback Handler_write Handler_update Innodb_os_log_written
	Innodb_data_fsyncs)

# floor_run MODE: rawdb_min against the peer database; prints "floor tx_per_s=R errors=E
# est_tx=N" and its cpu line (cpu_run). It prints only a rate of commits and a count of failed
# transactions, so the count of commits is estimated as rate x seconds.
floor_run() {
	local out tps errs
	out=$(cpu_run "$pdir/rawdb_min" "$sock" "$o_conns" "$o_secs" "$1")
	tps=$(sed -n 's|.* tx/s=\([0-9.]*\).*|\1|p' <<<"$out")
	errs=$(sed -n 's|.* errors=\([0-9]*\).*|\1|p' <<<"$out")
	[[ -n $tps && -n $errs ]] || die "unexpected rawdb_min output: $out"
	echo "floor $1 tx_per_s=$tps errors=$errs est_tx=$(awk -v r="$tps" -v s="$o_secs" 'BEGIN { printf "%.0f", r * s }')"
	grep '^cpu ' <<<"$out"
}

# own_run HOT: bench_rawdb, the service's own order transaction over libmariadb with the
# workers' own configuration (and database account), on fresh data; prints its result line
# and, when it flagged the run, its FLAG line; then its cpu line (cpu_run).
own_run() {
	local hot=$1
	load_data "$o_users"
	cpu_run bench/bench_rawdb --config "$dir/commerce.conf" --procs "$o_conns" --seconds "$o_secs" \
		--users "$o_users" --products "$products" ${hot:+--hot "$hot"} | grep -E '^(rawdb|FLAG:|cpu) '
}

# db_reading TABLE FILE: the row count of TABLE and the STATUS_VARS, read in one client
# session, into FILE as "name value" lines.
db_reading() {
	local list
	list=$(printf ",'%s'" "${STATUS_VARS[@]}")
	db_sql "$dir" -N -B -e "SELECT 'rows', COUNT(*) FROM $1;
		SHOW GLOBAL STATUS WHERE Variable_name IN (${list:1})" >"$2"
}

# wait_quiet TABLE: wait until TABLE's row count stops changing (requests in flight when wrk
# exits still commit), at most 10 s.
wait_quiet() {
	local deadline=$((SECONDS + 10)) a b
	a=$(db_sql "$dir" -N -B -e "SELECT COUNT(*) FROM $1")
	while ((SECONDS < deadline)); do
		sleep 0.2
		b=$(db_sql "$dir" -N -B -e "SELECT COUNT(*) FROM $1")
		[[ $a == "$b" ]] && return 0
		a=$b
	done
	log "warning: $1 still growing 10 s after the run"
}

# measured_wrk TABLE KEY SCRIPT: wrk_run SCRIPT with readings of TABLE's rows and the server's
# counters around it: an idle pair first (what a reading itself adds), one after. Readings go
# to $dir/status/KEY.{0,1,2}, the wrk line to stdout.
measured_wrk() {
	local table=$1 key=$2 script=$3 w
	mkdir -p "$dir/status"
	db_reading "$table" "$dir/status/$key.0"
	db_reading "$table" "$dir/status/$key.1"
	w=$(wrk_run "$script")
	wait_quiet "$table"
	db_reading "$table" "$dir/status/$key.2"
	echo "$w"
}

# orders_round ROUND KIND HOT: POST /orders, KIND random or hot (every order for product HOT):
# the service, the PHP peer, the floor, the service's own transaction, each on fresh data;
# counters around the random runs of the service and the PHP peer.
orders_round() {
	local r=$1 kind=$2 hot=$3 mode=spread line
	[[ -n $hot ]] && mode=hot
	load_data "$o_users"
	if [[ $kind == random ]]; then
		line=$(BENCH_USERS=$o_users BENCH_HOT=$hot measured_wrk commerce.orders "svc$r" bench/order.lua)
	else
		line=$(BENCH_USERS=$o_users BENCH_HOT=$hot wrk_run bench/order.lua)
	fi
	record "$r" "$kind" service "$line"
	peer_db_reset
	if [[ $kind == random ]]; then
		line=$(PEER_HOT=$hot PEER_WRK=$peers/wrk/php_order.lua measured_wrk peer.orders "php$r" bench/peer.lua)
	else
		line=$(PEER_HOT=$hot PEER_WRK=$peers/wrk/php_order.lua wrk_run bench/peer.lua)
	fi
	record "$r" "$kind" php "$line"
	peer_db_reset
	line=$(floor_run "$mode")
	record "$r" "$kind" floor "$line"
	line=$(own_run "$hot")
	record "$r" "$kind" own "$line"
}

# read_round ROUND: GET /products/{id}: the service, the PHP peer, fcgi-hello, the floor's read.
read_round() {
	local r=$1 line
	line=$(wrk_run bench/product.lua)
	record "$r" read service "$line"
	line=$(PEER_WRK=$peers/wrk/php_product.lua wrk_run bench/peer.lua)
	record "$r" read php "$line"
	line=$(wrk_run bench/hello.lua)
	record "$r" read hello "$line"
	line=$(floor_run read)
	record "$r" read floor "$line"
}

# orders_setup: peers up, the relay stopped (the peers have none, and its deliveries would take
# CPU from whichever run follows), fresh data, and a short warm-up: statement caches, PHP's
# opcache, the buffer pool. (run_orders, and run_curve in bench/lib/curve.sh)
orders_setup() {
	peers_up
	relay_stop "$dir"
	load_data "$o_users"
	peer_db_reset
	BENCH_USERS=$o_users wrk_warm bench/order.lua
	PEER_WRK=$peers/wrk/php_order.lua wrk_warm bench/peer.lua
}

# run_orders: the comparison: orders_setup, two rounds of service / PHP peer / floor (/ own
# transaction, fcgi-hello), then the table.
run_orders() {
	local r
	echo "-- orders: the service vs peers measured in the same run, twice. c=$o_conns (wrk 2 threads; raw"
	echo "   clients: $o_conns processes or threads), ${o_secs}s per run, ${STACK_WORKERS} workers, PHP-FPM $php_children"
	echo "   children, 2 fcgi-hello; $o_users users, $products products; the relay is stopped meanwhile"
	orders_setup
	for r in 1 2; do
		orders_round "$r" random ""
		orders_round "$r" hot 1
		read_round "$r"
	done
	echo
	echo "svc, PHP, hello: 2xx responses/s through the same nginx; floor: rawdb_min commits/s (peer"
	echo "schema, leaner transaction); own: bench_rawdb, the service's own order transaction over"
	echo "libmariadb (commits/s); p50/p99 of the service over all its responses"
	orders_table
	echo
	echo "per committed order, POST /orders random (statements sent = Questions: every COM_QUERY and"
	echo "COM_STMT_EXECUTE, not prepares; the readings' own statements subtracted):"
	for r in 1 2; do
		per_order "  service  r$r" "svc$r"
		per_order "  PHP peer r$r" "php$r"
	done
	echo
	echo "CPU per request by process group, over each run's window (bench/lib/cpu.py: /proc, all"
	echo "processes; µs of CPU per 2xx response or commit; idle: the machine's unused CPU):"
	cpu_table
	if ((${#flags[@]})); then
		echo
		printf '%s\n' "${flags[@]}"
	fi
	load_data # no backlog of events from these runs for the relay to work through
	relay_start "$dir"
}
