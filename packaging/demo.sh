#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The first five minutes: a collector and an agent on this host, with
# throwaway keys in a temporary directory, and this host's timeline shown
# live on the terminal until Ctrl-C (or DEMO_SECONDS). Then it stops both
# cleanly (the agent's stop record is delivered, the collector signs a
# final tree head) and prints how to query what it saw. Nothing is left
# running; everything it wrote is in the temporary directory it names.
# Usage: demo.sh BUILD_DIR [SECONDS]   (0 or nothing: until Ctrl-C). Root.
set -u
build=$(cd "${1:-build}" && pwd) || exit 2
rules=$(cd "$(dirname "$0")/../collector/rules" && pwd) || exit 2
seconds=${2:-0}
agent="$build/custos-agent"
coll="$build/custos-collector"
host=$(hostname)

if [ "$(id -u)" -ne 0 ]; then
	echo "custos demo: needs root (the agent loads eBPF programs)" >&2
	exit 1
fi
for b in "$agent" "$coll"; do
	[ -x "$b" ] || { echo "custos demo: $b is missing: run make first" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/custos-demo.XXXXXX) || exit 1
serve_pid=""
agent_pid=""
activity=""
stop() {
	# Stop both first: the terminal or pipe may be gone already.
	trap - INT TERM HUP EXIT
	trap '' PIPE
	[ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid"
	[ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" &&
		incidents 2>/dev/null
	cat <<MSG 2>/dev/null

custos demo: stopped; collector and agent are no longer running.
Everything is in $dir (keys, spool, the collector's archive, custody log
and index). Query what was recorded:
  $coll hosts --dir $dir/collector
  $coll timeline --dir $dir/collector --host $host --format table
  $coll timeline --dir $dir/collector --host $host --kind exec --format jsonl
  $coll timeline --dir $dir/collector --host $host --pid PID --tree
  $coll alerts --dir $dir/collector --host $host
  $coll incidents --dir $dir/collector --host $host
  $coll incident --dir $dir/collector show ID   (the process tree, its events, alerts in place)
  $coll log --dir $dir/collector          (the custody log: one leaf per batch)
  $coll proof --help                      (RFC 9162 inclusion and consistency proofs)
  $coll export --help                     (a court bundle; check it with custos-verify)
Remove it all with: rm -rf $dir
MSG
}
# The alerts grouped into incidents, and the story of the one the scripted
# activity raised (its header and each alert after the event it rests on):
# the agent records the whole host, so other programs may raise later ones.
# Without the activity's (say it was stopped early), the last one.
incidents() {
	echo
	echo "custos demo: incidents (alerts grouped by host, process tree and time):"
	"$coll" incidents --dir "$dir/collector" --host "$host" >"$dir/incidents" || return 0
	cut -c1-200 "$dir/incidents"
	id=""
	for i in $(cut -d' ' -f1 "$dir/incidents"); do
		"$coll" incident --dir "$dir/collector" show "$i" 2>/dev/null |
			grep -q " pid ${activity:-none} " && id=$i
	done
	[ -n "$id" ] || id=$(tail -n 1 "$dir/incidents" | cut -d' ' -f1)
	[ -n "$id" ] || return 0
	echo "custos demo: $coll incident show $id (abridged: the alerts in place):"
	"$coll" incident --dir "$dir/collector" show "$id" >"$dir/incident" &&
		{ head -n 4 "$dir/incident"; grep -B1 '>>> ALERT' "$dir/incident"; } | cut -c1-200
}
trap stop EXIT
trap 'exit 0' INT TERM HUP PIPE

step() { echo "custos demo: $*"; }
quiet() { "$@" >"$dir/step.log" 2>&1 || { cat "$dir/step.log" >&2; exit 1; }; }

step "collector keys, host keys and enrolment in $dir"
quiet "$coll" init --dir "$dir/collector"
quiet "$agent" keygen --dir "$dir/host"
"$coll" enroll --dir "$dir/collector" --name "$host" --key "$dir/host/host.pub" |
	sed 's/^/custos demo:   /'
step "(on a real fleet, compare that fingerprint with the one the host printed at keygen)"

# Own sessions: Ctrl-C reaches this script only, which then stops the agent
# first (its stop record is delivered) and the collector last.
setsid "$coll" serve --dir "$dir/collector" --listen 127.0.0.1:0 --rules "$rules" \
	2>"$dir/collector.log" &
serve_pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$dir/collector.log")
	[ -n "$port" ] && break
	kill -0 "$serve_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ] || { cat "$dir/collector.log" >&2; exit 1; }
step "collector listening on 127.0.0.1:$port, triaging with the rules in $rules"

cat >"$dir/agent.conf" <<CONF
collector: 127.0.0.1:$port
host_key: $dir/host/host.key
collector_key: $dir/collector/collector.pub
spool_dir: $dir/spool
batch_max_delay_ms: 500
CONF
setsid "$agent" run --config "$dir/agent.conf" 2>"$dir/agent.log" &
agent_pid=$!
for _ in $(seq 300); do
	grep -qs '^custos-agent: running' "$dir/agent.log" && break
	kill -0 "$agent_pid" 2>/dev/null || { cat "$dir/agent.log" >&2; exit 1; }
	sleep 0.1
done
step "$(grep '^custos-agent: running' "$dir/agent.log")"
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# Something to see: the same activity an intruder might leave behind.
(
	sleep 1
	cd "$dir" && mkdir -p drop && cd drop
	uname -a >/dev/null
	echo 'echo hello' >tool.sh && chmod 755 tool.sh && mv tool.sh .hidden-tool && ./.hidden-tool >/dev/null
	cat /etc/shadow >/dev/null
	rm -f .hidden-tool
) &
activity=$!

step "this host's timeline and its alerts (lines starting with ALERT), live$( [ "$seconds" -gt 0 ] && echo " for $seconds s" || echo " until Ctrl-C"):"
shown=0
alerts_shown=0
elapsed=0
while [ "$seconds" -eq 0 ] || [ "$elapsed" -lt "$seconds" ]; do
	sleep 2
	elapsed=$((elapsed + 2))
	# Rows of this loop's own commands (pid or parent pid is this shell,
	# except the scripted activity above) are left out of what is shown;
	# they are still recorded.
	"$coll" timeline --dir "$dir/collector" --host "$host" --from "$start" --format table \
		2>/dev/null >"$dir/view" || continue
	awk -v skip="$shown" -v me="$$" -v act="$activity" \
		'NR > skip && $4 != me && ($5 != me || $4 == act)' "$dir/view" |
		cut -c1-160
	shown=$(wc -l <"$dir/view")
	"$coll" alerts --dir "$dir/collector" --host "$host" 2>/dev/null >"$dir/alerts" || continue
	awk -v skip="$alerts_shown" 'NR > skip { print "ALERT " $0 }' "$dir/alerts" | cut -c1-160
	alerts_shown=$(wc -l <"$dir/alerts")
done
