# shellcheck shell=bash
# The browser tests' tools: Debian's chromium, and puppeteer-core (pinned in
# tests/browser/package-lock.json) in tests/browser/node_modules (ignored by git).
#
#   browser_ready                 install what is missing (chromium as root; npm ci once, again
#                                 only when the lock file changed)
#   browser_test SCRIPT [ARG...]  browser_ready, then node tests/browser/SCRIPT ARG...

browser_ready() {
	local dir=$COMMERCE_ROOT/tests/browser stamp
	command -v chromium >/dev/null || ensure_packages chromium
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		ensure_packages nodejs npm
	fi
	stamp=$dir/node_modules/.lock-installed
	if [[ ! -f $stamp ]] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
		log "npm ci in tests/browser (puppeteer-core; no browser download)"
		(cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm_config_update_notifier=false \
			npm_config_fund=false npm_config_audit=false npm ci --ignore-scripts >&2) ||
			die "npm ci in tests/browser failed"
		cp "$dir/package-lock.json" "$stamp"
	fi
}

browser_test() {
	local script=$1
	shift
	browser_ready
	node "$COMMERCE_ROOT/tests/browser/$script" "$@"
}
