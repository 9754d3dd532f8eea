# shellcheck shell=bash
# scripts/docs/build.sh: how scripts/check-docs builds from docs/openapi.yaml: the pinned
# Redocly CLI (redocly), the spec as one JSON document (bundle_json) and the self-contained
# explorer page docs/api.html (build_page, as check-docs' header says), and --rebuild, which
# writes docs/api.html and docs/commerce.http (rebuild_docs).
# shellcheck disable=SC2154 # root, tmp, spec, page, http, REDOCLY_CLI_VERSION, CDN_PREFIX: scripts/check-docs

# redocly ARGS...: the pinned Redocly CLI, quiet about updates and without telemetry.
redocly() {
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1 \
		npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
		npx --yes "@redocly/cli@$REDOCLY_CLI_VERSION" "$@"
}

# helper COMMAND ARGS...: the Python helpers (scripts/docs/helper.py, standard library only).
helper() { python3 "$root/scripts/docs/helper.py" "$@"; }

# build_page OUT: docs/api.html from docs/openapi.yaml, as the header of scripts/check-docs says.
build_page() {
	local out=$1 built=$tmp/build/page.html ver sha
	mkdir -p "$tmp/build"
	if ! (cd "$root" && redocly build-docs docs/openapi.yaml --disableGoogleFont \
		-o "$built") >"$tmp/build/log" 2>&1; then
		cat "$tmp/build/log" >&2
		die "redocly build-docs failed"
	fi
	ver=$(grep -o "<script src=\"${CDN_PREFIX//./\\.}[0-9][^\"/]*/bundles/redoc\.standalone\.js\"" "$built" |
		sed -e "s|^<script src=\"${CDN_PREFIX}||" -e 's|/bundles/.*||') ||
		die "build-docs output references no Redoc bundle on the CDN: cannot inline it"
	[[ $ver =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "unexpected Redoc version in build-docs output: $ver"
	(cd "$tmp/build" && npm pack --silent "redoc@$ver" >/dev/null 2>"$tmp/build/pack.log") || {
		cat "$tmp/build/pack.log" >&2
		die "npm pack redoc@$ver failed"
	}
	tar -xzf "$tmp/build/redoc-$ver.tgz" -C "$tmp/build" package/bundles/redoc.standalone.js
	sha=$(sha256sum "$spec" | cut -d' ' -f1)
	cat >"$tmp/build/header" <<EOF
<!--
  commerce API explorer: generated from docs/openapi.yaml by scripts/check-docs --rebuild; do not edit.
  Built $(date -u +%Y-%m-%d) (UTC) as
    npx -y @redocly/cli@$REDOCLY_CLI_VERSION build-docs docs/openapi.yaml --disableGoogleFont -o api.html
  with its <script src="$CDN_PREFIX$ver/bundles/redoc.standalone.js"> replaced by that
  file from the npm package redoc@$ver, inline: the page loads nothing from elsewhere.
  openapi-sha256: $sha
  tools: @redocly/cli@$REDOCLY_CLI_VERSION redoc@$ver
-->
EOF
	helper inline "$built" "$tmp/build/package/bundles/redoc.standalone.js" "$out" \
		"$tmp/build/header" "$CDN_PREFIX"
}

# bundle_json OUT: docs/openapi.yaml as one JSON document (internal $refs kept).
bundle_json() {
	(cd "$root" && redocly bundle docs/openapi.yaml --ext json -o "$1") >"$tmp/bundle.log" 2>&1 || {
		cat "$tmp/bundle.log" >&2
		return 1
	}
}

# rebuild_docs: --rebuild: docs/api.html and docs/commerce.http from docs/openapi.yaml, each
# replaced whole (a copy next to it, then a rename).
rebuild_docs() {
	log "rebuilding docs/api.html and docs/commerce.http from docs/openapi.yaml"
	build_page "$tmp/api.html"
	bundle_json "$tmp/rebuild.json" || die "redocly bundle failed"
	python3 "$root/scripts/docs/gen-http.py" "$tmp/rebuild.json" >"$tmp/commerce.http"
	cp "$tmp/api.html" "$page.tmp" && mv -f "$page.tmp" "$page"
	cp "$tmp/commerce.http" "$http.tmp" && mv -f "$http.tmp" "$http"
	log "wrote docs/api.html ($(($(stat -c %s "$page") / 1024)) KiB) and docs/commerce.http"
}
