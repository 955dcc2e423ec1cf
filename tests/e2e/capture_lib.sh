# SPDX-License-Identifier: Apache-2.0
# Shared by the tests/e2e/test_capture_*.sh scripts (sourced, not run):
# start `custos-agent print` in the background, wait until it captures,
# stop it and check its exit status. Sets $work (a temporary directory,
# removed at exit), $agent_out (its JSON lines), $agent_err.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
agent="$root/${BUILD:-build}/custos-agent"
name=$(basename "$0" .sh)

if [ "$(id -u)" -ne 0 ]; then
	echo "$name: skipped: loading eBPF programs needs root"
	exit 77
fi
if [ ! -x "$agent" ]; then
	echo "$name: $agent not built (run make)"
	exit 1
fi
if ! command -v python3 >/dev/null; then
	echo "$name: skipped: python3 is needed to check the records"
	exit 77
fi

work=$(mktemp -d /tmp/custos-e2e.XXXXXX)
work=$(cd "$work" && pwd -P)
agent_out="$work/events.jsonl"
agent_err="$work/agent.err"
agent_pid=""
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# start_agent [OPTION...]: run the agent, wait (at most 60 s: loading
# verifies every program) until it says it is capturing.
start_agent() {
	"$agent" print --duration 120 "$@" >"$agent_out" 2>"$agent_err" &
	agent_pid=$!
	i=0
	until grep -qs '^custos-agent: capturing' "$agent_err"; do
		i=$((i + 1))
		if [ "$i" -gt 600 ] || ! kill -0 "$agent_pid" 2>/dev/null; then
			echo "$name: the agent did not start capturing within 60 s:"
			cat "$agent_err"
			exit 1
		fi
		sleep 0.1
	done
}

# stop_agent: SIGINT, wait, print its stderr; fails the test on a bad exit.
stop_agent() {
	kill -INT "$agent_pid"
	wait "$agent_pid"
	rc=$?
	agent_pid=""
	cat "$agent_err"
	if [ "$rc" -ne 0 ]; then
		echo "$name: the agent exited with $rc"
		exit 1
	fi
}
