# shellcheck shell=bash
# bench/lib/relay.sh: `bench/run relay`, the events per second one relay delivers from a
# standing backlog (bench/sql/relay-backlog.sql), then the delay from an order's commit to its
# delivery while orders run, at a steady and at a saturating load (bench/sql/relay-delay.sql).
# shellcheck disable=SC2154 # dir, url, secs, conns: bench/lib/common.sh

# outbox_undelivered: the count of events not DELIVERED yet.
outbox_undelivered() {
	db_sql "$dir" commerce -N -e "SELECT COUNT(*) FROM outbox WHERE status <> 'DELIVERED'"
}

# run_relay: the throughput line, then one delay line per load.
run_relay() {
	local backlog=20000 t0 t1
	load_data
	relay_stop "$dir"
	bench_sql relay-backlog EVENTS="$backlog"
	curl -s -X POST "${STACK_PLATFORM_URL%/events}/_reset" >/dev/null
	t0=$(date +%s.%N)
	relay_start "$dir"
	while (($(outbox_undelivered) > 0)); do sleep 0.2; done
	t1=$(date +%s.%N)
	printf '%-22s %7.0f events/s (backlog of %d, one relay, batch 100, fake platform in Python)\n' \
		"relay throughput" "$(awk -v a="$t0" -v b="$t1" -v n="$backlog" 'BEGIN { print n / (b - a) }')" "$backlog"
	relay_delay 2 "steady load"
	relay_delay "$conns" "saturated"
}

# relay_delay CONNS LABEL: orders from CONNS wrk connections for the run time,
# then the delay from each order's commit to its delivery.
relay_delay() {
	local c=$1 label=$2
	db_sql "$dir" commerce -e "DELETE FROM outbox"
	wrk -t"$((c < 2 ? c : 2))" -c"$c" -d"${secs}s" -s bench/order.lua "$url" >/dev/null
	while (($(outbox_undelivered) > 0)); do sleep 0.2; done
	bench_sql relay-delay LABEL="$label" SECONDS="$secs" CONNS="$c" -- -N
}
