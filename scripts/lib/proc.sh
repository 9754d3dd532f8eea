# shellcheck shell=bash
# Processes: finding, waiting for and stopping the programs a stack starts (plain /proc, so
# procps is not needed); and the ports and readiness checks every part uses to know it is up.
# Owns no state-directory file itself: each part names its own pid file (DIR/run/*.pid).

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

# url_port URL: the port of an http://host:port/... URL.
url_port() { sed -E 's#^[a-z]+://[^:/]+:([0-9]+).*#\1#' <<<"$1"; }

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
