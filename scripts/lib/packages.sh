# shellcheck shell=bash
# Packages and the build: the Debian packages a fresh machine needs (COMMERCE_PACKAGES), the
# one Prometheus binary the checks use (promtool), and the in-tree autotools build.
# Owns no state-directory file; writes build.log and .cache/ at the repository root.

# Debian packages the project needs on a fresh machine (build, stack, tests, benchmarks).
# procps: pgrep and ps for the process control (proc.sh); shellcheck: scripts/test's lint.
COMMERCE_PACKAGES=(
	autoconf automake make gcc pkg-config
	libfcgi-dev libjson-c-dev libmariadb-dev libcurl4-openssl-dev libcmocka-dev
	libjwt-dev libssl-dev openssl
	mariadb-server mariadb-client nginx spawn-fcgi multiwatch procps
	valgrind wrk curl iproute2 python3 tzdata systemd shellcheck
	scdoc debhelper dpkg-dev fakeroot lintian man-db chromium
)

# ensure_packages [PACKAGE...]: install whatever of the packages (default: COMMERCE_PACKAGES) is
# missing. A warm machine never touches apt; a fresh one runs one install, and apt-get update
# (then the install again) only when the install fails without it. apt's chatter goes to
# stderr (bench/run's stdout is its figures).
ensure_packages() {
	local need=() p status
	(($#)) || set -- "${COMMERCE_PACKAGES[@]}"
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		[[ $status == ii* ]] || need+=("$p")
	done
	((${#need[@]} == 0)) && return 0
	log "installing missing packages: ${need[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		die "not root: install them with: sudo apt-get install -y ${need[*]}"
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -o Dpkg::Use-Pty=0 "${need[@]}" </dev/null >&2; then
		apt-get update </dev/null >&2
		apt-get install -y -o Dpkg::Use-Pty=0 "${need[@]}" </dev/null >&2
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
		cd "$COMMERCE_ROOT" || exit
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
