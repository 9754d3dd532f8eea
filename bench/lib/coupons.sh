# shellcheck shell=bash
# bench/lib/coupons.sh: `bench/run coupons`, first-come issue of one coupon by 300 concurrent
# requesters, each request the first of its user (bench/sql/coupons.sql makes the users), then
# the flood of requests for a sold-out coupon (every answer 409).
# shellcheck disable=SC2154 # dir, url, secs, users: bench/lib/common.sh

# coupon_wrk COUPON: BENCH_SECONDS of requests for COUPON from 300 connections; the wrk line.
coupon_wrk() {
	BENCH_COUPON=$1 BENCH_THREADS=2 wrk -t2 -c300 -d"${secs}s" -s bench/coupon.lua "$url" | grep '^wrk '
}

# run_coupons: both runs, one line each.
run_coupons() {
	local w n total=$((secs * 6000))
	load_data
	mint_tokens "$((users + total))" "$dir/tokens" # requesters are users 1.., one request each
	# enough distinct users for every request to be a first request
	bench_sql coupons FIRST=$((users + 1)) LAST=$((users + total))
	w=$(coupon_wrk 1)
	# one statement, one snapshot: requests still queued when wrk stops keep committing
	n=$(db_sql "$dir" commerce -N -e "SELECT CONCAT('issued ', issued_quantity, ', user_coupon rows ',
	  (SELECT COUNT(*) FROM user_coupon WHERE coupon_id = 1)) FROM coupon WHERE id = 1")
	printf '%-22s %7s issues/s p50 %6s ms p99 %7s ms (300 connections; %s)\n' \
		"coupon issue" "$(field req_per_s "$w")" "$(field p50_ms "$w")" "$(field p99_ms "$w")" "$n"
	w=$(coupon_wrk 2)
	printf '%-22s %7s req/s    p50 %6s ms p99 %7s ms (every answer 409 COUPON_SOLD_OUT: %s non-2xx)\n' \
		"coupon sold out" "$(field req_per_s "$w")" "$(field p50_ms "$w")" "$(field p99_ms "$w")" \
		"$(field non2xx "$w")"
}
