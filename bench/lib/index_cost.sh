# shellcheck shell=bash
# bench/lib/index_cost.sh: `bench/run orders --index-cost`, what the outbox's order index
# (outbox_order, sql/migrations/0201-outbox-order.sql: GET /admin/orders/{id} finds an order's
# events through it) costs the order path. POST /orders (random product), the service alone,
# with the index and without it, alternating in the same run on the same stack: BENCH_ROUNDS
# rounds (default 3), the order of the pair swapped each round, fresh data before each run.
# Prints each run, then per round the rates, their ratio, p99 and the redo bytes per order.
# shellcheck disable=SC2154 # dir, o_users, o_conns, o_secs: bench/lib/common.sh

# outbox_index on|off: the index there or not (on the empty outbox load_data leaves: instant).
outbox_index() {
	if [[ $1 == on ]]; then
		db_sql "$dir" commerce -e "ALTER TABLE outbox ADD INDEX IF NOT EXISTS outbox_order (order_id)"
	else
		db_sql "$dir" commerce -e "ALTER TABLE outbox DROP INDEX IF EXISTS outbox_order"
	fi
}

# index_run ROUND on|off: one measured run; prints "ROUND on|off <wrk line> redo=<bytes/order>".
index_run() {
	local r=$1 ix=$2 line redo
	outbox_index "$ix"
	load_data "$o_users"
	line=$(BENCH_USERS=$o_users measured_wrk commerce.orders "ix$ix$r" bench/order.lua)
	redo=$(per_order "x" "ix$ix$r" | sed -n 's/.*redo \([0-9]*\) bytes.*/\1/p')
	echo "$r $ix $line redo=${redo:--}"
}

run_index_cost() {
	local rounds=${BENCH_ROUNDS:-3} r ix first second line
	local -A got=()
	echo "-- the outbox's order index (outbox_order) on the order path: POST /orders random, the"
	echo "   service alone, with and without it in the same run, $rounds rounds (the pair's order"
	echo "   swapped each round); c=$o_conns, ${o_secs}s a run, $o_users users; the relay stopped"
	relay_stop "$dir"
	load_data "$o_users"
	BENCH_USERS=$o_users wrk_warm bench/order.lua
	for ((r = 1; r <= rounds; r++)); do
		first=off second=on
		((r % 2 == 0)) && first=on second=off
		for ix in $first $second; do
			line=$(index_run "$r" "$ix")
			got[$r:$ix]=$line
			echo "  r$r index $ix: ${line#* * }"
		done
	done
	echo
	printf '| %-5s | %-9s | %-9s | %-7s | %-12s | %-12s | %-13s | %-13s |\n' round "off /s" "on /s" \
		"on/off" "p99 off ms" "p99 on ms" "redo off B" "redo on B"
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------- ----------- ----------- --------- -------------- \
		-------------- --------------- ---------------
	for ((r = 1; r <= rounds; r++)); do
		printf '| %-5s | %9s | %9s | %7s | %12s | %12s | %13s | %13s |\n' "$r" \
			"$(field ok_per_s "${got[$r:off]}")" "$(field ok_per_s "${got[$r:on]}")" \
			"$(ratio "$(field ok_per_s "${got[$r:on]}")" "$(field ok_per_s "${got[$r:off]}")")" \
			"$(field p99_ms "${got[$r:off]}")" "$(field p99_ms "${got[$r:on]}")" \
			"$(field redo "${got[$r:off]}")" "$(field redo "${got[$r:on]}")"
		wrk_flag "${got[$r:off]}" && echo "FLAG: round $r without the index: errors over 0.1 %"
		wrk_flag "${got[$r:on]}" && echo "FLAG: round $r with the index: errors over 0.1 %"
	done
	outbox_index on
	load_data
	relay_start "$dir"
}
