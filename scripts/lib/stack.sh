# shellcheck shell=bash
# The stack's life: stack_up starts every part in order, stack_down stops them, stack_status
# and stack_logs look at them; the parameters a stack was started with are kept for
# scripts/stack. And what the entry points need around a stack: the test programs' environment
# (test_env), a program run under a timeout (run_program), the exit trap that tears the stack
# down (stack_trap), and one API request (api).
# State-directory files:
#   DIR/stack.env             the STACK_* parameters the stack runs with (stack_save_env; not
#                             the HS256 secret, which stays in DIR/secrets)
#   DIR/auth/                 the JWKS stack's token keys: jwks.json and the private PEMs tests
#                             sign with (stack_auth_keys, STACK_AUTH=jwks)
# The order of a start, and where each part is started:
#   state_prepare (config.sh) → db_start (db.sh) → replica_start (replica.sh) → db_schema,
#   db_accounts, db_demo (db.sh) → write_config (config.sh) → workers_start (workers.sh, one
#   per pool) → extras_start: the fake platform and the relay (feed.sh) → nginx_start (nginx.sh).
# A new part gets a file of its own with NAME_start and NAME_stop, one line in stack_up, one in
# stack_down and one in stack_status.

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
	db_secure_admin "$dir"
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
		echo "primary: the $(primary_server "$dir") server"
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
