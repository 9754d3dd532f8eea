# shellcheck shell=bash
# Shared functions for scripts/dev-up, scripts/dev-down, scripts/test and scripts/stack.
# Source it; do not run it.
#
# A "stack" lives entirely in one state directory DIR:
#   DIR/mysql/                throwaway MariaDB datadir (DIR/mysql.initialized marks a complete init)
#   DIR/run/mysqld.sock       MariaDB socket (no TCP)
#   DIR/run/fcgi.sock         FastCGI socket (mode 0666: nginx workers run as another user)
#   DIR/run/fcgi.pid          pid of multiwatch = process group of the whole worker pool
#   DIR/run/nginx.pid         nginx master
#   DIR/run/relay.pid         commerce-relay (when that binary exists)
#   DIR/log/                  mysqld.err, worker.log, nginx-error.log, nginx-access.log, relay.log
#   DIR/nginx/                nginx temp paths
#   DIR/nginx.conf            rendered from nginx/dev.conf.in
#   DIR/commerce.conf         worker configuration (COMMERCE_CONFIG of commerce-fcgi)
#   DIR/relay.conf            commerce-relay's (its own database account)
#   DIR/popular.conf          commerce-popular's (its own database account)
#   DIR/secrets/              0700: database passwords of the three accounts, the admin
#                             token, the HS256 token secret (stacks that use one)
#   DIR/auth/                 the test stack's token keys (jwks.json and private PEMs)
#   DIR/stack.env             the parameters the stack was started with (read by scripts/stack)
#
# Every *_start is idempotent and survives a previous crash: it finds what runs from the same DIR
# (by pid file checked against the command line, or by the exact --datadir argument), reuses a
# healthy MariaDB, restarts workers and nginx, and clears stale pid files and sockets.

# Strict mode also for callers that forgot it.
set -euo pipefail

COMMERCE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMERCE_DB_NAME=commerce

# Debian packages the project needs on a fresh machine (build, stack, tests, benchmarks).
COMMERCE_PACKAGES=(
	autoconf automake make gcc pkg-config
	libfcgi-dev libjson-c-dev libmariadb-dev libcurl4-openssl-dev libcmocka-dev
	libjwt-dev libssl-dev openssl
	mariadb-server mariadb-client nginx spawn-fcgi multiwatch
	valgrind wrk curl iproute2 python3 tzdata systemd
	scdoc debhelper dpkg-dev fakeroot lintian man-db chromium
)

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# ---------------------------------------------------------------------------------------------
# Packages and build

