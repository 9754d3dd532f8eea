# shellcheck shell=bash
# bench/lib/curve.sh: `bench/run orders --curve`, POST /orders (random product) at each
# concurrency of BENCH_CURVE (default c = 1 2 4 8 16 32 64) for the service, the PHP peer, the
# raw floor and the service's own transaction (bench/lib/orders.sh's runs, each on fresh data),
# one after another at each c. Prints the table, and draws with Debian's gnuplot
# (bench/curve.gp) two SVG plots into BENCH_PLOTS (default docs/bench/): throughput and p99
# against concurrency, with the data they are drawn from (orders-curve.dat). BENCH_LABEL
# (e.g. "shared machine") goes into the plots' title, after the date and the machine.
# shellcheck disable=SC2154 # dir, o_conns, o_secs, o_users, php_children, peers: common.sh, peers.sh

# curve_row C: one line of the data file for concurrency C: "c svc svc_p99 php php_p99 floor
# own own_p99" (rates per second, p99 in ms; the floor reports no latency: "-").
curve_row() {
	local c=$1 svc php floor own
	# shellcheck disable=SC2034 # read by wrk_run, floor_run and own_run
	o_conns=$c
	load_data "$o_users"
	svc=$(BENCH_USERS=$o_users wrk_run bench/order.lua)
	record "$c" curve service "$svc"
	peer_db_reset
	php=$(PEER_WRK=$peers/wrk/php_order.lua wrk_run bench/peer.lua)
	record "$c" curve php "$php"
	peer_db_reset
	floor=$(floor_run spread)
	record "$c" curve floor "$floor"
	own=$(own_run "")
	record "$c" curve own "$own"
	printf '%s %s %s %s %s %s %s %s\n' "$c" "$(field ok_per_s "$svc")" "$(field p99_ms "$svc")" \
		"$(field ok_per_s "$php")" "$(field p99_ms "$php")" "$(field tx_per_s "$floor")" \
		"$(field tx_per_s "$own")" "$(field p99_ms "$own")" >>"$dir/curve.dat"
}

run_curve() {
	local cs c out=${BENCH_PLOTS:-$COMMERCE_ROOT/docs/bench} title
	read -ra cs <<<"${BENCH_CURVE:-1 2 4 8 16 32 64}"
	ensure_packages gnuplot-nox
	echo "-- orders against concurrency: POST /orders random at c = ${cs[*]}, ${o_secs}s a run, for"
	echo "   the service (${STACK_WORKERS} workers), the PHP peer (PHP-FPM $php_children children),"
	echo "   the floor (rawdb_min) and the service's own transaction (bench_rawdb); wrk with"
	echo "   2 threads (1 at c=1); $o_users users; the relay is stopped meanwhile"
	orders_setup
	printf '# c svc_per_s svc_p99_ms php_per_s php_p99_ms floor_per_s own_per_s own_p99_ms\n' \
		>"$dir/curve.dat"
	for c in "${cs[@]}"; do
		curve_row "$c"
	done
	echo
	printf '| %3s | %7s | %7s | %7s | %7s | %7s | %8s | %7s | %7s |\n' c "svc/s" "p99 ms" "PHP/s" \
		"p99 ms" "svc/PHP" "floor/s" "own/s" "p99 ms"
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ----- --------- --------- --------- --------- \
		--------- ---------- --------- ---------
	while read -r c svc sp php pp floor own op; do
		[[ $c == '#' ]] && continue
		printf '| %3s | %7s | %7s | %7s | %7s | %7s | %8s | %7s | %7s |\n' "$c" "$svc" "$sp" \
			"$php" "$pp" "$(ratio "$svc" "$php")" "$floor" "$own" "$op"
	done <"$dir/curve.dat"
	if ((${#flags[@]})); then
		echo
		printf '%s\n' "${flags[@]}"
	fi
	mkdir -p "$out"
	cp "$dir/curve.dat" "$out/orders-curve.dat"
	title="bench/run orders --curve, $(date -u +%F), $(nproc) cores${BENCH_LABEL:+, $BENCH_LABEL}"
	# gnuplot's single-quoted strings write a quote twice
	gnuplot -e "data='${out//\'/\'\'}/orders-curve.dat'; dir='${out//\'/\'\'}'; label='${title//\'/\'\'}'" \
		"$BENCH_DIR/curve.gp" || die "gnuplot failed"
	echo
	echo "plots: $out/orders-throughput.svg $out/orders-p99.svg (data: $out/orders-curve.dat)"
	load_data
	relay_start "$dir"
}
