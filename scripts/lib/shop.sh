# shellcheck shell=bash
# The demo storefront (www/shop) on a development stack: nginx serves the page at /shop and, at
# /shop/session.json, the session it acts on (a demo user, a coupon to offer, that user's access
# token). scripts/dev-up turns it on for demo user 1 and coupon 1; the storefront's browser test
# turns it on for a user of its own on the test stack. The production site never serves it.
# State-directory files:
#   DIR/nginx.d/shop.conf     nginx/shop.conf.in rendered with the session, mode 0600 (it holds
#                             the token; only nginx's master reads it)
#   DIR/www/shop/             a copy of the page's files (www/shop/ and www/console/page.js):
#                             nginx's workers read the state directory, never the repository

# shop_on DIR USER COUPON: serve the storefront acting as USER, whose access token comes on
# stdin (never in argv), offering coupon COUPON; reload nginx and wait until it serves them.
shop_on() {
	local dir=$1 user=$2 coupon=$3 token tpl session
	[[ $user =~ ^[1-9][0-9]*$ && $coupon =~ ^[1-9][0-9]*$ ]] || die "shop_on: USER and COUPON are ids"
	IFS= read -r token || true
	[[ $token =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] ||
		die "shop_on: no access token on stdin"
	session="{\"userId\":$user,\"couponId\":$coupon,\"token\":\"$token\"}"
	rm -rf "$dir/www/shop"
	mkdir -p "$dir/www/shop"
	chmod 755 "$dir/www" "$dir/www/shop"
	install -m 644 "$COMMERCE_ROOT"/www/shop/* "$COMMERCE_ROOT/www/console/page.js" "$dir/www/shop/"
	tpl=$(<"$COMMERCE_ROOT/nginx/shop.conf.in")
	tpl=${tpl//@WWW@/$dir/www/shop}
	(umask 077 && printf '%s\n' "${tpl//@SESSION@/$session}" >"$dir/nginx.d/shop.conf.tmp")
	mv -f "$dir/nginx.d/shop.conf.tmp" "$dir/nginx.d/shop.conf"
	shop_reload "$dir" "\"userId\":$user,"
	log "the demo storefront: $STACK_URL/shop (user $user, coupon $coupon)"
}

# shop_off DIR: stop serving the storefront.
shop_off() {
	local dir=$1
	rm -f "$dir/nginx.d/shop.conf"
	rm -rf "$dir/www/shop"
	shop_reload "$dir" ""
}

# shop_reload DIR WANT: reload nginx and wait until /shop/session.json answers with WANT in it
# (WANT empty: until it answers 404).
shop_reload() {
	local dir=$1 want=$2 deadline=$((SECONDS + 10)) got
	nginx_cmd "$dir" -t -q || die "nginx rejects $dir/nginx.d/shop.conf"
	nginx_cmd "$dir" -s reload
	while :; do
		got=$(curl -s -w '%{http_code}' "$STACK_URL/shop/session.json" || true)
		if [[ -n $want && $got == *"$want"*200 ]] || [[ -z $want && $got == *404 ]]; then
			return 0
		fi
		((SECONDS < deadline)) || die "nginx did not take up the storefront's change"
		sleep 0.1
	done
}
