# shellcheck shell=bash
# The MariaDB primary: a throwaway mariadbd per stack, on a unix socket (and, when it feeds a
# replica, a loopback port: replica.sh), with the schema (commerce-migrate), the program
# accounts and demo data.
# Also the two helpers the replica shares: mariadb_install and mariadbd_start.
# State-directory files:
#   DIR/mysql/                the datadir; DIR/mysql.initialized marks a complete init,
#                             DIR/mysql.replicated one made with its binary log (STACK_REPLICA=1)
#   DIR/run/mysqld.sock       the primary's socket; DIR/run/mysqld.pid (mariadbd writes it)
#   DIR/run/db.sock           the stable name clients use: a symlink to mysqld.sock (after
#                             scripts/stack failover: to replica.sock)
#   DIR/log/mysqld.err, mysqld.out, mysql-install.log
#   DIR/demo.loaded           sql/demo.sql was loaded
# The server is found by its exact --datadir argument (db_pids), not by its pid file: mariadbd
# writes the pid file only once InnoDB is up, and a server still recovering after a crash must
# be found too (or a second one would be started on the same datadir).

# db_socket DIR: the stable name every program and client connects to: a symlink to the
# current primary's socket (DIR/run/mysqld.sock; after scripts/stack failover the promoted
# replica's), so that a failover points everything at the new primary without a restart.
db_socket() { printf '%s\n' "$1/run/db.sock"; }
# db_server_socket DIR: the socket the primary mariadbd of DIR/mysql listens on.
db_server_socket() { printf '%s\n' "$1/run/mysqld.sock"; }

# db_pids DIR: the mariadbd serving DIR/mysql, found by its exact --datadir argument.
db_pids() { pids_with_arg "--datadir=$1/mysql"; }

# db_admin: the stacks' database administrator: the account named after the user who runs the
# stack (root when root does), authenticated by the socket's peer (unix_socket: no password,
# and only that user, only over the unix socket; mariadb_install, db_secure_admin).
db_admin() { id -un; }

# mariadb_at SOCKET [mariadb args...]: the mariadb client as the administrator over SOCKET.
mariadb_at() {
	local sock=$1
	shift
	mariadb --no-defaults --socket="$sock" --user="$(db_admin)" --default-character-set=utf8mb4 "$@"
}

# db_sql DIR [mariadb args...]: the mariadb client as the administrator on the primary (the
# stable name).
db_sql() {
	local dir=$1
	shift
	mariadb_at "$(db_socket "$dir")" "$@"
}

# mariadb_install DATADIR LOG: a new, empty datadir whose administrators are root and the user
# running it (db_admin), both by unix_socket authentication: no account without a password.
mariadb_install() {
	local datadir=$1 out=$2 user=()
	[[ $(id -u) -eq 0 ]] && user=(--user=root)
	rm -rf "$datadir"
	mkdir -p "$datadir"
	if ! mariadb-install-db --no-defaults "${user[@]}" --datadir="$datadir" \
		--auth-root-authentication-method=socket --auth-root-socket-user="$(db_admin)" \
		--skip-test-db --skip-name-resolve >"$out" 2>&1; then
		tail -n 30 "$out" >&2
		die "mariadb-install-db failed for $datadir (log: $out)"
	fi
}

# mariadbd_start DIR DATADIR SOCKET PIDFILE LOG [OPTION...]: start a mariadbd on DATADIR with
# the server settings the service is tuned for (mariadb/60-commerce.cnf: durable commits),
# listening on SOCKET, its log in LOG.err (and its output in LOG.out), plus the OPTIONs.
mariadbd_start() {
	local dir=$1 datadir=$2 sock=$3 pidfile=$4 out=$5 user=()
	shift 5
	[[ $(id -u) -eq 0 ]] && user=(--user=root)
	rm -f "$sock" "$sock.lock"
	daemon_start --own-pidfile "$dir" "$pidfile" "$out.out" mariadbd \
		--defaults-file="$COMMERCE_ROOT/mariadb/60-commerce.cnf" "${user[@]}" \
		--datadir="$datadir" --socket="$sock" --pid-file="$pidfile" --log-error="$out.err" "$@"
}

# db_init DIR: initialise the datadir once. An init interrupted by a crash (no marker) is redone.
db_init() {
	local dir=$1
	[[ -f $dir/mysql.initialized ]] && return 0
	[[ -z $(db_pids "$dir") ]] || die "a mariadbd runs on the uninitialised datadir $dir/mysql"
	log "initialising MariaDB in $dir/mysql"
	mariadb_install "$dir/mysql" "$dir/log/mysql-install.log"
	# a replica is fed from the binary log since the start (replica_start): say it has one
	[[ ${STACK_REPLICA:-0} == 1 ]] && touch "$dir/mysql.replicated"
	touch "$dir/mysql.initialized"
}

