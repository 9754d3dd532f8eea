# shellcheck shell=bash
# bench/lib/dbside.sh: `bench/run dbside`, the database side of an order (issue 19): what
# MariaDB spends on one order when the same statements reach it in other ways. The same order
# (one unit of a random product for a random user, no coupon, no Idempotency-Key: what
# bench_rawdb's transaction writes) from o_conns processes, no HTTP, in each mode of
# bench_rawdb --mode (bench/rawdb_tx.h):
#   proc        the service's two CALLs (commerce_order_facts, commerce_order_write), as today;
#   proc-plain  the same with the write's line as plain parameters, no JSON functions
#               (bench_order_write_plain: dbside_plain);
#   batch       the procedures' statements as text, two multi-statement round trips;
#   batch-exec  the same round trips, the statements PREPAREd in SQL and sent as EXECUTE;
#   prepared    the statements as server-side prepared statements, a round trip each.
# Each run on fresh data, the modes one after the other, two rounds (the second in reverse
# order). Per run: commits/s, p50/p99, the CPU per commit by process group (bench/lib/cpu.py:
# mariadbd's is the figure compared) and the statements, rows and redo per order
# (bench/lib/per_order.py); after each mode's first run, the data checked (dbside_check).
# shellcheck disable=SC2154 # dir, o_users, o_conns, o_secs, products: bench/lib/common.sh

DBSIDE_MODES=(proc proc-plain batch batch-exec prepared)
# Round trips per order: prepared is START TRANSACTION, 3 reads, 6 writes and COMMIT.
declare -A DBSIDE_TRIPS=([proc]=2 [proc-plain]=2 [batch]=2 [batch-exec]=2 [prepared]=11)
DBSIDE_INITIAL=1000000000 # every balance and stock bench/sql/load.sql makes

# dbside_plain: bench_order_write_plain in the stack's database for proc-plain, made from
# commerce_order_write as the database has it (bench/lib/plain_write.py: the same procedure,
# the line as plain parameters instead of JSON), runnable by the workers' account as that one
# is; the suite drops it at its end. The migrations are not changed.
dbside_plain() {
	local sql
	sql=$(db_sql "$dir" commerce -N -B -r -e "SHOW CREATE PROCEDURE commerce_order_write" |
		python3 "$BENCH_DIR/lib/plain_write.py") || die "cannot make bench_order_write_plain"
	printf '%s\n%s\n' "$sql" \
		"GRANT EXECUTE ON PROCEDURE bench_order_write_plain TO 'commerce_fcgi'@'localhost';" |
		db_sql "$dir" commerce
}

# dbside_run ROUND MODE: one measured run of MODE on fresh data, the server's counters read
# around it ($dir/status/dsMODEROUND.{0,1,2}: an idle pair, then one after; bench/lib/orders.sh
# db_reading). Prints bench_rawdb's result line (and FLAG line), then the cpu line.
dbside_run() {
	local key=ds$2$1
	load_data "$o_users"
	db_reading commerce.orders "$dir/status/$key.0"
	db_reading commerce.orders "$dir/status/$key.1"
	cpu_run bench/bench_rawdb --config "$dir/commerce.conf" --mode "$2" --procs "$o_conns" \
		--seconds "$o_secs" --users "$o_users" --products "$products" | grep -E '^(rawdb|FLAG:|cpu) '
	db_reading commerce.orders "$dir/status/$key.2"
}

# dbside_check MODE COMMITS: whether the run's data adds up (bench/sql/dbside-check.sql) and
# holds as many orders as bench_rawdb counted commits; one line, every mismatch named.
dbside_check() {
	local out bad orders
	out=$(bench_sql dbside-check INITIAL="$DBSIDE_INITIAL" -- -N -B)
	bad=$(awk '$1 != "orders" && $2 != 0 { printf "%s%s: %s rows", sep, $1, $2; sep = ", " }' <<<"$out")
	orders=$(awk '$1 == "orders" { print $2 }' <<<"$out")
	if [[ -z $bad && $orders == "$2" ]]; then
		echo "  check $1: ok: $orders orders, as many as committed; balances, stock, one event, one item and one history row each"
	else
		echo "  CHECK $1 FAILED: ${bad:-no rule broken}; $orders orders, $2 commits counted"
	fi
}

