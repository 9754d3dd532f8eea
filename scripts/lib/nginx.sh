# shellcheck shell=bash
# nginx in front of the worker pools: nginx/dev.conf.in rendered for one stack, started on
# 127.0.0.1:PORT, reloaded, stopped. nginx daemonizes itself and writes its own pid file.
# State-directory files:
#   DIR/nginx.conf            rendered from nginx/dev.conf.in (nginx_render)
#   DIR/nginx-upstream.conf   the worker pools behind the upstream (one line per pool)
#   DIR/commerce-console.conf nginx/commerce-console.conf, reading DIR/www/console/
#   DIR/www/console/          a copy of the operator console's files (www_install)
#   DIR/fastcgi_params        a link to Debian's /etc/nginx/fastcgi_params
#   DIR/nginx.d/              more locations for the server block (bench/run adds its peers)
#   DIR/docs/                 what /docs and /openapi.yaml serve: copies of docs/api.html and
#                             docs/openapi.yaml (docs_install), made at every start
#   DIR/nginx/                nginx's temp paths
#   DIR/run/nginx.pid         the master (nginx writes it)
#   DIR/log/nginx-error.log, nginx-access.log

# nginx_user DIR: the user directive's argument. nginx workers run as nobody when the master is
# root; they must reach DIR/run/fcgi.sock (DIR and DIR/run let nginx's group through:
# state_prepare). If some directory above the state dir is not world-searchable (a repo under
# /root, say), run the workers as root instead.
nginx_user() {
	local dir=$1 d
	if [[ $(id -u) -eq 0 ]]; then
		d=$(dirname "$dir")
		while [[ $d != / && -n $d ]]; do
			if ((!(8#$(stat -c %a "$d") & 1))); then
				log "$d is not world-searchable: nginx workers run as root"
				echo root
				return 0
			fi
			d=$(dirname "$d")
		done
	fi
	if getent group nogroup >/dev/null 2>&1; then echo "nobody nogroup"; else echo nobody; fi
}

# nginx_group DIR: the group nginx's workers run in: nginx_user's group (or its user's own);
# the user's own group when nginx does not run as root (its workers are that user).
nginx_group() {
	local u
	read -r -a u <<<"$(nginx_user "$1")"
	if [[ $(id -u) -ne 0 ]]; then
		id -gn
	elif ((${#u[@]} > 1)); then
		echo "${u[1]}"
	else
		id -gn "${u[0]}"
	fi
}

# The line of docs/api.html that the dev stack's copy replaces with its token (scripts/docs/page.py).
DOCS_DEV_TOKEN_SLOT='<!-- commerce-dev-token: scripts/lib/nginx.sh replaces this line on the dev stack only -->'

# docs_install DIR: DIR/docs/, the copies of docs/api.html and docs/openapi.yaml that nginx
# serves at /docs and /openapi.yaml (nginx/dev.conf.in). nginx's workers (nginx_user) read the
# state directory, never the repository, which may sit in a directory only its owner can read
# (root's home, CI's checkout). With STACK_DOCS_DEV_TOKEN=1 (the dev preset) the
# page's copy carries an access token for user 1 (scripts/dev-token, valid a week), which the
# explorer's bar offers; that copy is readable by the workers' group only (nginx_group, mode 0640).
docs_install() {
	local dir=$1 page token expires block
	mkdir -p "$dir/docs"
	chmod 755 "$dir/docs"
	install -m 644 "$COMMERCE_ROOT/docs/openapi.yaml" "$dir/docs/openapi.yaml.tmp"
	mv -f "$dir/docs/openapi.yaml.tmp" "$dir/docs/openapi.yaml"
	if [[ ${STACK_DOCS_DEV_TOKEN:-0} != 1 ]]; then
		install -m 644 "$COMMERCE_ROOT/docs/api.html" "$dir/docs/api.html.tmp"
	else
		page=$(<"$COMMERCE_ROOT/docs/api.html")
		[[ $page == *"$DOCS_DEV_TOKEN_SLOT"* ]] || die "docs/api.html has no dev token line: scripts/check-docs --rebuild"
		expires=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
		token=$("$COMMERCE_ROOT/scripts/dev-token" --config "$dir/commerce.conf" 1 604800) ||
			die "scripts/dev-token could not make the explorer's dev token"
		block="<script type=\"application/json\" id=\"commerce-dev-token\">{\"userId\":1,\"token\":\"$token\",\"expiresAt\":\"$expires\"}</script>"
		# printf is a builtin: the token is in no program's argv.
		(umask 077 && printf '%s\n' "${page/"$DOCS_DEV_TOKEN_SLOT"/"$block"}" >"$dir/docs/api.html.tmp")
		chgrp "$(nginx_group "$dir")" "$dir/docs/api.html.tmp"
		chmod 640 "$dir/docs/api.html.tmp"
	fi
	mv -f "$dir/docs/api.html.tmp" "$dir/docs/api.html"
}

# www_install DIR: DIR/www/console/, a copy of the operator console's files (www/console/) for
# the rendered nginx/commerce-console.conf to serve. nginx's workers read the state directory,
# never the repository, which may sit in a directory only its owner can read.
www_install() {
	local dir=$1
	rm -rf "$dir/www/console.new"
	mkdir -p "$dir/www/console.new"
	chmod 755 "$dir/www" "$dir/www/console.new"
	install -m 644 "$COMMERCE_ROOT"/www/console/* "$dir/www/console.new/"
	rm -rf "$dir/www/console"
	mv "$dir/www/console.new" "$dir/www/console"
}

# nginx_render DIR PORT RATE BURST: render nginx/dev.conf.in into DIR/nginx.conf, and put the
# docs it serves into DIR/docs/ (docs_install). The limit per access token is STACK_TOKEN_RATE and
# STACK_TOKEN_BURST (default: RATE and BURST).
nginx_render() {
	local dir=$1 port=$2 rate=$3 burst=$4 user
	user=$(nginx_user "$dir")
	docs_install "$dir"
	sed -e "s|@STATE_DIR@|$dir|g" \
		-e "s|@FCGI_SOCKET@|$dir/run/fcgi.sock|g" \
		-e "s|@PORT@|$port|g" \
		-e "s|@RATE@|$rate|g" \
		-e "s|@BURST@|$burst|g" \
		-e "s|@TOKEN_RATE@|${STACK_TOKEN_RATE:-$rate}|g" \
		-e "s|@TOKEN_BURST@|${STACK_TOKEN_BURST:-$burst}|g" \
		-e "s|@USER@|$user|g" \
		-e "s|@ROOT@|$COMMERCE_ROOT|g" \
		"$COMMERCE_ROOT/nginx/dev.conf.in" >"$dir/nginx.conf.tmp"
	# the worker pools behind the upstream (the production site's parameters)
	{
		echo "server unix:$(pool_file "$dir" 1 sock) max_fails=1 fail_timeout=5s;"
		[[ ${STACK_POOLS:-1} == 2 ]] && echo "server unix:$(pool_file "$dir" 2 sock) max_fails=1 fail_timeout=5s;"
	} >"$dir/nginx-upstream.conf"
	# the operator console's locations, reading a copy of www/console/
	www_install "$dir"
	sed -e "s|/usr/share/commerce/console/|$dir/www/console/|g" \
		-e "s|snippets/commerce-allow.conf|$COMMERCE_ROOT/nginx/commerce-allow.conf|g" \
		"$COMMERCE_ROOT/nginx/commerce-console.conf" >"$dir/commerce-console.conf"
	# the snippets include fastcgi_params relative to the configuration's directory
	ln -sfn /etc/nginx/fastcgi_params "$dir/fastcgi_params"
	if grep -n '@[A-Z_]*@' "$dir/nginx.conf.tmp" >&2; then
		die "unreplaced placeholders in nginx/dev.conf.in"
	fi
	mv -f "$dir/nginx.conf.tmp" "$dir/nginx.conf"
}

nginx_cmd() {
	local dir=$1
	shift
	nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/log/nginx-error.log" "$@"
}

# nginx_start DIR PORT RATE BURST: (re)start nginx of DIR on 127.0.0.1:PORT.
# Returns non-zero (does not exit) when nginx cannot start, e.g. the port was taken.
nginx_start() {
	local dir=$1 port=$2 rate=$3 burst=$4
	nginx_stop "$dir"
	if port_in_use "$port"; then
		log "port $port is already in use by another program"
		return 1
	fi
	nginx_render "$dir" "$port" "$rate" "$burst"
	if ! nginx_cmd "$dir" -t -q; then
		log "nginx configuration test failed ($dir/nginx.conf)"
		return 1
	fi
	if ! nginx_cmd "$dir"; then
		log "nginx did not start on port $port (log: $dir/log/nginx-error.log)"
		return 1
	fi
	local deadline=$((SECONDS + 5))
	while [[ -z $(pidfile_pid "$dir/run/nginx.pid" nginx) ]]; do
		((SECONDS < deadline)) || {
			log "nginx wrote no pid file"
			return 1
		}
		sleep 0.05
	done
	log "nginx on http://127.0.0.1:$port"
}

# nginx_stop DIR: graceful quit (SIGQUIT), SIGKILL for the group after 10 s.
nginx_stop() {
	stop_group "$1/run/nginx.pid" nginx QUIT 10
}
