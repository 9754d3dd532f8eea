# shellcheck shell=bash
# The order-event feed: commerce-relay, which delivers the outbox to the data platform at
# STACK_PLATFORM_URL, and scripts/fake-platform.py, which stands in for that platform on its port
# (when STACK_FAKE_PLATFORM=1) and checks the relay's signatures. Both are daemons started by
# daemon_start (proc.sh). commerce-popular is a batch (cron / systemd timer), not a daemon:
# nothing to start here (scripts/dev-batch runs it).
# State-directory files:
#   DIR/run/relay.pid, DIR/log/relay.log                commerce-relay (DIR/relay.conf)
#   DIR/run/platform.pid, DIR/log/platform.log          the fake platform
#   DIR/log/platform-events.jsonl                       the events it received
#   DIR/secrets/platform-secret                         the deliveries' signing secret

# platform_start DIR URL: (re)start the fake data platform on URL's port, and wait until it
# answers.
platform_start() {
	local dir=$1 url=$2 port i secret pidfile=$1/run/platform.pid
	platform_stop "$dir"
	port=$(url_port "$url")
	[[ $port =~ ^[0-9]+$ ]] || die "no port in data platform URL: $url"
	secret=$(secret_file "$dir" platform-secret)
	daemon_start "$dir" "$pidfile" "$dir/log/platform.log" \
		python3 "$COMMERCE_ROOT/scripts/fake-platform.py" --port "$port" \
		--log "$dir/log/platform-events.jsonl" --secret-file "$secret"
	for ((i = 0; i < 100; i++)); do
		curl -sf "http://127.0.0.1:$port/_state" >/dev/null 2>&1 && break
		if [[ -z $(pidfile_pid "$pidfile" fake-platform) ]]; then
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
	local dir=$1 relay
	relay=$(stack_bin "$dir")/commerce-relay
	relay_stop "$dir"
	[[ -x $relay ]] || die "missing $relay (build failed?)"
	# shellcheck disable=SC2086 # the wrapper is a command prefix
	COMMERCE_CONFIG=$dir/relay.conf daemon_start "$dir" "$dir/run/relay.pid" "$dir/log/relay.log" \
		${COMMERCE_RELAY_WRAPPER:-} "$relay"
	log "commerce-relay started (log: $dir/log/relay.log)"
}

relay_stop() {
	stop_group "$1/run/relay.pid" "$(stack_bin "$1")/commerce-relay" TERM 15
}

# extras_start DIR: the fake platform (unless STACK_FAKE_PLATFORM=0) and the relay.
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
