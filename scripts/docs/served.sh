# shellcheck shell=bash
# scripts/docs/served.sh: the docs as they are served, for scripts/check-docs: what a server
# answers for /docs and /openapi.yaml (check_served), the production site with the docs
# snippet run by a scratch nginx (check_nginx, check (f)), and the explorer rendered by headless
# Chromium from a running stack (check_explorer, check (e)).
# shellcheck disable=SC2154 # root, tmp, spec, page, have_json, scratch_nginx: scripts/check-docs

# check_served BASE: GET BASE/docs and BASE/openapi.yaml are the repository's files, with the
# types and headers of nginx/commerce-docs.conf; a POST is refused. Prints what is wrong.
check_served() {
	local base=$1 bad=0 code f name want type
	for name in docs openapi.yaml; do
		if [[ $name == docs ]]; then
			f=$page want="text/html"
		else
			f=$spec want="application/yaml"
		fi
		code=$(curl -sS --max-time 20 -D "$tmp/h.$name" -o "$tmp/b.$name" -w '%{http_code}' \
			"$base/$name" 2>"$tmp/curl.err") || {
			echo "  GET $base/$name: $(cat "$tmp/curl.err")"
			bad=1
			continue
		}
		type=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\([^;[:space:]]*\).*/\1/p' "$tmp/h.$name" | tail -n 1)
		[[ $code == 200 ]] || { echo "  GET /$name: status $code, not 200" && bad=1; }
		[[ $type == "$want" ]] || { echo "  GET /$name: Content-Type '$type', not $want" && bad=1; }
		cmp -s "$f" "$tmp/b.$name" || { echo "  GET /$name: not the repository's ${f#"$root"/}" && bad=1; }
		grep -qi '^x-content-type-options: *nosniff' "$tmp/h.$name" ||
			{ echo "  GET /$name: no X-Content-Type-Options: nosniff" && bad=1; }
		grep -qi '^cache-control:' "$tmp/h.$name" || { echo "  GET /$name: no Cache-Control" && bad=1; }
		grep -qi '^x-request-id:' "$tmp/h.$name" || { echo "  GET /$name: no X-Request-Id" && bad=1; }
	done
	grep -qi "^content-security-policy: .*default-src 'none'" "$tmp/h.docs" 2>/dev/null ||
		{ echo "  GET /docs: no Content-Security-Policy with default-src 'none'" && bad=1; }
	code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X POST -d x "$base/docs" || true)
	[[ $code == 405 ]] || { echo "  POST /docs: status $code, not 405" && bad=1; }
	return "$bad"
}

