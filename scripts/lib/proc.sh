# shellcheck shell=bash
# Processes: starting the stack's daemons, finding them again, waiting for them, stopping them;
# and the ports and readiness checks every part uses to know it is up.
# Owns no state-directory file itself: each part names its own pid file (DIR/run/*.pid).
#
# What does the work: start-stop-daemon (dpkg's, on every Debian) starts a daemon detached
# with its pid file; procps (pgrep, ps) looks processes up; the shell's kill signals a pid or a
# whole process group. The guarantees the parts rely on:
#   - a pid is signalled only when the live process behind it is the one meant (its command
#     line holds a string the caller names): a stale pid file or a recycled pid is never
#     signalled;
#   - a process group stays findable after its leader was killed with -9 (its orphans keep the
#     group id, the pid in the pid file) and is stopped whole: nothing is left behind;
#   - a zombie counts as gone (the init of a container may be slow to reap it).

# The process states (ps and pgrep letters) of a live process: all but Z (zombie) and X (dead).
PROC_LIVE_STATES=R,S,D,T,t,W,P,I

# re_escape TEXT: TEXT as an extended regular expression that matches TEXT itself (pgrep -f).
# shellcheck disable=SC2001 # a bracket expression and & are sed's
re_escape() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"; }

# pid_alive PID: true when PID exists and is not a zombie.
pid_alive() {
	local pid=${1:-} state
	[[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
	state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
	[[ -n $state && $state != [ZX]* ]]
}

# pid_cmdline PID: the command line of PID, arguments separated by spaces (empty when gone).
pid_cmdline() { ps -ww -o args= -p "$1" 2>/dev/null || true; }

# pidfile_pid FILE MATCH: the pid in FILE when that process is alive and its command line
# contains MATCH (guards against a stale file and a recycled pid); prints nothing otherwise.
pidfile_pid() {
	local file=$1 match=$2
	[[ -s $file ]] || return 0
	pgrep -F "$file" -r "$PROC_LIVE_STATES" -f -- "$(re_escape "$match")" 2>/dev/null || true
}

# pids_with_arg ARG: the live processes that have exactly ARG as one of their arguments. ARG
# holds no space (state_prepare refuses state directories with one), so the space-delimited
# match on the command line is exact.
pids_with_arg() {
	pgrep -r "$PROC_LIVE_STATES" -f -- "(^| )$(re_escape "$1")( |$)" || true
}

# group_pids PGID: the live processes of process group PGID.
group_pids() {
	[[ ${1:-} =~ ^[1-9][0-9]*$ ]] || return 0
	pgrep -g "$1" -r "$PROC_LIVE_STATES" || true
}

# group_has PGID MATCH: true when a live process of group PGID has MATCH in its command line.
group_has() {
	[[ ${1:-} =~ ^[1-9][0-9]*$ ]] || return 1
	[[ -n $(pgrep -g "$1" -r "$PROC_LIVE_STATES" -f -- "$(re_escape "$2")") ]]
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

# wait_group_gone SECONDS PGID: wait until process group PGID is empty; false on timeout.
wait_group_gone() {
	local deadline=$((SECONDS + $1))
	while [[ -n $(group_pids "$2") ]]; do
		((SECONDS < deadline)) || return 1
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

# stop_group PIDFILE MATCH SIGNAL SECONDS: stop the daemon in PIDFILE and its process group (a
# daemon in a session of its own: nginx's master, the pool's multiwatch, one daemon_start
# started). MATCH must occur in the command line of a live member of the group, else the pid
# file is stale and nothing is signalled. SIGNAL goes to the daemon (graceful: nginx and
# multiwatch pass it on to their workers), or to the group when the daemon is gone (killed with
# -9: its orphans are still found through the group id) or when SIGNAL is KILL; after SECONDS
# the group gets SIGKILL. Removes PIDFILE.
stop_group() {
	local file=$1 match=$2 sig=$3 secs=$4 pid="" pgid
	if [[ -r $file ]]; then read -r pid <"$file" 2>/dev/null || true; fi
	if [[ $pid =~ ^[1-9][0-9]*$ ]]; then
		# (a leader killed with -9 is gone, but its orphans keep its pid as their group id)
		pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)
		[[ -n $pgid ]] || pgid=$pid
		# never our own group (a daemon that was not given a session of its own)
		[[ $pgid == "$(ps -o pgid= -p $$ | tr -d ' ')" ]] && pgid=""
		if [[ -n $pgid ]] && group_has "$pgid" "$match"; then
			if [[ $sig != KILL ]] && pid_alive "$pid"; then
				kill "-$sig" "$pid" 2>/dev/null || true
			else
				kill "-$sig" -- "-$pgid" 2>/dev/null || true
			fi
			if ! wait_group_gone "$secs" "$pgid"; then
				log "process group $pgid ($match) still running after ${secs}s, killing it:"
				ps -o pid=,stat=,wchan:24=,args= -g "$pgid" 2>/dev/null | sed 's/^/    /' >&2 || true
				kill -KILL -- "-$pgid" 2>/dev/null || true
				wait_group_gone 5 "$pgid" || log "warning: could not kill process group $pgid"
			fi
		fi
	fi
	rm -f "$file"
}

# daemon_start [--own-pidfile] DIR PIDFILE OUTPUT PROGRAM [ARG...]: start PROGRAM (searched in
# PATH) as a daemon with start-stop-daemon: a session of its own, working directory DIR, stdin
# /dev/null, stdout and stderr appended to OUTPUT, its pid in PIDFILE (written before PROGRAM
# runs, and there when daemon_start returns; with --own-pidfile PROGRAM writes it itself, as
# mariadbd does). A stale PIDFILE is removed first. It does not wait for PROGRAM to be ready:
# the caller checks that its own way.
daemon_start() {
	local make=(--make-pidfile) dir pidfile out prog
	[[ $1 == --own-pidfile ]] && make=() && shift
	dir=$1 pidfile=$2 out=$3
	prog=$(command -v "$4") || die "$4: command not found"
	shift 4
	rm -f "$pidfile"
	start-stop-daemon --start --quiet --background "${make[@]}" --pidfile "$pidfile" \
		--chdir "$dir" --output "$out" --startas "$prog" -- "$@" ||
		die "start-stop-daemon could not start $prog (log: $out)"
	# --make-pidfile: the child writes the file just before it executes the program, after
	# start-stop-daemon has returned; a caller that reads it at once (is it still running?)
	# must find it there (CI once found it missing and took the fake platform for dead)
	local i
	for ((i = 0; ${#make[@]} && i < 200; i++)); do
		[[ -s $pidfile ]] && return 0
		sleep 0.025
	done
	((${#make[@]} == 0)) || die "$prog: no pid file $pidfile after 5 s (log: $out)"
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
