#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, online mode: custos-agent run delivers to a stand-in
# collector on 127.0.0.1 (tests/e2e/custos_peer serve, which opens,
# verifies and chain-checks every batch and answers signed acks):
#   - a marker command reaches the collector;
#   - the collector dies during an exec flood: the small spool (64 KiB)
#     fills, then drains completely when it comes back, and exactly one
#     gap record says how many records were lost;
#   - the agent stops at SIGTERM and starts again with a larger spool;
#   - the agent is killed with SIGKILL in a second flood and restarted:
#     nothing acknowledged is lost, nothing is duplicated, the chain goes
#     on (every sequence number accepted exactly once, no chain error);
#   - SIGTERM: a stop record, and the spool ends empty with a receipt for
#     every batch.
# Needs root (it loads eBPF programs): exits 77 otherwise, saying why.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
agent="$root/${BUILD:-build}/custos-agent"
peer="$root/${BUILD:-build}/tests/custos_peer"

if [ "$(id -u)" -ne 0 ]; then
	echo "test_agent_forward: skipped: loading eBPF programs needs root"
	exit 77
fi
for b in "$agent" "$peer"; do
	[ -x "$b" ] || { echo "test_agent_forward: $b not built (run make)"; exit 1; }
done

work=$(mktemp -d /tmp/custos-e2e-forward.XXXXXX)
agent_pid=""
peer_pid=""
cleanup() {
	[ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null
	[ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "test_agent_forward: $*"
	cat "$work"/agent*.err 2>/dev/null | tail -n 30
	grep -v "^accepted seq" "$work/peer.err" 2>/dev/null | tail -n 10
	exit 1
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$agent" keygen --dir "$work/host" >/dev/null || fail "keygen (host)"
"$agent" keygen --dir "$work/coll" >/dev/null || fail "keygen (collector)"
cat >"$work/agent.conf" <<CONF
collector: 127.0.0.1:$port
host_key: $work/host/host.key
collector_key: $work/coll/host.pub
spool_dir: $work/spool
spool_max_bytes: 65536
heartbeat_s: 1
batch_max_delay_ms: 200
CONF

start_peer() {
	"$peer" serve "$port" "$work/coll/host.key" "$work/host/host.pub" "$work/peer.state" \
		>>"$work/records.jsonl" 2>>"$work/peer.err" &
	peer_pid=$!
}
stop_peer() {
	kill "$peer_pid"
	wait "$peer_pid" 2>/dev/null
	peer_pid=""
}
start_agent() {	# $1: log name
	"$agent" run --config "$work/agent.conf" 2>"$work/$1" &
	agent_pid=$!
	i=0
	until grep -qs '^custos-agent: running' "$work/$1"; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$agent_pid" 2>/dev/null; then
			fail "the agent did not start within 30 s"
		fi
		sleep 0.1
	done
}
waiting() {
	"$agent" status --config "$work/agent.conf" | sed -n 's/^batches waiting: \([0-9]*\) .*/\1/p'
}
drained() {
	test "$(waiting)" = 0
}
wait_for() {	# $1: what, $2: seconds, $3...: command that must succeed
	what=$1
	n=$(($2 * 10))
	shift 2
	i=0
	until "$@"; do
		i=$((i + 1))
		[ "$i" -gt "$n" ] && fail "timed out waiting for $what"
		sleep 0.1
	done
}
flood() {	# $1: how many execs
	i=0
	while [ "$i" -lt "$1" ]; do /bin/true; i=$((i + 1)); done
}

start_peer
start_agent agent1.err
m1="custos-forward-marker-1-$$"
/bin/echo "$m1" >/dev/null
wait_for "the first marker at the collector" 15 grep -q "$m1" "$work/records.jsonl"

# The collector dies; the spool fills during a flood.
stop_peer
flood 2000
sleep 1
w=$(waiting)
echo "batches waiting while the collector is down: $w"
[ "${w:-0}" -gt 0 ] || fail "nothing waited in the spool while the collector was down"
start_peer
wait_for "the spool to drain" 60 drained
# The gap's losses must be in a heartbeat sealed by this agent: wait for
# one before the SIGKILL below, which would lose a heartbeat not yet
# sealed (a new agent's counters start again from zero).
gap_counted() {
	python3 - "$work/records.jsonl" <<'PY'
import json, sys
recs = []
for line in open(sys.argv[1]):
    try:
        recs.append(json.loads(line))
    except ValueError:	# the peer is still writing this line
        pass
gaps = [r for r in recs if r["kind"] == "gap"]
sys.exit(0 if gaps and any(r["kind"] == "heartbeat" and r["ts_ns"] > gaps[0]["ts_ns"] and
                           r["losses"] >= gaps[0]["lost"] for r in recs) else 1)
PY
}
wait_for "a heartbeat after the gap that counts its records among the losses" 15 gap_counted

# A clean stop, and a restart with a spool the next flood cannot fill:
# the SIGKILL below tests that nothing acknowledged is lost or sent twice,
# and a second gap (a 64 KiB spool outrun by the flood on a loaded
# machine) would be a different matter.
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "the agent exited with $? after the first SIGTERM"
agent_pid=""
sed -i 's/^spool_max_bytes: .*/spool_max_bytes: 67108864/' "$work/agent.conf"
start_agent agent2.err

# SIGKILL in the middle of a flood, then a restart.
flood 1000 &
fpid=$!
sleep 1
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null
agent_pid=""
wait "$fpid"
start_agent agent3.err
m2="custos-forward-marker-2-$$"
/bin/echo "$m2" >/dev/null
wait_for "the second marker at the collector" 15 grep -q "$m2" "$work/records.jsonl"
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "the agent exited with $? after SIGTERM"
agent_pid=""
stop_peer
"$agent" status --config "$work/agent.conf" | tee "$work/status"
cat "$work"/agent*.err

python3 - "$work/records.jsonl" "$work/peer.err" "$work/status" "$m1" "$m2" <<'PY'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
peer_err = open(sys.argv[2]).read()
status = open(sys.argv[3]).read()
m1, m2 = sys.argv[4:6]
failures = []
def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
def text(r):
    t = r["text"]
    return bytes.fromhex(t["hex"]).decode() if isinstance(t, dict) else t
seqs = [int(s) for s in re.findall(r"^accepted seq (\d+)$", peer_err, re.M)]
check(f"every sequence number 0..{len(seqs) - 1} accepted exactly once",
      sorted(seqs) == list(range(len(seqs))) and len(seqs) > 0)
check("no chain error and no refused batch at the collector",
      "CHAIN ERROR" not in peer_err and "refused" not in peer_err)
receipts = int(re.search(r"^receipts kept: (\d+)", status, re.M).group(1))
check(f"a receipt for every batch ({receipts} for {len(seqs)})", receipts == len(seqs))
check("the spool ends empty", re.search(r"^batches waiting: 0 ", status, re.M) is not None)
for m in (m1, m2):
    n = sum(1 for r in recs if r["kind"] == "exec" and r.get("argv") == ["/bin/echo", m])
    check(f"marker {m} arrived exactly once", n == 1)
check("three agent_start records", sum(1 for r in recs if r["kind"] == "agent_start") == 3)
check("two stop records for SIGTERM (the killed run has none)",
      sum(1 for r in recs if r["kind"] == "agent_stop" and r["signal"] == 15
          and text(r) == "SIGTERM") == 2)
gaps = [r for r in recs if r["kind"] == "gap"]
check("exactly one gap record", len(gaps) == 1)
if gaps:
    g = gaps[0]
    print(f"     gap: {g['lost']} records in {g['batches_lost']} batches, "
          f"{g['from_ns']}..{g['to_ns']}")
    check("the gap counts records and batches", g["lost"] > 0 and g["batches_lost"] > 0)
    check("the gap's interval is ordered", 0 < g["from_ns"] <= g["to_ns"] <= g["ts_ns"])
    hb = [r for r in recs if r["kind"] == "heartbeat" and r["ts_ns"] > g["ts_ns"]]
    check("later heartbeats count the gap's records among the losses",
          any(h["losses"] >= g["lost"] for h in hb))
sys.exit(1 if failures else 0)
PY
