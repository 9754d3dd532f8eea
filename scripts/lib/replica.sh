# shellcheck shell=bash
# The replica and the failover (STACK_REPLICA=1): a second mariadbd in DIR/replica/mysql on
# DIR/run/replica.sock, read_only, fed by GTID from the primary's loopback port and
# acknowledging semi-synchronously; the primary's side of it (db_primary_args, the
# replication account); and stack_failover, which promotes the replica.
# State-directory files:
#   DIR/replica/mysql/        the replica's datadir; DIR/replica.initialized marks a complete
#                             init, DIR/replica.configured a done CHANGE MASTER
#   DIR/run/replica.sock      its socket; DIR/run/replica.pid (mariadbd writes it)
#   DIR/run/db.port           the primary's loopback port (kept across restarts)
#   DIR/secrets/repl-db-password   the replication account's password
#   DIR/log/replica.err, replica.out, replica-install.log
# A second replica is one more of these with a datadir, socket, pid file and server id of its
# own: give these functions a replica number (as pool_file does for the worker pools) and list
# its socket in write_config's db_replica_sockets (config.sh).

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

# db_repl_account DIR: the replica's account on the primary (REPLICATION SLAVE only).
db_repl_account() {
	local dir=$1 p
	p=$(<"$(secret_file "$dir" repl-db-password)")
	# the password goes to the client on stdin
	printf '%s\n' "CREATE USER IF NOT EXISTS 'commerce_repl'@'127.0.0.1' IDENTIFIED BY '$p';" \
		"GRANT REPLICATION SLAVE ON *.* TO 'commerce_repl'@'127.0.0.1';" | db_sql "$dir"
}

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
	local dir=$1 sock i pass
	sock=$(replica_socket "$dir")
	[[ -n $(replica_pids "$dir") ]] && return 0
	if [[ ! -f $dir/replica.initialized ]]; then
		rm -rf "$dir/replica"
		mariadb_install "$dir/replica/mysql" "$dir/log/replica-install.log"
		touch "$dir/replica.initialized"
	fi
	mariadbd_start "$dir" "$dir/replica/mysql" "$sock" "$dir/run/replica.pid" "$dir/log/replica" \
		--skip-networking --server-id=2 --log-bin=binlog --binlog-format=ROW --gtid-strict-mode=ON \
		--read-only=ON --rpl-semi-sync-slave-enabled=ON --skip-slave-start --relay-log-recovery=ON
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

# replica_applied DIR: true when the replica's SQL thread has applied every event its IO thread
# received (the same binary log file and position in SHOW SLAVE STATUS).
replica_applied() {
	local key value read="" exec="" file="" exec_file=""
	while IFS=: read -r key value; do
		value=${value# }
		case ${key##* } in
		Master_Log_File) file=$value ;;
		Read_Master_Log_Pos) read=$value ;;
		Relay_Master_Log_File) exec_file=$value ;;
		Exec_Master_Log_Pos) exec=$value ;;
		esac
	done < <(replica_sql "$1" -e 'SHOW SLAVE STATUS\G')
	[[ $read == "$exec" && $file == "$exec_file" ]]
}

# stack_failover DIR: the primary is lost (killed here if it still runs, so that it cannot take
# writes any more); the replica applies what it received, stops replicating, becomes writable,
# and the stable name (db_socket) is pointed at it: workers, relay and batch reconnect to it by
# themselves. Semi-synchronous replication made every acknowledged commit arrive there.
stack_failover() {
	local dir=$1 pids i
	mapfile -t pids < <(db_pids "$dir")
	((${#pids[@]})) && stop_pids KILL 10 "${pids[@]}"
	[[ -n $(replica_pids "$dir") ]] || die "no replica to promote"
	replica_sql "$dir" -e 'STOP SLAVE IO_THREAD'
	for ((i = 0; i < 600; i++)); do # until the SQL thread has applied every received event
		replica_applied "$dir" && break
		sleep 0.05
	done
	replica_sql "$dir" -e 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF' ||
		die "promoting the replica failed"
	ln -sfn replica.sock "$dir/run/db.sock.new" && mv -Tf "$dir/run/db.sock.new" "$(db_socket "$dir")"
	log "failover: the replica ($(replica_socket "$dir")) is the primary now"
}
