# SPDX-License-Identifier: Apache-2.0
# Shared by tests/e2e/test_collector_*.sh (sourced, not run): paths, a
# checker that counts failures, and starting/stopping a collector on
# 127.0.0.1 with a port the kernel picks.
root=$(cd "$(dirname "$0")/../.." && pwd)
coll="$root/${BUILD:-build}/custos-collector"
peer="$root/${BUILD:-build}/tests/collector_peer"
fails=0
serve_pid=""

for bin in "$coll" "$peer"; do
	if [ ! -x "$bin" ]; then
		echo "$name: $bin not built (run make)"
		exit 1
	fi
done

work=$(mktemp -d /tmp/custos-coll.XXXXXX)
cleanup() {
	[ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

# start_serve DIR [OPTIONS...]: sets serve_pid and port; log in DIR.log
start_serve() {
	d=$1
	shift
	before=$(grep -cs 'listening on' "$d.log")
	"$coll" serve --dir "$d" --listen 127.0.0.1:0 "$@" 2>>"$d.log" &
	serve_pid=$!
	i=0
	port=""
	while [ -z "$port" ]; do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$d.log" |
			sed -n "$((before + 1))p")
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$serve_pid" 2>/dev/null; then
			echo "$name: the collector did not start:"
			cat "$d.log"
			exit 1
		fi
		[ -z "$port" ] && sleep 0.1
	done
}

stop_serve() {	# SIGTERM, wait for it; sets serve_rc
	kill -TERM "$serve_pid"
	wait "$serve_pid"
	serve_rc=$?
	serve_pid=""
}