# ensure_packages [PACKAGE...]: install whatever of the packages (default: COMMERCE_PACKAGES) is
# missing. A warm machine never touches apt; a fresh one runs one install, and apt-get update
# (then the install again) only when the install fails without it. apt's chatter goes to
# stderr (bench/run's stdout is its figures).
ensure_packages() {
	local missing=() p status
	(($#)) || set -- "${COMMERCE_PACKAGES[@]}"
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		[[ $status == ii* ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing missing packages: ${missing[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		die "not root: install them with: sudo apt-get install -y ${missing[*]}"
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -o Dpkg::Use-Pty=0 "${missing[@]}" </dev/null >&2; then
		apt-get update </dev/null >&2
		apt-get install -y -o Dpkg::Use-Pty=0 "${missing[@]}" </dev/null >&2
	fi
}

# promtool_bin: the path of promtool (Prometheus's linter) for `promtool check metrics|rules`.
# Debian ships it in the prometheus package, which also brings a server and its service: rather
# than install that, download the package once and take the one binary out of it, into
# .cache/ (not tracked).
promtool_bin() {
	local cache=$COMMERCE_ROOT/.cache/promtool deb
	if command -v promtool >/dev/null; then
		command -v promtool
		return
	fi
	if [[ ! -x $cache/usr/bin/promtool ]]; then
		mkdir -p "$cache"
		(cd "$cache" && apt-get download prometheus </dev/null >/dev/null 2>&1) ||
			{ apt-get update </dev/null >/dev/null && (cd "$cache" && apt-get download prometheus </dev/null >/dev/null); } ||
			die "cannot download Debian's prometheus package (for promtool)"
		deb=$(ls "$cache"/prometheus_*.deb)
		dpkg-deb -x "$deb" "$cache" && rm -f "$deb"
	fi
	echo "$cache/usr/bin/promtool"
}

# build: in-tree autotools build at the repo root. autoreconf + configure run only when the
# Makefile is missing or configure.ac / a Makefile.am is newer than it.
build() {
	(
		cd "$COMMERCE_ROOT"
		local stale=""
		if [[ -f Makefile ]]; then
			stale=$(find . \( -path ./.git -o -path ./.dev \) -prune -o \
				\( -name configure.ac -o -name Makefile.am \) -newer Makefile -print -quit)
		fi
		# The chatter goes to build.log; only a failure shows it (its tail).
		: >build.log
		if [[ ! -f Makefile || -n $stale ]]; then
			log "autoreconf -fi && ./configure (log: build.log)"
			{ autoreconf -fi && ./configure --enable-werror; } >>build.log 2>&1 ||
				{ tail -n 40 build.log >&2; die "configure failed (whole log: $COMMERCE_ROOT/build.log)"; }
		fi
		log "make (log: build.log)"
		make -j"${COMMERCE_JOBS:-$(nproc)}" >>build.log 2>&1 ||
			{ grep -E 'error|warning|Error' build.log | head -n 40 >&2 || tail -n 40 build.log >&2
			  die "make failed (whole log: $COMMERCE_ROOT/build.log)"; }
	)
}

# ---------------------------------------------------------------------------------------------
# Processes (plain /proc, so procps is not needed)

# pid_alive PID: true when PID exists and is not a zombie.
pid_alive() {
	local pid=${1:-} line rest
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	read -r line 2>/dev/null <"/proc/$pid/stat" || return 1
	rest=${line##*) }
	[[ ${rest:0:1} != Z && ${rest:0:1} != X ]]
}

# pid_cmdline PID: the command line of PID, arguments separated by spaces.
pid_cmdline() {
	tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true
}

# pidfile_pid FILE MATCH: the pid in FILE when that process is alive and its command line
# contains MATCH (guards against a recycled pid); prints nothing otherwise.
pidfile_pid() {
	local file=$1 match=$2 pid=""
	[[ -r $file ]] || return 0
	read -r pid <"$file" 2>/dev/null || true
	if pid_alive "$pid" && [[ $(pid_cmdline "$pid") == *"$match"* ]]; then
		printf '%s\n' "$pid"
	fi
}

# pids_with_arg ARG: pids of live processes that have exactly ARG as one of their arguments.
pids_with_arg() {
	local want=$1 f pid arg
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		while IFS= read -r -d '' arg; do
			if [[ $arg == "$want" ]]; then
				pid_alive "$pid" && printf '%s\n' "$pid"
				break
			fi
		done 2>/dev/null <"$f" || true
	done
}

# group_pids PGID: live pids in process group PGID.
group_pids() {
	local pgid=$1 f line rest _state _ppid pgrp
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		rest=${line##*) }
		read -r _state _ppid pgrp _ <<<"$rest"
		if [[ $pgrp == "$pgid" && $_state != Z && $_state != X ]]; then
			line=${f#/proc/}
			printf '%s\n' "${line%/stat}"
		fi
	done
}

# wait_gone SECONDS PID...: wait until none of the PIDs is alive; false on timeout.
wait_gone() {
	local deadline=$((SECONDS + $1)) pid any
	shift
	while :; do
		any=""
		for pid in "$@"; do pid_alive "$pid" && any=1 && break; done
		[[ -z $any ]] && return 0
		((SECONDS >= deadline)) && return 1
		sleep 0.1
	done
}

# stop_pids SIGNAL SECONDS PID...: send SIGNAL, wait up to SECONDS, then SIGKILL what is left.
stop_pids() {
	local sig=$1 secs=$2
	shift 2
	(($# == 0)) && return 0
	kill "-$sig" "$@" 2>/dev/null || true
	wait_gone "$secs" "$@" && return 0
	log "still running after ${secs}s, killing: $*"
	kill -KILL "$@" 2>/dev/null || true
	wait_gone 5 "$@" || log "warning: could not kill $*"
}

# stop_group PIDFILE MATCH SIGNAL SECONDS: stop the process group led by the pid in PIDFILE
# (a daemon that called setsid: nginx master, spawn-fcgi's child). SIGNAL goes to the leader
# (graceful); after SECONDS the whole group gets SIGKILL. Orphans of a leader that was killed
# with -9 are still found through their process group. MATCH must occur in the command line
# of a group member, else the pid file is stale and nothing is signalled.
stop_group() {
	local file=$1 match=$2 sig=$3 secs=$4 pgid="" pid ours="" members
	if [[ -r $file ]]; then read -r pgid <"$file" 2>/dev/null || true; fi
	if [[ ! $pgid =~ ^[0-9]+$ ]]; then
		rm -f "$file"
		return 0
	fi
	mapfile -t members < <(group_pids "$pgid")
	for pid in "${members[@]}"; do
		[[ $(pid_cmdline "$pid") == *"$match"* ]] && ours=1 && break
	done
	if [[ -z $ours ]]; then
		rm -f "$file"
		return 0
	fi
	if pid_alive "$pgid"; then
		kill "-$sig" "$pgid" 2>/dev/null || true
	else # leader gone (killed with -9): tell its orphans directly
		kill "-$sig" -- "-$pgid" 2>/dev/null || true
	fi
	local deadline=$((SECONDS + secs))
	while [[ -n $(group_pids "$pgid") ]] && ((SECONDS < deadline)); do sleep 0.1; done
	if [[ -n $(group_pids "$pgid") ]]; then
		log "process group $pgid ($match) still running after ${secs}s, killing it"
		kill -KILL -- "-$pgid" 2>/dev/null || true
		deadline=$((SECONDS + 5))
		while [[ -n $(group_pids "$pgid") ]] && ((SECONDS < deadline)); do sleep 0.1; done
	fi
	rm -f "$file"
}

# ---------------------------------------------------------------------------------------------
# Ports and readiness

# port_in_use PORT: true when something listens on 127.0.0.1:PORT (or any address).
port_in_use() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
	fi
}

# free_port: print a TCP port nobody listens on, from 20000..32767 (below Linux's ephemeral
# range, so outgoing connections do not take it meanwhile). The caller still has to cope with
# losing a race for it (nginx_start fails, pick another).
free_port() {
	local i port
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + RANDOM % 12768))
		port_in_use "$port" || {
			printf '%s\n' "$port"
			return 0
		}
	done
	die "no free TCP port found"
}

# wait_http URL SECONDS: poll URL until it answers 200; false (with a log line) on timeout.
wait_http() {
	local url=$1 deadline=$((SECONDS + $2)) code
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[[ $code == 200 ]] && return 0
		((SECONDS < deadline)) || {
			log "GET $url still answers ${code:-nothing} after $2 s"
			return 1
		}
		sleep 0.1
	done
}

# wait_ready URL [SECONDS]: wait until URL/readyz answers 200 (default 30 s).
wait_ready() { wait_http "$1/readyz" "${2:-30}"; }

# ---------------------------------------------------------------------------------------------
# State directory

# state_prepare DIR: create the layout. Directories are 0755: nginx workers (nobody) must
# traverse to the FastCGI socket.
state_prepare() {
	local dir=$1
	[[ $dir == /* ]] || die "state dir must be absolute: $dir"
	[[ $dir != *[\|\&\\\ ]* ]] || die "state dir must not contain '|', '&', '\\' or spaces: $dir"
	# sun_path holds 108 bytes; the longest socket is DIR/run/mysqld.sock.lock.
	((${#dir} + 25 < 108)) || die "state dir path too long for a unix socket: $dir"
	mkdir -p "$dir"/{run,log,mysql,nginx,nginx.d}
	chmod 755 "$dir" "$dir/run" "$dir/log" "$dir/nginx"
}

# ---------------------------------------------------------------------------------------------
# MariaDB (throwaway instance, unix socket only)

# db_socket DIR: the stable name every program and client connects to: a symlink to the
# current primary's socket (DIR/run/mysqld.sock; after scripts/stack failover the promoted
# replica's), so that a failover points everything at the new primary without a restart.
db_socket() { printf '%s\n' "$1/run/db.sock"; }
# db_server_socket DIR: the socket the primary mariadbd of DIR/mysql listens on.
db_server_socket() { printf '%s\n' "$1/run/mysqld.sock"; }

# db_pids DIR: the mariadbd serving DIR/mysql, found by its exact --datadir argument.
db_pids() { pids_with_arg "--datadir=$1/mysql"; }

# mariadb_at SOCKET [mariadb args...]: the mariadb client as root over SOCKET.
mariadb_at() {
	local sock=$1
	shift
	mariadb --no-defaults --socket="$sock" --user=root --default-character-set=utf8mb4 "$@"
}

# db_sql DIR [mariadb args...]: the mariadb client as root on the primary (the stable name).
db_sql() {
	local dir=$1
	shift
	mariadb_at "$(db_socket "$dir")" "$@"
}

db_ping() {
	mariadb-admin --no-defaults --socket="$(db_socket "$1")" --user=root \
		--connect-timeout=2 ping >/dev/null 2>&1 &&
		db_sql "$1" --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1
}

# db_init DIR: initialise the datadir once. An init interrupted by a crash (no marker) is redone.
db_init() {
	local dir=$1
	[[ -f $dir/mysql.initialized ]] && return 0
	[[ -z $(db_pids "$dir") ]] || die "a mariadbd runs on the uninitialised datadir $dir/mysql"
	log "initialising MariaDB in $dir/mysql"
	rm -rf "$dir/mysql"
	mkdir -p "$dir/mysql"
	local user=()
	[[ $(id -u) -eq 0 ]] && user=(--user=root)
	if ! mariadb-install-db --no-defaults "${user[@]}" --datadir="$dir/mysql" \
		--auth-root-authentication-method=normal --skip-test-db \
		--skip-name-resolve >"$dir/log/mysql-install.log" 2>&1; then
		cat "$dir/log/mysql-install.log" >&2
		die "mariadb-install-db failed"
	fi
	touch "$dir/mysql.initialized"
}

# db_start DIR: start (or reuse) the MariaDB of DIR and wait until it answers SQL.
# With STACK_REPLICA=1 it is a primary: binary log, GTIDs, semi-synchronous replication
# (db_primary_args) and a loopback TCP port for the replica.
db_start() {
	local dir=$1 sock pids
	sock=$(db_server_socket "$dir")
	# the stable name points at this server unless a failover pointed it elsewhere
	[[ -L $(db_socket "$dir") ]] || ln -s mysqld.sock "$(db_socket "$dir")"
	db_init "$dir"
	mapfile -t pids < <(db_pids "$dir")
	if ((${#pids[@]})); then
		if db_wait "$dir" 30; then
			log "MariaDB already running (pid ${pids[*]}), reusing it"
			return 0
		fi
		log "MariaDB pid ${pids[*]} does not answer; restarting it"
		db_stop "$dir"
	fi
	rm -f "$sock" "$sock.lock" "$dir/run/mysqld.pid"
	local user=()
	[[ $(id -u) -eq 0 ]] && user=(--user=root)
	# setsid: detached from the caller's terminal and process group (Ctrl-C, hangup).
	# The server settings the service is tuned for (mariadb/60-commerce.cnf: durable commits),
	# plus this stack's paths; STACK_DB_ARGS adds more (bench/run: the binary log).
	# shellcheck disable=SC2086 # STACK_DB_ARGS is a list of options
	local net=(--skip-networking)
	[[ ${STACK_REPLICA:-0} == 1 ]] && mapfile -t net < <(db_primary_args "$dir")
	setsid mariadbd --defaults-file="$COMMERCE_ROOT/mariadb/60-commerce.cnf" "${user[@]}" \
		--datadir="$dir/mysql" \
		--socket="$sock" \
		"${net[@]}" \
		--pid-file="$dir/run/mysqld.pid" \
		--log-error="$dir/log/mysqld.err" \
		${STACK_DB_ARGS:-} \
		</dev/null >>"$dir/log/mysqld.out" 2>&1 &
	disown
	if ! db_wait "$dir" 60; then
		tail -n 30 "$dir/log/mysqld.err" >&2 2>/dev/null || true
		die "MariaDB did not start (log: $dir/log/mysqld.err)"
	fi
	log "MariaDB up on $sock"
}

# db_wait DIR SECONDS: wait until the server answers; gives up early when no mariadbd runs.
db_wait() {
	local dir=$1 deadline start=$SECONDS
	deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		db_ping "$dir" && return 0
		# After a grace period, stop waiting for a server that is not there at all.
		if ((SECONDS - start >= 2)) && [[ -z $(db_pids "$dir") ]]; then
			return 1
		fi
		sleep 0.2
	done
	return 1
}

# db_stop DIR: clean shutdown (SIGTERM), SIGKILL after 60 s. Keeps the data.
db_stop() {
	local dir=$1 pids
	mapfile -t pids < <(db_pids "$dir")
	if ((${#pids[@]})); then
		stop_pids TERM 60 "${pids[@]}"
	fi
	rm -f "$(db_server_socket "$dir")" "$(db_server_socket "$dir").lock" "$dir/run/mysqld.pid"
}

# db_primary_args DIR: the primary's options (one per line) when it feeds a replica: a loopback
# port (kept in DIR/run/db.port across restarts), the binary log with GTIDs in strict mode, and
# semi-synchronous replication waiting after the binary log is synced (AFTER_SYNC: a commit a
# client saw acknowledged is on the replica), STACK_SEMI_SYNC_TIMEOUT_MS at most (then the
# primary goes on alone, asynchronously, until the replica is back; docs/OPERATIONS.md).
db_primary_args() {
	local dir=$1 port
	[[ -s $dir/run/db.port ]] || free_port >"$dir/run/db.port"
	port=$(<"$dir/run/db.port")
	printf '%s\n' --bind-address=127.0.0.1 "--port=$port" --server-id=1 --log-bin=binlog --sync-binlog=1 \
		--binlog-format=ROW --gtid-strict-mode=ON --rpl-semi-sync-master-enabled=ON \
		"--rpl-semi-sync-master-timeout=${STACK_SEMI_SYNC_TIMEOUT_MS:-2000}" \
		--rpl-semi-sync-master-wait-point=AFTER_SYNC --rpl-semi-sync-master-wait-no-slave=OFF
}

# ---------------------------------------------------------------------------------------------
# The replica (STACK_REPLICA=1): a second mariadbd in DIR/replica/mysql on DIR/run/replica.sock,
# read_only, fed by GTID from the primary's port, acknowledging semi-synchronously.

replica_socket() { printf '%s\n' "$1/run/replica.sock"; }
replica_pids() { pids_with_arg "--datadir=$1/replica/mysql"; }
replica_sql() {
	local dir=$1
	shift
	mariadb_at "$(replica_socket "$dir")" "$@"
}

# replica_start DIR: initialise (once), start, and replicate from the primary; from the first
# transaction on a new replica (the primary's binary log holds everything since it was made).
replica_start() {
	local dir=$1 sock i user=() pass
	sock=$(replica_socket "$dir")
	[[ -n $(replica_pids "$dir") ]] && return 0
	[[ $(id -u) -eq 0 ]] && user=(--user=root)
	if [[ ! -f $dir/replica.initialized ]]; then
		rm -rf "$dir/replica"
		mkdir -p "$dir/replica/mysql"
		mariadb-install-db --no-defaults "${user[@]}" --datadir="$dir/replica/mysql" \
			--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
			>"$dir/log/replica-install.log" 2>&1 || die "mariadb-install-db (replica) failed"
		touch "$dir/replica.initialized"
	fi
	rm -f "$sock" "$sock.lock"
	setsid mariadbd --defaults-file="$COMMERCE_ROOT/mariadb/60-commerce.cnf" "${user[@]}" \
		--datadir="$dir/replica/mysql" --socket="$sock" --skip-networking \
		--pid-file="$dir/run/replica.pid" --log-error="$dir/log/replica.err" \
		--server-id=2 --log-bin=binlog --binlog-format=ROW --gtid-strict-mode=ON \
		--read-only=ON --rpl-semi-sync-slave-enabled=ON --skip-slave-start --relay-log-recovery=ON \
		</dev/null >>"$dir/log/replica.out" 2>&1 &
	disown
	for ((i = 0; i < 300; i++)); do
		replica_sql "$dir" --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.2
	done
	((i < 300)) || die "the replica did not start (log: $dir/log/replica.err)"
	if [[ ! -f $dir/replica.configured ]]; then
		pass=$(<"$(secret_file "$dir" repl-db-password)")
		replica_sql "$dir" -e "SET GLOBAL gtid_slave_pos = '';
			CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $(<"$dir/run/db.port"),
			MASTER_USER = 'commerce_repl', MASTER_PASSWORD = '$pass',
			MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1" ||
			die "CHANGE MASTER on the replica failed"
		touch "$dir/replica.configured"
	fi
	replica_sql "$dir" -e "START SLAVE" || die "START SLAVE on the replica failed"
	log "replica up on $sock, replicating from 127.0.0.1:$(<"$dir/run/db.port")"
}

# replica_stop DIR [SIGNAL]: a clean stop (TERM, the default) or kill -9 (KILL).
replica_stop() {
	local dir=$1 sig=${2:-TERM} pids
	mapfile -t pids < <(replica_pids "$dir")
	((${#pids[@]})) && stop_pids "$sig" 60 "${pids[@]}"
	rm -f "$(replica_socket "$dir")" "$(replica_socket "$dir").lock" "$dir/run/replica.pid"
}

# replica_caught_up DIR [SECONDS]: wait until the replica has applied the primary's binary log
# so far; then the primary waits for its acknowledgements (semi-sync with a replica present).
replica_caught_up() {
	local dir=$1 pos
	pos=$(db_sql "$dir" -N -B -e 'SELECT @@gtid_binlog_pos')
	[[ $(replica_sql "$dir" -N -B -e "SELECT MASTER_GTID_WAIT('$pos', ${2:-60})") == 0 ]] ||
		die "the replica did not catch up with $pos (log: $dir/log/replica.err)"
	db_sql "$dir" -e 'SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON'
}

# stack_failover DIR: the primary is lost (killed here if it still runs, so that it cannot take
# writes any more); the replica applies what it received, stops replicating, becomes writable,
# and the stable name (db_socket) is pointed at it: workers, relay and batch reconnect to it by
# themselves. Semi-synchronous replication made every acknowledged commit arrive there.
stack_failover() {
	local dir=$1 pids i state
	mapfile -t pids < <(db_pids "$dir")
	((${#pids[@]})) && stop_pids KILL 10 "${pids[@]}"
	[[ -n $(replica_pids "$dir") ]] || die "no replica to promote"
	replica_sql "$dir" -e 'STOP SLAVE IO_THREAD'
	for ((i = 0; i < 600; i++)); do # until the SQL thread has applied every received event
		state=$(replica_sql "$dir" -e 'SHOW SLAVE STATUS\G' |
			awk -F': ' '/ Read_Master_Log_Pos:/ {r = $2} / Exec_Master_Log_Pos:/ {e = $2}
				/ Master_Log_File:/ && !/Relay/ {f = $2} / Relay_Master_Log_File:/ {g = $2}
				END {print (r == e && f == g) ? "applied" : "applying"}')
		[[ $state == applied ]] && break
		sleep 0.05
	done
	replica_sql "$dir" -e 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF' ||
		die "promoting the replica failed"
	ln -sfn replica.sock "$dir/run/db.sock.new" && mv -Tf "$dir/run/db.sock.new" "$(db_socket "$dir")"
	log "failover: the replica ($(replica_socket "$dir")) is the primary now"
}

# db_schema DIR: create the database and apply sql/schema.sql (idempotent).
db_schema() {
	local dir=$1 schema=$COMMERCE_ROOT/sql/schema.sql
	[[ -f $schema ]] || die "missing $schema"
	db_sql "$dir" -e "CREATE DATABASE IF NOT EXISTS \`$COMMERCE_DB_NAME\`
		CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	db_sql "$dir" "$COMMERCE_DB_NAME" <"$schema"
}

# secret_file DIR NAME [VALUE]: DIR/secrets/NAME (0600), holding VALUE, or a random secret
# when the file does not exist yet (kept across restarts). Prints the path.
secret_file() {
	local dir=$1 name=$2 file
	file=$dir/secrets/$name
	mkdir -p "$dir/secrets"
	chmod 700 "$dir/secrets"
	if (($# > 2)); then
		(umask 077 && printf '%s\n' "$3" >"$file.tmp") && mv -f "$file.tmp" "$file"
	elif [[ ! -s $file ]]; then
		(umask 077 && head -c 33 /dev/urandom | base64 | tr '+/' '-_' >"$file.tmp") &&
			mv -f "$file.tmp" "$file"
	fi
	chmod 600 "$file"
	printf '%s\n' "$file"
}

# db_accounts DIR: the three program accounts and their grants (sql/grants.sql), with
# passwords from DIR/secrets (made on first use). The passwords go to the client on stdin.
db_accounts() {
	local dir=$1 p name sql=$COMMERCE_ROOT/sql/grants.sql
	[[ -f $sql ]] || die "missing $sql"
	{
		for name in fcgi relay popular read; do
			p=$(<"$(secret_file "$dir" "$name-db-password")")
			printf "SET @%s_password = '%s';\n" "$name" "$p" # base64url: no quotes in it
		done
		echo "SET @account_host = 'localhost';"
		cat "$sql"
	} | db_sql "$dir" "$COMMERCE_DB_NAME"
}

# db_repl_account DIR: the replica's account on the primary (REPLICATION SLAVE only).
db_repl_account() {
	local dir=$1 p
	p=$(<"$(secret_file "$dir" repl-db-password)")
	db_sql "$dir" <<SQL
CREATE USER IF NOT EXISTS 'commerce_repl'@'127.0.0.1' IDENTIFIED BY '$p';
GRANT REPLICATION SLAVE ON *.* TO 'commerce_repl'@'127.0.0.1';
SQL
}

# db_demo DIR: load sql/demo.sql unless the product table already has rows.
db_demo() {
	local dir=$1 demo=$COMMERCE_ROOT/sql/demo.sql table count
	if [[ ! -f $demo ]]; then
		log "no $demo, skipping demo data"
		return 0
	fi
	table=$(db_sql "$dir" -N -B -e "SELECT table_name FROM information_schema.tables
		WHERE table_schema = '$COMMERCE_DB_NAME' AND table_name IN ('products', 'product')
		ORDER BY table_name DESC LIMIT 1")
	if [[ -n $table ]]; then
		count=$(db_sql "$dir" -N -B "$COMMERCE_DB_NAME" -e "SELECT COUNT(*) FROM \`$table\`")
		if [[ $count != 0 ]]; then
			log "demo data already present ($count rows in $table)"
			return 0
		fi
	elif [[ -f $dir/demo.loaded ]]; then
		return 0
	fi
	log "loading demo data"
	db_sql "$dir" "$COMMERCE_DB_NAME" <"$demo"
	touch "$dir/demo.loaded"
}

# ---------------------------------------------------------------------------------------------
# Worker configuration and the FastCGI worker pool

# write_config DIR ADMIN_TOKEN DATA_PLATFORM_URL: write DIR/commerce.conf (the workers'),
# DIR/relay.conf and DIR/popular.conf: the same settings, each program with its own
# database account. Secrets go to DIR/secrets, the files name them (*_file keys).
# Token keys: STACK_AUTH=hs256 (default: a secret in DIR/secrets, as the dev stack uses;
# STACK_AUTH_HS256_SECRET sets it) or jwks (DIR/auth/jwks.json, made by tests/lib/mkkeys:
# the test stack), with STACK_AUTH_ISSUER and STACK_AUTH_AUDIENCE.
write_config() {
	local dir=$1 token=$2 url=$3 name file auth_keys admin_file
	admin_file=$(secret_file "$dir" admin-token "$token")
	case ${STACK_AUTH:-hs256} in
	hs256)
		if [[ -n ${STACK_AUTH_HS256_SECRET:-} ]]; then
			file=$(secret_file "$dir" auth-hs256-secret "$STACK_AUTH_HS256_SECRET")
		else
			file=$(secret_file "$dir" auth-hs256-secret)
		fi
		auth_keys="auth_hs256_secret_file=$file"
		;;
	jwks) auth_keys="auth_public_keys_file=$dir/auth/jwks.json" ;;
	*) die "STACK_AUTH must be hs256 or jwks" ;;
	esac
	for name in fcgi relay popular; do
		file=$dir/commerce.conf
		[[ $name == fcgi ]] || file=$dir/$name.conf
		rm -f "$file.tmp"
		install -m 600 /dev/null "$file.tmp"
		{
			echo "# Generated by scripts/lib.sh (write_config); rewritten on every start."
			echo "db_socket=$(db_socket "$dir")"
			echo "db_user=commerce_$name"
			echo "db_password_file=$dir/secrets/$name-db-password"
			echo "db_name=$COMMERCE_DB_NAME"
			if [[ $name == fcgi ]]; then
				echo "admin_token_file=$admin_file"
				echo "$auth_keys"
				if [[ ${STACK_REPLICA:-0} == 1 ]]; then
					echo "db_replica_sockets=$(replica_socket "$dir")"
					echo "db_replica_user=commerce_read"
					echo "db_replica_password_file=$(secret_file "$dir" read-db-password)"
					echo "replica_max_lag_ms=${STACK_REPLICA_MAX_LAG_MS:-1000}"
				fi
			fi
			# the relay signs every delivery (X-Commerce-Signature); the fake platform checks it
			[[ $name == relay ]] && echo "data_platform_secret_file=$(secret_file "$dir" platform-secret)"
			cat <<EOF
auth_issuer=${STACK_AUTH_ISSUER:-commerce-dev}
auth_audience=${STACK_AUTH_AUDIENCE:-commerce}
max_charge=10000000
max_balance=1000000000
data_platform_url=$url
time_zone=Asia/Seoul
db_lock_wait_timeout_s=${STACK_LOCK_WAIT_S:-5}
metrics_file=$dir/run/metrics
relay_batch_size=${STACK_RELAY_BATCH:-100}
relay_poll_ms=${STACK_RELAY_POLL_MS:-100}
relay_max_attempts=${STACK_RELAY_MAX_ATTEMPTS:-10}
relay_connect_timeout_ms=${STACK_RELAY_CONNECT_TIMEOUT_MS:-2000}
relay_timeout_ms=${STACK_RELAY_TIMEOUT_MS:-5000}
relay_lease_ms=${STACK_RELAY_LEASE_MS:-30000}
relay_retry_base_ms=${STACK_RELAY_RETRY_BASE_MS:-500}
relay_retry_max_ms=${STACK_RELAY_RETRY_MAX_MS:-300000}
EOF
		} >>"$file.tmp"
		mv -f "$file.tmp" "$file"
	done
}

# pool_file DIR POOL EXT: DIR/run/fcgi.EXT for pool 1, DIR/run/fcgi2.EXT for pool 2 (a second
# pool stands in for a second worker host behind the same nginx upstream).
pool_file() { if [[ ${2:-1} == 1 ]]; then echo "$1/run/fcgi.$3"; else echo "$1/run/fcgi$2.$3"; fi; }

# workers_start DIR N [CONFIG] [POOL]: (re)start N commerce-fcgi workers under multiwatch on
# the pool's socket (pool_file), with CONFIG (default DIR/commerce.conf).
# Always restarts, so a rebuilt binary or a new configuration takes effect.
# COMMERCE_WORKER_WRAPPER (optional) prefixes each worker, e.g. "/usr/bin/valgrind --leak-check=full"
# (an absolute path: multiwatch does not search PATH; the value is split on spaces).
workers_start() {
	local dir=$1 n=$2 conf=${3:-$1/commerce.conf} pool=${4:-1} bin=$COMMERCE_ROOT/commerce-fcgi
	local sock pidfile
	sock=$(pool_file "$dir" "$pool" sock)
	pidfile=$(pool_file "$dir" "$pool" pid)
	[[ -x $bin ]] || die "missing $bin (build failed?)"
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "bad worker count: $n"
	[[ -f $conf ]] || die "missing $conf"
	workers_stop "$dir" "$pool"
	rm -f "$sock"
	# spawn-fcgi binds the socket, forks, calls setsid (so the pool is one process group whose
	# id is in the pid file) and points stdout/stderr at /dev/null; the sh in between sends
	# them to the worker log instead, then becomes multiwatch (same pid).
	# shellcheck disable=SC2016 # expanded by the inner sh
	COMMERCE_CONFIG=$conf COMMERCE_WORKER_LOG=$dir/log/worker.log \
		COMMERCE_WORKER_WRAPPER=${COMMERCE_WORKER_WRAPPER:-} \
		spawn-fcgi -s "$sock" -M 0666 -P "$pidfile" -d "$dir" -- \
		/bin/sh -c 'exec >>"$COMMERCE_WORKER_LOG" 2>&1
			exec /usr/bin/multiwatch -f "$1" -r 2000000000 -t 0 -- $COMMERCE_WORKER_WRAPPER "$2"' \
		commerce-workers "$n" "$bin" >/dev/null ||
		die "spawn-fcgi failed (log: $dir/log/worker.log)"
	# Wait until multiwatch runs (the sh has exec'd) so a stop right after finds it.
	local deadline=$((SECONDS + 5))
	while [[ -z $(pidfile_pid "$pidfile" multiwatch) ]]; do
		((SECONDS < deadline)) || die "worker pool did not start (log: $dir/log/worker.log)"
		sleep 0.05
	done
	log "$n workers on $sock"
}

# workers_roll DIR N: replace the pool's workers one at a time (systemd/commerce-fcgi-roll), the
# socket and multiwatch staying; starts the pool when none runs.
workers_roll() {
	local dir=$1 mw
	mw=$(pidfile_pid "$(pool_file "$dir" "${3:-1}" pid)" multiwatch)
	if [[ -z $mw ]]; then
		workers_start "$dir" "$2" "" "${3:-1}"
		return
	fi
	"$COMMERCE_ROOT/systemd/commerce-fcgi-roll" "$mw" >&2 || die "rolling restart failed (log: $dir/log/worker.log)"
}

# workers_stop DIR: multiwatch gets SIGTERM and passes SIGUSR1 on (finish the current request,
# then exit); whatever is left after 15 s is killed.
workers_stop() {
	local dir=$1 pool=${2:-1} sig=${3:-TERM}
	stop_group "$(pool_file "$dir" "$pool" pid)" "$COMMERCE_ROOT/commerce-fcgi" "$sig" 15
	# a pool killed (KILL) leaves its socket: nginx's connections to it are refused, as to a
	# host that died
	[[ $sig == KILL ]] || rm -f "$(pool_file "$dir" "$pool" sock)"
}

# ---------------------------------------------------------------------------------------------
# Later issues: outbox relay and fake data platform.
# The data platform side: the fake platform (when STACK_FAKE_PLATFORM=1; it listens on the port
# of STACK_PLATFORM_URL) and commerce-relay, which delivers the outbox to STACK_PLATFORM_URL.
# commerce-popular is a batch (cron / systemd timer), not a daemon: nothing to start here.

# dbproxy_on DIR N: put scripts/db-fault-proxy between the N workers and MariaDB (control dir
# DIR/run/dbproxy, see the script); the workers restart with DIR/commerce-proxied.conf, which
# also shortens their lock wait (and so the time they try to learn a lost commit's outcome) to
# 1 s. dbproxy_off DIR N: the workers back on MariaDB itself, the proxy stopped.
dbproxy_on() {
	local dir=$1 n=$2 sock=$1/run/dbproxy.sock i
	dbproxy_stop "$dir"
	rm -rf "$dir/run/dbproxy"
	setsid python3 "$COMMERCE_ROOT/scripts/db-fault-proxy" --listen "$sock" \
		--upstream "$(db_socket "$dir")" --control "$dir/run/dbproxy" \
		</dev/null >>"$dir/log/dbproxy.log" 2>&1 &
	echo "$!" >"$dir/run/dbproxy.pid"
	disown
	for ((i = 0; i < 100; i++)); do
		[[ -S $sock ]] && break
		pid_alive "$(cat "$dir/run/dbproxy.pid")" || die "db-fault-proxy exited (see $dir/log/dbproxy.log)"
		sleep 0.1
	done
	[[ -S $sock ]] || die "db-fault-proxy did not listen on $sock"
	rm -f "$dir/commerce-proxied.conf"
	install -m 600 /dev/null "$dir/commerce-proxied.conf"
	sed -e "s#^db_socket=.*#db_socket=$sock#" -e "s#^db_lock_wait_timeout_s=.*#db_lock_wait_timeout_s=1#" \
		"$dir/commerce.conf" >"$dir/commerce-proxied.conf"
	workers_start "$dir" "$n" "$dir/commerce-proxied.conf"
	workers_stop "$dir" 2 # every write through the proxy: no second pool meanwhile
}

dbproxy_off() {
	workers_start "$1" "$2"
	[[ ${STACK_POOLS:-1} == 2 ]] && workers_start "$1" "$2" "" 2
	dbproxy_stop "$1"
}

dbproxy_stop() {
	stop_group "$1/run/dbproxy.pid" "db-fault-proxy" TERM 5
}

# url_port URL: the port of an http://host:port/... URL.
url_port() { sed -E 's#^[a-z]+://[^:/]+:([0-9]+).*#\1#' <<<"$1"; }

platform_start() {
	local dir=$1 url=$2 port i secret
	platform_stop "$dir"
	port=$(url_port "$url")
	[[ $port =~ ^[0-9]+$ ]] || die "no port in data platform URL: $url"
	secret=$(secret_file "$dir" platform-secret)
	setsid python3 "$COMMERCE_ROOT/scripts/fake-platform" --port "$port" \
		--log "$dir/log/platform-events.jsonl" --secret-file "$secret" \
		</dev/null >>"$dir/log/platform.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$dir/run/platform.pid"
	disown
	for ((i = 0; i < 100; i++)); do
		curl -sf "http://127.0.0.1:$port/_state" >/dev/null 2>&1 && break
		# alive is enough: right after the fork it may not have exec'd python yet
		if ! pid_alive "$pid"; then
			tail -n 5 "$dir/log/platform.log" >&2
			die "the fake data platform exited (port $port taken? set COMMERCE_FAKE_PLATFORM_PORT; log: $dir/log/platform.log)"
		fi
		sleep 0.1
	done
	((i < 100)) || die "fake platform did not answer on port $port (log: $dir/log/platform.log)"
	log "fake data platform on http://127.0.0.1:$port (events: $dir/log/platform-events.jsonl)"
}

platform_stop() {
	stop_group "$1/run/platform.pid" "fake-platform" TERM 5
}

# relay_start DIR: (re)start commerce-relay; COMMERCE_RELAY_WRAPPER (optional) prefixes it like
# COMMERCE_WORKER_WRAPPER the workers (split on spaces).
relay_start() {
	local dir=$1 relay=$COMMERCE_ROOT/commerce-relay
	relay_stop "$dir"
	[[ -x $relay ]] || die "missing $relay (build failed?)"
	# shellcheck disable=SC2086 # the wrapper is a command prefix
	COMMERCE_CONFIG=$dir/relay.conf setsid ${COMMERCE_RELAY_WRAPPER:-} "$relay" \
		</dev/null >>"$dir/log/relay.log" 2>&1 &
	echo "$!" >"$dir/run/relay.pid"
	disown
	log "commerce-relay started (log: $dir/log/relay.log)"
}

relay_stop() {
	stop_group "$1/run/relay.pid" "$COMMERCE_ROOT/commerce-relay" TERM 15
}

extras_start() {
	local dir=$1
	extras_stop "$dir"
	[[ ${STACK_FAKE_PLATFORM:-1} == 1 ]] && platform_start "$dir" "$STACK_PLATFORM_URL"
	relay_start "$dir"
}

extras_stop() {
	relay_stop "$1"
	platform_stop "$1"
}

# ---------------------------------------------------------------------------------------------
# nginx

# nginx_user: the user directive's argument. nginx workers run as nobody when the master is
# root; they must reach DIR/run/fcgi.sock. If some directory above the state dir is not
# world-searchable (a repo under /root, say), run the workers as root instead.
nginx_user() {
	local dir=$1 d
	if [[ $(id -u) -eq 0 ]]; then
		d=$dir/run
		while [[ $d != / && -n $d ]]; do
			if ((!(8#$(stat -c %a "$d") & 1))); then
				log "$d is not world-searchable: nginx workers run as root"
				echo root
				return 0
			fi
			d=$(dirname "$d")
		done
	fi
	if getent group nogroup >/dev/null 2>&1; then echo "nobody nogroup"; else echo nobody; fi
}

# nginx_render DIR PORT RATE BURST: render nginx/dev.conf.in into DIR/nginx.conf.
nginx_render() {
	local dir=$1 port=$2 rate=$3 burst=$4 user
	user=$(nginx_user "$dir")
	sed -e "s|@STATE_DIR@|$dir|g" \
		-e "s|@FCGI_SOCKET@|$dir/run/fcgi.sock|g" \
		-e "s|@PORT@|$port|g" \
		-e "s|@RATE@|$rate|g" \
		-e "s|@BURST@|$burst|g" \
		-e "s|@USER@|$user|g" \
		-e "s|@ROOT@|$COMMERCE_ROOT|g" \
		"$COMMERCE_ROOT/nginx/dev.conf.in" >"$dir/nginx.conf.tmp"
	# the worker pools behind the upstream (the production site's parameters)
	{
		echo "server unix:$(pool_file "$dir" 1 sock) max_fails=1 fail_timeout=5s;"
		[[ ${STACK_POOLS:-1} == 2 ]] && echo "server unix:$(pool_file "$dir" 2 sock) max_fails=1 fail_timeout=5s;"
	} >"$dir/nginx-upstream.conf"
	# the snippets include fastcgi_params relative to the configuration's directory
	ln -sfn /etc/nginx/fastcgi_params "$dir/fastcgi_params"
	if grep -n '@[A-Z_]*@' "$dir/nginx.conf.tmp" >&2; then
		die "unreplaced placeholders in nginx/dev.conf.in"
	fi
	mv -f "$dir/nginx.conf.tmp" "$dir/nginx.conf"
}

nginx_cmd() {
	local dir=$1
	shift
	nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/log/nginx-error.log" "$@"
}

# nginx_start DIR PORT RATE BURST: (re)start nginx of DIR on 127.0.0.1:PORT.
# Returns non-zero (does not exit) when nginx cannot start, e.g. the port was taken.
nginx_start() {
	local dir=$1 port=$2 rate=$3 burst=$4
	nginx_stop "$dir"
	if port_in_use "$port"; then
		log "port $port is already in use by another program"
		return 1
	fi
	nginx_render "$dir" "$port" "$rate" "$burst"
	if ! nginx_cmd "$dir" -t -q; then
		log "nginx configuration test failed ($dir/nginx.conf)"
		return 1
	fi
	if ! nginx_cmd "$dir"; then
		log "nginx did not start on port $port (log: $dir/log/nginx-error.log)"
		return 1
	fi
	local deadline=$((SECONDS + 5))
	while [[ -z $(pidfile_pid "$dir/run/nginx.pid" nginx) ]]; do
		((SECONDS < deadline)) || {
			log "nginx wrote no pid file"
			return 1
		}
		sleep 0.05
	done
	log "nginx on http://127.0.0.1:$port"
}

# nginx_stop DIR: graceful quit (SIGQUIT), SIGKILL for the group after 10 s.
nginx_stop() {
	stop_group "$1/run/nginx.pid" nginx QUIT 10
}

# ---------------------------------------------------------------------------------------------
# The whole stack

# The parameters stack_up reads (and writes to DIR/stack.env), besides the optional relay tuning
# STACK_RELAY_* and STACK_DB_ARGS (more mariadbd options).
STACK_PARAMS=(STACK_PORT STACK_WORKERS STACK_ADMIN_TOKEN STACK_PLATFORM_URL STACK_RATE STACK_BURST
	STACK_DEMO STACK_FAKE_PLATFORM STACK_LOCK_WAIT_S STACK_DB_ARGS STACK_AUTH STACK_AUTH_HS256_SECRET
	STACK_AUTH_ISSUER STACK_AUTH_AUDIENCE STACK_RELAY_BATCH STACK_RELAY_POLL_MS
	STACK_RELAY_MAX_ATTEMPTS STACK_RELAY_CONNECT_TIMEOUT_MS STACK_RELAY_TIMEOUT_MS
	STACK_RELAY_LEASE_MS STACK_RELAY_RETRY_BASE_MS STACK_RELAY_RETRY_MAX_MS STACK_POOLS STACK_REPLICA
	STACK_SEMI_SYNC_TIMEOUT_MS STACK_REPLICA_MAX_LAG_MS)

# stack_preset NAME [STACK_VAR=VALUE...]: set every STACK_* parameter of stack_up: first the
# preset NAME, then the assignments in order (empty arguments are skipped, so that
# "${X:+STACK_Y=$X}" passes an override only when X is set). Presets:
#   dev     scripts/dev-up: port 8080, 8 workers, demo data, fake platform on 8099, HS256
#           tokens (a random secret kept in DIR/secrets), issuer commerce-dev
#   test    scripts/test, scripts/valgrind-check: free ports, 4 workers, lock wait 2 s, JWKS
#           tokens (RS256 and ES256 keys stack_up makes with tests/lib/mkkeys), a quick relay
#   bench   bench/run: free ports, 8 workers, nginx rate limit out of the way
#   faults  tests/faults/run: free ports, 4 workers, lock wait 2 s, HS256 (pass
#           STACK_AUTH_HS256_SECRET and STACK_ADMIN_TOKEN), production relay settings made quick
# Parameters a preset leaves unset take write_config's defaults.
stack_preset() {
	local name=$1 kv
	shift
	unset "${STACK_PARAMS[@]}"
	STACK_RATE=20000 STACK_BURST=20000 STACK_DEMO=0 STACK_FAKE_PLATFORM=1
	if [[ $name != dev ]]; then
		STACK_PORT=auto
		STACK_PLATFORM_URL=http://127.0.0.1:$(free_port)/events
	fi
	case $name in
	dev)
		STACK_PORT=8080 STACK_WORKERS=8 STACK_ADMIN_TOKEN=dev-admin-token STACK_DEMO=1
		STACK_PLATFORM_URL=http://127.0.0.1:8099/events
		STACK_AUTH=hs256 STACK_AUTH_ISSUER=commerce-dev STACK_AUTH_AUDIENCE=commerce
		;;
	test)
		STACK_WORKERS=4 STACK_ADMIN_TOKEN=test-admin-token
		STACK_LOCK_WAIT_S=2 # the lock-wait test waits 3 × this
		# Tokens as production verifies them: RS256 and ES256 public keys from a JWKS, two kids.
		STACK_AUTH=jwks STACK_AUTH_ISSUER=https://id.test/ STACK_AUTH_AUDIENCE=commerce-test
		# A quick relay, so the feed tests see retries, timeouts and leases in seconds.
		STACK_RELAY_BATCH=20 STACK_RELAY_POLL_MS=50 STACK_RELAY_MAX_ATTEMPTS=50
		STACK_RELAY_CONNECT_TIMEOUT_MS=300 STACK_RELAY_TIMEOUT_MS=1000 STACK_RELAY_LEASE_MS=3000
		STACK_RELAY_RETRY_BASE_MS=50 STACK_RELAY_RETRY_MAX_MS=500
		# Beyond one machine: a second worker pool (a second host) behind the upstream, and a
		# replica fed semi-synchronously that serves catalog reads (tests/integration/test_scale.c).
		STACK_POOLS=2 STACK_REPLICA=1
		;;
	bench)
		STACK_WORKERS=8 STACK_ADMIN_TOKEN=bench-admin-token STACK_RATE=1000000 STACK_BURST=1000000
		;;
	faults)
		STACK_WORKERS=4 STACK_LOCK_WAIT_S=2
		# HS256, so that faults.py can sign user tokens with the standard library alone.
		STACK_AUTH=hs256 STACK_AUTH_ISSUER=faults STACK_AUTH_AUDIENCE=commerce
		# The production relay settings, made quick; enough attempts that no event is parked
		# FAILED during the outages, so every event must end up delivered.
		STACK_RELAY_BATCH=100 STACK_RELAY_POLL_MS=100 STACK_RELAY_MAX_ATTEMPTS=1000
		STACK_RELAY_LEASE_MS=30000 STACK_RELAY_CONNECT_TIMEOUT_MS=1000 STACK_RELAY_TIMEOUT_MS=3000
		STACK_RELAY_RETRY_BASE_MS=500 STACK_RELAY_RETRY_MAX_MS=30000
		;;
	*) die "unknown stack preset: $name (dev, test, bench, faults)" ;;
	esac
	for kv in "$@"; do
		[[ -z $kv ]] && continue
		[[ $kv =~ ^STACK_[A-Z0-9_]+= && " ${STACK_PARAMS[*]} " == *" ${kv%%=*} "* ]] ||
			die "stack_preset: not a stack parameter: $kv"
		printf -v "${kv%%=*}" '%s' "${kv#*=}"
	done
}

# stack_auth_keys DIR: the JWKS stack's token keys in DIR/auth (jwks.json and the private
# halves tests sign with), made once by tests/lib/mkkeys (built by make check).
stack_auth_keys() {
	local dir=$1
	[[ -f $dir/auth/jwks.json ]] && return 0
	[[ -x $COMMERCE_ROOT/tests/lib/mkkeys ]] || make -C "$COMMERCE_ROOT" -s tests/lib/mkkeys
	mkdir -p "$dir/auth"
	"$COMMERCE_ROOT/tests/lib/mkkeys" "$dir/auth" || die "tests/lib/mkkeys failed"
}

# stack_up DIR: start everything with the parameters in the environment (STACK_PARAMS; set them
# with stack_preset). With STACK_PORT=auto a free port is picked (retried if nginx loses the
# race for it). Writes DIR/stack.env and sets STACK_URL.
stack_up() {
	local dir=$1 attempt port
	state_prepare "$dir"
	db_start "$dir"
	if [[ ${STACK_REPLICA:-0} == 1 ]]; then
		db_repl_account "$dir"
		replica_start "$dir"
	fi
	db_schema "$dir"
	db_accounts "$dir"
	[[ ${STACK_DEMO:-0} == 1 ]] && db_demo "$dir"
	[[ ${STACK_AUTH:-hs256} == jwks ]] && stack_auth_keys "$dir"
	write_config "$dir" "$STACK_ADMIN_TOKEN" "$STACK_PLATFORM_URL"
	workers_start "$dir" "$STACK_WORKERS"
	[[ ${STACK_POOLS:-1} == 2 ]] && workers_start "$dir" "$STACK_WORKERS" "" 2
	extras_start "$dir"
	[[ ${STACK_REPLICA:-0} == 1 ]] && replica_caught_up "$dir"
	for attempt in 1 2 3 4 5; do
		port=$STACK_PORT
		[[ $port == auto ]] && port=$(free_port)
		nginx_start "$dir" "$port" "$STACK_RATE" "$STACK_BURST" && break
		[[ $STACK_PORT == auto && $attempt -lt 5 ]] || die "nginx failed to start"
	done
	STACK_URL=http://127.0.0.1:$port
	STACK_PORT=$port stack_save_env "$dir"
	if ! wait_ready "$STACK_URL" 30; then
		stack_logs "$dir"
		die "stack in $dir is not ready"
	fi
}

# test_env DIR: export the environment of the test programs (listed in scripts/test) for the
# stack stack_up started in DIR.
test_env() {
	local dir=$1
	export COMMERCE_TEST_URL=$STACK_URL
	export COMMERCE_TEST_ADMIN_TOKEN=$STACK_ADMIN_TOKEN
	export COMMERCE_TEST_DB_SOCKET
	COMMERCE_TEST_DB_SOCKET=$(db_socket "$dir")
	export COMMERCE_TEST_DB_NAME=$COMMERCE_DB_NAME
	export COMMERCE_TEST_STATE_DIR=$dir
	export COMMERCE_TEST_STACK=$COMMERCE_ROOT/scripts/stack
	export COMMERCE_TEST_PLATFORM_URL=$STACK_PLATFORM_URL
	export COMMERCE_TEST_WORKERS=$STACK_WORKERS
	export COMMERCE_TEST_AUTH_DIR=$dir/auth
	export COMMERCE_TEST_AUTH_ISSUER=${STACK_AUTH_ISSUER:-commerce-dev}
	export COMMERCE_TEST_AUTH_AUDIENCE=${STACK_AUTH_AUDIENCE:-commerce}
	export COMMERCE_TEST_POOLS=${STACK_POOLS:-1}
	if [[ ${STACK_REPLICA:-0} == 1 ]]; then
		export COMMERCE_TEST_REPLICA_SOCKET
		COMMERCE_TEST_REPLICA_SOCKET=$(replica_socket "$dir")
	fi
}

# run_program [--tee] SECONDS LOG PROGRAM [ARG...]: run PROGRAM (stdin /dev/null) under a
# timeout, its output into LOG (and to stdout too with --tee). In the background with `wait`, so
# that Ctrl-C / SIGTERM reach the caller's trap at once: RUN_PID is its pid meanwhile, for the
# trap's run_program_stop (timeout passes SIGTERM on). Returns its exit status (124: timed out).
RUN_PID=""
run_program() {
	local tee="" secs out rc=0
	[[ $1 == --tee ]] && tee=1 && shift
	secs=$1 out=$2
	shift 2
	if [[ -n $tee ]]; then
		timeout --kill-after=10 "$secs" "$@" </dev/null > >(tee "$out") 2>&1 &
	else
		timeout --kill-after=10 "$secs" "$@" </dev/null >"$out" 2>&1 &
	fi
	RUN_PID=$!
	wait "$RUN_PID" || rc=$?
	RUN_PID=""
	wait # for tee (the process substitution) to flush
	return "$rc"
}

# run_program_stop: the trap's half of run_program.
run_program_stop() {
	[[ -n $RUN_PID ]] || return 0
	kill -TERM "$RUN_PID" 2>/dev/null || true
	wait "$RUN_PID" 2>/dev/null || true
	RUN_PID=""
}

# stack_trap DIR KEEP [HOOK]: at exit (Ctrl-C and SIGTERM exit with 130): stop what run_program
# runs, call HOOK (a function), stop the stack of DIR, and remove DIR unless KEEP keeps it:
# KEEP is 1 (always), "failed" (when the exit status is neither 0 nor 130) or 0 (never).
STACK_TRAP=()
stack_trap() {
	STACK_TRAP=("$1" "$2" "${3:-}")
	trap stack_trap_exit EXIT
	trap 'exit 130' INT TERM
}

stack_trap_exit() {
	local rc=$? dir=${STACK_TRAP[0]} keep=${STACK_TRAP[1]} hook=${STACK_TRAP[2]}
	trap - EXIT INT TERM
	run_program_stop
	if [[ -n $hook ]]; then "$hook" || true; fi
	stack_down "$dir" || true
	if [[ $keep == 1 || ($keep == failed && $rc != 0 && $rc != 130) ]]; then
		log "kept $dir"
	else
		rm -rf "$dir"
	fi
	exit "$rc"
}

# api DIR METHOD PATH [BODY [USER]]: one request to the stack of DIR (at STACK_URL) with the
# admin token, or with USER's access token when USER is given (scripts/dev-token: an HS256
# stack); BODY goes as JSON. Prints the response body; dies unless the answer is 2xx.
api() {
	local dir=$1 method=$2 path=$3 body=${4:-} user=${5:-} out token=$STACK_ADMIN_TOKEN
	local args=(-sS --max-time 120 -X "$method" -H @- -w '\n%{http_code}')
	[[ -n $user ]] && token=$("$COMMERCE_ROOT/scripts/dev-token" --config "$dir/commerce.conf" "$user")
	[[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	# the token goes on stdin (-H @-), not on the command line
	out=$(curl "${args[@]}" "$STACK_URL$path" <<<"Authorization: Bearer $token") ||
		die "$method $path: curl failed"
	[[ ${out##*$'\n'} == 2?? ]] || die "$method $path: ${out%$'\n'*}"
	printf '%s\n' "${out%$'\n'*}"
}

# stack_save_env DIR: DIR/stack.env, the parameters the stack runs with (STACK_PARAMS that are
# set, and STACK_URL), for stack_load_env. Not the HS256 secret: write_config kept it in
# DIR/secrets, where a restart finds it.
stack_save_env() {
	local dir=$1 v
	(umask 077 && : >"$dir/stack.env")
	for v in "${STACK_PARAMS[@]}" STACK_URL; do
		if [[ $v != STACK_AUTH_HS256_SECRET && -n ${!v+set} ]]; then
			printf '%s=%s\n' "$v" "${!v}"
		fi
	done >"$dir/stack.env"
}

# stack_down DIR: stop nginx, relay, workers, MariaDB (in that order). Keeps DIR.
stack_down() {
	local dir=$1
	[[ -d $dir ]] || return 0
	nginx_stop "$dir"
	extras_stop "$dir"
	workers_stop "$dir"
	workers_stop "$dir" 2
	dbproxy_stop "$dir"
	db_stop "$dir"
	replica_stop "$dir"
}

# stack_load_env DIR: read DIR/stack.env (written by stack_up) into STACK_* variables.
stack_load_env() {
	local dir=$1 key value
	[[ -f $dir/stack.env ]] || die "no $dir/stack.env: start the stack first"
	while IFS='=' read -r key value; do
		[[ $key =~ ^STACK_[A-Z_]+$ ]] && printf -v "$key" '%s' "$value"
	done <"$dir/stack.env"
	return 0
}

# stack_logs DIR [LINES]: print the tails of the stack's logs to stderr.
stack_logs() {
	local dir=$1 lines=${2:-40} f
	for f in worker.log relay.log platform.log nginx-access.log nginx-error.log mysqld.err; do
		[[ -s $dir/log/$f ]] || continue
		printf -- '----- last %s lines of %s\n' "$lines" "$dir/log/$f" >&2
		tail -n "$lines" "$dir/log/$f" >&2
	done
}

# stack_status DIR: one line per component.
stack_status() {
	local dir=$1 p pool
	p=$(db_pids "$dir" | tr '\n' ' ')
	echo "mariadb: ${p:-stopped} (clients use $(db_socket "$dir") -> $(readlink "$(db_socket "$dir")"))"
	if [[ -f $dir/replica.initialized ]]; then
		p=$(replica_pids "$dir" | tr '\n' ' ')
		echo "replica: ${p:-stopped}"
	fi
	for pool in 1 2; do
		[[ $pool == 2 && ! -f $(pool_file "$dir" 2 pid) ]] && continue
		p=$(pidfile_pid "$(pool_file "$dir" "$pool" pid)" multiwatch)
		if [[ -n $p ]]; then
			echo "workers (pool $pool): multiwatch pid $p, $(($(group_pids "$p" | wc -l) - 1)) workers"
		else
			echo "workers (pool $pool): stopped"
		fi
	done
	p=$(pidfile_pid "$dir/run/relay.pid" commerce-relay)
	echo "relay:   ${p:-stopped}"
	p=$(pidfile_pid "$dir/run/nginx.pid" nginx)
	echo "nginx:   ${p:-stopped}"
	p=$(pidfile_pid "$dir/run/platform.pid" fake-platform)
	echo "fake data platform: ${p:-stopped}"
}