# run_dbside: the suite (see the top of this file), then the table.
run_dbside() {
	local r mode line cpu stmts
	local -a order
	local -A got=()
	echo "-- dbside: one order (1 unit of a random product, a random user, no coupon, no"
	echo "   Idempotency-Key) sent to MariaDB ${#DBSIDE_MODES[@]} ways by bench_rawdb --mode from $o_conns processes,"
	echo "   ${o_secs}s a run on fresh data, two rounds (the second in reverse order); $o_users users,"
	echo "   $products products; the relay stopped meanwhile"
	relay_stop "$dir"
	mkdir -p "$dir/status"
	dbside_plain
	load_data "$o_users"
	bench/bench_rawdb --config "$dir/commerce.conf" --procs "$o_conns" --seconds 2 \
		--users "$o_users" --products "$products" >/dev/null # warm-up: the buffer pool
	for r in 1 2; do
		order=("${DBSIDE_MODES[@]}")
		if ((r == 2)); then
			order=()
			for mode in "${DBSIDE_MODES[@]}"; do order=("$mode" "${order[@]}"); done
		fi
		for mode in "${order[@]}"; do
			line=$(dbside_run "$r" "$mode")
			got[$r:$mode]=$line
			printf '  r%s %-10s %s\n' "$r" "$mode" "$(grep -v '^cpu ' <<<"$line" | tr '\n' ' ')"
			printf '  %14s%s\n' "" "$(cpu_per own "$line")"
			printf '  %14s%s\n' "" "$(per_order "per order" "ds$mode$r")"
			((r == 1)) && dbside_check "$mode" "$(field tx "$(grep '^rawdb ' <<<"$line")")"
		done
	done
	echo
	echo "per committed order (mariadbd, loadgen: µs of CPU by bench/lib/cpu.py; statements sent:"
	echo "Questions, every COM_QUERY statement and COM_STMT_EXECUTE; vs proc: mariadbd's µs over"
	echo "proc's in the same round):"
	printf '| %-10s | %3s | %7s | %6s | %6s | %8s | %7s | %7s | %10s | %11s |\n' mode rnd "tx/s" \
		"p50 ms" "p99 ms" mariadbd "vs proc" loadgen statements "round trips"
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------ ----- --------- -------- -------- \
		---------- --------- --------- ------------ -------------
	for mode in "${DBSIDE_MODES[@]}"; do
		for r in 1 2; do
			line=${got[$r:$mode]}
			cpu=$(cpu_per own "$line")
			stmts=$(per_order x "ds$mode$r" | sed -n 's/^x: \([0-9.]*\) statements.*/\1/p')
			printf '| %-10s | %3s | %7s | %6s | %6s | %8s | %7s | %7s | %10s | %11s |\n' "$mode" "$r" \
				"$(field tx_per_s "$line")" "$(field p50_ms "$line")" "$(field p99_ms "$line")" \
				"$(dbside_us mariadbd "$cpu")" \
				"$(ratio "$(dbside_us mariadbd "$cpu")" "$(dbside_us mariadbd "$(cpu_per own "${got[$r:proc]}")")")" \
				"$(dbside_us loadgen "$cpu")" "${stmts:--}" "${DBSIDE_TRIPS[$mode]}"
			[[ $line == *FLAG:* ]] && echo "FLAG: $mode, round $r: failures over 0.1 %"
		done
	done
	db_sql "$dir" commerce -e "DROP PROCEDURE IF EXISTS bench_order_write_plain"
	load_data # no backlog of events from these runs for the relay to work through
	relay_start "$dir"
}

# dbside_us GROUP CPULINE: the µs per commit of GROUP in a bench/lib/cpu.py per line.
dbside_us() { sed -n "s/.* $1 \([0-9]*\) .*/\1/p" <<<"$2"; }
