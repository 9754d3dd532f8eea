# shellcheck shell=bash
# A release a stack runs, for the upgrade drill (tests/upgrade/run): a previous release built
# from the clone's history, and its "installation" into the stack's directory the way the
# package installs into /usr: the programs into DIR/bin (STACK_BIN), the SQL into DIR/sql
# (STACK_SQL). A stack started with those runs that release (its schema.sql or migrations, its
# grants, its programs); installing the new release over them and rolling the programs is
# the upgrade, as on a host.
# State-directory files:
#   DIR/old/                  the previous release's tree (git archive), built in place
#   DIR/log/old-build.log     its build
#   DIR/bin/                  the installed programs: commerce-fcgi, commerce-relay,
#                             commerce-popular (and commerce-migrate from 0.2.0 on)
#   DIR/sql/                  the installed SQL (migrations/, grants.sql, ...; schema.sql
#                             before 0.2.0)

# upgrade_build DIR REV: the tree of commit REV (git archive of this clone's history: tags may
# be missing, commits are not) in DIR/old, its programs built there (configure without
# -Werror: an older release meets a newer compiler's warnings).
upgrade_build() {
	local dir=$1 rev=$2 out=$1/log/old-build.log programs=(commerce-fcgi commerce-relay commerce-popular)
	git -C "$COMMERCE_ROOT" cat-file -e "$rev^{commit}" 2>/dev/null ||
		die "no commit $rev in $COMMERCE_ROOT's history (a shallow clone? git fetch --unshallow)"
	rm -rf "$dir/old"
	mkdir -p "$dir/old" "$dir/log"
	git -C "$COMMERCE_ROOT" archive --format=tar "$rev" | tar -xf - -C "$dir/old"
	# from 0.2.0 on a release makes its schema with its own commerce-migrate
	[[ -f $dir/old/src/bin/commerce-migrate.c ]] && programs+=(commerce-migrate)
	log "building $rev in $dir/old (log: $out)"
	# revision.h first: before 0.2.0 the programs' objects did not say they need it
	if ! (cd "$dir/old" && autoreconf -fi && ./configure &&
		make src/common/revision.h &&
		make -j"${COMMERCE_JOBS:-$(nproc)}" "${programs[@]}") \
		>"$out" 2>&1; then
		tail -n 30 "$out" >&2
		die "building $rev failed (log: $out)"
	fi
}

# upgrade_install DIR TREE: install the release built in TREE into the stack of DIR, as its
# package would: each program replaced by rename (a running one keeps the file it started
# from), then the SQL directory swapped whole.
upgrade_install() {
	local dir=$1 tree=$2 p
	mkdir -p "$dir/bin"
	for p in commerce-fcgi commerce-relay commerce-popular commerce-migrate; do
		[[ -x $tree/$p ]] || continue
		install -m 755 "$tree/$p" "$dir/bin/.$p.new"
		mv -f "$dir/bin/.$p.new" "$dir/bin/$p"
	done
	rm -rf "$dir/sql.new" "$dir/sql.old"
	cp -R "$tree/sql" "$dir/sql.new"
	[[ -d $dir/sql ]] && mv "$dir/sql" "$dir/sql.old"
	mv "$dir/sql.new" "$dir/sql"
	rm -rf "$dir/sql.old"
	log "installed $("$dir/bin/commerce-fcgi" --version) into $dir/bin and $dir/sql"
}
