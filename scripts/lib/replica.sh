# shellcheck shell=bash
# The replicated pair (STACK_REPLICA=1) and the failover. Two mariadbd, started alike
# (server_args): "mysqld" (DIR/mysql, the first primary, server id 1, db.sh starts it) and
# "replica" (DIR/replica/mysql, server id 2). Each has a binary log with GTIDs and
# log_slave_updates, semi-synchronous replication both ways (either can be primary), a loopback
# port of its own for the other to replicate from, and starts read_only: only the current
# primary is opened (commerce-failover open). Which one is the primary is the stable name,
# DIR/run/db.sock, a symlink to its socket (a DNS name or a virtual IP in production):
# stack_failover promotes the other server (commerce-failover promote) and points the name at
# it; the old primary, started again, stays read_only until stack_rejoin makes it the new
# primary's replica.
# State-directory files:
#   DIR/replica/mysql/        the replica's datadir; DIR/replica.initialized marks a complete
#                             init, DIR/replica.configured its first CHANGE MASTER
#   DIR/run/replica.sock      its socket; DIR/run/replica.pid (mariadbd writes it)
#   DIR/run/db.port, DIR/run/replica.port   the servers' loopback ports (kept across restarts)
#   DIR/secrets/repl-db-password   the replication account's password
#   DIR/log/replica.err, replica.out, replica-install.log
# A second replica is one more of these with a datadir, socket, pid file, port and server id
# of its own (server_datadir, server_port, server_id), and its socket in write_config's
# db_replica_sockets (config.sh).

# The servers by name: their datadir, socket, port file and server id.
server_datadir() { if [[ $2 == mysqld ]]; then echo "$1/mysql"; else echo "$1/replica/mysql"; fi; }
server_socket() { printf '%s\n' "$1/run/$2.sock"; }
server_port_file() { if [[ $2 == mysqld ]]; then echo "$1/run/db.port"; else echo "$1/run/$2.port"; fi; }
server_id() { if [[ $1 == mysqld ]]; then echo 1; else echo 2; fi; }
server_pids() { pids_with_arg "--datadir=$(server_datadir "$1" "$2")"; }
server_sql() {
	local dir=$1 name=$2
	shift 2
	mariadb_at "$(server_socket "$dir" "$name")" "$@"
}
# server_port DIR NAME: its loopback port, picked once and kept in its port file.
server_port() {
	local f
	f=$(server_port_file "$1" "$2")
	[[ -s $f ]] || free_port >"$f"
	cat "$f"
}
# primary_server DIR: the server the stable name points at; other_server NAME: the other one.
primary_server() {
	local t
	t=$(readlink "$(db_socket "$1")" 2>/dev/null || echo mysqld.sock)
	echo "${t%.sock}"
}
other_server() { if [[ $1 == mysqld ]]; then echo replica; else echo mysqld; fi; }

replica_socket() { server_socket "$1" replica; }
replica_pids() { server_pids "$1" replica; }
replica_sql() {
	local dir=$1
	shift
	server_sql "$dir" replica "$@"
}

# failover_cmd ARGS...: the production command, commerce-failover(8), as the stack's
# administrator (unix_socket: no password anywhere).
failover_cmd() {
	local bin=$COMMERCE_ROOT/commerce-failover
	[[ -x $bin ]] || die "missing $bin (build failed?)"
	"$bin" --user "$(db_admin)" --database "$COMMERCE_DB_NAME" "$@"
}

# server_args DIR NAME: the options of a server of the pair (one per line): a loopback port,
# the binary log with GTIDs in strict mode (log_slave_updates: a promoted replica's log holds
# everything, so that the old primary can replicate from it), semi-synchronous replication
# waiting after the binary log is synced (AFTER_SYNC: a commit a client saw acknowledged is on
# the replica), STACK_SEMI_SYNC_TIMEOUT_MS at most (then the primary goes on alone,
# asynchronously, until the replica is back; docs/OPERATIONS.md), and read_only until opened.
# A server that is not the primary starts with init_rpl_role=SLAVE: after a crash, its
# recovery drops the transactions at the tail of its binary log that no replica acknowledged
# (prepared, never committed: AFTER_SYNC held them, and nobody was told of them), so that an
# old primary killed in a failover holds nothing the new one lacks and can rejoin as its
# replica.
server_args() {
	local dir=$1 name=$2
	printf '%s\n' --bind-address=127.0.0.1 "--port=$(server_port "$dir" "$name")" \
		"--server-id=$(server_id "$name")" --log-bin=binlog --sync-binlog=1 --binlog-format=ROW \
		--gtid-strict-mode=ON --log-slave-updates=ON --read-only=ON \
		--rpl-semi-sync-master-enabled=ON \
		"--rpl-semi-sync-master-timeout=${STACK_SEMI_SYNC_TIMEOUT_MS:-2000}" \
		--rpl-semi-sync-master-wait-point=AFTER_SYNC --rpl-semi-sync-master-wait-no-slave=OFF \
		--rpl-semi-sync-slave-enabled=ON --skip-slave-start --relay-log-recovery=ON
	[[ $(primary_server "$dir") == "$name" ]] || echo --init-rpl-role=SLAVE
}