# db_start DIR: start (or reuse) the MariaDB of DIR and wait until it answers SQL.
# With STACK_REPLICA=1 it is the "mysqld" server of the replicated pair (replica.sh): binary log,
# GTIDs, semi-synchronous replication, a loopback port, read_only until opened; opened when the
# stable name points at it (server_started), else left read_only or replicating.
# STACK_DB_ARGS adds more options (bench/run: the binary log).
db_start() {
	local dir=$1 pids net=(--skip-networking)
	# the stable name points at this server unless a failover pointed it elsewhere
	[[ -L $(db_socket "$dir") ]] || ln -s mysqld.sock "$(db_socket "$dir")"
	db_init "$dir"
	if [[ ${STACK_REPLICA:-0} == 1 && ! -f $dir/mysql.replicated ]]; then
		die "the database in $dir was made without a replica (no binary log from its start), so" \
			"none can be fed from it: start afresh (scripts/dev-down, then remove $dir) or use" \
			"another state directory (COMMERCE_DEV_DIR)"
	fi
	mapfile -t pids < <(server_pids "$dir" mysqld)
	if ((${#pids[@]})); then
		if server_wait "$dir" mysqld 30; then
			log "MariaDB already running (pid ${pids[*]}), reusing it"
			return 0
		fi
		log "MariaDB pid ${pids[*]} does not answer; restarting it"
		db_stop "$dir"
	fi
	[[ ${STACK_REPLICA:-0} == 1 ]] && mapfile -t net < <(server_args "$dir" mysqld)
	# shellcheck disable=SC2086 # STACK_DB_ARGS is a list of options
	mariadbd_start "$dir" "$dir/mysql" "$(db_server_socket "$dir")" "$dir/run/mysqld.pid" \
		"$dir/log/mysqld" "${net[@]}" ${STACK_DB_ARGS:-}
	if ! server_wait "$dir" mysqld 60; then
		tail -n 30 "$dir/log/mysqld.err" >&2 2>/dev/null || true
		die "MariaDB did not start (log: $dir/log/mysqld.err)"
	fi
	[[ ${STACK_REPLICA:-0} == 1 ]] && server_started "$dir" mysqld
	log "MariaDB up on $(db_server_socket "$dir")"
}

# db_kill DIR: kill -9 of the mysqld server (a host lost); its data stays.
db_kill() {
	local dir=$1 pids
	mapfile -t pids < <(db_pids "$dir")
	((${#pids[@]})) && stop_pids KILL 10 "${pids[@]}"
	rm -f "$(db_server_socket "$dir")" "$(db_server_socket "$dir").lock" "$dir/run/mysqld.pid"
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

# db_schema DIR: create the database and bring its schema up to date (db_migrate); for a
# release before the migrations (stack_sql has no migrations/: the upgrade drill's 0.1.0),
# apply its schema.sql as the administrator, the way that release did.
db_schema() {
	local dir=$1 sql
	sql=$(stack_sql "$dir")
	db_sql "$dir" -e "CREATE DATABASE IF NOT EXISTS \`$COMMERCE_DB_NAME\`
		CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	if [[ -d $sql/migrations ]]; then
		db_migrate "$dir" apply
	else
		[[ -f $sql/schema.sql ]] || die "neither $sql/migrations nor $sql/schema.sql"
		db_sql "$dir" "$COMMERCE_DB_NAME" <"$sql/schema.sql"
	fi
}

# db_migrate DIR COMMAND [OPTION...]: commerce-migrate (of stack_bin) with the migrations of
# stack_sql, as the DDL account commerce_migrate (made or updated first by
# migrate-account.sql, its password from DIR/secrets): e.g. db_migrate DIR apply, or
# db_migrate DIR status. On the database DB_MIGRATE_NAME (default the shop's);
# COMMERCE_MIGRATE_WRAPPER (optional) prefixes it like COMMERCE_WORKER_WRAPPER the workers. Its
# output goes to stderr (the caller's log), and its exit status is commerce-migrate's.
db_migrate() {
	local dir=$1 p sql db=${DB_MIGRATE_NAME:-$COMMERCE_DB_NAME}
	shift
	sql=$(stack_sql "$dir")
	write_migrate_config "$dir"
	p=$(<"$(secret_file "$dir" migrate-db-password)")
	{
		printf "SET @migrate_password = '%s', @account_host = 'localhost';\n" "$p" # base64url
		cat "$sql/migrate-account.sql"
	} | db_sql "$dir" "$db" || die "$sql/migrate-account.sql failed"
	# shellcheck disable=SC2086 # the wrapper is a command prefix
	COMMERCE_CONFIG=$dir/migrate.conf COMMERCE_DB_NAME=$db ${COMMERCE_MIGRATE_WRAPPER:-} \
		"$(stack_bin "$dir")/commerce-migrate" --dir "$sql/migrations" "$@" >&2
}

# db_secure_admin DIR: the administrator accounts of a datadir made before mariadb_install used
# unix_socket authentication (root without a password, also over TCP from 127.0.0.1 and ::1):
# the user running the stack by unix_socket, root by unix_socket only, no other root account.
# Idempotent; a fresh datadir has nothing to change.
db_secure_admin() {
	local dir=$1 me
	me=$(db_admin)
	[[ $me =~ ^[A-Za-z0-9_.-]+$ ]] || die "user name $me cannot name a database account"
	db_sql "$dir" -N -B -e "SELECT CONCAT('DROP USER IF EXISTS \`', User, '\`@\`', Host, '\`;') FROM mysql.global_priv
		WHERE User = 'root' AND Host <> 'localhost'" | db_sql "$dir"
	db_sql "$dir" -e "CREATE USER IF NOT EXISTS '$me'@'localhost' IDENTIFIED VIA unix_socket;
		GRANT ALL PRIVILEGES ON *.* TO '$me'@'localhost' WITH GRANT OPTION;
		ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket"
}

# db_accounts DIR: the program accounts (fcgi, relay, popular, read) and their grants
# (grants.sql of stack_sql), with passwords from DIR/secrets (made on first use: secret_file,
# config.sh). The passwords go to the client on stdin.
db_accounts() {
	local dir=$1 p name sql
	sql=$(stack_sql "$dir")/grants.sql
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
