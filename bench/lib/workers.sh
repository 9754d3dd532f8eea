# shellcheck shell=bash
# bench/lib/workers.sh: `bench/run workers`, the service alone with 8, 12 and 16 workers
# (BENCH_POOLS to choose others): POST /orders (random product) and GET /products/{id},
# throughput and latency, the CPU per request by process group (bench/lib/cpu.py) and InnoDB's
# fsyncs per order (how many commits share one), to choose the pool's size from.
# shellcheck disable=SC2154 # dir, o_conns, o_secs, o_users: bench/lib/common.sh

# fsyncs: InnoDB's fsyncs so far (Innodb_data_fsyncs).
fsyncs() {
	db_sql "$dir" -N -B -e "SHOW GLOBAL STATUS LIKE 'Innodb_data_fsyncs'" | awk '{ print $2 }'
}

# run_workers: one row per pool size; the stack's own pool back afterwards.
run_workers() {
	local w o g f0 f1 pools
	read -ra pools <<<"${BENCH_POOLS:-8 12 16}"
	echo "-- workers: the same load (c=$o_conns, ${o_secs}s) with ${pools[*]} workers"
	relay_stop "$dir"
	printf '%-8s %12s %8s %8s %8s | %12s %8s %8s\n' workers "orders/s" "p50 ms" "p99 ms" \
		"fsyncs" "GET/s" "p50 ms" "p99 ms"
	for w in "${pools[@]}"; do
		bench_workers "$w"
		load_data "$o_users"
		BENCH_USERS=$o_users wrk_warm bench/order.lua
		f0=$(fsyncs)
		o=$(BENCH_USERS=$o_users wrk_run bench/order.lua)
		f1=$(fsyncs)
		g=$(wrk_run bench/product.lua)
		printf '%-8s %12s %8s %8s %8s | %12s %8s %8s\n' "$w" "$(field ok_per_s "$o")" \
			"$(field p50_ms "$o")" "$(field p99_ms "$o")" \
			"$(ratio "$((f1 - f0))" "$(field ok "$(grep '^wrk ' <<<"$o")")")" \
			"$(field ok_per_s "$g")" "$(field p50_ms "$g")" "$(field p99_ms "$g")"
		printf '  orders %s\n  GET    %s\n' "$(cpu_per service "$o")" "$(cpu_per service "$g")"
		wrk_flag "$o" && echo "FLAG: orders with $w workers: errors over 0.1 %: $o"
		wrk_flag "$g" && echo "FLAG: GET with $w workers: errors over 0.1 %: $g"
	done
	bench_workers "$STACK_WORKERS"
	load_data
	relay_start "$dir"
}