# scratch_site: the production site as nginx/commerce.conf's header installs it, plus the
# snippet, in a scratch prefix ($scratch_nginx): logs, port and /usr/share/commerce/docs moved
# there (scripts/docs/scratch-nginx.conf.in), listening on 127.0.0.1:$scratch_port.
scratch_site() {
	local port
	mkdir -p "$scratch_nginx"/{snippets,log,temp,doc}
	chmod 755 "$tmp" "$scratch_nginx" "$scratch_nginx/doc"
	cp "$page" "$spec" "$scratch_nginx/doc/"
	chmod 644 "$scratch_nginx"/doc/*
	ln -s /etc/nginx/fastcgi_params /etc/nginx/mime.types "$scratch_nginx/"
	cp "$root"/nginx/commerce-{allow,fastcgi,console}.conf "$scratch_nginx/snippets/"
	sed "s|/usr/share/commerce/docs/|$scratch_nginx/doc/|g" "$root/nginx/commerce-docs.conf" \
		>"$scratch_nginx/snippets/commerce-docs.conf"
	port=$(free_port)
	sed -E -e "s|/var/log/nginx/|$scratch_nginx/log/|g" -e '/listen \[::\]:/d' \
		-e "s/listen 80( |;)/listen 127.0.0.1:$port\1/" \
		-e 's/^( *)server_tokens off;/&\n\1include snippets\/commerce-docs.conf;/' \
		"$root/nginx/commerce.conf" >"$scratch_nginx/commerce.conf"
	grep -q 'include snippets/commerce-docs.conf;' "$scratch_nginx/commerce.conf" ||
		die "cannot place the include in a copy of nginx/commerce.conf (no 'server_tokens off;' line)"
	sed "s|@DIR@|$scratch_nginx|g" "$root/scripts/docs/scratch-nginx.conf.in" >"$scratch_nginx/nginx.conf"
	scratch_port=$port
}

# scratch ARGS...: nginx on the scratch prefix.
scratch() { nginx -p "$scratch_nginx/" -c "$scratch_nginx/nginx.conf" -e "$scratch_nginx/log/error.log" "$@"; }

# check_nginx: (f): nginx/commerce-docs.conf and the docs locations of nginx/dev.conf.in are the
# same but for the directory they read; the production site with the snippet passes nginx -t
# and serves both files (check_served). Calls fail for each difference.
check_nginx() {
	local ok=1 out deadline
	log "(f) nginx: nginx/commerce-docs.conf = the docs locations of nginx/dev.conf.in; the site serves them"
	helper nginx-blocks "$root/nginx/commerce-docs.conf" /usr/share/commerce/docs/ >"$tmp/prod.blocks"
	helper nginx-blocks "$root/nginx/dev.conf.in" @ROOT@/docs/ >"$tmp/dev.blocks"
	if ! diff -u --label nginx/commerce-docs.conf --label nginx/dev.conf.in \
		"$tmp/prod.blocks" "$tmp/dev.blocks" >"$tmp/blocks.diff"; then
		cat "$tmp/blocks.diff" >&2
		fail "(f) the /docs and /openapi.yaml locations of nginx/commerce-docs.conf and nginx/dev.conf.in differ"
		ok=""
	fi
	if ! command -v nginx >/dev/null; then
		fail "(f) nginx is not installed (scripts/dev-up installs it)"
		ok=""
	elif [[ -f $page ]]; then
		scratch_nginx=$tmp/nginx
		scratch_site
		if ! out=$(scratch -t 2>&1); then
			printf '%s\n' "$out" >&2
			fail "(f) nginx/commerce.conf with nginx/commerce-docs.conf included does not pass nginx -t"
			ok=""
		elif ! scratch; then
			fail "(f) nginx with the production site and the snippet does not start"
			ok=""
		else
			deadline=$((SECONDS + 10))
			until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$scratch_port/docs"; do
				((SECONDS < deadline)) || break
				sleep 0.1
			done
			if ! check_served "http://127.0.0.1:$scratch_port" >"$tmp/served.log"; then
				cat "$tmp/served.log" >&2
				fail "(f) the production site with nginx/commerce-docs.conf does not serve the docs right (above)"
				ok=""
			fi
		fi
	fi
	[[ -n $ok ]] && log "(f) ok: same locations; the production site with the snippet serves both"
	return 0
}

# ensure_chromium: Debian's chromium, installed when missing (as root).
ensure_chromium() {
	command -v chromium >/dev/null && return 0
	[[ $(id -u) -eq 0 ]] || die "chromium is missing: as root, apt-get install -y chromium"
	log "installing Debian's chromium for the explorer test"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -o Dpkg::Use-Pty=0 chromium </dev/null >"$tmp/apt.log" 2>&1 ||
		{ apt-get update </dev/null >>"$tmp/apt.log" 2>&1 &&
			apt-get install -y -o Dpkg::Use-Pty=0 chromium </dev/null >>"$tmp/apt.log" 2>&1; } ||
		{
			tail -n 20 "$tmp/apt.log" >&2
			die "apt-get install chromium failed"
		}
}

# check_explorer URL: (e): URL serves /docs and /openapi.yaml as the repository has them, and
# headless Chromium renders URL/docs with no console error and every route shown (routes.txt
# and ops.tsv of check (c)). Calls fail for each problem.
check_explorer() {
	local url=$1
	log "(e) the explorer at $url/docs"
	if ! check_served "$url" >"$tmp/served.log"; then
		cat "$tmp/served.log" >&2
		fail "(e) $url does not serve /docs and /openapi.yaml as the repository has them (above)"
	fi
	ensure_chromium
	# --virtual-time-budget: run the page's timers (Redoc renders after load) in virtual time,
	# then dump the DOM. Console messages go to stderr (--enable-logging=stderr).
	if ! timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$tmp/chromium" --disable-extensions --disable-dev-shm-usage \
		--enable-logging=stderr --v=0 --virtual-time-budget=15000 \
		--dump-dom "$url/docs" >"$tmp/dom.html" 2>"$tmp/chromium.log"; then
		tail -n 20 "$tmp/chromium.log" >&2
		fail "(e) chromium could not open $url/docs"
		return 0
	fi
	helper console "$tmp/chromium.log" >"$tmp/console.log" ||
		fail "(e) the page logs errors in the browser (CSP or script errors, above)"
	cat "$tmp/console.log" >&2
	if [[ -z $have_json ]]; then
		log "(e) no readable spec: the routes' methods, paths and URLs only, not their summaries"
		: >"$tmp/ops.tsv"
	fi
	if helper dom "$tmp/dom.html" "$url" "$tmp/routes.txt" "$tmp/ops.tsv" >"$tmp/dom.log"; then
		log "(e) ok:$(tail -n 1 "$tmp/dom.log")"
	else
		cat "$tmp/dom.log" >&2
		fail "(e) the rendered explorer does not show every route (above)"
	fi
}
