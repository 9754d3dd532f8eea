# shellcheck shell=bash
# bench/lib/popular.sh: `bench/run popular`, the nightly batch (commerce-popular) over a history
# of 1M order items in 90 days, then 10M in 900 (bench/sql/popular-history.sql): its time
# should stay flat, since it reads only the last days.
# shellcheck disable=SC2154 # dir, users, products: bench/lib/common.sh

# popular_history ITEMS DAYS: the batch's input, ITEMS order items spread over DAYS days.
popular_history() {
	local items=$1 days=$2 per_order=5
	bench_sql popular-history ORDERS=$((items / per_order)) PER_ORDER="$per_order" DAYS="$days" \
		USERS="$users" PRODUCTS="$products" >/dev/null
}

# time_popular AS_OF: the best of 3 runs of commerce-popular (with its own configuration and
# database account, as scripts/dev-batch and cron run it), in ms. Dies when a run fails: the
# time of a failed batch is no figure.
time_popular() {
	local as_of=$1 best="" t0 t1 ms
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		COMMERCE_CONFIG=$dir/popular.conf ./commerce-popular --as-of "$as_of" >/dev/null ||
			die "commerce-popular --as-of $as_of failed"
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		[[ -z $best || $ms -lt $best ]] && best=$ms
	done
	echo "$best"
}

# run_popular: both histories, as of the day after each ends; one line.
run_popular() {
	local a b
	load_data
	make -s commerce-popular
	popular_history 1000000 90
	a=$(time_popular 2020-03-31)
	popular_history 10000000 900
	b=$(time_popular 2022-06-19)
	printf '%-22s %6s ms with 1,000,000 order items over 90 days; %6s ms with 10,000,000 over 900 days (ratio %s; best of 3)\n' \
		"popular batch" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
}
