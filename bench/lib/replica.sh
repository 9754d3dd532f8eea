# shellcheck shell=bash
# bench/lib/replica.sh: `bench/run replica` (its own stack: STACK_REPLICA=1; not part of
# `all`): catalog reads (GET /products?limit=20 pages) with one replica (the workers'
# configuration names it) and then with the primary alone (the same workers restarted without
# it), in one run on one machine; then orders/s and cart writes/s while the replica
# acknowledges each commit (semi-sync, AFTER_SYNC), under replication_policy=availability and
# =durability (each write reading the semi-sync state before and after its commit).
# shellcheck disable=SC2154 # dir, url, o_conns, o_secs, o_users: bench/lib/common.sh

# replica_reads: the count of catalog reads the replica has served (the workers' metrics).
replica_reads() {
	curl -sf "$url/metrics" | sed -n 's/^commerce_catalog_reads_total{served="replica"} //p'
}

# run_replica: the reads table, the ratio, then the orders line.
run_replica() {
	local with alone o served
	echo "-- replica: GET /products?limit=20 pages (c=$o_conns, ${o_secs}s), one replica vs the primary alone"
	load_data
	replica_caught_up "$dir"
	wrk_warm bench/catalog.lua
	served=$(replica_reads)
	with=$(wrk_run bench/catalog.lua)
	served=$(($(replica_reads) - served))
	sed -e '/^db_replica/d' -e '/^replica_max_lag_ms/d' "$dir/commerce.conf" >"$dir/primary-only.conf"
	chmod 600 "$dir/primary-only.conf"
	bench_workers "$STACK_WORKERS" "$dir/primary-only.conf"
	wrk_warm bench/catalog.lua
	alone=$(wrk_run bench/catalog.lua)
	bench_workers "$STACK_WORKERS"
	printf '%-22s %12s %8s %8s\n' "" "GET/s" "p50 ms" "p99 ms"
	printf '%-22s %12s %8s %8s\n' "with one replica" "$(field ok_per_s "$with")" \
		"$(field p50_ms "$with")" "$(field p99_ms "$with")"
	printf '%-22s %12s %8s %8s\n' "primary alone" "$(field ok_per_s "$alone")" \
		"$(field p50_ms "$alone")" "$(field p99_ms "$alone")"
	echo "replica ÷ primary alone: $(ratio "$(field ok_per_s "$with")" "$(field ok_per_s "$alone")");" \
		"reads the replica served during the first run: $served"
	wrk_flag "$with" && echo "FLAG: errors over 0.1 %: $with"
	wrk_flag "$alone" && echo "FLAG: errors over 0.1 %: $alone"
	echo "-- writes with the replica acknowledging every commit (semi-sync, AFTER_SYNC), under each"
	echo "   replication_policy (c=$o_conns, ${o_secs}s; $(durability))"
	printf '%-52s %10s %8s %8s\n' "" "/s" "p50 ms" "p99 ms"
	for policy in availability durability; do
		replica_policy "$policy"
		for w in order cart; do
			load_data "$o_users"
			BENCH_USERS=$o_users wrk_warm "bench/$w.lua"
			o=$(BENCH_USERS=$o_users wrk_run "bench/$w.lua")
			printf '%-52s %10s %8s %8s\n' \
				"$([[ $w == order ]] && echo "POST /orders" || echo "PUT cart item"), $policy" \
				"$(field ok_per_s "$o")" "$(field p50_ms "$o")" "$(field p99_ms "$o")"
			wrk_flag "$o" && echo "FLAG: $w, $policy: errors over 0.1 %: $o"
		done
	done
	replica_policy availability
	return 0
}

# replica_policy POLICY: the workers and the relay restarted with replication_policy=POLICY (the
# stack writes the key only when STACK_REPLICATION_POLICY chose one).
replica_policy() {
	local f
	for f in "$dir/commerce.conf" "$dir/relay.conf"; do
		sed -i '/^replication_policy=/d' "$f"
		echo "replication_policy=$1" >>"$f"
	done
	relay_start "$dir" 2>/dev/null
	bench_workers "$STACK_WORKERS"
}