# server_wait DIR NAME SECONDS: wait until the server answers on its own socket; gives up early
# when no mariadbd runs on its datadir.
server_wait() {
	local dir=$1 name=$2 deadline start=$SECONDS
	deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		server_sql "$dir" "$name" --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1 && return 0
		if ((SECONDS - start >= 2)) && [[ -z $(server_pids "$dir" "$name") ]]; then
			return 1
		fi
		sleep 0.2
	done
	return 1
}

# server_started DIR NAME: what a server of the pair does once it answers: the primary (the
# stable name points at it: its first start, or a restart) is opened, unless the other server
# takes writes; a replica replicates again; an old primary after a failover stays read_only.
server_started() {
	local dir=$1 name=$2 other peer=()
	other=$(other_server "$name")
	if [[ $(primary_server "$dir") == "$name" ]]; then
		[[ -n $(server_pids "$dir" "$other") ]] && peer=(--replica-socket "$(server_socket "$dir" "$other")")
		failover_cmd --primary-socket "$(server_socket "$dir" "$name")" "${peer[@]}" open >&2 ||
			die "could not open the primary ($name)"
		# a restart with its replica there: acknowledgements are awaited at once, as in
		# production (61-commerce-primary.cnf); the replica reconnects within a second
		((${#peer[@]})) &&
			server_sql "$dir" "$name" -e 'SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON'
		return 0
	elif [[ -n $(server_sql "$dir" "$name" -N -B -e 'SHOW SLAVE STATUS') ]]; then
		server_sql "$dir" "$name" -e 'START SLAVE' || die "START SLAVE on the $name server failed"
	else
		log "the $name server stays read_only: it is not the primary (after a failover:" \
			"scripts/stack DIR rejoin makes it the primary's replica)"
	fi
}

# db_repl_account DIR: the replica's account on the primary (REPLICATION SLAVE only; it
# replicates, so either server has it).
db_repl_account() {
	local dir=$1 p
	p=$(<"$(secret_file "$dir" repl-db-password)")
	# the password goes to the client on stdin
	printf '%s\n' "CREATE USER IF NOT EXISTS 'commerce_repl'@'127.0.0.1' IDENTIFIED BY '$p';" \
		"GRANT REPLICATION SLAVE ON *.* TO 'commerce_repl'@'127.0.0.1';" | db_sql "$dir"
}

# replicate_from DIR NAME PRIMARY: point server NAME at server PRIMARY (by GTID, from NAME's
# own position) and start replicating. The password goes to the client on stdin.
replicate_from() {
	local dir=$1 name=$2 primary=$3 pass
	pass=$(<"$(secret_file "$dir" repl-db-password)")
	printf '%s\n' "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $(server_port "$dir" "$primary"),
		MASTER_USER = 'commerce_repl', MASTER_PASSWORD = '$pass',
		MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1;" "START SLAVE;" |
		server_sql "$dir" "$name" || die "CHANGE MASTER on the $name server failed"
}

# replica_start DIR: initialise (once), start, and replicate from the primary (from the first
# transaction on a new replica: the primary's binary log holds everything since it was made).
replica_start() {
	local dir=$1 args
	[[ -n $(replica_pids "$dir") ]] && return 0
	if [[ ! -f $dir/replica.initialized ]]; then
		rm -rf "$dir/replica" "$dir/replica.configured"
		mariadb_install "$dir/replica/mysql" "$dir/log/replica-install.log"
		touch "$dir/replica.initialized"
	fi
	mapfile -t args < <(server_args "$dir" replica)
	mariadbd_start "$dir" "$dir/replica/mysql" "$(replica_socket "$dir")" "$dir/run/replica.pid" \
		"$dir/log/replica" "${args[@]}"
	server_wait "$dir" replica 60 || die "the replica did not start (log: $dir/log/replica.err)"
	if [[ ! -f $dir/replica.configured ]]; then
		replica_sql "$dir" -e "SET GLOBAL gtid_slave_pos = ''"
		replicate_from "$dir" replica "$(primary_server "$dir")"
		touch "$dir/replica.configured"
		log "replica up on $(replica_socket "$dir"), replicating from its primary"
		return 0
	fi
	server_started "$dir" replica
	log "the replica server is up on $(replica_socket "$dir")"
}

# replica_stop DIR [SIGNAL]: a clean stop (TERM, the default) or kill -9 (KILL).
replica_stop() {
	local dir=$1 sig=${2:-TERM} pids
	mapfile -t pids < <(replica_pids "$dir")
	((${#pids[@]})) && stop_pids "$sig" 60 "${pids[@]}"
	rm -f "$(replica_socket "$dir")" "$(replica_socket "$dir").lock" "$dir/run/replica.pid"
}

# replica_caught_up DIR [SECONDS]: wait until the primary's replica has applied the primary's
# binary log so far; then the primary waits for its acknowledgements (semi-sync with a replica
# present).
replica_caught_up() {
	local dir=$1 pos primary standby
	primary=$(primary_server "$dir")
	standby=$(other_server "$primary")
	pos=$(server_sql "$dir" "$primary" -N -B -e 'SELECT @@gtid_binlog_pos')
	[[ $(server_sql "$dir" "$standby" -N -B -e "SELECT MASTER_GTID_WAIT('$pos', ${2:-60})") == 0 ]] ||
		die "the $standby server did not catch up with $pos (log: $dir/log/$standby.err)"
	server_sql "$dir" "$primary" -e 'SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON'
}

# stack_failover DIR [--force]: promote the server that is not the primary, with
# commerce-failover(8): it fences the old primary when it still runs (read_only: it takes no
# more writes) and waits until the other has its last commit; otherwise it decides on the
# evidence (the replica's copy of the heartbeat against the stack's acknowledged writes, the
# gauge in its metrics file) and refuses, naming the gap, when the replica may lack an
# acknowledged write.
# --force promotes anyway. On success the stable name (db_socket) points at the new primary:
# workers, relay and batch reconnect to it by themselves. The old primary is left as it is
# (fenced, or down); started again it stays read_only (server_started).
stack_failover() {
	local dir=$1 force=${2:-} old new args=()
	old=$(primary_server "$dir")
	new=$(other_server "$old")
	[[ -z $force || $force == --force ]] || die "stack_failover: unknown option $force"
	[[ -n $(server_pids "$dir" "$new") ]] || die "the $new server is not running: nothing to promote"
	[[ -n $(server_pids "$dir" "$old") ]] && args+=(--primary-socket "$(server_socket "$dir" "$old")")
	# the workers' and the relay's acknowledged writes: the host's shared metrics file, read
	# directly (its /metrics through nginx waits for a worker, and right after the primary
	# died every worker may be busy for seconds learning what became of its commit)
	args+=(--metrics-file "$dir/run/metrics")
	[[ -n $force ]] && args+=(--force)
	failover_cmd --replica-socket "$(server_socket "$dir" "$new")" "${args[@]}" promote ||
		die "no failover: commerce-failover did not promote the $new server (above)"
	ln -sfn "$new.sock" "$dir/run/db.sock.new" && mv -Tf "$dir/run/db.sock.new" "$(db_socket "$dir")"
	log "failover: the $new server ($(server_socket "$dir" "$new")) is the primary now"
}

# gtid_covered STATE OTHER: true when every transaction of a server whose @@gtid_binlog_state
# is STATE is also in OTHER's (per domain and server id, its last sequence number is at most
# OTHER's: GTIDs are in order within a domain under gtid_strict_mode).
gtid_covered() {
	local g d s n o
	local -a mine theirs
	IFS=, read -r -a mine <<<"$1"
	IFS=, read -r -a theirs <<<"$2"
	for g in "${mine[@]}"; do
		[[ -z $g ]] && continue
		IFS=- read -r d s n <<<"$g"
		for o in "${theirs[@]}"; do
			[[ $o == "$d-$s-"* ]] && ((${o##*-} >= n)) && continue 2
		done
		return 1
	done
}

# stack_rejoin DIR: make the server that is not the primary (the old primary after a failover)
# the primary's replica: started if it is not (read_only), checked to hold nothing the primary
# lacks, its position taken from its own GTIDs, then replicating and caught up. Refused when it
# holds transactions the primary lacks (after a forced promotion): rebuild it from a backup of
# the primary then. (Its binary log is kept: the check reads the GTIDs it records.)
stack_rejoin() {
	local dir=$1 primary me mine theirs
	primary=$(primary_server "$dir")
	me=$(other_server "$primary")
	[[ -n $(server_pids "$dir" "$primary") ]] || die "the primary ($primary) is not running"
	if [[ -z $(server_pids "$dir" "$me") ]]; then
		if [[ $me == mysqld ]]; then db_start "$dir"; else replica_start "$dir"; fi
	fi
	mine=$(server_sql "$dir" "$me" -N -B -e 'SELECT @@GLOBAL.gtid_binlog_state')
	theirs=$(server_sql "$dir" "$primary" -N -B -e 'SELECT @@GLOBAL.gtid_binlog_state')
	gtid_covered "$mine" "$theirs" ||
		die "the $me server holds transactions the primary lacks ($mine; the primary: $theirs):" \
			"after a forced promotion, rebuild it from a backup of the primary"
	server_sql "$dir" "$me" -e "STOP SLAVE; RESET SLAVE ALL;
		SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_current_pos"
	replicate_from "$dir" "$me" "$primary"
	replica_caught_up "$dir"
	log "rejoined: the $me server is the $primary server's replica"
}
