# SPDX-License-Identifier: Apache-2.0
# Shared by the e2e tests that run the real agent against the real
# collector on this host (sourced, not run): the caller sets name (the
# test's name) and live_tools (commands it needs besides the binaries).
# Gives root, the paths, a work directory removed at exit (KEEP=1 keeps
# it), fail/ok/bad/check, live_serve (a collector with the host "victim"
# enrolled, serving on 127.0.0.1 with a port the kernel picks) and
# live_agent (that host's agent shipping to it), and live_stop (SIGTERM
# to both, the agent first, so its stop record is delivered).
root=$(cd "$(dirname "$0")/../.." && pwd)
agent="$root/${BUILD:-build}/custos-agent"
coll="$root/${BUILD:-build}/custos-collector"

if [ "$(id -u)" -ne 0 ]; then
	echo "$name: skipped: loading eBPF programs and making namespaces needs root"
	exit 77
fi
for b in "$agent" "$coll"; do
	[ -x "$b" ] || { echo "$name: $b not built (run make)"; exit 1; }
done
for t in python3 ${live_tools:-}; do
	command -v "$t" >/dev/null || { echo "$name: skipped: $t is not installed"; exit 77; }
done
py=$(command -v python3)

work=$(mktemp -d "/tmp/custos-e2e-$name.XXXXXX")
agent_pid=""
serve_pid=""
live_pids=""	# more processes of the test's to kill at exit
cleanup() {
	for p in $agent_pid $serve_pid $live_pids; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "$name: $*"
	tail -n 20 "$work/agent.err" "$work/coll.log" 2>/dev/null
	exit 1
}
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

# live_serve [SERVE OPTIONS...]: sets C (the collector's directory) and port.
live_serve() {
	C="$work/coll"
	"$coll" init --dir "$C" >/dev/null || fail "collector init"
	"$agent" keygen --dir "$work/victim" >/dev/null || fail "keygen"
	"$coll" enroll --dir "$C" --name victim --key "$work/victim/host.pub" >/dev/null ||
		fail "enroll"
	"$coll" serve --dir "$C" --listen 127.0.0.1:0 "$@" 2>"$work/coll.log" &
	serve_pid=$!
	i=0
	port=""
	until [ -n "$port" ]; do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/coll.log" |
			head -n 1)
		i=$((i + 1))
		{ [ "$i" -gt 100 ] || ! kill -0 "$serve_pid" 2>/dev/null; } &&
			fail "the collector did not start"
		[ -z "$port" ] && sleep 0.1
	done
}

# live_agent [RUN OPTIONS...]: the enrolled host's agent, batches sealed
# every 200 ms; the options are given to custos-agent run.
live_agent() {
	cat >"$work/agent.conf" <<CONF
collector: 127.0.0.1:$port
host_key: $work/victim/host.key
collector_key: $C/collector.pub
spool_dir: $work/victim/spool
batch_max_delay_ms: 200
CONF
	"$agent" run --config "$work/agent.conf" "$@" 2>"$work/agent.err" &
	agent_pid=$!
	i=0
	until grep -qs '^custos-agent: running' "$work/agent.err"; do
		i=$((i + 1))
		{ [ "$i" -gt 300 ] || ! kill -0 "$agent_pid" 2>/dev/null; } &&
			fail "the agent did not start"
		sleep 0.1
	done
}

# live_stop: the agent (its stop record delivered), then the collector.
live_stop() {
	kill -TERM "$agent_pid"
	wait "$agent_pid" || fail "the agent exited with $? after SIGTERM"
	agent_pid=""
	kill -TERM "$serve_pid"
	wait "$serve_pid"
	serve_pid=""
}
