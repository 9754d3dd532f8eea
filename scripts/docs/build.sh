# shellcheck shell=bash
# scripts/docs/build.sh: how scripts/check-docs builds from docs/openapi.yaml: the pinned
# Redocly CLI (redocly), the spec as one JSON document (bundle_json) and the self-contained
# explorer page docs/api.html (build_page, as check-docs' header says), and --rebuild, which
# writes docs/api.html and docs/commerce.http and the page's CSP hashes into the nginx
# locations of /docs (rebuild_docs).
# shellcheck disable=SC2154 # root, tmp, spec, page, http: scripts/check-docs

# The pinned tools: the Redocly CLI (lint, bundle) and Swagger UI (the explorer).
REDOCLY_CLI_VERSION=1.34.20
SWAGGER_UI_VERSION=5.35.0

# redocly ARGS...: the pinned Redocly CLI, quiet about updates and without telemetry.
redocly() {
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1 \
		npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
		npx --yes "@redocly/cli@$REDOCLY_CLI_VERSION" "$@"
}

# helper COMMAND ARGS...: the Python helpers (scripts/docs/helper.py, standard library only).
helper() { python3 "$root/scripts/docs/helper.py" "$@"; }

# explorer_sources_sha: one sha256 over the page's own sources (template, stylesheet, script).
explorer_sources_sha() {
	cat "$root"/scripts/docs/explorer.{html.in,css,js} | sha256sum | cut -d' ' -f1
}

# build_page OUT: docs/api.html from docs/openapi.yaml, as the header of scripts/check-docs
# says; OUT.csp gets the CSP source lists of its inline scripts and styles (helper build).
build_page() {
	local out=$1 dir=$tmp/build sha
	mkdir -p "$dir"
	bundle_json "$dir/openapi.json" || die "redocly bundle failed"
	(cd "$dir" && npm pack --silent "swagger-ui-dist@$SWAGGER_UI_VERSION" >/dev/null 2>"$dir/pack.log") || {
		cat "$dir/pack.log" >&2
		die "npm pack swagger-ui-dist@$SWAGGER_UI_VERSION failed"
	}
	tar -xzf "$dir/swagger-ui-dist-$SWAGGER_UI_VERSION.tgz" -C "$dir" \
		package/swagger-ui-bundle.js package/swagger-ui.css package/LICENSE package/NOTICE \
		package/swagger-ui-bundle.js.LICENSE.txt
	sha=$(sha256sum "$spec" | cut -d' ' -f1)
	cat >"$dir/header" <<EOF
<!--
  commerce API explorer: generated from docs/openapi.yaml by scripts/check-docs --rebuild; do not edit.
  Swagger UI (swagger-ui-bundle.js and swagger-ui.css of the npm package
  swagger-ui-dist@$SWAGGER_UI_VERSION) and the page's own scripts/docs/explorer.html.in, .css and .js,
  all inline, with the spec (docs/openapi.yaml bundled by @redocly/cli@$REDOCLY_CLI_VERSION) as the
  JSON data block #commerce-spec: the page loads nothing from elsewhere. The /docs locations of
  the nginx sites allow exactly its inline scripts and styles, by their hashes.
  openapi-sha256: $sha
  sources-sha256: $(explorer_sources_sha)
  tools: swagger-ui-dist@$SWAGGER_UI_VERSION @redocly/cli@$REDOCLY_CLI_VERSION
-->
EOF
	helper build "$dir/openapi.json" "$dir/package" "$root/scripts/docs/explorer.html.in" \
		"$root/scripts/docs/explorer.css" "$root/scripts/docs/explorer.js" "$dir/header" "$out" \
		>"$out.csp"
}

# bundle_json OUT: docs/openapi.yaml as one JSON document (internal $refs kept).
bundle_json() {
	(cd "$root" && redocly bundle docs/openapi.yaml --ext json -o "$1") >"$tmp/bundle.log" 2>&1 || {
		cat "$tmp/bundle.log" >&2
		return 1
	}
}

# csp_update FILE CSP_FILE: the script-src and style-src lists of the /docs
# Content-Security-Policy in FILE set to those of CSP_FILE (build_page's OUT.csp; base64 has no
# '|').
csp_update() {
	local file=$1 scripts styles
	scripts=$(sed -n 's/^script-src //p' "$2")
	styles=$(sed -n 's/^style-src //p' "$2")
	sed -i -E "/Content-Security-Policy \"default-src 'none'; script-src/{s|script-src [^;]*;|script-src $scripts;|;s|style-src [^;]*;|style-src $styles;|}" "$file"
}

# rebuild_docs: --rebuild: docs/api.html and docs/commerce.http from docs/openapi.yaml, each
# replaced whole (a copy next to it, then a rename), and the hashes of the page's inline
# scripts and styles written into the /docs CSP of nginx/commerce-docs.conf and nginx/dev.conf.in.
rebuild_docs() {
	log "rebuilding docs/api.html and docs/commerce.http from docs/openapi.yaml"
	build_page "$tmp/api.html"
	bundle_json "$tmp/rebuild.json" || die "redocly bundle failed"
	python3 "$root/scripts/docs/gen-http.py" "$tmp/rebuild.json" >"$tmp/commerce.http"
	cp "$tmp/api.html" "$page.tmp" && mv -f "$page.tmp" "$page"
	cp "$tmp/commerce.http" "$http.tmp" && mv -f "$http.tmp" "$http"
	csp_update "$root/nginx/commerce-docs.conf" "$tmp/api.html.csp"
	csp_update "$root/nginx/dev.conf.in" "$tmp/api.html.csp"
	log "wrote docs/api.html ($(($(stat -c %s "$page") / 1024)) KiB), docs/commerce.http, and the" \
		"page's hashes into the /docs CSP of nginx/commerce-docs.conf and nginx/dev.conf.in"
}
