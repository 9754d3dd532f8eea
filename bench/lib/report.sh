# shellcheck shell=bash
# bench/lib/report.sh: the orders benchmark's figures (bench/lib/orders.sh makes them): each
# run's result line kept and shown (record), the runs flagged for failures over 0.1 %, the
# table of rates and ratios (orders_table) and the statements, rows and redo bytes per committed
# order (per_order, bench/lib/per_order.py).
# shellcheck disable=SC2154 # dir: bench/lib/common.sh

declare -A res # "ROUND:KIND:WHO" -> result line; "ROUND:KIND:WHO:flag" -> 1 when flagged
flags=()       # one line per run whose failures exceed 0.1 %

# count_of WHO LINE: the requests or commits a result line counts: 2xx responses for a wrk
# run, commits for the raw clients (the floor's estimated from its rate).
count_of() {
	case $1 in
	floor) field est_tx "$2" ;;
	own) field tx "$(grep '^rawdb ' <<<"$2")" ;;
	*) field ok "$(grep '^wrk ' <<<"$2")" ;;
	esac
}

# cpu_per WHO LINE: the line's CPU per request (or commit) by process group, and the idle share
# (bench/lib/cpu.py per).
cpu_per() {
	python3 "$BENCH_DIR/lib/cpu.py" per "$(count_of "$1" "$2")" "$(grep '^cpu ' <<<"$2")"
}

# record ROUND KIND WHO LINE: keep a result, show it and its CPU per request, note a flag.
record() {
	local key=$1:$2:$3 line=$4 flagged="" shown
	res[$key]=$line
	shown=$(grep -v '^cpu ' <<<"$line")
	printf '  r%s %-6s %-7s %s\n' "$1" "$2" "$3" "${shown//$'\n'/ }"
	printf '  %18s%s\n' "" "$(cpu_per "$3" "$line")"
	case $3 in
	own) [[ $line == *FLAG:* ]] && flagged=1 ;;
	floor)
		awk -v e="$(field errors "$line")" -v n="$(field est_tx "$line")" \
			'BEGIN { exit !(e * 1000 > e + n) }' && flagged=1
		;;
	*) wrk_flag "$line" && flagged=1 ;;
	esac
	if [[ -n $flagged ]]; then
		res[$key:flag]=1
		flags+=("FLAG: failures exceed 0.1% in round $1, $2, $3: ${line//$'\n'/ }")
	fi
	return 0
}

# per_order LABEL KEY: statements sent, rows written and redo bytes per committed order over
# the run KEY, less what the readings themselves add (the difference of the idle pair; the
# wait_quiet polls in the window add a few SELECTs more, under 0.01 per order).
per_order() {
	local s=$dir/status/$2
	python3 "$BENCH_DIR/lib/per_order.py" "$1" "$s.0" "$s.1" "$s.2"
}

# table_row CELL...: one row of the orders table, the first cell left-aligned, the rest right.
table_row() {
	local widths=(19 3 7 6 6 7 7 7 9 8 7 7 9 4) i=0 cell out="|"
	for cell in "$@"; do
		if ((i == 0)); then
			out+=$(printf ' %-*s |' "${widths[i]}" "$cell")
		else
			out+=$(printf ' %*s |' "${widths[i]}" "$cell")
		fi
		i=$((i + 1))
	done
	echo "$out"
}

# orders_table: one row per measurement (kind x round). Rates are 2xx responses or committed
# transactions per second; "!" marks a row where a run was flagged.
orders_table() {
	local r kind name svc php floor own hello mark who
	table_row what rnd "svc/s" "p50 ms" "p99 ms" "PHP/s" svc/PHP "floor/s" svc/floor \
		"own tx/s" svc/own "hello/s" svc/hello flag
	table_row ------------------- --- ------- ------ ------ ------- ------- ------- --------- \
		-------- ------- ------- --------- ----
	for kind in random hot read; do
		case $kind in
		random) name="POST /orders random" ;;
		hot) name="POST /orders hot" ;;
		read) name="GET /products/{id}" ;;
		esac
		for r in 1 2; do
			svc=$(field ok_per_s "${res[$r:$kind:service]}")
			php=$(field ok_per_s "${res[$r:$kind:php]}")
			floor=$(field tx_per_s "${res[$r:$kind:floor]}")
			own=$(field tx_per_s "${res[$r:$kind:own]:-}")
			hello=$(field ok_per_s "${res[$r:$kind:hello]:-}")
			mark=""
			for who in service php floor own hello; do
				[[ -n ${res[$r:$kind:$who:flag]:-} ]] && mark="!"
			done
			table_row "$name" "$r" "$svc" "$(field p50_ms "${res[$r:$kind:service]}")" \
				"$(field p99_ms "${res[$r:$kind:service]}")" "$php" "$(ratio "$svc" "$php")" \
				"$floor" "$(ratio "$svc" "$floor")" "${own:--}" "$(ratio "$svc" "$own")" \
				"${hello:--}" "$(ratio "$svc" "$hello")" "$mark"
		done
	done
}

# cpu_table: the CPU per request of every run of the two rounds, one line each.
cpu_table() {
	local r kind who
	for kind in random hot read; do
		for r in 1 2; do
			for who in service php floor own hello; do
				[[ -n ${res[$r:$kind:$who]:-} ]] || continue
				printf '  %-6s r%s %-7s %s\n' "$kind" "$r" "$who" "$(cpu_per "$who" "${res[$r:$kind:$who]}")"
			done
		done
	done
}
