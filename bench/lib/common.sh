# shellcheck shell=bash
# bench/lib/common.sh: what every benchmark shares. Owns the run's settings (from the
# environment, see bench/run), its state (the stack's directory, URL and database socket), the
# stack's life for a run (bench_up, bench_cleanup), the bench data (load_data), tokens
# (mint_tokens), the durability line, one measured wrk run and its fields, and the SQL files'
# renderer (bench_render). Sourced by bench/run; the other parts use what it sets.
# shellcheck disable=SC2034 # the settings and state are read by the other parts

BENCH_DIR=$COMMERCE_ROOT/bench

secs=${BENCH_SECONDS:-15}
conns=${BENCH_CONNS:-16}
users=${BENCH_USERS:-1000}
products=${BENCH_PRODUCTS:-1000}
# The orders suite: its own defaults, the peers' data sizes.
o_secs=${BENCH_SECONDS:-8}
o_conns=${BENCH_CONNS:-32}
o_users=${BENCH_USERS:-10000}
php_children=${PEER_PHP_CHILDREN:-16}
export BENCH_USERS=$users BENCH_PRODUCTS=$products

# The run's state, set by bench_up.
dir=""          # the stack's state dir (a temp dir)
pdir=""         # the peers' binaries, sockets, pid files and logs: $dir/peers
php_launcher="" # pid of the php-fpm command bench/run started
url=""          # the stack's nginx
sock=""         # the stack's database socket

# bench_render FILE [NAME=VALUE...]: FILE with each @NAME@ replaced by VALUE, on stdout. Dies
# when a placeholder is left (or a value holds a character sed would read: | & \ or a newline).
bench_render() {
	local file=$1 kv out param='^([A-Z_]+)=([^|&\\]*)$'
	local -a subst=()
	shift
	for kv in "$@"; do
		[[ $kv =~ $param && $kv != *$'\n'* ]] || die "bench_render $file: bad parameter: $kv"
		subst+=(-e "s|@${BASH_REMATCH[1]}@|${BASH_REMATCH[2]}|g")
	done
	out=$(sed "${subst[@]}" -e '' "$file") || die "cannot read $file"
	[[ ! $out =~ @[A-Z_]+@ ]] || die "bench_render $file: no value for ${BASH_REMATCH[0]}"
	printf '%s\n' "$out"
}

