#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end with the real collector on 127.0.0.1 (custos-collector serve):
#   - a host enrolled at the collector runs custos-agent run; a marker
#     command reaches the collector's timeline; after SIGTERM the spool is
#     empty, every sequence number 0..N is in the custody log exactly once,
#     the collector counts no gap, the batches the agent says it spooled,
#     and exactly the records the agent says it lost (under load the ring
#     buffer may overflow: that loss must be on record as loss records,
#     never silent);
#   - a second host records offline (--output FILE); custos-collector
#     import takes the file in, verified like any other, every sequence
#     number once.
# Needs root (it loads eBPF programs): exits 77 otherwise, saying why.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
agent="$root/${BUILD:-build}/custos-agent"
coll="$root/${BUILD:-build}/custos-collector"

if [ "$(id -u)" -ne 0 ]; then
	echo "test_agent_collector: skipped: loading eBPF programs needs root"
	exit 77
fi
for b in "$agent" "$coll"; do
	[ -x "$b" ] || { echo "test_agent_collector: $b not built (run make)"; exit 1; }
done

work=$(mktemp -d /tmp/custos-e2e-agentcoll.XXXXXX)
agent_pid=""
serve_pid=""
cleanup() {
	[ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null
	[ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "test_agent_collector: $*"
	tail -n 20 "$work/agent.err" "$work/coll.log" 2>/dev/null
	exit 1
}

C="$work/coll"
"$coll" init --dir "$C" >/dev/null || fail "collector init"
for h in web1 resp1; do
	"$agent" keygen --dir "$work/$h" >/dev/null || fail "keygen $h"
	"$coll" enroll --dir "$C" --name "$h" --key "$work/$h/host.pub" >/dev/null ||
		fail "enroll $h"
done

"$coll" serve --dir "$C" --listen 127.0.0.1:0 2>"$work/coll.log" &
serve_pid=$!
i=0
port=""
until [ -n "$port" ]; do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/coll.log" | head -n 1)
	i=$((i + 1))
	[ "$i" -gt 100 ] && fail "the collector did not start"
	[ -z "$port" ] && sleep 0.1
done

for h in web1 resp1; do
	cat >"$work/$h.conf" <<CONF
collector: 127.0.0.1:$port
host_key: $work/$h/host.key
collector_key: $C/collector.pub
spool_dir: $work/$h/spool
batch_max_delay_ms: 200
CONF
done

# Online.
"$agent" run --config "$work/web1.conf" --ringbuf-kb 32768 2>"$work/agent.err" &
agent_pid=$!
i=0
until grep -qs '^custos-agent: running' "$work/agent.err"; do
	i=$((i + 1))
	{ [ "$i" -gt 300 ] || ! kill -0 "$agent_pid" 2>/dev/null; } && fail "the agent did not start"
	sleep 0.1
done
sh -c 'echo $$ >"$1"; exec /bin/echo custos-collector-marker >/dev/null' sh "$work/marker.pid"
sleep 2
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "the agent exited with $? after SIGTERM"
agent_pid=""
grep '^custos-agent: stopped by' "$work/agent.err" >"$work/web1.stop"
"$agent" status --config "$work/web1.conf" >"$work/status" || fail "status"
cat "$work/status"
grep -q '^batches waiting: 0 ' "$work/status" || fail "batches left in the spool after SIGTERM"

# Offline, then import.
"$agent" run --config "$work/resp1.conf" --output "$work/resp1.csts" --duration 2 \
	2>"$work/resp1.err" || fail "offline run: $(cat "$work/resp1.err")"
grep '^custos-agent: stopped by' "$work/resp1.err" >"$work/resp1.stop"
kill -TERM "$serve_pid"	# import needs the directory to itself
wait "$serve_pid"
serve_pid=""
"$coll" import --dir "$C" "$work/resp1.csts" >"$work/import.out" 2>&1 || fail "import: $(cat "$work/import.out")"
"$coll" log --dir "$C" >"$work/log.out" || fail "collector log"
"$coll" hosts --dir "$C" >"$work/hosts.out" || fail "collector hosts"
for h in web1 resp1; do
	"$coll" timeline --dir "$C" --host $h --format jsonl >"$work/$h.jsonl" || fail "timeline $h"
done
cat "$work/hosts.out"

python3 - "$work" "$(cat "$work/marker.pid")" <<'PY'
import json, re, sys
work, marker_pid = sys.argv[1], int(sys.argv[2])
failures = []
def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
log = [l.split() for l in open(work + "/log.out") if l.strip()]
hosts = {l.split()[0]: l.split() for l in open(work + "/hosts.out") if l.strip()}
for host in ("web1", "resp1"):
    # log: leaf host seq batch_hash received
    seqs = [int(l[2]) for l in log if len(l) >= 4 and l[1] == host]
    check(f"{host}: sequence numbers 0..{len(seqs) - 1} in the custody log exactly once",
          len(seqs) > 0 and sorted(seqs) == list(range(len(seqs))))
    # hosts: HOST STATUS HEARTBEAT BATCH SEQ BATCHES RECORDS GAPS LOST CLOCK
    h = hosts.get(host, [])
    # "stopped by SIGTERM; E events, L lost, B batches spooled"
    stop = re.search(r"; (\d+) events, (\d+) lost, (\d+) batches spooled",
                     open(f"{work}/{host}.stop").read())
    lost, spooled = (int(stop.group(2)), int(stop.group(3))) if stop else (-1, -1)
    recorded = sum(r["lost"] for r in map(json.loads, open(f"{work}/{host}.jsonl"))
                   if r["kind"] in ("loss", "gap"))
    check(f"{host}: the collector counts {len(seqs)} batches, all the agent spooled "
          f"({spooled}), and no gap",
          len(h) >= 9 and h[5] == str(len(seqs)) and spooled == len(seqs) and h[7] == "0")
    check(f"{host}: every record the agent lost ({lost}) is on record in loss records "
          f"({recorded}), none silently",
          len(h) >= 9 and lost >= 0 and h[8] == str(lost) and recorded == lost)
tl = [json.loads(l) for l in open(work + "/web1.jsonl")]
web1_lost = int(hosts.get("web1", ["0"] * 9)[8])
check(f"the marker's exec (pid {marker_pid}) is in web1's timeline"
      + (f" (or among the {web1_lost} records lost on record)" if web1_lost else ""),
      web1_lost > 0 or
      any(r["kind"] == "exec" and r["pid"] == marker_pid and r["exe"].endswith("/echo") for r in tl))
for k in ("agent_start", "config", "heartbeat", "agent_stop"):
    check(f"web1's timeline has its {k} record", any(r["kind"] == k for r in tl))
sys.exit(1 if failures else 0)
PY
