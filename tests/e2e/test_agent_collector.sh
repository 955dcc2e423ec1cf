#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end with the real collector on 127.0.0.1 (custos-collector serve,
# set up by live_lib.sh):
#   - the enrolled host "victim" runs custos-agent run; a marker command
#     reaches the collector's timeline; after SIGTERM the spool is empty,
#     every sequence number 0..N is in the custody log exactly once, the
#     collector counts no gap, the batches the agent says it spooled, and
#     exactly the records the agent says it lost (under load the ring
#     buffer may overflow: that loss must be on record as loss records,
#     never silent);
#   - a second host, resp1, records offline (--output FILE); custos-collector
#     import takes the file in, verified like any other, every sequence
#     number once.
# Needs root (it loads eBPF programs): exits 77 otherwise, saying why.
set -u
name=test_agent_collector
live_tools=""
. "$(dirname "$0")/live_lib.sh"

# Online.
live_serve
live_agent --ringbuf-kb 32768
sh -c 'echo $$ >"$1"; exec /bin/echo custos-collector-marker >/dev/null' sh "$work/marker.pid"
sleep 2
live_stop
grep '^custos-agent: stopped by' "$work/agent.err" >"$work/victim.stop"
"$agent" status --config "$work/agent.conf" >"$work/status" || fail "status"
cat "$work/status"
grep -q '^batches waiting: 0 ' "$work/status" || fail "batches left in the spool after SIGTERM"

# Offline, then import.
"$agent" keygen --dir "$work/resp1" >/dev/null || fail "keygen resp1"
"$coll" enroll --dir "$C" --name resp1 --key "$work/resp1/host.pub" >/dev/null ||
	fail "enroll resp1"
cat >"$work/resp1.conf" <<CONF
collector: 127.0.0.1:$port
host_key: $work/resp1/host.key
collector_key: $C/collector.pub
spool_dir: $work/resp1/spool
batch_max_delay_ms: 200
CONF
"$agent" run --config "$work/resp1.conf" --output "$work/resp1.csts" --duration 2 \
	2>"$work/resp1.err" || fail "offline run: $(cat "$work/resp1.err")"
grep '^custos-agent: stopped by' "$work/resp1.err" >"$work/resp1.stop"
"$coll" import --dir "$C" "$work/resp1.csts" >"$work/import.out" 2>&1 || fail "import: $(cat "$work/import.out")"
"$coll" log --dir "$C" >"$work/log.out" || fail "collector log"
"$coll" hosts --dir "$C" >"$work/hosts.out" || fail "collector hosts"
for h in victim resp1; do
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
for host in ("victim", "resp1"):
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
tl = [json.loads(l) for l in open(work + "/victim.jsonl")]
victim_lost = int(hosts.get("victim", ["0"] * 9)[8])
check(f"the marker's exec (pid {marker_pid}) is in victim's timeline"
      + (f" (or among the {victim_lost} records lost on record)" if victim_lost else ""),
      victim_lost > 0 or
      any(r["kind"] == "exec" and r["pid"] == marker_pid and r["exe"].endswith("/echo") for r in tl))
for k in ("agent_start", "config", "heartbeat", "agent_stop"):
    check(f"victim's timeline has its {k} record", any(r["kind"] == k for r in tl))
sys.exit(1 if failures else 0)
PY
