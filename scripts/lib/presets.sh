# shellcheck shell=bash
# The presets: the named sets of STACK_* parameters each entry point starts its stack with
# (dev, test, bench, faults). stack_up (stack.sh) reads the parameters; STACK_PARAMS lists them.
# Owns no state-directory file (stack_save_env writes the chosen ones to DIR/stack.env).

# The parameters stack_up reads (and writes to DIR/stack.env), besides the optional relay tuning
# STACK_RELAY_* and STACK_DB_ARGS (more mariadbd options).
STACK_PARAMS=(STACK_PORT STACK_WORKERS STACK_ADMIN_TOKEN STACK_PLATFORM_URL STACK_RATE STACK_BURST
	STACK_TOKEN_RATE STACK_TOKEN_BURST
	STACK_DEMO STACK_FAKE_PLATFORM STACK_LOCK_WAIT_S STACK_DB_ARGS STACK_AUTH STACK_AUTH_HS256_SECRET
	STACK_AUTH_ISSUER STACK_AUTH_AUDIENCE STACK_RELAY_BATCH STACK_RELAY_POLL_MS
	STACK_RELAY_MAX_ATTEMPTS STACK_RELAY_CONNECT_TIMEOUT_MS STACK_RELAY_TIMEOUT_MS
	STACK_RELAY_LEASE_MS STACK_RELAY_RETRY_BASE_MS STACK_RELAY_RETRY_MAX_MS STACK_POOLS STACK_REPLICA
	STACK_SEMI_SYNC_TIMEOUT_MS STACK_REPLICA_MAX_LAG_MS STACK_REPLICATION_POLICY
	STACK_DOCS_DEV_TOKEN)
# Which programs and SQL the stack runs (config.sh: stack_bin, stack_sql); the build tree's
# unless set (the upgrade drill starts a stack of the previous release: upgrade.sh).
STACK_PARAMS+=(STACK_BIN STACK_SQL)

# stack_preset NAME [STACK_VAR=VALUE...]: set every STACK_* parameter of stack_up: first the
# preset NAME, then the assignments in order (empty arguments are skipped, so that
# "${X:+STACK_Y=$X}" passes an override only when X is set). Presets:
#   dev     scripts/dev-up: port 8080, 16 workers, demo data, fake platform on 8099, HS256
#           tokens (a random secret kept in DIR/secrets), issuer commerce-dev; the explorer at
#           /docs offers a token for user 1 (STACK_DOCS_DEV_TOKEN, scripts/lib/nginx.sh)
#   test    scripts/test, scripts/valgrind-check: free ports, 4 workers, lock wait 2 s, JWKS
#           tokens (RS256 and ES256 keys stack_up makes with tests/lib/mkkeys), a quick relay
#   bench   bench/run: free ports, 16 workers, nginx rate limit out of the way
#   faults  tests/faults/run: free ports, 4 workers, lock wait 2 s, HS256 (pass
#           STACK_AUTH_HS256_SECRET and STACK_ADMIN_TOKEN), production relay settings made quick
# Parameters a preset leaves unset take write_config's defaults.
# shellcheck disable=SC2034 # the parameters are read by stack_up (stack.sh) and its parts
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
		STACK_PORT=8080 STACK_WORKERS=16 STACK_ADMIN_TOKEN=dev-admin-token STACK_DEMO=1
		STACK_PLATFORM_URL=http://127.0.0.1:8099/events
		STACK_AUTH=hs256 STACK_AUTH_ISSUER=commerce-dev STACK_AUTH_AUDIENCE=commerce
		STACK_DOCS_DEV_TOKEN=1
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
		STACK_WORKERS=16 STACK_ADMIN_TOKEN=bench-admin-token STACK_RATE=1000000 STACK_BURST=1000000
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
