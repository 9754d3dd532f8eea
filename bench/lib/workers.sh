# shellcheck shell=bash
# bench/lib/workers.sh: `bench/run workers`, the service alone with 4, 8 and 16 workers:
# POST /orders (random product) and GET /products/{id}, throughput and latency, to choose the
# pool's size from.
# shellcheck disable=SC2154 # dir, o_conns, o_secs, o_users: bench/lib/common.sh

# run_workers: one row per pool size; the stack's own pool back afterwards.
run_workers() {
	local w o g
	echo "-- workers: the same load (c=$o_conns, ${o_secs}s) with 4, 8 and 16 workers"
	relay_stop "$dir"
	printf '%-8s %12s %8s %8s | %12s %8s %8s\n' workers "orders/s" "p50 ms" "p99 ms" "GET/s" "p50 ms" \
		"p99 ms"
	for w in 4 8 16; do
		bench_workers "$w"
		load_data "$o_users"
		BENCH_USERS=$o_users wrk_warm bench/order.lua
		o=$(BENCH_USERS=$o_users wrk_run bench/order.lua)
		g=$(wrk_run bench/product.lua)
		printf '%-8s %12s %8s %8s | %12s %8s %8s\n' "$w" "$(field ok_per_s "$o")" \
			"$(field p50_ms "$o")" "$(field p99_ms "$o")" "$(field ok_per_s "$g")" \
			"$(field p50_ms "$g")" "$(field p99_ms "$g")"
		wrk_flag "$o" && echo "FLAG: orders with $w workers: errors over 0.1 %: $o"
		wrk_flag "$g" && echo "FLAG: GET with $w workers: errors over 0.1 %: $g"
	done
	bench_workers "$STACK_WORKERS"
	load_data
	relay_start "$dir"
}
