# shellcheck shell=bash
# scripts/docs/served.sh: the docs as they are served, for scripts/check-docs: what a server
# answers for /docs, /docs/ and /openapi.yaml (check_served), the production site with the docs
# snippet run by a scratch nginx (check_nginx, check (f)), the explorer rendered by headless
# Chromium from a running stack (check_explorer, check (e)), and the stack's nginx serving the
# docs of a checkout nobody else may read (check_private_checkout, check (g)).
# shellcheck disable=SC2154 # root, tmp, spec, page, have_json, scratch_nginx: scripts/check-docs

# check_served BASE: GET BASE/docs and BASE/openapi.yaml are the repository's files, with the
# types and headers of nginx/commerce-docs.conf; BASE/docs/ redirects to /docs; a POST is
# refused. Prints what is wrong.
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
	code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code} %{redirect_url}' "$base/docs/" || true)
	[[ $code == "301 $base/docs" ]] || { echo "  GET /docs/: '$code', not a 301 to /docs" && bad=1; }
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
	helper nginx-blocks "$root/nginx/dev.conf.in" @STATE_DIR@/docs/ >"$tmp/dev.blocks"
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
# headless Chromium renders URL/docs with no console error, every route shown (routes.txt and
# ops.tsv of check (c)), the spec's version, and no dev token. Calls fail for each problem.
check_explorer() {
	local url=$1
	log "(e) the explorer at $url/docs"
	if ! check_served "$url" >"$tmp/served.log"; then
		cat "$tmp/served.log" >&2
		fail "(e) $url does not serve /docs and /openapi.yaml as the repository has them (above)"
	fi
	ensure_chromium
	# --virtual-time-budget: run the page's timers (Swagger UI renders after load) in virtual
	# time, then dump the DOM. Console messages go to stderr (--enable-logging=stderr).
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
	local version=""
	if [[ -z $have_json ]]; then
		log "(e) no readable spec: the routes' methods and paths only, not their summaries nor the version"
		: >"$tmp/ops.tsv"
	else
		version=$(helper spec-version "$tmp/openapi.json")
	fi
	if helper dom "$tmp/dom.html" "$version" "$tmp/routes.txt" "$tmp/ops.tsv" >"$tmp/dom.log"; then
		log "(e) ok:$(tail -n 1 "$tmp/dom.log")"
	else
		cat "$tmp/dom.log" >&2
		fail "(e) the rendered explorer does not show every route (above)"
	fi
}

# private_nginx COPY STATE PORT: the stack's nginx for the checkout COPY on PORT, its state
# directory STATE (in a subshell: nginx_start dies on failure).
private_nginx() {
	# shellcheck disable=SC2034 # read by nginx_start and its parts (dynamic scope)
	local COMMERCE_ROOT=$1
	state_prepare "$2"
	nginx_start "$2" "$3" 1000 1000
}

# check_private_checkout: (g): a copy of the tree (tracked and new files, as check-package takes
# it) in a mode-0700 directory, and the stack's nginx (scripts/lib/nginx.sh, COMMERCE_ROOT the
# copy) rendered and started for a state directory in TMPDIR, as scripts/test's stack is (its
# workers run as nobody there): /docs and /openapi.yaml are the copy's files (check_served).
# No workers are needed: nginx serves both itself. Calls fail when it does not.
check_private_checkout() {
	local private copy state port ok=1
	log "(g) /docs from a checkout in a mode-0700 directory"
	private=$(mktemp -d "${TMPDIR:-/tmp}/commerce-private.XXXXXX")
	chmod 700 "$private"
	copy=$private/commerce
	mkdir "$copy"
	if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$root" ls-files -co --exclude-standard -z | (cd "$root" && tar --null -T - -cf -) |
			tar -xf - -C "$copy"
	else
		tar -C "$root" --exclude=./.git -cf - . | tar -xf - -C "$copy"
	fi
	# like scripts/test's: its own directory in TMPDIR, which state_prepare opens (0755)
	state=$(mktemp -d "${TMPDIR:-/tmp}/commerce-private-stack.XXXXXX")
	port=$(free_port)
	if ! (private_nginx "$copy" "$state" "$port") >"$tmp/private.log" 2>&1; then
		cat "$tmp/private.log" >&2
		fail "(g) nginx for a private checkout does not start"
		ok=""
	else
		if ! grep -q '^user nobody' "$state/nginx.conf"; then
			log "(g) nginx's workers do not run as nobody here ($(grep '^user' "$state/nginx.conf")): the check proves less"
		fi
		# served from the copy: compare with its files
		if ! (root=$copy page=$copy/docs/api.html spec=$copy/docs/openapi.yaml &&
			check_served "http://127.0.0.1:$port") >"$tmp/private-served.log"; then
			cat "$tmp/private-served.log" "$state/log/nginx-error.log" >&2
			fail "(g) a checkout in a mode-0700 directory does not serve /docs and /openapi.yaml (above)"
			ok=""
		fi
	fi
	nginx_stop "$state" || true
	rm -rf "$private" "$state"
	[[ -n $ok ]] && log "(g) ok: a checkout in a mode-0700 directory serves /docs and /openapi.yaml"
	return 0
}