# bench_sql NAME [NAME=VALUE...] [-- MARIADB ARGS...]: bench/sql/NAME.sql, rendered, run in the
# stack's database commerce.
bench_sql() {
	local name=$1
	local -a params=()
	shift
	while (($#)) && [[ $1 != -- ]]; do
		params+=("$1")
		shift
	done
	(($#)) && shift
	bench_render "$BENCH_DIR/sql/$name.sql" "${params[@]}" | db_sql "$dir" commerce "$@"
}

# mint_tokens N FILE: bearer tokens for users 1..N, one a line (line i for user i), and
# BENCH_TOKENS pointing at them for bench/order.lua. The one place tokens are made: it does
# nothing until scripts/dev-token exists.
mint_tokens() {
	local n=$1 file=$2 tool=$COMMERCE_ROOT/scripts/dev-token lines
	[[ -x $tool ]] || return 0
	"$tool" --config "$dir/commerce.conf" --bulk "$n" >"$file" || die "scripts/dev-token failed"
	lines=$(wc -l <"$file")
	((lines >= n)) || die "scripts/dev-token --bulk $n wrote $lines tokens"
	export BENCH_TOKENS=$file
}

# load_data [USERS]: users and products with more balance and stock than any run can use, and
# no orders (TRUNCATE: no purge of deleted rows runs in the background of the next run).
load_data() {
	bench_sql load USERS="${1:-$users}" PRODUCTS="$products"
}

# durability: the settings that decide what a commit costs, in one line.
durability() {
	db_sql "$dir" -N -e "SELECT CONCAT('innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit,
	  ' sync_binlog=', @@sync_binlog, ' log_bin=', @@log_bin,
	  ' innodb_doublewrite=', @@innodb_doublewrite, ' isolation=', @@tx_isolation)"
}

# field NAME LINE: the number after NAME= in LINE (the last one when NAME= occurs twice).
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# ratio A B: A / B with two decimals, "-" when either is missing or B is 0.
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }

# cpu_run COMMAND...: COMMAND under bench/lib/cpu.py, which adds a line "cpu win_s=... cpu_GROUP_s=..."
# after COMMAND's output: the CPU-seconds each process group (mariadbd, workers, nginx, php,
# hello, the load generator, the rest) and the idle machine took over COMMAND's run.
cpu_run() { python3 "$BENCH_DIR/lib/cpu.py" run -- "$@"; }

# wrk_run SCRIPT: one measured wrk run (2 threads, 1 for a single connection; the orders suite's
# connections and seconds) against the stack's nginx; prints its report line
# (bench/wrk_report.lua) and its cpu line (cpu_run).
wrk_run() {
	cpu_run wrk -t"$((o_conns > 1 ? 2 : 1))" -c"$o_conns" -d"${o_secs}s" -s "$1" "$url" |
		grep -E '^(wrk|cpu) '
}

# wrk_warm SCRIPT: a 2 s run of SCRIPT with the same connections, its output dropped (statement
# caches, the buffer pool, PHP's opcache).
wrk_warm() {
	wrk -t2 -c"$o_conns" -d2s -s "$1" "$url" >/dev/null
}

# wrk_flag LINE: true when the errors of a wrk line exceed 0.1 % of its attempts (responses
# plus socket errors).
wrk_flag() {
	awk -v e="$(field errors "$1")" -v r="$(field requests "$1")" -v c="$(field connect "$1")" \
		-v rd="$(field read "$1")" -v w="$(field write "$1")" -v t="$(field timeout "$1")" \
		'BEGIN { exit !(e * 1000 > r + c + rd + w + t) }'
}

# bench_workers N [CONFIG]: restart the pool with N workers (on CONFIG, default the stack's
# commerce.conf) and wait until it answers.
bench_workers() {
	workers_start "$dir" "$1" ${2:+"$2"} 2>/dev/null
	wait_ready "$url" 30 || die "workers did not come back"
}

# bench_up WHAT: the run's stack (the bench preset; a replica for WHAT=replica; the binary log
# with BENCH_BINLOG=1) in a new temp dir, torn down at exit (bench_cleanup), and the tokens.
bench_up() {
	local binlog="" replica=""
	dir=$(mktemp -d "${TMPDIR:-/tmp}/commerce-bench.XXXXXX")
	pdir=$dir/peers
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	# BENCH_BINLOG=1: the binary log on and synced at every commit, as a primary with replicas runs
	if [[ ${BENCH_BINLOG:-0} == 1 ]]; then
		mkdir -p "$dir/binlog"
		binlog="--log-bin=$dir/binlog/binlog --server-id=1 --sync-binlog=1 --binlog-format=ROW"
	fi
	[[ $1 == replica ]] && replica=STACK_REPLICA=1
	stack_preset bench "${COMMERCE_WORKERS:+STACK_WORKERS=$COMMERCE_WORKERS}" \
		"${binlog:+STACK_DB_ARGS=$binlog}" "$replica"
	stack_up "$dir"
	url=$STACK_URL
	sock=$(db_socket "$dir")
	mint_tokens "$((o_users > users ? o_users : users))" "$dir/tokens"
}

# bench_cleanup: stop the peers, then the stack (also after Ctrl-C), and remove the temp dir.
bench_cleanup() {
	peers_down || true
	stack_down "$dir" || true
	[[ ${KEEP_BENCH_DIR:-0} == 1 ]] || rm -rf "$dir"
}
